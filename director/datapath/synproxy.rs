// SPDX-License-Identifier: GPL-2.0

//! The SYN proxy (Documentation/ipvs-defense.rst, "SYN proxy"): a service's SYN is answered
//! by the director with a cookie and nothing kept; the client's ACK that carries a valid
//! cookie opens the entry and the director's own handshake with the real server; the real
//! server's SYN+ACK completes it, and the connection's segments are translated from then
//! on (`logic::synproxy`).

use crate::director::table::{Expired, Shard, TcpInfo};
use crate::logic::{
    cookie::{self, Flow, Options as Carried},
    entry::{Entry, EntryFlags, FlowKey},
    packet::{self, Packet, Reset, Segment, Transport, MAX_HEADERS, SEGMENT_MAX_LEN},
    synproxy::{setup_wait_secs, ProxyCount, Translation, SYN_RESENDS},
    tcp_options::{self, Options, Timestamp},
    tcp_state::{TcpFlags, TcpState},
};
use kernel::{
    jiffies,
    net::route::Route,
    net::skbuff::{NewPacket, SkBuff},
    random,
    sync::rcu::{self, Guard},
};

use super::{
    headers::first_bytes,
    route::{next_hop, Next},
    DataPath,
};

/// The window scale the director announces to a client that offered the option.
const WSCALE: u8 = 7;
/// The window of the director's SYN+ACK (a SYN's window is never scaled).
const SYN_WINDOW: u16 = u16::MAX;
/// The MSS the director announces when the client's route gives none.
const DEFAULT_MSS: u16 = 1460;

/// What a cookie ACK opens: the client's initial sequence number, the cookie, and what the
/// cookie and the ACK's timestamp carry of the SYN.
#[derive(Clone, Copy)]
pub(super) struct Proven {
    pub(super) isn: u32,
    pub(super) cookie: u32,
    pub(super) mss: u16,
    /// The window scale, SACK permission and ECN of the SYN, and the timestamp value the
    /// client got, when it uses timestamps; `None` without (no option then survives).
    pub(super) carried: Option<(Carried, u32)>,
    /// The client's own timestamp value in the ACK.
    pub(super) client_ts: Option<u32>,
    /// The ACK's window field (scaled by the client's window scale).
    pub(super) window: u16,
}

impl Proven {
    /// The `proxy_*` fields of the entry it opens, before the real server answers.
    pub(super) fn init(&self, e: &mut Entry) {
        e.flags.set(EntryFlags::PROXIED);
        e.proxy_seq = self.cookie;
        e.proxy_ts = self.carried.map_or(0, |(_, ts)| ts);
        let announced = match self.carried {
            Some((c, _)) if c.wscale.is_some() => WSCALE,
            _ => 0,
        };
        e.proxy_wscale = announced;
    }
}

/// The director's SYN to a real server, in a client's name.
struct ServerSyn {
    /// The client's address and port.
    client: (u32, u16),
    rs: (u32, u16),
    isn: u32,
    options: Options,
    ecn: bool,
    window: u16,
}

/// A segment the sweep sends for a proxied entry in set-up.
#[derive(Clone, Copy)]
pub(super) enum SetupSend {
    /// The SYN again.
    Resend(Entry),
    /// Resets to the client and the server: the server stayed silent.
    GiveUp(Entry),
}

/// The set-up segments of one shard's sweep, sent once its lock is released (a few per
/// sweep: the rest wait for the next).
pub(super) struct SetupSends {
    sends: [Option<SetupSend>; 8],
    n: usize,
}

impl SetupSends {
    pub(super) const fn new() -> Self {
        Self {
            sends: [None; 8],
            n: 0,
        }
    }

    fn is_full(&self) -> bool {
        self.n >= self.sends.len()
    }

    fn push(&mut self, s: SetupSend) {
        if let Some(slot) = self.sends.get_mut(self.n) {
            *slot = Some(s);
            self.n += 1;
        }
    }
}

/// What becomes of a segment from a proxied entry's real server.
pub(super) enum ServerSegment {
    /// Dropped; then, outside the shard's lock, this is sent.
    Consumed(Option<Reply>),
    /// Passed on to the client, translated so.
    Translate(Translation),
}

/// A segment the director sends for a proxied entry (a copy of it).
pub(super) enum Reply {
    /// The ACK of the real server's SYN+ACK (whose timestamp option is given).
    AckServer(Entry, Option<Timestamp>),
    /// A reset to the client, whose real server refused.
    ResetClient(Entry),
}

/// The TCP options of a parsed TCP packet in `skb`.
pub(super) fn options_in(skb: &SkBuff, pkt: &Packet) -> Options {
    let mut buf = [0u8; MAX_HEADERS];
    first_bytes(skb, &mut buf).map_or(Options::default(), |h| options_of(h, pkt))
}

/// The TCP options of a parsed packet whose first bytes are `h`.
fn options_of(h: &[u8], pkt: &Packet) -> Options {
    let Transport::Tcp(t) = pkt.transport else {
        return Options::default();
    };
    let from = pkt.l4_offset() + packet::TCP_MIN_HEADER;
    let to = pkt.l4_offset() + t.header_len;
    h.get(from..to)
        .map_or(Options::default(), tcp_options::parse)
}

/// The director's timestamp clock: milliseconds.
fn ts_now() -> u32 {
    (jiffies::now().wrapping_mul(1000) / jiffies::HZ) as u32
}

/// The cookie time count now.
fn count_now() -> u32 {
    cookie::count_at(jiffies::now() / jiffies::HZ)
}

/// Builds `s` and sends it through `route`; `false` when it could not be.
fn send_built(s: &Segment, route: Route) -> bool {
    let mut buf = [0u8; SEGMENT_MAX_LEN];
    let Ok(n) = packet::build_tcp(&mut buf, s) else {
        return false;
    };
    let Ok(mut p) = NewPacket::alloc_ipv4(n as u32) else {
        return false;
    };
    match (p.data_mut(), buf.get(..n)) {
        (d, Some(b)) if d.len() == n => d.copy_from_slice(b),
        _ => return false,
    }
    p.send(route);
    true
}

fn flow_of(key: &FlowKey) -> Flow {
    Flow {
        saddr: key.saddr,
        daddr: key.daddr,
        sport: key.sport,
        dport: key.dport,
    }
}

impl DataPath {
    /// Fresh secrets for the SYN proxy's cookies.
    pub(crate) fn cookie_secrets() -> cookie::Secrets {
        cookie::Secrets {
            flow: crate::logic::hash::SipKey::new(random::u64(), random::u64()),
            counted: crate::logic::hash::SipKey::new(random::u64(), random::u64()),
        }
    }

    /// Whether the SYN proxy answers the services' SYNs now (`syn_proxy`: 2, or 1 while
    /// the defense is engaged).
    pub(super) fn proxy_active(&self, engaged: bool) -> bool {
        match self.tunables.syn_proxy.get() {
            2 => true,
            1 => engaged,
            _ => false,
        }
    }

    /// Answers a client's SYN to a service (key `key`) with a SYN+ACK whose initial
    /// sequence number is a cookie, and keeps nothing.
    pub(super) fn answer_syn(&self, skb: &SkBuff, pkt: &Packet, key: &FlowKey, t: TcpInfo) {
        let mut buf = [0u8; MAX_HEADERS];
        let Some(h) = first_bytes(skb, &mut buf) else {
            return;
        };
        let o = options_of(h, pkt);
        let Ok(route) = Route::output(key.saddr.to_be_bytes()) else {
            return;
        };
        let mss = (route.get().mtu().saturating_sub(40) as u16).min(DEFAULT_MSS);
        let isn = cookie::make(
            &self.cookies,
            flow_of(key),
            t.seq,
            o.mss.unwrap_or(536),
            count_now(),
        );
        let ecn = t.flags.has(TcpFlags::ECE) && t.flags.has(TcpFlags::CWR);
        // Without a timestamp to carry them, window scale and SACK are given up.
        let answer = o.timestamp.map(|ts| {
            let carried = Carried {
                wscale: o.wscale,
                sack: o.sack_perm,
                ecn,
            };
            Options {
                mss: Some(mss),
                wscale: o.wscale.map(|_| WSCALE),
                sack_perm: o.sack_perm,
                timestamp: Some(Timestamp {
                    val: carried.timestamp(ts_now()),
                    ecr: ts.val,
                }),
            }
        });
        let mut flags = TcpFlags::SYN | TcpFlags::ACK;
        if ecn && answer.is_some() {
            flags |= TcpFlags::ECE;
        }
        let sent = send_built(
            &Segment {
                src: key.daddr,
                dst: key.saddr,
                src_port: key.dport,
                dst_port: key.sport,
                seq: isn,
                ack_seq: t.seq.wrapping_add(1),
                flags,
                window: SYN_WINDOW,
                options: answer.unwrap_or(Options {
                    mss: Some(mss),
                    ..Options::default()
                }),
            },
            route,
        );
        if sent {
            self.proxy.count(ProxyCount::CookiesSent);
        }
    }

    /// Checks the cookie of a client's ACK that has no entry: what it proves, or `None`
    /// (counted as a blind ACK).
    pub(super) fn check_cookie(
        &self,
        skb: &SkBuff,
        pkt: &Packet,
        key: &FlowKey,
        t: TcpInfo,
    ) -> Option<Proven> {
        let isn = t.seq.wrapping_sub(1);
        let cookie = t.ack_seq.wrapping_sub(1);
        let Some(mss) = cookie::check(&self.cookies, flow_of(key), isn, cookie, count_now()) else {
            self.proxy.count(ProxyCount::CookiesRefused);
            return None;
        };
        self.proxy.count(ProxyCount::CookiesValid);
        let o = options_in(skb, pkt);
        let window = match pkt.transport {
            Transport::Tcp(t) => t.window,
            _ => 0,
        };
        Some(Proven {
            isn,
            cookie,
            mss,
            carried: o
                .timestamp
                .map(|ts| (Carried::from_timestamp(ts.ecr), ts.ecr)),
            client_ts: o.timestamp.map(|ts| ts.val),
            window,
        })
    }

    /// Sends real server `rs` the SYN of the director's handshake for the proven client
    /// of flow `key`: the client's initial sequence number and options.
    pub(super) fn syn_to_server(&self, key: &FlowKey, rs: (u32, u16), p: &Proven, guard: &Guard) {
        let (carried, options) = match (p.carried, p.client_ts) {
            (Some((c, _)), Some(val)) => (
                c,
                Options {
                    mss: Some(p.mss),
                    wscale: c.wscale,
                    sack_perm: c.sack,
                    timestamp: Some(Timestamp { val, ecr: 0 }),
                },
            ),
            _ => (
                Carried::default(),
                Options {
                    mss: Some(p.mss),
                    ..Options::default()
                },
            ),
        };
        // A SYN's window is unscaled: the client's, as its ACK gave it, unscaled.
        let shift = carried.wscale.unwrap_or(0).min(14);
        let window = ((p.window as u32) << shift).min(u16::MAX as u32) as u16;
        let syn = ServerSyn {
            client: (key.saddr, key.sport),
            rs,
            isn: p.isn,
            options,
            ecn: carried.ecn,
            window,
        };
        self.send_server_syn(&syn, guard);
    }

    /// Sends the director's SYN again for entry `e` in set-up, from what the entry keeps:
    /// the MSS from its cookie and the other options from the timestamp the client got,
    /// but no timestamp (the client's own value is not kept) and a full window.
    fn resend_syn(&self, e: &Entry) {
        let key = e.in_key();
        let mss = cookie::check(
            &self.cookies,
            flow_of(&key),
            e.client_isn,
            e.proxy_seq,
            count_now(),
        )
        .unwrap_or(cookie::MSS_TABLE[0]);
        let carried = if e.proxy_ts != 0 {
            Carried::from_timestamp(e.proxy_ts)
        } else {
            Carried::default()
        };
        let syn = ServerSyn {
            client: (e.client_addr, e.client_port),
            rs: (e.rs_addr, e.rs_port),
            isn: e.client_isn,
            options: Options {
                mss: Some(mss),
                wscale: carried.wscale,
                sack_perm: carried.sack,
                timestamp: None,
            },
            ecn: carried.ecn,
            window: u16::MAX,
        };
        let guard = rcu::read_lock();
        self.send_server_syn(&syn, &guard);
    }

    /// Sends `syn` to its real server, by the route rule.
    fn send_server_syn(&self, syn: &ServerSyn, guard: &Guard) {
        let cfg = self.store.read(guard);
        let route = match next_hop(cfg, syn.rs.0.to_be_bytes(), guard) {
            Ok(Next::Out(r)) => r.into_owned(),
            Ok(Next::Local) => match Route::output(syn.rs.0.to_be_bytes()) {
                Ok(r) => r,
                Err(_) => return,
            },
            Err(_) => return,
        };
        let mut flags = TcpFlags::SYN;
        if syn.ecn {
            flags |= TcpFlags::ECE | TcpFlags::CWR;
        }
        send_built(
            &Segment {
                src: syn.client.0,
                dst: syn.rs.0,
                src_port: syn.client.1,
                dst_port: syn.rs.1,
                seq: syn.isn,
                ack_seq: 0,
                flags,
                window: syn.window,
                options: syn.options,
            },
            route,
        );
    }

    /// What the sweep does with proxied entry `e` in set-up when it expires (its real
    /// server silent): sends the SYN again (`SYN_RESENDS` times, waiting 2, then 4 s), then
    /// gives up, resetting the client and the server. Anything else expires as usual.
    pub(super) fn setup_expired(&self, e: &mut Entry, now: u64, todo: &mut SetupSends) -> Expired {
        if !Self::in_setup(e) {
            return Expired::Remove;
        }
        if todo.is_full() {
            // Next sweep.
            return Expired::Keep(now + 1);
        }
        let resends = e.proxy_wscale >> 4;
        if resends < SYN_RESENDS {
            e.proxy_wscale += 1 << 4;
            todo.push(SetupSend::Resend(*e));
            Expired::Keep(now.saturating_add(setup_wait_secs(resends + 1) * jiffies::HZ))
        } else {
            todo.push(SetupSend::GiveUp(*e));
            Expired::Remove
        }
    }

    /// Sends what [`DataPath::setup_expired`] asked for, outside the shard's lock.
    pub(super) fn send_setup(&self, todo: &SetupSends) {
        for s in todo.sends.iter().flatten() {
            match s {
                SetupSend::Resend(e) => self.resend_syn(e),
                SetupSend::GiveUp(e) => {
                    self.reset_client(e);
                    self.reset_real_server(&Reset {
                        src: e.client_addr,
                        dst: e.rs_addr,
                        src_port: e.client_port,
                        dst_port: e.rs_port,
                        seq: e.client_isn.wrapping_add(1),
                        ack_seq: None,
                    });
                }
            }
        }
    }

    /// The real server's answer to the director's SYN, for the proxied entry `e` still in
    /// set-up: a SYN+ACK records the translation in `e` and is acknowledged in the
    /// client's name (the caller then establishes the entry); a reset is passed on to the
    /// client as its own. Returns whether the entry is now set up (`Some(true)`), or is to
    /// be removed (`Some(false)`, after a reset), or the segment means nothing (`None`).
    pub(super) fn server_answer(
        &self,
        e: &mut Entry,
        t: TcpInfo,
        options: &Options,
    ) -> Option<bool> {
        if t.flags.has(TcpFlags::RST) {
            return Some(false);
        }
        if !(t.flags.has(TcpFlags::SYN) && t.flags.has(TcpFlags::ACK))
            || t.ack_seq != e.client_isn.wrapping_add(1)
        {
            return None;
        }
        e.rs_isn = t.seq;
        e.flags.set(EntryFlags::ISN_SEEN);
        e.proxy_seq = e.proxy_seq.wrapping_sub(t.seq);
        let rs_ts = options.timestamp.map(|ts| ts.val);
        e.proxy_ts = match rs_ts {
            Some(v) if e.proxy_ts != 0 => e.proxy_ts.wrapping_sub(v),
            _ => 0,
        };
        let announced = e.proxy_wscale & 0x0f;
        let server = if announced != 0 {
            options.wscale.unwrap_or(0).min(14)
        } else {
            0
        };
        e.proxy_wscale = server << 4 | announced;
        Some(true)
    }

    /// Acknowledges the real server's SYN+ACK of entry `e` in the client's name; `ts` is
    /// the SYN+ACK's timestamp option (its echo is the client's value the SYN carried).
    fn ack_server(&self, e: &Entry, ts: Option<Timestamp>) {
        let guard = rcu::read_lock();
        let cfg = self.store.read(&guard);
        let route = match next_hop(cfg, e.rs_addr.to_be_bytes(), &guard) {
            Ok(Next::Out(r)) => r.into_owned(),
            Ok(Next::Local) => match Route::output(e.rs_addr.to_be_bytes()) {
                Ok(r) => r,
                Err(_) => return,
            },
            Err(_) => return,
        };
        let timestamp = ts.map(|ts| Timestamp {
            val: ts.ecr,
            ecr: ts.val,
        });
        send_built(
            &Segment {
                src: e.client_addr,
                dst: e.rs_addr,
                src_port: e.client_port,
                dst_port: e.rs_port,
                seq: e.client_isn.wrapping_add(1),
                ack_seq: e.rs_isn.wrapping_add(1),
                flags: TcpFlags::ACK,
                // The client's window reaches the server with the client's next segment;
                // until then its initial congestion window bounds what it sends.
                window: u16::MAX,
                options: Options {
                    timestamp,
                    ..Options::default()
                },
            },
            route,
        );
    }

    /// Resets the client of proxied entry `e`, whose real server refused the connection or
    /// stayed silent (a set-up failure).
    fn reset_client(&self, e: &Entry) {
        self.proxy.count(ProxyCount::SetupFailures);
        let Ok(route) = Route::output(e.client_addr.to_be_bytes()) else {
            return;
        };
        let mut buf = [0u8; packet::RST_LEN];
        let rst = Reset {
            src: e.vaddr,
            dst: e.client_addr,
            src_port: e.vport,
            dst_port: e.client_port,
            // What the client expects next: the cookie plus one.
            seq: e.proxy_seq.wrapping_add(1),
            ack_seq: None,
        };
        if packet::build_tcp_rst(&mut buf, &rst).is_err() {
            return;
        }
        let Ok(mut p) = NewPacket::alloc_ipv4(packet::RST_LEN as u32) else {
            return;
        };
        p.data_mut().copy_from_slice(&buf);
        p.send(route);
    }

    /// A segment from the real server of proxied entry `i` of `shard`, under the shard's
    /// lock: its answer to the director's SYN while the entry is in set-up (then the entry
    /// is established, or removed after a reset), a SYN+ACK sent again (the director's
    /// ACK was lost), or a segment of the connection, to translate.
    pub(super) fn server_segment(
        &self,
        shard: &mut Shard,
        i: u32,
        t: TcpInfo,
        options: &Options,
        now: u64,
        engaged: bool,
    ) -> ServerSegment {
        let Some(e) = shard.entry_mut(i) else {
            return ServerSegment::Consumed(None);
        };
        if Self::in_setup(e) {
            let answered = self.server_answer(e, t, options);
            let copy = *e;
            return ServerSegment::Consumed(match answered {
                Some(true) => {
                    if let Some(client) =
                        self.table
                            .establish(shard, i, now, self.tunables.timeouts(engaged))
                    {
                        self.defense.remember_client(client);
                    }
                    Some(Reply::AckServer(copy, options.timestamp))
                }
                Some(false) => {
                    self.table.remove(shard, i);
                    Some(Reply::ResetClient(copy))
                }
                None => None,
            });
        }
        if t.flags.has(TcpFlags::SYN) {
            let resend = t.flags.has(TcpFlags::ACK) && t.seq == e.rs_isn;
            return ServerSegment::Consumed(
                resend.then(|| Reply::AckServer(*e, options.timestamp)),
            );
        }
        ServerSegment::Translate(e.translation())
    }

    /// Sends what [`DataPath::server_segment`] asked for, outside the shard's lock.
    pub(super) fn send_reply(&self, r: Reply) {
        match r {
            Reply::AckServer(e, ts) => self.ack_server(&e, ts),
            Reply::ResetClient(e) => self.reset_client(&e),
        }
    }

    /// Whether a proxied entry is still being set up (the real server has not answered).
    pub(super) fn in_setup(e: &Entry) -> bool {
        e.flags.has(EntryFlags::PROXIED) && e.state == TcpState::SynRecv
    }
}
