#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Writes the seed corpus of the fuzz targets: fuzz/corpus/<target>/<name>.

Deterministic (no randomness, no clock), so the corpus is reproducible: run it again and
`git diff fuzz/corpus` shows nothing. Each target's directory is emptied first, so a seed
removed here disappears there too. Run from anywhere: python3 fuzz/make_corpus.py

- packet_parse: IPv4 packets from the IP header on: TCP SYN/SYN+ACK/ACK/FIN/RST, UDP,
  ICMP echo and errors quoting TCP/UDP/ICMP/a fragment, fragments, IP options, link
  padding, bad checksums, and one of each malformation the parser names;
- packet_rewrite: the valid ones of those behind the target's 8 bytes of parameters
  (flags, new address, new port, a buffer length; see fuzz_targets/packet_rewrite.rs);
- proto_attrs: IPVS_DEFENSE attribute areas as the module writes its replies, and whole
  netlink messages: requests as ipvsdadm builds them, replies, a dump's NLMSG_DONE, ACKs,
  errors with an extended-ack message. Attribute and command numbers are read from
  logic/proto.rs, so the seeds follow the protocol.
"""

import os
import re
import shutil
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CORPUS = os.path.join(HERE, "corpus")


# ----------------------------------------------------------------------------------------
# The protocol's numbers, from logic/proto.rs.

def proto_consts():
    src = open(os.path.join(ROOT, "logic", "proto.rs")).read()
    out = {}
    for mod in ("cmd", "attr"):
        body = re.search(r"pub mod %s \{(.*?)\n\}" % mod, src, re.S).group(1)
        out[mod] = {
            m.group(1): int(m.group(2))
            for m in re.finditer(r"pub const (\w+): u\d+ = (\d+);", body)
        }
    out["VERSION"] = int(re.search(r"pub const VERSION: u8 = (\d+);", src).group(1))
    return out


P = proto_consts()
A = P["attr"]
C = P["cmd"]


# ----------------------------------------------------------------------------------------
# IPv4 packets.

def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def addr(a):
    return bytes(int(x) for x in a.split("."))


def ipv4(src, dst, proto, payload, ttl=64, ident=0x1C46, frag=0x4000, options=b"",
         total=None, good_csum=True):
    """An IPv4 header (with `options`, padded to 4 bytes) and `payload`."""
    options += b"\0" * (-len(options) % 4)
    ihl = 5 + len(options) // 4
    if total is None:
        total = ihl * 4 + len(payload)
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, total, ident, frag, ttl, proto, 0,
                    addr(src), addr(dst)) + options
    c = csum(h) if good_csum else 0xBEEF
    return h[:10] + struct.pack("!H", c) + h[12:] + payload


def pseudo(src, dst, proto, length):
    return addr(src) + addr(dst) + struct.pack("!BBH", 0, proto, length)


def tcp(src, dst, sport, dport, seq, ack, flags, payload=b"", options=b"", window=64240,
        good_csum=True):
    options += b"\1" * (-len(options) % 4)  # NOP padding
    doff = 5 + len(options) // 4
    h = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, doff << 4, flags, window, 0, 0)
    seg = h + options + payload
    c = csum(pseudo(src, dst, 6, len(seg)) + seg) if good_csum else 0x1234
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def udp(src, dst, sport, dport, payload, checksum=True):
    length = 8 + len(payload)
    seg = struct.pack("!HHHH", sport, dport, length, 0) + payload
    c = 0
    if checksum:
        c = csum(pseudo(src, dst, 17, length) + seg) or 0xFFFF
    return seg[:6] + struct.pack("!H", c) + seg[8:]


def icmp(icmp_type, code, rest, body):
    m = struct.pack("!BBH4s", icmp_type, code, 0, rest) + body
    return m[:2] + struct.pack("!H", csum(m)) + m[4:]


FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
CLIENT, VIP, REAL, ROUTER = "198.51.100.7", "192.0.2.100", "10.0.0.2", "203.0.113.1"
SYN_OPTS = (b"\x02\x04\x05\xb4"  # MSS 1460
            b"\x04\x02"  # SACK permitted
            b"\x08\x0a\x00\x01\x02\x03\x00\x00\x00\x00"  # timestamps
            b"\x01\x03\x03\x07")  # NOP, window scale 7


def t_ip(src, dst, seg, **kw):
    return ipv4(src, dst, 6, seg, **kw)


def packets():
    """(name, bytes) of the packet seeds; the first group is well formed."""
    syn = t_ip(CLIENT, VIP, tcp(CLIENT, VIP, 40000, 80, 1000, 0, SYN, options=SYN_OPTS))
    synack = t_ip(REAL, CLIENT, tcp(REAL, CLIENT, 80, 40000, 5000, 1001, SYN | ACK,
                                    options=b"\x02\x04\x05\xb4"))
    get = b"GET / HTTP/1.0\r\nHost: example\r\n\r\n"
    ack_data = t_ip(CLIENT, VIP, tcp(CLIENT, VIP, 40000, 80, 1001, 5001, PSH | ACK, get))
    fin = t_ip(REAL, CLIENT, tcp(REAL, CLIENT, 80, 40000, 5001, 1035, FIN | ACK))
    rst = t_ip(CLIENT, VIP, tcp(CLIENT, VIP, 40000, 80, 1035, 0, RST), frag=0)
    odd = t_ip(CLIENT, VIP, tcp(CLIENT, VIP, 40001, 80, 7, 9, PSH | ACK, b"odd"))
    dns_q = (b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
             b"\x07example\x03com\x00\x00\x01\x00\x01")
    udp_dns = ipv4(CLIENT, VIP, 17, udp(CLIENT, VIP, 53000, 53, dns_q))
    udp_nocsum = ipv4(CLIENT, VIP, 17, udp(CLIENT, VIP, 53001, 53, dns_q, checksum=False))
    # The UDP length covers less than the IP payload: trailing bytes after the datagram.
    u = udp(CLIENT, VIP, 53002, 53, b"abcd")
    udp_short = ipv4(CLIENT, VIP, 17, u + b"TRAILER!")
    echo = ipv4(CLIENT, VIP, 1, icmp(8, 0, b"\x00\x01\x00\x01", b"ping" * 8))
    # Errors quoting what the director forwarded: the quote is the offending packet's
    # header and (at least) its first 8 bytes.
    reply_udp = ipv4(VIP, CLIENT, 17, udp(VIP, CLIENT, 53, 53000, b"answer"))
    port_unreach = ipv4(CLIENT, VIP, 1, icmp(3, 3, b"\0" * 4, reply_udp[:28]), frag=0)
    req_tcp = syn
    frag_needed = ipv4(ROUTER, CLIENT, 1,
                       icmp(3, 4, b"\x00\x00\x05\x78", req_tcp[:60]), frag=0)
    ttl_exceeded = ipv4(ROUTER, REAL, 1, icmp(11, 0, b"\0" * 4, ack_data[:28]), frag=0)
    quote_opts = ipv4(REAL, CLIENT, 6, tcp(REAL, CLIENT, 80, 40000, 1, 2, ACK),
                      options=b"\x94\x04\x00\x00")  # router alert: quoted IHL 6
    unreach_opts = ipv4(CLIENT, REAL, 1, icmp(3, 1, b"\0" * 4, quote_opts[:32]), frag=0)
    quote_icmp = ipv4(CLIENT, VIP, 1, icmp(3, 3, b"\0" * 4, echo[:28]), frag=0)
    quote_frag = ipv4(CLIENT, VIP, 17, udp(CLIENT, VIP, 1, 2, b"x" * 16), frag=0x0010)
    unreach_frag = ipv4(VIP, CLIENT, 1, icmp(3, 3, b"\0" * 4, quote_frag[:28]), frag=0)
    redirect = ipv4(ROUTER, CLIENT, 1, icmp(5, 1, addr(ROUTER), udp_dns[:28]), frag=0)
    # IP options: record route (IHL 15, the maximum) on TCP; router alert on UDP.
    rr = b"\x07\x27\x04" + b"\0" * 36
    ip_opts_tcp = t_ip(CLIENT, VIP, tcp(CLIENT, VIP, 40002, 443, 1, 0, SYN), options=rr)
    ip_opts_udp = ipv4(CLIENT, VIP, 17, udp(CLIENT, VIP, 5353, 53, b"q"),
                       options=b"\x94\x04\x00\x00")
    # Ethernet pads short frames to 46 bytes of payload: link padding after the packet.
    padded = rst + b"\0" * (46 - len(rst))
    gre = ipv4(CLIENT, VIP, 47, b"\x00\x00\x08\x00" + b"\0" * 20)
    valid = [
        ("tcp_syn_options", syn),
        ("tcp_synack", synack),
        ("tcp_ack_http_get", ack_data),
        ("tcp_fin_ack", fin),
        ("tcp_rst", rst),
        ("tcp_odd_payload", odd),
        ("udp_dns_query", udp_dns),
        ("udp_no_checksum", udp_nocsum),
        ("udp_length_below_ip_payload", udp_short),
        ("icmp_echo_request", echo),
        ("icmp_port_unreachable_quoting_udp", port_unreach),
        ("icmp_frag_needed_quoting_tcp_syn", frag_needed),
        ("icmp_time_exceeded_quoting_tcp", ttl_exceeded),
        ("icmp_unreachable_quote_with_ip_options", unreach_opts),
        ("icmp_redirect_quoting_udp", redirect),
        ("icmp_unreachable_quoting_icmp", quote_icmp),
        ("icmp_unreachable_quoting_fragment", unreach_frag),
        ("ip_options_record_route_tcp", ip_opts_tcp),
        ("ip_options_router_alert_udp", ip_opts_udp),
        ("tcp_rst_link_padding", padded),
        ("gre_other_protocol", gre),
    ]
    bad = [
        ("bad_ip_checksum", t_ip(CLIENT, VIP, tcp(CLIENT, VIP, 1, 80, 1, 0, SYN),
                                 good_csum=False)),
        ("bad_tcp_checksum", t_ip(CLIENT, VIP, tcp(CLIENT, VIP, 1, 80, 1, 0, SYN,
                                                   good_csum=False))),
        ("fragment_first_more_fragments", ipv4(CLIENT, VIP, 17, udp_dns[20:], frag=0x2000)),
        ("fragment_later_offset", ipv4(CLIENT, VIP, 17, b"z" * 24, frag=0x0003)),
        ("truncated_total_length_beyond_buffer", syn[:50]),
        ("total_length_below_header", ipv4(CLIENT, VIP, 6, b"", total=12)),
        ("not_ipv4_version6", b"\x60" + syn[1:]),
        ("bad_ihl_4", b"\x44" + syn[1:]),
        ("tcp_bad_data_offset", t_ip(CLIENT, VIP, tcp(CLIENT, VIP, 1, 80, 1, 0, SYN)[:12]
                                     + b"\x40" + tcp(CLIENT, VIP, 1, 80, 1, 0, SYN)[13:])),
        ("tcp_header_beyond_segment", t_ip(CLIENT, VIP, tcp(CLIENT, VIP, 1, 80, 1, 0, SYN)[:12]
                                           + b"\xf0" + tcp(CLIENT, VIP, 1, 80, 1, 0, SYN)[13:])),
        ("udp_bad_length", ipv4(CLIENT, VIP, 17, struct.pack("!HHHH", 1, 53, 200, 0) + b"x")),
        ("icmp_truncated", ipv4(CLIENT, VIP, 1, b"\x03\x03\x00")),
        ("icmp_bad_quote_cut_ports", ipv4(CLIENT, VIP, 1,
                                          icmp(3, 3, b"\0" * 4, reply_udp[:21]), frag=0)),
    ]
    return valid, bad


# ----------------------------------------------------------------------------------------
# Netlink (host order, as netlink is: little-endian here).

def nla(ty, payload):
    a = struct.pack("<HH", 4 + len(payload), ty) + payload
    return a + b"\0" * (-len(a) % 4)


def u8(ty, v):
    return nla(ty, struct.pack("<B", v))


def u16(ty, v):
    return nla(ty, struct.pack("<H", v))


def u32(ty, v):
    return nla(ty, struct.pack("<I", v))


def u64(ty, v):
    return nla(ty, struct.pack("<Q", v))


def in_addr(ty, a):
    return nla(ty, addr(a))  # network order: the address bytes in order


def string(ty, s):
    return nla(ty, s.encode() + b"\0")


NLM_F_REQUEST, NLM_F_MULTI, NLM_F_ACK, NLM_F_DUMP = 0x1, 0x2, 0x4, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3
FAMILY, PID = 0x1F, 4242


def nlmsg(ty, flags, seq, payload, pid=PID):
    return struct.pack("<IHHII", 16 + len(payload), ty, flags, seq, pid) + payload


def genl(command, attrs, version=None):
    return struct.pack("<BBH", command, P["VERSION"] if version is None else version, 0) + attrs


def svc_key(proto=6, vip=VIP, port=80):
    return u8(A["SVC_PROTOCOL"], proto) + in_addr(A["SVC_ADDR"], vip) + u16(A["SVC_PORT"], port)


def stats(base):
    names = ["STAT_CONNS", "STAT_INPKTS", "STAT_OUTPKTS", "STAT_INBYTES", "STAT_OUTBYTES"]
    return b"".join(u64(A[n], base * (i + 1)) for i, n in enumerate(names))


def drops(base):
    names = ["DROP_SYN_RATE", "DROP_EVICTIONS", "DROP_ROUTE", "DROP_ZOMBIE",
             "DROP_TABLE_FULL", "DROP_MALFORMED", "DROP_BLIND_ACK"]
    return b"".join(u64(A[n], base + i) for i, n in enumerate(names))


def attr_areas():
    service = (svc_key() + string(A["SVC_SCHED"], "wlc") + u32(A["SVC_FLAGS"], 0)
               + u32(A["SVC_DESTS"], 2) + stats(1000) + drops(7))
    dest = (svc_key(17, VIP, 53) + in_addr(A["DEST_ADDR"], REAL) + u16(A["DEST_PORT"], 8053)
            + u32(A["DEST_WEIGHT"], 3) + u32(A["DEST_ACTIVE"], 12)
            + u32(A["DEST_INACTIVE"], 4) + stats(55))
    conn = (u8(A["CONN_PROTOCOL"], 6) + in_addr(A["CONN_CADDR"], CLIENT)
            + u16(A["CONN_CPORT"], 40000) + in_addr(A["CONN_VADDR"], VIP)
            + u16(A["CONN_VPORT"], 80) + in_addr(A["CONN_DADDR"], REAL)
            + u16(A["CONN_DPORT"], 8080) + u8(A["CONN_STATE"], 3) + u32(A["CONN_EXPIRES"], 59))
    glob = (stats(1 << 40) + drops(1 << 33) + u64(A["STAT_ENTRIES"], 1234)
            + u64(A["STAT_CONN_MAX"], 1 << 20) + u64(A["KNOWN_CLIENT_PASSES"], 99))
    defense = (u32(A["DEF_LEVEL"], 2) + u32(A["DEF_EFFECTIVE"], 1)
               + u64(A["DEF_AVAILABLE"], 100000) + u64(A["DEF_AMEMTHRESH"], 1024)
               + u32(A["DEF_DROP_RATE"], 10) + u64(A["DEF_SWITCHES"], 3)
               + u64(A["KNOWN_CLIENT_PASSES"], 5) + u32(A["DEF_FILL_HIGH"], 90)
               + u32(A["DEF_FILL_LOW"], 70))
    defense_old = (u32(A["DEF_LEVEL"], 0) + u32(A["DEF_EFFECTIVE"], 0)
                   + u64(A["DEF_AVAILABLE"], 7) + u32(A["DEF_DROP_RATE"], 0))
    # nla_put_u64_64bit puts a PAD attribute before a u64 that would be misaligned.
    padded_u64 = svc_key() + nla(A["PAD"], b"") + u64(A["STAT_CONNS"], 1)
    # The two flag bits of nla_type (nested, network order) and a duplicated attribute
    # (the last one wins), an empty attribute, an unknown one.
    flagged = (nla(A["SVC_PROTOCOL"] | 0x8000, b"\x06") + nla(A["SVC_ADDR"] | 0x4000, addr(VIP))
               + u16(A["SVC_PORT"], 80) + u16(A["SVC_PORT"], 81) + nla(A["SVC_SCHED"], b"")
               + nla(A["MAX"] + 1, b"future"))
    wrong_size = svc_key()[:8] + u32(A["SVC_PORT"], 80) + string(A["SVC_SCHED"], "rr")
    sched_no_nul = svc_key() + nla(A["SVC_SCHED"], b"mh")
    return [
        ("area_service_reply", service),
        ("area_dest_reply", dest),
        ("area_conn_reply", conn),
        ("area_global_stats_reply", glob),
        ("area_defense_reply", defense),
        ("area_defense_reply_old_module", defense_old),
        ("area_pad_before_u64", padded_u64),
        ("area_flag_bits_duplicates_unknown", flagged),
        ("area_port_of_wrong_size", wrong_size),
        ("area_sched_without_nul", sched_no_nul),
    ]


def messages():
    areas = dict(attr_areas())
    new_service = nlmsg(FAMILY, NLM_F_REQUEST | NLM_F_ACK, 7,
                        genl(C["NEW_SERVICE"], svc_key() + string(A["SVC_SCHED"], "rr")))
    dump_req = nlmsg(FAMILY, NLM_F_REQUEST | NLM_F_DUMP, 8, genl(C["GET_CONN"], b""))
    reply = nlmsg(FAMILY, 0, 9, genl(C["GET_SERVICE"], areas["area_service_reply"]), pid=0)
    # A dump: two replies flagged multi, then NLMSG_DONE (with its int 0).
    c1 = nlmsg(FAMILY, NLM_F_MULTI, 10, genl(C["GET_CONN"], areas["area_conn_reply"]), pid=0)
    done = nlmsg(NLMSG_DONE, NLM_F_MULTI, 10, struct.pack("<i", 0), pid=0)
    dump = c1 + c1 + done
    # The ACK of a request: error 0 and the request's header.
    ack = nlmsg(NLMSG_ERROR, 0x100, 7, struct.pack("<i", 0) + new_service[:16], pid=0)
    # An error with an extended-ack message (NLMSGERR_ATTR_MSG = 1), the request's
    # header quoted with its payload (as without NETLINK_CAP_ACK).
    ext = nla(1, b"service exists\0")
    err = nlmsg(NLMSG_ERROR, 0x200, 7, struct.pack("<i", -17) + new_service + ext, pid=0)
    err_no_msg = nlmsg(NLMSG_ERROR, 0, 7, struct.pack("<i", -22) + new_service, pid=0)
    # A dump that failed: NLMSG_DONE carrying a non-zero error and an ext-ack message.
    done_err = nlmsg(NLMSG_DONE, NLM_F_MULTI, 10,
                     struct.pack("<i", -1) + nla(1, b"not permitted\0"), pid=0)
    # The controller's answer to CTRL_CMD_GETFAMILY: family id (attr 1) and name (2).
    ctrl = nlmsg(0x10, 0, 1, genl(1, u16(1, FAMILY) + string(2, "IPVS_DEFENSE"), version=2),
                 pid=0)
    defense = nlmsg(FAMILY, 0, 11, genl(C["GET_DEFENSE"], areas["area_defense_reply"]), pid=0)
    return [
        ("msg_new_service_request", new_service),
        ("msg_get_conn_dump_request", dump_req),
        ("msg_get_service_reply", reply),
        ("msg_conn_dump_two_and_done", dump),
        ("msg_ack", ack),
        ("msg_error_eexist_ext_ack", err),
        ("msg_error_einval", err_no_msg),
        ("msg_done_with_error", done_err),
        ("msg_ctrl_getfamily_reply", ctrl),
        ("msg_defense_reply", defense),
    ]


# ----------------------------------------------------------------------------------------

def write(target, seeds):
    d = os.path.join(CORPUS, target)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    names = set()
    for name, data in seeds:
        assert name not in names, name
        names.add(name)
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    return len(seeds), sum(len(b) for _, b in seeds)


def params(flags, new_addr, port, k):
    return struct.pack("!B4sHB", flags, addr(new_addr), port, k)


def main():
    if sys.byteorder != "little":
        sys.exit("netlink seeds are written little-endian (host order of x86-64)")
    valid, bad = packets()
    out = {"packet_parse": valid + bad}
    rw = []
    for i, (name, pkt) in enumerate(valid):
        # Checksums as they are, fixed (0x80), fixed with 0xFFFF for a computed zero and
        # UDP's 0 (0xC0); a buffer length cutting the packet at various places.
        flags = (0x80, 0x00, 0xC0, 0xA0)[i % 4]
        rw.append(("%s_%02x" % (name, flags), params(flags, REAL, 8080, (i * 13) % 80) + pkt))
    rw.append(("bad_tcp_checksum_kept", params(0x00, VIP, 80, 255) + dict(bad)["bad_tcp_checksum"]))
    rw.append(("bad_ip_checksum_kept", params(0x20, VIP, 80, 40) + dict(bad)["bad_ip_checksum"]))
    rw.append(("ttl_one", params(0x80, "0.0.0.0", 0, 39) + valid[0][1][:8] + b"\x01"
               + valid[0][1][9:]))
    rw.append(("vip_all_ones", params(0x80, "255.255.255.255", 65535, 0) + valid[1][1]))
    out["packet_rewrite"] = rw
    out["proto_attrs"] = attr_areas() + messages()
    total = 0
    for target, seeds in out.items():
        n, size = write(target, seeds)
        total += size
        print("%-15s %3d seeds %6d bytes" % (target, n, size))
    print("total %d bytes" % total)


if __name__ == "__main__":
    main()
