#!/usr/bin/env python3
"""Sends malformed TCP and UDP packets to a service, one of each kind named, for the guest
tests only.

    craft.py DST_IP DST_PORT KIND...

KIND is one of tcp_truncated (10 bytes of TCP header), tcp_bad_data_offset (data offset 4),
tcp_header_beyond_segment (data offset 15 in a 20-byte segment), udp_truncated (4 bytes of
UDP header), udp_bad_length (a UDP length of 100 in a 12-byte datagram). The IPv4 header is
well formed (the kernel's ip_rcv drops bad IPv4 headers before any netfilter hook): the
kernel fills in its total length and checksum. The source is the address this namespace
uses toward DST_IP. Prints how many packets it sent.
"""
import socket
import struct
import sys


def source_for(dst):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((dst, 9))
    return s.getsockname()[0]


def l4(kind, sport, dport):
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
    dst, dport, kinds = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    src = source_for(dst)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    sent = 0
    for n, kind in enumerate(kinds):
        proto, payload = l4(kind, 40000 + n, dport)
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 0, 0, 0x4000, 64, proto, 0,
                         socket.inet_aton(src), socket.inet_aton(dst))
        s.sendto(ip + payload, (dst, 0))
        sent += 1
    print(sent)


if __name__ == "__main__":
    main()
