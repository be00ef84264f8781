#!/usr/bin/env bash
# rmmod while clients send traffic through the hooks, ten times, with connection entries
# live: no warning (the runner checks dmesg), no leak (kmemleak).
. "$(dirname "$0")/lib.sh"
mod_unload; topo_setup
leak_begin
trap 'kill $(jobs -p) 2>/dev/null; wait; mod_unload; topo_cleanup' EXIT

in_ns rs1 socat -u TCP-LISTEN:8080,fork,reuseaddr OPEN:/dev/null &
in_ns cl1 ping -c 1 -W 5 "$RS1" >/dev/null || fail "client cannot reach rs1 through the director"
in_ns cl2 ping -c 1 -W 5 "$VIP" >/dev/null || fail "client cannot reach the director"
for round in $(seq 1 10); do
  mod_load
  # A service, so that the stream to the VIP creates an entry that is live at rmmod.
  "$IPVSDADM" -A -t "$VIP:80" -s rr && "$IPVSDADM" -a -t "$VIP:80" -r "$RS1:8080" -m ||
    fail "round $round: could not configure the service"
  in_ns cl1 ping -c 1 -W 5 "$VIP" >/dev/null || diag "round $round: warm-up ping to the VIP failed"
  in_ns cl2 ping -c 1 -W 5 "$RS1" >/dev/null || diag "round $round: warm-up ping to rs1 failed"
  # Bounded traffic: ping floods to the director and through it, and a TCP stream.
  pids=()
  timeout 25 ip netns exec cl1 ping -q -f -c 50000 "$VIP" >/dev/null 2>&1 & pids+=($!)
  timeout 25 ip netns exec cl2 ping -q -f -c 50000 "$RS1" >/dev/null 2>&1 & pids+=($!)
  timeout 25 ip netns exec cl1 sh -c "head -c 100000000 /dev/zero | socat -u - TCP:$VIP:80" \
    >/dev/null 2>&1 & pids+=($!)
  # Emulation is slow, the more so with other guests running: wait up to 20 s for traffic.
  for _ in $(seq 1 200); do
    [ "$(sc forward_packets)" -gt 100 ] && [ "$(sc local_in_packets)" -gt 100 ] && break
    sleep 0.1
  done
  fw=$(sc forward_packets); li=$(sc local_in_packets)
  mod_unload
  [ "$fw" -gt 0 ] && [ "$li" -gt 0 ] || fail "round $round: no traffic through the hooks before rmmod (local $li, forwarded $fw)"
  diag "round $round: unloaded under traffic after $li local and $fw forwarded packets"
  kill "${pids[@]}" 2>/dev/null; wait "${pids[@]}" 2>/dev/null
done
leak_check "10 unloads under traffic"
# The director still routes after the module is gone.
in_ns cl1 ping -c 1 -W 5 "$RS1" >/dev/null || fail "no routing after the last rmmod"
