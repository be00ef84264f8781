// SPDX-License-Identifier: GPL-2.0

//! ICMP errors about our flows, translated both ways (Documentation/ipvs-defense.rst,
//! "ICMP errors").

use crate::director::fault;
use crate::logic::{
    drops::DropReason,
    entry::{EntryFlags, FlowKey, Protocol},
    packet::{self, Icmp, Packet, Quote, Side, Transport},
    proto::ipproto,
    synproxy,
    tcp_state::Direction,
};
use kernel::{
    net::netfilter::Verdict,
    net::skbuff::SkBuff,
    prelude::*,
    sync::rcu::{self, Guard},
};

use super::{
    route::{expires_here, next_hop, send_on},
    DataPath,
};

/// The quoted TCP or UDP packet of an ICMP error, if the packet is one.
pub(super) fn icmp_quote(pkt: &Packet) -> Option<Quote> {
    match pkt.transport {
        Transport::Icmp(Icmp { quote: Some(q), .. })
            if q.protocol == ipproto::TCP || q.protocol == ipproto::UDP =>
        {
            Some(q)
        }
        _ => None,
    }
}

/// The bytes of a TCP header up to the end of its checksum.
const TCP_CHECKSUM_END: usize = 18;

/// Where an ICMP error's translation points, and the shift of its quoted sequence number.
struct QuoteTarget {
    to: (u32, u16),
    seq_shift: Option<u32>,
}

/// Translates an ICMP error in place: the outer address on `outer`, and the quoted address
/// and port on the other side, become `addr`:`port`; the quoted sequence number moves by
/// `seq_shift` when given (a proxied connection).
fn rewrite_icmp(
    skb: &mut SkBuff,
    pkt: &Packet,
    q: &Quote,
    outer: Side,
    addr: u32,
    port: u16,
    seq_shift: Option<u32>,
) -> Result {
    // Through the quoted TCP or UDP checksum, when the packet holds it.
    let quoted = if q.protocol == packet::IPPROTO_TCP {
        TCP_CHECKSUM_END
    } else {
        packet::UDP_HEADER
    };
    let n = (q.offset + q.header_len + quoted).min(pkt.ip.total_len);
    fault::rewrite()?;
    let hdr = skb.writable_network(n as u32)?;
    packet::rewrite_icmp_error(hdr, pkt, outer, addr, port).map_err(|_| EINVAL)?;
    if let Some(by) = seq_shift {
        synproxy::shift_quoted_seq(hdr, pkt, by).map_err(|_| EINVAL)?;
    }
    skb.drop_complete_checksum();
    Ok(())
}

impl DataPath {
    /// The entry an ICMP error's quote belongs to, and where its translation points: for an
    /// error from the client (`Input`, quoting a reply VIP:vport → client) the real server,
    /// for one from the real server (`Output`, quoting a request client → server) the VIP.
    /// Either way the quoted packet's reverse is the flow's key in that direction.
    fn quote_target(&self, q: &Quote, dir: Direction) -> Option<QuoteTarget> {
        let key = FlowKey {
            saddr: q.dst,
            daddr: q.src,
            sport: q.dst_port,
            dport: q.src_port,
            protocol: Protocol::from_number(q.protocol)?,
        };
        let place = self.table.place(&key, dir);
        let shard = self.table.shard(place).lock();
        match dir {
            Direction::Input => {
                let e = shard.entry(shard.lookup_in(&key, place.chain)?)?;
                // A proxied connection's segment to the client carries the director's
                // sequence numbers (after set-up): the server knows them shifted back.
                let seq_shift = (e.flags.has(EntryFlags::PROXIED) && !DataPath::in_setup(e))
                    .then(|| e.translation().seq.wrapping_neg());
                Some(QuoteTarget {
                    to: (e.rs_addr, e.rs_port),
                    seq_shift,
                })
            }
            Direction::Output => {
                let e = shard.entry(shard.lookup_out(&key, place.chain)?)?;
                Some(QuoteTarget {
                    to: (e.vaddr, e.vport),
                    seq_shift: None,
                })
            }
        }
    }

    /// An ICMP error from a client about a reply it got from VIP:vport (so, sent to the
    /// VIP), at `LOCAL_IN`: passed on to the real server, quote and all translated.
    pub(super) fn icmp_inbound<'a>(
        &'a self,
        skb: &mut SkBuff,
        h: &[u8],
        len: u32,
        guard: &'a Guard,
    ) -> Verdict<'a> {
        let Ok(pkt) = packet::parse_headers(h, len as usize) else {
            return Verdict::Accept;
        };
        let Some(q) = icmp_quote(&pkt) else {
            return Verdict::Accept;
        };
        let Some(QuoteTarget {
            to: (addr, port),
            seq_shift,
        }) = self.quote_target(&q, Direction::Input)
        else {
            return Verdict::Accept;
        };
        let next = match next_hop(self.store.read(guard), addr.to_be_bytes(), guard) {
            Ok(next) => next,
            Err(why) => return self.icmp_route_error((addr, port), why),
        };
        // An ICMP error is never answered with another: one that runs out of TTL just dies.
        if expires_here(&pkt, &next) {
            return Verdict::Drop;
        }
        if rewrite_icmp(skb, &pkt, &q, Side::Destination, addr, port, seq_shift).is_err() {
            return self.rewrite_failed();
        }
        send_on(skb, next)
    }

    /// An ICMP error from a real server about a request it got from a client, at
    /// `FORWARD`: made to come from VIP:vport. Without an entry, one about a request to a
    /// configured real server address:port is a zombie, dropped like its packets.
    pub(super) fn icmp_outbound(
        &self,
        skb: &mut SkBuff,
        pkt: &Packet,
        q: Quote,
    ) -> Verdict<'static> {
        let Some(QuoteTarget {
            to: (vaddr, vport), ..
        }) = self.quote_target(&q, Direction::Output)
        else {
            let guard = rcu::read_lock();
            let cfg = self.store.read(&guard);
            if !cfg.is_real_server(q.protocol, q.dst.to_be_bytes(), q.dst_port) {
                return Verdict::Accept;
            }
            self.global.count_drop(DropReason::Zombie);
            return Verdict::Drop;
        };
        match rewrite_icmp(skb, pkt, &q, Side::Source, vaddr, vport, None) {
            Ok(()) => {
                skb.untrack();
                Verdict::Accept
            }
            Err(_) => self.rewrite_failed(),
        }
    }
}
