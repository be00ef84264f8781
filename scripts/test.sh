#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make test`: host checks and tests, then the guest tests in QEMU on the test kernel.
# Prints every result and ends with the one line "N passed, N failed, N skipped"; exits
# non-zero on any failure.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd); cd "$top"
out=$top/out/test; rm -rf "$out"; mkdir -p "$out"
t0=$(date +%s)

# The guest tests. `make test` runs CORE_TESTS, `make test-long` (LONG=1) adds LONG_TESTS,
# and TESTS="test_a test_b" runs just those. Under software emulation on this machine kind
# every process start in the guest costs seconds; the split keeps `make test`, which CI
# runs, within CI's 90 minutes (measured times: README, "Test time").
CORE_TESTS="test_sysctl_bounds test_load_unload test_hook_counts test_demo test_icmp test_route_failure
  test_zombie_timeouts test_nat test_datapath test_xmit test_routed test_fragments test_netlink test_unload_under_traffic
  test_defense test_defense_holes test_synproxy test_bench_quick test_fuzz_genl test_fuzz_pkt
  test_conntrack_nft test_conntrack"
LONG_TESTS="test_defense_floods"
if [ -n "${TESTS:-}" ]; then
  guest_tests=$TESTS
elif [ "${LONG:-0}" = 1 ]; then
  guest_tests="$CORE_TESTS $LONG_TESTS"
else
  guest_tests=$CORE_TESTS
fi
# Every test script is in one of the lists.
for f in selftests/test_*.sh; do
  t=$(basename "$f" .sh)
  case " $(echo $CORE_TESTS $LONG_TESTS) " in *" $t "*) ;; *)
    echo "scripts/test.sh: $t is in neither CORE_TESTS nor LONG_TESTS" >&2; exit 2 ;; esac
done

echo "== host tests =="
bash scripts/host_test.sh "$out/host.counts" | tee "$out/host.log"
read -r hp hf hs < "$out/host.counts"

# Guest tests run in two guests at once, one per host core (each guest is single-threaded
# TCG). The split is by measured time: each test goes to the guest with less work so far,
# longest first. Seconds per test, measured under emulation with two guests at once
# (README, "Test time"); a test not listed counts as 300 s.
declare -A SECS=([test_sysctl_bounds]=26 [test_load_unload]=60 [test_hook_counts]=25
  [test_demo]=123 [test_icmp]=88 [test_route_failure]=144 [test_zombie_timeouts]=126
  [test_nat]=98 [test_datapath]=275 [test_xmit]=85 [test_routed]=73 [test_fragments]=39
  [test_netlink]=153 [test_unload_under_traffic]=225 [test_defense]=221
  [test_defense_holes]=169 [test_synproxy]=150 [test_fuzz_genl]=105 [test_fuzz_pkt]=266 [test_bench_quick]=260
  [test_conntrack_nft]=29 [test_conntrack]=30 [test_defense_floods]=1700)
# Tests that turn conntrack on for the rest of a boot run last in their guest.
LAST_TESTS="test_conntrack_nft test_conntrack"
split_tests() { # prints two lines: the tests of guest 1, then of guest 2
  local t w1=0 w2=0 g1="" g2="" sorted
  sorted=$(for t in $guest_tests; do
      case " $LAST_TESTS " in *" $t "*) continue ;; esac
      echo "${SECS[$t]:-300} $t"; done | sort -rn | cut -d' ' -f2)
  # (The lists span lines: compared as words, not as text.)
  local all=" $(echo $guest_tests) "
  for t in $sorted $(for t in $LAST_TESTS; do case "$all" in *" $t "*) echo $t ;; esac; done); do
    if [ "$w1" -le "$w2" ]; then g1="$g1 $t"; w1=$((w1 + ${SECS[$t]:-300}))
    else g2="$g2 $t"; w2=$((w2 + ${SECS[$t]:-300})); fi
  done
  echo "$g1"; echo "$g2"
}

# Counts one guest's KTAP into gp, gs, gf: every result that has no nested results of its
# own (a scenario, a script's dmesg check, a guest-wide check); an early exit counts the
# top-level results it never reported as failures.
count_guest() { # dir
  local k=$1/ktap.txt p s f planned ran
  if [ ! -s "$k" ]; then
    echo "not ok guest ${1##*/}: no test output (see $1/console.log)"; gf=$((gf + 1)); return
  fi
  read -r p s f < <(awk '
    function count(line) { if (line ~ /^ *not ok /) f++; else if (line ~ /# SKIP/) s++; else p++ }
    /^    (not )?ok [0-9]+ / { count($0); nested = 1; next }
    /^(not )?ok [0-9]+ / { if (!nested) count($0); nested = 0 }
    END { print p + 0, s + 0, f + 0 }' "$k")
  planned=$(grep -m1 -E '^1\.\.[0-9]+' "$k" | cut -d. -f3)
  ran=$(grep -cE '^(not )?ok [0-9]+ ' "$k" | tr -d ' ')
  if [ -n "$planned" ] && [ "$ran" -lt "$planned" ]; then
    echo "not ok guest ${1##*/}: $((planned - ran)) planned test(s) never reported (guest died?)"
    f=$((f + planned - ran))
  fi
  gp=$((gp + p)) gs=$((gs + s)) gf=$((gf + f))
}

echo "== kernel and module =="
gp=0 gf=0 gs=0
if tree=$(FAULTS="init slow_hook rewrite" bash scripts/module.sh test | tail -1) && cargo build -q --release -p ipvsdadm &&
  cargo build -q --release -p loadgen; then
  echo "== guest tests (QEMU, $(uname -m)): two guests at once =="
  # The long tests add over an hour to a guest's run.
  vm_limit=4800; [ "${LONG:-0}" = 1 ] && vm_limit=9600
  { read -r tests1; read -r tests2; } < <(split_tests)
  pids=()
  for g in 1 2; do
    eval "list=\$tests$g"
    [ -n "$list" ] || continue
    mkdir -p "$out/guest$g"
    echo "# guest $g:$list"
    VM_TIMEOUT=${VM_TIMEOUT:-$vm_limit} bash scripts/vm.sh "$tree" "$out/guest$g" \
      "bash $top/selftests/run_guest.sh $out/guest$g $list" > "$out/guest$g/vm.log" 2>&1 &
    pids+=($!)
  done
  rcs=()
  for p in "${pids[@]}"; do wait "$p"; rcs+=($?); done
  # One KTAP stream: each guest's results, renumbered, under one plan.
  : > "$out/ktap.txt"
  for g in 1 2; do [ -s "$out/guest$g/ktap.txt" ] && cat "$out/guest$g/ktap.txt"; done |
    awk 'BEGIN { print "TAP version 13" } /^TAP version/ || /^1\.\.[0-9]+$/ { next }
      /^(not )?ok [0-9]+ / { n++; sub(/ok [0-9]+ /, "ok " n " ") } { lines[++m] = $0 }
      END { print "1.." n; for (i = 1; i <= m; i++) print lines[i] }' > "$out/ktap.txt"
  cat "$out/ktap.txt"
  for g in 1 2; do
    [ -d "$out/guest$g" ] || continue
    sed 's/^/# guest '$g': /' "$out/guest$g/vm.log"
    count_guest "$out/guest$g"
  done
  i=0
  for g in 1 2; do
    [ -d "$out/guest$g" ] || continue
    rc=${rcs[$i]}; i=$((i + 1))
    if [ "$rc" -ne 0 ] && ! grep -qE '^not ok [0-9]+ ' "$out/guest$g/ktap.txt" 2>/dev/null; then
      echo "not ok guest $g: the guest run failed (exit $rc)"; gf=$((gf + 1))
    fi
    echo "# guest $g: console $out/guest$g/console.log, dmesg $out/guest$g/dmesg.log ($(cat "$out/guest$g/accel" 2>/dev/null))"
  done
else
  echo "not ok build: kernel or module build failed"; gf=1
fi
# A guest booted again after a problem before any test (scripts/vm.sh) is said every time.
retries=$(cat "$out"/guest*/vm.log 2>/dev/null | grep -c 'booting again' || true)
echo "# guest boots retried: $retries"
echo "# make test took $(( $(date +%s) - t0 )) s"
# Repeat every failure right above the count, so that the tail of a long log names it.
{ grep -hE '^not ok ' "$out"/host.log 2>/dev/null | sed 's/^/# failed: host: /'
  awk '/^    not ok [0-9]+ / { sub(/^    not ok [0-9]+ /, ""); failed[++n] = $0; next }
    /^(not )?ok [0-9]+ / { name = $0; sub(/^(not )?ok [0-9]+ /, "", name); sub(/ #.*/, "", name)
      for (i = 1; i <= n; i++) print "# failed: guest: " name ": " failed[i]
      if (!n && $1 == "not") { sub(/^not ok [0-9]+ /, ""); print "# failed: guest: " $0 }
      n = 0 }' "$out/ktap.txt" 2>/dev/null; } || true
passed=$((hp + gp)) failed=$((hf + gf)) skipped=$((hs + gs))
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
