#!/usr/bin/env bash
# insmod/rmmod 20 times: the sysctl directory comes and goes with the module, nothing is
# left behind, and kmemleak finds no leak from our module.
. "$(dirname "$0")/lib.sh"
mod_unload
leak=/sys/kernel/debug/kmemleak
[ -w "$leak" ] && echo clear > "$leak"
for i in $(seq 1 20); do
  mod_load
  [ -f "$SYSCTL/defense_level" ] || fail "round $i: $SYSCTL/defense_level missing after insmod"
  expect_eq "$(sc defense_level)" 0 "round $i: default defense_level"
  mod_unload
  [ -e "$SYSCTL" ] && fail "round $i: $SYSCTL still there after rmmod"
  mod_loaded && fail "round $i: module still listed after rmmod"
done
diag "20 load/unload rounds done"
if [ -w "$leak" ]; then
  # kmemleak reports an object only after it has been unreferenced for two scans.
  echo scan > "$leak"; sleep 1; echo scan > "$leak"
  if grep -q ipvs_defense "$leak"; then
    grep -B3 -A20 ipvs_defense "$leak" | head -60 | sed 's/^/# /'
    fail "kmemleak reports memory leaked by ipvs_defense"
  fi
  diag "kmemleak: no leak from ipvs_defense ($(grep -c '^unreferenced object' "$leak") unrelated suspects)"
else
  skip "kmemleak not available"
fi
