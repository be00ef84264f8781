#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Workload "routed": traffic the director forwards that touches no service, and what it
# costs with each contestant loaded and configured.
#
#   bench/wl_routed.sh ipvs|ours|route           (in the guest, as root)
#
# udp_measure (bench/common.sh) straight to rs1 and rs2 on a port no service uses
# (UDP_PORT + 1), so that the director only routes. ipvs and ours have the udp workload's
# service (UDP VIP:UDP_PORT over rs1 and rs2) configured; route has neither loaded.
. "$(dirname "$0")/common.sh"
c=${1:?usage: wl_routed.sh ipvs|ours|route}
port=$((UDP_PORT + 1))
bench_init
contestant_on "$c" "udp:$UDP_PORT:$UDP_PORT:rs1,rs2"
udp_measure routed "$c" "$port" --dst "$RS1:$port" --dst "$RS2:$port"
contestant_off
