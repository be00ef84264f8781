// SPDX-License-Identifier: GPL-2.0

//! Client → VIP:vport, at `LOCAL_IN`.

use crate::director::{
    stats::{self, DropReason},
    table::Segment,
};
use crate::logic::{
    defense::{client_segment_allowed, opens_connection},
    entry::EntryFlags,
    packet::{self, Side, MAX_HEADERS},
    tcp_state::Direction,
};
use kernel::{
    jiffies, net::netfilter::Verdict, net::route::net_ratelimit, net::skbuff::SkBuff, prelude::*,
    sync::rcu,
};

use super::{
    flow::{flow, Opening},
    headers::{copy_headers, quick_key, rewrite},
    route::{expires_here, next_hop, send_on, Next},
    DataPath,
};

impl DataPath {
    /// Client → VIP, at `LOCAL_IN`.
    pub(crate) fn inbound(&self, skb: &mut SkBuff) -> Verdict {
        let len = skb.network_len();
        let mut buf = [0u8; MAX_HEADERS];
        let Some(h) = copy_headers(skb, &mut buf) else {
            return Verdict::Accept;
        };
        if h.get(9) == Some(&packet::IPPROTO_ICMP) {
            return self.icmp_inbound(skb, h, len);
        }
        let Some(skey) = quick_key(h, Side::Destination) else {
            return Verdict::Accept;
        };
        let guard = rcu::read_lock();
        let cfg = self.store.read(&guard);
        let Some(svc) = cfg.find(&skey) else {
            return Verdict::Accept;
        };
        let pkt = match packet::parse_headers(h, len as usize) {
            Ok(p) => p,
            Err(why) => {
                self.count_drop(&svc.stats, DropReason::Malformed);
                stats::count_malformed(why);
                if net_ratelimit() {
                    pr_info!("malformed packet for a service dropped: {}\n", why.name());
                }
                return Verdict::Drop;
            }
        };
        let Some((key, tcp)) = flow(&pkt) else {
            return Verdict::Accept;
        };
        let seg = Segment {
            dir: Direction::Input,
            tcp,
            len,
            now: jiffies::now(),
        };
        let engaged = self.defense.engaged();
        let shard_lock = self.table.shard(key.saddr, key.sport);
        let hash_in = self.table.hash(&key);

        // An existing flow: its real server, under the shard lock.
        let existing = {
            let mut shard = shard_lock.lock();
            match shard.lookup_in(&key, hash_in) {
                Some(i) => {
                    // ACK validation: while engaged, a client ACK for a connection whose
                    // real server has not answered (SR), or that does not acknowledge the
                    // server's SYN+ACK (SA), is blind: it never reaches the server; so is
                    // a segment without ACK (a FIN, say) on such a half-open entry.
                    if let (true, Some(t), Some(e)) = (engaged, tcp, shard.entry(i)) {
                        if !client_segment_allowed(e.state, e.rs_isn, t.flags, t.ack_seq) {
                            drop(shard);
                            self.count_drop(&svc.stats, DropReason::BlindAck);
                            return Verdict::Drop;
                        }
                    }
                    let _ = self
                        .table
                        .track(&mut shard, i, seg, self.tunables.timeouts(engaged));
                    shard.entry(i).zip(shard.refs(i)).map(|(e, r)| {
                        r.svc.inbound(len);
                        r.dest.stats.inbound(len);
                        (e.rs_addr, e.rs_port)
                    })
                }
                None => None,
            }
        };
        let (rs_addr, rs_port, next) = match existing {
            Some((addr, port)) => match next_hop(addr.to_be_bytes()) {
                Ok(n) => (addr, port, n),
                Err(why) => return self.route_error(skb, &svc.stats, (addr, port), why),
            },
            None => {
                // Only a SYN (without ACK, RST or FIN) may open a TCP connection.
                if let Some(t) = tcp {
                    if !opens_connection(t.flags) {
                        return Verdict::Drop;
                    }
                    // While engaged, new-connection SYNs are dropped at the rate, before
                    // they reach any real server.
                    if self.defense.drop_new_syn(key.saddr) {
                        self.count_drop(&svc.stats, DropReason::SynRate);
                        return Verdict::Drop;
                    }
                }
                let Some(dest_index) = svc.schedule(key.saddr.to_be_bytes(), key.sport) else {
                    return Verdict::Drop;
                };
                let Some(dest) = svc.dests.get(dest_index) else {
                    return Verdict::Drop;
                };
                let (addr, port) = (u32::from_be_bytes(dest.key.addr), dest.key.port);
                let next = match next_hop(dest.key.addr) {
                    Ok(n) => n,
                    Err(why) => {
                        dest.counters.stats.count_drop(DropReason::Route);
                        return self.route_error(skb, &svc.stats, (addr, port), why);
                    }
                };
                // A packet we forward whose TTL runs out here opens nothing.
                if expires_here(&pkt, &next) {
                    skb.send_icmp_time_exceeded();
                    return Verdict::Drop;
                }
                let opening = Opening {
                    key: &key,
                    hash_in,
                    svc,
                    dest_index,
                    flags: if matches!(next, Next::Local) {
                        EntryFlags::LOCAL
                    } else {
                        0
                    },
                    seg,
                    engaged,
                };
                match self.open(&opening) {
                    // Another CPU may have opened the flow meanwhile: follow its entry.
                    Some((a, p)) if (a, p) != (addr, port) => match next_hop(a.to_be_bytes()) {
                        Ok(n) => (a, p, n),
                        Err(why) => return self.route_error(skb, &svc.stats, (a, p), why),
                    },
                    Some(_) => (addr, port, next),
                    None => return Verdict::Drop,
                }
            }
        };
        drop(guard);
        if expires_here(&pkt, &next) {
            skb.send_icmp_time_exceeded();
            return Verdict::Drop;
        }
        // A don't-fragment packet larger than the route's MTU: the client is told, as the
        // forwarding path would tell it, from the packet as received (its stack must
        // recognise the quote). GSO packets are segmented on output, so they fit.
        if let Next::Out(route) = &next {
            let mtu = route.mtu();
            if pkt.ip.dont_fragment && len > mtu && !skb.is_gso() {
                skb.send_icmp_frag_needed(mtu);
                return Verdict::Drop;
            }
        }
        self.global.inbound(len);
        if rewrite(skb, &pkt, Side::Destination, rs_addr, rs_port).is_err() {
            return Verdict::Drop;
        }
        send_on(skb, next)
    }
}
