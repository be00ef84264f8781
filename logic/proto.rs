// SPDX-License-Identifier: GPL-2.0
//! The `IPVS_DEFENSE` generic netlink protocol, shared by the module and `ipvsdadm`.
//!
//! Version 1. Every message carries flat attributes (no nesting). Addresses are IPv4
//! addresses as `u32` in **network byte order** (the bytes of the address in order, as
//! `struct in_addr`); ports are `u16` in **host byte order**; counters are `u64`.
//!
//! | command | attributes in the request | reply |
//! |---|---|---|
//! | `NEW_SERVICE` | `SVC_PROTOCOL`, `SVC_ADDR`, `SVC_PORT`, `SVC_SCHED`, opt. `SVC_FLAGS` | — |
//! | `SET_SERVICE` | service key (`SVC_PROTOCOL`, `SVC_ADDR`, `SVC_PORT`), `SVC_SCHED` and/or `SVC_FLAGS` | — |
//! | `DEL_SERVICE` | service key | — |
//! | `GET_SERVICE` | dump: nothing; do: service key | one message per service: key, `SVC_SCHED`, `SVC_FLAGS`, `SVC_DESTS`, stats |
//! | `NEW_DEST` | service key, `DEST_ADDR`, `DEST_PORT`, opt. `DEST_WEIGHT` (default 1) | — |
//! | `SET_DEST` | service key, `DEST_ADDR`, `DEST_PORT`, `DEST_WEIGHT` | — |
//! | `DEL_DEST` | service key, `DEST_ADDR`, `DEST_PORT` | — |
//! | `GET_DEST` | dump: service key | one message per real server: service key, `DEST_*`, stats |
//! | `GET_CONN` | dump | one message per entry: `CONN_*` |
//! | `GET_STATS` | do | global stats and every drop counter |
//! | `ZERO` | opt. service key | zeroes the counters of one service, or of everything |
//! | `FLUSH` | — | deletes every service (and its real servers and entries) |
//! | `GET_DEFENSE` | do | `DEF_*` |
//! | `SET_DEFENSE` | `DEF_LEVEL` | — |
//!
//! Every command that changes state, and `GET_CONN`, requires `CAP_NET_ADMIN`.
//!
//! In code the commands are [`Cmd`] and the attributes [`Attr`], each name above in
//! CamelCase (`NEW_SERVICE` is [`Cmd::NewService`]); the kernel builds its operations and
//! attribute policy from [`Cmd::kind`] and [`Attr::request_payload`].

/// The family's name.
pub const FAMILY_NAME: &str = "IPVS_DEFENSE";
/// The family's name, NUL-terminated, for C.
pub const FAMILY_NAME_NUL: &[u8] = b"IPVS_DEFENSE\0";
/// The protocol version (`genlmsghdr.version`).
pub const VERSION: u8 = 1;

/// Commands (`genlmsghdr.cmd`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Cmd {
    /// Add a virtual service.
    NewService = 1,
    /// Change a service's scheduler or flags.
    SetService = 2,
    /// Delete a service with its real servers and entries.
    DelService = 3,
    /// Get one service, or dump them all.
    GetService = 4,
    /// Add a real server to a service.
    NewDest = 5,
    /// Change a real server's weight.
    SetDest = 6,
    /// Delete a real server.
    DelDest = 7,
    /// Dump the real servers of a service.
    GetDest = 8,
    /// Dump the connection table.
    GetConn = 9,
    /// Global statistics and drop counters.
    GetStats = 10,
    /// Zero counters.
    Zero = 11,
    /// Delete every service.
    Flush = 12,
    /// The defense state.
    GetDefense = 13,
    /// Set `defense_level`.
    SetDefense = 14,
}

/// How the kernel serves a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CmdKind {
    /// It answers a single request (`doit`).
    pub doit: bool,
    /// It answers a dump (`NLM_F_DUMP`).
    pub dump: bool,
    /// It requires `CAP_NET_ADMIN` in the network namespace's user namespace.
    pub admin: bool,
}

const fn kind(doit: bool, dump: bool, admin: bool) -> CmdKind {
    CmdKind { doit, dump, admin }
}

impl Cmd {
    /// Every command, in numeric order: `ALL[i]` is command `i + 1`.
    pub const ALL: [Cmd; 14] = [
        Cmd::NewService,
        Cmd::SetService,
        Cmd::DelService,
        Cmd::GetService,
        Cmd::NewDest,
        Cmd::SetDest,
        Cmd::DelDest,
        Cmd::GetDest,
        Cmd::GetConn,
        Cmd::GetStats,
        Cmd::Zero,
        Cmd::Flush,
        Cmd::GetDefense,
        Cmd::SetDefense,
    ];

    /// The command's number on the wire.
    pub const fn number(self) -> u8 {
        self as u8
    }

    /// Whether it is a request, a dump or both, and whether it needs `CAP_NET_ADMIN`:
    /// every command that changes state, and the connection dump.
    pub const fn kind(self) -> CmdKind {
        match self {
            Cmd::NewService => kind(true, false, true),
            Cmd::SetService => kind(true, false, true),
            Cmd::DelService => kind(true, false, true),
            Cmd::GetService => kind(true, true, false),
            Cmd::NewDest => kind(true, false, true),
            Cmd::SetDest => kind(true, false, true),
            Cmd::DelDest => kind(true, false, true),
            Cmd::GetDest => kind(false, true, false),
            Cmd::GetConn => kind(false, true, true),
            Cmd::GetStats => kind(true, false, false),
            Cmd::Zero => kind(true, false, true),
            Cmd::Flush => kind(true, false, true),
            Cmd::GetDefense => kind(true, false, false),
            Cmd::SetDefense => kind(true, false, true),
        }
    }
}

impl From<Cmd> for u8 {
    fn from(c: Cmd) -> u8 {
        c.number()
    }
}

impl TryFrom<u8> for Cmd {
    /// The number that names no command.
    type Error = u8;

    fn try_from(n: u8) -> Result<Self, u8> {
        match n.checked_sub(1).and_then(|i| Cmd::ALL.get(usize::from(i))) {
            Some(&c) => Ok(c),
            None => Err(n),
        }
    }
}

/// The longest scheduler name a request may carry, without its NUL.
pub const SCHED_NAME_MAX: u16 = 15;

/// What a request may carry in an attribute, for the kernel's policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Payload {
    /// A `u8`.
    U8,
    /// A `u16`.
    U16,
    /// A `u32`.
    U32,
    /// A NUL-terminated string of at most `max_len` bytes before the NUL.
    NulString {
        /// Bytes before the NUL.
        max_len: u16,
    },
}

/// Attribute types (`nlattr.nla_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub enum Attr {
    /// `u8`: 6 (TCP) or 17 (UDP).
    SvcProtocol = 1,
    /// `u32`, network order: the VIP.
    SvcAddr = 2,
    /// `u16`, host order: the virtual port (1..65535).
    SvcPort = 3,
    /// NUL-terminated string: `rr`, `wrr`, `lc`, `wlc` or `mh`.
    SvcSched = 4,
    /// `u32`: service flags (none defined yet; must be 0).
    SvcFlags = 5,
    /// `u32`: number of real servers (in replies).
    SvcDests = 6,
    /// `u32`, network order: a real server's address.
    DestAddr = 7,
    /// `u16`, host order: a real server's port (1..65535).
    DestPort = 8,
    /// `u32`: weight, 0..=65535 (0 = quiesced: no new connections).
    DestWeight = 9,
    /// `u32`: active connections (in replies).
    DestActive = 10,
    /// `u32`: inactive connections (in replies).
    DestInactive = 11,
    /// `u64`: connections scheduled.
    StatConns = 12,
    /// `u64`: packets client → real server.
    StatInpkts = 13,
    /// `u64`: packets real server → client.
    StatOutpkts = 14,
    /// `u64`: bytes client → real server.
    StatInbytes = 15,
    /// `u64`: bytes real server → client.
    StatOutbytes = 16,
    /// `u64`: SYNs dropped by the defense's rate.
    DropSynRate = 17,
    /// `u64`: half-open entries evicted.
    DropEvictions = 18,
    /// `u64`: packets dropped because the route lookup failed.
    DropRoute = 19,
    /// `u64`: replies of real servers without an entry.
    DropZombie = 20,
    /// `u64`: new connections refused because the table was full.
    DropTableFull = 21,
    /// `u64`: malformed packets for a service.
    DropMalformed = 22,
    /// `u64`: client ACKs refused by ACK validation.
    DropBlindAck = 23,
    /// `u8`: a connection's protocol.
    ConnProtocol = 24,
    /// `u32`, network order: the client's address.
    ConnCaddr = 25,
    /// `u16`: the client's port.
    ConnCport = 26,
    /// `u32`, network order: the VIP.
    ConnVaddr = 27,
    /// `u16`: the virtual port.
    ConnVport = 28,
    /// `u32`, network order: the real server's address.
    ConnDaddr = 29,
    /// `u16`: the real server's port.
    ConnDport = 30,
    /// `u8`: the TCP state (`tcp_state::State as u8`), [`CONN_STATE_SYN_PROXY`] for a
    /// proxied entry in set-up, or 0 for UDP.
    ConnState = 31,
    /// `u32`: seconds until the entry expires.
    ConnExpires = 32,
    /// `u32`: the operator's `defense_level` (0..=2).
    DefLevel = 33,
    /// `u32`: the effective level (0..=2).
    DefEffective = 34,
    /// `u64`: available memory in pages (free + buffers).
    DefAvailable = 35,
    /// `u64`: the `amemthresh` sysctl, in pages.
    DefAmemthresh = 36,
    /// `u32`: current SYN drop rate: drop one in N (0 = none).
    DefDropRate = 37,
    /// `u64`: how many times the effective level changed.
    DefSwitches = 38,
    /// `u64`: entries in the connection table.
    StatEntries = 39,
    /// `u64`: the table's bound (`conn_max`).
    StatConnMax = 40,
    /// `u64`: SYNs of known clients that skipped the rate drop.
    KnownClientPasses = 41,
    /// Padding for 64-bit attributes (`nla_put_u64_64bit`); never carries data.
    Pad = 42,
    /// `u32`: `table_fill_high`, percent of `conn_max` (0 = the fill trigger is off).
    DefFillHigh = 43,
    /// `u32`: `table_fill_low`, percent of `conn_max`.
    DefFillLow = 44,
    /// `u64`: packets of ours dropped because their headers could not be rewritten.
    DropRewrite = 45,
}

impl Attr {
    /// Every attribute, in numeric order: `ALL[i]` is attribute `i + 1`.
    pub const ALL: [Attr; 45] = [
        Attr::SvcProtocol,
        Attr::SvcAddr,
        Attr::SvcPort,
        Attr::SvcSched,
        Attr::SvcFlags,
        Attr::SvcDests,
        Attr::DestAddr,
        Attr::DestPort,
        Attr::DestWeight,
        Attr::DestActive,
        Attr::DestInactive,
        Attr::StatConns,
        Attr::StatInpkts,
        Attr::StatOutpkts,
        Attr::StatInbytes,
        Attr::StatOutbytes,
        Attr::DropSynRate,
        Attr::DropEvictions,
        Attr::DropRoute,
        Attr::DropZombie,
        Attr::DropTableFull,
        Attr::DropMalformed,
        Attr::DropBlindAck,
        Attr::ConnProtocol,
        Attr::ConnCaddr,
        Attr::ConnCport,
        Attr::ConnVaddr,
        Attr::ConnVport,
        Attr::ConnDaddr,
        Attr::ConnDport,
        Attr::ConnState,
        Attr::ConnExpires,
        Attr::DefLevel,
        Attr::DefEffective,
        Attr::DefAvailable,
        Attr::DefAmemthresh,
        Attr::DefDropRate,
        Attr::DefSwitches,
        Attr::StatEntries,
        Attr::StatConnMax,
        Attr::KnownClientPasses,
        Attr::Pad,
        Attr::DefFillHigh,
        Attr::DefFillLow,
        Attr::DropRewrite,
    ];

    /// The attribute's type number on the wire.
    pub const fn number(self) -> u16 {
        self as u16
    }

    /// What a request may carry in it; `None` for attributes that only replies carry
    /// (the kernel refuses them in requests).
    pub const fn request_payload(self) -> Option<Payload> {
        match self {
            Attr::SvcProtocol => Some(Payload::U8),
            Attr::SvcAddr => Some(Payload::U32),
            Attr::SvcPort => Some(Payload::U16),
            Attr::SvcSched => Some(Payload::NulString {
                max_len: SCHED_NAME_MAX,
            }),
            Attr::SvcFlags => Some(Payload::U32),
            Attr::DestAddr => Some(Payload::U32),
            Attr::DestPort => Some(Payload::U16),
            Attr::DestWeight => Some(Payload::U32),
            Attr::DefLevel => Some(Payload::U32),
            _ => None,
        }
    }
}

impl From<Attr> for u16 {
    fn from(a: Attr) -> u16 {
        a.number()
    }
}

impl TryFrom<u16> for Attr {
    /// The number that names no attribute.
    type Error = u16;

    fn try_from(n: u16) -> Result<Self, u16> {
        match n.checked_sub(1).and_then(|i| Attr::ALL.get(usize::from(i))) {
            Some(&a) => Ok(a),
            None => Err(n),
        }
    }
}

/// IP protocol numbers the director handles.
pub mod ipproto {
    /// TCP.
    pub const TCP: u8 = 6;
    /// UDP.
    pub const UDP: u8 = 17;
}

/// The `CONN_STATE` value of an entry the SYN proxy is setting up (the director's SYN to its
/// real server not answered yet): not a `TcpState`, a value of the dump only.
pub const CONN_STATE_SYN_PROXY: u8 = 11;

/// The names `ipvsadm -L -c` prints for each TCP state, indexed by the `CONN_STATE` value
/// (NONE ES SS SR FW TW CL CW LA LI SA, then [`CONN_STATE_SYN_PROXY`]).
pub const TCP_STATE_NAMES: [&str; 12] = [
    "NONE",
    "ESTABLISHED",
    "SYN_SENT",
    "SYN_RECV",
    "FIN_WAIT",
    "TIME_WAIT",
    "CLOSE",
    "CLOSE_WAIT",
    "LAST_ACK",
    "LISTEN",
    "SYNACK",
    "SYN_PROXY",
];
