#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# timeout: 2400
# rmmod, and an init that fails, while the heaviest load the guest makes runs through the
# hooks: TCP and UDP streams through the VIP and a spoofed SYN flood (sources in
# 198.18.0.0/15), with connection entries live, and pings through the director.
# - 8 rounds of insmod, configure, rmmod under that load;
# - the `slow_hook` build (every hook call spins 1 ms first, so that rmmod always meets a
#   hook running on the other CPU, which the normal build's rounds meet only by chance):
#   5 rounds, 13 in all;
# - the `init` build (init fails at its last registration, with slow hooks): insmod fails
#   cleanly 3 times, then the normal module loads and serves a connection.
# No KASAN, lockdep or other report (the runner checks dmesg), no leak (kmemleak).
#
# Topology: lib.sh's; the flood's replies are routed to cl2, which drops them.
. "$(dirname "$0")/lib.sh"
plan 6
FAULT_DIR=${FAULT_DIR:-$IPVSD_TOP/out}
for f in slow_hook init; do
  [ -f "$FAULT_DIR/fault-$f/ipvs_defense.ko" ] ||
    fail "no fault build $FAULT_DIR/fault-$f/ipvs_defense.ko (scripts/test.sh builds it)"
done
mod_unload; topo_setup
leak_begin
trap 'kill $(jobs -p) 2>/dev/null; wait; mod_unload; topo_cleanup' EXIT
sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.br-cl.rp_filter=0
ip route add 198.18.0.0/15 via "$CL2" || fail "could not route the spoofed range to cl2"
in_ns rs1 socat -u TCP-LISTEN:8080,fork,reuseaddr OPEN:/dev/null >/dev/null 2>&1 &
in_ns rs1 socat -u UDP-LISTEN:5353,reuseaddr OPEN:/dev/null >/dev/null 2>&1 &
wait_listen rs1 8080; wait_listen rs1 5353 u
in_ns cl2 ping -c 1 -W 5 "$RS1" >/dev/null || fail "client cannot reach rs1 through the director"

# The load, bounded in time (LOAD_SECONDS) and restarted while the module is away. At
# the lowest priority: it takes every cycle the test's own steps (insmod, configure, rmmod)
# leave, and those do not wait behind it.
LOAD_SECONDS=1500
load() {
  timeout $LOAD_SECONDS nice -n 19 ip netns exec "$(ns_name cl2)" ping -q -i 0.01 "$RS1" >/dev/null 2>&1 &
  timeout $LOAD_SECONDS nice -n 19 ip netns exec "$(ns_name cl1)" sh -c \
    "while :; do head -c 50000000 /dev/zero | socat -u - TCP:$VIP:80,connect-timeout=2; sleep 0.2; done" \
    >/dev/null 2>&1 &
  timeout $LOAD_SECONDS nice -n 19 ip netns exec "$(ns_name cl2)" sh -c \
    "while :; do head -c 20000000 /dev/zero | socat -u -b 512 - UDP:$VIP:53; sleep 0.2; done" \
    >/dev/null 2>&1 &
  flood_bg cl1 "$VIP" 80 $LOAD_SECONDS
}

# One process for the whole configuration: under this load every start costs seconds.
configure() {
  printf '%s\n' "-A -t $VIP:80 -s rr" "-a -t $VIP:80 -r $RS1:8080 -m" \
    "-A -u $VIP:53 -s rr" "-a -u $VIP:53 -r $RS1:5353 -m" | "$IPVSDADM" -R
}

# One round: load KO, configure, wait for traffic and entries, rmmod.
round() { # ko label
  local i fw li e t0 t1 t2 t3 t4
  t0=${EPOCHREALTIME/./}
  insmod "$1" || fail "$2: insmod failed"
  t1=${EPOCHREALTIME/./}
  configure || fail "$2: could not configure the services"
  t2=${EPOCHREALTIME/./}
  for ((i = 0; i < 300; i++)); do
    read -r fw < "$SYSCTL/forward_packets"; read -r li < "$SYSCTL/local_in_packets"
    [ "$fw" -gt 100 ] && [ "$li" -gt 100 ] && break
    nap 0.1
  done
  e=$(entries)
  t3=${EPOCHREALTIME/./}
  rmmod ipvs_defense || fail "$2: rmmod failed"
  t4=${EPOCHREALTIME/./}
  [ "$fw" -gt 0 ] && [ "$li" -gt 0 ] && [ "$e" -gt 0 ] ||
    fail "$2: no traffic or entries before rmmod (local $li, forwarded $fw, entries $e)"
  diag "$2: unloaded with $e entries after $li local and $fw forwarded packets" \
    "(s: insmod $(secs $t0 $t1), configure $(secs $t1 $t2), traffic $(secs $t2 $t3), rmmod $(secs $t3 $t4))"
}
# Seconds with one decimal between two EPOCHREALTIME values in microseconds (no process start).
secs() { echo "$((($2 - $1) / 1000000)).$(((($2 - $1) / 100000) % 10))"; }

# 8 rounds of the normal module.
unload_under_traffic() {
  local r
  mod_unload
  for ((r = 1; r <= 8; r++)); do round "$KO" "round $r"; done
}

# 5 rounds of the slow_hook build: rmmod always meets a hook running on the other CPU.
unload_slow_hook_under_traffic() {
  local r
  mod_unload
  for ((r = 1; r <= 5; r++)); do round "$FAULT_DIR/fault-slow_hook/ipvs_defense.ko" "slow_hook round $r"; done
}

# The init build fails at its last registration: nothing may be left behind.
failed_init_under_traffic() {
  local r err
  mod_unload
  for r in 1 2 3; do
    err=$(insmod "$FAULT_DIR/fault-init/ipvs_defense.ko" 2>&1) && fail "the init fault build loaded"
    # The fault's own error (director/fault.rs), not a module that could not even link.
    case "$err" in *"No such device"*) ;; *) fail "insmod of the init fault build: '$err', not ENODEV" ;; esac
    mod_loaded && fail "a failed init left the module loaded"
    [ -e "$SYSCTL" ] && fail "a failed init left $SYSCTL behind"
  done
  diag "init failing at its last registration under load: 3 times, nothing left behind"
}

# The normal module loads and serves a connection after the failed inits.
serves_after_failed_inits() {
  mod_unload; mod_load
  configure || fail "could not configure the services after the failed inits"
  in_ns rs1 socat -t 10 TCP-LISTEN:8081,reuseaddr SYSTEM:"echo rs1" >/dev/null 2>&1 &
  wait_listen rs1 8081
  ipvsdadm -A -t "$VIP:81" -s rr && ipvsdadm -a -t "$VIP:81" -r "$RS1:8081" -m ||
    fail "could not add VIP:81"
  expect_eq "$(tcp_req cl1 81)" "rs1" "a connection after the failed inits"
}

no_leak_after_unloads() {
  mod_unload
  leak_check "13 unloads and 3 failed inits under load"
}

# The director still routes after the module is gone.
routes_after_last_rmmod() {
  mod_unload
  in_ns cl2 ping -c 1 -W 5 "$RS1" >/dev/null || fail "no routing after the last rmmod"
}

load
run_test unload_under_traffic unload_under_traffic
run_test unload_slow_hook_under_traffic unload_slow_hook_under_traffic
run_test failed_init_under_traffic failed_init_under_traffic
# The load ends (and rs1's sinks with it) before the module is loaded for good.
kill $(jobs -p) 2>/dev/null; wait 2>/dev/null
run_test serves_after_failed_inits serves_after_failed_inits
run_test no_leak_after_unloads no_leak_after_unloads
run_test routes_after_last_rmmod routes_after_last_rmmod
finish
