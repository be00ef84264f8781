#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# defense_level accepts 0..2; -1, 3 and "abc" fail with EINVAL and keep the old value; an
# empty write changes nothing; a non-root write is refused; counters are read-only.
. "$(dirname "$0")/lib.sh"
plan 7
mod_unload; mod_load
trap mod_unload EXIT
# No automatic switching during this test: level 1 would otherwise return to 0 by itself
# within a second, as designed, while memory is plentiful.
sc_write amemthresh 0 || fail "amemthresh=0 refused"

level_accepted() {
  local v
  for v in 0 1 2 1; do
    sc_write defense_level "$v" >/dev/null || fail "writing $v was refused"
    expect_eq "$(sc defense_level)" "$v" "after writing $v"
  done
  diag "0, 1, 2 accepted"
}

level_refused() {
  local bad err
  sc_write defense_level 1 || fail "writing 1 was refused"
  for bad in -1 3 abc 1x 99999999999999999999 ' '-; do
    err=$(sc_write defense_level "$bad") && fail "writing '$bad' succeeded"
    case "$err" in *"Invalid argument"*) ;; *) fail "writing '$bad': expected EINVAL, got '$err'";; esac
    expect_eq "$(sc defense_level)" 1 "value after the refused write '$bad'"
  done
  diag "-1, 3, abc, 1x, 2^66, '-' refused with EINVAL; old value kept"
}

empty_write() {
  sc_write defense_level 1 || fail "writing 1 was refused"
  : > "$SYSCTL/defense_level" || fail "an empty open/truncate failed"
  expect_eq "$(sc defense_level)" 1 "after an empty write"
  echo > "$SYSCTL/defense_level" || fail "a newline-only write failed"
  expect_eq "$(sc defense_level)" 1 "after a newline-only write"
  diag "empty writes change nothing"
}

non_root_write() {
  local err v
  command -v setpriv >/dev/null || skip "setpriv missing"
  sc_write defense_level 1 || fail "writing 1 was refused"
  err=$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
    sh -c "echo 2 > $SYSCTL/defense_level" 2>&1) && fail "a non-root write succeeded"
  case "$err" in *"Permission denied"*) ;; *) fail "non-root write: expected EACCES, got '$err'";; esac
  expect_eq "$(sc defense_level)" 1 "after the non-root write"
  v=$(setpriv --reuid=65534 --regid=65534 --clear-groups cat "$SYSCTL/defense_level") ||
    fail "non-root read failed"
  expect_eq "$v" 1 "non-root read"
  diag "non-root: read allowed, write refused (EACCES)"
}

counters_read_only() {
  local c v err
  for c in local_in_packets forward_packets local_out_packets syn_rate_drops entry_evictions \
    route_errors zombie_replies table_full malformed blind_acks rewrite_failures defense_switches \
    known_client_passes malformed_tcp_bad_data_offset malformed_udp_bad_length; do
    v=$(sc "$c") || fail "reading $c failed"
    case "$v" in ''|*[!0-9]*) fail "$c shows '$v', not a count" ;; esac
    err=$(sc_write "$c" 5) && fail "writing the counter $c succeeded"
    [ -n "$err" ] || fail "writing the counter $c gave no error"
  done
  diag "counters (hooks, drops by reason, defense switches, known-client passes) are read-only"
}

resurrect_bounds() {
  local v bad err
  for v in 1 0; do sc_write resurrect "$v" || fail "resurrect=$v refused"; done
  for bad in 2 -1 x; do
    err=$(sc_write resurrect "$bad") && fail "resurrect accepted '$bad'"
    case "$err" in *"Invalid argument"*) ;; *) fail "resurrect='$bad': expected EINVAL, got '$err'";; esac
  done
  expect_eq "$(sc resurrect)" 0 "resurrect after refused writes"
  diag "resurrect: 0 and 1 accepted, 2, -1, x refused (EINVAL)"
}

table_fill_bounds() {
  local f v0 v bad err
  expect_eq "$(sc table_fill_high) $(sc table_fill_low)" "90 70" "default watermarks"
  for f in table_fill_high table_fill_low; do
    v0=$(sc $f) || fail "no $f"
    for v in 0 100 55; do sc_write $f "$v" || fail "$f=$v refused"; done
    for bad in 101 -1 x; do
      err=$(sc_write $f "$bad") && fail "$f accepted '$bad'"
      case "$err" in *"Invalid argument"*) ;; *) fail "$f='$bad': expected EINVAL, got '$err'";; esac
    done
    expect_eq "$(sc $f)" 55 "$f after refused writes"
    sc_write $f "$v0"
  done
  diag "table_fill_high, table_fill_low: 0..100 accepted, 101, -1, x refused (EINVAL); defaults 90/70"
}

run_test defense_level_accepted level_accepted
run_test defense_level_refused level_refused
run_test defense_level_empty_write empty_write
run_test defense_level_non_root_write non_root_write
run_test counters_read_only counters_read_only
run_test resurrect_bounds resurrect_bounds
run_test table_fill_bounds table_fill_bounds
finish
