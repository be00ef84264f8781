#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Sends random and mutated raw IPv4 frames at the director from both sides, for
test_fuzz_pkt.sh only.

    pkt_fuzz.py --client-ns NS --client-gw-mac MAC --server-ns NS --server-gw-mac MAC
                [--seed N] [--count N] [--seconds S] [--pool N]
                [--live PROTO,CLIENT,CPORT,RS,RSPORT]...

Opens an AF_PACKET socket on eth0 of each namespace (setns(2) through ctypes: one process,
one start) and sends whole Ethernet frames to the director's MAC on that side, so that the
kernel fixes nothing: bad IPv4 checksums, options, fragments and lying lengths go out as
built. Two streams, sent alternately:

  client (from the client namespace, to the VIP 192.0.2.100): TCP to VIP:80 with each of
  the 256 flag combinations, valid or bad checksums, TCP options; UDP to VIP:53; truncated
  TCP and UDP headers, TCP data offsets below 5 or beyond the segment, UDP lengths that
  lie; IPv4 options (NOP, EOL, record route, timestamp, garbage lengths); broken IPv4
  headers (checksum, version, IHL, total length); fragments of TCP and UDP (first, middle
  or last only, complete, overlapping, tiny); ICMP errors quoting the replies of the live
  entries (--live) and random quotes; mutations (bit flips, byte changes, truncation,
  extension) of valid frames. Sources: 192.0.2.2 with ports 1024-16383, and spoofed
  198.18.0.0/16 (every mutated client frame keeps such a source).
  server (from the real server namespace, source 198.51.100.2): the same shapes from the
  real servers' service ports (TCP 8080, UDP 5353) to 192.0.2.3 ports 16384-32767 and to
  198.19.0.0/16, which no client frame uses, so that none of them has an entry (each that
  parses is a zombie); TTL 0 and 1; ICMP errors quoting the live entries' requests
  (client:port -> RS:port, quoted IP ID 0xfe5a, MARKER) to the live clients, which the
  director must translate, and random quotes.

Frames come from a pool of --pool unique frames per side (built first, in random order;
fragments of one datagram stay together), sent in turn until --count frames or --seconds
have passed; a pool shorter than the count is sent again from its start. Deterministic
from --seed (printed first).

Each pool frame is judged once by a model of what the kernel and the director do with it
(ip_rcv's header checks, IPv4 options, forwarding, the director's quick key and
parse_headers in logic/packet.rs): certainly dropped before any hook, certainly reaching
the hook (LOCAL_IN for the client stream, FORWARD for the server stream) with the parse
result the director must find, or unsure (fragments, unknown options, addresses a
mutation changed). Prints, besides per-kind counts, "expect NAME N" lines that the test
compares with the director's counters:

  local_in_min      client frames certain to reach LOCAL_IN
  forward_min       server frames certain to reach FORWARD
  malformed_R       frames certain to reach the hook, for a service (client) or from a
                    real server address:port (server), that fail to parse with reason R
  unsure            frames whose fate the model leaves open (each can add at most one
                    count anywhere)
  opens_min         client UDP datagrams and plain SYNs (SYN without ACK, RST, FIN) for a
                    service that parse, TTL above 1: each is counted as a packet in, or
                    dropped as table_full, syn_rate_drops or blind_acks
  zombies_min       server frames from a real server's port that parse, to a client
                    address and port without an entry
  malformed_client, malformed_server   the sums of malformed_R per stream
  live_icmp_server  server ICMP errors quoting a live entry (each must reach the client
                    translated, from the VIP)
  passthrough_server  server frames certain to reach FORWARD that are well-formed TCP or
                    UDP from a port of no real server (forwarded untouched: a capture on
                    the client side must see them)
  flags_client, flags_server   distinct TCP flag bytes among the flag-combination frames
"""
import argparse
import array
import ctypes
import os
import random
import socket
import struct
import sys
import time

VIP = socket.inet_aton("192.0.2.100")
CL1 = socket.inet_aton("192.0.2.2")
CL2 = socket.inet_aton("192.0.2.3")
RS1 = socket.inet_aton("198.51.100.2")
TCP, UDP, ICMP = 6, 17, 1
VPORT_TCP, VPORT_UDP = 80, 53
RSPORT_TCP, RSPORT_UDP = 8080, 5353
# Quoted IP ID of the server's ICMP errors about live entries: no other frame carries it.
MARKER = 0xFE5A
MAX_HEADERS = 136  # logic/packet.rs: the bytes of a packet the director parses
CLONE_NEWNET = 0x40000000
REASONS = ("ipv4_truncated", "not_ipv4", "bad_ihl", "header_beyond_buffer",
           "total_length_below_header", "total_length_beyond_buffer", "fragment",
           "tcp_truncated", "tcp_bad_data_offset", "tcp_header_beyond_segment",
           "udp_truncated", "udp_bad_length", "icmp_truncated", "icmp_bad_quote")


def csum(data):
    """The Internet checksum of data, as two bytes to store as they are."""
    if len(data) & 1:
        data += b"\0"
    s = sum(array.array("H", data))
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    return struct.pack("=H", ~s & 0xFFFF)


def ip_packet(src, dst, proto, payload, ident, ttl=64, frag=0, options=b"", tos=0,
              tot_len=None, first=0x45, good_csum=True):
    """An IPv4 header (IHL from the options unless `first` says otherwise) and payload."""
    if first == 0x45:
        first = 0x40 | (5 + len(options) // 4)
    if tot_len is None:
        tot_len = 20 + len(options) + len(payload)
    h = struct.pack("!BBHHHBBH4s4s", first, tos, tot_len & 0xFFFF, ident, frag, ttl, proto, 0,
                    src, dst) + options
    c = csum(h)
    if not good_csum:
        c = bytes([c[0] ^ 0x5A, c[1] ^ 0x01])
    return h[:10] + c + h[12:] + payload


def l4_csum(src, dst, proto, seg, at):
    """seg with its TCP or UDP checksum (at offset `at`) set over the pseudo-header."""
    pseudo = src + dst + struct.pack("!BBH", 0, proto, len(seg))
    seg = seg[:at] + b"\0\0" + seg[at + 2:]
    return seg[:at] + csum(pseudo + seg) + seg[at + 2:]


def tcp_seg(src, dst, sport, dport, flags, seq, ack, opts=b"", payload=b"", doff=None,
            good_csum=True):
    if doff is None:
        doff = 5 + len(opts) // 4
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, (doff & 15) << 4, flags, 64240,
                      0, 0) + opts + payload
    seg = l4_csum(src, dst, TCP, seg, 16)
    if not good_csum:
        seg = seg[:16] + bytes([seg[16] ^ 0x33, seg[17]]) + seg[18:]
    return seg


def udp_dgram(src, dst, sport, dport, payload, length=None, csum_mode="good"):
    if length is None:
        length = 8 + len(payload)
    seg = struct.pack("!HHHH", sport, dport, length & 0xFFFF, 0) + payload
    if csum_mode == "zero":
        return seg
    seg = l4_csum(src, dst, UDP, seg, 6)
    if csum_mode == "bad":
        seg = seg[:6] + bytes([seg[6] ^ 0x11, seg[7]]) + seg[8:]
    return seg


def icmp_msg(typ, code, rest, body):
    m = struct.pack("!BBH", typ, code, 0) + rest + body
    return m[:2] + csum(m) + m[4:]


def be16(b, i):
    return (b[i] << 8) | b[i + 1]


def marked(b):
    """Whether MARKER appears anywhere past the first 20 bytes of b."""
    return any(be16(b, i) == MARKER for i in range(20, len(b) - 1))


def options_valid(opts):
    """True when ip_options_compile certainly accepts these options (only NOP, EOL, record
    route and timestamp, well formed), None when the model cannot tell."""
    i = 0
    seen = set()
    while i < len(opts):
        t = opts[i]
        if t == 0:
            return True  # EOL: the rest is ignored
        if t == 1:
            i += 1
            continue
        if i + 1 >= len(opts):
            return None
        n, ptr = opts[i + 1], opts[i + 2] if i + 2 < len(opts) else 0
        if t in seen or n < 3 or i + n > len(opts):
            return None
        seen.add(t)
        if t == 7:  # record route: room for at least one address, pointer at its start
            if ptr != 4 or n < 7 or (n - 3) % 4:
                return None
        elif t == 68:  # timestamp, flag 0 (times only), room for one, no overflow
            if n < 8 or ptr != 5 or (n - 4) % 4 or opts[i + 3] != 0:
                return None
        else:
            return None
        i += n
    return True


class Model:
    """What the kernel and the director do with a frame (see the module docstring)."""

    def judge(self, side, ip):
        """(fate, reason, opens, zombie): fate 'drop', 'hook' or 'unsure'."""
        if len(ip) < 20 or ip[0] >> 4 != 4:
            return ("drop", None, False, False)
        ihl = (ip[0] & 15) * 4
        if ihl < 20 or len(ip) < ihl:
            return ("drop", None, False, False)
        if csum(ip[:ihl]) != b"\0\0":
            return ("drop", None, False, False)
        tot = be16(ip, 2)
        if len(ip) < tot or tot < ihl:
            return ("drop", None, False, False)
        ip = ip[:tot]
        src, dst, proto, ttl = ip[12:16], ip[16:20], ip[9], ip[8]
        if side == "client":
            if dst != VIP or not (src in (CL1, CL2) or src[:2] == b"\xc6\x12"):
                return ("unsure", None, False, False)
        else:
            if src != RS1 or not (dst in (CL1, CL2) or dst[:2] == b"\xc6\x13"):
                return ("unsure", None, False, False)
            if ttl <= 1:
                return ("drop", None, False, False)  # ip_forward: time exceeded
        if ihl > 20 and not options_valid(ip[20:ihl]):
            return ("unsure", None, False, False)
        if be16(ip, 6) & 0x3FFF:
            return ("unsure", None, False, False)
        # The director's quick key: its service (client) or real server (server) port.
        if proto not in (TCP, UDP):
            return ("hook", None, False, False)
        at = ihl + (2 if side == "client" else 0)
        if len(ip) < at + 2:
            return ("hook", None, False, False)
        port = be16(ip, at)
        ours = (proto, port) in (((TCP, VPORT_TCP), (UDP, VPORT_UDP)) if side == "client"
                                 else ((TCP, RSPORT_TCP), (UDP, RSPORT_UDP)))
        if not ours:
            return ("hook", None, False, False)
        h = ip[:MAX_HEADERS]
        seg = h[ihl:min(tot, len(h))]
        reason = None
        if proto == TCP:
            if len(seg) < 20:
                reason = "tcp_truncated"
            elif seg[12] >> 4 < 5:
                reason = "tcp_bad_data_offset"
            elif (seg[12] >> 4) * 4 > len(seg):
                reason = "tcp_header_beyond_segment"
        else:
            if len(seg) < 8:
                reason = "udp_truncated"
            elif not 8 <= be16(seg, 4) <= tot - ihl:
                reason = "udp_bad_length"
        if reason:
            return ("hook", reason, False, False)
        if side == "client":
            opens = ttl > 1 and (proto == UDP or seg[13] & 0x17 == 0x02)
            return ("hook", None, opens, False)
        # No entry: the client address and port are outside anything a client frame or
        # live entry uses.
        cport = be16(seg, 2)
        zombie = dst[:2] == b"\xc6\x13" or (dst == CL2 and 16384 <= cport <= 32767)
        return ("hook", None, False, zombie)


    def passthrough(self, side, ip):
        """Whether a server frame certain to reach FORWARD is a well-formed, unfragmented
        TCP or UDP packet from a port of no real server: the director must forward it
        untouched to the client side."""
        if side != "server" or self.judge(side, ip)[0] != "hook" or ip[9] not in (TCP, UDP):
            return False
        ihl = (ip[0] & 15) * 4
        tot = be16(ip, 2)
        if tot - ihl < (20 if ip[9] == TCP else 8) or be16(ip, ihl) in (RSPORT_TCP, RSPORT_UDP):
            return False
        return ip[9] == UDP or (ip[ihl + 12] >> 4) * 4 <= tot - ihl


class Gen:
    """Builds the frames of one stream."""

    def __init__(self, r, side, live):
        self.r, self.side, self.live = r, side, live
        self.ident = 1

    def next_id(self):
        self.ident = (self.ident + 1) & 0xFFFF
        if self.ident in (0, MARKER):
            self.ident = 1
        return self.ident

    def endpoints(self, spoofed=None):
        """(src, dst, sport, dport) of a TCP or UDP frame of this stream (ports for TCP)."""
        r = self.r
        if self.side == "client":
            if spoofed or (spoofed is None and r.random() < 0.6):
                src = bytes([198, 18, r.randrange(256), r.randrange(1, 255)])
                sport = r.randrange(1024, 65536)
            else:
                src, sport = CL1, r.randrange(1024, 16384)
            return src, VIP, sport, None
        if r.random() < 0.5:
            return RS1, CL2, None, r.randrange(16384, 32768)
        return RS1, bytes([198, 19, r.randrange(256), r.randrange(1, 255)]), None, r.randrange(1024, 65536)

    def tcp_ports(self, sport, dport, other=False):
        if self.side == "client":
            return sport, (self.r.choice((81, 443, 8080, 22)) if other else VPORT_TCP)
        return (self.r.choice((8081, 80, 443)) if other else RSPORT_TCP), dport

    def udp_ports(self, sport, dport, other=False):
        if self.side == "client":
            return sport, (54 if other else VPORT_UDP)
        return (5354 if other else RSPORT_UDP), dport

    def tcp_opts(self):
        r = self.r
        choice = r.randrange(5)
        if choice == 0:
            return b""
        if choice == 1:
            return b"\x02\x04\x05\xb4"  # MSS
        if choice == 2:
            return b"\x02\x04\x05\xb4\x04\x02\x08\x0a" + r.randbytes(8) + b"\x01\x03\x03\x07"
        if choice == 3:
            return b"\x01" * 4 * r.randint(1, 10)
        return r.randbytes(4 * r.randint(1, 10))

    def ip_opts(self):
        """(options, valid) for a header with options."""
        r = self.r
        k = r.randrange(7)
        if k == 0:
            return b"\x01\x01\x01\x01", True
        if k == 1:
            return b"\x00" * 4 * r.randint(1, 10), True
        if k == 2:
            n = r.randint(1, 9)
            return b"\x07" + bytes([3 + 4 * n, 4]) + b"\0" * (4 * n) + b"\x00", True
        if k == 3:
            n = r.randint(1, 9)
            return b"\x44" + bytes([4 + 4 * n, 5, 0]) + b"\0" * (4 * n), True
        if k == 4:  # garbage lengths
            o = bytes([r.choice((7, 68, 130, 131, 137, 148, 25)), r.choice((0, 1, 2, 39, 40, 255))])
            return (o + r.randbytes(2 + 4 * r.randint(0, 9)))[:40], None
        if k == 5:  # record route with a pointer out of place
            return b"\x07\x07" + bytes([r.choice((0, 1, 3, 5, 8, 200))]) + b"\0\0\0\0\x00", None
        return r.randbytes(4 * r.randint(1, 10)), None

    def wrap(self, src, dst, proto, seg, options=b"", **kw):
        ttl = kw.pop("ttl", 64)
        frag = kw.pop("frag", self.r.choice((0, 0x4000)))
        return ip_packet(src, dst, proto, seg, kw.pop("ident", None) or self.next_id(), ttl=ttl,
                         frag=frag, options=options, **kw)

    # Kinds: each returns a list of IP packets (consecutive: fragments of one datagram).

    def tcp_flags(self, flags):
        r = self.r
        src, dst, sport, dport = self.endpoints()
        sport, dport = self.tcp_ports(sport, dport, other=r.random() < 0.1)
        opts = self.tcp_opts() if r.random() < 0.3 else b""
        seg = tcp_seg(src, dst, sport, dport, flags, r.getrandbits(32), r.getrandbits(32),
                      opts=opts, payload=r.randbytes(r.choice((0, 0, 1, 20, 200))),
                      good_csum=r.random() < 0.8)
        options = self.ip_opts()[0] if r.random() < 0.1 else b""
        return [self.wrap(src, dst, TCP, seg, options)]

    def udp(self):
        r = self.r
        src, dst, sport, dport = self.endpoints()
        sport, dport = self.udp_ports(sport, dport, other=r.random() < 0.1)
        seg = udp_dgram(src, dst, sport, dport, r.randbytes(r.choice((0, 4, 12, 100))),
                        csum_mode=r.choice(("good", "good", "bad", "zero")))
        return [self.wrap(src, dst, UDP, seg)]

    def malformed_l4(self):
        r = self.r
        src, dst, sport, dport = self.endpoints()
        k = r.randrange(5)
        if k < 3:
            sport, dport = self.tcp_ports(sport, dport)
            seq, ack = r.getrandbits(32), r.getrandbits(32)
            if k == 0:  # truncated TCP header
                seg = tcp_seg(src, dst, sport, dport, 0x02, seq, ack)[:r.randrange(0, 20)]
            elif k == 1:  # data offset below 5
                seg = tcp_seg(src, dst, sport, dport, r.randrange(256), seq, ack,
                              doff=r.randrange(5), payload=r.randbytes(r.randrange(0, 30)))
            else:  # data offset beyond the segment
                opts = b"\x01" * 4 * r.randrange(0, 5)
                seg = tcp_seg(src, dst, sport, dport, r.randrange(256), seq, ack, opts=opts,
                              doff=r.randint(6 + len(opts) // 4, 15))
            return [self.wrap(src, dst, TCP, seg)]
        sport, dport = self.udp_ports(sport, dport)
        if k == 3:  # truncated UDP header
            seg = udp_dgram(src, dst, sport, dport, b"")[:r.randrange(0, 8)]
        else:  # length below 8 or beyond the datagram
            payload = r.randbytes(r.randrange(0, 40))
            bad = r.choice((0, 1, 7, 8 + len(payload) + r.randint(1, 1000), 65535))
            seg = udp_dgram(src, dst, sport, dport, payload, length=bad)
        return [self.wrap(src, dst, UDP, seg)]

    def with_options(self):
        r = self.r
        src, dst, sport, dport = self.endpoints()
        options, _ = self.ip_opts()
        options += b"\x00" * (-len(options) % 4)
        options = options[:40]
        if r.random() < 0.5:
            sport, dport = self.tcp_ports(sport, dport)
            seg = tcp_seg(src, dst, sport, dport, r.choice((0x02, 0x10, 0x18, 0x11, 0x04)),
                          r.getrandbits(32), r.getrandbits(32), payload=r.randbytes(10))
            return [self.wrap(src, dst, TCP, seg, options)]
        sport, dport = self.udp_ports(sport, dport)
        return [self.wrap(src, dst, UDP, udp_dgram(src, dst, sport, dport, b"opt"), options)]

    def bad_ip(self):
        r = self.r
        src, dst, sport, dport = self.endpoints()
        sport, dport = self.tcp_ports(sport, dport)
        seg = tcp_seg(src, dst, sport, dport, 0x02, r.getrandbits(32), 0)
        k = r.randrange(8)
        ident = self.next_id()
        if k == 0:
            return [ip_packet(src, dst, TCP, seg, ident, good_csum=False)]
        if k == 1:
            return [ip_packet(src, dst, TCP, seg, ident, first=r.choice((0x05, 0x65, 0x35, 0xF5)))]
        if k == 2:
            return [ip_packet(src, dst, TCP, seg, ident, first=0x40 | r.randrange(5))]
        if k == 3:  # IHL beyond the frame
            return [ip_packet(src, dst, TCP, b"\0" * r.randrange(0, 8), ident, first=0x4F)]
        if k == 4:
            return [ip_packet(src, dst, TCP, seg, ident, tot_len=20 + len(seg) + r.randint(1, 900))]
        if k == 5:
            return [ip_packet(src, dst, TCP, seg, ident, tot_len=r.randrange(0, 20))]
        if k == 6:
            return [ip_packet(src, dst, TCP, seg, ident)[:r.randrange(1, 20)]]
        # A frame longer than its total length: the kernel trims it.
        return [ip_packet(src, dst, TCP, seg, ident) + r.randbytes(r.randint(1, 60))]

    def low_ttl(self):
        r = self.r
        src, dst, sport, dport = self.endpoints()
        sport, dport = self.udp_ports(sport, dport)
        return [self.wrap(src, dst, UDP, udp_dgram(src, dst, sport, dport, b"ttl"),
                          ttl=r.choice((0, 1)))]

    def fragments(self):
        r = self.r
        src, dst, sport, dport = self.endpoints(spoofed=True)
        if r.random() < 0.5:
            sport, dport = self.tcp_ports(sport, dport)
            seg = tcp_seg(src, dst, sport, dport, r.choice((0x02, 0x10, 0x12)), r.getrandbits(32),
                          r.getrandbits(32), payload=r.randbytes(r.choice((8, 40, 100))))
            proto = TCP
        else:
            sport, dport = self.udp_ports(sport, dport)
            seg = udp_dgram(src, dst, sport, dport, r.randbytes(r.choice((8, 40, 100))))
            proto = UDP
        n = len(seg)
        shape = r.randrange(8)
        if shape == 0:  # complete, two pieces
            pieces = [(0, 16, True), (16, n - 16, False)]
        elif shape == 1:  # complete, first, middle and last
            pieces = [(0, 8, True), (8, 8, True), (16, n - 16, False)]
        elif shape == 2:
            pieces = [(0, 16, True)]
        elif shape == 3:
            pieces = [(8, 8, True)]
        elif shape == 4:
            pieces = [(16, n - 16, False)]
        elif shape == 5:  # overlapping
            pieces = [(0, 24, True), (16, n - 16, False)]
        elif shape == 6:  # tiny: 8 bytes each
            pieces = [(o, min(8, n - o), o + 8 < n) for o in range(0, n, 8)]
        else:  # complete, last first, with a duplicate
            pieces = [(16, n - 16, False), (0, 16, True), (0, 16, True)]
        ident = self.next_id()
        out = []
        for off, ln, more in pieces:
            frag = (off // 8) | (0x2000 if more else 0)
            out.append(ip_packet(src, dst, proto, seg[off:off + ln], ident, frag=frag))
        return out

    def quote(self, qsrc, qdst, proto, qsport, qdport, ident):
        """An ICMP error's quote: an IPv4 header and the first 8 bytes of TCP or UDP."""
        if proto == TCP:
            l4 = struct.pack("!HHI", qsport, qdport, self.r.getrandbits(32))
        else:
            l4 = struct.pack("!HHHH", qsport, qdport, 8 + 20, 0)
        return ip_packet(qsrc, qdst, proto, l4, ident, tot_len=20 + 40)

    def icmp_error_head(self):
        r = self.r
        typ, code = r.choice(((3, 0), (3, 1), (3, 3), (3, 4), (3, 13), (11, 0), (11, 1),
                              (12, 0), (4, 0)))
        rest = b"\0\0" + struct.pack("!H", r.choice((552, 1000, 1400))) if (typ, code) == (3, 4) \
            else (bytes([r.randrange(20)]) + b"\0\0\0" if typ == 12 else b"\0\0\0\0")
        return typ, code, rest

    def icmp_live(self):
        """An ICMP error about a live entry: from its client, quoting the reply it got
        (VIP:vport -> client:port); from the server side, quoting the request the real
        server got (client:port -> RS:port, quoted IP ID MARKER), to the client."""
        proto, client, cport, rs, rsport = self.r.choice(self.live)
        typ, code, rest = self.icmp_error_head()
        if self.side == "client":
            vport = VPORT_TCP if proto == TCP else VPORT_UDP
            body = self.quote(VIP, client, proto, vport, cport, self.next_id())
            return [self.wrap(client, VIP, ICMP, icmp_msg(typ, code, rest, body))]
        body = self.quote(client, rs, proto, cport, rsport, MARKER)
        return [self.wrap(RS1, client, ICMP, icmp_msg(typ, code, rest, body))]

    def icmp_random(self):
        """An ICMP error with a random quote (never MARKER), or another ICMP message."""
        for _ in range(20):
            pkts = self._icmp_random()
            if not marked(pkts[0]):
                return pkts
        return self.udp()

    def _icmp_random(self):
        r = self.r
        typ, code, rest = self.icmp_error_head()
        if self.side == "client":
            src, dst = r.choice((CL1, bytes([198, 18, r.randrange(256), r.randrange(1, 255)]))), VIP
        else:
            src = RS1
            dst = r.choice((CL1, CL2, bytes([198, 19, r.randrange(256), r.randrange(1, 255)])))
        k = r.randrange(6)
        rnd_addr = lambda: r.choice((VIP, CL1, CL2, RS1, socket.inet_aton("198.51.100.3"),
                                     bytes([198, 18 + r.randrange(2), r.randrange(256), 7])))
        proto = r.choice((TCP, UDP))
        if k == 0:  # a well-formed quote of random addresses and ports
            body = self.quote(rnd_addr(), rnd_addr(), proto, r.randrange(65536),
                              r.choice((80, 53, 8080, 5353, r.randrange(65536))), self.next_id())
        elif k == 1:  # the quote truncated
            body = self.quote(rnd_addr(), rnd_addr(), proto, 80, 8080, self.next_id())[:r.randrange(0, 28)]
        elif k == 2:  # a quote with IPv4 options or a broken IHL
            q = self.quote(rnd_addr(), rnd_addr(), proto, 1234, 80, self.next_id())
            body = bytes([r.choice((0x46, 0x4F, 0x43, 0x40, 0x55))]) + q[1:]
        elif k == 3:  # a quote of another protocol
            body = ip_packet(rnd_addr(), rnd_addr(), r.choice((ICMP, 47, 132)), r.randbytes(8), self.next_id())
        elif k == 4:  # random bytes
            body = r.randbytes(r.randrange(0, 60))
        else:  # not an error: echo request, or a truncated ICMP header
            m = icmp_msg(8, 0, struct.pack("!HH", 7, 1), r.randbytes(16))
            return [self.wrap(src, dst, ICMP, m if r.random() < 0.7 else m[:r.randrange(0, 8)])]
        return [self.wrap(src, dst, ICMP, icmp_msg(typ, code, rest, body))]

    def mutated(self):
        """A valid frame to or from a service port, mutated; the source (client) or the
        destination (server) stays in the spoofed range, and no ICMP carries MARKER."""
        r = self.r
        for _ in range(20):
            base = r.choice((
                lambda: self.tcp_flags(r.randrange(256)),
                self.udp,
                lambda: self.icmp_random() if self.side == "client" else self.udp(),
            ))()[0]
            b = bytearray(base)
            for _ in range(r.randint(1, 4)):
                op = r.random()
                if op < 0.5:
                    b[r.randrange(min(len(b), 64))] ^= 1 << r.randrange(8)
                elif op < 0.7:
                    b[r.randrange(min(len(b), 64))] = r.randrange(256)
                elif op < 0.85 and len(b) > 1:
                    del b[r.randrange(1, len(b)):]
                else:
                    b += r.randbytes(r.randint(1, 64))
            if len(b) >= 20 and r.random() < 0.6:
                ihl = (b[0] & 15) * 4
                if 20 <= ihl <= len(b):
                    b[10:12] = b"\0\0"
                    b[10:12] = csum(bytes(b[:ihl]))
            b = bytes(b)
            if len(b) >= 20:
                if self.side == "client" and b[12:14] != b"\xc6\x12":
                    continue
                if self.side == "server" and b[16:18] != b"\xc6\x13":
                    continue
                if be16(b, 4) == MARKER or b[9] == ICMP and marked(b):
                    continue
            return [b]
        return self.udp()


def build_pool(r, side, live, n, model):
    """n frames of one side (a little more: fragments stay together), their judgements and
    kinds, and the flag byte of each flag-combination frame."""
    g = Gen(r, side, live)
    weights = [("tcp_flags", 30), ("udp", 10), ("malformed_l4", 14), ("with_options", 7),
               ("bad_ip", 7), ("fragments", 6), ("icmp_random", 7), ("mutated", 14)]
    if live:
        weights.append(("icmp_live", 4))
    if side == "server":
        weights.append(("low_ttl", 2))
    kinds = [k for k, w in weights for _ in range(w)]
    frames, judged, kind_of, flag_of = [], [], [], []
    flag = 0
    while len(frames) < n:
        k = r.choice(kinds)
        if k == "tcp_flags":
            pkts = g.tcp_flags(flag)
            flag_of.append((len(frames), flag))
            flag = (flag + 1) & 0xFF
        else:
            pkts = getattr(g, k)()
        for p in pkts:
            frames.append(p)
            judged.append(model.judge(side, p))
            kind_of.append(k)
    return frames, judged, kind_of, flag_of


def socket_in(ns, ifname):
    """An AF_PACKET socket on ifname of namespace ns, and the interface's MAC."""
    libc = ctypes.CDLL(None, use_errno=True)
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    there = os.open(f"/run/netns/{ns}", os.O_RDONLY)
    try:
        if libc.setns(there, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {ns}")
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        s.bind((ifname, 0))
        mac = s.getsockname()[4]
    finally:
        if libc.setns(home, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns back")
        os.close(home)
        os.close(there)
    return s, mac


def parse_live(text):
    proto, client, cport, rs, rsport = text.split(",")
    return ({"tcp": TCP, "udp": UDP}[proto.lower()], socket.inet_aton(client), int(cport),
            socket.inet_aton(rs), int(rsport))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=513)
    ap.add_argument("--count", type=int, default=100000)
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--pool", type=int, default=20000, help="unique frames per side")
    ap.add_argument("--client-ns", required=True)
    ap.add_argument("--client-gw-mac", required=True)
    ap.add_argument("--server-ns", required=True)
    ap.add_argument("--server-gw-mac", required=True)
    ap.add_argument("--live", action="append", default=[], type=parse_live)
    a = ap.parse_args()
    print(f"seed {a.seed}", flush=True)
    t0 = time.monotonic()
    r = random.Random(a.seed)
    model = Model()
    sides = []
    for side, ns, gw in (("client", a.client_ns, a.client_gw_mac),
                         ("server", a.server_ns, a.server_gw_mac)):
        s, mac = socket_in(ns, "eth0")
        eth = bytes.fromhex(gw.replace(":", "")) + mac + b"\x08\x00"
        frames, judged, kind_of, flag_of = build_pool(r, side, a.live, a.pool, model)
        sides.append((side, s, [eth + f for f in frames], judged, kind_of, flag_of))
    t1 = time.monotonic()
    print(f"pool {len(sides[0][2])} client and {len(sides[1][2])} server frames built in "
          f"{t1 - t0:.1f} s", flush=True)

    # Alternately one frame of each side, each side's pool in turn.
    (_, cs, cpool, *_), (_, ss, spool, *_) = sides
    nc, ns_ = len(cpool), len(spool)
    deadline = t1 + a.seconds
    sent = 0
    errors = 0
    i = 0
    while sent < a.count:
        if (i & 255) == 0 and time.monotonic() > deadline:
            break
        try:
            cs.send(cpool[i % nc])
        except OSError:
            errors += 1
        try:
            ss.send(spool[i % ns_])
        except OSError:
            errors += 1
        sent += 2
        i += 1
    t2 = time.monotonic()
    print(f"frames {sent} (client {i}, server {i}) in {t2 - t1:.1f} s "
          f"({sent / max(t2 - t1, 1e-9):.0f}/s), send errors {errors}", flush=True)

    expect = {"local_in_min": 0, "forward_min": 0, "unsure": 0, "opens_min": 0,
              "zombies_min": 0, "live_icmp_server": 0, "passthrough_server": 0,
              "dropped_before_hook": 0, "malformed_client": 0, "malformed_server": 0}
    for reason in REASONS:
        expect["malformed_" + reason] = 0
    kinds = {}
    for side, _, pool, judged, kind_of, flag_of in sides:
        n = len(pool)
        passthrough = [model.passthrough(side, f[14:]) for f in pool]
        cycles, rem = divmod(i, n)
        for idx in range(n):
            times = cycles + (idx < rem)
            if not times:
                continue
            fate, reason, opens, zombie = judged[idx]
            kinds[(side, kind_of[idx])] = kinds.get((side, kind_of[idx]), 0) + times
            if fate == "unsure":
                expect["unsure"] += times
            elif fate == "drop":
                expect["dropped_before_hook"] += times
            else:
                expect["local_in_min" if side == "client" else "forward_min"] += times
                if reason:
                    expect["malformed_" + reason] += times
                    expect["malformed_" + side] += times
                expect["opens_min"] += times * opens
                expect["zombies_min"] += times * zombie
                if side == "server" and kind_of[idx] == "icmp_live":
                    expect["live_icmp_server"] += times
                if side == "server" and passthrough[idx]:
                    expect["passthrough_server"] += times
        flags = {f for idx, f in flag_of if idx < i}
        expect["flags_" + side] = len(flags)
    for (side, k), v in sorted(kinds.items()):
        print(f"kind {side} {k} {v}")
    for k, v in expect.items():
        print(f"expect {k} {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
