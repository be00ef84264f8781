#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make bench QUICK=1` inside the test run, so that the benchmark never rots (issue 7): every
# workload of bench/ runs once, a few seconds, for each contestant (the in-kernel IPVS,
# ipvs_defense, plain routing), on this debug kernel; the test asserts that each produced
# its numbers (bench/report.py --quick), never how fast they are. The runner checks dmesg.
. "$(dirname "$0")/lib.sh"
plan 2
mod_unload
trap mod_unload EXIT
. "$IPVSD_TOP/bench/params.sh"
bench_params 1
out=/tmp/bench-quick; rm -rf "$out"; mkdir -p "$out"
[ -x "$IPVSD_TOP/target/release/loadgen" ] || fail "no loadgen (cargo build --release -p loadgen)"
bench_write_params "$out" "$KO"
# The benchmark run, once; the scenarios judge what it left in $out.
BENCH_DMESG=runner timeout 1200 bash "$IPVSD_TOP/bench/guest.sh" "$out" > "$out/guest.out" 2>&1
BENCH_RC=$?

bench_guest_succeeded() {
  local runs
  grep -E 'FAILED|failure| took ' "$out/bench.log" | sed 's/^/# /'
  [ $BENCH_RC -eq 0 ] || fail "bench/guest.sh exit $BENCH_RC"
  expect_eq "$(cat "$out/guest.status" 2>/dev/null)" 0 "bench guest status"
  runs=$(wc -l < "$out/results.jsonl")
  diag "$runs workload runs recorded"
}

every_workload_produced_numbers() {
  local rc
  { echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"; echo "flavour=test"; echo "quick=1"
    echo "ROUNDS=$ROUNDS"; cat "$out/guest-meta.txt"
    for v in UDP_RATE CONN_RATE STREAM_MBIT FLOOD_RATE; do echo "$v=${!v}"; done
  } > "$out/meta.txt"
  /usr/bin/python3 "$IPVSD_TOP/bench/report.py" --raw "$out/results.jsonl" --meta "$out/meta.txt" \
    --outdir "$out/report" --quick --no-plot --plan "$out/plan.txt" > "$out/report.txt" 2>&1
  rc=$?
  sed 's/^/# /' "$out/report.txt" | tail -40
  [ $rc -eq 0 ] || fail "bench/report.py --quick: a workload produced no numbers (exit $rc)"
}

run_test bench_guest_succeeded bench_guest_succeeded
run_test every_workload_produced_numbers every_workload_produced_numbers
finish
