#!/usr/bin/env bash
# Builds the seed corpora of the fuzz targets in fuzz/corpus/<target>/ (ignored by git)
# from testdata/ and the shared corpus (KDSGUARD_CORPUS, default ../shared/corpus),
# read at run time and never committed. Usage: fuzz/seed.sh [MAX_FILES_PER_TARGET]
set -eu  # no pipefail: `head` closes its pipe early by design
cd "$(dirname "$0")/.."
max="${1:-400}"
shared="${KDSGUARD_CORPUS:-$(cd .. && pwd)/shared/corpus}"
out=fuzz/corpus
roots=(testdata)
[ -d "$shared" ] && roots+=("$shared") || echo "seed: $shared is missing; seeding from testdata only" >&2

# Copies at most $max files below the roots matching a find(1) predicate, each under
# 256 KiB, into $out/$1, named by content hash so reruns do not duplicate.
seed() {
  local target="$1"; shift
  mkdir -p "$out/$target"
  find "${roots[@]}" -type f -size -256k "$@" 2>/dev/null | LC_ALL=C sort | head -n "$max" |
    while IFS= read -r f; do
      cp "$f" "$out/$target/$(sha1sum "$f" | cut -c1-16)"
    done
  echo "seed: $target: $(ls "$out/$target" | wc -l) files"
}

seed cfn_yaml \( -name '*.yaml' -o -name '*.yml' -o -name '*.template' \)
seed cfn_json -name '*.json' ! -name '*.tf.json'
seed hcl \( -name '*.tf' -o -name '*.tfvars' \)
seed plan -name '*.json' -path '*plan*'
seed config -name '*.toml' ! -path '*/rules/*'
# Few configs exist in the trees: add one of each section.
cat >"$out/config/full" <<'TOML'
fail-on = "error"
account = "123456789012"
region = "eu-west-1"
slr-exists = true
exclude = ["examples/**", "vendor/"]
[rules]
KDS001 = "error"
slr-deletable = "off"
[scps]
full-aws-access = false
apply-to = ["aws_iam_role.*"]
[limits]
file-bytes = 1048576
instances = 100
eval-steps = 100000
[[guardrail]]
capability = "disable"
tables = "prod-*"
only = ["aws_iam_role.admin"]
TOML
printf '[limits]\nnesting-depth = 64\nmodule-depth = 2\ntemplate-length = 4096\n' >"$out/config/limits"
echo "seed: config: $(ls "$out/config" | wc -l) files with the two written here"
# Policies: JSON files with a Statement, and the policy documents of batch lines.
mkdir -p "$out/policy" "$out/simulate_batch"
grep -rlZ --include='*.json' '"Statement"' "${roots[@]}" 2>/dev/null | xargs -0 -r ls -1 2>/dev/null |
  LC_ALL=C sort | head -n "$max" | while IFS= read -r f; do
    if [ "$(wc -c <"$f")" -lt 65536 ]; then tr -d '\n' <"$f" >"$out/policy/$(sha1sum "$f" | cut -c1-16)"; fi
  done
echo "seed: policy: $(ls "$out/policy" | wc -l) files"
find "${roots[@]}" -type f \( -name '*.jsonl' -o -name '*batch*' \) -size -256k 2>/dev/null | LC_ALL=C sort |
  head -n "$max" | while IFS= read -r f; do cp "$f" "$out/simulate_batch/$(sha1sum "$f" | cut -c1-16)"; done
# A batch made of the policy seeds, one request per line.
for f in "$out"/policy/*; do
  [ -f "$f" ] || continue
  printf '{"id":1,"action":"dynamodb:DisableKinesisStreamingDestination","resource":"arn:aws:dynamodb:us-east-1:123456789012:table/T","context":{"aws:SourceIp":"10.0.0.1"},"policies":[%s]}\n' "$(cat "$f" 2>/dev/null | tr -d "\\000")" \
    >"$out/simulate_batch/p-$(basename "$f")" 2>/dev/null
done
echo "seed: simulate_batch: $(ls "$out/simulate_batch" | wc -l) files"
