#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# defense_level accepts 0..2; -1, 3 and "abc" fail with EINVAL and keep the old value; an
# empty write changes nothing; a non-root write is refused; counters are read-only. Every
# writable sysctl accepts exactly its range; tunables are 0644 and counters 0444, and no
# write of an unprivileged user changes anything.
. "$(dirname "$0")/lib.sh"
plan 9
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

# Every writable sysctl with its range and default (director/tunables.rs,
# logic/timeouts.rs); defense_level last (see every_tunable_range). amemthresh's default is
# 2560, but this script sets 0. conn_max: 1..capacity, the capacity being 1/256 of RAM at
# 128 bytes an entry, within 4096..2^22 (capacity_for in logic/sizing.rs).
TIMEOUT_ROWS="none established syn_sent syn_recv fin_wait time_wait close close_wait last_ack listen synack udp"
TIMEOUT_NORMAL="2 900 120 60 120 120 10 60 30 120 120 300"
TIMEOUT_DEFENSE="2 480 60 10 60 60 10 60 30 120 60 180"
tunable_table() { # name min max default, one a line
  local mem cap r
  read -r _ mem _ < /proc/meminfo
  cap=$((mem * 1024 / 256 / 128))
  [ "$cap" -ge 4096 ] || cap=4096
  [ "$cap" -le $((1 << 22)) ] || cap=$((1 << 22))
  echo "amemthresh 0 2147483647 0"
  echo "table_fill_high 0 100 90"
  echo "table_fill_low 0 100 70"
  echo "syn_drop_rate 0 2147483647 0"
  echo "conn_max 1 $cap $cap"
  echo "known_client_ttl 0 2147483 300"
  echo "resurrect 0 1 0"
  echo "syn_proxy 0 2 0"
  set -- $TIMEOUT_NORMAL; for r in $TIMEOUT_ROWS; do echo "timeout_$r 1 2147483 $1"; shift; done
  set -- $TIMEOUT_DEFENSE; for r in $TIMEOUT_ROWS; do echo "defense_timeout_$r 1 2147483 $1"; shift; done
  echo "defense_level 0 2 0"
}

# The writable files are exactly the table's; each shows its default, takes its min and max,
# refuses min-1 and max+1 with EINVAL keeping the old value, and gets its default back
# (defense_level: the level found, which earlier scenarios leave at 1). Level 2 (forced)
# while amemthresh is at its maximum: the controller would engage level 1 below it, and with
# amemthresh back at 0 nothing would return it to 0.
every_tunable_range() {
  local table name min max def v got bad err f level writable="" names="" n=0
  local err_file=/tmp/sysctl_bounds.err
  table=$(tunable_table)
  while read -r name _; do names+=" $name"; done <<< "$table"
  for f in "$SYSCTL"/*; do [ -w "$f" ] && writable+=" ${f##*/}"; done
  expect_eq "$(printf '%s\n' $writable | sort | tr '\n' ' ')" "$(printf '%s\n' $names | sort | tr '\n' ' ')" \
    "writable files of $SYSCTL (left) against the range table (right)"
  level=$(sc defense_level) || fail "no defense_level"
  sc_write defense_level 2 || fail "defense_level=2 refused"
  # Reads and writes with the shell's own redirections: a fork per access would cost this
  # scenario a minute under emulation.
  while read -r name min max def; do
    f=$SYSCTL/$name
    [ "$name" = defense_level ] && def=2
    read -r v < "$f"; expect_eq "$v" "$def" "$name before the test"
    for v in "$min" "$max"; do
      { printf '%s' "$v" > "$f"; } 2>/dev/null || fail "$name=$v refused (range $min..$max)"
      read -r got < "$f"; expect_eq "$got" "$v" "$name after writing $v"
    done
    for bad in $((min - 1)) $((max + 1)); do
      { printf '%s' "$bad" > "$f"; } 2> "$err_file" && fail "$name accepted $bad (range $min..$max)"
      read -r err < "$err_file"
      case "$err" in *"Invalid argument"*) ;; *) fail "$name=$bad: expected EINVAL, got '$err'";; esac
      read -r got < "$f"; expect_eq "$got" "$max" "$name after the refused $bad"
    done
    { printf '%s' "$def" > "$f"; } 2>/dev/null || fail "$name: restoring $def refused"
    read -r got < "$f"; expect_eq "$got" "$def" "$name restored"
    n=$((n + 1))
  done <<< "$table"
  sc_write defense_level "$level" || fail "defense_level=$level refused"
  expect_eq "$(sc defense_level)" "$level" "defense_level restored"
  diag "$n writable sysctls: min and max accepted, min-1 and max+1 refused (EINVAL), defaults restored (conn_max 1..$(sc conn_max))"
}

# The read-only counters (director/sysctls.rs: hooks, drop reasons, defense,
# malformed_<reason> of logic/packet.rs, and the SYN proxy's of logic/synproxy.rs).
COUNTERS="local_in_packets local_in_bytes forward_packets forward_bytes local_out_packets
  local_out_bytes syn_rate_drops entry_evictions route_errors zombie_replies table_full malformed
  blind_acks rewrite_failures defense_switches known_client_passes malformed_ipv4_truncated
  malformed_not_ipv4 malformed_bad_ihl malformed_header_beyond_buffer
  malformed_total_length_below_header malformed_total_length_beyond_buffer malformed_fragment
  malformed_tcp_truncated malformed_tcp_bad_data_offset malformed_tcp_header_beyond_segment
  malformed_udp_truncated malformed_udp_bad_length malformed_icmp_truncated
  malformed_icmp_bad_quote syn_cookies_sent syn_cookies_valid syn_cookies_refused
  syn_proxy_failures"

# The directory holds exactly the table's tunables, mode 644, and the counters, mode 444.
# An unprivileged process (one for every file) writes each tunable a value in its range
# other than the current one, and each counter 1: every write fails with EACCES and no
# file's value changes.
root_only_writes_and_modes() {
  local table want got name min max v f args=() before after out n
  command -v setpriv >/dev/null || skip "setpriv missing"
  table=$(tunable_table)
  want=$( { while read -r name _; do echo "644 $SYSCTL/$name"; done <<< "$table"
    for name in $COUNTERS; do echo "444 $SYSCTL/$name"; done; } | sort)
  got=$(stat -c '%a %n' "$SYSCTL"/* | sort)
  [ "$got" = "$want" ] || { diff <(echo "$want") <(echo "$got") | sed 's/^/#   /'
    fail "modes of $SYSCTL differ from the registered ones (< expected, > found)"; }
  n=$(echo "$want" | wc -l)
  while read -r name min max _; do
    v=$(sc "$name"); if [ "$v" = "$min" ]; then v=$max; else v=$min; fi
    args+=("$SYSCTL/$name" "$v")
  done <<< "$table"
  for name in $COUNTERS; do args+=("$SYSCTL/$name" 1); done
  before=$(for f in "$SYSCTL"/*; do read -r v < "$f"; echo "${f##*/} $v"; done)
  out=$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all sh -c '
    while [ $# -gt 0 ]; do
      if err=$( { printf %s "$2" > "$1"; } 2>&1 ); then echo "written: $1 $2"
      else case "$err" in *"Permission denied"*) echo refused ;; *) echo "$1: $err" ;; esac; fi
      shift 2
    done' sh "${args[@]}" 2>&1)
  after=$(for f in "$SYSCTL"/*; do read -r v < "$f"; echo "${f##*/} $v"; done)
  [ "$(echo "$out" | grep -vx refused)" = "" ] || { echo "$out" | grep -vx refused | head -5 | sed 's/^/#   /'
    fail "an unprivileged write did not fail with EACCES"; }
  expect_eq "$(echo "$out" | grep -cx refused)" "$n" "unprivileged writes refused with EACCES"
  [ "$after" = "$before" ] || { diff <(echo "$before") <(echo "$after") | sed 's/^/#   /'
    fail "values changed after the unprivileged writes"; }
  diag "$n files: $(echo "$want" | grep -c '^644') tunables 644, $(echo "$want" | grep -c '^444') counters 444; $n unprivileged writes refused (EACCES), no value changed"
}

run_test defense_level_accepted level_accepted
run_test defense_level_refused level_refused
run_test defense_level_empty_write empty_write
run_test defense_level_non_root_write non_root_write
run_test counters_read_only counters_read_only
run_test resurrect_bounds resurrect_bounds
run_test table_fill_bounds table_fill_bounds
run_test every_tunable_range every_tunable_range
run_test root_only_writes_and_modes root_only_writes_and_modes
finish
