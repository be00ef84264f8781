#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# SYN-flood defense with real (spoofed, bounded) floods from 198.18.0.0/15:
# - defense_level engages by itself below amemthresh and returns by itself; 2 stays;
#   every switch is logged and counted;
# - a SYN-then-blind-ACK flood establishes connections at level 0 (the attack), and none at
#   level 2: the ACKs are dropped and counted (blind_acks) and never reach a real server,
#   while real clients still connect through the secure handshake;
# - syn_drop_rate N drops exactly one new SYN in N;
# - with the table full, half-open entries are evicted (entry_evictions) and the real
#   server gets a reset for each; a real client still gets in.
. "$(dirname "$0")/lib.sh"
plan 8
FLOOD="python3 -S $IPVSD_TOP/selftests/flood.py"
mod_unload; topo_setup; mod_load
trap 'kill $(jobs -p) 2>/dev/null; wait; mod_unload; topo_cleanup' EXIT
rs_start
sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.br-cl.rp_filter=0
# Replies to the spoofed sources go to cl2, which drops them: nothing leaves the guest.
ip route add 198.18.0.0/15 via "$CL2" || fail "could not route the spoofed range to cl2"
wait_level() { # want seconds
  for _ in $(seq 1 "$2"); do [ "$(sc defense_level)" = "$1" ] && return 0; nap 1; done
  return 1
}
est_spoofed() { "$IPVSDADM" -L -n -c | grep ESTABLISHED | grep -cE ' 198\.1[89]\.' ; }
SPOOFED='tcp and src net 198.18.0.0/15'
PLAIN_ACK='tcp[tcpflags] & (tcp-syn|tcp-rst|tcp-fin) == 0'

# 1. Automatic switching.
automatic_switching() {
  local sw
  setup_svc
  sc_write amemthresh 2000000000 || fail "amemthresh refused"
  wait_level 1 15 || fail "level did not engage by itself below amemthresh"
  dmesg | grep -q "defense level 0 -> 1 (available memory below amemthresh" || fail "switch to 1 not logged"
  sc_write amemthresh 1
  wait_level 0 15 || fail "level did not return to 0 by itself"
  dmesg | grep -q "defense level 1 -> 0 (memory and connection table recovered" || fail "return not logged"
  sc_write defense_level 2
  sc_write amemthresh 2000000000; nap 3
  expect_eq "$(sc defense_level)" 2 "level 2 under low memory"
  sc_write amemthresh 1; nap 3
  expect_eq "$(sc defense_level)" 2 "level 2 after memory recovered"
  sw=$("$IPVSDADM" --defense | awk '$1 == "level" && $2 == "switches" { print $3 }')
  [ "$sw" -ge 3 ] || fail "only $sw switches counted"
  sc_write amemthresh 0; sc_write defense_level 0; nap 2
  diag "0 -> 1 below amemthresh, back to 0 above it, 2 stays; $sw switches counted and logged"
}

# 2. SYN-then-ACK flood: level 0 (the blind ACKs reach the servers), then level 2 (none
#    does, no entry gets ESTABLISHED, and a real client still connects).
blind_acks_pass_at_level_0() {
  local sent e0 acks0
  setup_svc
  sc_write amemthresh 0; sc_write defense_level 0
  cap_start l0 "$SPOOFED" rs1
  sent=$(in_ns cl1 $FLOOD "$VIP" 80 150 --ack)
  nap 2; e0=$(est_spoofed); cap_stop l0
  acks0=$(cap_count l0 "$PLAIN_ACK")
  [ "$acks0" -gt 0 ] || fail "level 0: no blind ACK reached rs1 (the test shows nothing)"
  diag "level 0: $sent spoofed SYN+ACK pairs: $acks0 blind ACKs reached rs1, $e0 entries ESTABLISHED now (the rest reset by the servers)"
}

blind_acks_dropped_at_level_2() {
  local sent e2 ba ans acks syns
  setup_svc
  sc_write defense_level 2
  cap_start l2 "$SPOOFED" rs1
  sent=$(in_ns cl1 $FLOOD "$VIP" 80 150 --ack)
  nap 2
  e2=$(est_spoofed)
  ba=$(drops blind_acks)
  expect_eq "$e2" 0 "level 2: ESTABLISHED entries from spoofed sources"
  [ "$ba" -ge 100 ] || fail "level 2: only $ba blind ACKs counted for $sent"
  ans=$(tcp_req cl1 80)
  case "$ans" in "rs"[12]" $CL1") ;; *) fail "level 2: a real client failed: '$ans'";; esac
  cap_stop l2
  acks=$(cap_count l2 "$PLAIN_ACK")
  syns=$(cap_count l2 'tcp[tcpflags] & tcp-syn != 0')
  expect_eq "$acks" 0 "level 2: blind ACKs seen on rs1's wire"
  [ "$syns" -gt 0 ] || fail "rs1 saw no SYN at all (capture broken?)"
  diag "level 2: $sent pairs: 0 ESTABLISHED, $ba blind ACKs dropped, rs1 saw $syns SYNs and 0 ACKs; a real client connected"
}

# 3. SYN drop rate one in 4: 400 new SYNs, 100 ± 2 dropped (at level 2: the rate applies
#    while engaged).
syn_drop_rate_one_in_four() {
  local sent d d2
  setup_svc
  sc_write amemthresh 0; sc_write defense_level 2
  sc_write syn_drop_rate 4
  # The half-open entries must outlive the two rounds (process starts take seconds here).
  sc_write defense_timeout_syn_recv 900; sc_write defense_timeout_synack 900
  sent=$(in_ns cl1 $FLOOD "$VIP" 80 400 --seconds 120 --seed 7)
  nap 1
  d=$(drops syn_rate_drops)
  [ "$d" -ge $((sent / 4 - 2)) ] && [ "$d" -le $((sent / 4 + 2)) ] ||
    fail "syn_drop_rate 4: $d drops for $sent SYNs ($((sent / 4)) ± 2 expected)"
  diag "syn_drop_rate 4: $d of $sent new SYNs dropped"
  # The same 400 SYNs again: the ~300 whose entry exists are never dropped; only the ~100
  # without one are new connections, of which one in 4 is dropped.
  in_ns cl1 $FLOOD "$VIP" 80 400 --seconds 120 --seed 7 >/dev/null
  nap 1
  d2=$(( $(drops syn_rate_drops) - d ))
  [ "$d2" -ge $((d / 4 - 2)) ] && [ "$d2" -le $((d / 4 + 2)) ] ||
    fail "the same SYNs again: $d2 more drops ($((d / 4)) ± 2 expected: SYNs of existing entries must pass)"
  diag "syn_drop_rate 4: the same $sent SYNs again: $d2 more drops, all of them SYNs without an entry"
  sc_write defense_timeout_syn_recv 10; sc_write defense_timeout_synack 60
}

# 3a. The automatic rate: amemthresh about twice the available memory engages level 1 and
#     drops one new SYN in amemthresh / (amemthresh - available), an integer division as in
#     IPVS: at exactly twice, any dip of available memory makes it 1 in 1. At 1.6 times it
#     is 1 in 2 (1.6 / 0.6 = 2.67, rounded down) for any available memory within -4..+6 %
#     of the reading: about half dropped; tolerance 150..250 of 400.
automatic_syn_drop_rate() {
  local avail sent d
  setup_svc
  sc_write syn_drop_rate 0; sc_write defense_level 0
  avail=$("$IPVSDADM" --defense | awk '$1 == "available" { print $3 }')
  sc_write amemthresh $((16 * avail / 10)) || fail "amemthresh=$((16 * avail / 10)) refused"
  wait_level 1 15 || fail "level did not engage with amemthresh twice the available memory"
  sent=$(in_ns cl1 $FLOOD "$VIP" 80 400 --seconds 120 --seed 8)
  d=$(drops syn_rate_drops)
  sc_write amemthresh 0; sc_write defense_level 2
  [ "$d" -ge 150 ] && [ "$d" -le 250 ] || fail "automatic rate: $d of $sent SYNs dropped (150..250 expected)"
  diag "automatic rate with amemthresh = 1.6 x $avail available pages: $d of $sent new SYNs dropped"
}

# 3b. Known clients: with every new SYN dropped (rate 1), cl1, which just completed a real
#     handshake, still gets in; cl2, never seen, does not; spoofed sources never do.
known_client_passes_at_rate_1() {
  local sent ans kp d
  setup_svc
  sc_write amemthresh 0; sc_write defense_level 2
  sc_write known_client_ttl 3600
  sc_write syn_drop_rate 0
  case "$(tcp_req cl1 80)" in "rs"[12]" $CL1") ;; *) fail "cl1 could not connect before the test";; esac
  sc_write syn_drop_rate 1
  sent=$(in_ns cl1 $FLOOD "$VIP" 80 30)
  ans=$(tcp_req cl1 80)
  case "$ans" in "rs"[12]" $CL1") ;; *) fail "a known client was dropped: '$ans'";; esac
  ans=$(tcp_req cl2 80) && case "$ans" in "rs"*) fail "an unknown client got in at rate 1: '$ans'";; esac
  kp=$(drops known_client_passes)
  [ "$kp" -ge 1 ] || fail "known_client_passes is $kp"
  d=$(drops syn_rate_drops)
  [ "$d" -ge "$sent" ] || fail "only $d of $sent spoofed SYNs dropped at rate 1"
  diag "rate 1: $d SYNs dropped (all $sent spoofed ones, and cl2's); known client cl1 passed ($kp passes)"
  sc_write syn_drop_rate 0
}

# ipvsdadm --defense shows the counters the sysctls show.
defense_shows_sysctl_counters() {
  local shown
  shown=$("$IPVSDADM" --defense | awk '$1 == "syn_rate_drops" || $1 == "known_client_passes" { printf "%s ", $2 }')
  expect_eq "$shown" "$(sc syn_rate_drops) $(sc known_client_passes) " "ipvsdadm --defense against the sysctls"
}

# 4. With the table full (conn_max 40, level 2), half-open entries are evicted and rs1 gets
#    a reset for each; a real client still connects.
full_table_evicts_half_open() {
  local sent n ev tf ans rsts
  setup_svc
  sc_write amemthresh 0; sc_write defense_level 2; sc_write syn_drop_rate 0
  sc_write conn_max 40
  cap_start rst "tcp[tcpflags] & tcp-rst != 0 and src net 198.18.0.0/15" rs1
  sent=$(in_ns cl1 $FLOOD "$VIP" 80 150)
  nap 1
  n=$(entries)
  ev=$(drops entry_evictions); tf=$(drops table_full)
  [ "$n" -le 40 ] || fail "$n entries with conn_max 40"
  [ "$ev" -ge 100 ] || fail "only $ev evictions for $sent SYNs into a 40-entry table"
  expect_eq "$tf" 0 "table_full while half-open entries could be evicted"
  ans=$(tcp_req cl2 80)
  case "$ans" in "rs"[12]" $CL2") ;; *) fail "a real client failed with the table full of half-open entries: '$ans'";; esac
  cap_stop rst
  rsts=$(cap_count rst)
  [ "$rsts" -gt 0 ] || fail "rs1 received no reset for evicted entries"
  diag "conn_max 40: $sent SYNs, $ev evictions, table_full $tf, $n entries, rs1 got $rsts resets; a real client connected"
  sc_write defense_level 0
}

run_test automatic_switching automatic_switching
run_test blind_acks_pass_at_level_0 blind_acks_pass_at_level_0
run_test blind_acks_dropped_at_level_2 blind_acks_dropped_at_level_2
run_test syn_drop_rate_one_in_four syn_drop_rate_one_in_four
run_test automatic_syn_drop_rate automatic_syn_drop_rate
run_test known_client_passes_at_rate_1 known_client_passes_at_rate_1
run_test defense_shows_sysctl_counters defense_shows_sysctl_counters
run_test full_table_evicts_half_open full_table_evicts_half_open
finish
