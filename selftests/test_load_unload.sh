#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# insmod/rmmod 20 times: the sysctl directory comes and goes with the module, nothing is
# left behind, and kmemleak finds no unreferenced object after the last rmmod.
. "$(dirname "$0")/lib.sh"
plan 2
mod_unload
leak_begin

load_unload_rounds() {
  local i
  for ((i = 1; i <= 20; i++)); do
    mod_load
    [ -f "$SYSCTL/defense_level" ] || fail "round $i: $SYSCTL/defense_level missing after insmod"
    expect_eq "$(sc defense_level)" 0 "round $i: default defense_level"
    mod_unload
    [ -e "$SYSCTL" ] && fail "round $i: $SYSCTL still there after rmmod"
    mod_loaded && fail "round $i: module still listed after rmmod"
  done
  diag "20 load/unload rounds done"
}

no_leak_after_rounds() {
  leak_check "20 load/unload rounds"
}

run_test load_unload_rounds load_unload_rounds
run_test no_leak_after_rounds no_leak_after_rounds
finish
