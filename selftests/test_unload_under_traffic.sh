#!/usr/bin/env bash
# rmmod while clients send traffic through both hooks, five times.
. "$(dirname "$0")/lib.sh"
mod_unload; topo_setup
trap 'kill $(jobs -p) 2>/dev/null; wait; mod_unload; topo_cleanup' EXIT

in_ns rs1 socat -u TCP-LISTEN:8080,fork,reuseaddr OPEN:/dev/null &
sleep 0.5
for round in 1 2 3 4 5; do
  mod_load
  # Bounded traffic: floods of pings to the director and through it, and TCP streams.
  timeout 4 ip netns exec cl1 ping -q -f -c 20000 "$VIP" >/dev/null 2>&1 &
  timeout 4 ip netns exec cl2 ping -q -f -c 20000 "$RS1" >/dev/null 2>&1 &
  timeout 4 ip netns exec cl1 sh -c "head -c 50000000 /dev/zero | socat -u - TCP:$RS1:8080" \
    >/dev/null 2>&1 &
  sleep 1.5
  seen=$(sc forward_packets)
  mod_unload
  wait_jobs=$(jobs -p | grep -v "^$(jobs -p | head -1)$" || true)
  [ "$seen" -gt 0 ] || fail "round $round: no traffic through the hooks before rmmod"
  diag "round $round: unloaded after $seen forwarded packets"
  for j in $wait_jobs; do wait "$j" 2>/dev/null; done
done
# The director still routes after the module is gone.
in_ns cl1 ping -c 1 -W 5 "$RS1" >/dev/null || fail "no routing after the last rmmod"
