#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Host checks and tests, printed as KTAP. Writes "passed failed skipped" to $1 (if given).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd); cd "$top"
counts=${1:-/dev/null}
pass=0 fail=0 n=0
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

check() { # name command...
  local name=$1; shift
  n=$((n + 1))
  if "$@" > "$log/out" 2>&1; then
    echo "ok $n host: $name"; pass=$((pass + 1))
  else
    sed 's/^/# /' "$log/out" | tail -40
    echo "not ok $n host: $name"; fail=$((fail + 1))
  fi
}

no_unsafe_outside_rust() {
  # `unsafe` is allowed only in the rust/ overlay (and host-side test code, of which there
  # is none using it yet).
  ! git grep -n -w unsafe -- '*.rs' ':!rust/' ':!**/tests/**' | grep -vE '^[^:]+:[0-9]+:\s*//'
}

module_fmt() {
  # The kernel-side crates are not in the cargo workspace: check them with rustfmt itself
  # (it follows `mod` declarations from the module root).
  rustfmt --edition 2021 --check --color never ipvs_defense.rs $(git ls-files 'rust/*.rs')
}

safety_comments() {
  # Every `unsafe {` block in rust/ has a `// SAFETY:` comment within the two lines above.
  local bad=0
  for f in $(git ls-files 'rust/*.rs'); do
    awk -v f="$f" '/\/\/ *SAFETY:/ {s=NR} /unsafe *\{/ { if (s == 0 || NR - s > 2) { print f":"NR": unsafe block without SAFETY"; bad=1 } } END {exit bad}' "$f" || bad=1
  done
  return $bad
}

# bench/report.py on the runs of the newest stored benchmark, plot included: the guest's
# quick run writes no plot (matplotlib starts slowly under emulation).
bench_report() {
  local d stored
  d=$(mktemp -d)
  stored=$(ls bench/results/*-bench.json | tail -1)
  python3 -c 'import json, sys
doc = json.load(open(sys.argv[1]))
with open(sys.argv[2] + "/results.jsonl", "w") as raw, open(sys.argv[2] + "/plan.txt", "w") as plan:
    for r in doc["runs"]:
        raw.write(json.dumps(r) + "\n")
    for w, c, v in sorted({(r["workload"], r["contestant"], r["variant"]) for r in doc["runs"]}):
        plan.write(f"{w} {c} {v}\n")' "$stored" "$d" &&
    printf 'date=%s\nflavour=bench\nROUNDS=1\n' "$(date -u +%FT%TZ)" > "$d/meta.txt" &&
    MPLCONFIGDIR=$d /usr/bin/python3 bench/report.py --raw "$d/results.jsonl" --meta "$d/meta.txt" \
      --outdir "$d/out" --plan "$d/plan.txt" > "$d/report.txt" 2>&1 &&
    ls "$d"/out/*.png > /dev/null || { tail -20 "$d/report.txt"; rm -rf "$d"; return 1; }
  rm -rf "$d"
}

spdx_lines() {
  # Every source file names its licence in its first two lines (after a #! line, if any).
  local f bad=0
  for f in $(git ls-files '*.rs' '*.sh' '*.py' '*Makefile' '*Kbuild'); do
    head -2 "$f" | grep -q 'SPDX-License-Identifier: ' || { echo "$f: no SPDX line"; bad=1; }
  done
  return $bad
}

echo "TAP version 13"
check "cargo fmt --check" cargo fmt --all --check -- --color never
check "rustfmt of the module and rust/" module_fmt
check "cargo clippy -D warnings" cargo clippy -q --workspace --all-targets -- -D warnings
check "no unsafe outside rust/" no_unsafe_outside_rust
check "SAFETY comment on every unsafe block" safety_comments
check "no import circle in director/" python3 scripts/import_circles.py director
check "an SPDX line in every source file" spdx_lines
check "bench/report.py draws a stored run's ratios" bench_report

# cargo test: every test case counts.
cargo test --workspace --no-fail-fast 2>&1 | tee "$log/t" | grep -E '^test .* \.\.\. ' |
while IFS= read -r line; do echo "$line"; done > "$log/cases"
while IFS= read -r line; do
  n=$((n + 1))
  name=$(echo "$line" | sed -E 's/^test (.*) \.\.\. .*/\1/')
  case "$line" in
    *"... ok") echo "ok $n cargo: $name"; pass=$((pass + 1)) ;;
    *"... ignored"*) echo "ok $n cargo: $name # SKIP ignored" ;;
    *) echo "not ok $n cargo: $name"; fail=$((fail + 1)) ;;
  esac
done < "$log/cases"
if grep -qE '^error(\[|:)' "$log/t"; then
  grep -E -A10 '^error' "$log/t" | sed 's/^/# /' | head -40
  n=$((n + 1)); echo "not ok $n cargo test: build"; fail=$((fail + 1))
fi
grep -E '^test result:' "$log/t" | sed 's/^/# /'

# Coverage-guided fuzzing of the parser, the rewrites and ipvsdadm's reply parsing
# (fuzz/, scripts/fuzz.sh), a short bounded run on a copy of the kept corpus.
FUZZ_SECONDS=${FUZZ_SECONDS:-10} bash scripts/fuzz.sh > "$log/fuzz" 2>&1
grep -E '^# fuzz.sh' "$log/fuzz"
fuzzed=0
while IFS= read -r line; do
  n=$((n + 1)) fuzzed=$((fuzzed + 1))
  case "$line" in
    ok*) echo "ok $n ${line#ok [0-9]* }"; pass=$((pass + 1)) ;;
    *) echo "not ok $n ${line#not ok [0-9]* }"; fail=$((fail + 1)) ;;
  esac
done < <(grep -E '^(not )?ok [0-9]+ ' "$log/fuzz")
if grep -q '^not ok' "$log/fuzz" || [ "$fuzzed" -eq 0 ]; then
  grep -vE '^(not )?ok [0-9]+ |^# fuzz.sh|^TAP|^1\.\.' "$log/fuzz" | tail -30
  if [ "$fuzzed" -eq 0 ]; then n=$((n + 1)); echo "not ok $n fuzz: no result"; fail=$((fail + 1)); fi
fi
echo "1..$n"
echo "$pass $fail 0" > "$counts"
[ "$fail" -eq 0 ]
