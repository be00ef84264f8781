#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The benchmark inside the guest (started by bench/run.sh through scripts/vm.sh):
#
#   bench/guest.sh OUTDIR
#
# Reads its settings from OUTDIR/params.env, builds the topology once, then runs ROUNDS
# rounds; each round runs every workload for every contestant in turn (A B C A B C ...),
# so that a slow phase of the emulator hits all contestants alike. Every result is a JSON
# line in OUTDIR/results.jsonl; the progress goes to OUTDIR/bench.log. A workload that
# fails is reported and makes the run fail (guest.status 1), but the others still run.
out=${1:?usage: guest.sh OUTDIR}
set -u
# shellcheck disable=SC1091
. "$out/params.env"
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
bench_outdir "$out"

# What the guest is: kernel, CPU, memory (the host adds its own side).
{
  echo "kernel=$(uname -r)"
  echo "guest_cpu=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "guest_cpus=$(nproc)"
  echo "guest_mem_bytes=$(meminfo MemTotal)"
} > "$out/guest-meta.txt"

# One round: "workload contestant [variant]"; round r starts each workload's list at its
# r-th entry (round_plan), so that no contestant always runs first or after the same one.
PLAN=(
  "stream ipvs" "stream ours" "stream route"
  "udp ipvs" "udp ours" "udp route"
  "routed ipvs" "routed ours" "routed route"
  "conn ipvs" "conn ours" "conn route"
  "synflood ipvs st0" "synflood ours l0" "synflood route -" "synflood ipvs st3" "synflood ours l2"
  "synflood ours l2full"
  "synack ipvs st0" "synack ours l0" "synack ipvs st3" "synack ours l2"
  "memory ipvs" "memory ours"
)
# The quick plan (PLAN_SET=quick, in `make test`): every workload for every contestant, and
# every variant once: st3 and l2full (which sets all of l2) in synflood, st0 and l0 in
# synack.
if [ "${PLAN_SET:-full}" = quick ]; then
  PLAN=(
    "stream ipvs" "stream ours" "stream route"
    "udp ipvs" "udp ours" "udp route"
    "routed ipvs" "routed ours" "routed route"
    "conn ipvs" "conn ours" "conn route"
    "synflood ipvs st3" "synflood ours l2full" "synflood route -"
    "synack ipvs st0" "synack ours l0"
    "memory ipvs" "memory ours"
  )
fi
if [ -n "${WORKLOADS:-}" ]; then  # e.g. WORKLOADS="conn synflood"
  keep=(); for p in "${PLAN[@]}"; do
    for w in $WORKLOADS; do [ "${p%% *}" = "$w" ] && keep+=("$p"); done
  done; PLAN=("${keep[@]}")
fi
# The runs planned, for bench/report.py --plan.
printf '%s\n' "${PLAN[@]}" > "$out/plan.txt"

# The kernel log is checked here, unless the test runner checks it (BENCH_DMESG=runner, from
# selftests/test_bench_quick.sh: the runner's check after each test is the stricter one).
[ "${BENCH_DMESG:-}" = runner ] || dmesg -c > "$out/dmesg.log"
t0=$(date +%s)
# Should the set-up die, the host still learns that the run failed (bench_init replaces
# this trap with its teardown once the topology is up).
trap 'echo 1 > "$out/guest.status"' EXIT
bench_init
export BENCH_TOPO_UP=1
note "topology up in $(( $(date +%s) - t0 )) s; ${ROUNDS} round(s) of ${#PLAN[@]} runs"
# Prints its arguments, one a line, starting at the k-th (k counted from 0, modulo $#).
rotated() { # k item...
  local k=$1 i; shift
  local items=("$@")
  for i in "${!items[@]}"; do echo "${items[(i + k) % ${#items[@]}]}"; done
}
# Prints PLAN for round r, one run a line, each workload's runs rotated by r - 1.
round_plan() { # r
  local w="" p group=()
  for p in "${PLAN[@]}" "end"; do
    if [ "${p%% *}" != "$w" ] && [ ${#group[@]} -gt 0 ]; then
      rotated $(( $1 - 1 )) "${group[@]}"; group=()
    fi
    w=${p%% *}; group+=("$p")
  done
}
failures=()
for ((r = 1; r <= $ROUNDS; r++)); do
  export BENCH_ROUND=$r
  mapfile -t plan < <(round_plan "$r")
  for p in "${plan[@]}"; do
    read -r w c v <<< "$p"
    s=$(date +%s)
    timeout --kill-after=10 "${WL_TIMEOUT:-900}" bash "$here/wl_$w.sh" "$c" ${v:+"$v"}
    rc=$?
    if [ $rc -ne 0 ]; then
      failures+=("round $r: $p (exit $rc)")
      note "FAILED: round $r: $p (exit $rc)"
      # In a subshell: a failure to clean up is reported, and must not end the run.
      ( contestant_off ) || failures+=("round $r: cleanup after $p")
    fi
    note "round $r: $p took $(( $(date +%s) - s )) s"
  done
done
( contestant_off ) || failures+=("final cleanup")
note "all rounds took $(( $(date +%s) - t0 )) s"

# A kernel complaint during the run is a failure too.
[ "${BENCH_DMESG:-}" = runner ] || dmesg -c >> "$out/dmesg.log"
if [ "${BENCH_DMESG:-}" != runner ] && grep -nE 'WARNING:|BUG:|KASAN|Oops|general protection|Kernel panic|inconsistent lock state|circular locking|RCU stall' \
  "$out/dmesg.log" > "$out/dmesg.bad"; then
  failures+=("kernel log: $(head -1 "$out/dmesg.bad")")
  note "FAILED: the kernel complained (see $out/dmesg.log)"
fi
trap - EXIT
bench_fini
if [ ${#failures[@]} -gt 0 ]; then
  note "${#failures[@]} failure(s):"; printf 'bench:   %s\n' "${failures[@]}"
  echo 1 > "$out/guest.status"
else
  echo 0 > "$out/guest.status"
fi
