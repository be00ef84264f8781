// SPDX-License-Identifier: GPL-2.0

//! The connection table: bounded, preallocated, sharded.
//!
//! Entries (`logic::entry::Entry`, 72 bytes) live in per-shard arrays allocated when the
//! module loads (`logic::sizing` sizes them: at most 128 bytes per entry of capacity, all
//! counted); nothing is allocated on the packet path. A flow's shard is chosen by a
//! keyed hash of the client's address and port, which both directions of a flow carry, so
//! the client → VIP lookup and the real server → client lookup find the same shard. Each
//! shard has its own bh-safe spinlock, its two hash chains (by the inbound key and by the
//! outbound key), its free list and its timer wheel (`logic::wheel`), so CPUs working on
//! different flows rarely meet on a lock, and expiry needs no timer per entry: a periodic
//! sweep in process context pops what expired from each shard's wheel.
//!
//! Eviction (while defense is engaged and the table is full) takes the oldest half-open
//! TCP entry of the whole table in constant time: each shard queues its entries as they
//! become half-open (`logic::fifo`, a record of slot and sequence number, 8 bytes, and a
//! sequence number per slot, 4 bytes), and publishes when its oldest queued entry was
//! created in an atomic the evicting CPU compares across the shards without their locks.
//! A record whose entry left the half-open states, or whose slot holds another entry by
//! now, is stale: skipped when it comes to the front. A shard's queue holds as many
//! records as the shard has slots; when it is full the oldest record is forgotten (its
//! entry, if still half-open, then only expires).

use super::{config::DestCounters, tunables::TimeoutSet};
use crate::logic::{
    entry::{chain_hash, client_hash, Entry, EntryFlags, FlowKey, Place, Protocol, Target, NIL},
    fifo::Fifo,
    hash::SipKey,
    sizing::{self, Layout},
    synproxy,
    tcp_state::{Direction, Table as StateTable, TcpFlags, TcpState},
    timeouts::TimeoutRow,
    wheel::Wheel,
};
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use kernel::{jiffies, new_spinlock_bh, prelude::*, random, sync::Arc, sync::SpinLockBh};

/// What an entry points to besides its plain fields: its real server's counters (which
/// point to its service's). Kept beside the entry (not in it) because the logic's entry
/// is plain data.
pub(crate) type Refs = Arc<DestCounters>;

// The sizes `logic::sizing` counts the table's memory with are this table's.
const _: () = {
    use core::mem::size_of;
    let a = sizing::SLOT_ARRAYS;
    assert!(a[0] == size_of::<Entry>() && a[1] == size_of::<Option<Refs>>());
    assert!(a[2] == size_of::<HalfOpen>() && a[3] == size_of::<u32>());
    assert!(sizing::BUCKET_ARRAYS[0] == size_of::<u32>() && sizing::BUCKET_ARRAYS[1] == 4);
    assert!(size_of::<SpinLockBh<Shard>>() as u64 <= sizing::SHARD_STRUCT_MAX);
};

/// A queued half-open entry: its slot, and the sequence number it was queued with.
#[derive(Clone, Copy, Default)]
struct HalfOpen {
    slot: u32,
    seq: u32,
}

/// One shard: entries, chains, free list, wheel, and the half-open entries in order.
pub(crate) struct Shard {
    index: usize,
    entries: VVec<Entry>,
    refs: VVec<Option<Refs>>,
    in_heads: VVec<u32>,
    out_heads: VVec<u32>,
    buckets: u32,
    free: u32,
    wheel: Wheel,
    /// The records of `half_open_order`, and per slot the sequence number of its live
    /// record (0: none).
    half_open: VVec<HalfOpen>,
    half_open_order: Fifo,
    queued_seq: VVec<u32>,
    next_seq: u32,
}

/// Outcome of [`Shard::insert`].
pub(crate) enum Insert {
    Done(u32),
    Full,
}

impl Shard {
    fn new(index: usize, l: Layout, now: u64) -> Result<Self> {
        let (capacity, buckets) = (l.slots as usize, l.buckets as usize);
        let mut entries = VVec::with_capacity(capacity, GFP_KERNEL)?;
        let mut refs = VVec::with_capacity(capacity, GFP_KERNEL)?;
        for i in 0..capacity {
            // The free list is linked through `next_in`.
            let next_in = if i + 1 < capacity {
                (i + 1) as u32
            } else {
                NIL
            };
            entries.push(
                Entry {
                    next_in,
                    ..Entry::default()
                },
                GFP_KERNEL,
            )?;
            refs.push(None, GFP_KERNEL)?;
        }
        Ok(Self {
            index,
            entries,
            refs,
            in_heads: VVec::from_elem(NIL, buckets, GFP_KERNEL)?,
            out_heads: VVec::from_elem(NIL, buckets, GFP_KERNEL)?,
            buckets: l.buckets,
            free: if capacity > 0 { 0 } else { NIL },
            wheel: Wheel::new(now),
            half_open: VVec::from_elem(HalfOpen::default(), capacity, GFP_KERNEL)?,
            half_open_order: Fifo::new(),
            queued_seq: VVec::from_elem(0, capacity, GFP_KERNEL)?,
            next_seq: 0,
        })
    }

    /// Removes the record at the front of the half-open queue and returns its slot: the
    /// oldest half-open entry once [`Shard::drop_stale_front`] found nothing to drop.
    fn pop_front(&mut self) -> Option<u32> {
        self.half_open_order.pop(&self.half_open).map(|r| r.slot)
    }

    /// Whether record `r` still stands for a half-open TCP entry in the table (its entry
    /// was not removed, reused or moved past the half-open states since it was queued).
    fn is_live(&self, r: HalfOpen) -> bool {
        self.queued_seq.get(r.slot as usize) == Some(&r.seq)
            && self.entries.get(r.slot as usize).is_some_and(|e| {
                e.protocol == Protocol::Tcp
                    && e.state.is_half_open()
                    && e.flags.has(EntryFlags::HASHED)
            })
    }

    /// Drops the records at the front of the half-open queue that are no longer live;
    /// returns whether it dropped any.
    fn drop_stale_front(&mut self) -> bool {
        let mut dropped = false;
        while let Some(r) = self.half_open_order.front(&self.half_open) {
            if self.is_live(r) {
                break;
            }
            self.half_open_order.pop(&self.half_open);
            dropped = true;
        }
        dropped
    }

    /// When the entry at the front of the half-open queue was created (`u64::MAX` for an
    /// empty queue). A stale front gives another entry's time, or 0: the shard looks older
    /// than it is until an eviction looks there and drops the stale records.
    fn oldest_half_open(&self) -> u64 {
        self.half_open_order
            .front(&self.half_open)
            .and_then(|r| self.entries.get(r.slot as usize))
            .map_or(u64::MAX, |e| e.created)
    }

    /// The bucket of chain hash `h`: its low half scaled to the number of buckets (any
    /// number, not only a power of two, at the cost of one multiply).
    fn bucket(&self, h: u64) -> usize {
        ((h as u32 as u64 * self.buckets as u64) >> 32) as usize
    }

    /// The entry with inbound key `key` (client → VIP).
    pub(crate) fn lookup_in(&self, key: &FlowKey, h: u64) -> Option<u32> {
        self.lookup(&self.in_heads, h, |e| e.in_key() == *key, |e| e.next_in)
    }

    /// The entry with outbound key `key` (real server → client).
    pub(crate) fn lookup_out(&self, key: &FlowKey, h: u64) -> Option<u32> {
        self.lookup(&self.out_heads, h, |e| e.out_key() == *key, |e| e.next_out)
    }

    /// The first entry of bucket `h`'s chain in `heads`, followed by `next`, that `is_it`.
    fn lookup(
        &self,
        heads: &[u32],
        h: u64,
        is_it: impl Fn(&Entry) -> bool,
        next: impl Fn(&Entry) -> u32,
    ) -> Option<u32> {
        let mut i = *heads.get(self.bucket(h))?;
        while i != NIL {
            let e = self.entries.get(i as usize)?;
            if is_it(e) {
                return Some(i);
            }
            i = next(e);
        }
        None
    }

    pub(crate) fn entry(&self, i: u32) -> Option<&Entry> {
        self.entries.get(i as usize)
    }

    pub(crate) fn entry_mut(&mut self, i: u32) -> Option<&mut Entry> {
        self.entries.get_mut(i as usize)
    }

    pub(crate) fn refs(&self, i: u32) -> Option<&Refs> {
        self.refs.get(i as usize).and_then(|r| r.as_ref())
    }

    /// Adds an entry, hashed by both keys (hashes `hash_in`, `hash_out`), expiring at `expires`.
    pub(crate) fn insert(
        &mut self,
        e: Entry,
        refs: Refs,
        hash_in: u64,
        hash_out: u64,
        expires: u64,
    ) -> Insert {
        let i = self.free;
        let (bin, bout) = (self.bucket(hash_in), self.bucket(hash_out));
        let (Some(slot), Some(r)) = (
            self.entries.get_mut(i as usize),
            self.refs.get_mut(i as usize),
        ) else {
            return Insert::Full;
        };
        self.free = slot.next_in;
        *slot = e;
        slot.next_in = self.in_heads.get(bin).copied().unwrap_or(NIL);
        slot.next_out = self.out_heads.get(bout).copied().unwrap_or(NIL);
        slot.flags.set(EntryFlags::HASHED);
        *r = Some(refs);
        if let Some(h) = self.in_heads.get_mut(bin) {
            *h = i;
        }
        if let Some(h) = self.out_heads.get_mut(bout) {
            *h = i;
        }
        let _ = self.wheel.arm(&mut self.entries, i, expires);
        Insert::Done(i)
    }

    /// Sets when entry `i` expires.
    pub(crate) fn rearm(&mut self, i: u32, expires: u64) {
        let _ = self.wheel.arm(&mut self.entries, i, expires);
    }

    /// Removes entry `i` (hashes `hash_in`, `hash_out` of its keys) and returns its references.
    fn remove(&mut self, i: u32, hash_in: u64, hash_out: u64) -> Option<Refs> {
        let (bin, bout) = (self.bucket(hash_in), self.bucket(hash_out));
        let (next_in, next_out) = {
            let e = self.entries.get(i as usize)?;
            (e.next_in, e.next_out)
        };
        unlink(
            &mut self.in_heads,
            &mut self.entries,
            bin,
            i,
            next_in,
            |e| &mut e.next_in,
        )?;
        unlink(
            &mut self.out_heads,
            &mut self.entries,
            bout,
            i,
            next_out,
            |e| &mut e.next_out,
        )?;
        let _ = self.wheel.disarm(&mut self.entries, i);
        if let Some(q) = self.queued_seq.get_mut(i as usize) {
            *q = 0;
        }
        let e = self.entries.get_mut(i as usize)?;
        *e = Entry::default();
        e.next_in = self.free;
        self.free = i;
        self.refs.get_mut(i as usize)?.take()
    }
}

/// Unlinks entry `i` (whose successor is `next`) from the chain of bucket `b` in `heads`,
/// the chain being linked through the field `link` returns.
fn unlink(
    heads: &mut VVec<u32>,
    entries: &mut VVec<Entry>,
    b: usize,
    i: u32,
    next: u32,
    link: impl Fn(&mut Entry) -> &mut u32,
) -> Option<()> {
    let head = heads.get_mut(b)?;
    if *head == i {
        *head = next;
        return Some(());
    }
    let mut p = *head;
    while p != NIL {
        let l = link(entries.get_mut(p as usize)?);
        if *l == i {
            *l = next;
            break;
        }
        p = *l;
    }
    Some(())
}

/// What the sweep does with an entry that expired.
pub(crate) enum Expired {
    /// Remove it.
    Remove,
    /// Keep it, to expire again at this tick.
    Keep(u64),
}

/// What the data path needs of a TCP header.
#[derive(Clone, Copy)]
pub(crate) struct TcpInfo {
    pub(crate) flags: TcpFlags,
    pub(crate) seq: u32,
    pub(crate) ack_seq: u32,
    pub(crate) payload: u32,
}

/// A packet as its entry sees it: direction, TCP fields, length and arrival time.
#[derive(Clone, Copy)]
pub(crate) struct Segment {
    pub(crate) dir: Direction,
    pub(crate) tcp: Option<TcpInfo>,
    pub(crate) len: u32,
    pub(crate) now: u64,
}

/// The table: the shards, the hash key, the bound.
pub(crate) struct Table {
    shards: KVec<Pin<KBox<SpinLockBh<Shard>>>>,
    /// `shards.len() - 1` (a power of two minus one).
    shard_mask: u64,
    /// Per shard, when its oldest queued half-open entry was created
    /// (`Shard::oldest_half_open`), readable without its lock.
    oldest: KVec<AtomicU64>,
    key: SipKey,
    /// Entries in use, over all shards.
    count: AtomicU32,
}

impl Table {
    /// Allocates a table of `capacity` entries, laid out by `logic::sizing::layout`.
    pub(crate) fn new(capacity: u32) -> Result<Arc<Self>> {
        let l = sizing::layout(capacity);
        let n = l.shards as usize;
        let now = jiffies::now();
        let mut shards = KVec::with_capacity(n, GFP_KERNEL)?;
        let mut oldest = KVec::with_capacity(n, GFP_KERNEL)?;
        for index in 0..n {
            let shard = Shard::new(index, l, now)?;
            oldest.push(AtomicU64::new(u64::MAX), GFP_KERNEL)?;
            shards.push(
                KBox::pin_init(new_spinlock_bh!(shard, "ipvs_defense_shard"), GFP_KERNEL)?,
                GFP_KERNEL,
            )?;
        }
        Ok(Arc::new(
            Self {
                shards,
                shard_mask: u64::from(l.shards - 1),
                oldest,
                key: SipKey::new(random::u64(), random::u64()),
                count: AtomicU32::new(0),
            },
            GFP_KERNEL,
        )?)
    }

    /// Where the flow of key `k` lives; `dir` says which end is the client
    /// ([`FlowKey::place`]).
    pub(crate) fn place(&self, k: &FlowKey, dir: Direction) -> Place {
        k.place(dir, self.key)
    }

    /// The shard of a flow placed at `p`.
    pub(crate) fn shard(&self, p: Place) -> &SpinLockBh<Shard> {
        // `p.client & shard_mask < shards.len()`, a power of two.
        &self.shards[(p.client & self.shard_mask) as usize]
    }

    /// Number of shards.
    pub(crate) fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// Entries in use.
    pub(crate) fn len(&self) -> u32 {
        self.count.load(Ordering::Relaxed)
    }

    /// Reserves room for one entry if fewer than `limit` are in use.
    pub(crate) fn reserve(&self, limit: u32) -> bool {
        self.count
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < limit).then_some(n + 1)
            })
            .is_ok()
    }

    /// Gives back a reservation that was not used.
    pub(crate) fn unreserve(&self) {
        self.count.fetch_sub(1, Ordering::Relaxed);
    }

    /// Removes entry `i` from `shard` and updates its real server's counters.
    pub(crate) fn remove(&self, shard: &mut Shard, i: u32) {
        let Some(e) = shard.entry(i) else {
            return;
        };
        let client = client_hash((e.client_addr, e.client_port), self.key);
        let hash_in = chain_hash(client, (e.vaddr, e.vport), e.protocol);
        let hash_out = chain_hash(client, (e.rs_addr, e.rs_port), e.protocol);
        let active = e.flags.has(EntryFlags::ACTIVE);
        if let Some(refs) = shard.remove(i, hash_in, hash_out) {
            let c = if active { &refs.active } else { &refs.inactive };
            c.fetch_sub(1, Ordering::Relaxed);
            self.count.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Queues entry `i` of `shard`, which just became a half-open TCP entry, for eviction.
    pub(crate) fn queue_half_open(&self, shard: &mut Shard, i: u32) {
        shard.next_seq = shard.next_seq.wrapping_add(1).max(1);
        let seq = shard.next_seq;
        if let Some(q) = shard.queued_seq.get_mut(i as usize) {
            *q = seq;
        }
        let was_empty = shard.half_open_order.is_empty();
        let dropped = shard
            .half_open_order
            .push(&mut shard.half_open, HalfOpen { slot: i, seq });
        if was_empty || dropped.is_some() {
            self.publish_oldest(shard);
        }
    }

    fn publish_oldest(&self, shard: &Shard) {
        if let Some(a) = self.oldest.get(shard.index) {
            a.store(shard.oldest_half_open(), Ordering::Relaxed);
        }
    }

    /// Makes room while defense is engaged: removes the oldest half-open (SR or SA) TCP
    /// entry of the whole table, and returns a copy of it to reset the real server's side.
    /// Constant time: one look at each shard's published oldest, then that shard's queue.
    /// A shard whose front was stale drops those records and publishes its true oldest,
    /// and the choice is made again (at most once per shard). `None` when no half-open
    /// entry is queued anywhere.
    pub(crate) fn evict_half_open(&self) -> Option<Entry> {
        for _ in 0..=self.shards.len() {
            let (s, when) = self
                .oldest
                .iter()
                .map(|a| a.load(Ordering::Relaxed))
                .enumerate()
                .min_by_key(|&(_, when)| when)?;
            if when == u64::MAX {
                return None;
            }
            let mut shard = self.shards.get(s)?.lock();
            if shard.drop_stale_front() {
                self.publish_oldest(&shard);
                continue;
            }
            // The front is live, or the queue empty.
            let victim = shard.pop_front().and_then(|i| {
                let e = *shard.entry(i)?;
                self.remove(&mut shard, i);
                Some(e)
            });
            self.publish_oldest(&shard);
            if victim.is_some() {
                return victim;
            }
        }
        None
    }

    /// Removes the entries of shard `s` that expired by `now`, except those `decide` keeps
    /// (to expire again later, after `now`). Process context.
    pub(crate) fn expire_shard(
        &self,
        s: usize,
        now: u64,
        mut decide: impl FnMut(&mut Entry) -> Expired,
    ) {
        let Some(s) = self.shards.get(s) else {
            return;
        };
        let mut guard = s.lock();
        let shard = &mut *guard;
        while let Some(i) = shard.wheel.pop_expired(&mut shard.entries, now) {
            // `pop_expired` disarmed it already; `remove` unhashes and frees it.
            match shard.entries.get_mut(i as usize).map(&mut decide) {
                Some(Expired::Keep(at)) => shard.rearm(i, at.max(now + 1)),
                _ => self.remove(shard, i),
            }
        }
    }

    /// Removes every entry. Process context.
    pub(crate) fn flush(&self) {
        for s in self.shards.iter() {
            let mut shard = s.lock();
            for i in 0..shard.entries.len() as u32 {
                if shard.refs(i).is_some() {
                    self.remove(&mut shard, i);
                }
            }
        }
    }

    /// Calls `f` on the entries of shard `s` starting at slot `from`, each with the tick it
    /// expires at, until it returns `false`; returns the slot to resume from (`None` when
    /// the shard is done).
    pub(crate) fn walk(
        &self,
        s: usize,
        from: u32,
        mut f: impl FnMut(&Entry, Option<u64>) -> bool,
    ) -> Option<u32> {
        let shard = self.shards.get(s)?.lock();
        let mut i = from;
        while (i as usize) < shard.entries.len() {
            if shard.refs(i).is_some() {
                if let Some(e) = shard.entry(i) {
                    if !f(e, shard.wheel.expires(&e.timer)) {
                        return Some(i);
                    }
                }
            }
            i += 1;
        }
        None
    }

    /// Applies a packet to an entry's state and timer; keeps the real server's active/inactive
    /// counts right, and queues an entry that becomes half-open for eviction.
    pub(crate) fn track(
        &self,
        shard: &mut Shard,
        i: u32,
        seg: Segment,
        timeouts: TimeoutSet<'_>,
    ) -> Option<u32> {
        let Segment { dir, tcp, now, .. } = seg;
        let e = shard.entry_mut(i)?;
        let before = e.state;
        if let Some(t) = tcp {
            let table = if timeouts.engaged {
                StateTable::Secure
            } else {
                StateTable::Normal
            };
            e.tcp_segment(table, dir, t.flags, t.seq);
        }
        let was = e.flags.has(EntryFlags::ACTIVE);
        let is = is_active(e.state, e.protocol);
        if was != is {
            if is {
                e.flags.set(EntryFlags::ACTIVE);
            } else {
                e.flags.clear(EntryFlags::ACTIVE);
            }
        }
        let expires = if e.flags.has(EntryFlags::PROXIED) && e.state == TcpState::SynRecv {
            // A proxied entry in set-up: the sweep sends the SYN again if the real server
            // stays silent this long.
            now.saturating_add(synproxy::setup_wait_secs(0).saturating_mul(jiffies::HZ))
        } else {
            expiry(e.timeout_row(), now, timeouts)
        };
        // A segment from the real server that is neither a SYN nor a RST, after its SYN+ACK
        // (the entry was past SR): the server accepted the client's handshake, so the client is
        // real and becomes known (once per connection).
        let proven = dir == Direction::Output
            && !matches!(
                before,
                TcpState::None | TcpState::SynRecv | TcpState::SynSent
            )
            && !e.flags.has(EntryFlags::CLIENT_KNOWN)
            && tcp.is_some_and(|t| !t.flags.has(TcpFlags::SYN) && !t.flags.has(TcpFlags::RST));
        if proven {
            e.flags.set(EntryFlags::CLIENT_KNOWN);
        }
        let client = e.client_addr;
        let became_half_open =
            e.protocol == Protocol::Tcp && !before.is_half_open() && e.state.is_half_open();
        if was != is {
            if let Some(r) = shard.refs(i) {
                let (from, to) = if is {
                    (&r.inactive, &r.active)
                } else {
                    (&r.active, &r.inactive)
                };
                from.fetch_sub(1, Ordering::Relaxed);
                to.fetch_add(1, Ordering::Relaxed);
            }
        }
        shard.rearm(i, expires);
        if became_half_open {
            self.queue_half_open(shard, i);
        }
        proven.then_some(client)
    }

    /// Moves entry `i` of `shard`, a connection the SYN proxy set up, to ESTABLISHED once
    /// its real server answered: as [`Table::track`] would for the segment that did it,
    /// with the client known (its cookie proved it). Returns the client's address.
    pub(crate) fn establish(
        &self,
        shard: &mut Shard,
        i: u32,
        now: u64,
        timeouts: TimeoutSet<'_>,
    ) -> Option<u32> {
        let e = shard.entry_mut(i)?;
        e.state = TcpState::Established;
        e.flags.set(EntryFlags::CLIENT_KNOWN);
        let was_active = e.flags.has(EntryFlags::ACTIVE);
        e.flags.set(EntryFlags::ACTIVE);
        let client = e.client_addr;
        let expires = expiry(e.timeout_row(), now, timeouts);
        if !was_active {
            if let Some(r) = shard.refs(i) {
                r.inactive.fetch_sub(1, Ordering::Relaxed);
                r.active.fetch_add(1, Ordering::Relaxed);
            }
        }
        shard.rearm(i, expires);
        Some(client)
    }
}

/// Whether a TCP state counts as an active connection (as ipvsadm shows them).
pub(crate) fn is_active(state: TcpState, proto: Protocol) -> bool {
    proto == Protocol::Tcp && state == TcpState::Established
}

/// Builds a new entry for a flow.
pub(crate) fn new_entry(key: &FlowKey, target: &Target, now: u64) -> Entry {
    Entry::new(key, target, now)
}

/// The timeout, in ticks from now, for an entry in the state of `row`.
fn expiry(row: TimeoutRow, now: u64, timeouts: TimeoutSet<'_>) -> u64 {
    now.saturating_add(timeouts.secs(row).saturating_mul(jiffies::HZ))
}
