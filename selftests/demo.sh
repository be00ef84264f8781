#!/usr/bin/env bash
# What `make run` shows, inside the guest.
. "$(dirname "$0")/lib.sh"

set -e
echo "== kernel $(uname -r)"
topo_setup
echo "== insmod ipvs_defense.ko"
insmod "$KO"
dmesg | grep ipvs_defense | tail -2
echo "== traffic: 20 pings client -> VIP (LOCAL_IN), 20 pings client -> rs1 (FORWARD)"
in_ns cl1 ping -q -c 20 -i 0.05 "$VIP" | tail -2
in_ns cl1 ping -q -c 20 -i 0.05 "$RS1" | tail -2
echo "== ipvsdadm: a VIP with two real servers"
echo "\$ ipvsdadm -A -t $VIP:80 -s wrr"
"$IPVSDADM" -A -t "$VIP:80" -s wrr
echo "\$ ipvsdadm -a -t $VIP:80 -r $RS1:8080 -m -w 1"
"$IPVSDADM" -a -t "$VIP:80" -r "$RS1:8080" -m -w 1
echo "\$ ipvsdadm -a -t $VIP:80 -r $RS2:8080 -m -w 2"
"$IPVSDADM" -a -t "$VIP:80" -r "$RS2:8080" -m -w 2
echo "== 6 TCP connections from client cl1 ($CL1) to $VIP:80 (wrr 1:2; each real server answers with its name and the client address it sees)"
rs_start
for i in 1 2 3 4 5 6; do echo "  $(tcp_req cl1 80)"; done
echo "\$ ipvsdadm -L -n"
"$IPVSDADM" -L -n
echo "\$ ipvsdadm -L -n -c"
"$IPVSDADM" -L -n -c
echo "\$ ipvsdadm -L -n --stats"
"$IPVSDADM" -L -n --stats
echo "\$ ipvsdadm --defense"
"$IPVSDADM" --defense
echo "== /proc/sys/net/ipvs_defense/"
for f in "$SYSCTL"/*; do read -r v < "$f"; printf "%-36s %s\\n" "${f##*/}" "$v"; done
echo "== echo 2 > defense_level; echo 7 > defense_level (refused)"
echo 2 > "$SYSCTL/defense_level"
echo 7 > "$SYSCTL/defense_level" 2>&1 || true
echo "defense_level = $(cat "$SYSCTL/defense_level")"
echo "== stopping the real servers"
for ns in rs1 rs2; do ip netns pids $ns | xargs -r kill; done
echo "== rmmod"
rmmod ipvs_defense
dmesg | grep ipvs_defense | tail -1
topo_cleanup
