// SPDX-License-Identifier: GPL-2.0
//! Plain data the tool parses, fetches and prints. Nothing here talks to the kernel, so the
//! formatting functions and their tests work on these structs alone.

use std::fmt;
use std::net::Ipv4Addr;

use serde::{ser::SerializeMap, Serialize};

use ipvsd_logic::drops::{DropReason, DROP_REASON_COUNT};
use ipvsd_logic::proto::{ipproto, TCP_STATE_NAMES};

/// The protocol of a virtual service or connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    /// TCP (`-t`).
    Tcp,
    /// UDP (`-u`).
    Udp,
}

impl Protocol {
    /// The IP protocol number sent in `SVC_PROTOCOL`.
    pub fn number(self) -> u8 {
        match self {
            Protocol::Tcp => ipproto::TCP,
            Protocol::Udp => ipproto::UDP,
        }
    }

    /// The protocol with IP protocol number `n`, if we handle it.
    pub fn from_number(n: u8) -> Option<Self> {
        match n {
            ipproto::TCP => Some(Protocol::Tcp),
            ipproto::UDP => Some(Protocol::Udp),
            _ => None,
        }
    }

    /// `TCP` or `UDP`, as ipvsadm prints it.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
        }
    }
}

/// Identifies a virtual service: protocol, VIP and port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServiceKey {
    /// TCP or UDP.
    pub protocol: Protocol,
    /// The virtual IP address.
    pub addr: Ipv4Addr,
    /// The virtual port, 1..=65535.
    pub port: u16,
}

impl fmt::Display for ServiceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}:{}", self.protocol.name(), self.addr, self.port)
    }
}

/// A real server's address and port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DestKey {
    /// The real server's address.
    pub addr: Ipv4Addr,
    /// The real server's port, 1..=65535.
    pub port: u16,
}

impl fmt::Display for DestKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.addr, self.port)
    }
}

/// Traffic counters (`STAT_*`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Connections scheduled.
    pub conns: u64,
    /// Packets client → real server.
    pub inpkts: u64,
    /// Packets real server → client.
    pub outpkts: u64,
    /// Bytes client → real server.
    pub inbytes: u64,
    /// Bytes real server → client.
    pub outbytes: u64,
}

/// Per-second rates computed by the tool from two [`Stats`] samples (the kernel keeps
/// counters only, no rate estimator).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Rates {
    /// Connections per second.
    pub cps: u64,
    /// Incoming packets per second.
    pub inpps: u64,
    /// Outgoing packets per second.
    pub outpps: u64,
    /// Incoming bytes per second.
    pub inbps: u64,
    /// Outgoing bytes per second.
    pub outbps: u64,
}

/// One counter per drop reason (`DROP_*`), in [`DropReason::ALL`] order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Drops([u64; DROP_REASON_COUNT]);

impl Drops {
    /// The count of `why`.
    pub fn get(&self, why: DropReason) -> u64 {
        self.0.get(why.index()).copied().unwrap_or(0)
    }

    /// These counters with `why` counted `n` times.
    pub fn with(mut self, why: DropReason, n: u64) -> Self {
        if let Some(c) = self.0.get_mut(why.index()) {
            *c = n;
        }
        self
    }

    /// `(name, value)` for every counter, in the order of Documentation/ipvs-defense.rst,
    /// "Drops and counters".
    pub fn named(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        DropReason::ALL.into_iter().map(|r| (r.name(), self.get(r)))
    }
}

/// An object of the counters' names and values.
impl Serialize for Drops {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(DROP_REASON_COUNT))?;
        for (name, value) in self.named() {
            m.serialize_entry(name, &value)?;
        }
        m.end()
    }
}

/// A real server as listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DestView {
    /// Address.
    pub addr: Ipv4Addr,
    /// Port.
    pub port: u16,
    /// Weight, 0..=65535.
    pub weight: u32,
    /// Active connections.
    pub active: u32,
    /// Inactive connections.
    pub inactive: u32,
    /// Counters.
    pub stats: Stats,
    /// Rates (only filled for `--rate`).
    pub rates: Option<Rates>,
}

impl DestView {
    /// The real server's key.
    pub fn key(&self) -> DestKey {
        DestKey {
            addr: self.addr,
            port: self.port,
        }
    }
}

/// A virtual service with its real servers, as listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceView {
    /// Protocol, VIP, port.
    pub key: ServiceKey,
    /// Scheduler name.
    pub scheduler: String,
    /// Service flags (none defined yet).
    pub flags: u32,
    /// Counters.
    pub stats: Stats,
    /// Drop counters of this service.
    pub drops: Drops,
    /// Rates (only filled for `--rate`).
    pub rates: Option<Rates>,
    /// Real servers.
    pub dests: Vec<DestView>,
}

/// One entry of the connection table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnView {
    /// Protocol.
    pub protocol: Protocol,
    /// Client address.
    pub caddr: Ipv4Addr,
    /// Client port.
    pub cport: u16,
    /// Virtual address.
    pub vaddr: Ipv4Addr,
    /// Virtual port.
    pub vport: u16,
    /// Real server address.
    pub daddr: Ipv4Addr,
    /// Real server port.
    pub dport: u16,
    /// TCP state number (`CONN_STATE`), 0 for UDP.
    pub state: u8,
    /// Seconds until the entry expires.
    pub expires: u32,
}

impl ConnView {
    /// The state name `ipvsadm -c` prints: a TCP state name, or `UDP` for UDP entries.
    pub fn state_name(&self) -> String {
        match self.protocol {
            Protocol::Udp => "UDP".to_string(),
            Protocol::Tcp => match TCP_STATE_NAMES.get(usize::from(self.state)) {
                Some(name) => (*name).to_string(),
                None => format!("STATE{}", self.state),
            },
        }
    }
}

/// Global counters (`GET_STATS`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GlobalStats {
    /// The protocol version of the reply (`genlmsghdr.version`).
    pub version: u8,
    /// Traffic counters.
    pub stats: Stats,
    /// Drop counters.
    pub drops: Drops,
    /// Entries in the connection table.
    pub entries: u64,
    /// The table's bound (`conn_max`).
    pub conn_max: u64,
    /// SYNs of known clients that skipped the rate drop.
    pub known_client_passes: u64,
}

/// The defense state (`GET_DEFENSE`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DefenseInfo {
    /// The operator's `defense_level`, 0..=2.
    pub level: u32,
    /// The effective level, 0..=2.
    pub effective: u32,
    /// Available memory in pages.
    pub available_pages: u64,
    /// `amemthresh`, in pages.
    pub amemthresh_pages: u64,
    /// Current SYN drop rate: one in N (0 = none).
    pub drop_rate: u32,
    /// How many times the effective level changed.
    pub switches: u64,
    /// `KNOWN_CLIENT_PASSES` when the defense reply carries it.
    pub known_client_passes: Option<u64>,
    /// `table_fill_high` and `table_fill_low` (percent of `conn_max`), when the reply
    /// carries them.
    pub fill_watermarks: Option<(u32, u32)>,
}

/// What `--defense` shows: the defense state plus the global counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DefenseView {
    /// Defense state.
    pub defense: DefenseInfo,
    /// Global counters and drop counters.
    pub global: GlobalStats,
    /// Page size in bytes, to show memory in MiB.
    pub page_size: u64,
}

impl DefenseView {
    /// Known-client passes, from whichever reply carried them.
    pub fn known_client_passes(&self) -> u64 {
        self.defense
            .known_client_passes
            .unwrap_or(self.global.known_client_passes)
    }
}

/// One timeout row (a TCP state or UDP) with its normal and defense values; `None` when
/// the sysctl could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeoutView {
    /// The TCP state or UDP.
    pub row: crate::timeouts::TimeoutRow,
    /// `timeout_<state>`, seconds.
    pub normal: Option<u32>,
    /// `defense_timeout_<state>`, seconds.
    pub defense: Option<u32>,
}
