// SPDX-License-Identifier: GPL-2.0

//! Packets from real servers without an entry: resurrected, or dropped with a reset to the
//! server (Documentation/ipvs-defense.rst, "Zombies and resurrect").

use crate::director::table::{Segment, TcpInfo};
use crate::logic::{
    drops::DropReason,
    entry::{EntryFlags, FlowKey},
    packet::{Packet, Reset},
    tcp_state::{Direction, TcpFlags},
};
use kernel::{net::netfilter::Verdict, net::skbuff::SkBuff, sync::rcu};

use super::{flow::Opening, route::came_from, DataPath};

/// How and when a packet without an entry arrived, for [`DataPath::no_entry`].
pub(super) struct Arrival {
    pub(super) len: u32,
    pub(super) now: u64,
    pub(super) engaged: bool,
    /// The device it arrived on; 0 for a packet this host made.
    pub(super) in_ifindex: i32,
}

/// The reset that answers a segment from a real server nobody knows (RFC 9293 §3.10.7.1):
/// with its acknowledgment number as sequence number if it has one, else a RST+ACK of
/// everything it sent.
fn zombie_reset(key: &FlowKey, t: TcpInfo) -> Reset {
    let (seq, ack_seq) = if t.flags.has(TcpFlags::ACK) {
        (t.ack_seq, None)
    } else {
        let syn_fin = u32::from(t.flags.has(TcpFlags::SYN)) + u32::from(t.flags.has(TcpFlags::FIN));
        (0, Some(t.seq.wrapping_add(t.payload).wrapping_add(syn_fin)))
    };
    Reset {
        src: key.daddr,
        dst: key.saddr,
        src_port: key.dport,
        dst_port: key.sport,
        seq,
        ack_seq,
    }
}

impl DataPath {
    /// A reply without an entry. From anyone but a configured real server it is not ours.
    /// From a real server it is a zombie: with `resurrect = 1`, that server address:port in
    /// exactly one service, and the packet arriving where our route to the server leads (so
    /// not spoofed from the clients' side), the entry is re-created from it; otherwise it is
    /// dropped and counted, never masqueraded, and unless it is a reset itself, or did not
    /// come from the server, the server gets one (at most [`ZOMBIE_RESETS_PER_SEC`]) so that
    /// it frees the connection.
    pub(super) fn no_entry(
        &self,
        skb: &mut SkBuff,
        pkt: &Packet,
        key: &FlowKey,
        tcp: Option<TcpInfo>,
        a: &Arrival,
    ) -> Verdict<'static> {
        let guard = rcu::read_lock();
        let cfg = self.store.read(&guard);
        let (proto, rs) = (key.protocol.number(), key.saddr.to_be_bytes());
        if !cfg.is_real_server(proto, rs, key.sport) {
            return Verdict::Accept;
        }
        let rst = tcp.is_some_and(|t| t.flags.has(TcpFlags::RST));
        let genuine = came_from(cfg, rs, a.in_ifindex, &guard);
        if self.tunables.resurrect.get() == 1 && !rst && genuine {
            if let Some((svc, dest_index)) = cfg.sole_service_of(proto, rs, key.sport) {
                let (vaddr, vport) = (u32::from_be_bytes(svc.key.addr), svc.key.port);
                let in_key = FlowKey {
                    saddr: key.daddr,
                    daddr: vaddr,
                    sport: key.dport,
                    dport: vport,
                    protocol: key.protocol,
                };
                let opening = Opening {
                    key: &in_key,
                    place: self.table.place(&in_key, Direction::Input),
                    svc,
                    dest_index,
                    flags: EntryFlags::RESURRECTED,
                    seg: Segment {
                        dir: Direction::Output,
                        tcp,
                        len: a.len,
                        now: a.now,
                    },
                    engaged: a.engaged,
                    proven: None,
                };
                if self.open(&opening).is_none() {
                    return Verdict::Drop;
                }
                drop(guard);
                self.global.outbound(a.len);
                return self.reply_from_service(skb, pkt, vaddr, vport);
            }
        }
        self.global.count_drop(DropReason::Zombie);
        if let Some(t) = tcp {
            if !rst && genuine && self.zombie_resets.allow(a.now) {
                self.reset_real_server(&zombie_reset(key, t));
            }
        }
        Verdict::Drop
    }
}
