#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Fuzzes the data path with 100,000 raw frames (selftests/pkt_fuzz.py), half from the
# client side at the VIP, half from the real server side from the real servers' ports:
# every TCP flag combination, bad checksums, truncated headers, lying lengths and data
# offsets, IPv4 options, fragments, ICMP errors quoting live entries and random quotes,
# mutations. Then checks:
# - nothing untranslated: a capture in cl1 and cl2 sees no packet from a real server
#   address:port (TCP rs1/rs2:8080, UDP rs1:5353), no fragment from a real server address
#   and no server ICMP error about a live entry untranslated; the same capture sees every
#   such error translated (from the VIP) and every well-formed packet from a port of no
#   real server (forwarded untouched), so it does see what reaches the clients;
# - the counters add up: each malformed_<reason> grew by at least the frames the fuzzer's
#   model says certainly reached the hook malformed, and by no more than that plus the
#   frames it cannot judge; the malformed drop counter is the sum of its reasons and of
#   the services' own; the hook counters, zombie_replies and the packets in (with the
#   drops of new flows) grew by at least what certainly reached them; each service's
#   counters are the sums of its real servers', and the director's are the services';
# - the director still works (a new TCP connection and a UDP request through the VIP),
#   the module unloads and nothing leaked (kmemleak); the runner checks dmesg.
# Topology: lib.sh's, with 198.18.0.0/15 (spoofed clients) routed to cl2, which drops
# what it gets. Three live entries (TCP from cl1 and cl2, UDP from cl1) are made first.
# The seed is fixed unless FUZZ_SEED is set (FUZZ_SEED=random draws one); it is printed.
# FUZZ_PKT_SELFTEST=1 also sends one datagram from rs1:5353 while that real server is
# removed from its service: the untranslated check must then fail.
# Under emulation (TCG, the debug test kernel) the director took about 620 frames/s: the
# fuzz took 180 s of a 350 s run.
# timeout: 900
. "$(dirname "$0")/lib.sh"
plan 7
SEED=${FUZZ_SEED:-513}
[ "$SEED" = random ] && SEED=$(( $(date +%s%N) % 1000000 ))
COUNT=${FUZZ_PKT_COUNT:-100000}
export PYTHONDONTWRITEBYTECODE=1
mod_unload; topo_setup; mod_load
trap 'kill $(jobs -p) 2>/dev/null; wait; mod_unload; topo_cleanup' EXIT
leak_begin
diag "seed $SEED (FUZZ_SEED=$SEED reproduces the run)"

# What must never reach a client: a packet from a real server address:port, a fragment
# from a real server address, a server's ICMP error about a live entry (quoted IP ID
# 0xfe5a, pkt_fuzz.py's MARKER) that was not translated.
UNTRANSLATED="(src host $RS1 and (tcp src port 8080 or udp src port 5353)) or
  (src host $RS2 and tcp src port 8080) or
  ((src host $RS1 or src host $RS2) and ip[6:2] & 0x3fff != 0) or
  (src net 198.51.100.0/24 and icmp and icmp[12:2] = 0xfe5a)"
# A server's error about a live entry, translated: from the VIP, quoting client -> VIP.
TRANSLATED_ICMP="src host $VIP and icmp and icmp[12:2] = 0xfe5a and icmp[24:4] = 0xc0000264"

setup() {
  sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.br-cl.rp_filter=0 \
    net.ipv4.conf.br-rs.rp_filter=0
  ip route add 198.18.0.0/15 via "$CL2" || fail "no route for the spoofed clients"
  # cl2 drops what it gets for them (it does not forward); the real servers' answers to
  # them end at the servers (under emulation each packet costs milliseconds).
  for ns in rs1 rs2; do in_ns $ns ip route add blackhole 198.18.0.0/15; done
  ipvsdadm -A -t "$VIP:80" -s rr && ipvsdadm -a -t "$VIP:80" -r "$RS1:8080" -m &&
    ipvsdadm -a -t "$VIP:80" -r "$RS2:8080" -m && ipvsdadm -A -u "$VIP:53" -s rr &&
    ipvsdadm -a -u "$VIP:53" -r "$RS1:5353" -m && ipvsdadm -Z ||
    fail "could not configure the services"
  # The live entries must outlive the fuzz however slow the machine: nothing refreshes
  # the UDP one, and a slow run lasts longer than its default timeout (300 s).
  ipvsdadm --set 0 0 1200 || fail "could not set the UDP timeout"
  sc_write defense_timeout_udp 1200 || fail "could not set defense_timeout_udp"
  # TCP servers that keep a connection until the client's end of data.
  rm -f /tmp/fz-ready.rs1 /tmp/fz-ready.rs2
  for rs in rs1 rs2; do
    "$LOADGEN" answer --netns "$rs-$NS_SUFFIX" --name $rs --port 8080 --seconds 3600 \
      --ready /tmp/fz-ready.$rs >/dev/null 2>&1 &
  done
  wait_file /tmp/fz-ready.rs1 && wait_file /tmp/fz-ready.rs2 || fail "the real servers did not start"
}

# Two held TCP connections (cl1, cl2) and a UDP entry (cl1, port 40053; nothing answers
# on rs1:5353 yet, which answers port unreachable), held for longer than the test may run.
live_start() {
  local ns
  for ns in cl1 cl2; do
    sleep 1000 | in_ns $ns timeout 1000 socat - TCP:"$VIP:80",connect-timeout=30 >/dev/null 2>&1 &
  done
  echo hi | in_ns cl1 timeout 10 socat -u - UDP:"$VIP:53",sourceport=40053 ||
    fail "could not send the UDP datagram of the live entry"
}

# Prints the live entries as pkt_fuzz.py's --live arguments once there are three (up to
# 60 s).
live_list() {
  local i live
  for ((i = 1; i <= 60; i++)); do
    live=$(ipvsdadm -L -n -c | awk '($1 == "TCP" && $3 == "ESTABLISHED") || $1 == "UDP" {
      split($4, c, ":"); split($6, d, ":"); printf "--live %s,%s,%s,%s,%s ", tolower($1), c[1], c[2], d[1], d[2] }')
    [ "$(echo "$live" | grep -o -- --live | wc -l)" -ge 3 ] && break
    nap 1
  done
  echo "$live"
}

# Reads every counter the checks use into the array named $1.
snapshot() { # array
  local -n s=$1
  local r json
  for r in $REASONS malformed zombie_replies table_full syn_rate_drops blind_acks \
    local_in_packets forward_packets; do
    s[$r]=$(sc "$r") || fail "no counter $r"
  done
  json=$(ipvsdadm --defense --json) || fail "ipvsdadm --defense --json failed"
  s[inpkts]=$(echo "$json" | jq -r .stats.inpkts)
}
REASONS=$(cd "$SYSCTL" && ls -d malformed_* | tr '\n' ' ')

setup
live_start
LIVE=$(live_list)
[ "$(echo "$LIVE" | grep -o -- --live | wc -l)" -ge 3 ] || fail "no three live entries after 60 s: '$LIVE'"
diag "live entries: $LIVE"
read -r MAC_CL < /sys/class/net/br-cl/address
read -r MAC_RS < /sys/class/net/br-rs/address
# Only what the clients receive (tcpdump -Q in): the fuzzer's own 50,000 frames from cl1
# are then not copied to the capture at all.
CAP_DIRECTION=in CAP_SECONDS=900 cap_start pkt "src net 198.51.100.0/24 or ($TRANSLATED_ICMP)" cl1 cl2
declare -A B A
snapshot B
t0=$(date +%s)
python3 -S "$IPVSD_TOP/selftests/pkt_fuzz.py" --seed "$SEED" --count "$COUNT" --seconds 600 --pool 10000 \
  --client-ns "$(ns_name cl1)" --client-gw-mac "$MAC_CL" --server-ns "$(ns_name rs1)" --server-gw-mac "$MAC_RS" \
  $LIVE > /tmp/pkt_fuzz.out 2>&1 || { sed 's/^/# fuzzer: /' /tmp/pkt_fuzz.out | tail -20; fail "pkt_fuzz.py failed"; }
grep -vE '^expect' /tmp/pkt_fuzz.out | sed 's/^/# fuzzer: /'
diag "fuzzer: $(( $(date +%s) - t0 )) s"
declare -A E
while read -r tag name value; do [ "$tag" = expect ] && E[$name]=$value; done < /tmp/pkt_fuzz.out
sent=$(awk '$1 == "frames" { print $2 }' /tmp/pkt_fuzz.out)
if [ "${FUZZ_PKT_SELFTEST:-0}" = 1 ]; then
  diag "self-test: one datagram from $RS1:5353 while that real server is out of its service"
  adm -d -u "$VIP:53" -r "$RS1:5353"
  echo leak | in_ns rs1 timeout 5 socat -u - UDP:"$CL1:9",sourceport=5353,reuseaddr
  adm -a -u "$VIP:53" -r "$RS1:5353" -m
fi
nap 2
cap_stop pkt
snapshot A
# The processes the top level started (the servers, the held connections), for
# no_leak_after_unload to end.
TOP_JOBS=$(jobs -p)

fuzzer_sent_every_frame() {
  expect_ge "${sent:-0}" "$COUNT" "frames sent"
  expect_eq "${E[flags_client]}" 256 "TCP flag combinations sent from the client side"
  expect_eq "${E[flags_server]}" 256 "TCP flag combinations sent from the server side"
}

# The entries the fuzzer's ICMP errors quote must have lived through the fuzz.
live_entries_outlived_fuzz() {
  local now e
  now=" $(live_list) "
  for e in $LIVE; do
    [ "$e" = --live ] || case "$now" in *" $e "*) ;; *) fail "live entry $e expired during the fuzz";; esac
  done
}

# 1. Nothing untranslated, and the capture saw what it must.
nothing_untranslated_at_clients() {
  local ns drop bad icmp_vip passed
  for ns in cl1 cl2; do
    drop=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel.*/\1/p' /tmp/pkt.$ns.err)
    expect_eq "${drop:-missing}" 0 "packets the capture in $ns lost"
  done
  bad=$(cap_count pkt "$UNTRANSLATED")
  if [ "$bad" -ne 0 ]; then
    cap_print pkt "$UNTRANSLATED" | head -10 | sed 's/^/#   /'
    fail "$bad untranslated packet(s) from a real server reached the client side"
  fi
  icmp_vip=$(cap_count pkt "$TRANSLATED_ICMP")
  passed=$(cap_count pkt "src host $RS1 and not ($UNTRANSLATED)")
  expect_eq "$icmp_vip" "${E[live_icmp_server]}" "server ICMP errors about live entries seen translated at the clients"
  expect_ge "$passed" "${E[passthrough_server]}" "packets from $RS1's other ports seen at the clients"
  diag "client side: no untranslated packet; $icmp_vip server ICMP errors about live entries translated (from the VIP); $passed packets from $RS1's other ports or ICMP passed untouched (at least ${E[passthrough_server]} expected)"
}

# 2. The counters add up.
d() { echo $(( ${A[$1]} - ${B[$1]} )); }
counters_add_up() {
  local sum=0 r got want opened
  for r in $REASONS; do
    got=$(d "$r"); want=${E[$r]:-missing}
    [ "$want" != missing ] || fail "the fuzzer gave no expectation for $r"
    [ "$got" -ge "$want" ] && [ "$got" -le $((want + E[unsure])) ] ||
      fail "$r grew by $got: expected $want (frames certainly malformed) to $((want + E[unsure])) (plus the frames the model cannot judge)"
    sum=$((sum + got))
    [ "$got" -eq 0 ] || diag "$r +$got (certain $want)"
  done
  # ICMP that does not parse is accepted untouched, never counted.
  expect_eq "$(d malformed_icmp_truncated) $(d malformed_icmp_bad_quote)" "0 0" "malformed ICMP counts"
  expect_eq "$(d malformed)" "$sum" "malformed drops against the sum of malformed_<reason>"
  expect_ge "$(d local_in_packets)" "${E[local_in_min]}" "LOCAL_IN packets"
  expect_ge "$(d forward_packets)" "${E[forward_min]}" "FORWARD packets"
  expect_ge "$(d zombie_replies)" "${E[zombies_min]}" "zombie_replies"
  opened=$(( $(d inpkts) + $(d table_full) + $(d syn_rate_drops) + $(d blind_acks) ))
  expect_ge "$opened" "${E[opens_min]}" "packets in plus table_full, syn_rate_drops and blind_acks"
  diag "malformed +$sum (certain: client ${E[malformed_client]}, server ${E[malformed_server]}; unsure frames ${E[unsure]}); LOCAL_IN +$(d local_in_packets) (>= ${E[local_in_min]}), FORWARD +$(d forward_packets) (>= ${E[forward_min]}), zombie_replies +$(d zombie_replies) (>= ${E[zombies_min]}), in/refused +$opened (>= ${E[opens_min]})"
}

# Services against their real servers, the director against its services (read again
# once on a mismatch: a packet may be counted between two reads of one dump).
scopes() {
  local l d
  l=$(ipvsdadm -L -n --stats --json) && d=$(ipvsdadm --defense --json) || return 2
  jq -rn --argjson l "$l" --argjson d "$d" '
    def sum(f): map(f) | add // 0;
    ($l.services | map(select(.stats.conns != (.real_servers | sum(.stats.conns))
      or .stats.inpkts != (.real_servers | sum(.stats.inpkts))
      or .stats.outpkts != (.real_servers | sum(.stats.outpkts)))
      | "\(.protocol) \(.address):\(.port)") | join(" ")) as $bad
    | [($l.services | sum(.stats.conns)), $d.stats.conns,
       ($l.services | sum(.stats.outpkts)), $d.stats.outpkts,
       ($l.services | sum(.stats.inpkts)), $d.stats.inpkts,
       ($l.services | sum(.drops.malformed)), $d.drops.malformed, $bad] | map(tostring) | join(" ")'
}
check_scopes() {
  read -r sc_conns g_conns sc_out g_out sc_in g_in sc_mal g_mal bad_svc <<< "$(scopes)"
  [ -n "$g_mal" ] || { why="could not read the counters"; return 1; }
  why=
  [ -z "$bad_svc" ] || why="service(s) whose counters are not their real servers' sums: $bad_svc"
  [ "$sc_conns" = "$g_conns" ] || why="$why; connections: services $sc_conns, director $g_conns"
  [ "$sc_out" = "$g_out" ] || why="$why; packets out: services $sc_out, director $g_out"
  [ "$g_in" -le "$sc_in" ] || why="$why; packets in: services $sc_in, director $g_in"
  [ "$sc_mal" -ge "${E[malformed_client]}" ] ||
    why="$why; the services' malformed $sc_mal below the client's certain ${E[malformed_client]}"
  [ $((g_mal - sc_mal)) -ge "${E[malformed_server]}" ] ||
    why="$why; malformed from real servers $((g_mal - sc_mal)) below the certain ${E[malformed_server]}"
  [ -z "$why" ]
}
service_counters_are_sums() {
  local sc_conns g_conns sc_out g_out sc_in g_in sc_mal g_mal bad_svc why
  check_scopes || { diag "counters: ${why#; } (reading again)"; nap 3; check_scopes; } ||
    fail "counters: ${why#; }"
  diag "services = sums of their real servers; director: $g_conns connections, $g_out packets out (= the services'), $g_in in (<= $sc_in), malformed $g_mal of which the services' $sc_mal"
}

# 3. The director still works.
director_works_after_fuzz() {
  local ns ip ans
  for ns in cl1 cl2; do
    ip=$CL1; [ $ns = cl2 ] && ip=$CL2
    ans=$(tcp_req $ns 80)
    case "$ans" in "rs1 $ip"|"rs2 $ip") ;; *) fail "TCP request from $ns after the fuzz: '$ans'" ;; esac
  done
  rm -f /tmp/fz-ready.udp
  "$LOADGEN" answer --netns "rs1-$NS_SUFFIX" --name rs1 --udp-port 5353 --seconds 3600 \
    --ready /tmp/fz-ready.udp >/dev/null 2>&1 &
  wait_file /tmp/fz-ready.udp || fail "rs1's UDP server did not start"
  ans=$(udp_req cl1 53)
  expect_eq "$ans" "rs1 $CL1" "UDP request after the fuzz"
  diag "after the fuzz: TCP from cl1 and cl2 and UDP from cl1 answered through the VIP"
}

# 4. Unload; nothing leaked.
no_leak_after_unload() {
  local ns pids i
  # The top level's jobs are not this scenario's: end them, and wait until nothing runs in
  # the namespaces any more (a server a job started outlives the job's shell).
  kill $TOP_JOBS 2>/dev/null
  for ((i = 1; i <= 150; i++)); do
    pids=
    for ns in cl1 cl2 rs1 rs2; do pids="$pids $(_ns_pids "$(ns_name $ns)")"; done
    [ -z "${pids//[[:space:]]/}" ] && break
    kill $pids 2>/dev/null
    nap 0.2
  done
  [ -z "${pids//[[:space:]]/}" ] || diag "still running after 30 s:$pids"
  mod_unload
  leak_check "the packet fuzz"
}

run_test fuzzer_sent_every_frame fuzzer_sent_every_frame
run_test live_entries_outlived_fuzz live_entries_outlived_fuzz
run_test nothing_untranslated_at_clients nothing_untranslated_at_clients
run_test counters_add_up counters_add_up
run_test service_counters_are_sums service_counters_are_sums
run_test director_works_after_fuzz director_works_after_fuzz
run_test no_leak_after_unload no_leak_after_unload
finish
