#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Workload "udp": established-flow forwarding of small packets at a set rate, and what
# each packet costs.
#
#   bench/wl_udp.sh ipvs|ours|route           (in the guest, as root)
#
# udp_measure (bench/common.sh) through UDP VIP:UDP_PORT to rs1 and rs2 (rr spreads the 4
# flows; route: 2 flows to each server directly). The report subtracts plain routing's
# busy_us_per_pkt of the same round (director_us_per_pkt).
. "$(dirname "$0")/common.sh"
c=${1:?usage: wl_udp.sh ipvs|ours|route}
bench_init
contestant_on "$c" "udp:$UDP_PORT:$UDP_PORT:rs1,rs2"
dst_args "$c" "$UDP_PORT" "$UDP_PORT"
udp_measure udp "$c" "$UDP_PORT" "${DSTS[@]}"
contestant_off
