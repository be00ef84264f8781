#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Workload "synack": a SYN-then-ACK flood (each spoofed SYN followed by a blind ACK from
# the same source, acknowledging a guessed sequence number).
#
#   bench/wl_synack.sh ours l0|l2  |  ipvs st0|st3        (in the guest, as root)
#
# cl1 sends SYNACK_COUNT SYN+ACK pairs from 198.18.0.0/15 to TCP VIP:80 (rs1, rs2) as
# fast as it can. A real server answers a blind ACK with a reset, which closes the entry
# within a round trip, so what remains afterwards would depend on timing: during this
# workload the servers' resets are dropped at the servers (nft, output hook, in rs1 and
# rs2), and an entry that a blind ACK made ESTABLISHED stays so (for the ESTABLISHED
# timeout, 15 minutes in both) and is counted. One second after the flood, records the
# entries of this flood (its sources are a block of their own, see flood_start; IPVS
# cannot flush its table, so entries of earlier runs are still there):
#   established  entries in state ESTABLISHED whose client is a spoofed source: each one a
#                blind ACK the director believed, and a long-lived entry for the attacker
#   entries      entries of this flood in the table
#   sent         pairs sent
. "$(dirname "$0")/common.sh"
c=${1:?usage: wl_synack.sh ours|ipvs VARIANT} v=${2:?usage: wl_synack.sh ours|ipvs VARIANT}
case "$c" in ours|ipvs) ;; *) die "synack: no connection table for '$c'" ;; esac
bench_init
contestant_on "$c" "tcp:$HTTP_PORT:$RS_HTTP:rs1,rs2"
variant_on "$c" "$v"
rs_resets off
flood_start --dst "$VIP:$HTTP_PORT" --count "$SYNACK_COUNT" --seconds $((FLOOD_SECONDS * 6)) --ack
flood_wait; kv f "$FLOOD_LINE"
[ "${f_sent:-0}" -gt 0 ] || die "synack/$c/$v: nothing sent"
sleep 1
read -r est all < <(table_entries "$c" +ESTABLISHED)
emit synack "$c" "$v" established="$est" entries="$all" sent="$f_sent"
rs_resets on
contestant_off
