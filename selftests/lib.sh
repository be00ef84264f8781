#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Shared library of the guest tests: the test topology and small assertion helpers.
#
# Topology (the director is the guest's root namespace, ip_forward on; nothing leaves the
# guest, which has no NIC):
#
#   ns cl1  192.0.2.2/24  ──veth── 192.0.2.1   director (root ns)   198.51.100.1 ──veth── 198.51.100.2/24 ns rs1
#   ns cl2  192.0.2.3/24  ──┘ (bridge br-cl)                        198.51.100.1 ──┘(bridge br-rs) 198.51.100.3 ns rs2
#   ns gw   203.0.113.2/25 ──veth── 203.0.113.1 director (route tests; 203.0.113.128/25
#                                                 is for hosts behind gw)
#
# The VIP is 192.0.2.100, a local address of the director.

VIP=192.0.2.100
DIR_CL=192.0.2.1
DIR_RS=198.51.100.1
CL1=192.0.2.2
CL2=192.0.2.3
RS1=198.51.100.2
RS2=198.51.100.3
GW=203.0.113.2
DIR_GW=203.0.113.1
IPVSD_TOP=${IPVSD_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
KO=${KO:-$IPVSD_TOP/ipvs_defense.ko}
IPVSDADM=${IPVSDADM:-$IPVSD_TOP/target/release/ipvsdadm}
LOADGEN=${LOADGEN:-$IPVSD_TOP/target/release/loadgen}
GENL="python3 -S $IPVSD_TOP/selftests/genl.py"
SYSCTL=/proc/sys/net/ipvs_defense

export LC_ALL=C

# A diag line; with IPVSD_DIAG_TIMES (run_guest.sh sets it), also the seconds since the
# test began, into that file: where a test spends its time.
diag() {
  echo "# $*"
  [ -z "${IPVSD_DIAG_TIMES:-}" ] || echo "$SECONDS $*" >> "$IPVSD_DIAG_TIMES"
}
# fail and skip end the scenario that runs them (run_test runs each in a subshell), or the
# whole script outside one; the reason becomes the scenario's KTAP result.
fail() { echo "# FAIL: $*"; echo "$*" > "$_KTAP_REASON"; exit 1; }
skip() { echo "# SKIP: $*"; echo "$*" > "$_KTAP_REASON"; exit 4; }

# KTAP results, one per scenario, as log_test in tools/testing/selftests/net/lib.sh. A
# script declares its plan first (`plan N`), runs each scenario, a function, with
# `run_test NAME FUNCTION [ARGS]`, and ends with `finish`. A scenario runs in a subshell:
# its failure ends it and not the script, its background jobs are ended with it, and what it
# sets is not seen by the next one. An early exit leaves results missing from the plan,
# which run_guest.sh counts as failures.
_KTAP_REASON=/tmp/ktap-reason.$$
KTAP_NUM=0 KTAP_FAILED=0
plan() { echo "1..$1"; adm_batch_start; }
run_test() { # name function [args]
  local name=$1 rc reason; shift
  KTAP_NUM=$((KTAP_NUM + 1))
  # SCENARIOS="a b" runs only those (for working on one; `make test` runs every one).
  if [ -n "${SCENARIOS:-}" ] && [[ " $SCENARIOS " != *" $name "* ]]; then
    echo "ok $KTAP_NUM $name # SKIP not in SCENARIOS"
    return 0
  fi
  : > "$_KTAP_REASON"
  (trap 'kill $(jobs -p) 2>/dev/null; wait' EXIT; "$@")
  rc=$?
  reason=$(head -c 300 "$_KTAP_REASON" | head -1)
  case $rc in
    0) echo "ok $KTAP_NUM $name" ;;
    4) echo "ok $KTAP_NUM $name # SKIP $reason" ;;
    *) echo "not ok $KTAP_NUM $name # ${reason:-exit code $rc}"; KTAP_FAILED=1 ;;
  esac
}
finish() { rm -f "$_KTAP_REASON"; exit "$KTAP_FAILED"; }

# ipvsdadm for a configuration step: a failing step fails the scenario (or the script).
adm() { ipvsdadm "$@" || fail "ipvsdadm $*: exit $?"; }

# One ipvsdadm for the whole script: `plan` starts `ipvsdadm --batch` and the function
# ipvsdadm sends it each command and prints what comes back (a process start costs about a
# second under emulation, and a test runs ipvsdadm a hundred times). Being a function, it
# cannot follow `timeout` or `ip netns exec`, and its error line goes to the script's
# standard error whatever the caller redirects: those uses, and -R, run "$IPVSDADM". A
# token in a third pipe is the lock that keeps two users (a pipeline, a background job)
# from mixing their lines; without the batch (not started, ended, or an argument with
# a space in it), a new ipvsdadm runs the command.
adm_batch_start() {
  exec {_ADM_IN}<> <(:) {_ADM_OUT}<> <(:) {_ADM_LOCK}<> <(:)
  "$IPVSDADM" --batch <&"$_ADM_IN" >&"$_ADM_OUT" &
  _ADM_PID=$!
  printf x >&"$_ADM_LOCK"
}
_adm_alive() {
  local st
  [ -n "${_ADM_PID:-}" ] && read -r _ _ st _ < "/proc/$_ADM_PID/stat" && [ "$st" != Z ]
} 2>/dev/null
ipvsdadm() {
  local a l part="" rc=125 lines=()
  _adm_alive || { "$IPVSDADM" "$@"; return; }
  for a; do [[ -n $a && $a != *[[:space:]]* ]] || { "$IPVSDADM" "$@"; return; }; done
  read -r -N 1 -t 60 -u "$_ADM_LOCK" _ || { "$IPVSDADM" "$@"; return; }
  # What a user killed half-way through its answer left unread.
  while read -r -t 0 -u "$_ADM_OUT"; do IFS= read -r -t 1 -u "$_ADM_OUT" _ || break; done
  printf '%s\n' "$*" >&"$_ADM_IN"
  while :; do
    if IFS= read -r -t 5 -u "$_ADM_OUT" l; then
      l=$part$l part=""
      if [[ $l == "ipvsdadm-batch: exit "* ]]; then rc=${l##* }; break; fi
      lines+=("$l")
    elif _adm_alive; then
      part+=$l # a timeout keeps what it read of the line
    else
      echo "ipvsdadm --batch ended in the middle of 'ipvsdadm $*'" >&2; break
    fi
  done
  printf x >&"$_ADM_LOCK"
  # Printed once the answer is whole and the lock given back: a reader that stops early
  # (SIGPIPE) must not leave half an answer in the pipe.
  [ ${#lines[@]} -eq 0 ] || printf '%s\n' "${lines[@]}"
  return "$rc"
}

# The namespaces of the topology have names unique to each run (as setup_ns in the
# kernel's net/lib.sh); scripts name them cl1, cl2, rs1, rs2, gw and ns_name maps those.
# Exported: a script this one starts (a benchmark workload, the demo) uses the same ones.
[ -n "${NS_SUFFIX:-}" ] || printf -v NS_SUFFIX '%04x%04x' "$RANDOM" "$RANDOM"
export NS_SUFFIX
ns_name() { case $1 in cl1|cl2|rs1|rs2|gw) echo "$1-$NS_SUFFIX" ;; *) echo "$1" ;; esac; }

# Runs a command in a namespace (a topology name or any other), by nsenter: setns alone,
# where `ip netns exec` also makes a mount namespace and remounts /sys (a third of a second
# more for every command under emulation). So /sys shows the director's devices: a
# command that reads the namespace's own /sys/class/net runs under `ip netns exec`.
in_ns() {
  local ns=$1; shift
  case $ns in cl1|cl2|rs1|rs2|gw) ns=$ns-$NS_SUFFIX ;; esac
  nsenter --net="/run/netns/$ns" "$@"
}
# Sleeps without starting a process (a start costs a good part of a second under
# emulation): a read that times out on a pipe no one writes to.
exec {_NAP_FD}<> <(:)
nap() { read -r -t "$1" -u "$_NAP_FD" _ || :; }

# The topology is built and torn down by a few `ip -batch` runs (namespaces included): under
# emulation every exec costs a second or more, so one per command made each test spend
# ~100 s on set-up alone.
_ns_conf() { # ns addr/len gateway|-
  local ns=$1 addr=$2 gw=$3
  { echo "link set lo up"; echo "addr add $addr dev eth0"; echo "link set eth0 up"
    [ "$gw" = - ] || echo "route add default via $gw"; } | ip -n "$(ns_name "$ns")" -batch -
}

TOPO_NS="cl1 cl2 rs1 rs2 gw"

topo_setup() {
  topo_cleanup
  local ns
  # The namespaces are hosts, not routers, but a new namespace inherits ip_forward from
  # the root one: create them with it off (a client forwarding what the director routes to
  # it for the spoofed range would send it back, to and fro until its TTL ran out).
  echo 0 > /proc/sys/net/ipv4/ip_forward
  # Bridges forward at once (no STP learning delay).
  { for ns in $TOPO_NS; do echo "netns add $(ns_name $ns)"; done
    cat <<EOF
link set lo up
link add br-cl type bridge forward_delay 0 stp_state 0
link add br-rs type bridge forward_delay 0 stp_state 0
link set br-cl up
link set br-rs up
addr add $DIR_CL/24 dev br-cl
addr add $VIP/32 dev br-cl
addr add $DIR_RS/24 dev br-rs
link add v-cl1 type veth peer name eth0 netns $(ns_name cl1)
link add v-cl2 type veth peer name eth0 netns $(ns_name cl2)
link add v-rs1 type veth peer name eth0 netns $(ns_name rs1)
link add v-rs2 type veth peer name eth0 netns $(ns_name rs2)
link add v-gw type veth peer name eth0 netns $(ns_name gw)
link set v-cl1 master br-cl up
link set v-cl2 master br-cl up
link set v-rs1 master br-rs up
link set v-rs2 master br-rs up
addr add $DIR_GW/25 dev v-gw
link set v-gw up
EOF
  } | ip -batch - || fail "topology: ip -batch failed"
  echo 1 > /proc/sys/net/ipv4/ip_forward
  _ns_conf cl1 "$CL1/24" "$DIR_CL" || fail "topology: cl1"
  _ns_conf cl2 "$CL2/24" "$DIR_CL" || fail "topology: cl2"
  _ns_conf rs1 "$RS1/24" "$DIR_RS" || fail "topology: rs1"
  _ns_conf rs2 "$RS2/24" "$DIR_RS" || fail "topology: rs2"
  _ns_conf gw "$GW/25" - || fail "topology: gw"
}

# The processes in namespace $1 (what `ip netns pids` prints), found with builtins.
_ns_pids() {
  local p
  for p in /proc/[0-9]*; do
    [ "$p/ns/net" -ef "/run/netns/$1" ] && echo "${p#/proc/}"
  done 2>/dev/null
}

topo_cleanup() {
  local ns pids del=()
  for ns in $TOPO_NS; do
    ns=$(ns_name "$ns")
    [ -e "/run/netns/$ns" ] || continue
    # A process left in a namespace keeps it, and its veth, alive after `netns del`.
    pids=$(_ns_pids "$ns")
    [ -z "$pids" ] || kill -9 $pids 2>/dev/null
    del+=("netns del $ns")
  done
  printf '%s\n' "${del[@]}" "link del v-cl1" "link del v-cl2" "link del v-rs1" "link del v-rs2" \
    "link del v-gw" "link del br-cl" "link del br-rs" "route del default" |
    ip -force -batch - >/dev/null 2>&1
  return 0
}

mod_load() { insmod "$KO" "$@" || fail "insmod $KO failed"; }
mod_loaded() { [ -d /sys/module/ipvs_defense ]; }
mod_unload() { if mod_loaded; then rmmod ipvs_defense || fail "rmmod failed"; fi; }

# Reads a sysctl of ours (with the shell's own read: an exec costs a second or more under
# emulation).
sc() { local v; read -r v < "$SYSCTL/$1" && echo "$v"; }

# Writes a sysctl; prints the error text (empty on success) and returns write's status.
sc_write() { # name value
  local err
  err=$( { printf '%s' "$2" > "$SYSCTL/$1"; } 2>&1 ) && return 0
  echo "$err"; return 1
}

expect_eq() { [ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"; }
expect_ge() { [ "$1" -ge "$2" ] || fail "$3: expected >= $2, got $1"; }

# Real servers: rs1 and rs2 answer each TCP connection on 8080 and each UDP datagram on 5353
# with "<name> <client address>", so tests see which server answered and that the client's
# address reached it unchanged (NAT, not masquerading). One `loadgen answer` per server: a
# shell per request (socat's SYSTEM) cost seconds each under emulation.
rs_start() {
  local rs
  rm -f /tmp/rs-ready.rs1 /tmp/rs-ready.rs2
  for rs in rs1 rs2; do
    "$LOADGEN" answer --netns "$rs-$NS_SUFFIX" --name $rs --port 8080 --udp-port 5353 \
      --seconds 3600 --ready /tmp/rs-ready.$rs >/dev/null 2>&1 &
  done
  wait_file /tmp/rs-ready.rs1 && wait_file /tmp/rs-ready.rs2 || fail "the real servers did not start"
}

# Waits (up to 60 s) until FILE exists; false otherwise, and as soon as PID (the process
# that makes it), when given, has ended.
wait_file() { # file [pid]
  local i
  for ((i = 0; i < 300; i++)); do
    [ -e "$1" ] && return 0
    [ -z "${2:-}" ] || kill -0 "$2" 2>/dev/null || return 1
    nap 0.2
  done
  return 1
}

# TCP servers on PORT of rs1 and rs2 that run the shell command CMD for each connection,
# NAME in it standing for the server's name (rs1, rs2); returns once both listen.
rs_serve() { # port cmd
  local rs
  for rs in rs1 rs2; do
    in_ns $rs socat -t 10 TCP-LISTEN:"$1",fork,reuseaddr SYSTEM:"${2//NAME/$rs}" >/dev/null 2>&1 &
  done
  wait_listen rs1 "$1"; wait_listen rs2 "$1"
}

# Waits (up to 60 s: a process start takes seconds under emulation) until something listens
# on PORT in namespace NS ("-" for the director), TCP or, with "u", UDP.
wait_listen() { # ns|- port [u]
  local ns=$1 port=$2 p=${3:-t} i l
  for ((i = 1; i <= 300; i++)); do
    if [ "$ns" = - ]; then l=$(ss -Hln"$p" "sport = :$port"); else l=$(in_ns "$ns" ss -Hln"$p" "sport = :$port"); fi
    [ -n "$l" ] && return 0
    nap 0.2
  done
  fail "nothing listens on port $port ($p) in namespace $ns"
}

# rs1 sends BYTES zeros on 8081 (the tests' $VIP:81); prints how many cl1 received through
# the VIP within SECONDS.
bulk_from_rs1() { # bytes seconds
  in_ns rs1 socat -u OPEN:/dev/zero,readbytes="$1" TCP-LISTEN:8081,reuseaddr >/dev/null 2>&1 &
  wait_listen rs1 8081
  in_ns cl1 timeout "$2" socat -u TCP:"$VIP:81" - | wc -c
}

# A held client connection: a TCP connection from namespace NS, source port SPORT, to
# VIP:VPORT that sends what the test writes to file descriptor FD (opened here; closing it
# ends the client's side) and keeps what comes back in /tmp/held.SPORT.out. Sets HELD_PID.
# The client gives up after 120 s.
hold_conn() { # ns vport sport fd
  local fifo=/tmp/held.$3.in
  rm -f "$fifo" "/tmp/held.$3.out"; mkfifo "$fifo"
  in_ns "$1" timeout 120 socat -t 10 -T 100 - TCP:"$VIP:$2",sourceport="$3",reuseaddr,connect-timeout=20 \
    <"$fifo" >"/tmp/held.$3.out" 2>&1 &
  HELD_PID=$!
  eval "exec $4>\"\$fifo\""
}

# The first entry to VIP:VPORT in the connection dump (ipvsdadm -L -n -c), from CLIENT
# (address:port) when given and not "-", in a state matching STATES (an extended regex)
# when given: prints "STATE SECONDS_LEFT REAL_SERVER". Builtins only past ipvsdadm: it is
# polled.
conn_entry() { # vport [client|-] [states]
  local pro exp st src vip dst _
  while read -r pro exp st src vip dst _; do
    [ "$vip" = "$VIP:$1" ] || continue
    [ -z "${2:-}" ] || [ "$2" = - ] || [ "$src" = "$2" ] || continue
    [ -z "${3:-}" ] || [[ $st =~ ^($3)$ ]] || continue
    echo "$st $((10#${exp%%:*} * 60 + 10#${exp#*:})) $dst"; return 0
  done < <(ipvsdadm -L -n -c)
  return 1
}

# Connection entries in use (ipvsdadm --defense: "connection entries N of M").
entries() {
  local a b n _
  while read -r a b n _; do
    [ "$a $b" = "connection entries" ] && { echo "$n"; return 0; }
  done < <(ipvsdadm --defense)
  return 1
}

# A clean slate for the defense tests: no entries, one service VIP:80 (rr over rs1:8080
# and rs2:8080), every counter zeroed.
setup_svc() {
  adm -C; adm -A -t $VIP:80 -s rr
  adm -a -t $VIP:80 -r $RS1:8080 -m; adm -a -t $VIP:80 -r $RS2:8080 -m; adm -Z
}

# TCP requests from a client namespace to VIP:port, COUNT (default 1) one after the other;
# prints each answer on a line, or `loadgen req: ...` with the reason. Fails when any did.
tcp_req() { # ns port [count]
  "$LOADGEN" req --netns "$1-$NS_SUFFIX" --dst "$VIP:$2" --count "${3:-1}" 2>&1
}

# UDP requests ("hi"), each waiting up to 3 s for its answer; prints each answer.
udp_req() { # ns port [count]
  "$LOADGEN" req --netns "$1-$NS_SUFFIX" --udp --dst "$VIP:$2" --count "${3:-1}" 2>&1
}

# A bounded spoofed SYN flood (loadgen syn) from a topology namespace: COUNT SYNs to
# DST:PORT from random sources in 198.18.0.0/15 and random ports, within 30 s unless
# --seconds says otherwise; prints how many were sent. Options as loadgen's: --ack (each SYN
# then a blind ACK), --fin (then a FIN without ACK), --seed N (the same SYNs at every run
# with N), --rate R (R SYNs a second), --seconds S, --src-block B.
flood() { # ns dst port count [options]
  local ns=$1 dst=$2 port=$3 count=$4 out; shift 4
  out=$("$LOADGEN" syn --netns "$ns-$NS_SUFFIX" --dst "$dst:$port" --count "$count" \
    --seconds 30 "$@") || return 1
  out=${out#sent=}; echo "${out%% *}"
}

# The same in the background for at most SECONDS, at BG_FLOOD_RATE SYNs a second: a flood
# that offers the same load whatever the emulation's speed (the floors of the tests' real
# clients were set for it). $! is the flooder. (Not FLOOD_RATE: that is the benchmark's
# parameter, and bench/common.sh sources this file.)
BG_FLOOD_RATE=300
flood_bg() { # ns dst port seconds [options]
  local ns=$1 dst=$2 port=$3 secs=$4; shift 4
  "$LOADGEN" syn --netns "$ns-$NS_SUFFIX" --dst "$dst:$port" --count $((secs * BG_FLOOD_RATE)) \
    --seconds "$secs" --rate "$BG_FLOOD_RATE" "$@" >/dev/null 2>&1 &
}

# Global counters from the kernel (ipvsdadm --defense --json).
# A director-wide drop counter (syn_rate_drops, entry_evictions, route_errors,
# zombie_replies, table_full, malformed, blind_acks, rewrite_failures, known_client_passes),
# from its read-only sysctl; `ipvsdadm -Z` zeroes them. (test_defense checks that `ipvsdadm
# --defense` shows the same numbers.)
drops() { # field
  sc "$1" || fail "no counter $1 in $SYSCTL"
}

# True when a line of FILE contains TEXT (builtins only: polled in loops).
file_has() { # file text
  local l
  while IFS= read -r l; do [[ $l == *"$2"* ]] && return 0; done < "$1"
  return 1
} 2>/dev/null

# Packet captures. cap_start starts tcpdump on eth0 of each namespace named (files
# /tmp/TAG.NS.pcap), bounded by `timeout` (CAP_SECONDS, 300 s by default), of the packets
# in either direction or only CAP_DIRECTION (in, out), and returns once every one listens; cap_stop ends them (SIGTERM through timeout, which passes it on: a background job of a
# script ignores SIGINT); cap_count counts what they saw, all namespaces together.
cap_start() { # tag filter ns...
  local tag=$1 filter=$2 ns i; shift 2
  eval "CAP_$tag="
  for ns in "$@"; do
    rm -f "/tmp/$tag.$ns.pcap" "/tmp/$tag.$ns.err"
    # `ip netns exec` itself, not in_ns (a function, which a `&` runs in a subshell of its
    # own): $! must be the process that becomes timeout, which cap_stop's TERM ends.
    ip netns exec "$(ns_name "$ns")" timeout "${CAP_SECONDS:-300}" \
      tcpdump -nli eth0 ${CAP_DIRECTION:+-Q "$CAP_DIRECTION"} -U -w "/tmp/$tag.$ns.pcap" "$filter" \
      2>"/tmp/$tag.$ns.err" &
    eval "CAP_$tag=\"\$CAP_$tag $!\""
  done
  for ns in "$@"; do
    for ((i = 1; i <= 300; i++)); do file_has "/tmp/$tag.$ns.err" listening && break; nap 0.2; done
    file_has "/tmp/$tag.$ns.err" listening || fail "tcpdump in $ns did not start"
  done
}
cap_stop() { # tag...
  local pids="" t
  for t in "$@"; do eval "pids=\"\$pids \$CAP_$t\""; done
  nap 1 # let the last packets land in the files
  kill -TERM $pids 2>/dev/null; wait $pids 2>/dev/null
  return 0
}
cap_print() { # tag [filter]
  local f
  for f in /tmp/"$1".*.pcap; do [ -e "$f" ] && tcpdump -nr "$f" ${2:+"$2"} 2>/dev/null; done
  return 0
}
# Counts without decoding (tcpdump --count: a capture of 50,000 packets took a minute to
# print); prints nothing and fails when tcpdump does (a bad filter must not count as 0).
cap_count() { # tag [filter]
  local f n=0 c
  for f in /tmp/"$1".*.pcap; do
    [ -e "$f" ] || continue
    c=$(pcap_count "$f" "${2:-}") || return 1
    n=$((n + c))
  done
  echo "$n"
}
pcap_count() { # file [filter]
  local c w
  read -r c w < <(tcpdump --count -nr "$1" ${2:+"$2"} 2>/dev/null)
  [[ $w == packet || $w == packets ]] && [[ $c =~ ^[0-9]+$ ]] || return 1
  echo "$c"
}
# Prints capture TAG of namespace NS decoded with -vv: tcpdump checks the checksums of IP
# headers, ICMP messages, TCP segments and UDP datagrams, and of the packets ICMP quotes.
cap_verbose() { # tag ns
  tcpdump -vv -nr "/tmp/$1.$2.pcap" 2>/dev/null
}
# Fails when a capture (cap_verbose) shows a checksum tcpdump found wrong. Only packets
# sent with the offloads off carry full checksums (`ethtool -K eth0 tx off rx off`).
checksums_ok() { # text where
  local bad='bad cksum|wrong icmp cksum|bad udp cksum|\(incorrect'
  if echo "$1" | grep -qE "$bad"; then
    fail "$2: a wrong checksum: $(echo "$1" | grep -m1 -E "$bad")"
  fi
}

# kmemleak: leak_begin scans and sets aside every object reported so far; leak_check scans
# again, once kmemleak's minimum age (5 s) has passed, and fails on any unreferenced object
# found since, whatever its backtrace says (after rmmod, frames in the module print as raw
# addresses). A test kernel without kmemleak fails both.
LEAK=/sys/kernel/debug/kmemleak
leak_begin() {
  [ -w "$LEAK" ] || fail "no kmemleak ($LEAK): the test kernel needs CONFIG_DEBUG_KMEMLEAK"
  echo scan > "$LEAK" && echo clear > "$LEAK" || fail "could not scan and clear kmemleak"
}
leak_check() { # what (for the message)
  local n
  [ -w "$LEAK" ] || fail "no kmemleak ($LEAK): the test kernel needs CONFIG_DEBUG_KMEMLEAK"
  nap 6
  echo scan > "$LEAK" && echo scan > "$LEAK" || fail "kmemleak scan failed"
  n=$(grep -c '^unreferenced object' "$LEAK")
  if [ "$n" -gt 0 ]; then
    head -60 "$LEAK" | sed 's/^/#   /'
    # Set them aside, so that a later check reports only its own.
    echo clear > "$LEAK"
    fail "kmemleak: $n unreferenced object(s) after $1"
  fi
  diag "kmemleak: no unreferenced object after $1"
}
