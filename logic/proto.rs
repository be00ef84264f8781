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

/// The family's name.
pub const FAMILY_NAME: &str = "IPVS_DEFENSE";
/// The family's name, NUL-terminated, for C.
pub const FAMILY_NAME_NUL: &[u8] = b"IPVS_DEFENSE\0";
/// The protocol version (`genlmsghdr.version`).
pub const VERSION: u8 = 1;

/// Commands (`genlmsghdr.cmd`).
pub mod cmd {
    /// Add a virtual service.
    pub const NEW_SERVICE: u8 = 1;
    /// Change a service's scheduler or flags.
    pub const SET_SERVICE: u8 = 2;
    /// Delete a service with its real servers and entries.
    pub const DEL_SERVICE: u8 = 3;
    /// Get one service, or dump them all.
    pub const GET_SERVICE: u8 = 4;
    /// Add a real server to a service.
    pub const NEW_DEST: u8 = 5;
    /// Change a real server's weight.
    pub const SET_DEST: u8 = 6;
    /// Delete a real server.
    pub const DEL_DEST: u8 = 7;
    /// Dump the real servers of a service.
    pub const GET_DEST: u8 = 8;
    /// Dump the connection table.
    pub const GET_CONN: u8 = 9;
    /// Global statistics and drop counters.
    pub const GET_STATS: u8 = 10;
    /// Zero counters.
    pub const ZERO: u8 = 11;
    /// Delete every service.
    pub const FLUSH: u8 = 12;
    /// The defense state.
    pub const GET_DEFENSE: u8 = 13;
    /// Set `defense_level`.
    pub const SET_DEFENSE: u8 = 14;
    /// The highest command number.
    pub const MAX: u8 = 14;
}

/// Attribute types (`nlattr.nla_type`).
pub mod attr {
    /// `u8`: 6 (TCP) or 17 (UDP).
    pub const SVC_PROTOCOL: u16 = 1;
    /// `u32`, network order: the VIP.
    pub const SVC_ADDR: u16 = 2;
    /// `u16`, host order: the virtual port (1..65535).
    pub const SVC_PORT: u16 = 3;
    /// NUL-terminated string: `rr`, `wrr`, `lc`, `wlc` or `mh`.
    pub const SVC_SCHED: u16 = 4;
    /// `u32`: service flags (none defined yet; must be 0).
    pub const SVC_FLAGS: u16 = 5;
    /// `u32`: number of real servers (in replies).
    pub const SVC_DESTS: u16 = 6;
    /// `u32`, network order: a real server's address.
    pub const DEST_ADDR: u16 = 7;
    /// `u16`, host order: a real server's port (1..65535).
    pub const DEST_PORT: u16 = 8;
    /// `u32`: weight, 0..=65535 (0 = quiesced: no new connections).
    pub const DEST_WEIGHT: u16 = 9;
    /// `u32`: active connections (in replies).
    pub const DEST_ACTIVE: u16 = 10;
    /// `u32`: inactive connections (in replies).
    pub const DEST_INACTIVE: u16 = 11;
    /// `u64`: connections scheduled.
    pub const STAT_CONNS: u16 = 12;
    /// `u64`: packets client → real server.
    pub const STAT_INPKTS: u16 = 13;
    /// `u64`: packets real server → client.
    pub const STAT_OUTPKTS: u16 = 14;
    /// `u64`: bytes client → real server.
    pub const STAT_INBYTES: u16 = 15;
    /// `u64`: bytes real server → client.
    pub const STAT_OUTBYTES: u16 = 16;
    /// `u64`: SYNs dropped by the defense's rate.
    pub const DROP_SYN_RATE: u16 = 17;
    /// `u64`: half-open entries evicted.
    pub const DROP_EVICTIONS: u16 = 18;
    /// `u64`: packets dropped because the route lookup failed.
    pub const DROP_ROUTE: u16 = 19;
    /// `u64`: replies of real servers without an entry.
    pub const DROP_ZOMBIE: u16 = 20;
    /// `u64`: new connections refused because the table was full.
    pub const DROP_TABLE_FULL: u16 = 21;
    /// `u64`: malformed packets for a service.
    pub const DROP_MALFORMED: u16 = 22;
    /// `u64`: client ACKs refused by ACK validation.
    pub const DROP_BLIND_ACK: u16 = 23;
    /// `u8`: a connection's protocol.
    pub const CONN_PROTOCOL: u16 = 24;
    /// `u32`, network order: the client's address.
    pub const CONN_CADDR: u16 = 25;
    /// `u16`: the client's port.
    pub const CONN_CPORT: u16 = 26;
    /// `u32`, network order: the VIP.
    pub const CONN_VADDR: u16 = 27;
    /// `u16`: the virtual port.
    pub const CONN_VPORT: u16 = 28;
    /// `u32`, network order: the real server's address.
    pub const CONN_DADDR: u16 = 29;
    /// `u16`: the real server's port.
    pub const CONN_DPORT: u16 = 30;
    /// `u8`: the TCP state (`tcp_state::State as u8`), or 0 for UDP.
    pub const CONN_STATE: u16 = 31;
    /// `u32`: seconds until the entry expires.
    pub const CONN_EXPIRES: u16 = 32;
    /// `u32`: the operator's `defense_level` (0..=2).
    pub const DEF_LEVEL: u16 = 33;
    /// `u32`: the effective level (0..=2).
    pub const DEF_EFFECTIVE: u16 = 34;
    /// `u64`: available memory in pages (free + buffers).
    pub const DEF_AVAILABLE: u16 = 35;
    /// `u64`: the `amemthresh` sysctl, in pages.
    pub const DEF_AMEMTHRESH: u16 = 36;
    /// `u32`: current SYN drop rate: drop one in N (0 = none).
    pub const DEF_DROP_RATE: u16 = 37;
    /// `u64`: how many times the effective level changed.
    pub const DEF_SWITCHES: u16 = 38;
    /// `u64`: entries in the connection table.
    pub const STAT_ENTRIES: u16 = 39;
    /// `u64`: the table's bound (`conn_max`).
    pub const STAT_CONN_MAX: u16 = 40;
    /// `u64`: SYNs of known clients that skipped the rate drop.
    pub const KNOWN_CLIENT_PASSES: u16 = 41;
    /// Padding for 64-bit attributes (`nla_put_u64_64bit`); never carries data.
    pub const PAD: u16 = 42;
    /// `u32`: `table_fill_high`, percent of `conn_max` (0 = the fill trigger is off).
    pub const DEF_FILL_HIGH: u16 = 43;
    /// `u32`: `table_fill_low`, percent of `conn_max`.
    pub const DEF_FILL_LOW: u16 = 44;
    /// The highest attribute number.
    pub const MAX: u16 = 44;
}

/// IP protocol numbers the director handles.
pub mod ipproto {
    /// TCP.
    pub const TCP: u8 = 6;
    /// UDP.
    pub const UDP: u8 = 17;
}

/// The names `ipvsadm -L -c` prints for each TCP state, indexed by the `CONN_STATE` value
/// (NONE ES SS SR FW TW CL CW LA LI SA).
pub const TCP_STATE_NAMES: [&str; 11] = [
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
];
