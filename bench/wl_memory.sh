#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Workload "memory": bytes per connection entry, and the table's memory after a flood of
# MEM_FLOOD (100,000) spoofed SYNs, each of which creates an entry.
#
#   bench/wl_memory.sh ours|ipvs              (in the guest, as root)
#
# ours: the table is preallocated at load for a capacity of 1/256 of RAM at 128 bytes an
#   entry; logic/sizing.rs lays it out and bounds its bytes per entry of capacity, all of
#   it counted, by 128 (a host test checks every capacity). What the table really takes is
#   measured here: table_bytes is the drop of MemFree + Buffers + Cached across insmod
#   and configuration (page cache counts as unused: the binaries that configure the
#   module fill it) less the module's code and static data (its coresize), and
#   bytes_per_entry that over conn_max (bench/report.py bounds its median by 128). It
#   includes the module's other tables (an upper bound).
#   The flood does not change the table's memory, only how much of it is used.
# ipvs: each entry is one object of the ip_vs_conn slab (its slab_size, from
#   /sys/kernel/slab/ip_vs_conn, as /proc/slabinfo hides merged caches), allocated per
#   connection, plus the fixed hash table (conn_tab_size heads of 8 bytes). Measured as
#   a cross-check: the growth of Slab in /proc/meminfo over the flood, per entry created.
# Records bytes_per_entry, table_bytes (after the flood), entries (after the flood) and
# the measured cross-check.
. "$(dirname "$0")/common.sh"
c=${1:?usage: wl_memory.sh ours|ipvs}
bench_init
svc="tcp:$HTTP_PORT:$RS_HTTP:rs1,rs2"
unused_bytes() { echo $(( $(meminfo MemFree) + $(meminfo Buffers) + $(meminfo Cached) )); }
flood() {
  flood_start --dst "$VIP:$HTTP_PORT" --count "$MEM_FLOOD" --seconds "$MEM_FLOOD_SECONDS"
  flood_wait; kv f "$FLOOD_LINE"
  [ "${f_sent:-0}" -gt 0 ] || die "memory/$c: nothing sent"
}
case "$c" in
  ours)
    contestant_off; nap 2
    free0=$(unused_bytes)
    contestant_on ours "$svc"
    nap 2
    free1=$(unused_bytes)
    cmax=$(sc conn_max)
    [ "$cmax" -gt 0 ] || die "memory/ours: conn_max is $cmax"
    code=$(cat /sys/module/ipvs_defense/coresize) || die "memory/ours: no coresize"
    loaded=$((free0 - free1 - code))
    [ "$loaded" -gt 0 ] || die "memory/ours: MemFree did not drop at insmod ($free0 -> $free1)"
    flood
    n=$(table_entries ours)
    [ "$n" -gt 0 ] || die "memory/ours: the flood created no entry"
    emit memory ours "" bytes_per_entry="$(div "$loaded" "$cmax")" table_bytes="$loaded" \
      entries="$n" conn_max="$cmax" code_bytes="$code" sent="$f_sent"
    ;;
  ipvs)
    contestant_on ipvs "$svc"
    obj=$(cat /sys/kernel/slab/ip_vs_conn/slab_size 2>/dev/null ||
      cat /sys/kernel/slab/ip_vs_conn/object_size) || die "memory/ipvs: no ip_vs_conn slab"
    read -r _ _ _ _ _ size < /proc/net/ip_vs     # "IP Virtual Server version 1.2.1 (size=4096)"
    size=${size#(size=}; size=${size%)}
    [[ "$size" =~ ^[0-9]+$ ]] || die "memory/ipvs: no table size in /proc/net/ip_vs"
    slab0=$(meminfo Slab) n0=$(entries_count ipvs)
    flood
    slab1=$(meminfo Slab) n=$(entries_count ipvs)
    # Entries left by earlier runs (IPVS cannot flush its table; they expire by
    # themselves) are not the flood's: entries and table_bytes count only the flood's own
    # (its source block). The Slab cross-check sees the table's net change, old entries
    # that expired meanwhile included.
    fl=$(table_entries ipvs)
    [ "$fl" -gt 0 ] || die "memory/ipvs: the flood created no entry"
    emit memory ipvs "" bytes_per_entry="$obj" table_bytes=$(( fl * obj + size * 8 )) \
      measured_bytes_per_entry="$(div $((slab1 - slab0)) $((n - n0)))" \
      entries="$fl" conn_tab_size="$size" sent="$f_sent"
    ;;
  *) die "memory: no connection table for '$c'" ;;
esac
contestant_off
