// SPDX-License-Identifier: GPL-2.0
//! Expiry without a timer per entry: a hierarchical timer wheel over entry indices.
//!
//! The connection table can hold millions of entries; a kernel timer each would be a timer
//! storm. Instead every entry embeds a [`WheelLink`] (two `u32` neighbour indices, the low
//! 32 bits of its expiry tick and its bucket: 16 bytes) and one [`Wheel`] keeps the bucket
//! heads and the clock, which gives an armed entry's full expiry tick back
//! ([`Wheel::expires`]): it is never behind the clock nor 2^32 ticks ahead of it. The caller owns the
//! entries (any slice of a type implementing [`Linked`]) and passes them to every call; the
//! wheel allocates nothing.
//!
//! Layout, as the classic Linux timer wheel (before 4.8): level 0 has 256 buckets one tick
//! wide; levels 1 to 4 have 64 buckets each, 2^8, 2^14, 2^20 and 2^26 ticks wide, so the
//! wheel spans 2^32 ticks (49 days at HZ = 1000, more than the longest timeout of 2147483 s).
//! An expiry further away is brought in to the span's last tick. When the clock reaches a
//! multiple of 256 ticks, the next level-1 bucket is
//! *cascaded*: its entries are placed again, now in level 0 (and so on up the levels).
//!
//! Costs:
//! - [`Wheel::arm`] (insert or re-arm) and [`Wheel::disarm`] are O(1): a doubly linked list
//!   insertion or removal.
//! - [`Wheel::pop_expired`] returns one expired entry per call. Its cost is O(1) per entry
//!   returned, plus the cascades, plus a look at the bucket heads the clock passes: the
//!   clock jumps straight to the next non-empty bucket, looking at each level's heads at
//!   most once per jump (at most 512). Each entry is cascaded at most once per level it
//!   started above (four times at most), so cascading adds a constant per expiring entry.
//!
//! Precision: an entry is returned at the exact tick it was armed for (one tick = one
//! level-0 bucket), or at the current tick if that is already past.
//!
//! The wheel is not thread-safe by itself: the caller serialises calls (one lock around the
//! wheel and the links it touches).

/// The "no entry" index in a link.
pub const NIL: u32 = u32::MAX;

/// Bucket number of an entry not in the wheel.
const UNARMED: u16 = u16::MAX;
/// Number of levels.
const LEVELS: usize = 5;
/// log2 of the number of level-0 buckets.
const L0_BITS: u32 = 8;
/// log2 of the number of buckets in each higher level.
const LN_BITS: u32 = 6;
const L0_SIZE: usize = 1 << L0_BITS;
const LN_SIZE: usize = 1 << LN_BITS;
const BUCKETS: usize = L0_SIZE + (LEVELS - 1) * LN_SIZE;
/// The furthest an entry can be placed ahead of the clock: the wheel's span minus one.
pub const MAX_DELTA: u64 = (1 << (L0_BITS + (LEVELS as u32 - 1) * LN_BITS)) - 1;

/// log2 of the bucket width of `level` (0 for level 0).
const fn width_bits(level: usize) -> u32 {
    if level == 0 {
        0
    } else {
        L0_BITS + (level as u32 - 1) * LN_BITS
    }
}

/// log2 of the span of `level` (width × number of buckets).
const fn span_bits(level: usize) -> u32 {
    L0_BITS + level as u32 * LN_BITS
}

/// Index of the first bucket of `level` in the flat bucket array.
const fn first_bucket(level: usize) -> usize {
    if level == 0 {
        0
    } else {
        L0_SIZE + (level - 1) * LN_SIZE
    }
}

/// The level a bucket number belongs to.
const fn level_of(bucket: usize) -> usize {
    if bucket < L0_SIZE {
        0
    } else {
        1 + (bucket - L0_SIZE) / LN_SIZE
    }
}

/// The bucket of `level` that holds tick `t`.
const fn bucket_of(level: usize, t: u64) -> usize {
    let mask = if level == 0 { L0_SIZE - 1 } else { LN_SIZE - 1 };
    first_bucket(level) + ((t >> width_bits(level)) as usize & mask)
}

/// An entry's membership in the wheel: embed one in each entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WheelLink {
    next: u32,
    prev: u32,
    /// The expiry tick's low 32 bits (see [`Wheel::expires`]).
    expires: u32,
    bucket: u16,
}

const _: () = assert!(core::mem::size_of::<WheelLink>() == 16);

impl WheelLink {
    /// A link that is in no wheel.
    pub const UNARMED: WheelLink = WheelLink {
        next: NIL,
        prev: NIL,
        expires: 0,
        bucket: UNARMED,
    };

    /// Whether the entry is waiting in a wheel.
    pub const fn is_armed(&self) -> bool {
        self.bucket != UNARMED
    }
}

impl Default for WheelLink {
    fn default() -> Self {
        Self::UNARMED
    }
}

/// A type that embeds a [`WheelLink`]: the elements of the slice the wheel works on.
pub trait Linked {
    /// The embedded link.
    fn wheel_link(&self) -> &WheelLink;
    /// The embedded link, mutably.
    fn wheel_link_mut(&mut self) -> &mut WheelLink;
}

impl Linked for WheelLink {
    fn wheel_link(&self) -> &WheelLink {
        self
    }
    fn wheel_link_mut(&mut self) -> &mut WheelLink {
        self
    }
}

/// An index that is not in the slice passed with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadIndex;

/// The wheel: bucket heads, clock and counts (about 2 KiB). See the module documentation.
#[derive(Clone, Debug)]
pub struct Wheel {
    heads: [u32; BUCKETS],
    /// Count of entries per level, to skip empty levels.
    level_len: [u32; LEVELS],
    /// The tick being processed: every bucket before it is empty, and the cascades due at
    /// this tick are done.
    clk: u64,
}

impl Wheel {
    /// An empty wheel whose clock starts at `now`.
    pub const fn new(now: u64) -> Self {
        Self {
            heads: [NIL; BUCKETS],
            level_len: [0; LEVELS],
            clk: now,
        }
    }

    /// The wheel's clock: the tick up to which expired entries have been looked for.
    pub const fn clock(&self) -> u64 {
        self.clk
    }

    /// The tick the entry of `link` expires at, if armed in this wheel.
    pub const fn expires(&self, link: &WheelLink) -> Option<u64> {
        if link.is_armed() {
            Some(self.full_tick(link.expires))
        } else {
            None
        }
    }

    /// The tick whose low 32 bits are `low`, from the clock to 2^32 - 1 ticks after it.
    const fn full_tick(&self, low: u32) -> u64 {
        self.clk
            .saturating_add(low.wrapping_sub(self.clk as u32) as u64)
    }

    /// Number of armed entries.
    pub fn len(&self) -> usize {
        self.level_len.iter().map(|&n| n as usize).sum()
    }

    /// Whether no entry is armed.
    pub fn is_empty(&self) -> bool {
        self.level_len.iter().all(|&n| n == 0)
    }

    /// Arms entry `idx` to expire at tick `expires`, first removing it from the wheel if it
    /// was armed (a re-arm). A tick already past expires at the next [`Wheel::pop_expired`];
    /// one beyond the wheel's span ([`MAX_DELTA`] after the clock) expires at its end. O(1).
    pub fn arm<T: Linked>(
        &mut self,
        slots: &mut [T],
        idx: u32,
        expires: u64,
    ) -> Result<(), BadIndex> {
        self.disarm(slots, idx)?;
        let expires = expires.clamp(self.clk, self.clk.saturating_add(MAX_DELTA));
        self.place(slots, idx, expires)
    }

    /// Removes entry `idx` from the wheel; returns whether it was armed. O(1).
    pub fn disarm<T: Linked>(&mut self, slots: &mut [T], idx: u32) -> Result<bool, BadIndex> {
        let link = *get(slots, idx)?.wheel_link();
        if !link.is_armed() {
            return Ok(false);
        }
        let bucket = usize::from(link.bucket);
        if link.prev == NIL {
            if let Some(head) = self.heads.get_mut(bucket) {
                *head = link.next;
            }
        } else if let Ok(prev) = get_mut(slots, link.prev) {
            prev.wheel_link_mut().next = link.next;
        }
        if let Ok(next) = get_mut(slots, link.next) {
            next.wheel_link_mut().prev = link.prev;
        }
        if let Some(n) = self.level_len.get_mut(level_of(bucket)) {
            *n = n.saturating_sub(1);
        }
        *get_mut(slots, idx)?.wheel_link_mut() = WheelLink::UNARMED;
        Ok(true)
    }

    /// Removes and returns one entry whose expiry tick is at or before `now`, advancing the
    /// wheel's clock towards `now` as needed; `None` once there is none. Call it in a loop:
    /// between calls the caller may free, re-arm or inspect entries. Stopping early is fine:
    /// the rest are returned by later calls.
    pub fn pop_expired<T: Linked>(&mut self, slots: &mut [T], now: u64) -> Option<u32> {
        if self.clk > now {
            return None;
        }
        loop {
            let bucket = bucket_of(0, self.clk);
            let head = self.heads.get(bucket).copied().unwrap_or(NIL);
            if head != NIL {
                let in_bucket = slots
                    .get(head as usize)
                    .is_some_and(|s| usize::from(s.wheel_link().bucket) == bucket);
                if in_bucket && self.disarm(slots, head).is_ok() {
                    return Some(head);
                }
                // A link the caller broke (freed without disarming): drop the list rather
                // than follow it.
                self.drop_list(bucket);
                continue;
            }
            if self.clk >= now {
                return None;
            }
            self.advance(slots, now);
        }
    }

    /// Moves the clock to the next tick where something happens (a non-empty level-0
    /// bucket, or the cascade of a non-empty bucket), or to `now` if that comes first, and
    /// does the cascades due there. Looks at no more than every bucket head once.
    fn advance<T: Linked>(&mut self, slots: &mut [T], now: u64) {
        let mut next = now;
        for level in 0..LEVELS {
            if self.level_len.get(level).copied().unwrap_or(0) == 0 {
                continue;
            }
            // The ticks at which this level's next buckets come due: within one turn of
            // the wheel (the current bucket, already done, comes round last).
            let w = width_bits(level);
            let turn = if level == 0 { L0_SIZE } else { LN_SIZE };
            for k in 1..=turn as u64 {
                let Some(t) = (self.clk >> w)
                    .checked_add(k)
                    .and_then(|t| t.checked_mul(1 << w))
                else {
                    break;
                };
                if t >= next {
                    break;
                }
                if self
                    .heads
                    .get(bucket_of(level, t))
                    .is_some_and(|&h| h != NIL)
                {
                    next = t;
                    break;
                }
            }
        }
        self.clk = next;
        // Cascade level 1 at every multiple of 256 ticks, level 2 when level 1's index wraps
        // to 0, and so on.
        for level in 1..LEVELS {
            if self.clk & ((1 << width_bits(level)) - 1) != 0 {
                break;
            }
            self.cascade(slots, bucket_of(level, self.clk));
        }
    }

    /// Places every entry of `bucket` again, relative to the current clock.
    fn cascade<T: Linked>(&mut self, slots: &mut [T], bucket: usize) {
        let Some(head) = self.heads.get_mut(bucket) else {
            return;
        };
        let mut idx = core::mem::replace(head, NIL);
        let level = level_of(bucket);
        let mut left = self.level_len.get(level).copied().unwrap_or(0);
        while idx != NIL && left > 0 {
            let Ok(slot) = get_mut(slots, idx) else {
                break;
            };
            let link = *slot.wheel_link();
            if usize::from(link.bucket) != bucket {
                break;
            }
            *slot.wheel_link_mut() = WheelLink::UNARMED;
            if let Some(n) = self.level_len.get_mut(level) {
                *n = n.saturating_sub(1);
            }
            left -= 1;
            // Cannot fail: idx was just read from the slice.
            let _ = self.place(slots, idx, self.full_tick(link.expires));
            idx = link.next;
        }
    }

    /// Links the unarmed entry `idx` into the bucket for `expires`, which is neither before
    /// the clock nor more than [`MAX_DELTA`] after it.
    fn place<T: Linked>(
        &mut self,
        slots: &mut [T],
        idx: u32,
        expires: u64,
    ) -> Result<(), BadIndex> {
        get(slots, idx)?;
        let delta = expires.saturating_sub(self.clk);
        let level = (0..LEVELS)
            .find(|&l| delta < (1 << span_bits(l)))
            .unwrap_or(LEVELS - 1);
        let bucket = bucket_of(level, expires);
        let head = self.heads.get(bucket).copied().unwrap_or(NIL);
        if let Ok(old) = get_mut(slots, head) {
            old.wheel_link_mut().prev = idx;
        }
        *get_mut(slots, idx)?.wheel_link_mut() = WheelLink {
            next: head,
            prev: NIL,
            // The low bits: `full_tick` gives the rest back while it is armed.
            expires: expires as u32,
            // BUCKETS is 512: fits u16.
            bucket: bucket as u16,
        };
        if let Some(h) = self.heads.get_mut(bucket) {
            *h = idx;
        }
        if let Some(n) = self.level_len.get_mut(level) {
            *n = n.saturating_add(1);
        }
        Ok(())
    }

    /// Forgets a list whose links are broken.
    fn drop_list(&mut self, bucket: usize) {
        if let Some(h) = self.heads.get_mut(bucket) {
            *h = NIL;
        }
    }
}

fn get<T>(slots: &[T], idx: u32) -> Result<&T, BadIndex> {
    slots.get(idx as usize).ok_or(BadIndex)
}

fn get_mut<T>(slots: &mut [T], idx: u32) -> Result<&mut T, BadIndex> {
    slots.get_mut(idx as usize).ok_or(BadIndex)
}
