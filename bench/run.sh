#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make bench`: the benchmark (bench/README.md says what and how).
#
#   make bench            the bench kernel (no debug options), ROUNDS (5) rounds, results
#                         kept in bench/results/<date>-<kernel>.{json,png}
#   make bench QUICK=1    the test kernel, one short round: checks that every workload
#                         still produces its numbers (never how fast); output in out/bench-quick
#
# Settings (environment): ROUNDS, BENCH_SECONDS, UDP_RATE, CONN_RATE, STREAM_MBIT,
# FLOOD_SECONDS, FLOOD_RATE, LEGIT_RATE,
# IPVS_EMPTY_WAIT, FULL_CONN_MAX, FLOOD_MAX, SYNACK_COUNT,
# MEM_FLOOD, MEM_FLOOD_SECONDS, CONN_PARALLEL (see bench/common.sh), WORKLOADS (a subset, e.g. "conn udp"),
# VM_MEMORY (4G: room for a 100,000-entry table in ours, which takes 1/256 of RAM).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd); cd "$top"
export PATH=$HOME/.cargo/bin:$PATH
QUICK=${QUICK:-0}
[ "$QUICK" = 0 ] || QUICK=1

. bench/params.sh
bench_params "$QUICK"
if [ "$QUICK" = 1 ]; then
  flavour=test out=$top/out/bench-quick
else
  flavour=bench out=$top/out/bench
fi
t0=$(date +%s)
rm -rf "$out"; mkdir -p "$out"

echo "== bench: kernel ($flavour) and module =="
tree=$(bash scripts/kernel.sh "$flavour" | tail -1)
# The module is built from a copy of the sources in $out, never over ./ipvs_defense.ko,
# which `make test` (test kernel) may be using: a module only loads into the kernel it was
# built against.
mkdir -p "$out/module"
cp -r Kbuild ipvs_defense.rs director logic "$out/module/"
make -s -C "$tree" M="$out/module" LLVM=1 modules
test -f "$out/module/ipvs_defense.ko"
cargo build -q --release -p ipvsdadm
cargo build -q --release -p loadgen

IPVSD_TOP=$top bench_write_params "$out" "$out/module/ipvs_defense.ko"

echo "== bench: guest (QEMU; the progress follows) =="
: > "$out/bench.log"
tail -n +1 -F "$out/bench.log" 2>/dev/null & tailpid=$!
set +e
guest_cmd="bash $top/bench/guest.sh $out"
[ -n "${PROFILE:-}" ] && guest_cmd="bash $top/bench/profile.sh $out $PROFILE"
# One vCPU: under single-threaded TCG two vCPUs share one host thread, yet each counts its
# busy time in full, so work that overlaps on both would count twice in the kernel CPU
# time the workloads measure.
VM_CPUS=${VM_CPUS:-1} VM_MEMORY=${VM_MEMORY:-4G} bash scripts/vm.sh "$tree" "$out" "$guest_cmd"
vm_rc=$?
set -e
sleep 1; kill "$tailpid" 2>/dev/null; wait "$tailpid" 2>/dev/null || true

# A profile (PROFILE=WORKLOAD) is kept next to the results, named like them.
if [ -n "${PROFILE:-}" ]; then
  echo "# bench: accelerator $(cat "$out/accel" 2>/dev/null), took $(( $(date +%s) - t0 )) s"
  [ $vm_rc -eq 0 ] && [ -s "$out/profile-$PROFILE.txt" ] || { echo "bench: profile FAILED"; exit 1; }
  kept=bench/results/$(date -u +%Y%m%d-%H%M%S)-$flavour-profile-$PROFILE.txt
  cp "$out/profile-$PROFILE.txt" "$kept"
  cat "$kept"; echo "bench: profile kept in $kept"
  exit 0
fi

# What the host knows: date, CPU, accelerator; the guest wrote its own side.
{
  echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "flavour=$flavour"
  echo "quick=$QUICK"
  echo "accel=$(cat "$out/accel" 2>/dev/null || echo unknown)"
  echo "host_cpu=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "host_cpus=$(nproc)"
  echo "kernel_source=$(dpkg-query -W -f='${Version}' linux-source-6.12)"
  echo "tree=$tree"
  echo "git_commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- director logic ipvs_defense.rs rust || echo -dirty)"
  echo "wall_seconds=$(( $(date +%s) - t0 ))"
  cat "$out/guest-meta.txt" 2>/dev/null
  for v in ROUNDS BENCH_SECONDS UDP_RATE CONN_RATE STREAM_MBIT FLOOD_SECONDS FLOOD_RATE LEGIT_RATE IPVS_EMPTY_WAIT FULL_CONN_MAX FLOOD_MAX SYNACK_COUNT MEM_FLOOD MEM_FLOOD_SECONDS CONN_PARALLEL; do
    echo "$v=${!v}"
  done
  echo "WORKLOADS=${WORKLOADS:-}"
  echo "VM_MEMORY=${VM_MEMORY:-4G}"
  echo "VM_CPUS=${VM_CPUS:-1}"
} > "$out/meta.txt"

# Kept results are those of a complete full run; a QUICK or failed run's go to $out.
results=$top/bench/results
[ "$QUICK" = 1 ] || [ $vm_rc -ne 0 ] && results=$out/results
quick_arg=(); [ "$QUICK" = 1 ] && quick_arg=(--quick)
report_rc=0
# Debian's python3 (python3-matplotlib), whatever python3 comes first in PATH.
/usr/bin/python3 bench/report.py --raw "$out/results.jsonl" --meta "$out/meta.txt" \
  --outdir "$results" --plan "$out/plan.txt" "${quick_arg[@]}" || report_rc=$?

echo "# bench: guest log $out/bench.log, console $out/console.log ($(cat "$out/accel" 2>/dev/null))"
echo "# bench took $(( $(date +%s) - t0 )) s"
if [ $vm_rc -ne 0 ] || [ $report_rc -ne 0 ]; then
  echo "bench: FAILED (guest exit $vm_rc, report exit $report_rc)"
  grep -E 'FAILED' "$out/bench.log" 2>/dev/null | head -20
  exit 1
fi
echo "bench: ok"
