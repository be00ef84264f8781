#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Fuzzes the IPVS_DEFENSE generic netlink family with random and mutated requests.

    genl_fuzz.py [--seed N] [--count N] [--time-limit S] [--populate N] [--keep]
                 [--expect privileged|unprivileged]

Sends --count netlink messages (default 10,000) in cases of one or more messages per send:
valid requests of every command with random attribute values; random attribute types and
lengths (0-length, oversized); unknown attribute numbers; unknown commands (0, 15..255);
truncated generic netlink headers; nlmsghdr lengths that lie (shorter or longer than the
data, below 16); NLA_F_NESTED attributes holding garbage; random version, reserved and
flags fields; byte-level mutations of valid requests; dumps (GET_SERVICE, GET_DEST,
GET_CONN) abandoned after the first recv (the socket is closed and a new one opened);
several messages in one send. Deterministic from --seed (printed first).

Every message the kernel parses gets a unique sequence number and the type of the family
(the fuzzer rewrites them after building the bytes, walking them as netlink_rcv_skb does),
so that garbage never reaches another family and each reply maps to its request.

Checks (each failure is a violation; the run goes on, and exits 1 at the end if any):
  - every reply parses: nlmsghdr lengths, NLMSG_ERROR with the request's header echoed
    (and its payload unless NLM_F_CAPPED), well-formed extended-ack TLVs (NLMSGERR_ATTR_MSG
    a NUL-terminated string, NLMSGERR_ATTR_OFFS inside the request), NLMSG_DONE, and data
    messages whose command, version and attributes (types, lengths, values) are the
    family's; no reply to an unknown sequence number, none after a request's final answer,
    none truncated (MSG_TRUNC);
  - a request with NLM_F_ACK gets exactly one answer (NLMSG_ERROR, or NLMSG_DONE for a
    dump it started); no request gets two; a dump never stalls;
  - EPERM carries the extended-ack message "CAP_NET_ADMIN is required", and only comes
    without CAP_NET_ADMIN, for a command that needs it;
  - without CAP_NET_ADMIN, a command that needs it never succeeds and never reaches its
    handler: its answer is EPERM, EOPNOTSUPP, EBUSY (a dump already running on the socket),
    or EINVAL from the netlink core (a core message listed in CORE_MSGS, or none for a
    message shorter than nlmsghdr + genlmsghdr);
  - EINVAL carries an extended-ack message, except in the one case where the core gives
    none: a message of our family whose nlmsg_len is 16..19, shorter than nlmsghdr +
    genlmsghdr (genl_family_rcv_msg: "nlmsg_len < nlmsg_msg_size(hdrlen)" returns -EINVAL
    with no message). Every other EINVAL, whether from genl_header_check, the policy
    (lib/nlattr.c: every refusal sets a message) or the module's handlers (do or dump, in
    NLMSG_ERROR or NLMSG_DONE), must carry one. Messages the core drops without any answer
    (nlmsg_len below 16 or beyond the data: netlink_rcv_skb stops there) are counted as
    "ignored", and messages it does not hand to the family (no NLM_F_REQUEST, or a type
    below NLMSG_MIN_TYPE) must get no error, and an ack (error 0) only with NLM_F_ACK.
    Other errors need no message (none comes with the core's EOPNOTSUPP for an unknown
    command or a do/dump the family lacks, nor with EBUSY for a second dump on a socket,
    nor with the module's ENOENT from the GET_DEST dump), but an errno outside
    KNOWN_ERRNOS is a violation;
  - the run reaches --count messages within --time-limit (else it fails, saying the rate).
    Measured on the test kernel under emulation (TCG, KASAN), beside other guests: 73-167
    messages/s, so the default 10,000 take 60-140 s of the default 240 s (42/s needed).

As root, the fuzzer reads the defense level first and, unless --keep, ends with FLUSH and
that level set again (then checks both). --populate N first adds N services (and 300 real
servers to service TCP 10.255.0.1:80, so that dumps span several messages), as root.
Prints per-outcome counts and "RESULT: ok" or "RESULT: FAIL ...".
"""
import argparse
import errno
import os
import random
import select
import socket
import struct
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ beside the tests
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import genl  # noqa: E402

NLMSG_HDRLEN = 16
GENL_HDRLEN = 4
NLM_F_REQUEST, NLM_F_MULTI, NLM_F_ACK, NLM_F_ECHO = 0x1, 0x2, 0x4, 0x8
NLM_F_DUMP_INTR = 0x10
NLM_F_DUMP = 0x300
NLM_F_CAPPED, NLM_F_ACK_TLVS = 0x100, 0x200
NLMSG_ERROR, NLMSG_DONE, NLMSG_MIN_TYPE = 2, 3, 0x10
NLA_F_NESTED, NLA_F_NET_BYTEORDER = 0x8000, 0x4000
NETLINK_CAP_ACK = 10
NLMSGERR_ATTR_MSG, NLMSGERR_ATTR_OFFS, NLMSGERR_ATTR_COOKIE = 1, 2, 3
NLMSGERR_ATTR_POLICY, NLMSGERR_ATTR_MISS_TYPE, NLMSGERR_ATTR_MISS_NEST = 4, 5, 6
CAP_NET_ADMIN = 12
EPERM_MSG = "CAP_NET_ADMIN is required"

# Commands (logic/proto.rs).
NEW_SERVICE, SET_SERVICE, DEL_SERVICE, GET_SERVICE = 1, 2, 3, 4
NEW_DEST, SET_DEST, DEL_DEST, GET_DEST, GET_CONN = 5, 6, 7, 8, 9
GET_STATS, ZERO, FLUSH, GET_DEFENSE, SET_DEFENSE = 10, 11, 12, 13, 14
CMD_NAMES = {1: "NEW_SERVICE", 2: "SET_SERVICE", 3: "DEL_SERVICE", 4: "GET_SERVICE",
             5: "NEW_DEST", 6: "SET_DEST", 7: "DEL_DEST", 8: "GET_DEST", 9: "GET_CONN",
             10: "GET_STATS", 11: "ZERO", 12: "FLUSH", 13: "GET_DEFENSE", 14: "SET_DEFENSE"}
DO_CMDS = {1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 14}  # OPS in director/control.rs
DUMP_CMDS = {GET_SERVICE, GET_DEST, GET_CONN}
ADMIN_DO = {1, 2, 3, 5, 6, 7, 11, 12, 14}
ADMIN_DUMP = {GET_CONN}
REPLY_DO = {GET_SERVICE, GET_STATS, GET_DEFENSE}  # doit commands that answer with data

# Attributes (logic/proto.rs): type -> payload kind.
A_SVC_PROTOCOL, A_SVC_ADDR, A_SVC_PORT, A_SVC_SCHED, A_SVC_FLAGS = 1, 2, 3, 4, 5
A_DEST_ADDR, A_DEST_PORT, A_DEST_WEIGHT = 7, 8, 9
A_DEF_LEVEL = 33
A_PAD = 42
ATTR_MAX = 45
U8, U16, U32, U64, STR = "u8", "u16", "u32", "u64", "str"
ATTR_KIND = {1: U8, 2: U32, 3: U16, 4: STR, 5: U32, 6: U32, 7: U32, 8: U16, 9: U32, 10: U32,
             11: U32, 24: U8, 25: U32, 26: U16, 27: U32, 28: U16, 29: U32, 30: U16, 31: U8,
             32: U32, 33: U32, 34: U32, 37: U32, 43: U32, 44: U32}
for _t in list(range(12, 24)) + [35, 36, 38, 39, 40, 41, 45]:
    ATTR_KIND[_t] = U64
KIND_LEN = {U8: 1, U16: 2, U32: 4, U64: 8}
# Attributes a request may carry (the rest of 1..ATTR_MAX is REPLY_ONLY: NLA_REJECT).
REQUEST_ATTRS = [1, 2, 3, 4, 5, 7, 8, 9, 33]
# What each data reply must carry.
REPLY_REQUIRED = {
    GET_SERVICE: {1, 2, 3, 4, 5, 6, 12, 13, 14, 15, 16},
    GET_DEST: {1, 2, 3, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
    GET_CONN: set(range(24, 33)),
    GET_STATS: {39, 40, 41},
    GET_DEFENSE: {33, 34, 35, 36, 37, 38, 41, 43, 44},
}
SCHEDS = [b"rr", b"wrr", b"lc", b"wlc", b"mh"]

# Extended-ack messages of the netlink core (genetlink.c genl_header_check, lib/nlattr.c):
# the only EINVAL messages a request may get without reaching the family's handlers.
CORE_MSGS = {
    "Unknown attribute type", "invalid attribute length", "NLA_F_NESTED not expected",
    "NLA_F_NESTED is missing", "Attribute failed policy validation",
    "bytes leftover after parsing attributes", "genlmsghdr.reserved field is not 0",
    "ambiguous or reserved bits set in nlmsg_flags", "allowed policy recursion depth exceeded",
}
# Answers a request may get at all; anything else is a violation.
KNOWN_ERRNOS = {errno.EINVAL, errno.EPERM, errno.EOPNOTSUPP, errno.ENOENT, errno.EEXIST,
                errno.ENOSPC, errno.EBUSY, errno.ENOMEM, errno.ERANGE, errno.EMSGSIZE}

VIPS = [b"\x0a\xff\x00\x01", b"\x0a\xff\x00\x02", b"\x0a\xff\x00\x03"]
RSS = [b"\x0a\xfe\x00\x01", b"\x0a\xfe\x00\x02", b"\x0a\xfe\x00\x03"]
BIG_KEY = (6, VIPS[0], 80)  # --populate gives it 300 real servers


def align4(n):
    return (n + 3) & ~3


def ename(e):
    # 95 is both ENOTSUP and EOPNOTSUPP; the kernel means the latter.
    return "EOPNOTSUPP" if e == errno.EOPNOTSUPP else errno.errorcode.get(e, str(e))


def nla(t, payload):
    return genl.attr(t, payload)


def has_net_admin():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("CapEff:"):
                return bool(int(line.split()[1], 16) >> CAP_NET_ADMIN & 1)
    return False


class ParseError(Exception):
    pass


def parse_tlvs(b, what):
    """Strict attribute parse: every attribute fits, padding included (the last one may
    end unpadded)."""
    out = []
    off = 0
    while off < len(b):
        if len(b) - off < 4:
            raise ParseError(f"{what}: {len(b) - off} stray bytes after the attributes")
        n, t = struct.unpack_from("HH", b, off)
        if n < 4 or off + n > len(b):
            raise ParseError(f"{what}: attribute type {t} length {n} does not fit")
        out.append((t, b[off + 4:off + n]))
        off += align4(n)
    return out


# ---------------------------------------------------------------------------------------
# Message generation.

class Gen:
    def __init__(self, rng, fam):
        self.r = rng
        self.fam = fam

    def rbytes(self, n):
        return self.r.randbytes(n)

    # Values, mostly from small pools so that requests hit existing services.
    def proto(self):
        r = self.r.random()
        return 6 if r < 0.5 else 17 if r < 0.92 else self.r.choice([0, 1, 255, 132])

    def vip(self):
        r = self.r.random()
        return self.r.choice(VIPS) if r < 0.85 else b"\0\0\0\0" if r < 0.9 else self.rbytes(4)

    def port(self):
        r = self.r.random()
        if r < 0.6:
            return self.r.choice([80, 1, 2, 3, 4, 5, 6, 7, 8])
        return 0 if r < 0.65 else self.r.randint(0, 65535)

    def rs(self):
        r = self.r.random()
        return self.r.choice(RSS) if r < 0.85 else b"\0\0\0\0" if r < 0.9 else self.rbytes(4)

    def rport(self):
        r = self.r.random()
        return self.r.choice([8080, 8081, 8082]) if r < 0.8 else 0 if r < 0.85 else \
            self.r.randint(0, 65535)

    def sched(self):
        r = self.r.random()
        if r < 0.8:
            return self.r.choice(SCHEDS) + b"\0"
        if r < 0.9:
            return b"bogus\0"
        return bytes(self.r.randint(0x21, 0x7e) for _ in range(self.r.randint(0, 20))) + b"\0"

    def weight(self):
        r = self.r.random()
        return self.r.randint(0, 100) if r < 0.7 else self.r.randint(0, 65535) if r < 0.9 \
            else self.r.randint(65536, 2**32 - 1)

    def level(self):
        r = self.r.random()
        return self.r.randint(0, 2) if r < 0.85 else self.r.randint(3, 2**32 - 1)

    def maybe(self, p, a):
        return a if self.r.random() < p else b""

    def svc_key(self):
        return (self.maybe(0.95, nla(A_SVC_PROTOCOL, struct.pack("B", self.proto())))
                + self.maybe(0.95, nla(A_SVC_ADDR, self.vip()))
                + self.maybe(0.95, nla(A_SVC_PORT, struct.pack("H", self.port()))))

    def big_key(self):
        p, a, port = BIG_KEY
        return (nla(A_SVC_PROTOCOL, struct.pack("B", p)) + nla(A_SVC_ADDR, a)
                + nla(A_SVC_PORT, struct.pack("H", port)))

    def dest_key(self):
        return (self.maybe(0.95, nla(A_DEST_ADDR, self.rs()))
                + self.maybe(0.95, nla(A_DEST_PORT, struct.pack("H", self.rport()))))

    def flags_attr(self, p):
        v = 0 if self.r.random() < 0.85 else self.r.getrandbits(32)
        return self.maybe(p, nla(A_SVC_FLAGS, struct.pack("I", v)))

    def valid_cmd(self):
        # FLUSH and DEL_SERVICE are rare, so that the configuration stays large enough for
        # multi-message dumps.
        cmds = list(range(1, 15))
        w = [6, 3, 1, 5, 6, 3, 2, 4, 2, 2, 2, 0.15, 2, 2]
        return self.r.choices(cmds, w)[0]

    def valid(self, cmd=None):
        """A well-formed request of one command: (cmd, flags, attrs)."""
        cmd = cmd or self.valid_cmd()
        dump = cmd in (GET_DEST, GET_CONN) or (cmd == GET_SERVICE and self.r.random() < 0.5)
        if cmd == NEW_SERVICE:
            a = self.svc_key() + self.maybe(0.95, nla(A_SVC_SCHED, self.sched())) \
                + self.flags_attr(0.2)
        elif cmd == SET_SERVICE:
            a = self.svc_key() + self.maybe(0.7, nla(A_SVC_SCHED, self.sched())) \
                + self.flags_attr(0.5)
        elif cmd in (DEL_SERVICE,):
            a = self.svc_key()
        elif cmd == GET_SERVICE:
            a = b"" if dump else self.svc_key()
        elif cmd in (NEW_DEST, SET_DEST):
            w = self.maybe(0.9 if cmd == SET_DEST else 0.6,
                           nla(A_DEST_WEIGHT, struct.pack("I", self.weight())))
            a = self.svc_key() + self.dest_key() + w
        elif cmd == DEL_DEST:
            a = self.svc_key() + self.dest_key()
        elif cmd == GET_DEST:
            a = self.big_key() if self.r.random() < 0.4 else self.svc_key()
        elif cmd == ZERO:
            a = self.svc_key() if self.r.random() < 0.5 else b""
        elif cmd == SET_DEFENSE:
            a = self.maybe(0.95, nla(A_DEF_LEVEL, struct.pack("I", self.level())))
        else:  # GET_CONN, GET_STATS, FLUSH, GET_DEFENSE
            a = b""
        flags = NLM_F_REQUEST | (NLM_F_ACK if self.r.random() < 0.85 else 0) \
            | (NLM_F_DUMP if dump else 0) | (NLM_F_ECHO if self.r.random() < 0.03 else 0)
        return cmd, flags, a

    def msg(self, cmd, flags, attrs, version=1, reserved=0, length=None, typ=None):
        body = struct.pack("BBH", cmd, version, reserved) + attrs
        n = NLMSG_HDRLEN + len(body) if length is None else length
        m = struct.pack("IHHII", n & 0xFFFFFFFF, self.fam if typ is None else typ, flags, 0,
                        0) + body
        return m + b"\0" * (align4(len(m)) - len(m))

    def random_attr(self, t=None):
        t = self.r.randint(1, ATTR_MAX) if t is None else t
        kind = ATTR_KIND.get(t)
        r = self.r.random()
        if r < 0.3 and kind in KIND_LEN:
            n = KIND_LEN[kind]
        elif r < 0.45:
            n = 0
        elif r < 0.75:
            n = self.r.randint(1, 16)
        elif r < 0.95:
            n = self.r.randint(17, 600)
        else:
            n = self.r.randint(1000, 4000)
        if kind == STR and self.r.random() < 0.5 and n > 0:
            p = bytes(self.r.randint(0x21, 0x7e) for _ in range(n - 1)) + b"\0"
        else:
            p = self.rbytes(n)
        return nla(t, p)

    # Case kinds: each returns a list of messages (bytes).
    def k_valid(self):
        return [self.msg(*self.valid())]

    def k_random_attrs(self):
        cmd = self.r.randint(1, 14)
        attrs = b"".join(self.random_attr(self.r.choice(REQUEST_ATTRS)
                                          if self.r.random() < 0.5 else None)
                         for _ in range(self.r.randint(0, 6)))
        flags = NLM_F_REQUEST | NLM_F_ACK | (NLM_F_DUMP if cmd in DUMP_CMDS and
                                             self.r.random() < 0.5 else 0)
        return [self.msg(cmd, flags, attrs)]

    def k_unknown_attr(self):
        cmd, flags, a = self.valid()
        for _ in range(self.r.randint(1, 3)):
            r = self.r.random()
            if r < 0.2:
                t = 0
            elif r < 0.5:
                t = self.r.randint(ATTR_MAX + 1, 64)
            elif r < 0.8:
                t = self.r.randint(ATTR_MAX + 1, 0x3FFF)
            else:  # a known type with NLA_F_NET_BYTEORDER (nla_type() masks it off)
                t = self.r.choice(REQUEST_ATTRS) | NLA_F_NET_BYTEORDER
            extra = nla(t, self.rbytes(self.r.choice([0, 1, 2, 4, 8, 13])))
            a = a + extra if self.r.random() < 0.5 else extra + a
        return [self.msg(cmd, flags, a)]

    def k_unknown_cmd(self):
        cmd = 0 if self.r.random() < 0.2 else self.r.randint(15, 255)
        a = self.valid()[2] if self.r.random() < 0.5 else b"".join(
            self.random_attr() for _ in range(self.r.randint(0, 3)))
        flags = NLM_F_REQUEST | NLM_F_ACK | (NLM_F_DUMP if self.r.random() < 0.3 else 0)
        return [self.msg(cmd, flags, a)]

    def k_truncated(self):
        r = self.r.random()
        if r < 0.5:  # nlmsghdr and 0..3 bytes of genlmsghdr, lengths consistent
            k = self.r.randint(0, 3)
            body = bytes([self.r.randint(0, 16)]) + self.rbytes(k - 1) if k else b""
            flags = NLM_F_REQUEST | NLM_F_ACK | (NLM_F_DUMP if self.r.random() < 0.3 else 0)
            m = struct.pack("IHHII", 16 + k, self.fam, flags, 0, 0) + body
            return [m + b"\0" * (align4(len(m)) - len(m))]
        # a valid request whose last attribute is cut (the attribute claims more than is
        # left) or whose attribute area ends in 1..3 stray bytes
        cmd, flags, a = self.valid()
        a = a + nla(self.r.choice(REQUEST_ATTRS), self.rbytes(8))
        if r < 0.8:
            a = a[:len(a) - self.r.randint(1, 11)]
        else:
            a = a + self.rbytes(self.r.randint(1, 3))
        body = struct.pack("BBH", cmd, 1, 0) + a
        m = struct.pack("IHHII", 16 + len(body), self.fam, flags, 0, 0) + body
        return [m + b"\0" * (align4(len(m)) - len(m))]

    def any_single(self):
        return self.r.choice([self.k_valid, self.k_random_attrs, self.k_unknown_attr,
                              self.k_nested, self.k_header])()[0]

    def k_lying_len(self):
        m = bytearray(self.any_single())
        actual = len(m)
        r = self.r.random()
        if r < 0.2:
            n = self.r.randint(0, 15)
        elif r < 0.6:
            n = self.r.randint(16, actual - 1)
        elif r < 0.9:
            n = actual + self.r.randint(1, 256)
        else:
            n = self.r.choice([0xFFFF, 0x10000, 0x7FFFFFFF, 0xFFFFFFFF])
        struct.pack_into("I", m, 0, n)
        out = [bytes(m)]
        if self.r.random() < 0.5:  # something after it: parsed or dropped, per the lie
            out.append(self.msg(*self.valid()) if self.r.random() < 0.6
                       else self.rbytes(self.r.randint(1, 64)))
        return out

    def nested_garbage(self, depth=0):
        if depth < 3 and self.r.random() < 0.5:
            inner = b"".join(self.nested_garbage(depth + 1) if self.r.random() < 0.3
                             else self.random_attr(self.r.randint(0, 60))
                             for _ in range(self.r.randint(0, 4)))
        else:
            inner = self.rbytes(self.r.choice([0, 1, 3, 4, 7, 16, 64, 300]))
        t = self.r.choice(REQUEST_ATTRS) if self.r.random() < 0.6 else \
            self.r.randint(0, 0x3FFF)
        return nla(t | NLA_F_NESTED, inner)

    def k_nested(self):
        cmd, flags, a = self.valid()
        for _ in range(self.r.randint(1, 3)):
            g = self.nested_garbage()
            a = a + g if self.r.random() < 0.5 else g + a
        return [self.msg(cmd, flags, a)]

    def k_header(self):
        cmd, flags, a = self.valid()
        version, reserved = self.r.randint(0, 255), 0
        r = self.r.random()
        if r < 0.25:
            reserved = self.r.randint(1, 65535)
        elif r < 0.5:
            flags = self.r.getrandbits(16)
        elif r < 0.6:
            flags = (flags & ~NLM_F_DUMP) | self.r.choice([0x100, 0x200])
        return [self.msg(cmd, flags, a, version=version, reserved=reserved)]

    def k_mutate(self):
        m = bytearray(self.msg(*self.valid()))
        for _ in range(self.r.randint(1, 4)):
            r = self.r.random()
            if r < 0.35 and len(m) > 16:  # flip bits past the nlmsghdr
                i = self.r.randrange(16, len(m))
                m[i] ^= 1 << self.r.randrange(8)
            elif r < 0.55 and len(m) > 16:  # a random byte anywhere after the length
                m[self.r.randrange(4, len(m))] = self.r.getrandbits(8)
            elif r < 0.7:  # truncate, keeping nlmsg_len honest
                m = m[:self.r.randint(16, len(m))]
                struct.pack_into("I", m, 0, len(m))
            elif r < 0.85:  # insert random bytes after the genl header
                i = self.r.randint(min(20, len(m)), len(m))
                m[i:i] = self.rbytes(self.r.randint(1, 12))
                struct.pack_into("I", m, 0, len(m))
            else:  # duplicate an attribute region
                if len(m) > 24:
                    i = self.r.randrange(20, len(m))
                    j = self.r.randint(i, len(m))
                    m[j:j] = m[i:j]
                    struct.pack_into("I", m, 0, len(m))
        return [bytes(m) + b"\0" * (align4(len(m)) - len(m))]

    def k_dump(self):
        cmd = self.r.choice([GET_SERVICE, GET_SERVICE, GET_DEST, GET_CONN])
        _, _, a = self.valid(cmd)
        if cmd == GET_SERVICE:
            a = b""
        flags = NLM_F_REQUEST | NLM_F_DUMP | (NLM_F_ACK if self.r.random() < 0.5 else 0)
        return [self.msg(cmd, flags, a)]

    def k_multi(self):
        gens = [self.k_valid, self.k_random_attrs, self.k_unknown_attr, self.k_unknown_cmd,
                self.k_truncated, self.k_nested, self.k_header, self.k_mutate, self.k_dump,
                self.k_lying_len]
        out = []
        for _ in range(self.r.randint(2, 6)):
            out += self.r.choice(gens)()
            if sum(map(len, out)) > 12000:  # the answers echo the requests: stay well
                break                       # below the socket's receive buffer
        return out

    def k_bulk(self):
        out = []
        for _ in range(self.r.randint(10, 40)):
            out.append(self.msg(*self.valid(self.r.choice([NEW_SERVICE, NEW_SERVICE,
                                                           NEW_DEST]))))
        return out


KINDS = [("valid", 20), ("random_attrs", 14), ("unknown_attr", 8), ("unknown_cmd", 8),
         ("truncated", 6), ("lying_len", 8), ("nested", 8), ("header", 6), ("mutate", 12),
         ("dump", 3), ("dump_abandon", 5), ("multi", 8), ("bulk", 2)]


# ---------------------------------------------------------------------------------------
# The kernel's view of a send, and the checks.

class Sent:
    """One message as netlink_rcv_skb parses it."""

    def __init__(self, buf, off, n):
        self.off, self.n = off, n
        self.len, self.type, self.flags, self.seq, self.pid = \
            struct.unpack_from("IHHII", buf, off)
        self.hdr = bytes(buf[off:off + 16])
        self.payload = bytes(buf[off + 16:off + n])
        self.to_family = bool(self.flags & NLM_F_REQUEST) and self.type >= NLMSG_MIN_TYPE
        self.cmd = self.payload[0] if len(self.payload) >= 1 else None
        self.is_dump = (self.flags & NLM_F_DUMP) == NLM_F_DUMP
        self.finals = []  # ("error"|"done", errno, msg)
        self.data = 0
        self.datagrams = set()


def walk_and_fix(buf, fam, next_seq):
    """Walks buf as netlink_rcv_skb does; gives every message it would parse the family's
    type (control types below NLMSG_MIN_TYPE are kept) and a unique sequence number."""
    sent = []
    off = 0
    while len(buf) - off >= NLMSG_HDRLEN:
        n, typ = struct.unpack_from("IH", buf, off)
        if n < NLMSG_HDRLEN or len(buf) - off < n:
            break
        if typ >= NLMSG_MIN_TYPE and typ != fam:
            struct.pack_into("H", buf, off + 4, fam)
        struct.pack_into("I", buf, off + 8, next_seq())
        sent.append(Sent(buf, off, n))
        off += min(align4(n), len(buf) - off)
    return sent, off


class Fuzzer:
    def __init__(self, args, fam, privileged):
        self.args = args
        self.fam = fam
        self.priv = privileged
        self.rng = random.Random(args.seed)
        self.gen = Gen(self.rng, fam)
        self.seq = 1000
        self.sock = None
        self.portid = None
        self.counts = {}
        self.msg_counts = {}
        self.cmd_counts = {}
        self.violations = []
        self.vkinds = {}
        self.vfirst = {}
        self.messages = 0
        self.cases = 0
        self.new_socket()

    def next_seq(self):
        self.seq += 1
        return self.seq

    def bump(self, key, d=None, n=1):
        d = self.counts if d is None else d
        d[key] = d.get(key, 0) + n

    def new_socket(self):
        if self.sock:
            self.sock.close()
        s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, genl.NETLINK_GENERIC)
        s.setsockopt(genl.SOL_NETLINK, genl.NETLINK_EXT_ACK, 1)
        self.cap_ack = self.rng.random() < 0.15
        if self.cap_ack:
            s.setsockopt(genl.SOL_NETLINK, NETLINK_CAP_ACK, 1)
        s.bind((0, 0))
        self.sock = s
        self.portid = s.getsockname()[0]

    def violate(self, kind, text, case_kind, buf, datagrams):
        self.bump(kind, self.vkinds)
        self.vfirst.setdefault(kind, text)
        if len(self.violations) < self.args.show:
            self.violations.append((kind, text, case_kind, bytes(buf), list(datagrams)))

    # -- one case ------------------------------------------------------------------------
    def run_case(self, kind):
        g = self.gen
        abandon = kind == "dump_abandon"
        msgs = getattr(g, "k_" + ("dump" if abandon else kind))()
        buf = bytearray(b"".join(msgs))
        sent, _ = walk_and_fix(buf, self.fam, self.next_seq)
        self.messages += len(msgs)
        self.cases += 1
        if len(msgs) > len(sent):
            self.bump("messages ignored by netlink_rcv_skb (nlmsg_len < 16 or beyond the data)",
                      n=len(msgs) - len(sent))
        try:
            self.sock.send(bytes(buf))
        except OSError as e:
            self.bump(f"send refused: {ename(e.errno)}")
            if e.errno not in (errno.EMSGSIZE, errno.ENOBUFS):
                self.violate("send failed", str(e), kind, buf, [])
            return
        datagrams = []
        by_seq = {m.seq: m for m in sent}
        problems = []
        if abandon:
            r, _, _ = select.select([self.sock], [], [], 10)
            if r:
                datagrams.append(self.recv(problems))
            elif any(m.to_family for m in sent):
                problems.append(("no answer", "nothing to read within 10 s of a dump request"))
        else:
            datagrams = self.drain(sent, problems)
        for i, d in enumerate(datagrams):
            if d is None:
                continue
            try:
                self.check_datagram(d, i, by_seq, problems)
            except ParseError as e:
                self.bump("replies that fail to parse")
                problems.append(("unparsable reply", str(e)))
        for m in sent:
            self.check_final(m, abandon, problems)
        if abandon:
            started = [m for m in sent if m.to_family and m.is_dump and not m.finals]
            if started:
                self.bump("dumps abandoned after the first recv")
            self.new_socket()
        for kind_, text in problems:
            self.violate(kind_, text, kind, buf, datagrams)

    def recv(self, problems):
        try:
            data, _, flags, addr = self.sock.recvmsg(1 << 16, 0, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return None
        except OSError as e:
            problems.append(("recv error", f"recv: {e} (replies lost)"))
            self.new_socket()
            return None
        if flags & socket.MSG_TRUNC:
            problems.append(("truncated reply", f"MSG_TRUNC on a {len(data)}-byte reply"))
        if addr[0] != 0:
            problems.append(("reply not from the kernel", f"sender port id {addr[0]}"))
        return data

    def drain(self, sent, problems):
        """Reads every reply; a dump continues at each recv, so this also completes dumps."""
        out = []
        while True:
            d = self.recv(problems)
            if d is not None:
                out.append(d)
                # Parse only to learn which dumps have ended; the checks come later.
                continue
            if problems and problems[-1][0] == "recv error":
                return out
            running = self.running_dumps(out, sent)
            if not running:
                return out
            r, _, _ = select.select([self.sock], [], [], 10)
            if not r:
                problems.append(("dump stalled",
                                 f"dump seq {running} got no NLMSG_DONE within 10 s"))
                return out

    def running_dumps(self, datagrams, sent):
        """Sequence numbers of dump requests that got data but no NLMSG_DONE/ERROR yet."""
        seen_data, ended = set(), set()
        for d in datagrams:
            off = 0
            while len(d) - off >= 16:
                n, typ, fl, seq = struct.unpack_from("IHHI", d, off)
                if n < 16:
                    break
                if typ in (NLMSG_DONE, NLMSG_ERROR):
                    ended.add(seq)
                elif typ == self.fam and fl & NLM_F_MULTI:
                    seen_data.add(seq)
                off += align4(n)
        return sorted(seen_data - ended)

    def check_datagram(self, d, idx, by_seq, problems):
        off = 0
        while off < len(d):
            if len(d) - off < 16:
                raise ParseError(f"{len(d) - off} stray bytes after the last message")
            n, typ, fl, seq, pid = struct.unpack_from("IHHII", d, off)
            if n < 16 or off + n > len(d):
                raise ParseError(f"nlmsg_len {n} at offset {off} of a {len(d)}-byte reply")
            payload = d[off + 16:off + n]
            off += align4(n)
            m = by_seq.get(seq)
            if m is None:
                raise ParseError(f"reply type {typ} with unknown seq {seq}")
            if pid != self.portid:
                raise ParseError(f"reply nlmsg_pid {pid}, our port id is {self.portid}")
            m.datagrams.add(idx)
            if typ == NLMSG_ERROR:
                self.parse_error(m, fl, payload)
            elif typ == NLMSG_DONE:
                self.parse_done(m, fl, payload)
            elif typ == self.fam:
                if m.finals:
                    problems.append(("data after the final answer",
                                     f"seq {seq}: data after {m.finals[0]}"))
                self.parse_data(m, fl, payload)
            else:
                raise ParseError(f"reply of type {typ}")

    def parse_ext(self, m, tlv, err):
        msg = None
        for t, v in parse_tlvs(tlv, "extended ack"):
            t &= ~NLA_F_NESTED  # NLMSGERR_ATTR_POLICY is a nest (nla_nest_start)
            if t == NLMSGERR_ATTR_MSG:
                if not v or v[-1:] != b"\0" or b"\0" in v[:-1]:
                    raise ParseError(f"NLMSGERR_ATTR_MSG not a NUL-terminated string: {v!r}")
                msg = v[:-1].decode("utf-8", "replace")
            elif t in (NLMSGERR_ATTR_OFFS, NLMSGERR_ATTR_MISS_TYPE, NLMSGERR_ATTR_MISS_NEST):
                if len(v) != 4:
                    raise ParseError(f"extack attribute {t} of length {len(v)}")
                if err == 0:
                    raise ParseError(f"extack attribute {t} on a success")
                if t != NLMSGERR_ATTR_MISS_TYPE:
                    o = struct.unpack("I", v)[0]
                    if not 16 <= o < m.len:
                        raise ParseError(f"extack offset {o} outside the request "
                                         f"(nlmsg_len {m.len})")
            elif t == NLMSGERR_ATTR_POLICY:
                parse_tlvs(v, "extack policy")
            elif t == NLMSGERR_ATTR_COOKIE:
                pass
            else:
                raise ParseError(f"unknown extack attribute {t}")
        return msg

    def parse_error(self, m, fl, payload):
        if len(payload) < 20:
            raise ParseError(f"NLMSG_ERROR payload of {len(payload)} bytes")
        err = -struct.unpack_from("i", payload)[0]
        if err < 0:
            raise ParseError(f"NLMSG_ERROR with positive error {-err}")
        if payload[4:20] != m.hdr:
            raise ParseError(f"NLMSG_ERROR echoes header {payload[4:20].hex()}, "
                             f"request {m.hdr.hex()}")
        rest = payload[20:]
        if not fl & NLM_F_CAPPED:
            if err == 0 or self.cap_ack:
                raise ParseError("NLMSG_ERROR not capped")
            want = len(m.payload)
            if rest[:want] != m.payload:
                raise ParseError("NLMSG_ERROR echoes a different request payload")
            rest = rest[align4(want):]
        elif err != 0 and not self.cap_ack:
            raise ParseError("error capped though NETLINK_CAP_ACK is off")
        msg = None
        if fl & NLM_F_ACK_TLVS:
            msg = self.parse_ext(m, rest, err)
        elif rest:
            raise ParseError(f"{len(rest)} bytes after NLMSG_ERROR without NLM_F_ACK_TLVS")
        m.finals.append(("error", err, msg))

    def parse_done(self, m, fl, payload):
        if len(payload) < 4:
            raise ParseError(f"NLMSG_DONE payload of {len(payload)} bytes")
        if not fl & NLM_F_MULTI:
            raise ParseError("NLMSG_DONE without NLM_F_MULTI")
        if not (m.to_family and m.is_dump):
            raise ParseError(f"NLMSG_DONE for a request that is no dump (flags {m.flags:#x})")
        err = -struct.unpack_from("i", payload)[0]
        if err < 0:
            raise ParseError(f"NLMSG_DONE with positive error {-err}")
        msg = None
        if fl & NLM_F_ACK_TLVS:
            msg = self.parse_ext(m, payload[4:], err)
        elif len(payload) > 4:
            raise ParseError("bytes after NLMSG_DONE's error without NLM_F_ACK_TLVS")
        m.finals.append(("done", err, msg))

    def parse_data(self, m, fl, payload):
        if not m.to_family:
            raise ParseError("data for a request that did not reach the family")
        if m.is_dump:
            if m.cmd not in DUMP_CMDS or not fl & NLM_F_MULTI:
                raise ParseError(f"dump data for command {m.cmd}, flags {fl:#x}")
            if m.cmd in ADMIN_DUMP and not self.priv:
                raise ParseError("connection dump answered without CAP_NET_ADMIN")
        elif m.cmd not in REPLY_DO or fl & NLM_F_MULTI:
            raise ParseError(f"data reply for doit command {m.cmd}, flags {fl:#x}")
        if fl & ~(NLM_F_MULTI | NLM_F_DUMP_INTR):
            raise ParseError(f"data reply flags {fl:#x}")
        if len(payload) < 4:
            raise ParseError(f"data reply of {len(payload)} bytes")
        cmd, ver, res = struct.unpack_from("BBH", payload)
        if cmd != m.cmd or ver != 1 or res != 0:
            raise ParseError(f"genl header cmd {cmd} version {ver} reserved {res} "
                             f"for request command {m.cmd}")
        attrs = {}
        for t, v in parse_tlvs(payload[4:], "reply"):
            if t & (NLA_F_NESTED | NLA_F_NET_BYTEORDER) or not 1 <= t <= ATTR_MAX:
                raise ParseError(f"reply attribute type {t:#x}")
            if t == A_PAD:
                continue
            kind = ATTR_KIND.get(t)
            if kind in KIND_LEN and len(v) != KIND_LEN[kind]:
                raise ParseError(f"reply attribute {t} ({kind}) of length {len(v)}")
            if kind == STR and (not v or v[-1:] != b"\0" or b"\0" in v[:-1]):
                raise ParseError(f"reply attribute {t}: not a NUL-terminated string")
            if kind is None:
                raise ParseError(f"reply attribute {t} that no reply carries")
            if t in attrs:
                raise ParseError(f"reply attribute {t} twice")
            attrs[t] = v
        missing = REPLY_REQUIRED[cmd] - attrs.keys()
        if missing:
            raise ParseError(f"reply to {CMD_NAMES[cmd]} lacks attributes {sorted(missing)}")
        if cmd in (GET_SERVICE, GET_DEST):
            if attrs[1][0] not in (6, 17) or struct.unpack("H", attrs[3])[0] == 0 \
                    or attrs[2] == b"\0\0\0\0":
                raise ParseError(f"reply with an impossible service key {attrs[1].hex()} "
                                 f"{attrs[2].hex()} {attrs[3].hex()}")
        if cmd == GET_SERVICE and attrs[4][:-1] not in SCHEDS:
            raise ParseError(f"service with scheduler {attrs[4]!r}")
        if cmd == GET_SERVICE and not m.is_dump:
            req = {t & 0x3FFF: v for t, v in parse_tlvs(m.payload[4:], "request")}
            for t in (1, 2, 3):
                if req.get(t) != attrs[t]:
                    raise ParseError(f"GET_SERVICE answered with another service "
                                     f"(attribute {t}: {attrs[t].hex()})")
        if cmd == GET_DEST and (struct.unpack("I", attrs[9])[0] > 65535
                                or struct.unpack("H", attrs[8])[0] == 0):
            raise ParseError("real server with weight > 65535 or port 0")
        if cmd == GET_DEFENSE and struct.unpack("I", attrs[33])[0] > 2:
            raise ParseError(f"defense level {struct.unpack('I', attrs[33])[0]}")
        m.data += 1

    def check_final(self, m, abandoned, problems):
        """The checks of one request's answer, and its outcome count."""
        cmd = m.cmd
        admin = m.to_family and cmd is not None and (
            (m.is_dump and cmd in ADMIN_DUMP) or (not m.is_dump and cmd in ADMIN_DO))
        desc = (f"seq {m.seq} cmd {cmd} ({CMD_NAMES.get(cmd, 'unknown')}) flags {m.flags:#x} "
                f"nlmsg_len {m.len}")
        if len(m.finals) > 1:
            problems.append(("two answers", f"{desc}: {m.finals}"))
        if not m.finals:
            if abandoned and m.to_family and m.is_dump:
                return
            if m.flags & NLM_F_ACK:
                problems.append(("no answer", f"{desc}: NLM_F_ACK but no answer"))
                return
            if m.to_family and m.is_dump:
                problems.append(("no answer", f"{desc}: dump without NLMSG_DONE"))
                return
            if admin and not self.priv and m.len >= 20:
                problems.append(("admin command succeeded without CAP_NET_ADMIN",
                                 f"{desc}: no error"))
            self.bump("ok (no answer asked)")
            self.count_cmd(m, "ok")
            return
        kind, err, msg = m.finals[0]
        if msg is not None:
            self.bump(msg, self.msg_counts)
        if not m.to_family:
            if err != 0 or kind != "error":
                problems.append(("answer to a message not for the family",
                                 f"{desc}: {kind} {ename(err)}"))
            elif not m.flags & NLM_F_ACK:
                problems.append(("ack without NLM_F_ACK", desc))
            self.bump("ok (ack of a message the core does not hand to the family)")
            return
        if kind == "done":
            self.bump("dumps completed")
            if len(m.datagrams) > 1:
                self.bump("dumps completed, spanning several recvs")
        if err == 0:
            if admin and not self.priv:
                problems.append(("admin command succeeded without CAP_NET_ADMIN", desc))
            self.bump("ok")
            self.count_cmd(m, "ok")
            return
        self.count_cmd(m, ename(err))
        tag = f"{ename(err)} with extack" if msg is not None else f"{ename(err)} without extack"
        if err not in KNOWN_ERRNOS:
            problems.append(("unexpected errno", f"{desc}: {ename(err)} ({msg})"))
        if err == errno.EPERM:
            if msg != EPERM_MSG:
                problems.append(("EPERM without the CAP_NET_ADMIN message",
                                 f"{desc}: EPERM with extack message {msg!r}"))
            if self.priv:
                problems.append(("EPERM with CAP_NET_ADMIN", desc))
            elif not admin:
                problems.append(("EPERM for a command that needs no CAP_NET_ADMIN", desc))
        if err == errno.EINVAL and msg is None:
            if m.len < NLMSG_HDRLEN + GENL_HDRLEN:
                tag = "EINVAL without extack (nlmsg_len 16..19: no genlmsghdr, core check)"
            else:
                where = "NLMSG_DONE (dump handler)" if kind == "done" else "NLMSG_ERROR"
                problems.append(("EINVAL without an extended-ack message",
                                 f"{desc}: EINVAL in {where}, no message"))
        if admin and not self.priv:
            core = err in (errno.EPERM, errno.EOPNOTSUPP) or (m.is_dump and err == errno.EBUSY) \
                or (err == errno.EINVAL and (msg in CORE_MSGS or (msg is None and m.len < 20)))
            if not core:
                problems.append(("admin command reached its handler without CAP_NET_ADMIN",
                                 f"{desc}: {ename(err)} {msg!r}"))
        self.bump(tag)

    def count_cmd(self, m, outcome):
        if m.to_family and m.cmd in CMD_NAMES and m.len >= 20:
            d = self.cmd_counts.setdefault(m.cmd, {})
            d[outcome] = d.get(outcome, 0) + 1


# ---------------------------------------------------------------------------------------

def simple(g, fam, cmd, attrs=b"", dump=False):
    return g.request(fam, cmd, attrs, dump)


def populate(g, fam, n):
    """n services, 300 real servers in BIG_KEY's service; fails loudly."""
    reqs = []
    p, a, port = BIG_KEY
    key = lambda p, a, port: (nla(A_SVC_PROTOCOL, struct.pack("B", p)) + nla(A_SVC_ADDR, a)
                              + nla(A_SVC_PORT, struct.pack("H", port)))
    reqs.append((NEW_SERVICE, key(p, a, port) + nla(A_SVC_SCHED, b"wrr\0")))
    for i in range(300):
        reqs.append((NEW_DEST, key(p, a, port) + nla(A_DEST_ADDR, bytes([10, 254, i >> 8, i & 255]))
                     + nla(A_DEST_PORT, struct.pack("H", 8080))
                     + nla(A_DEST_WEIGHT, struct.pack("I", i % 7))))
    for i in range(max(n - 1, 0)):
        reqs.append((NEW_SERVICE, key(17 if i % 2 else 6, VIPS[i % 3], 1 + i // 3)
                     + nla(A_SVC_SCHED, SCHEDS[i % 5] + b"\0")))
        if i % 10 == 0:
            reqs.append((NEW_DEST, key(17 if i % 2 else 6, VIPS[i % 3], 1 + i // 3)
                         + nla(A_DEST_ADDR, RSS[0]) + nla(A_DEST_PORT, struct.pack("H", 8080))))
    bad = 0
    for cmd, attrs in reqs:
        err, msg, _ = simple(g, fam, cmd, attrs)
        if err and err != errno.EEXIST:
            bad += 1
            if bad < 4:
                print(f"populate: {CMD_NAMES[cmd]}: {ename(err)} {msg}")
    return len(reqs), bad


def defense_level(g, fam):
    err, msg, msgs = simple(g, fam, GET_DEFENSE)
    if err:
        return None
    for _, attrs in msgs:
        for t, v in attrs:
            if t == A_DEF_LEVEL:
                return struct.unpack("I", v)[0]
    return None


def count_services(g, fam):
    err, msg, msgs = simple(g, fam, GET_SERVICE, dump=True)
    return None if err else len(msgs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--count", type=int, default=10000, help="messages to send")
    ap.add_argument("--time-limit", type=float, default=240.0, help="seconds")
    ap.add_argument("--populate", type=int, default=0, help="services to add first (root)")
    ap.add_argument("--keep", action="store_true", help="no FLUSH/level reset at the end")
    ap.add_argument("--expect", choices=["privileged", "unprivileged"])
    ap.add_argument("--show", type=int, default=10, help="violations printed in full")
    args = ap.parse_args()
    if args.seed is None:
        args.seed = int.from_bytes(os.urandom(4), "little")
    print(f"seed {args.seed}", flush=True)

    priv = has_net_admin()
    print(f"uid {os.getuid()}, CAP_NET_ADMIN {'yes' if priv else 'no'}", flush=True)
    if args.expect and (args.expect == "privileged") != priv:
        print(f"RESULT: FAIL expected to run {args.expect}, CAP_NET_ADMIN is "
              f"{'there' if priv else 'missing'}")
        return 1
    g = genl.Genl()
    fam = g.family("IPVS_DEFENSE")
    if fam is None:
        print("RESULT: FAIL family IPVS_DEFENSE not found")
        return 1
    level0 = defense_level(g, fam)
    print(f"family id {fam}; defense level at start {level0}", flush=True)
    if args.populate:
        if not priv:
            print("RESULT: FAIL --populate needs CAP_NET_ADMIN")
            return 1
        n, bad = populate(g, fam, args.populate)
        print(f"populated: {n} requests, {bad} failed; {count_services(g, fam)} services",
              flush=True)
        if bad:
            print("RESULT: FAIL could not populate")
            return 1

    fz = Fuzzer(args, fam, priv)
    names = [k for k, _ in KINDS]
    weights = [w for _, w in KINDS]
    kind_counts = {}
    start = time.monotonic()
    next_report = 2000
    timed_out = False
    while fz.messages < args.count:
        if time.monotonic() - start > args.time_limit:
            timed_out = True
            break
        kind = fz.rng.choices(names, weights)[0]
        kind_counts[kind] = kind_counts.get(kind, 0) + 1
        fz.run_case(kind)
        if fz.messages >= next_report:
            el = time.monotonic() - start
            print(f"progress: {fz.messages} messages in {el:.0f} s "
                  f"({fz.messages / el:.0f} msgs/s), {sum(fz.vkinds.values())} violations",
                  flush=True)
            next_report += 2000
    elapsed = time.monotonic() - start
    fz.sock.close()
    rate = fz.messages / elapsed if elapsed > 0 else 0

    print(f"messages {fz.messages} in {fz.cases} sends, {elapsed:.1f} s, {rate:.0f} msgs/s")
    print("cases: " + ", ".join(f"{k} {kind_counts.get(k, 0)}" for k in names))
    for k in sorted(fz.counts):
        print(f"outcome {k}: {fz.counts[k]}")
    print("by command (requests of at least nlmsghdr + genlmsghdr): " + "; ".join(
        f"{CMD_NAMES[c]} " + " ".join(f"{o}={n}" for o, n in sorted(fz.cmd_counts[c].items()))
        for c in sorted(fz.cmd_counts)))
    print("extended-ack messages:")
    for msg, n in sorted(fz.msg_counts.items(), key=lambda x: -x[1]):
        print(f"  {n:6d}  {msg}")
    print(f"replies that fail to parse: {fz.counts.get('replies that fail to parse', 0)}")

    # Clean up what the fuzz changed (root), and check it.
    clean = []
    if priv and not args.keep:
        err, msg, _ = simple(g, fam, FLUSH)
        if err:
            clean.append(f"FLUSH: {ename(err)} {msg}")
        lvl = level0 if level0 is not None else 0
        err, msg, _ = simple(g, fam, SET_DEFENSE, nla(A_DEF_LEVEL, struct.pack("I", lvl)))
        if err:
            clean.append(f"SET_DEFENSE {lvl}: {ename(err)} {msg}")
        n, now = count_services(g, fam), defense_level(g, fam)
        print(f"cleanup: FLUSH and defense level {lvl}: {n} services, level {now}")
        if n != 0 or now != lvl:
            clean.append(f"after cleanup: {n} services, defense level {now}")
    else:
        print(f"no cleanup: {count_services(g, fam)} services, defense level "
              f"{defense_level(g, fam)}")

    for kind, text, ck, buf, dgs in fz.violations:
        print(f"VIOLATION [{kind}] in a '{ck}' send: {text}")
        print(f"  sent ({len(buf)} bytes): {buf[:2048].hex()}")
        for d in dgs:
            if d is not None:
                print(f"  reply ({len(d)} bytes): {d[:2048].hex()}")
    fails = [f"{k} x{n} (first: {fz.vfirst[k][:160]})"
             for k, n in sorted(fz.vkinds.items(), key=lambda x: -x[1])]
    if timed_out:
        fails.append(f"time limit {args.time_limit:.0f} s reached after {fz.messages} of "
                     f"{args.count} messages ({rate:.0f} msgs/s: lower --count or raise "
                     f"--time-limit)")
    fails += clean
    if fails:
        print("RESULT: FAIL " + "; ".join(fails))
        return 1
    print(f"RESULT: ok {fz.messages} messages, {rate:.0f} msgs/s, no violation")
    return 0


if __name__ == "__main__":
    sys.exit(main())
