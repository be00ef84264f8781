#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Where the time goes: one workload under `perf record` for each contestant, in the guest
# (started by bench/run.sh with PROFILE=WORKLOAD, i.e. `make bench-profile WORKLOAD=udp`):
#
#   bench/profile.sh OUTDIR WORKLOAD         (PROFILE_CONTESTANTS from params.env)
#
# perf samples every CPU (cpu-clock: software emulation has no hardware counters) while
# bench/wl_WORKLOAD.sh runs for each contestant; OUTDIR/profile-WORKLOAD.txt gets, per
# contestant, the workload's result and the heaviest kernel symbols, self time, with the
# share of samples in the module (ipvs_defense) or in IPVS (ip_vs*, nf_conntrack).
out=${1:?usage: profile.sh OUTDIR WORKLOAD} w=${2:?usage: profile.sh OUTDIR WORKLOAD}
set -u
. "$out/params.env"
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
bench_outdir "$out"
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
# perf names a module's symbols only when the module was loaded when the recording
# started and still is when the report is made, and the workload loads and unloads ours
# itself: so the recording is a window in the middle of the workload (BENCH_SECONDS is 40
# here), taken once the contestant is up and the workload's client runs (PROFILE_SECONDS,
# 5 s by default), and reported at once. IPVS is built into this kernel: its share is
# that of the ip_vs symbols; ours is that of the module.
busy() { pgrep -f "$LOADGEN (udp|conn|syn)|iperf3 -c" >/dev/null; }
# PROFILE_CONTESTANTS: CONTESTANT[:VARIANT] each (synflood and synack need the variant,
# e.g. "ipvs:st3 ours:l2 route:-").
for cv in ${PROFILE_CONTESTANTS:-ipvs ours route}; do
  c=${cv%%:*} v=; [ "$cv" != "$c" ] && v=${cv#*:}
  data=/tmp/perf.$c.data
  note "profile: $w $c $v"
  bash "$here/wl_$w.sh" "$c" ${v:+"$v"} & wl=$!
  up=0
  for i in $(seq 1 600); do
    if busy && { [ "$c" != ours ] || mod_loaded; }; then up=1; break; fi
    kill -0 $wl 2>/dev/null || break
    sleep 0.2
  done
  [ $up = 1 ] || { note "FAILED: $w $c: the workload's client never ran"; rc=1; wait $wl; continue; }
  sleep 1
  "$PERF" record -q -a -e cpu-clock -F 999 -o "$data" -- sleep "${PROFILE_SECONDS:-5}" || rc=1
  busy || { note "FAILED: $w $c: the client ended before the recording did"; rc=1; }
  rep() { "$PERF" report -i "$data" --stdio --no-children "$@" 2>/dev/null; }
  rep --sort dso,sym -q | grep -v '^$' > /tmp/prof.$c.syms
  samples=$(rep --sort sym | sed -n 's/^# Samples: *\([0-9.]*[KM]*\) .*/\1/p' | head -1)
  wait $wl || rc=1
  # Lines: "  12.34%  DSO  [k] SYMBOL".
  idle=$(awk '$4 == "pv_native_safe_halt" || $4 == "default_idle_call" { s += $1 } END { printf "%.2f", s }' /tmp/prof.$c.syms)
  # Our Rust symbols carry the crate's name (v0 mangling: "12ipvs_defense"); IPVS's are
  # ip_vs_*. Samples perf could not name are counted by object ([ipvs_defense]).
  ours='$4 ~ /12ipvs_defense/ || $4 ~ /^_*ip_vs_/'
  lb=$(awk "$ours"' { s += $1 } END { printf "%.2f", s }' /tmp/prof.$c.syms)
  lbdso=$(rep --sort dso -q | awk '$2 == "[ipvs_defense]" { s += $1 } END { printf "%.2f", s }')
  {
    echo
    echo "## $c${v:+ $v}: $(grep "\"contestant\": *\"$c\"" "$BENCH_RESULTS" | tail -1)"
    echo "samples $samples in ${PROFILE_SECONDS:-5} s; idle (halt) ${idle} %; the load balancer's own code: ${lb} % by symbol, ${lbdso} % in object [ipvs_defense]"
    echo "### by object"
    rep --sort dso -q | grep -v '^$' | head -8
    echo "### the load balancer's symbols (self)"
    awk "$ours" /tmp/prof.$c.syms | head -15
    echo "### heaviest symbols (self)"
    head -40 /tmp/prof.$c.syms
  } >> "$report"
  contestant_off
done
trap - EXIT
bench_fini
echo "$rc" > "$out/guest.status"
