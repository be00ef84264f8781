// SPDX-License-Identifier: GPL-2.0

//! Real server → client, at `FORWARD` and `LOCAL_OUT`.

use crate::director::table::{Segment, Shard, TcpInfo};
use crate::logic::{
    drops::DropReason,
    entry::{Entry, EntryFlags},
    packet::{self, Packet, Side, MAX_HEADERS},
    synproxy,
    tcp_options::Options,
    tcp_state::{Direction, TcpFlags},
};
use kernel::{
    jiffies,
    net::netfilter::Verdict,
    net::route::net_ratelimit,
    net::skbuff::SkBuff,
    prelude::*,
    sync::rcu::{self, Guard},
};

use super::{
    flow::flow,
    headers::{first_bytes, may_be_icmp_error, quick_key, translate, HEADER_AND_PORTS},
    icmp::icmp_quote,
    synproxy::{options_in, ServerSegment},
    zombie::Arrival,
    DataPath,
};

impl DataPath {
    /// Whether a packet comes from the address of a real server (or of one removed while
    /// its entries lived): at `FORWARD`, its fragments are reassembled before
    /// [`DataPath::outbound`] sees them, so that no fragment of a reply leaves untranslated
    /// (the ones past the first carry no port).
    pub(crate) fn from_real_server_addr(&self, skb: &SkBuff) -> bool {
        let mut src = [0u8; 4];
        if skb.copy_network(12, &mut src).is_err() {
            return false;
        }
        let guard = rcu::read_lock();
        self.store.read(&guard).is_reply_source_addr(src)
    }

    /// Whether a packet may be ours on the reply path, from its first bytes (read in place)
    /// and one lookup in the configuration: an ICMP error (it may quote one of our flows),
    /// or TCP or UDP from a real server's address:port. Other traffic leaves the hook after
    /// this, with no header copy, hash or lock.
    fn may_be_reply(&self, skb: &SkBuff, guard: &Guard) -> bool {
        let mut first = [0u8; HEADER_AND_PORTS];
        let Some(h) = first_bytes(skb, &mut first) else {
            return false;
        };
        if h.get(9) == Some(&packet::IPPROTO_ICMP) {
            return may_be_icmp_error(h);
        }
        self.from_real_server(h, guard)
    }

    /// The packet's headers parsed (read in place when linear), or the verdict on a packet
    /// that is not ours or does not parse.
    fn parse_reply(&self, skb: &SkBuff, guard: &Guard) -> Result<(Packet, u32), Verdict<'static>> {
        let len = skb.network_len();
        let mut buf = [0u8; MAX_HEADERS];
        let Some(h) = first_bytes(skb, &mut buf) else {
            return Err(Verdict::Accept);
        };
        match packet::parse_headers(h, len as usize) {
            Ok(p) => Ok((p, len)),
            Err(why) => Err(self.unparsable_reply(h, why, guard)),
        }
    }

    /// Real server → client, at `FORWARD`; `in_ifindex` is the device it arrived on.
    pub(crate) fn outbound(
        &self,
        skb: &mut SkBuff,
        in_ifindex: i32,
        guard: &Guard,
    ) -> Verdict<'static> {
        if !self.may_be_reply(skb, guard) {
            return Verdict::Accept;
        }
        match self.parse_reply(skb, guard) {
            Ok((pkt, len)) => self.reply(skb, &pkt, len, in_ifindex),
            Err(verdict) => verdict,
        }
    }

    /// A packet the director sends itself, at `LOCAL_OUT`: ours only when it comes from a
    /// real server that is one of the director's own addresses (one lookup in the sorted
    /// real-server list for every other packet), or when it is the stack's ICMP error about
    /// a packet such a server got (port unreachable from a local UDP server, ...), which
    /// must reach the client as coming from VIP:vport.
    pub(crate) fn local_out(&self, skb: &mut SkBuff, guard: &Guard) -> Verdict<'static> {
        // A packet that arrived on a device and is being sent on (the client packets we
        // DNAT and transmit pass here) is no local server's: no copy, no lookup.
        if skb.arrived() || !self.may_be_reply(skb, guard) {
            return Verdict::Accept;
        }
        // An ICMP error is translated, as at FORWARD, when its quote matches an entry.
        match self.parse_reply(skb, guard) {
            Ok((pkt, len)) => self.reply(skb, &pkt, len, 0),
            Err(verdict) => verdict,
        }
    }

    /// A packet from a real server (or, for ICMP errors, about a request it got) to a
    /// client: SNAT back to VIP:vport through its entry.
    fn reply(&self, skb: &mut SkBuff, pkt: &Packet, len: u32, in_ifindex: i32) -> Verdict<'static> {
        if let Some(q) = icmp_quote(pkt) {
            return self.icmp_outbound(skb, pkt, q);
        }
        let Some((key, tcp)) = flow(pkt) else {
            return Verdict::Accept;
        };
        let now = jiffies::now();
        let engaged = self.defense.engaged();
        let mut translation = None;
        let mut consumed = None;
        // The reply's destination is the client.
        let found = {
            let place = self.table.place(&key, Direction::Output);
            let mut shard = self.table.shard(place).lock();
            let proxied = |e: &Entry| e.flags.has(EntryFlags::PROXIED);
            match (shard.lookup_out(&key, place.chain), tcp) {
                (Some(i), Some(t)) if shard.entry(i).is_some_and(proxied) => {
                    // A SYN's options matter to a proxied entry in set-up (read only for
                    // such entries: no other reply pays for them).
                    let options = if t.flags.has(TcpFlags::SYN) {
                        options_in(skb, pkt)
                    } else {
                        Options::default()
                    };
                    match self.server_segment(&mut shard, i, t, &options, now, engaged) {
                        ServerSegment::Translate(tr) => {
                            translation = Some(tr);
                            self.track_reply(&mut shard, i, tcp, len, now, engaged)
                        }
                        ServerSegment::Consumed(r) => {
                            consumed = Some(r);
                            None
                        }
                    }
                }
                (Some(i), _) => self.track_reply(&mut shard, i, tcp, len, now, engaged),
                (None, _) => None,
            }
        };
        if let Some(r) = consumed {
            if let Some(r) = r {
                self.send_reply(r);
            }
            return Verdict::Drop;
        }
        let Some((vaddr, vport)) = found else {
            let arrival = Arrival {
                len,
                now,
                engaged,
                in_ifindex,
            };
            return self.no_entry(skb, pkt, &key, tcp, &arrival);
        };
        self.global.outbound(len);
        if let Some(tr) = translation {
            if translate(skb, pkt, |h, mode| synproxy::to_client(h, &tr, mode)).is_err() {
                return self.rewrite_failed();
            }
        }
        self.reply_from_service(skb, pkt, vaddr, vport)
    }

    /// Applies a real server's segment to its entry `i` of `shard`; returns the VIP and
    /// port to answer from.
    fn track_reply(
        &self,
        shard: &mut Shard,
        i: u32,
        tcp: Option<TcpInfo>,
        len: u32,
        now: u64,
        engaged: bool,
    ) -> Option<(u32, u16)> {
        let seg = Segment {
            dir: Direction::Output,
            tcp,
            len,
            now,
        };
        if let Some(client) = self
            .table
            .track(shard, i, seg, self.tunables.timeouts(engaged))
        {
            self.defense.remember_client(client);
        }
        shard.entry(i).zip(shard.refs(i)).map(|(e, r)| {
            r.svc.outbound(len);
            r.stats.outbound(len);
            (e.vaddr, e.vport)
        })
    }

    /// Whether the TCP or UDP packet whose headers are `h` comes from a real server's
    /// address:port (or one's removed while its entries lived).
    fn from_real_server(&self, h: &[u8], guard: &Guard) -> bool {
        let Some(k) = quick_key(h, Side::Source) else {
            return false;
        };
        self.store
            .read(guard)
            .is_reply_source(k.proto, k.addr, k.port)
    }

    /// A packet on the reply path that does not parse: not ours to judge unless it comes
    /// from a configured real server address:port, and then dropped and counted, never
    /// forwarded untranslated.
    fn unparsable_reply(
        &self,
        h: &[u8],
        why: packet::ParseError,
        guard: &Guard,
    ) -> Verdict<'static> {
        if !self.from_real_server(h, guard) {
            return Verdict::Accept;
        }
        self.global.count_drop(DropReason::Malformed);
        self.malformed.count(why);
        if net_ratelimit() {
            pr_info!(
                "malformed packet from a real server dropped: {}\n",
                why.name()
            );
        }
        Verdict::Drop
    }
}
