#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Raw generic netlink requests to the IPVS_DEFENSE family, for the guest tests.

Unlike ipvsdadm, this sends whatever it is told (port 0, unknown attributes, huge
weights), to check that the KERNEL refuses bad requests.

    genl.py CMD [ATTR=TYPE:VALUE ...] [--dump]
    genl.py --batch < requests   (one request per line; prints "STATUS messages=N intr=N")

CMD and ATTR are numbers (see logic/proto.rs); TYPE is u8, u16, u32, u64, ip (4 bytes in
network order) or str (NUL-terminated). Prints one line: "ok" or "error ERRNO_NAME: extack
message", then, for a reply or dump, one line per message with its attributes. Exit 0 when
the request could be sent at all.
"""
import errno
import os
import socket
import struct
import sys

NETLINK_GENERIC = 16
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 0x1, 0x4, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3
NETLINK_EXT_ACK = 11
NLMSGERR_ATTR_MSG = 1
SOL_NETLINK = 270


def attr(t, payload):
    n = 4 + len(payload)
    return struct.pack("HH", n, t) + payload + b"\0" * ((4 - n % 4) % 4)


def parse_attrs(b):
    out = []
    while len(b) >= 4:
        n, t = struct.unpack("HH", b[:4])
        if n < 4:
            break
        out.append((t & 0x3FFF, b[4:n]))
        b = b[(n + 3) & ~3:]
    return out


class Genl:
    def __init__(self):
        self.s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
        self.s.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
        self.s.bind((0, 0))
        self.seq = 1

    def request(self, family, cmd, attrs=b"", dump=False):
        self.seq += 1
        flags = NLM_F_REQUEST | NLM_F_ACK | (NLM_F_DUMP if dump else 0)
        body = struct.pack("BBH", cmd, 1, 0) + attrs
        self.s.send(struct.pack("IHHII", 16 + len(body), family, flags, self.seq, 0) + body)
        msgs = []
        while True:
            data = self.s.recv(1 << 16)
            while data:
                n, typ, fl, seq, pid = struct.unpack("IHHII", data[:16])
                payload = data[16:n]
                data = data[(n + 3) & ~3:]
                if typ == NLMSG_ERROR:
                    err = -struct.unpack("i", payload[:4])[0]
                    msg = ""
                    if fl & 0x100 == 0:  # NLM_F_CAPPED not set: the request is echoed
                        olen = struct.unpack("I", payload[4:8])[0]
                        tlv = payload[4 + olen:]
                    else:
                        tlv = payload[4 + 16:]
                    for t, v in parse_attrs(tlv):
                        if t == NLMSGERR_ATTR_MSG:
                            msg = v.rstrip(b"\0").decode()
                    return err, msg, msgs
                if typ == NLMSG_DONE:
                    err = -struct.unpack("i", payload[:4])[0] if len(payload) >= 4 else 0
                    return err, "", msgs
                msgs.append((fl, parse_attrs(payload[4:])))

    def family(self, name):
        err, _, msgs = self.request(GENL_ID_CTRL, CTRL_CMD_GETFAMILY,
                                    attr(CTRL_ATTR_FAMILY_NAME, name.encode() + b"\0"))
        if err:
            return None
        for _, attrs in msgs:
            for t, v in attrs:
                if t == CTRL_ATTR_FAMILY_ID:
                    return struct.unpack("H", v[:2])[0]
        return None


def encode(spec):
    num, tv = spec.split("=", 1)
    typ, val = tv.split(":", 1)
    if typ == "u8":
        p = struct.pack("B", int(val))
    elif typ == "u16":
        p = struct.pack("H", int(val))
    elif typ == "u32":
        p = struct.pack("I", int(val))
    elif typ == "u64":
        p = struct.pack("Q", int(val))
    elif typ == "ip":
        p = socket.inet_aton(val)
    elif typ == "str":
        p = val.encode() + b"\0"
    else:
        raise SystemExit(f"bad type {typ}")
    return attr(int(num), p)


def run(g, fam, argv, summary=False):
    args = [a for a in argv if a != "--dump"]
    err, msg, msgs = g.request(fam, int(args[0]), b"".join(encode(a) for a in args[1:]),
                               "--dump" in argv)
    status = "ok" if err == 0 else f"error {errno.errorcode.get(err, err)}: {msg}"
    if summary:
        intr = sum(1 for fl, _ in msgs if fl & 0x10)
        print(f"{status} messages={len(msgs)} intr={intr}")
        return
    print(status)
    for fl, attrs in msgs:
        print(("INTR " if fl & 0x10 else "") + " ".join(f"{t}={v.hex()}" for t, v in attrs))


def main():
    g = Genl()
    fam = g.family("IPVS_DEFENSE")
    if fam is None:
        print("error family IPVS_DEFENSE not found")
        return 0
    if sys.argv[1:] == ["--batch"]:
        # One request per line of standard input; one summary line per request.
        for line in sys.stdin:
            if line.strip():
                run(g, fam, line.split(), summary=True)
                sys.stdout.flush()
        return 0
    run(g, fam, sys.argv[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
