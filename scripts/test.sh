#!/usr/bin/env bash
# `make test`: host checks and tests, then the guest tests in QEMU on the test kernel.
# Prints every result and ends with the one line "N passed, N failed, N skipped"; exits
# non-zero on any failure.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd); cd "$top"
out=$top/out/test; rm -rf "$out"; mkdir -p "$out"
t0=$(date +%s)

echo "== host tests =="
bash scripts/host_test.sh "$out/host.counts"
read -r hp hf hs < "$out/host.counts"

echo "== kernel and module =="
gp=0 gf=0 gs=0
if tree=$(bash scripts/module.sh test | tail -1) && cargo build -q -p ipvsdadm; then
  echo "== guest tests (QEMU, $(uname -m)) =="
  bash scripts/vm.sh "$tree" "$out" "bash $top/selftests/run_guest.sh $out ${TESTS:-}"
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
passed=$((hp + gp)) failed=$((hf + gf)) skipped=$((hs + gs))
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
