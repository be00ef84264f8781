#!/usr/bin/env bash
# Where the time goes: one workload under `perf record` for each contestant, in the guest
# (started by bench/run.sh with PROFILE=WORKLOAD, i.e. `make bench-profile WORKLOAD=udp`):
#
#   bench/profile.sh OUTDIR WORKLOAD
#
# perf samples every CPU (cpu-clock: software emulation has no hardware counters) while
# bench/wl_WORKLOAD.sh runs for each contestant; OUTDIR/profile-WORKLOAD.txt gets, per
# contestant, the workload's result and the heaviest kernel symbols, self time, with the
# share of samples in the module (ipvs_defense) or in IPVS (ip_vs*, nf_conntrack).
out=${1:?usage: profile.sh OUTDIR WORKLOAD} w=${2:?usage: profile.sh OUTDIR WORKLOAD}
set -u
. "$out/params.env"
export BENCH_RESULTS=$out/results.jsonl
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
: > "$BENCH_RESULTS"
exec > >(tee -a "$out/bench.log") 2>&1
ulimit -c 0
[ -f "$here/wl_$w.sh" ] || die "no workload $w (bench/wl_$w.sh)"
PERF=$(command -v perf) || die "no perf (package linux-perf)"
sysctl -qw kernel.kptr_restrict=0 kernel.perf_event_paranoid=-1
trap 'echo 1 > "$out/guest.status"' EXIT
bench_init
export BENCH_TOPO_UP=1 BENCH_ROUND=1
report=$out/profile-$w.txt
{
  echo "# profile of workload '$w', $(uname -r), $(nproc) CPU(s), perf cpu-clock at 999 Hz, all CPUs"
  echo "# (software emulation: each sample is a slice of emulated time; shares, not absolute costs)"
} > "$report"
rc=0
# The workload loads and unloads our module itself, and perf resolves kernel symbols from
# /proc/kallsyms when it reports: a copy taken while the contestant's modules are loaded
# names their symbols afterwards.
snap_kallsyms() { # file
  local i
  for i in $(seq 1 120); do
    if grep -qE '^(ipvs_defense|ip_vs) ' /proc/modules; then sleep 1; cat /proc/kallsyms > "$1"; return; fi
    sleep 0.5
  done
  cat /proc/kallsyms > "$1"
}
for c in ipvs ours route; do
  data=/tmp/perf.$c.data ksyms=/tmp/kallsyms.$c
  note "profile: $w $c"
  snap_kallsyms "$ksyms" & snap=$!
  "$PERF" record -q -a -e cpu-clock -F 999 -o "$data" -- bash "$here/wl_$w.sh" "$c" || rc=1
  wait $snap
  rep() { "$PERF" report -i "$data" --kallsyms="$ksyms" --stdio --no-children --no-demangle "$@" 2>/dev/null; }
  # Per symbol, self share; the share of the load balancer's own code is the sum over the
  # symbols of its module (ipvs_defense, or ip_vs and its scheduler modules).
  rep --sort sym -q | grep -v '^$' > /tmp/prof.$c.syms
  samples=$(rep --sort sym | sed -n 's/^# Samples: *\([0-9.]*[KM]*\) .*/\1/p' | head -1)
  idle=$(awk '$3 == "pv_native_safe_halt" || $3 == "default_idle_call" { s += $1 } END { printf "%.2f", s }' /tmp/prof.$c.syms)
  lb=$(awk 'NR == FNR { if ($4 ~ /^\[(ipvs_defense|ip_vs[a-z_]*)\]$/) m[$3] = 1; next }
    ($3 in m) { s += $1 } END { printf "%.2f", s }' "$ksyms" /tmp/prof.$c.syms)
  {
    echo
    echo "## $c: $(grep "\"contestant\": *\"$c\"" "$BENCH_RESULTS" | tail -1)"
    echo "samples $samples; idle (halt) ${idle} %; the load balancer's own code (module symbols) ${lb} %"
    echo "### by object"
    rep --sort dso -q | grep -v '^$' | head -8
    echo "### the load balancer's symbols (self)"
    awk 'NR == FNR { if ($4 ~ /^\[(ipvs_defense|ip_vs[a-z_]*)\]$/) m[$3] = 1; next } ($3 in m)' \
      "$ksyms" /tmp/prof.$c.syms | head -15
    echo "### heaviest symbols (self)"
    head -40 /tmp/prof.$c.syms
  } >> "$report"
  contestant_off
done
trap - EXIT
bench_fini
echo "$rc" > "$out/guest.status"
