#!/usr/bin/env bash
# The GitHub Action's run step (action.yml), kept here so that tests/action.rs can run it
# locally with a simulated GITHUB_* environment.
#
# Reads the Action's inputs from INPUT_* variables and the binary from KDSGUARD_BIN; on
# pull_request events without a diff-base input, compares against the PR's base commit
# (read from the event payload). Writes annotations (stdout), the SARIF file, the step
# summary, and the outputs `findings` and `sarif-file`; exits with kdsguard's exit code
# (0 clean, 1 findings at or above fail-on, 2 an input failed to load or bad usage).
set -uo pipefail

bin="${KDSGUARD_BIN:-kdsguard}"
fail_on="${INPUT_FAIL_ON:-warning}"
sarif="${INPUT_SARIF_FILE:-kdsguard.sarif}"
diff_base="${INPUT_DIFF_BASE:-}"
out="${GITHUB_OUTPUT:-/dev/null}"
temp="${RUNNER_TEMP:-${TMPDIR:-/tmp}}"

case "$fail_on" in
  error | warning | note | none) ;;
  *)
    echo "::error title=kdsguard::fail-on must be error, warning, note or none, not '$fail_on'"
    exit 2
    ;;
esac

# Splits $1 into the array `words` as a POSIX shell splits a command line, without expanding
# or running anything: single quotes keep their text as it is; double quotes too, but for a
# backslash before " \ $ or `; outside quotes a backslash keeps the next character (and
# drops a newline); unquoted blanks and newlines separate words. Returns 1, saying why, on
# an unterminated quote.
split_words() {
  local s="$1" n="${#1}" i=0 c next word="" in_word=0 quote=""
  words=()
  while [ "$i" -lt "$n" ]; do
    c="${s:i:1}"
    if [ "$quote" = "'" ]; then
      if [ "$c" = "'" ]; then quote=""; else word+="$c"; fi
    elif [ "$quote" = '"' ]; then
      next="${s:i+1:1}"
      if [ "$c" = '"' ]; then
        quote=""
      elif [ "$c" = "\\" ] && case "$next" in '"' | "\\" | '$' | '`') true ;; *) false ;; esac then
        word+="$next"
        i=$((i + 1))
      else
        word+="$c"
      fi
    else
      case "$c" in
        ' ' | $'\t' | $'\n' | $'\r')
          if [ "$in_word" = 1 ]; then
            words+=("$word")
            word=""
            in_word=0
          fi
          ;;
        "'" | '"')
          quote="$c"
          in_word=1
          ;;
        "\\")
          i=$((i + 1))
          if [ "$i" -lt "$n" ] && [ "${s:i:1}" != $'\n' ]; then
            word+="${s:i:1}"
            in_word=1
          fi
          ;;
        *)
          word+="$c"
          in_word=1
          ;;
      esac
    fi
    i=$((i + 1))
  done
  if [ -n "$quote" ]; then
    echo "unterminated $quote quote in: $s"
    return 1
  fi
  if [ "$in_word" = 1 ]; then words+=("$word"); fi
}

# One field of a JSON file (jq on GitHub's runners; python3 where jq is missing).
json_field() {
  if command -v jq > /dev/null; then
    jq -r "$2 // empty" "$1"
  else
    python3 -c 'import json,sys
v=json.load(open(sys.argv[1]))
for k in sys.argv[2].strip(".").split("."):
    v=v.get(k) if isinstance(v, dict) else None
print("" if v is None else v)' "$1" "$2"
  fi
}

if [ -z "$diff_base" ] && [[ "${GITHUB_EVENT_NAME:-}" == pull_request* ]] && [ -f "${GITHUB_EVENT_PATH:-}" ]; then
  diff_base="$(json_field "$GITHUB_EVENT_PATH" .pull_request.base.sha)"
fi
if [ "$diff_base" = "none" ]; then
  diff_base=""
fi
if [ -n "$diff_base" ] && ! git cat-file -e "${diff_base}^{commit}" 2> /dev/null; then
  # actions/checkout fetches one commit by default: fetch the base too.
  git fetch --quiet --no-tags --depth=1 origin "$diff_base" 2> /dev/null || true
  if ! git cat-file -e "${diff_base}^{commit}" 2> /dev/null; then
    echo "::warning title=kdsguard::base commit $diff_base is not in the clone (use actions/checkout with fetch-depth: 0); reporting every finding instead of the delta"
    diff_base=""
  fi
fi

report="$temp/kdsguard-report-$$.json"
args=(check)
if ! why="$(split_words "${INPUT_PATHS:-.}")"; then
  echo "::error title=kdsguard::paths: $why"
  exit 2
fi
split_words "${INPUT_PATHS:-.}"
args+=(${words[@]+"${words[@]}"})
if [ -n "${INPUT_CONFIG:-}" ]; then args+=(--config "$INPUT_CONFIG"); fi
if [ -n "$diff_base" ]; then args+=(--diff-base "$diff_base"); fi
if [ -n "${INPUT_DOCS_URL:-}" ]; then args+=(--docs-url "$INPUT_DOCS_URL"); fi
args+=(--format github --fail-on "$fail_on" --output "sarif=$sarif" --output "json=$report")
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then args+=(--output "markdown=$GITHUB_STEP_SUMMARY"); fi
if ! why="$(split_words "${INPUT_ARGS:-}")"; then
  echo "::error title=kdsguard::args: $why"
  exit 2
fi
split_words "${INPUT_ARGS:-}"
args+=(${words[@]+"${words[@]}"})

"$bin" "${args[@]}"
code=$?

findings=0
if [ -s "$report" ]; then
  if command -v jq > /dev/null; then
    findings="$(jq '.findings | length' "$report")"
  else
    findings="$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["findings"]))' "$report")"
  fi
fi
rm -f "$report"
{
  echo "findings=$findings"
  echo "sarif-file=$sarif"
  echo "exit-code=$code"
} >> "$out"
exit "$code"
