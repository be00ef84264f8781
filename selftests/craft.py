#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Sends crafted TCP and UDP packets, one of each kind named, for the guest tests only.

    craft.py DST_IP DST_PORT [--sport N] [--src-range FIRST COUNT] KIND...

KIND is one of tcp_truncated (10 bytes of TCP header), tcp_bad_data_offset (data offset 4),
tcp_header_beyond_segment (data offset 15 in a 20-byte segment), udp_truncated (4 bytes of
UDP header), udp_bad_length (a UDP length of 100 in a 12-byte datagram): malformed; and
tcp_synack, tcp_ack: well-formed segments (checksummed), as a real server that lost its
director's entry would send them; tcp_syn: a client's first SYN; tcp_synrst, tcp_synfin:
a SYN with RST or FIN also set; tcp_fin: a bare FIN; tcp_rst: a bare RST. Source ports are
40000, 40001, ... or --sport. The IPv4 header is well formed (the kernel's ip_rcv drops bad IPv4
headers before any netfilter hook): the kernel fills in its total length and checksum. The
source is the address this namespace uses toward DST_IP, or, with --src-range, each of
COUNT consecutive addresses from FIRST in turn (every kind from each). Prints how many
packets it sent.
"""
import socket
import struct
import sys


def source_for(dst):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((dst, 9))
    return s.getsockname()[0]


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def segment(src, dst, sport, dport, flags):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, 1000, 2000, 5 << 4, flags, 64240, 0, 0)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(tcp))
    return tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]


def l4(kind, src, dst, sport, dport):
    if kind == "tcp_synack":
        return socket.IPPROTO_TCP, segment(src, dst, sport, dport, 0x12)
    if kind == "tcp_syn":
        return socket.IPPROTO_TCP, segment(src, dst, sport, dport, 0x02)
    if kind == "tcp_synrst":
        return socket.IPPROTO_TCP, segment(src, dst, sport, dport, 0x06)
    if kind == "tcp_synfin":
        return socket.IPPROTO_TCP, segment(src, dst, sport, dport, 0x03)
    if kind == "tcp_ack":
        return socket.IPPROTO_TCP, segment(src, dst, sport, dport, 0x10)
    if kind == "tcp_fin":
        return socket.IPPROTO_TCP, segment(src, dst, sport, dport, 0x01)
    if kind == "tcp_rst":
        return socket.IPPROTO_TCP, segment(src, dst, sport, dport, 0x04)
    if kind == "tcp_truncated":
        return socket.IPPROTO_TCP, struct.pack("!HHIH", sport, dport, 1, 0)
    if kind == "tcp_bad_data_offset":
        return socket.IPPROTO_TCP, struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 4 << 4, 0x02, 64240, 0, 0)
    if kind == "tcp_header_beyond_segment":
        return socket.IPPROTO_TCP, struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 15 << 4, 0x02, 64240, 0, 0)
    if kind == "udp_truncated":
        return socket.IPPROTO_UDP, struct.pack("!HH", sport, dport)
    if kind == "udp_bad_length":
        return socket.IPPROTO_UDP, struct.pack("!HHHH", sport, dport, 100, 0) + b"abcd"
    raise SystemExit(f"craft.py: unknown kind {kind}")


def main():
    dst, dport, args = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    sport, srcs = None, [source_for(dst)]
    while args[:1] in (["--sport"], ["--src-range"]):
        if args[0] == "--sport":
            sport, args = int(args[1]), args[2:]
        else:
            first = struct.unpack("!I", socket.inet_aton(args[1]))[0]
            srcs = [socket.inet_ntoa(struct.pack("!I", first + i)) for i in range(int(args[2]))]
            args = args[3:]
    kinds = args
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    sent = 0
    for src in srcs:
        for n, kind in enumerate(kinds):
            proto, payload = l4(kind, src, dst, sport or 40000 + n, dport)
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 0, 0, 0x4000, 64, proto, 0,
                             socket.inet_aton(src), socket.inet_aton(dst))
            s.sendto(ip + payload, (dst, 0))
            sent += 1
    print(sent)


if __name__ == "__main__":
    main()
