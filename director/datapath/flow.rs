// SPDX-License-Identifier: GPL-2.0

//! Flows and their entries: a packet's flow key, opening an entry for a new flow
//! (reservation, eviction while engaged), and applying a packet to an entry.

use crate::director::{
    config::Service,
    table::{self, Insert, Segment, TcpInfo},
};
use crate::logic::{
    drops::DropReason,
    entry::{chain_hash, FlowKey, Place, Protocol, Target},
    packet::{Packet, Reset, Transport},
    tcp_state::Direction,
};
use core::sync::atomic::Ordering;
use kernel::sync::Arc;

use super::{synproxy::Proven, DataPath};

/// The flow key and, for TCP, its header fields, of a parsed packet.
pub(super) fn flow(pkt: &Packet) -> Option<(FlowKey, Option<TcpInfo>)> {
    let (sport, dport, tcp) = match pkt.transport {
        Transport::Tcp(t) => (
            t.src_port,
            t.dst_port,
            Some(TcpInfo {
                flags: t.flags,
                seq: t.seq,
                ack_seq: t.ack_seq,
                payload: pkt.payload_len() as u32,
            }),
        ),
        Transport::Udp(u) => (u.src_port, u.dst_port, None),
        _ => return None,
    };
    let protocol = Protocol::from_number(pkt.ip.protocol)?;
    Some((
        FlowKey {
            saddr: pkt.ip.src,
            daddr: pkt.ip.dst,
            sport,
            dport,
            protocol,
        },
        tcp,
    ))
}

/// A new flow's first packet, for [`DataPath::open`].
pub(super) struct Opening<'a> {
    /// The flow's inbound key (client → VIP:vport) and where it lives.
    pub(super) key: &'a FlowKey,
    pub(super) place: Place,
    /// The service and the index of the real server scheduled.
    pub(super) svc: &'a Service,
    pub(super) dest_index: usize,
    /// `EntryFlags` to set.
    pub(super) flags: u16,
    /// The packet.
    pub(super) seg: Segment,
    pub(super) engaged: bool,
    /// What the client proved with its cookie, for a connection the SYN proxy sets up.
    pub(super) proven: Option<&'a Proven>,
}

impl DataPath {
    /// Opens the entry of a new flow (see [`Opening`]), evicting a half-open entry while
    /// engaged if the table is full, and counts it. Returns the real server the flow's
    /// packets go to (the one of an entry another CPU opened meanwhile, if any); `None`
    /// when the table is full (counted as `table_full`).
    pub(super) fn open(&self, o: &Opening<'_>) -> Option<(u32, u16)> {
        let dest = o.svc.dests.get(o.dest_index)?;
        let limit = self.tunables.conn_max.get() as u32;
        // Only a TCP handshake may take a half-open entry's place: UDP never evicts one.
        let may_evict = o.engaged && o.key.protocol == Protocol::Tcp;
        if !(self.table.reserve(limit) || may_evict && self.evict(limit)) {
            self.count_drop(&o.svc.stats, DropReason::TableFull);
            return None;
        }
        let target = Target {
            rs_addr: u32::from_be_bytes(dest.key.addr),
            rs_port: dest.key.port,
            rs_index: o.dest_index as u32,
            service: 0,
        };
        let mut e = table::new_entry(o.key, &target, o.seg.now);
        e.flags.set(o.flags);
        if let Some(p) = o.proven {
            p.init(&mut e);
        }
        let hash_out = chain_hash(o.place.client, (e.rs_addr, e.rs_port), e.protocol);
        let mut shard = self.table.shard(o.place).lock();
        if let Some(i) = shard.lookup_in(o.key, o.place.chain) {
            let to = shard.entry(i).map(|e| (e.rs_addr, e.rs_port));
            drop(shard);
            self.table.unreserve();
            return to;
        }
        let refs = Arc::clone(&dest.counters);
        match shard.insert(e, refs, o.place.chain, hash_out, o.seg.now) {
            Insert::Done(i) => {
                dest.counters.inactive.fetch_add(1, Ordering::Relaxed);
                let _ = self
                    .table
                    .track(&mut shard, i, o.seg, self.tunables.timeouts(o.engaged));
            }
            Insert::Full => {
                drop(shard);
                self.table.unreserve();
                self.count_drop(&o.svc.stats, DropReason::TableFull);
                return None;
            }
        }
        drop(shard);
        for s in [&*o.svc.stats, &dest.counters.stats, &*self.global] {
            s.conn();
        }
        for s in [&*o.svc.stats, &dest.counters.stats] {
            match o.seg.dir {
                Direction::Input => s.inbound(o.seg.len),
                Direction::Output => s.outbound(o.seg.len),
            }
        }
        Some((target.rs_addr, target.rs_port))
    }

    /// While engaged and the table is full: evicts the oldest half-open entry (see
    /// `Table::evict_half_open`), resets the real server's side of it, and reserves its
    /// room. `false` if no half-open entry was left.
    fn evict(&self, limit: u32) -> bool {
        let victim = self.table.evict_half_open();
        let Some(v) = victim else {
            return false;
        };
        self.global.count_drop(DropReason::Eviction);
        self.reset_real_server(&Reset {
            src: v.client_addr,
            dst: v.rs_addr,
            src_port: v.client_port,
            dst_port: v.rs_port,
            seq: v.client_isn.wrapping_add(1),
            ack_seq: None,
        });
        self.table.reserve(limit)
    }
}
