#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Shared by the benchmark's guest scripts (bench/guest.sh and every bench/wl_*.sh): the
# contestants, the servers, the client-port plan and the result records.
#
# Runs inside the guest, as root. The topology is selftests/lib.sh's (sourced read-only):
# clients cl1 192.0.2.2 and cl2 192.0.2.3, the director (root namespace, VIP 192.0.2.100),
# real servers rs1 198.51.100.2 and rs2 198.51.100.3.
#
# Contestants:
#   ipvs    the in-kernel IPVS, NAT (-m), scheduler rr, configured with ipvsadm
#   ours    ipvs_defense.ko, NAT, rr, configured with ipvsdadm
#   route   plain routing: the clients address the real servers directly (the ceiling)
#
# Settings (environment, with defaults; bench/run.sh passes them in):
#   BENCH_SECONDS   length of each throughput/connection run (10)
#   FLOOD_SECONDS   length of each flood run's measured window (10)
#   FLOOD_MAX       upper bound of SYNs per flood run (2000000)
#   UDP_RATE        datagrams per second of the udp workload, every contestant alike (1500)
#   CONN_RATE       connections per second of the conn workload (80)
#   STREAM_MBIT     Mbit/s of the stream workload (100)
#   FLOOD_RATE      SYNs per second of the synflood workload, every contestant alike (1000)
#   LEGIT_RATE      legitimate connections per second during it (5)
#   FULL_CONN_MAX   conn_max of ours' full-table variant l2full (500)
#   IPVS_EMPTY_WAIT seconds a synflood run waits for IPVS's table to empty (130)
#   SYNACK_COUNT    SYN+ACK pairs per SYN-then-ACK flood run (5000)
#   MEM_FLOOD       SYNs of the memory workload's flood (100000)
#   MEM_FLOOD_SECONDS  time bound of that flood (60)
#   CONN_PARALLEL   threads per client namespace in the connection workload (8)
#   BENCH_RESULTS   file the JSON records are appended to (/tmp/bench-results.jsonl)
#   BENCH_ROUND     round number recorded with each result (0)

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../selftests/lib.sh
. "$BENCH_DIR/../selftests/lib.sh"
export PATH=/usr/sbin:/sbin:/usr/bin:/bin:$PATH

LOADGEN=${LOADGEN:-$IPVSD_TOP/target/release/loadgen}
BENCH_SECONDS=${BENCH_SECONDS:-10}
FLOOD_SECONDS=${FLOOD_SECONDS:-10}
FLOOD_MAX=${FLOOD_MAX:-2000000}
UDP_RATE=${UDP_RATE:-1500}
CONN_RATE=${CONN_RATE:-80}
STREAM_MBIT=${STREAM_MBIT:-100}
FLOOD_RATE=${FLOOD_RATE:-1000}
LEGIT_RATE=${LEGIT_RATE:-5}
FULL_CONN_MAX=${FULL_CONN_MAX:-500}
IPVS_EMPTY_WAIT=${IPVS_EMPTY_WAIT:-130}
SYNACK_COUNT=${SYNACK_COUNT:-5000}
MEM_FLOOD=${MEM_FLOOD:-100000}
MEM_FLOOD_SECONDS=${MEM_FLOOD_SECONDS:-60}
CONN_PARALLEL=${CONN_PARALLEL:-8}
BENCH_RESULTS=${BENCH_RESULTS:-/tmp/bench-results.jsonl}
BENCH_ROUND=${BENCH_ROUND:-0}
IPVS_SYSCTL=/proc/sys/net/ipv4/vs

# Ports: TCP VIP:80 -> rs:8080 (short connections, floods), TCP VIP:5201 -> rs1:5201
# (iperf3: its control and data connections must reach the same server, so one server),
# UDP VIP:9000 -> rs:9000 (small packets).
HTTP_PORT=80 RS_HTTP=8080 IPERF_PORT=5201 UDP_PORT=9000

# Writes "msg" to stderr and stops the workload with an error: a workload that cannot
# produce its number must fail loudly.
die() { echo "bench: FAILED: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }

# The start of a run in the guest (bench/guest.sh, bench/profile.sh): the records go to
# OUTDIR/results.jsonl (emptied), everything printed to OUTDIR/bench.log too.
bench_outdir() { # outdir
  export BENCH_RESULTS=$1/results.jsonl
  : > "$BENCH_RESULTS"
  exec > >(tee -a "$1/bench.log") 2>&1
  ulimit -c 0
}

# --- topology and long-running servers -------------------------------------------------

# Sets everything up unless guest.sh already did (BENCH_TOPO_UP=1); a workload script run
# alone sets it up itself and tears it down at exit.
bench_init() {
  [ "${BENCH_TOPO_UP:-0}" = 1 ] && return 0
  [ -x "$LOADGEN" ] || die "no $LOADGEN (cargo build --release -p loadgen)"
  mod_unload
  ipvsadm -C 2>/dev/null
  rm -f /tmp/bench-rst-off /tmp/bench-portwin /tmp/bench-block
  topo_setup
  # Flood replies (to 198.18.0.0/15) go to cl2, which drops them: nothing leaves the
  # guest. Reverse-path filtering would drop the spoofed SYNs on br-cl.
  sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
    net.ipv4.conf.br-cl.rp_filter=0
  ip route add 198.18.0.0/15 via "$CL2" || die "route 198.18.0.0/15"
  # IPVS's table cannot be flushed: with an established timeout of 60 s (900 by default)
  # the SYN-then-ACK workload's entries expire between rounds, so that every synflood
  # run of IPVS can start with an empty table (ipvs_wait_empty). No workload keeps a
  # connection idle for that long.
  ipvsadm --set 60 120 300 || die "ipvsadm --set"
  # Let the UDP sinks have a 4 MiB receive buffer (the sink must not be what drops).
  sysctl -qw net.core.rmem_max=8388608
  local rs
  for rs in rs1 rs2; do
    # The servers' accept backlog: a long SYN flood would otherwise only measure it.
    in_ns $rs sysctl -qw net.core.somaxconn=4096 net.ipv4.tcp_max_syn_backlog=4096
    "$LOADGEN" serve --netns "$rs-$NS_SUFFIX" --port "$RS_HTTP" --seconds 3600 --reply "$rs" >/dev/null 2>&1 &
  done
  in_ns rs1 iperf3 -s -p "$IPERF_PORT" >/dev/null 2>&1 &
  wait_listen rs1 "$RS_HTTP"; wait_listen rs2 "$RS_HTTP"; wait_listen rs1 "$IPERF_PORT"
  BENCH_TOPO_UP=1
  BENCH_OWN_TOPO=1
  trap bench_fini EXIT
}

bench_fini() {
  [ "${BENCH_OWN_TOPO:-0}" = 1 ] || return 0
  contestant_off
  topo_cleanup
}

# --- contestants -----------------------------------------------------------------------

ipvs_reset_sysctls() {
  echo 0 > $IPVS_SYSCTL/secure_tcp; echo 0 > $IPVS_SYSCTL/drop_packet
  echo 0 > $IPVS_SYSCTL/drop_entry
}

# Leaves the director as plain routing: our module unloaded, no IPVS service (IPVS
# unregisters its hooks with its last service), IPVS's defense sysctls back to 0.
contestant_off() {
  rs_resets on
  mod_unload
  # /proc/net/ip_vs lists the services after two header lines: read it with builtins
  # (an ipvsadm start costs seconds under emulation) and clear only when needed.
  local l has=0
  while read -r l; do case "$l" in TCP*|UDP*) has=1 ;; esac; done < /proc/net/ip_vs
  if [ $has = 1 ]; then ipvsadm -C || die "ipvsadm -C"; fi
  ipvs_reset_sysctls
}

# Brings one contestant up with the services a workload needs:
#   contestant_on CONTESTANT SERVICE...   SERVICE = tcp|udp:VPORT:RPORT:rs1[,rs2]
# Prints nothing; dst_args says where the clients send.
# Where a workload's clients send, as loadgen's options, into the array DSTS: VIP:VPORT
# (the load balancer spreads the flows), or for plain routing rs1:RPORT and rs2:RPORT
# directly (loadgen alternates).
dst_args() { # contestant vport rport
  if [ "$1" = route ]; then DSTS=(--dst "$RS1:$3" --dst "$RS2:$3"); else DSTS=(--dst "$VIP:$2"); fi
}

contestant_on() {
  local c=$1 svc proto vport rport servers rs; shift
  contestant_off
  case "$c" in
    route) return 0 ;;
    ipvs)
      for svc in "$@"; do
        IFS=: read -r proto vport rport servers <<< "$svc"
        local f=-t; [ "$proto" = udp ] && f=-u
        echo "-A $f $VIP:$vport -s rr"
        for rs in ${servers//,/ }; do echo "-a $f $VIP:$vport -r $(rs_addr "$rs"):$rport -m"; done
      done | ipvsadm -R || die "ipvsadm -R"
      ;;
    ours)
      mod_load
      for svc in "$@"; do
        IFS=: read -r proto vport rport servers <<< "$svc"
        local f=-t; [ "$proto" = udp ] && f=-u
        echo "-A $f $VIP:$vport -s rr"
        for rs in ${servers//,/ }; do echo "-a $f $VIP:$vport -r $(rs_addr "$rs"):$rport -m"; done
      done | "$IPVSDADM" -R || die "ipvsdadm -R"
      ;;
    *) die "unknown contestant '$c' (ipvs | ours | route)" ;;
  esac
}

rs_addr() { case "$1" in rs1) echo "$RS1" ;; rs2) echo "$RS2" ;; *) die "no server $1" ;; esac; }

# Flood variants: the defense settings of each contestant, like for like.
#   ours:  l0 (defense_level 0, its defaults) | l2 (defense_level 2, forced, dropping one
#          new-connection SYN in IPVS's am_droprate, as IPVS's drop_packet=3 does) |
#          l2full (l2 with conn_max FULL_CONN_MAX: a flood keeps the table full)
#   ipvs:  st0 (secure_tcp 0, no drops, its defaults) | st3 (secure_tcp 3, drop_packet 3,
#          drop_entry 3)
#   route: -
variant_on() { # contestant variant
  case "$1:$2" in
    ours:l0) "$IPVSDADM" --set-defense 0 || die "--set-defense 0" ;;
    ours:l2|ours:l2full)
      "$IPVSDADM" --set-defense 2 || die "--set-defense 2"
      sc_write syn_drop_rate "$(< $IPVS_SYSCTL/am_droprate)" || die "syn_drop_rate"
      [ "$2" = l2full ] && { sc_write conn_max "$FULL_CONN_MAX" || die "conn_max"; } ;;
    ipvs:st0) ipvs_reset_sysctls ;;
    ipvs:st3)
      echo 3 > $IPVS_SYSCTL/secure_tcp; echo 3 > $IPVS_SYSCTL/drop_packet
      echo 3 > $IPVS_SYSCTL/drop_entry ;;
    route:-) ;;
    *) die "unknown variant '$2' for $1" ;;
  esac
}

# Lets the real servers send TCP resets (on), or drops them on their way out (off), with
# an nftables table "bench" in rs1 and rs2. A marker file remembers "off", so that
# contestant_off puts the resets back after a workload that died midway.
rs_resets() { # on|off
  local rs
  if [ "$1" = off ]; then
    : > /tmp/bench-rst-off
    for rs in rs1 rs2; do
      in_ns $rs nft -f - <<'EOF' || die "nft in $rs"
table ip bench {
  chain out {
    type filter hook output priority 0;
    tcp flags & rst == rst drop
  }
}
EOF
    done
  elif [ -e /tmp/bench-rst-off ]; then
    # A table that is not there (the "off" above failed halfway) is no error here.
    for rs in rs1 rs2; do in_ns $rs nft delete table ip bench 2>/dev/null; done
    rm -f /tmp/bench-rst-off
  fi
}

# --- measurements ----------------------------------------------------------------------

# Client ports: each connection run gets a fresh window of PORT_WINDOW ports per client
# namespace, rotating through 10000-63999, so that no client port is used again while a
# server may still hold it in TIME_WAIT (60 s) or a director its TIME_WAIT entry
# (IPVS: 120 s): a reused port shows up as 1 s SYN retransmission stalls. The counter
# lives in a file so that separate workload scripts continue the rotation.
PORT_WINDOW=${PORT_WINDOW:-4000}
port_window() {
  local f=/tmp/bench-portwin n=0 slots=$(( (64000 - 10000) / PORT_WINDOW ))
  [ -f $f ] && read -r n < $f
  echo $(( (n + 1) % slots )) > $f
  local lo=$(( 10000 + (n % slots) * PORT_WINDOW ))
  echo "$lo-$(( lo + PORT_WINDOW - 1 ))"
}

# Reads key=value tokens (loadgen's output) into variables named PREFIX_key.
kv() { # prefix line
  local t
  for t in $2; do
    case "$t" in *=*) printf -v "$1_${t%%=*}" '%s' "${t#*=}" ;; esac
  done
}

# The guest's busy time so far, every CPU, in hundredths of a second: the time since boot
# times the CPUs, minus their idle time (/proc/uptime). With NO_HZ the kernel measures
# idle time exactly, at idle entry and exit; the system and softirq times of /proc/stat
# are sampled at ticks instead, and under emulation the ticks of a busy CPU get lost when
# the emulator falls behind (per-packet figures from them varied five-fold between rounds).
BENCH_CPUS=$(nproc)
busy_cs() {
  local up idle
  read -r up idle < /proc/uptime
  echo $(( 10#${up/./} * BENCH_CPUS - 10#${idle/./} ))
}

# TCP segments received by both real servers (Tcp InSegs of their namespaces).
servers_tcp_insegs() {
  local ns n=0 v
  for ns in rs1 rs2; do
    v=$(in_ns "$ns" awk '$1 == "Tcp:" && $2 ~ /^[0-9]+$/ { print $11 }' /proc/net/snmp) ||
      die "no Tcp counters in $ns"
    n=$(( n + v ))
  done
  echo $n
}

# Entries in IPVS's table, whatever service they belonged to: the lines of
# /proc/net/ip_vs_conn after its header (/proc/net/ip_vs counts only those of configured
# services, and the ip_vs_conn slab cache may be merged with others).
ipvs_conn_objects() {
  local n
  n=$(wc -l < /proc/net/ip_vs_conn) || die "no /proc/net/ip_vs_conn"
  echo $(( n > 0 ? n - 1 : 0 ))
}

# Waits, at most IPVS_EMPTY_WAIT seconds, for IPVS's table to hold no more than 100
# entries: entries cannot be flushed, a run that starts with the last run's entries pays
# for their longer hash chains, and their expiry timers cost whichever run they fire in.
ipvs_wait_empty() {
  local i
  for ((i = 1; i <= $IPVS_EMPTY_WAIT; i++)); do
    [ "$(ipvs_conn_objects)" -le 100 ] && return 0
    nap 1
  done
  note "IPVS's table still holds $(ipvs_conn_objects) entries after ${IPVS_EMPTY_WAIT} s"
}

# A field of /proc/meminfo in bytes.
meminfo() {
  local k v u
  while read -r k v u; do [ "$k" = "$1:" ] && { echo $(( v * 1024 )); return; }; done < /proc/meminfo
  die "no $1 in /proc/meminfo"
}

# Entries in the contestant's connection table whose client is in the last flood's
# source block (FLOOD_BLOCK), all of them or only those in STATE. With STATE "+STATE",
# prints both from one snapshot: "<in STATE> <all>" (a listing of a large IPVS table takes
# seconds, and entries change meanwhile: two listings do not agree).
table_entries() { # contestant [STATE|+STATE]
  local list
  case "$1" in
    ours) list=$("$IPVSDADM" -L -n -c) || die "ipvsdadm -L -n -c" ;;
    ipvs) list=$(ipvsadm -L -n -c) || die "ipvsadm -L -n -c" ;;
  esac
  # Both print ipvsadm's layout: two header lines, then "TCP mm:ss STATE client vip dest";
  # block b of 198.18.0.0/15 holds the addresses whose (second octet - 18) * 256 + third
  # octet, divided by 8, is b.
  awk -v b="$FLOOD_BLOCK" -v st="${2:-}" '
    BEGIN { both = sub(/^\+/, "", st) }
    $1 == "TCP" || $1 == "UDP" {
      split($4, a, /[.:]/)
      if (a[1] == 198 && (a[2] == 18 || a[2] == 19) && int(((a[2] - 18) * 256 + a[3]) / 8) == b) {
        all++
        if ($3 == st) n++
      }
    }
    END { if (both) print n + 0, all + 0; else print (st == "" ? all : n) + 0 }' <<< "$list"
}

# Appends one JSON record and prints it readably:
#   emit WORKLOAD CONTESTANT VARIANT key=number ...
emit() {
  local w=$1 c=$2 v=$3 kvp m="" sep=""; shift 3
  for kvp in "$@"; do
    [[ "${kvp#*=}" =~ ^-?[0-9]+(\.[0-9]+)?$ ]] || die "$w/$c/$v: '${kvp}' is not a number"
    m+="$sep\"${kvp%%=*}\": ${kvp#*=}"; sep=", "
  done
  printf '{"workload": "%s", "contestant": "%s", "variant": "%s", "round": %d, "metrics": {%s}}\n' \
    "$w" "$c" "$v" "$BENCH_ROUND" "$m" >> "$BENCH_RESULTS"
  echo "bench: round $BENCH_ROUND $w $c${v:+ $v}: $*"
}

# Divides with three decimals (bash has integers only; awk costs a process start).
div() { # a b  ->  a/b (b > 0; 0 when b is 0)
  local a=$1 b=$2 sign=""
  [ "$b" -gt 0 ] || { echo 0; return; }
  [ "$a" -lt 0 ] && { sign=-; a=$(( -a )); }
  local q=$(( a * 1000 / b ))
  printf '%s%d.%03d\n' "$sign" $(( q / 1000 )) $(( q % 1000 ))
}

# Entries in a contestant's table, read cheaply (no listing): ours from ipvsdadm
# --defense ("connection entries N of M"), IPVS from /proc/net/ip_vs (ActiveConn +
# InActConn of every real server; with NAT and no persistence that is every entry).
entries_count() { # ours|ipvs
  local a b c d e f n=0
  case "$1" in
    ours)
      while read -r a b c d; do
        [ "$a $b" = "connection entries" ] && { echo "$c"; return; }
      done < <("$IPVSDADM" --defense)
      die "no 'connection entries' in ipvsdadm --defense" ;;
    ipvs)
      while read -r a b c d e f; do
        [ "$a" = "->" ] && [[ "$e" =~ ^[0-9]+$ ]] && n=$(( n + e + f ))
      done < /proc/net/ip_vs
      echo $n ;;
  esac
}

# Runs a spoofed flood from cl1 (loadgen syn ARGS...) in the background and returns once
# it really sends (a process start takes seconds here); FLOOD_PID is its pid, its output
# goes to /tmp/bench-flood.out.
# Each flood draws its sources from its own /21 block of 198.18.0.0/15 (FLOOD_BLOCK,
# 0..63, rotating through a counter file), so that its entries can be counted apart from
# those earlier runs left in IPVS's table (which cannot be flushed: they expire by
# themselves, some after 15 minutes). 64 blocks last about six rounds.
flood_start() {
  local n=0
  [ -f /tmp/bench-block ] && read -r n < /tmp/bench-block
  FLOOD_BLOCK=$(( n % 64 )); echo $(( n + 1 )) > /tmp/bench-block
  rm -f /tmp/bench-flood.ready
  "$LOADGEN" syn --netns "cl1-$NS_SUFFIX" "$@" --src-block "$FLOOD_BLOCK" \
    --ready /tmp/bench-flood.ready > /tmp/bench-flood.out 2>&1 &
  FLOOD_PID=$!
  wait_file /tmp/bench-flood.ready $FLOOD_PID ||
    die "the flooder did not start: $(< /tmp/bench-flood.out)"
}
# Waits for the flood and reads loadgen's result into FLOOD_LINE (not through $(...): a
# subshell cannot wait for its parent's child).
flood_wait() {
  wait "$FLOOD_PID" || die "the flooder failed: $(< /tmp/bench-flood.out)"
  FLOOD_LINE=$(< /tmp/bench-flood.out)
}

# Small-packet UDP at a set rate: cl1 sends 18-byte payloads (64-byte Ethernet frames with
# the FCS) from 4 source ports at UDP_RATE per second for BENCH_SECONDS to the loadgen
# destinations given (alternating), into sinks on rs1 and rs2 at PORT, which count what
# arrives. The window runs from the sender's start (after its process start) to its end.
# Emits WORKLOAD's record for CONTESTANT:
#   busy_us_per_pkt  the guest's busy time in the window (busy_cs: wall minus idle time,
#                   every CPU) per datagram sent: senders, director and servers together
#   set_pps, offered_pps  UDP_RATE, and what the sender managed
#   pps, delivered_pct    datagrams delivered per second of sending, and in percent of sent
udp_measure() { # workload contestant port --dst A:P...
  local w=$1 c=$2 port=$3 rs p spid k0 k1 line got tried pids=()
  shift 3
  for rs in rs1 rs2; do
    # A sink exits SINK_IDLE_MS after its last datagram (or at its time bound).
    rm -f /tmp/bench-sink.$rs.ready
    "$LOADGEN" serve --udp --netns "$rs-$NS_SUFFIX" --port "$port" --seconds $((BENCH_SECONDS + 100)) \
      --idle-ms "$SINK_IDLE_MS" --ready /tmp/bench-sink.$rs.ready > /tmp/bench-sink.$rs 2>&1 &
    pids+=($!)
  done
  wait_file /tmp/bench-sink.rs1.ready "${pids[0]}" && wait_file /tmp/bench-sink.rs2.ready "${pids[1]}" ||
    die "$w/$c: a sink did not start: $(cat /tmp/bench-sink.rs1 /tmp/bench-sink.rs2)"
  rm -f /tmp/bench-udp.ready
  "$LOADGEN" udp --netns "cl1-$NS_SUFFIX" "$@" --seconds "$BENCH_SECONDS" \
    --flows 4 --size 18 --rate "$UDP_RATE" --ready /tmp/bench-udp.ready > /tmp/bench-udp.out 2>&1 &
  spid=$!
  wait_file /tmp/bench-udp.ready $spid || die "$w/$c: the sender did not start: $(< /tmp/bench-udp.out)"
  k0=$(busy_cs)
  wait $spid || die "$w/$c: sender failed: $(< /tmp/bench-udp.out)"
  k1=$(busy_cs)
  line=$(< /tmp/bench-udp.out)
  for p in "${pids[@]}"; do
    wait "$p" || die "$w/$c: a sink failed: $(cat /tmp/bench-sink.rs1 /tmp/bench-sink.rs2)"
  done
  kv s "$line"; kv r1 "$(< /tmp/bench-sink.rs1)"; kv r2 "$(< /tmp/bench-sink.rs2)"
  got=$(( ${r1_received:-0} + ${r2_received:-0} ))
  [ "$got" -gt 0 ] || die "$w/$c: no datagram arrived (sent ${s_sent:-?})"
  tried=$(( s_sent + s_errors ))
  [ "$tried" -gt 0 ] || die "$w/$c: nothing sent"
  emit "$w" "$c" "" busy_us_per_pkt="$(div $(( (k1 - k0) * 10000 )) "$tried")" \
    set_pps="$UDP_RATE" offered_pps="$(div $((tried * 1000)) "$s_elapsed_ms")" \
    pps="$(div $((got * 1000)) "$s_elapsed_ms")" delivered_pct="$(div $((got * 100)) "$tried")" \
    rs1="${r1_received:-0}" rs2="${r2_received:-0}"
}
