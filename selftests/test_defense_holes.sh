#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Segments that must not open or pin an entry (Documentation: the defense's rules):
# - only a SYN opens a TCP entry: a SYN with RST or FIN also set, a bare ACK and a bare FIN
#   open none and reach no real server;
# - level 2, conn_max 500: 2,000 spoofed SYN-then-FIN pairs (sources in 198.18.0.0/15,
#   the FIN without ACK) leave no spoofed entry past the half-open states (the FINs are
#   dropped and counted in blind_acks), so a real client still connects 20 times of 20;
# - level 0 (automatic), conn_max 500: a flood of 3,000 spoofed sources fills the table,
#   which engages defense by itself (memory stays plentiful), so a real client connects at
#   least 18 times of 20; the switch is logged once and counted, and the level returns to 0
#   once the flood's entries have expired.
#
# Topology: lib.sh's; the spoofed sources' replies are routed to cl2, which drops them.
. "$(dirname "$0")/lib.sh"
plan 3
CRAFT="python3 -S $IPVSD_TOP/selftests/craft.py"
mod_unload; topo_setup; mod_load
trap 'kill $(jobs -p) 2>/dev/null; wait; mod_unload; topo_cleanup' EXIT
rs_start
sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.br-cl.rp_filter=0
ip route add 198.18.0.0/15 via "$CL2" || fail "could not route the spoofed range to cl2"
sc_write amemthresh 0 || fail "amemthresh 0 refused"
MAX0=$(sc conn_max)

only_a_syn_opens_a_connection() {
  local sent
  setup_svc
  cap_start odd "tcp and src $CL1" rs1 rs2
  sent=$(in_ns cl1 $CRAFT "$VIP" 80 tcp_synrst tcp_synfin tcp_ack tcp_fin) || fail "craft.py failed"
  nap 1
  cap_stop odd
  expect_eq "$sent" 4 "crafted SYN|RST, SYN|FIN, ACK and FIN"
  expect_eq "$(entries)" 0 "entries after a SYN|RST, a SYN|FIN, an ACK and a FIN"
  expect_eq "$(cap_count odd)" 0 "segments of cl1 at the real servers"
  # The same client's plain SYN still opens one (the check above can see an entry).
  case "$(tcp_req cl1 80)" in "rs"[12]" $CL1") ;; *) fail "a real connection after them failed" ;; esac
  diag "SYN|RST, SYN|FIN, a bare ACK and a bare FIN: no entry, nothing at the servers; a plain connection works"
}

syn_then_fin_flood_pins_nothing() {
  local sent pinned halfopen ba ok i
  setup_svc
  sc_write defense_level 2 && sc_write conn_max 500 || fail "level 2, conn_max 500 refused"
  sent=$(flood cl1 "$VIP" 80 2000 --fin --seconds 120) || fail "the flooder failed"
  expect_eq "$sent" 2000 "SYN-then-FIN pairs sent"
  ipvsdadm -L -n -c > /tmp/holes.conns || fail "connection listing failed"
  pinned=$(awk '$4 ~ /^198\.1[89]\./ && $3 != "SYN_RECV" && $3 != "SYNACK"' /tmp/holes.conns | wc -l)
  halfopen=$(awk '$4 ~ /^198\.1[89]\./ && ($3 == "SYN_RECV" || $3 == "SYNACK")' /tmp/holes.conns | wc -l)
  ba=$(drops blind_acks)
  if [ "$pinned" != 0 ]; then
    awk '$4 ~ /^198\.1[89]\./' /tmp/holes.conns | awk '{ print $3 }' | sort | uniq -c | sed 's/^/# /'
    fail "$pinned spoofed entries past the half-open states after the SYN-then-FIN flood"
  fi
  [ "$halfopen" -gt 0 ] && [ "$halfopen" -le 500 ] ||
    fail "$halfopen half-open spoofed entries (expected 1..500: the flood filled the table)"
  [ "$ba" -ge 1000 ] || fail "blind_acks $ba: the flood's FINs were not dropped and counted"
  ok=$(tcp_req cl2 80 20 | grep -cxE "rs[12] $CL2")
  expect_eq "$ok" 20 "real connections after the flood, with the table full of its entries"
  diag "level 2, conn_max 500: 2000 SYN-then-FIN pairs: $halfopen half-open entries, 0 past them," \
    "blind_acks $ba, evictions $(drops entry_evictions); a real client connected 20 of 20"
  sc_write defense_level 0; sc_write conn_max "$MAX0" || fail "conn_max $MAX0 refused"
}

# Lines of dmesg that contain $1.
log_count() { dmesg | grep -c "$1"; }

full_table_engages_defense() {
  local sw0 up0 down0 flood i level full ok=0 engaged=0
  setup_svc
  sc_write defense_level 0 && sc_write amemthresh 2560 && sc_write conn_max 500 &&
    sc_write table_fill_high 90 && sc_write table_fill_low 70 || fail "sysctls refused"
  sw0=$(sc defense_switches)
  up0=$(log_count "defense level 0 -> 1 (connection table at its high watermark")
  down0=$(log_count "defense level 1 -> 0 (memory and connection table recovered")
  # The same 3,000 sources again and again (seeded), for as long as the client connects.
  flood_bg cl1 "$VIP" 80 300 --seed 7 --cycle 3000
  flood=$!
  # Up to 2 minutes: the flooder's start and pace vary with the load on the host.
  i=$((SECONDS + 120))
  while :; do full=$(entries); [ "$full" -ge 450 ] || [ $SECONDS -ge $i ] && break; nap 0.5; done
  # The clients' floor below means something only with the table at its high watermark.
  [ "$full" -ge 450 ] || fail "the flood filled only $full of 500 entries before the clients"
  for ((i = 1; i <= 20; i++)); do
    case "$(tcp_req cl2 80)" in "rs"[12]" $CL2") ok=$((ok + 1)) ;; esac
    [ "$(sc defense_level)" = 1 ] && engaged=1
  done
  kill $flood 2>/dev/null; wait $flood 2>/dev/null
  ip netns pids "$(ns_name cl1)" | xargs -r kill 2>/dev/null
  diag "during the flood (from $full entries on): $ok of 20 real connections, $(entries) entries, evictions"     "$(drops entry_evictions), table_full $(drops table_full)"
  expect_eq "$engaged" 1 "defense engaged by itself during the flood"
  [ "$ok" -ge 18 ] || fail "only $ok of 20 real connections during the flood"
  for ((i = 1; i <= 180; i++)); do level=$(sc defense_level); [ "$level" = 0 ] && break; nap 1; done
  expect_eq "$level" 0 "the level 180 s after the flood (entries: $(entries))"
  expect_eq "$(( $(log_count "defense level 0 -> 1 (connection table at its high watermark") - up0 ))" 1     "logged switches to 1 on the table's fill"
  expect_eq "$(( $(log_count "defense level 1 -> 0 (memory and connection table recovered") - down0 ))" 1     "logged returns to 0"
  expect_eq "$(( $(sc defense_switches) - sw0 ))" 2 "counted switches"
  dmesg | grep "defense level" | tail -2 | sed 's/^/# /'
  diag "level 0, conn_max 500, 3000 spoofed sources: engaged by itself, $ok of 20 real" \
    "connections, back to 0 after ${i} s; one switch each way, logged and counted"
  sc_write amemthresh 0; sc_write conn_max "$MAX0" || fail "conn_max $MAX0 refused"
}

run_test only_a_syn_opens_a_connection only_a_syn_opens_a_connection
run_test syn_then_fin_flood_pins_nothing syn_then_fin_flood_pins_nothing
run_test full_table_engages_defense full_table_engages_defense
finish
