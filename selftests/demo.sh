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
echo "\$ ipvsdadm -A -t $VIP:80 -s rr"
"$IPVSDADM" -A -t "$VIP:80" -s rr
echo "\$ ipvsdadm -a -t $VIP:80 -r $RS1:8080 -m -w 1"
"$IPVSDADM" -a -t "$VIP:80" -r "$RS1:8080" -m -w 1
echo "\$ ipvsdadm -a -t $VIP:80 -r $RS2:8080 -m -w 2"
"$IPVSDADM" -a -t "$VIP:80" -r "$RS2:8080" -m -w 2
echo "\$ ipvsdadm -L -n"
"$IPVSDADM" -L -n
echo "\$ ipvsdadm --defense"
"$IPVSDADM" --defense
echo "== /proc/sys/net/ipvs_defense/"
for f in "$SYSCTL"/*; do printf '%-20s %s\n' "$(basename "$f")" "$(cat "$f")"; done
echo "== echo 2 > defense_level; echo 7 > defense_level (refused)"
echo 2 > "$SYSCTL/defense_level"
echo 7 > "$SYSCTL/defense_level" 2>&1 || true
echo "defense_level = $(cat "$SYSCTL/defense_level")"
echo "== rmmod"
rmmod ipvs_defense
dmesg | grep ipvs_defense | tail -1
topo_cleanup
