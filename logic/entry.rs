// SPDX-License-Identifier: GPL-2.0
//! The connection entry the table stores, and the flow keys it is found by.
//!
//! An entry is one client connection through one virtual service to one real server. The
//! table finds it two ways (Documentation/ipvs-defense.rst, "Connection table"):
//! - by its [`Entry::in_key`] (client addr:port → VIP:vport) for packets from the client;
//! - by its [`Entry::out_key`] (server addr:port → client addr:port) for replies.
//!
//! The entry is a plain `#[repr(C)]` struct of at most 128 bytes (checked at compile time)
//! with no pointers: links to other entries (the timer wheel's, the hash chains') are `u32`
//! indices into the table's entry array, [`NIL`] for none. Addresses are `u32` in host
//! order (the numeric value of the dotted quad, `u32::from_be_bytes` of the wire bytes).
//! Ticks are the caller's clock (jiffies).

use super::hash::{siphash24, SipKey};
use super::packet::{IPPROTO_TCP, IPPROTO_UDP};
use super::synproxy::Translation;
use super::tcp_state::{self, Direction, Table, TcpFlags, TcpState};
use super::timeouts::TimeoutRow;
use super::wheel::{Linked, WheelLink};

pub use super::wheel::NIL;

/// The transport protocol of an entry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Protocol {
    /// TCP.
    #[default]
    Tcp = IPPROTO_TCP,
    /// UDP.
    Udp = IPPROTO_UDP,
}

impl Protocol {
    /// The protocol with IP protocol number `n`, if supported.
    pub const fn from_number(n: u8) -> Option<Self> {
        match n {
            IPPROTO_TCP => Some(Protocol::Tcp),
            IPPROTO_UDP => Some(Protocol::Udp),
            _ => None,
        }
    }

    /// The IP protocol number.
    pub const fn number(self) -> u8 {
        self as u8
    }
}

/// A directed flow: what a packet is looked up by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FlowKey {
    /// Source address (host order).
    pub saddr: u32,
    /// Destination address (host order).
    pub daddr: u32,
    /// Source port.
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
    /// Protocol.
    pub protocol: Protocol,
}

impl FlowKey {
    /// The key as 13 bytes: addresses, ports (big-endian), protocol number.
    pub fn to_bytes(self) -> [u8; 13] {
        let bytes = self
            .saddr
            .to_be_bytes()
            .into_iter()
            .chain(self.daddr.to_be_bytes())
            .chain(self.sport.to_be_bytes())
            .chain(self.dport.to_be_bytes())
            .chain([self.protocol.number()]);
        let mut out = [0u8; 13];
        for (o, b) in out.iter_mut().zip(bytes) {
            *o = b;
        }
        out
    }

    /// Where the flow of this key lives in the table, under `key` (the table's secret,
    /// random per load). `dir` says which end is the client: the source of a packet from
    /// the client ([`Direction::Input`]), the destination of a reply
    /// ([`Direction::Output`]).
    pub fn place(&self, dir: Direction, key: SipKey) -> Place {
        let (client, peer) = match dir {
            Direction::Input => ((self.saddr, self.sport), (self.daddr, self.dport)),
            Direction::Output => ((self.daddr, self.dport), (self.saddr, self.sport)),
        };
        let client = client_hash(client, key);
        Place {
            client,
            chain: chain_hash(client, peer, self.protocol),
        }
    }
}

/// Where a flow lives in the table: one keyed hash per packet, so that remote hosts can aim
/// at no shard and no chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Place {
    /// SipHash-2-4 of the client's address and port ([`client_hash`]): the same for both
    /// directions of a flow, it picks the shard.
    pub client: u64,
    /// `client` mixed with the other end and the protocol ([`chain_hash`]): picks the
    /// chain.
    pub chain: u64,
}

/// SipHash-2-4 of a client's address and port (big-endian bytes) under `key`.
pub fn client_hash((addr, port): (u32, u16), key: SipKey) -> u64 {
    let mut b = [0u8; 6];
    for (o, x) in b
        .iter_mut()
        .zip(addr.to_be_bytes().into_iter().chain(port.to_be_bytes()))
    {
        *o = x;
    }
    siphash24(key, &b)
}

/// A chain hash: `client`, a keyed hash, mixed with the flow's other end (the VIP and port
/// coming in, the real server's going out) and protocol by one multiply and a fold of the
/// high half into the low one (which picks the bucket). As unpredictable as `client`.
pub const fn chain_hash(client: u64, (addr, port): (u32, u16), protocol: Protocol) -> u64 {
    let peer = (addr as u64) << 24 | (port as u64) << 8 | protocol as u64;
    let x = (client ^ peer).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    x ^ (x >> 32)
}

/// Entry flags: a bit set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct EntryFlags(pub u16);

impl EntryFlags {
    /// `rs_isn` holds the real server's initial sequence number.
    pub const ISN_SEEN: u16 = 1 << 0;
    /// The entry counts as active (established) at its real server (for lc/wlc).
    pub const ACTIVE: u16 = 1 << 1;
    /// The real server is one of the director's own addresses (served locally).
    pub const LOCAL: u16 = 1 << 2;
    /// The entry was re-created from a real server's packet (`resurrect = 1`).
    pub const RESURRECTED: u16 = 1 << 3;
    /// The entry is linked into the table's hash chains.
    pub const HASHED: u16 = 1 << 4;
    /// The client was recorded as known (it completed a real handshake).
    pub const CLIENT_KNOWN: u16 = 1 << 5;
    /// The SYN proxy set the connection up: the client's handshake was with the director,
    /// and the `proxy_*` fields translate between the two (see [`Entry::translation`]).
    pub const PROXIED: u16 = 1 << 6;

    /// Whether every bit of `mask` is set.
    pub const fn has(self, mask: u16) -> bool {
        self.0 & mask == mask
    }

    /// Sets the bits of `mask`.
    pub fn set(&mut self, mask: u16) {
        self.0 |= mask;
    }

    /// Clears the bits of `mask`.
    pub fn clear(&mut self, mask: u16) {
        self.0 &= !mask;
    }
}

/// A state change made by a segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Transition {
    /// The state before.
    pub from: TcpState,
    /// The state after.
    pub to: TcpState,
}

/// One connection through the director. See the module documentation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct Entry {
    /// Tick the entry was created at.
    pub created: u64,
    /// The expiry timer's link (see [`wheel`](super::wheel)).
    pub timer: WheelLink,
    /// Client address.
    pub client_addr: u32,
    /// Virtual address (the VIP).
    pub vaddr: u32,
    /// Real server address.
    pub rs_addr: u32,
    /// The real server's initial sequence number (valid with [`EntryFlags::ISN_SEEN`]):
    /// a client ACK in SA must acknowledge `rs_isn + 1`.
    pub rs_isn: u32,
    /// The client's initial sequence number (from its SYN): a reset the director sends the
    /// real server in the client's name carries `client_isn + 1`, which the server accepts.
    pub client_isn: u32,
    /// A proxied entry's sequence shift: until the real server answered, the initial
    /// sequence number the client got (the cookie); then that minus the server's.
    pub proxy_seq: u32,
    /// A proxied entry's timestamp shift: until the real server answered, the timestamp
    /// value the client got (0 without timestamps); then that minus the server's.
    pub proxy_ts: u32,
    /// Next entry in the hash chain of [`Entry::in_key`], or [`NIL`].
    pub next_in: u32,
    /// Next entry in the hash chain of [`Entry::out_key`], or [`NIL`].
    pub next_out: u32,
    /// Index of the real server in its service's list.
    pub rs_index: u32,
    /// Index of the virtual service.
    pub service: u32,
    /// Client port.
    pub client_port: u16,
    /// Virtual port.
    pub vport: u16,
    /// Real server port.
    pub rs_port: u16,
    /// Flags.
    pub flags: EntryFlags,
    /// Protocol.
    pub protocol: Protocol,
    /// TCP state (always `None` for UDP).
    pub state: TcpState,
    /// A proxied entry's window scales: the real server's (high 4 bits) and the one the
    /// director announced to the client (low 4 bits).
    pub proxy_wscale: u8,
}

const _: () = assert!(core::mem::size_of::<Entry>() <= 80);

/// Where a new entry's connection goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    /// Real server address.
    pub rs_addr: u32,
    /// Real server port.
    pub rs_port: u16,
    /// Index of the real server in its service's list.
    pub rs_index: u32,
    /// Index of the virtual service.
    pub service: u32,
}

impl Entry {
    /// A new entry for the client flow `key` (client → VIP) to `target`, created at `now`,
    /// in state NONE, unarmed, unhashed.
    pub fn new(key: &FlowKey, target: &Target, now: u64) -> Self {
        Self {
            created: now,
            timer: WheelLink::UNARMED,
            client_addr: key.saddr,
            vaddr: key.daddr,
            rs_addr: target.rs_addr,
            next_in: NIL,
            next_out: NIL,
            rs_index: target.rs_index,
            service: target.service,
            client_port: key.sport,
            vport: key.dport,
            rs_port: target.rs_port,
            protocol: key.protocol,
            ..Self::default()
        }
    }

    /// How a proxied entry's segments are translated, once its real server answered.
    pub const fn translation(&self) -> Translation {
        Translation {
            seq: self.proxy_seq,
            ts: self.proxy_ts,
            server_wscale: self.proxy_wscale >> 4,
            client_wscale: self.proxy_wscale & 0x0f,
        }
    }

    /// The key of packets from the client: client → VIP.
    pub const fn in_key(&self) -> FlowKey {
        FlowKey {
            saddr: self.client_addr,
            daddr: self.vaddr,
            sport: self.client_port,
            dport: self.vport,
            protocol: self.protocol,
        }
    }

    /// The key of replies from the real server: server → client.
    pub const fn out_key(&self) -> FlowKey {
        FlowKey {
            saddr: self.rs_addr,
            daddr: self.client_addr,
            sport: self.rs_port,
            dport: self.client_port,
            protocol: self.protocol,
        }
    }

    /// The timeout row that applies now: the TCP state's, or UDP's.
    pub const fn timeout_row(&self) -> TimeoutRow {
        match self.protocol {
            Protocol::Tcp => TimeoutRow::Tcp(self.state),
            Protocol::Udp => TimeoutRow::Udp,
        }
    }

    /// Applies a TCP segment with `flags` and sequence number `seq` in direction `dir`
    /// under `table`. A SYN from the real server that leaves the entry in SA (the secure
    /// table's SR → SA, or a retransmitted SYN+ACK) records `seq` as the server's initial
    /// sequence number.
    pub fn tcp_segment(
        &mut self,
        table: Table,
        dir: Direction,
        flags: TcpFlags,
        seq: u32,
    ) -> Transition {
        let from = self.state;
        let to = tcp_state::transition(table, dir, flags, from);
        if dir == Direction::Output && flags.has(TcpFlags::SYN) && to == TcpState::SynAck {
            self.rs_isn = seq;
            self.flags.set(EntryFlags::ISN_SEEN);
        }
        if dir == Direction::Input && flags.has(TcpFlags::SYN) && !flags.has(TcpFlags::ACK) {
            self.client_isn = seq;
        }
        self.state = to;
        Transition { from, to }
    }
}

impl Linked for Entry {
    fn wheel_link(&self) -> &WheelLink {
        &self.timer
    }
    fn wheel_link_mut(&mut self) -> &mut WheelLink {
        &mut self.timer
    }
}
