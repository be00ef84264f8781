#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The data path, section by section (issue 5's "must show"):
# - conn_max=100 and 150 new connections: 100 entries, table_full 50;
# - lc sends new connections to the idle real server; wlc weighs each server's connections
#   by its weight;
# - a connection walks SYN_RECV -> ESTABLISHED -> FIN_WAIT/CLOSE_WAIT -> TIME_WAIT/CLOSE in
#   the connection dump, and its TIME_WAIT entry expires on time_wait's timeout;
# - each malformation of a packet for a service is dropped and counted under its reason,
#   and traffic to ports that are not services passes untouched;
# - a real server that is the director itself serves requests through the VIP;
# - a server's packet for an expired entry is a zombie (resurrect=0), or brings the entry
#   back (resurrect=1) unless the server belongs to several services;
# - a don't-fragment datagram larger than the route's MTU gets ICMP fragmentation-needed,
#   which the client's stack takes (its route to the VIP learns the MTU).
. "$(dirname "$0")/lib.sh"
plan 11
CRAFT="python3 -S $IPVSD_TOP/selftests/craft.py"
mod_unload; topo_setup; mod_load
trap 'exec 3>&- 2>/dev/null; kill $(jobs -p) 2>/dev/null; wait; mod_unload; topo_cleanup' EXIT
rs_start
# The state and the seconds left of the (single) entry of virtual port $1 in the dump.
state_of() {
  local s
  s=$(conn_entry "$1") && echo "${s% *}"
}
wait_state() { # vport regex seconds: prints "STATE SECONDS_LEFT"
  local s i
  for ((i = 1; i <= $3 * 2; i++)); do
    s=$(state_of "$1")
    [[ ${s% *} =~ ^($2)$ ]] && { echo "$s"; return 0; }
    nap 0.5
  done
  echo "${s:-none}"; return 1
}
# The real server of the ESTABLISHED entry from client address:port $2 to VIP:$1, once
# there is one (waiting up to 30 s).
es_dest() { # vport client_addr:port
  local d i
  for ((i = 1; i <= 60; i++)); do
    d=$(conn_entry "$1" "$2" ESTABLISHED) && { echo "${d##* }"; return 0; }
    nap 0.5
  done
  return 1
}

# 1. A bounded table. Spoofed SYNs (replies go to cl2, which drops them) at defense level 0,
#    which stays 0 (amemthresh 0: no automatic switch on memory or the table's fill).
table_bounded_by_conn_max() {
  local max0 sent
  sc_write amemthresh 0 || fail "amemthresh 0 refused"
  sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.br-cl.rp_filter=0
  ip route add 198.18.0.0/15 via "$CL2"
  max0=$(sc conn_max)
  adm -A -t "$VIP:85" -s rr
  adm -a -t "$VIP:85" -r "$RS1:8080" -m
  adm -a -t "$VIP:85" -r "$RS2:8080" -m
  sc_write conn_max 100 || fail "conn_max=100 refused"
  sent=$(flood cl1 "$VIP" 85 150 --seconds 120)
  expect_eq "$sent" 150 "SYNs sent"
  nap 1
  expect_eq "$(entries)" 100 "entries with conn_max=100 after 150 new connections"
  expect_eq "$(drops table_full)" 50 "table_full after 150 new connections into 100"
  expect_eq "$(sc table_full)" 50 "the table_full sysctl"
  diag "conn_max=100: 150 new connections gave $(entries) entries and table_full $(drops table_full)"
  adm -C
  sc_write conn_max "$max0" || fail "conn_max=$max0 refused"
  expect_eq "$(entries)" 0 "entries after ipvsdadm -C"
}

# 2. lc: a connection held open at one server makes the other the least connected.
lc_picks_idle_server() {
  local rs held idle seq i ans want
  rs_serve 8083 'read l; echo NAME $SOCAT_PEERADDR'
  adm -A -t "$VIP:83" -s lc
  adm -a -t "$VIP:83" -r "$RS1:8083" -m
  adm -a -t "$VIP:83" -r "$RS2:8083" -m
  sleep 60 | in_ns cl2 timeout 60 socat - TCP:"$VIP:83",connect-timeout=20 >/dev/null 2>&1 &
  held=""
  for ((_k = 1; _k <= 60; _k++)); do
    held=$(ipvsdadm -L -n -c | awk -v v="$VIP:83" '!f && $5 == v && $3 == "ESTABLISHED" { print $6; f = 1 }')
    [ -n "$held" ] && break; nap 0.5
  done
  [ -n "$held" ] || fail "lc: the held connection did not get ESTABLISHED"
  idle=$RS2; [ "${held%:*}" = "$RS2" ] && idle=$RS1
  seq=""
  for i in 1 2 3 4; do
    ans=$(echo hi | in_ns cl1 timeout 20 socat -t 10 -T 10 - TCP:"$VIP:83",connect-timeout=10 2>&1)
    case "$ans" in "rs"[12]" $CL1") seq="$seq${ans:2:1}" ;; *) fail "lc: request $i: '$ans'" ;; esac
  done
  want=${idle##*.}; want=$((want - 1)); want="$want$want$want$want"
  expect_eq "$seq" "$want" "lc: servers of 4 requests while ${held%:*} holds a connection"
  diag "lc: with a connection held at ${held%:*}, 4 requests went to $idle ($seq)"
}

# 2b. wlc (logic/sched/lc.rs, pick_wlc): the least overhead (active x 256 + inactive) per
#     weight, ties to the first in the list. rs1 weight 1, rs2 weight 4. Held connections:
#     the first goes to rs1 (0/1 = 0/4), the second to rs2 (256/1 > 0/4). Then short
#     requests all go to rs2: (256 + k)/4 < 256/1 for its k < 768 closed ones. lc, without
#     the weights, would compare 256 + k with 256: rs1 (the tie), then rs2, rs1, rs2.
wlc_weighs_active_connections() {
  local rs h1 h2 d act seq="" i ans
  rs_serve 8088 'read l; echo NAME $SOCAT_PEERADDR'
  adm -A -t "$VIP:88" -s wlc
  adm -a -t "$VIP:88" -r "$RS1:8088" -m -w 1
  adm -a -t "$VIP:88" -r "$RS2:8088" -m -w 4
  hold_conn cl2 88 40881 5; h1=$HELD_PID
  d=$(es_dest 88 "$CL2:40881") || fail "wlc: the first held connection did not get ESTABLISHED"
  expect_eq "$d" "$RS1:8088" "wlc: server of the first held connection"
  hold_conn cl2 88 40882 6; h2=$HELD_PID
  d=$(es_dest 88 "$CL2:40882") || fail "wlc: the second held connection did not get ESTABLISHED"
  expect_eq "$d" "$RS2:8088" "wlc: server of the second held connection"
  act=$(ipvsdadm -L -n --json | jq -r '.services[] | select(.protocol == "TCP" and .port == 88) |
    [.real_servers[] | "\(.address) \(.active_conns)"] | join(", ")')
  expect_eq "$act" "$RS1 1, $RS2 1" "wlc: active connections before the short requests"
  for i in 1 2 3 4; do
    ans=$(echo hi | in_ns cl1 timeout 20 socat -t 10 -T 10 - TCP:"$VIP:88",connect-timeout=10 2>&1)
    case "$ans" in "rs"[12]" $CL1") seq="$seq${ans:2:1}" ;; *) fail "wlc: request $i: '$ans'" ;; esac
  done
  expect_eq "$seq" 2222 "wlc: servers of 4 requests while rs1 (weight 1) and rs2 (weight 4) hold one each"
  exec 5>&- 6>&-
  wait "$h1" "$h2"
  diag "wlc: held connections went to rs1 then rs2; with one active at each, 4 requests went to $seq (lc would give 1212)"
}

# 3. States, the cells of the normal table (Documentation/ipvs-defense.rst, "States and
#    timeouts"): SYN_RECV while rs1 cannot answer (INPUT syn), ESTABLISHED once it can
#    (INPUT ack at SR), CLOSE_WAIT after the client's FIN (INPUT fin at ES), TIME_WAIT after
#    the server's (OUTPUT fin at CW; the client's last ACK keeps it), then gone on
#    time_wait's timeout. Each state's timeout sysctl is set to a value of its own, and
#    the entry must show it (less the seconds the polls take) in that state; the same
#    rows of the other set (defense_timeout_ at level 0, timeout_ while engaged) are set
#    far from them, so that an entry that took the wrong set fails.
walk_timeout_ok() { # "STATE SECONDS_LEFT" sysctl_value
  local left=${1#* }
  [ "$left" -le "$2" ] && [ "$left" -ge $(($2 - 20)) ] ||
    fail "states: ${1% *} entry expires in $left s with its timeout set to $2"
}
# Sets each row of SET (an associative array's name) under PREFIX, the same rows of the
# other set 300 s longer, and remembers every old value in OLD (another's name).
set_timeouts() { # prefix set old
  local -n want=$2 keep=$3
  local st other
  case $1 in timeout) other=defense_timeout ;; *) other=timeout ;; esac
  for st in "${!want[@]}"; do
    keep[$1_$st]=$(sc "$1_$st"); keep[${other}_$st]=$(sc "${other}_$st")
    sc_write "$1_$st" "${want[$st]}" || fail "$1_$st=${want[$st]} refused"
    sc_write "${other}_$st" $((want[$st] + 300)) || fail "${other}_$st refused"
  done
}
restore_timeouts() { # old
  local -n keep=$1
  local f
  for f in "${!keep[@]}"; do sc_write "$f" "${keep[$f]}"; done
}
# The walk with the timeouts under PREFIX, through VIP:VPORT to rs1:(8000 + VPORT).
tcp_state_walk() { # prefix vport
  local pre=$1 vport=$2 rsport=$((8000 + $2)) s walk left gone i
  local -A set=([syn_recv]=97 [established]=877 [close_wait]=67 [time_wait]=5) old=()
  [ "$pre" = defense_timeout ] && set[synack]=47
  set_timeouts "$pre" set old
  # The server closes 15 s after accepting (socat -t: not 0.5 s after the client's FIN).
  in_ns rs1 socat -t 15 TCP-LISTEN:$rsport,fork,reuseaddr SYSTEM:'sleep 15' >/dev/null 2>&1 &
  wait_listen rs1 $rsport
  adm -A -t "$VIP:$vport" -s rr
  adm -a -t "$VIP:$vport" -r "$RS1:$rsport" -m
  in_ns rs1 ip route add blackhole "$CL1/32"
  rm -f /tmp/walk.fifo; mkfifo /tmp/walk.fifo
  in_ns cl1 timeout 120 socat -T 100 - TCP:"$VIP:$vport",connect-timeout=60 </tmp/walk.fifo >/dev/null 2>&1 &
  exec 3>/tmp/walk.fifo
  s=$(wait_state $vport SYN_RECV 30) || fail "states: '$s' instead of SYN_RECV while rs1 cannot answer"
  walk_timeout_ok "$s" "${set[syn_recv]}"
  walk="$s"
  in_ns rs1 ip route del blackhole "$CL1/32"
  if [ "$pre" = defense_timeout ]; then
    # The secure table: SYNACK from the server's SYN+ACK until its first ACK or data (a
    # client's ACK never establishes), which the client's data draws.
    s=$(wait_state $vport SYNACK 40) || fail "states: '$s' instead of SYNACK while engaged"
    walk_timeout_ok "$s" "${set[synack]}"
    walk="$walk, $s"
    echo x >&3
  fi
  s=$(wait_state $vport ESTABLISHED 40) || fail "states: '$s' instead of ESTABLISHED"
  walk_timeout_ok "$s" "${set[established]}"
  walk="$walk, $s"
  exec 3>&-
  s=$(wait_state $vport CLOSE_WAIT 20) || fail "states: '$s' instead of CLOSE_WAIT after the client's FIN"
  walk_timeout_ok "$s" "${set[close_wait]}"
  walk="$walk, $s"
  s=$(wait_state $vport TIME_WAIT 40) || fail "states: '$s' instead of TIME_WAIT after the server's FIN"
  left=${s#* }
  [ "$left" -le 5 ] || fail "states: TIME_WAIT entry expires in $left s with ${pre}_time_wait=5"
  walk="$walk, $s"
  gone=""
  for ((i = 1; i <= 40; i++)); do [ -z "$(state_of $vport)" ] && { gone=$i; break; }; nap 0.5; done
  [ -n "$gone" ] || fail "states: the TIME_WAIT entry did not expire"
  restore_timeouts old
  diag "states (seconds left): $walk, then gone; ${pre}_: syn_recv 97,${set[synack]:+ synack ${set[synack]},}" \
    "established 877, close_wait 67, time_wait 5"
}

# 3b. The other closing cells, each state with its own timeout sysctl's value: the server
#     closes first (OUTPUT fin at ES: FIN_WAIT), the client's side held open; a client's
#     reset after the handshake (INPUT rst at ES: CLOSE).
tcp_close_states() { # prefix vport (VPORT for FIN_WAIT to rs1:(8000 + VPORT), VPORT + 1 for CLOSE)
  local pre=$1 v1=$2 v2=$(($2 + 1)) s seen
  local -A set=([fin_wait]=57 [close]=37) old=()
  set_timeouts "$pre" set old
  in_ns rs1 socat TCP-LISTEN:$((8000 + v1)),fork,reuseaddr SYSTEM:'echo x' >/dev/null 2>&1 &
  in_ns rs1 socat TCP-LISTEN:$((8000 + v2)),fork,reuseaddr SYSTEM:'sleep 20' >/dev/null 2>&1 &
  wait_listen rs1 $((8000 + v1)); wait_listen rs1 $((8000 + v2))
  adm -A -t "$VIP:$v1" -s rr; adm -a -t "$VIP:$v1" -r "$RS1:$((8000 + v1))" -m
  adm -A -t "$VIP:$v2" -s rr; adm -a -t "$VIP:$v2" -r "$RS1:$((8000 + v2))" -m
  # rs1 writes a line and closes; the client keeps its side open (socat -t 10).
  hold_conn cl1 $v1 $((40000 + v1)) 5
  s=$(wait_state $v1 FIN_WAIT 20) || fail "states: '$s' instead of FIN_WAIT after the server's FIN"
  walk_timeout_ok "$s" "${set[fin_wait]}"
  seen=$s
  exec 5>&-
  in_ns cl1 python3 -S -c 'import socket, struct, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()' "$VIP" $v2 || fail "the client could not connect to $VIP:$v2"
  s=$(wait_state $v2 CLOSE 20) || fail "states: '$s' instead of CLOSE after the client's reset"
  walk_timeout_ok "$s" "${set[close]}"
  restore_timeouts old
  diag "states (seconds left): $seen (the server closed first), $s (the client's reset); ${pre}_: fin_wait 57, close 37"
}

tcp_state_walk_and_expiry() { tcp_state_walk timeout 84; }
tcp_close_states_timeouts() { tcp_close_states timeout 91; }

# 3c. The same cells with the defense engaged (level 2): each state takes its
#     defense_timeout_ value, and the secure table passes SYNACK (its own timeout) between
#     SYN_RECV and ESTABLISHED. The level is restored whatever the outcome.
tcp_states_engaged_timeouts() {
  local lvl rc
  lvl=$(sc defense_level)
  sc_write defense_level 2 || fail "defense_level 2 refused"
  (tcp_state_walk defense_timeout 94 && tcp_close_states defense_timeout 95)
  rc=$?
  sc_write defense_level "$lvl"
  return $rc
}

# 4. Malformed packets for a service, one of each kind the kernel lets reach LOCAL_IN (it
#    drops bad IPv4 headers, and reassembles fragments, before): each counted by reason.
malformed_counted_by_reason() {
  local m0 kinds sent k
  adm -A -t "$VIP:86" -s rr
  adm -a -t "$VIP:86" -r "$RS1:8080" -m
  adm -A -u "$VIP:86" -s rr
  adm -a -u "$VIP:86" -r "$RS1:5353" -m
  m0=$(drops malformed)
  kinds="tcp_truncated tcp_bad_data_offset tcp_header_beyond_segment udp_truncated udp_bad_length"
  sent=$(in_ns cl1 $CRAFT "$VIP" 86 $kinds)
  expect_eq "$sent" 5 "malformed packets sent"
  nap 1
  for k in $kinds; do expect_eq "$(sc malformed_$k)" 1 "malformed_$k"; done
  expect_eq "$(drops malformed)" $((m0 + 5)) "malformed drops"
  dmesg | grep -q "malformed packet for a service dropped: tcp_bad_data_offset" || fail "no log line naming the reason"
  diag "malformed: $kinds each counted once"
}

# Not ours: the director's own port 7777 on the VIP address, and cl1 -> rs1:9001 directly
# (a port of no real server: a reply from a real server's port without an entry would be a
# zombie).
non_service_traffic_untouched() {
  local m0 fw0 ans
  m0=$(drops malformed)
  socat -t 10 TCP-LISTEN:7777,fork,reuseaddr SYSTEM:'echo director' >/dev/null 2>&1 &
  in_ns rs1 socat -t 10 TCP-LISTEN:9001,fork,reuseaddr SYSTEM:'echo rs1 $SOCAT_PEERADDR' >/dev/null 2>&1 &
  wait_listen - 7777; wait_listen rs1 9001
  fw0=$(drops route_errors)
  ans=$(in_ns cl1 timeout 20 socat -t 10 -T 10 - TCP:"$VIP:7777",connect-timeout=10 </dev/null 2>&1)
  expect_eq "$ans" director "answer of the director's own port 7777 on the VIP address"
  ans=$(in_ns cl1 timeout 20 socat -t 10 -T 10 - TCP:"$RS1:9001",connect-timeout=10 </dev/null 2>&1)
  expect_eq "$ans" "rs1 $CL1" "a direct connection to rs1:9001 (not through the VIP)"
  expect_eq "$(drops malformed)" "$m0" "malformed drops after normal traffic"
  diag "port 7777 and cl1 -> rs1:9001 untouched"
}

# 5. A real server that is the director itself (198.51.100.1:9090).
local_real_server() {
  local lo0 i ans
  socat -t 10 TCP-LISTEN:9090,bind="$DIR_RS",fork,reuseaddr SYSTEM:'echo local $SOCAT_PEERADDR' >/dev/null 2>&1 &
  wait_listen - 9090
  adm -A -t "$VIP:90" -s rr
  adm -a -t "$VIP:90" -r "$DIR_RS:9090" -m
  lo0=$(sc local_out_packets)
  for i in 1 2 3; do
    ans=$(tcp_req cl1 90)
    expect_eq "$ans" "local $CL1" "request $i to a local real server"
  done
  ipvsdadm -L -n -c | grep -qE "^TCP .*$CL1:[0-9]+ +$VIP:90 +$DIR_RS:9090" || fail "no entry for the local real server"
  [ "$(sc local_out_packets)" -gt "$lo0" ] || fail "local_out_packets did not grow"
  diag "local real server $DIR_RS:9090 served 3 requests through $VIP:90, its replies rewritten at LOCAL_OUT"
}

# 6. Resurrect. The server sends "a", waits 8 s, sends "b"; the entry expires in between
#    (timeout_established=2). resurrect=0: "b" is a zombie, dropped; resurrect=1: it brings
#    the entry back and reaches the client.
resurrect_expired_entry() {
  local r z0 got
  in_ns rs1 socat TCP-LISTEN:8087,fork,reuseaddr SYSTEM:'echo a; sleep 8; echo b' >/dev/null 2>&1 &
  wait_listen rs1 8087
  adm -A -t "$VIP:87" -s rr
  adm -a -t "$VIP:87" -r "$RS1:8087" -m
  sc_write timeout_established 2 || fail "timeout_established=2 refused"
  # 0, 1, then 1 with rs1:8087 in a second service too (VIP:89): which service the late
  # segment belongs to is then unknown, and it is a zombie again.
  for r in 0 1 1-shared; do
    sc_write resurrect ${r%-*} || fail "resurrect=${r%-*} refused"
    if [ $r = 1-shared ]; then
      adm -A -t "$VIP:89" -s rr; adm -a -t "$VIP:89" -r "$RS1:8087" -m
    fi
    z0=$(drops zombie_replies)
    got=$(sleep 25 | in_ns cl1 timeout 25 socat -T 20 - TCP:"$VIP:87",connect-timeout=10 2>/dev/null | tr '\n' ' ')
    case "$r:$got" in
      "0:a "|"1-shared:a ") [ "$(drops zombie_replies)" -gt "$z0" ] || fail "resurrect=$r: zombie_replies did not grow" ;;
      "1:a b ") ;;
      *) fail "resurrect=$r: the client got '$got'" ;;
    esac
    diag "resurrect=$r: the client got '$got'(zombie_replies $z0 -> $(drops zombie_replies))"
  done
  adm -D -t "$VIP:89"
  sc_write resurrect 2 >/dev/null && fail "resurrect=2 accepted"
  sc_write resurrect 0; sc_write timeout_established 900
}

# 7. Path MTU: the real servers' link at MTU 1000, a 1200-byte UDP datagram (DF set: Linux
#    sockets discover the path MTU by default).
path_mtu_frag_needed() {
  local seen
  adm -A -u "$VIP:53" -s rr
  adm -a -u "$VIP:53" -r "$RS1:5353" -m
  ip link set br-rs mtu 1000
  cap_start frag icmp cl1
  head -c 1200 /dev/zero | in_ns cl1 timeout 5 socat -u - UDP:"$VIP:53"
  cap_stop frag
  ip link set br-rs mtu 1500
  seen=$(cap_print frag)
  echo "$seen" | sed 's/^/#   /'
  echo "$seen" | grep -q "$VIP > $CL1: ICMP $VIP unreachable - need to frag (mtu 1000)" ||
    fail "no fragmentation-needed from the VIP for a 1200-byte DF datagram"
  in_ns cl1 ip route get "$VIP" | grep -q "mtu 1000" || fail "the client's route to the VIP did not learn MTU 1000"
  diag "a 1200-byte DF datagram to $VIP:53 over a 1000-byte path: fragmentation-needed (mtu 1000) reached the client, whose route learnt it"
}

run_test table_bounded_by_conn_max table_bounded_by_conn_max
run_test lc_picks_idle_server lc_picks_idle_server
run_test wlc_weighs_active_connections wlc_weighs_active_connections
run_test tcp_state_walk_and_expiry tcp_state_walk_and_expiry
run_test tcp_close_states_timeouts tcp_close_states_timeouts
run_test tcp_states_engaged_timeouts tcp_states_engaged_timeouts
run_test malformed_counted_by_reason malformed_counted_by_reason
run_test non_service_traffic_untouched non_service_traffic_untouched
run_test local_real_server local_real_server
run_test resurrect_expired_entry resurrect_expired_entry
run_test path_mtu_frag_needed path_mtu_frag_needed
finish
