#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Bounded coverage-guided fuzzing of the host-side code (fuzz/: cargo-fuzz + libFuzzer).
#
# Installs cargo-fuzz if missing (and a C++ compiler, which libfuzzer-sys needs), builds
# the targets, then runs each for FUZZ_SECONDS (default 20) on a temporary copy of
# fuzz/corpus/<target>/, so that the corpus in the repo is never grown. Prints one TAP
# line per target:
#   ok N fuzz: <target> # <runs> runs, <coverage> cov
#   not ok N fuzz: <target>      (then the crash file and the command that reproduces it)
# and exits non-zero on any crash (or a failed build).
#
# Environment:
#   FUZZ_SECONDS=20          seconds per target
#   FUZZ_TARGETS="a b"       only these targets (default: every target of fuzz/Cargo.toml)
#   FUZZ_SANITIZER=none      or address: ASan needs -Zsanitizer, which a stable toolchain
#                            accepts with RUSTC_BOOTSTRAP=1 (set here for it); the code
#                            fuzzed is safe Rust, so none (faster) is the default
#   FUZZ_STRICT=1            proto_attrs: also fail on the known panics inside neli
#   CARGO_FUZZ_VERSION       the cargo-fuzz to install (default 0.13.2)
#   FUZZ_TARGET_DIR          the build directory (default /var/cache/ipvs-defense/fuzz-target)
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd); cd "$top"

seconds=${FUZZ_SECONDS:-20}
sanitizer=${FUZZ_SANITIZER:-none}
cargo_fuzz_version=${CARGO_FUZZ_VERSION:-0.13.2}
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

# --- what it needs ---------------------------------------------------------------------
if ! command -v c++ >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "# fuzz.sh: installing g++ (libfuzzer-sys compiles libFuzzer)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends g++ >/dev/null
  else
    echo "# fuzz.sh: no C++ compiler (libfuzzer-sys compiles libFuzzer): install g++" >&2
  fi
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  t0=$(date +%s)
  if ! cargo install --locked --quiet cargo-fuzz --version "$cargo_fuzz_version" >&2; then
    echo "not ok 1 fuzz: install cargo-fuzz"
    exit 1
  fi
  echo "# fuzz.sh: installed cargo-fuzz $cargo_fuzz_version in $(( $(date +%s) - t0 )) s" >&2
fi

# The build is kept outside the clone, as the test kernel is, so that a new clone builds
# the targets incrementally.
target_dir=${FUZZ_TARGET_DIR:-${IPVSD_CACHE:-/var/cache/ipvs-defense}/fuzz-target}
mkdir -p "$target_dir"
build_flags=(--sanitizer "$sanitizer" --target-dir "$target_dir")
if [ "$sanitizer" != none ]; then
  export RUSTC_BOOTSTRAP=1
  # cargo caches a failed target-info probe (a build once tried without
  # RUSTC_BOOTSTRAP) regardless of that variable: drop the cache so it probes again.
  rm -f "$target_dir/.rustc_info.json"
fi

if [ -n "${FUZZ_TARGETS:-}" ]; then
  targets=$FUZZ_TARGETS
else
  targets=$(cargo fuzz list 2>/dev/null)
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "TAP version 13"
n=0 fail=0

# --- build -----------------------------------------------------------------------------
t0=$(date +%s)
if ! cargo fuzz build "${build_flags[@]}" > "$tmp/build.log" 2>&1; then
  sed 's/^/# /' "$tmp/build.log" | tail -40
  n=$((n + 1)); echo "not ok $n fuzz: build"
  echo "1..$n"
  exit 1
fi
echo "# fuzz.sh: built in $(( $(date +%s) - t0 )) s (sanitizer $sanitizer)"

# --- run -------------------------------------------------------------------------------
for t in $targets; do
  n=$((n + 1))
  corpus=$tmp/corpus/$t
  mkdir -p "$corpus" "fuzz/artifacts/$t"
  if [ -d "fuzz/corpus/$t" ]; then cp -r "fuzz/corpus/$t/." "$corpus/"; fi
  log=$tmp/$t.log
  t1=$(date +%s)
  cargo fuzz run "${build_flags[@]}" "$t" "$corpus" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    > "$log" 2>&1
  rc=$?
  took=$(( $(date +%s) - t1 ))
  runs=$(sed -nE 's/^Done ([0-9]+) runs.*/\1/p' "$log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  if [ "$rc" -eq 0 ] && [ -n "$runs" ]; then
    echo "# fuzz.sh: $t ran ${took} s"
    echo "ok $n fuzz: $t # ${runs} runs, ${cov:-?} cov"
  else
    fail=$((fail + 1))
    crash=$(sed -nE 's/.*Test unit written to (.*)$/\1/p' "$log" | tail -1)
    grep -E -A12 'panicked at|ERROR: libFuzzer|ERROR: AddressSanitizer' "$log" |
      grep -vE '^ +[0-9]+: |^ +at ' | head -20 | sed 's/^/# /'
    echo "not ok $n fuzz: $t"
    if [ -n "$crash" ]; then
      echo "# crash file: $top/${crash#"$top"/}"
      echo "# reproduce: (cd $top && ${RUSTC_BOOTSTRAP:+RUSTC_BOOTSTRAP=1 }cargo fuzz run --sanitizer $sanitizer $t ${crash#"$top"/})"
    else
      tail -20 "$log" | sed 's/^/# /'
    fi
  fi
done
echo "1..$n"
[ "$fail" -eq 0 ]
