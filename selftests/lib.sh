#!/usr/bin/env bash
# Shared library of the guest tests: the test topology and small assertion helpers.
#
# Topology (the director is the guest's root namespace, ip_forward on; nothing leaves the
# guest, which has no NIC):
#
#   ns cl1  192.0.2.2/24  ──veth── 192.0.2.1   director (root ns)   198.51.100.1 ──veth── 198.51.100.2/24 ns rs1
#   ns cl2  192.0.2.3/24  ──┘ (bridge br-cl)                        198.51.100.1 ──┘(bridge br-rs) 198.51.100.3 ns rs2
#   ns gw   203.0.113.2/24 ──veth── 203.0.113.1 director (route tests)
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
IPVSDADM=${IPVSDADM:-$IPVSD_TOP/target/debug/ipvsdadm}
GENL="python3 $IPVSD_TOP/selftests/genl.py"
SYSCTL=/proc/sys/net/ipvs_defense

export LC_ALL=C

diag() { echo "# $*"; }
fail() { echo "# FAIL: $*"; exit 1; }
skip() { echo "# SKIP: $*"; exit 4; }

# Runs a command in a namespace.
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

_ns_link() { # ns bridge addr/len gateway
  local ns=$1 br=$2 addr=$3 gw=$4
  ip netns add "$ns"
  ip link add "v-$ns" type veth peer name eth0 netns "$ns"
  ip link set "v-$ns" master "$br" up
  in_ns "$ns" ip link set lo up
  in_ns "$ns" ip addr add "$addr" dev eth0
  in_ns "$ns" ip link set eth0 up
  in_ns "$ns" ip route add default via "$gw"
}

topo_setup() {
  topo_cleanup
  ip link set lo up
  sysctl -qw net.ipv4.ip_forward=1
  ip link add br-cl type bridge; ip link set br-cl up
  ip link add br-rs type bridge; ip link set br-rs up
  ip addr add "$DIR_CL/24" dev br-cl
  ip addr add "$VIP/32" dev br-cl
  ip addr add "$DIR_RS/24" dev br-rs
  _ns_link cl1 br-cl "$CL1/24" "$DIR_CL"
  _ns_link cl2 br-cl "$CL2/24" "$DIR_CL"
  _ns_link rs1 br-rs "$RS1/24" "$DIR_RS"
  _ns_link rs2 br-rs "$RS2/24" "$DIR_RS"
  ip netns add gw
  ip link add v-gw type veth peer name eth0 netns gw
  ip addr add "$DIR_GW/24" dev v-gw; ip link set v-gw up
  in_ns gw ip link set lo up
  in_ns gw ip addr add "$GW/24" dev eth0
  in_ns gw ip link set eth0 up
  # Let the bridges forward at once (no STP learning delay).
  for br in br-cl br-rs; do ip link set "$br" type bridge forward_delay 0 stp_state 0; done
}

topo_cleanup() {
  local ns l
  for ns in cl1 cl2 rs1 rs2 gw; do
    # A process left in a namespace keeps it, and its veth, alive after `ip netns del`.
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
    ip netns del "$ns" 2>/dev/null || true
  done
  for l in v-cl1 v-cl2 v-rs1 v-rs2 v-gw br-cl br-rs; do ip link del "$l" 2>/dev/null || true; done
  ip route del default 2>/dev/null || true
}

mod_load() { insmod "$KO" "$@" || fail "insmod $KO failed"; }
mod_unload() { if lsmod | grep -q '^ipvs_defense '; then rmmod ipvs_defense || fail "rmmod failed"; fi; }
mod_loaded() { lsmod | grep -q '^ipvs_defense '; }

# Reads a sysctl of ours.
sc() { cat "$SYSCTL/$1"; }

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
# address reached it unchanged (NAT, not masquerading).
rs_start() {
  for rs in rs1 rs2; do
    in_ns $rs socat TCP-LISTEN:8080,fork,reuseaddr SYSTEM:"echo $rs \$SOCAT_PEERADDR" >/dev/null 2>&1 &
    in_ns $rs socat UDP-LISTEN:5353,fork,reuseaddr SYSTEM:"echo $rs \$SOCAT_PEERADDR" >/dev/null 2>&1 &
  done
  # Emulation is slow: wait until both servers really listen.
  local _
  for _ in $(seq 1 100); do
    [ -n "$(in_ns rs1 ss -Htln 'sport = :8080')" ] && [ -n "$(in_ns rs2 ss -Htln 'sport = :8080')" ] &&
      [ -n "$(in_ns rs1 ss -Huln 'sport = :5353')" ] && [ -n "$(in_ns rs2 ss -Huln 'sport = :5353')" ] &&
      return 0
    sleep 0.2
  done
  fail "the real servers did not start listening"
}

# One TCP request from a client namespace to VIP:port; prints the answer.
tcp_req() { # ns port
  in_ns "$1" timeout 20 socat -T 10 - TCP:"$VIP:$2",connect-timeout=10 </dev/null 2>&1
}

# One UDP request; prints the answer.
udp_req() { # ns port
  echo hi | in_ns "$1" timeout 10 socat -T 3 - UDP:"$VIP:$2" 2>&1
}

# Global counters from the kernel (ipvsdadm --defense --json).
drops() { # field
  "$IPVSDADM" --defense --json | python3 -c "import json,sys; print(json.load(sys.stdin)['drops']['$1'])"
}
