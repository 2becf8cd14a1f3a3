#!/usr/bin/env bash
# The Action's install step (action.yml): puts the kdsguard binary of the Action's own version
# in $RUNNER_TEMP/kdsguard-bin/bin, downloaded from the release of that version and checked
# against its SHA-256 sum, or says that it must be built from source.
#
# Which version: the one baked into the Action (Cargo.toml's `version`), used when the
# Action's ref is a version tag that names it (v1, v1.2 or v1.2.3 for 1.2.3). A branch, a
# commit or a local path (`uses: ./`) has no release: the next steps build it, cached under
# the `cache-key` output (a hash of the sources, so a moved branch never restores a stale
# binary). A tag whose release is missing (HTTP 404) is built too; a checksum that does not
# match, or a release without its checksum, fails the step: it is never worked around.
#
# Environment (all optional outside GitHub):
#   GITHUB_ACTION_PATH        the Action's checkout (default: this script's repository)
#   KDSGUARD_ACTION_REF       the Action's ref; else GITHUB_ACTION_REF when set (it is empty in
#                             composite actions), else the last component of the action path
#                             (…/_actions/OWNER/REPO/REF)
#   KDSGUARD_RELEASE_BASE_URL where releases are (default: the Action's repository's GitHub
#                             releases, …/releases/download); tests point it at 127.0.0.1
#   RUNNER_OS, RUNNER_ARCH    Linux/macOS/Windows and X64/ARM64 (default: from uname)
#   RUNNER_TEMP               where the binary goes (default: $TMPDIR or /tmp)
#   GITHUB_OUTPUT             receives bin=, build=true|false, version=, cache-key=
# Exit status: 0 (installed, or build=true), 1 on a failed download or a checksum mismatch.
set -euo pipefail

action_path="${GITHUB_ACTION_PATH:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
out="${GITHUB_OUTPUT:-/dev/null}"
temp="${RUNNER_TEMP:-${TMPDIR:-/tmp}}"
root="$temp/kdsguard-bin"

fail() {
  echo "::error title=kdsguard install::$*"
  exit 1
}

# Milliseconds since the epoch where bash can tell (bash 5), for the step timings.
now_ms() {
  if [ -n "${EPOCHREALTIME:-}" ]; then
    local t="${EPOCHREALTIME/[.,]/}"
    echo "${t%???}"
  else
    echo 0
  fi
}

sha256_of() {
  if command -v sha256sum > /dev/null; then
    sha256sum "$1" | cut -d' ' -f1
  else
    shasum -a 256 "$1" | cut -d' ' -f1
  fi
}

version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$action_path/Cargo.toml" | head -n 1)"
[ -n "$version" ] || fail "no version in $action_path/Cargo.toml"

ref="${KDSGUARD_ACTION_REF:-${GITHUB_ACTION_REF:-}}"
if [ -z "$ref" ]; then
  ref="$(basename "$action_path")"
fi

os="${RUNNER_OS:-$(uname -s)}"
arch="${RUNNER_ARCH:-$(uname -m)}"
case "$os/$arch" in
  Linux/X64 | Linux/x86_64) target=x86_64-unknown-linux-musl ;;
  Linux/ARM64 | Linux/aarch64) target=aarch64-unknown-linux-musl ;;
  macOS/X64 | Darwin/x86_64) target=x86_64-apple-darwin ;;
  macOS/ARM64 | Darwin/arm64) target=aarch64-apple-darwin ;;
  Windows/X64 | MINGW*/x86_64 | MSYS*/x86_64) target=x86_64-pc-windows-msvc ;;
  *) target="" ;;
esac

# The key of a build from source: the runner and every file the build reads.
sources_hash() {
  (
    cd "$action_path"
    { find Cargo.toml Cargo.lock rust-toolchain.toml src rules -type f 2> /dev/null || true; } | LC_ALL=C sort | while IFS= read -r f; do
      printf '%s %s\n' "$(sha256_of "$f")" "$f"
    done
  ) > "$temp/kdsguard-sources.txt"
  sha256_of "$temp/kdsguard-sources.txt" | cut -c1-20
  rm -f "$temp/kdsguard-sources.txt"
}

build_from_source() {
  echo "kdsguard: $1; building it from source (cached by its sources)"
  {
    echo "build=true"
    echo "version=$version"
    echo "bin=$root/bin/kdsguard${exe:-}"
    echo "cache-key=kdsguard-$os-$arch-$version-$(sources_hash)"
  } >> "$out"
  exit 0
}

exe=""
if [ "$target" = x86_64-pc-windows-msvc ]; then exe=".exe"; fi

# A version tag names this version when it is v + the version or a prefix of it at a dot.
case "$ref" in
  v[0-9]*)
    case "v$version." in
      "$ref".*) ;;
      *) build_from_source "the Action's ref $ref does not name its version $version" ;;
    esac
    ;;
  *) build_from_source "no release for $ref (a branch, a commit or a local copy of the Action)" ;;
esac
[ -n "$target" ] || build_from_source "no release binary for $os/$arch"

base="${KDSGUARD_RELEASE_BASE_URL:-}"
if [ -z "$base" ]; then
  repo="${GITHUB_ACTION_REPOSITORY:-}"
  if [ -z "$repo" ]; then
    # …/_actions/OWNER/REPO/REF
    repo="$(basename "$(dirname "$(dirname "$action_path")")")/$(basename "$(dirname "$action_path")")"
  fi
  base="${GITHUB_SERVER_URL:-https://github.com}/$repo/releases/download"
fi

tag="v$version"
if [ "$target" = x86_64-pc-windows-msvc ]; then
  asset="kdsguard-$tag-$target.zip"
else
  asset="kdsguard-$tag-$target.tar.gz"
fi
url="$base/$tag/$asset"
work="$temp/kdsguard-download"
rm -rf "$work"
mkdir -p "$work"

# GET url into file; prints the HTTP status (000 when no answer came).
fetch() {
  curl --silent --show-error --location --retry 3 --retry-connrefused --connect-timeout 20 \
    --output "$2" --write-out '%{http_code}' "$1" || true
}

t0="$(now_ms)"
status="$(fetch "$url" "$work/$asset")"
case "$status" in
  200) ;;
  404) build_from_source "no release $tag for $ref at $url" ;;
  *) fail "cannot download $url (HTTP $status)" ;;
esac
t1="$(now_ms)"

status="$(fetch "$url.sha256" "$work/$asset.sha256")"
[ "$status" = 200 ] || fail "the release $tag has no checksum $asset.sha256 (HTTP $status); refusing an unverified binary"
expected="$(cut -d' ' -f1 < "$work/$asset.sha256" | tr -d '\r\n' | tr 'A-F' 'a-f')"
actual="$(sha256_of "$work/$asset")"
if [ "$expected" != "$actual" ]; then
  rm -rf "$work"
  fail "checksum mismatch for $asset: the release says $expected, the download is $actual"
fi
echo "kdsguard: $asset checksum verified ($actual)"
t2="$(now_ms)"

mkdir -p "$root/bin"
if [ "$target" = x86_64-pc-windows-msvc ]; then
  unzip -o -q "$work/$asset" -d "$work/unpacked"
else
  mkdir -p "$work/unpacked"
  tar -xzf "$work/$asset" -C "$work/unpacked"
fi
bin="$root/bin/kdsguard$exe"
[ -f "$work/unpacked/kdsguard$exe" ] || fail "$asset holds no kdsguard$exe at its top level"
mv "$work/unpacked/kdsguard$exe" "$bin"
chmod +x "$bin"
rm -rf "$work"
t3="$(now_ms)"

runs="$("$bin" --version)" || fail "the downloaded $bin does not run"
t4="$(now_ms)"
echo "kdsguard: installed $runs from $url"
if [ "$t0" != 0 ]; then
  echo "kdsguard: download $((t1 - t0)) ms, verify $((t2 - t1)) ms, unpack $((t3 - t2)) ms, first run $((t4 - t3)) ms"
fi
{
  echo "build=false"
  echo "version=$version"
  echo "bin=$bin"
  echo "cache-key="
} >> "$out"
