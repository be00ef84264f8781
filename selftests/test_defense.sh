#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# SYN-flood defense with real (spoofed, bounded) floods from 198.18.0.0/15:
# - defense_level engages by itself below amemthresh and returns by itself; 2 stays;
#   every switch is counted and logged exactly once (not again at later checks);
# - a SYN-then-blind-ACK flood establishes connections at level 0 (the attack), and none at
#   level 2: the ACKs are dropped and counted (blind_acks) and never reach a real server,
#   while real clients still connect through the secure handshake;
# - syn_drop_rate N drops exactly one new SYN in N, also with SYNs on both CPUs at once; a known client passes it for
#   known_client_ttl seconds after its last handshake, and never with known_client_ttl 0;
# - with the table full, half-open entries are evicted (entry_evictions) and the real
#   server gets a reset for each; a real client still gets in; an ESTABLISHED entry is
#   never evicted; the dump shows half-open entries in SYNACK (SA) with the defense's
#   timeout;
# - eviction takes the oldest half-open entry first, and its reset frees the real server's
#   SYN-RECV socket.
. "$(dirname "$0")/lib.sh"
plan 13
mod_unload; topo_setup; mod_load
trap 'kill $(jobs -p) 2>/dev/null; wait; mod_unload; topo_cleanup' EXIT
rs_start
sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.br-cl.rp_filter=0
# Replies to the spoofed sources go to cl2, which drops them: nothing leaves the guest.
ip route add 198.18.0.0/15 via "$CL2" || fail "could not route the spoofed range to cl2"
wait_level() { # want seconds
  for ((_k = 1; _k <= $2; _k++)); do [ "$(sc defense_level)" = "$1" ] && return 0; nap 1; done
  return 1
}
# Packets each CPU processed (the first field of its line in /proc/net/softnet_stat, hex).
softnet_processed() { # array name
  local -n out=$1
  local first _
  out=()
  while read -r first _; do out+=($((16#$first))); done < /proc/net/softnet_stat
}
# Entries from the spoofed blocks 198.18.8.0/21 and 198.18.16.0/21 (loadgen's --src-block 1, 2).
block_entries() {
  ipvsdadm -L -n -c | awk '$4 ~ /^198\.18\./ { split($4, a, "."); b = int(a[3] / 8)
      if (b == 1) n1++; else if (b == 2) n2++ } END { print n1 + 0, n2 + 0 }'
}
est_spoofed() { ipvsdadm -L -n -c | grep ESTABLISHED | grep -cE ' 198\.1[89]\.' ; }
# The spoofed sources' entries to VIP:VPORT: "SYNACK SYN_RECV OTHER SYNACK_MAX_SECONDS_LEFT".
spoofed_half_open() { # vport
  ipvsdadm -L -n -c | awk -v v="$VIP:$1" '$5 == v && $4 ~ /^198\.1[89]\./ {
      split($2, t, ":"); s = t[1] * 60 + t[2]
      if ($3 == "SYNACK") { sa++; if (s > m) m = s } else if ($3 == "SYN_RECV") sr++; else o++ }
    END { print sa + 0, sr + 0, o + 0, m + 0 }'
}
SPOOFED='tcp and src net 198.18.0.0/15'
PLAIN_ACK='tcp[tcpflags] & (tcp-syn|tcp-rst|tcp-fin) == 0'
SYN='tcp[tcpflags] & tcp-syn != 0'

# 1. Automatic switching.
# Lines of dmesg that contain $1.
log_count() { local n; n=$(dmesg | grep -c "$1"); echo "$n"; }
# Each switch is counted and logged once, however many once-a-second checks see the same
# condition after it: 3 s more below amemthresh, then above it, then at level 2.
UP="defense level 0 -> 1 (available memory below amemthresh"
DOWN="defense level 1 -> 0 (memory and connection table recovered"
SET2="defense level 0 -> 2 (set by the operator)"
automatic_switching() {
  local sw sw0 up0 down0 set0 from2
  setup_svc
  sw0=$(sc defense_switches)
  up0=$(log_count "$UP") down0=$(log_count "$DOWN") set0=$(log_count "$SET2") from2=$(log_count "defense level 2 ->")
  sc_write amemthresh 2000000000 || fail "amemthresh refused"
  wait_level 1 15 || fail "level did not engage by itself below amemthresh"
  nap 3
  expect_eq "$(( $(log_count "$UP") - up0 ))" 1 "lines logged for the switch to 1, 3 s after it"
  sc_write amemthresh 1
  wait_level 0 15 || fail "level did not return to 0 by itself"
  nap 3
  expect_eq "$(( $(log_count "$DOWN") - down0 ))" 1 "lines logged for the return to 0, 3 s after it"
  sc_write defense_level 2
  sc_write amemthresh 2000000000; nap 3
  expect_eq "$(sc defense_level)" 2 "level 2 under low memory"
  sc_write amemthresh 1; nap 3
  expect_eq "$(sc defense_level)" 2 "level 2 after memory recovered"
  expect_eq "$(( $(log_count "$SET2") - set0 ))" 1 "lines logged for the operator's switch to 2"
  expect_eq "$(( $(log_count "defense level 2 ->") - from2 ))" 0 "lines logged for a switch from 2 while the operator holds it"
  sw=$(ipvsdadm --defense | awk '$1 == "level" && $2 == "switches" { print $3 }')
  expect_eq "$(( sw - sw0 ))" 3 "switches counted (0 -> 1, 1 -> 0, 0 -> 2), in ipvsdadm --defense"
  sc_write amemthresh 0; sc_write defense_level 0; nap 2
  diag "0 -> 1 below amemthresh, back to 0 above it, 2 stays; 3 switches counted, each logged once"
}

# 2. SYN-then-ACK flood: level 0 (the blind ACKs reach the servers), then level 2 (none
#    does, no entry gets ESTABLISHED, and a real client still connects).
blind_acks_pass_at_level_0() {
  local sent e0 rs syns acks total=0 seen=
  setup_svc
  sc_write amemthresh 0; sc_write defense_level 0
  cap_start l0 "$SPOOFED" rs1 rs2
  sent=$(flood cl1 "$VIP" 80 150 --ack)
  nap 2; e0=$(est_spoofed); cap_stop l0
  # Both servers of the service: each gets about half of the flood, ACKs included.
  for rs in rs1 rs2; do
    syns=$(pcap_count /tmp/l0.$rs.pcap "$SYN"); acks=$(pcap_count /tmp/l0.$rs.pcap "$PLAIN_ACK")
    [ "$syns" -gt 0 ] || fail "level 0: $rs saw no SYN at all (capture broken?)"
    [ "$acks" -gt 0 ] || fail "level 0: no blind ACK reached $rs (the test shows nothing)"
    total=$((total + acks)) seen="$seen, $rs $acks ACKs and $syns SYNs"
  done
  diag "level 0: $sent spoofed SYN+ACK pairs: $total blind ACKs reached the servers (${seen#, }),"\
    "$e0 entries ESTABLISHED now (the rest reset by the servers)"
}

blind_acks_dropped_at_level_2() {
  local sent e2 ba ans rs acks syns seen= sa sr other sa_max
  setup_svc
  sc_write defense_level 2
  cap_start l2 "$SPOOFED" rs1 rs2
  sent=$(flood cl1 "$VIP" 80 150 --ack)
  nap 2
  e2=$(est_spoofed)
  ba=$(drops blind_acks)
  expect_eq "$e2" 0 "level 2: ESTABLISHED entries from spoofed sources"
  [ "$ba" -ge 100 ] || fail "level 2: only $ba blind ACKs counted for $sent"
  # The spoofed entries wait in SYN_RECV or, once their server's SYN+ACK passed, in SYNACK
  # (SA), with the defense's timeouts (SA 60 s, not the normal 120; SR 10, not 60).
  read -r sa sr other sa_max < <(spoofed_half_open 80)
  [ "$sa" -ge 100 ] || fail "level 2: $sa spoofed entries shown in SYNACK (SA) for $sent SYNs that the servers answered"
  expect_eq "$other" 0 "level 2: spoofed entries in states other than SYN_RECV and SYNACK"
  [ "$sa_max" -le 60 ] || fail "level 2: a SYNACK entry expires in $sa_max s (defense_timeout_synack is 60)"
  ans=$(tcp_req cl1 80)
  case "$ans" in "rs"[12]" $CL1") ;; *) fail "level 2: a real client failed: '$ans'";; esac
  cap_stop l2
  for rs in rs1 rs2; do
    syns=$(pcap_count /tmp/l2.$rs.pcap "$SYN"); acks=$(pcap_count /tmp/l2.$rs.pcap "$PLAIN_ACK")
    [ "$syns" -gt 0 ] || fail "$rs saw no SYN at all (capture broken?)"
    expect_eq "$acks" 0 "level 2: blind ACKs seen on $rs's wire"
    seen="$seen, $rs $syns"
  done
  diag "level 2: $sent pairs: 0 ESTABLISHED, $ba blind ACKs dropped, 0 ACKs at the servers" \
    "(SYNs seen: ${seen#, }); a real client connected; dump: $sa SYNACK (expiring within" \
    "$sa_max s), $sr SYN_RECV"
}

# 2b. A real server on the director's own address (served locally: its SYN+ACKs pass
#     LOCAL_OUT, not FORWARD) under level 2: its entries obey the same table, timeouts and
#     drops. Blind ACKs are dropped before the local stack sees them, the spoofed entries wait
#     in SYNACK with the defense's timeout, and a real client still gets through (the
#     local server's SYN+ACKs to the spoofed range leave through LOCAL_OUT to cl2, which
#     drops them).
local_real_server_under_defense() {
  local sent e2 ba sa sr other sa_max est ans
  setup_svc
  "$LOADGEN" answer --name local --port 9090 --seconds 600 --ready /tmp/rs-ready.local >/dev/null 2>&1 &
  wait_file /tmp/rs-ready.local $! || fail "the local server did not start"
  adm -A -t "$VIP:90" -s rr
  adm -a -t "$VIP:90" -r "$DIR_RS:9090" -m
  sc_write defense_level 2
  sent=$(flood cl1 "$VIP" 90 150 --ack)
  nap 2
  e2=$(est_spoofed)
  ba=$(drops blind_acks)
  read -r sa sr other sa_max < <(spoofed_half_open 90)
  est=$(ss -Htn state established "( sport = :9090 )" | grep -c ' 198\.1[89]\.')
  expect_eq "$e2" 0 "local server, level 2: ESTABLISHED entries from spoofed sources"
  [ "$ba" -ge 100 ] || fail "local server, level 2: only $ba blind ACKs counted for $sent"
  expect_eq "$est" 0 "local server, level 2: connections from spoofed sources accepted by the local server"
  [ "$sa" -ge 100 ] || fail "local server, level 2: $sa spoofed entries in SYNACK (SA) for $sent SYNs it answered"
  expect_eq "$other" 0 "local server, level 2: spoofed entries in states other than SYN_RECV and SYNACK"
  [ "$sa_max" -le 60 ] || fail "local server, level 2: a SYNACK entry expires in $sa_max s (defense_timeout_synack is 60)"
  ans=$(tcp_req cl1 90)
  expect_eq "$ans" "local $CL1" "local server, level 2: a real client"
  diag "local server, level 2: $sent pairs: 0 ESTABLISHED, $ba blind ACKs dropped, none accepted;" \
    "dump: $sa SYNACK (expiring within $sa_max s), $sr SYN_RECV; a real client connected"
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
  sent=$(flood cl1 "$VIP" 80 400 --seconds 120 --seed 7)
  expect_eq "$sent" 400 "spoofed SYNs sent"
  nap 1
  d=$(drops syn_rate_drops)
  [ "$d" -ge $((sent / 4 - 2)) ] && [ "$d" -le $((sent / 4 + 2)) ] ||
    fail "syn_drop_rate 4: $d drops for $sent SYNs ($((sent / 4)) ± 2 expected)"
  diag "syn_drop_rate 4: $d of $sent new SYNs dropped"
  # The same 400 SYNs again: the ~300 whose entry exists are never dropped; only the ~100
  # without one are new connections, of which one in 4 is dropped.
  flood cl1 "$VIP" 80 400 --seconds 120 --seed 7 >/dev/null
  nap 1
  d2=$(( $(drops syn_rate_drops) - d ))
  [ "$d2" -ge $((d / 4 - 2)) ] && [ "$d2" -le $((d / 4 + 2)) ] ||
    fail "the same SYNs again: $d2 more drops ($((d / 4)) ± 2 expected: SYNs of existing entries must pass)"
  diag "syn_drop_rate 4: the same $sent SYNs again: $d2 more drops, all of them SYNs without an entry"
  sc_write defense_timeout_syn_recv 10; sc_write defense_timeout_synack 60
}

# 3a. The rate holds over both CPUs: two floods at once, each pinned to one CPU (a veth
#     delivers on the sender's CPU), 400 new SYNs each from its own /21 of the spoofed
#     range, at syn_drop_rate 4: one in four of all 800 dropped, each CPU's SYNs dropped at
#     about that rate (their turns interleave), and both CPUs took their flood.
syn_drop_rate_on_both_cpus() {
  local cpu n n0 n1 b0 b1 d e sent pids=() rx0=() rx1=()
  [ "$(nproc)" -ge 2 ] || fail "the guest has $(nproc) CPU(s), the test needs 2"
  setup_svc
  sc_write amemthresh 0; sc_write defense_level 2; sc_write syn_drop_rate 4
  sc_write defense_timeout_syn_recv 900; sc_write defense_timeout_synack 900
  read -r b0 b1 < <(block_entries)
  softnet_processed rx0
  for cpu in 0 1; do
    taskset -c $cpu "$LOADGEN" syn --netns "$(ns_name cl1)" --dst "$VIP:80" --count 400 \
      --seconds 120 --src-block $((cpu + 1)) > /tmp/syn_cpu$cpu.out &
    pids+=($!)
  done
  wait "${pids[@]}" || fail "a flooder failed"
  softnet_processed rx1
  sent=0
  for cpu in 0 1; do
    n=$(sed -n 's/^sent=\([0-9]*\) errors=0 .*/\1/p' /tmp/syn_cpu$cpu.out)
    expect_eq "$n" 400 "SYNs sent from CPU $cpu"
    [ $((rx1[cpu] - rx0[cpu])) -ge 400 ] ||
      fail "CPU $cpu processed $((rx1[cpu] - rx0[cpu])) packets for its 400 SYNs"
    sent=$((sent + n))
  done
  nap 1
  d=$(drops syn_rate_drops)
  [ "$d" -ge $((sent / 4 - 2)) ] && [ "$d" -le $((sent / 4 + 2)) ] ||
    fail "two CPUs: $d drops for $sent SYNs ($((sent / 4)) ± 2 expected)"
  read -r n0 n1 < <(block_entries)
  for cpu in 0 1; do
    eval "e=\$((n$cpu - b$cpu))"
    [ $((400 - e)) -ge 60 ] && [ $((400 - e)) -le 140 ] ||
      fail "CPU $cpu: $((400 - e)) of its 400 SYNs dropped (60..140 expected)"
  done
  diag "syn_drop_rate 4 over two CPUs: $d of $sent new SYNs dropped; CPU 0 $((400 - n0 + b0)) of 400," \
    "CPU 1 $((400 - n1 + b1)) of 400; packets processed: CPU 0 +$((rx1[0] - rx0[0])), CPU 1 +$((rx1[1] - rx0[1]))"
  sc_write defense_timeout_syn_recv 10; sc_write defense_timeout_synack 60
}

# 3b. The automatic rate: amemthresh about twice the available memory engages level 1 and
#     drops one new SYN in amemthresh / (amemthresh - available), an integer division as in
#     IPVS: at exactly twice, any dip of available memory makes it 1 in 1. At 1.6 times it
#     is 1 in 2 (1.6 / 0.6 = 2.67, rounded down) for any available memory within -4..+6 %
#     of the reading: about half dropped; tolerance 150..250 of 400.
automatic_syn_drop_rate() {
  local avail sent d
  setup_svc
  sc_write syn_drop_rate 0; sc_write defense_level 0
  avail=$(ipvsdadm --defense | awk '$1 == "available" { print $3 }')
  sc_write amemthresh $((16 * avail / 10)) || fail "amemthresh=$((16 * avail / 10)) refused"
  wait_level 1 15 || fail "level did not engage with amemthresh twice the available memory"
  sent=$(flood cl1 "$VIP" 80 400 --seconds 120 --seed 8)
  d=$(drops syn_rate_drops)
  sc_write amemthresh 0; sc_write defense_level 2
  [ "$d" -ge 150 ] && [ "$d" -le 250 ] || fail "automatic rate: $d of $sent SYNs dropped (150..250 expected)"
  diag "automatic rate with amemthresh = 1.6 x $avail available pages: $d of $sent new SYNs dropped"
}

# 3c. Known clients: with every new SYN dropped (rate 1), cl1, which just completed a real
#     handshake, still gets in; cl2, never seen, does not; spoofed sources never do.
known_client_passes_at_rate_1() {
  local sent ans kp d
  setup_svc
  sc_write amemthresh 0; sc_write defense_level 2
  sc_write known_client_ttl 3600
  sc_write syn_drop_rate 0
  case "$(tcp_req cl1 80)" in "rs"[12]" $CL1") ;; *) fail "cl1 could not connect before the test";; esac
  sc_write syn_drop_rate 1
  sent=$(flood cl1 "$VIP" 80 30)
  expect_eq "$sent" 30 "spoofed SYNs sent"
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
# 6b. known_client_ttl: a known client passes the rate only for ttl seconds after its last
#     handshake, and 0 turns the bypass off even for a client remembered earlier.
known_client_ttl_expires_and_0_disables() {
  local kp d i
  # One connection attempt from cl1, failing fast (2 s) when its SYNs are dropped.
  try_cl1() { "$LOADGEN" req --netns "cl1-$NS_SUFFIX" --dst "$VIP:80" --timeout-ms 2000 2>&1; }
  setup_svc
  sc_write amemthresh 0; sc_write defense_level 2; sc_write syn_drop_rate 0
  sc_write known_client_ttl 6
  case "$(try_cl1)" in "rs"[12]" $CL1") ;; *) fail "cl1 could not connect at rate 0";; esac
  sc_write syn_drop_rate 1
  kp=$(drops known_client_passes)
  case "$(try_cl1)" in "rs"[12]" $CL1") ;; *) fail "cl1, known for 6 s, dropped at rate 1";; esac
  expect_eq "$(drops known_client_passes)" "$((kp + 1))" "known_client_passes within the ttl"
  # Past the ttl of its last handshake: a stranger again.
  nap 7
  kp=$(drops known_client_passes) d=$(drops syn_rate_drops)
  try_cl1 >/dev/null && fail "cl1 got in at rate 1 7 s after its last handshake (known_client_ttl 6)"
  expect_eq "$(drops known_client_passes)" "$kp" "known_client_passes past the ttl"
  [ "$(drops syn_rate_drops)" -gt "$d" ] || fail "cl1's SYNs past the ttl were not dropped by the rate"
  # Remembered for an hour, then ttl 0: no bypass; ttl back: the bypass again.
  sc_write syn_drop_rate 0; sc_write known_client_ttl 3600
  case "$(try_cl1)" in "rs"[12]" $CL1") ;; *) fail "cl1 could not connect at rate 0";; esac
  sc_write known_client_ttl 0; sc_write syn_drop_rate 1
  kp=$(drops known_client_passes)
  try_cl1 >/dev/null && fail "cl1 got in at rate 1 with known_client_ttl 0"
  expect_eq "$(drops known_client_passes)" "$kp" "known_client_passes with known_client_ttl 0"
  sc_write known_client_ttl 3600
  case "$(try_cl1)" in "rs"[12]" $CL1") ;; *) fail "cl1, remembered for an hour, dropped once the ttl is back";; esac
  diag "known_client_ttl 6: cl1 passed rate 1 at once, not 7 s after its last handshake;" \
    "ttl 0: no pass for a client remembered for an hour, which passes again with ttl 3600"
  sc_write syn_drop_rate 0; sc_write known_client_ttl 300
}

defense_shows_sysctl_counters() {
  local shown
  shown=$(ipvsdadm --defense | awk '$1 == "syn_rate_drops" || $1 == "known_client_passes" { printf "%s ", $2 }')
  expect_eq "$shown" "$(sc syn_rate_drops) $(sc known_client_passes) " "ipvsdadm --defense against the sysctls"
}

# 4. With the table full (conn_max 40, level 2), half-open entries are evicted and each
#    evicted entry's server (rs1 or rs2) gets a reset; a real client still connects.
full_table_evicts_half_open() {
  local sent n ev tf ans rsts rsts1 rsts2 held i
  setup_svc
  # A real connection held ESTABLISHED through the flood: the oldest entry of all, never
  # a victim (only half-open entries are). The server speaks first: at level 2 only the
  # real server's data or ACK establishes an entry.
  rs_serve 8082 'echo hi; sleep 60'
  adm -A -t "$VIP:82" -s rr; adm -a -t "$VIP:82" -r "$RS1:8082" -m
  sleep 60 | in_ns cl2 timeout 60 socat - TCP:"$VIP:82",sourceport=40082,reuseaddr,connect-timeout=10 \
    >/dev/null 2>&1 &
  held=$!
  for ((i = 0; i < 60; i++)); do conn_entry 82 "$CL2:40082" ESTABLISHED >/dev/null && break; nap 0.5; done
  conn_entry 82 "$CL2:40082" ESTABLISHED >/dev/null || fail "the held connection did not get ESTABLISHED"
  sc_write amemthresh 0; sc_write defense_level 2; sc_write syn_drop_rate 0
  sc_write conn_max 40
  cap_start rst "tcp[tcpflags] & tcp-rst != 0 and src net 198.18.0.0/15" rs1 rs2
  sent=$(flood cl1 "$VIP" 80 150)
  nap 1
  conn_entry 82 "$CL2:40082" ESTABLISHED >/dev/null ||
    fail "the ESTABLISHED entry of the held connection is gone after the flood's evictions"
  n=$(entries)
  ev=$(drops entry_evictions); tf=$(drops table_full)
  [ "$n" -le 40 ] || fail "$n entries with conn_max 40"
  [ "$ev" -ge 100 ] || fail "only $ev evictions for $sent SYNs into a 40-entry table"
  expect_eq "$tf" 0 "table_full while half-open entries could be evicted"
  ans=$(tcp_req cl2 80)
  case "$ans" in "rs"[12]" $CL2") ;; *) fail "a real client failed with the table full of half-open entries: '$ans'";; esac
  cap_stop rst
  rsts1=$(pcap_count /tmp/rst.rs1.pcap "tcp"); rsts2=$(pcap_count /tmp/rst.rs2.pcap "tcp"); rsts=$((rsts1 + rsts2))
  [ "$rsts1" -gt 0 ] || fail "rs1 received no reset for evicted entries"
  [ "$rsts2" -gt 0 ] || fail "rs2 received no reset for evicted entries"
  [ "$rsts" -ge "$ev" ] || fail "$rsts resets at the servers for $ev evictions"
  diag "conn_max 40: $sent SYNs, $ev evictions, table_full $tf, $n entries, resets: rs1 $rsts1," \
    "rs2 $rsts2 (zombie_replies $(drops zombie_replies)); a real client connected; the held" \
    "connection's entry still ESTABLISHED"
  ip netns pids "$(ns_name cl2)" | xargs -r kill 2>/dev/null; wait $held 2>/dev/null
  sc_write defense_level 0
}

# 4b. A reset to an evicted entry's real server follows the route rule: 20 spoofed SYNs
#     fill a 20-entry table through VIP:80 (rs1 and rs2 in turn), rs1's route becomes a
#     prohibit route, and 20 more SYNs to VIP:83 (rs2 alone) evict those 20. The resets to
#     rs2 are sent; those to rs1 are not, each counted under route_errors and logged
#     (rate-limited) as "reset not sent"; no reset reaches rs1.
eviction_reset_without_route() {
  local ev errs lines0 line rst1 rst2 old_max
  old_max=$(sc conn_max)
  line="no usable route to real server $RS1:8080 (EACCES): reset not sent"
  setup_svc
  adm -A -t "$VIP:83" -s rr; adm -a -t "$VIP:83" -r "$RS2:8080" -m
  sc_write amemthresh 0; sc_write defense_level 2; sc_write syn_drop_rate 0
  sc_write conn_max 20
  # The first 20 outlive the scenario: only eviction may take them.
  sc_write defense_timeout_syn_recv 900; sc_write defense_timeout_synack 900
  expect_eq "$(flood cl1 "$VIP" 80 20 --seed 11)" 20 "SYNs sent to $VIP:80"
  nap 1
  expect_eq "$(entries)" 20 "entries after 20 SYNs"
  ip route replace prohibit "$RS1/32"
  lines0=$(dmesg | grep -c "$line")
  cap_start rst "tcp[tcpflags] & tcp-rst != 0 and src net 198.18.0.0/15" rs1 rs2
  expect_eq "$(flood cl1 "$VIP" 83 20 --seed 12)" 20 "SYNs sent to $VIP:83"
  nap 1
  cap_stop rst
  ip route del prohibit "$RS1/32"
  ev=$(drops entry_evictions); errs=$(drops route_errors)
  rst1=$(pcap_count /tmp/rst.rs1.pcap tcp); rst2=$(pcap_count /tmp/rst.rs2.pcap tcp)
  sc_write defense_timeout_syn_recv 10; sc_write defense_timeout_synack 60
  sc_write conn_max "$old_max"
  expect_eq "$ev" 20 "evictions for 20 SYNs into a table full of 20 half-open entries"
  expect_eq "$rst1" 0 "resets at rs1, which the director has no route to"
  expect_eq "$errs" 10 "route_errors: resets not sent to rs1 (rr gave it 10 of the 20 victims)"
  [ "$rst2" -ge 10 ] || fail "$rst2 resets at rs2 for its 10 evicted entries"
  [ "$(dmesg | grep -c "$line")" -gt "$lines0" ] || fail "no log line '$line'"
  diag "20 evictions: $rst2 resets sent to rs2, $errs not sent to rs1 (no route), each counted and logged"
}

# 5. The oldest half-open entry goes first, and its reset frees the server's SYN-RECV slot.
#    Victim (director/table.rs, Table::evict_half_open): the front of the shard whose
#    queue front was created at the earliest tick (jiffies); a shard queues its entries as
#    they become half-open, and a shard whose front is stale (entry flushed, expired or
#    past half-open) drops those records and is weighed again. Earlier scenarios and
#    setup_svc's flush leave stale records, which this scenario must see through. One SYN
#    each from 198.18.0.N ("N" below), 10 ms apart (ticks differ),
#    to VIP:81, served by rs1:8081 alone: SYNs 1-40 fill a 40-entry table, SYNs 41-55
#    evict 1-15, in that order.
#    rs1 must hold a SYN-RECV socket for every SYN, or a freed one proves nothing: listen
#    backlog 1024 (socat's default is 5) and tcp_max_syn_backlog 4096 hold them all,
#    tcp_syncookies 0 never answers with a cookie (no socket), tcp_synack_retries 10 keeps
#    them past the default ~63 s.
RS1_TCP="net.ipv4.tcp_syncookies net.ipv4.tcp_max_syn_backlog net.core.somaxconn net.ipv4.tcp_synack_retries"
# One SYN (port 40000, sequence number 1000, as craft.py's) from each of COUNT
# consecutive sources from FIRST to VIP:81, 10 ms apart; prints how many it sent.
paced_syns() { # first count
  in_ns cl1 python3 -S - "$IPVSD_TOP/selftests" "$VIP" 81 "$1" "$2" <<'EOF'
import socket, struct, sys, time
sys.path.insert(0, sys.argv[1])
from craft import segment
dst, dport, count = sys.argv[2], int(sys.argv[3]), int(sys.argv[5])
first = struct.unpack("!I", socket.inet_aton(sys.argv[4]))[0]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
for i in range(count):
    src = socket.inet_ntoa(struct.pack("!I", first + i))
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 0, 0, 0x4000, 64, 6, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    s.sendto(ip + segment(src, dst, 40000, dport, 0x02), (dst, 0))
    time.sleep(0.01)
print(count)
EOF
}
# The N of the peers 198.18.0.N that rs1 holds in SYN-RECV on port 8081, ascending.
syn_recv_at_rs1() {
  in_ns rs1 ss -Htan state syn-recv 'sport = :8081' |
    awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^198\.18\.0\.[0-9]+:/) { split($i, a, /[.:]/); n[a[4]] = 1 } }
      END { for (i = 1; i < 256; i++) if (i in n) s = s " " i; print substr(s, 2) }'
}
full_table_evicts_oldest_first() {
  local rs1_was= cap syns rsts badseq kept sr0 sr1 i names was back=()
  setup_svc
  adm -A -t "$VIP:81" -s rr; adm -a -t "$VIP:81" -r "$RS1:8081" -m
  names=($RS1_TCP) was=($(in_ns rs1 sysctl -n $RS1_TCP))
  for i in "${!names[@]}"; do back+=("${names[i]}=${was[i]}") rs1_was+=" ${names[i]##*.} ${was[i]},"; done
  in_ns rs1 sysctl -qw net.ipv4.tcp_syncookies=0 net.ipv4.tcp_max_syn_backlog=4096 \
    net.core.somaxconn=4096 net.ipv4.tcp_synack_retries=10 || fail "rs1's TCP sysctls refused"
  in_ns rs1 socat TCP-LISTEN:8081,backlog=1024,reuseaddr,fork SYSTEM:true >/dev/null 2>&1 &
  wait_listen rs1 8081
  sc_write amemthresh 0; sc_write defense_level 2; sc_write syn_drop_rate 0
  sc_write defense_timeout_syn_recv 900; sc_write defense_timeout_synack 900
  sc_write conn_max 40
  cap_start ord "tcp dst port 8081 and src net 198.18.0.0/15" rs1
  expect_eq "$(paced_syns 198.18.0.1 40)" 40 "SYNs sent to fill the table"
  nap 1
  expect_eq "$(entries)" 40 "entries after 40 SYNs with conn_max 40"
  sr0=$(syn_recv_at_rs1)
  expect_eq "$sr0" "$(echo {1..40})" "rs1's SYN-RECV peers before eviction (all 40, or the test shows nothing)"
  expect_eq "$(paced_syns 198.18.0.41 15)" 15 "SYNs sent into the full table"
  nap 1
  cap_stop ord
  expect_eq "$(drops entry_evictions)" 15 "evictions for 15 SYNs into the full table"
  expect_eq "$(drops table_full)" 0 "table_full"
  # What rs1 received, in order: SYNs and the eviction resets (sequence number 1001, the
  # client's initial one plus 1).
  cap=$(cap_print ord | awk '$3 ~ /^198\.18\.0\./ { split($3, a, ".")
      if ($7 == "[S],") s = s " " a[4]; else if ($7 == "[R],") { r = r " " a[4]; if ($9 != "1001,") b++ } }
    END { print substr(s, 2) "|" substr(r, 2) "|" b + 0 }')
  IFS='|' read -r syns rsts badseq <<< "$cap"
  expect_eq "$syns" "$(echo {1..55})" "SYNs at rs1, in order"
  expect_eq "$rsts" "$(echo {1..15})" "eviction resets at rs1, in order (the oldest first)"
  expect_eq "$badseq" 0 "resets at rs1 with a sequence number other than 1001"
  kept=$(ipvsdadm -L -n -c | awk -v v="$VIP:81" '$5 == v && $4 ~ /^198\.18\.0\./ { split($4, a, /[.:]/); n[a[4]] = 1 }
    END { for (i = 1; i < 256; i++) if (i in n) s = s " " i; print substr(s, 2) }')
  expect_eq "$kept" "$(echo {16..55})" "sources of the entries left"
  sr1=$(syn_recv_at_rs1)
  expect_eq "$sr1" "$(echo {16..55})" "rs1's SYN-RECV peers after eviction"
  diag "rs1 had${rs1_was%,}; set 0, 4096, 4096, 10 and listen backlog 1024 (socat's 5)"
  diag "conn_max 40: SYNs from sources 1-40 then 41-55: 15 evictions, resets at rs1 for 1-15" \
    "in order; entries and rs1's SYN-RECV sockets: before 1-40, after 16-55"
  in_ns rs1 sysctl -qw "${back[@]}"
  sc_write defense_timeout_syn_recv 10; sc_write defense_timeout_synack 60; sc_write defense_level 0
}

run_test automatic_switching automatic_switching
run_test blind_acks_pass_at_level_0 blind_acks_pass_at_level_0
run_test blind_acks_dropped_at_level_2 blind_acks_dropped_at_level_2
run_test local_real_server_under_defense local_real_server_under_defense
run_test syn_drop_rate_one_in_four syn_drop_rate_one_in_four
run_test syn_drop_rate_on_both_cpus syn_drop_rate_on_both_cpus
run_test automatic_syn_drop_rate automatic_syn_drop_rate
run_test known_client_passes_at_rate_1 known_client_passes_at_rate_1
run_test known_client_ttl_expires_and_0_disables known_client_ttl_expires_and_0_disables
run_test defense_shows_sysctl_counters defense_shows_sysctl_counters
run_test full_table_evicts_half_open full_table_evicts_half_open
run_test eviction_reset_without_route eviction_reset_without_route
run_test full_table_evicts_oldest_first full_table_evicts_oldest_first
finish
