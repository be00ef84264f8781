#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Sends one ICMP "fragmentation needed" (next-hop MTU 1300) to VIP, as a router on a
client's side would, quoting a TCP segment VIP:VPORT -> CLIENT:CPORT with sequence number
SEQ (for the guest tests only).

    icmp_frag.py VIP VPORT CLIENT CPORT SEQ
"""
import socket
import struct
import sys

from craft import csum


def main():
    vip, vport, client, cport, seq = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    tcp = struct.pack("!HHIIBBHHH", vport, cport, seq, 0, 5 << 4, 0x10, 512, 0, 0)
    pseudo = socket.inet_aton(vip) + socket.inet_aton(client) + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 1500, 0, 0x4000, 63, 6, 0,
                     socket.inet_aton(vip), socket.inet_aton(client))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    body = struct.pack("!BBHHH", 3, 4, 0, 0, 1300) + ip + tcp
    body = body[:2] + struct.pack("!H", csum(body)) + body[4:]
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.sendto(body, (vip, 0))
    print(1)


main()
