#!/usr/bin/env bash
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
CORE_TESTS="test_sysctl_bounds test_load_unload test_hook_counts test_icmp test_route_failure
  test_zombie_timeouts test_nat test_datapath test_netlink test_unload_under_traffic
  test_conntrack test_defense test_bench_quick"
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

echo "== kernel and module =="
gp=0 gf=0 gs=0
if tree=$(bash scripts/module.sh test | tail -1) && cargo build -q -p ipvsdadm &&
  cargo build -q --release -p loadgen; then
  echo "== guest tests (QEMU, $(uname -m)) =="
  # The long tests add over an hour to the guest's run.
  vm_limit=4800; [ "${LONG:-0}" = 1 ] && vm_limit=9600
  VM_TIMEOUT=${VM_TIMEOUT:-$vm_limit} \
    bash scripts/vm.sh "$tree" "$out" "bash $top/selftests/run_guest.sh $out $(echo $guest_tests)"
  vm_rc=$?
  if [ -s "$out/ktap.txt" ]; then
    gp=$(grep -cE '^ok [0-9]+ ' "$out/ktap.txt" | tr -d ' ')
    gs=$(grep -cE '^ok [0-9]+ .*# SKIP' "$out/ktap.txt" | tr -d ' ')
    gp=$((gp - gs))
    gf=$(grep -cE '^not ok [0-9]+ ' "$out/ktap.txt" | tr -d ' ')
    planned=$(grep -m1 -E '^1\.\.[0-9]+' "$out/ktap.txt" | cut -d. -f3)
    ran=$((gp + gs + gf))
    if [ -n "$planned" ] && [ "$ran" -lt "$planned" ]; then
      echo "not ok guest: $((planned - ran)) planned test(s) never reported (guest died?)"
      gf=$((gf + planned - ran))
    fi
  else
    echo "not ok guest: no test output (see $out/console.log)"; gf=1
  fi
  if [ $vm_rc -ne 0 ] && [ "$gf" -eq 0 ]; then
    echo "not ok guest: the guest run failed (exit $vm_rc)"; gf=1
  fi
  echo "# guest console: $out/console.log, dmesg: $out/dmesg.log ($(cat "$out/accel" 2>/dev/null))"
else
  echo "not ok build: kernel or module build failed"; gf=1
fi
echo "# make test took $(( $(date +%s) - t0 )) s"
# Repeat every failure right above the count, so that the tail of a long log names it.
{ grep -hE '^not ok ' "$out"/host.log 2>/dev/null | sed 's/^/# failed: host: /'
  grep -hE '^not ok [0-9]+ ' "$out/ktap.txt" 2>/dev/null | sed 's/^/# failed: guest: /'; } || true
passed=$((hp + gp)) failed=$((hf + gf)) skipped=$((hs + gs))
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
