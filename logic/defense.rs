// SPDX-License-Identifier: GPL-2.0
//! The defense controller: the effective defense level, the SYN drop rate, the even
//! spreading of drops, and the validation of clients' ACKs (Documentation/ipvs-defense.rst,
//! "Defense").
//!
//! **Level.** [`Defense`] holds the level the `defense_level` sysctl shows:
//! - [`Level::Calm`] (0): nothing is dropped. [`Defense::check`], called once a second with
//!   the [`Pressure`] on the director, engages by itself (level 1) when available memory is
//!   below `amemthresh` or the table's fill reaches its high watermark (a preallocated
//!   table never lowers free memory: the fill is what a flood shows);
//! - [`Level::Engaged`] (1): the secure table and defense timeouts apply and new SYNs are
//!   dropped at a rate. `check` returns to 0 by itself once memory is back at or above
//!   `amemthresh` and the fill is below the low watermark;
//! - [`Level::Forced`] (2): as 1, set by the operator, never left on its own.
//!
//! `amemthresh = 0` disables automatic switching in both directions (the level stays what
//! the operator wrote); a high watermark of 0 disables the fill trigger alone. Every change of level, automatic
//! or written, is a [`Switch`] for the caller to log once, and is counted.
//!
//! **Rate.** [`syn_drop_rate`] gives "drop one SYN in N": the fixed `syn_drop_rate` when
//! N > 0, or automatically `amemthresh / (amemthresh - available)` (integer division; 1
//! means every SYN). The automatic rate drops nothing while memory is at or above the
//! threshold, so forcing level 2 with an automatic rate only switches tables and timeouts
//! until memory runs short.
//!
//! **Spreading.** [`DropCounter`] turns a rate into decisions: exactly one drop every `rate`
//! SYNs, so over `n` SYNs at a fixed rate it drops `floor(n / rate)` or one more. Give each
//! CPU its own counter (or update a shared one with [`DropCounter::step`] in a
//! compare-and-swap loop): over all CPUs the total is then within one drop per CPU.
//!
//! **ACK validation.** [`client_ack_allowed`] rejects blind ACKs while engaged: a client ACK
//! for an entry in SR (the real server has not answered), or in SA not acknowledging the
//! real server's initial sequence number + 1.

use super::tcp_state::{Table, TcpFlags, TcpState};

/// The defense level.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Level {
    /// 0: automatic, calm.
    #[default]
    Calm = 0,
    /// 1: engaged (by memory pressure or the operator); returns to 0 on its own.
    Engaged = 1,
    /// 2: forced by the operator.
    Forced = 2,
}

impl Level {
    /// The level for a `defense_level` value, if in `0..=2`.
    pub const fn from_value(v: i64) -> Option<Self> {
        match v {
            0 => Some(Level::Calm),
            1 => Some(Level::Engaged),
            2 => Some(Level::Forced),
            _ => None,
        }
    }

    /// The `defense_level` value.
    pub const fn value(self) -> u8 {
        self as u8
    }

    /// Whether defense applies (level 1 or 2): secure table, defense timeouts, SYN drops.
    pub const fn engaged(self) -> bool {
        !matches!(self, Level::Calm)
    }

    /// The TCP transition table for this level.
    pub const fn table(self) -> Table {
        if self.engaged() {
            Table::Secure
        } else {
            Table::Normal
        }
    }
}

/// Why the level changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cause {
    /// Available memory fell below `amemthresh`.
    MemoryLow,
    /// The table's fill reached the high watermark.
    TableFull,
    /// Memory is back at or above `amemthresh` and the fill below the low watermark.
    Recovered,
    /// The operator wrote `defense_level`.
    Operator,
}

/// A change of level, to be logged once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Switch {
    /// The level before.
    pub from: Level,
    /// The level after.
    pub to: Level,
    /// What caused it.
    pub cause: Cause,
}

/// What [`Defense::check`] weighs once a second.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pressure {
    /// Available memory, in pages (free + buffer pages).
    pub available: u64,
    /// `amemthresh`, in pages; 0 turns automatic switching off.
    pub amemthresh: u64,
    /// Entries in the table.
    pub used: u64,
    /// The table's bound (`conn_max`).
    pub capacity: u64,
    /// The high watermark, percent of `capacity`; 0 turns the fill trigger off.
    pub fill_high: u64,
    /// The low watermark, percent of `capacity` (used as at most `fill_high - 1`).
    pub fill_low: u64,
}

/// The defense level and its switch counter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Defense {
    level: Level,
    switches: u64,
}

impl Defense {
    /// Calm, no switch counted.
    pub const fn new() -> Self {
        Self {
            level: Level::Calm,
            switches: 0,
        }
    }

    /// The current level.
    pub const fn level(&self) -> Level {
        self.level
    }

    /// Whether the secure table (and the defense timeouts) apply.
    pub const fn secure(&self) -> bool {
        self.level.engaged()
    }

    /// How many times the level has changed.
    pub const fn switches(&self) -> u64 {
        self.switches
    }

    /// The operator wrote `level` to `defense_level`. A switch when it differs.
    pub fn set_level(&mut self, level: Level) -> Option<Switch> {
        self.switch_to(level, Cause::Operator)
    }

    /// The once-a-second check on memory alone (no fill trigger): `available` and
    /// `amemthresh` in pages. See [`Defense::check`].
    pub fn tick(&mut self, available: u64, amemthresh: u64) -> Option<Switch> {
        self.check(&Pressure {
            available,
            amemthresh,
            ..Pressure::default()
        })
    }

    /// The once-a-second check. Engages from 0 when memory is below the threshold or the
    /// fill at or above the high watermark; returns from 1 when neither holds and the fill
    /// is below the low watermark; never leaves 2; does nothing when `amemthresh` is 0.
    pub fn check(&mut self, p: &Pressure) -> Option<Switch> {
        if p.amemthresh == 0 {
            return None;
        }
        let fill_on = p.fill_high > 0 && p.capacity > 0;
        let mem_low = p.available < p.amemthresh;
        let fill = p.used.saturating_mul(100);
        let full = fill_on && fill >= p.fill_high.saturating_mul(p.capacity);
        // The low watermark is at most one below the high one, so that the level cannot
        // swing every second between two watermarks set the wrong way round.
        let low = p.fill_low.min(p.fill_high.saturating_sub(1));
        let drained = !fill_on || fill < low.saturating_mul(p.capacity);
        match self.level {
            Level::Calm if mem_low => self.switch_to(Level::Engaged, Cause::MemoryLow),
            Level::Calm if full => self.switch_to(Level::Engaged, Cause::TableFull),
            Level::Engaged if !mem_low && drained => self.switch_to(Level::Calm, Cause::Recovered),
            _ => None,
        }
    }

    /// "Drop one new SYN in N" now, or `None` for no drops: [`syn_drop_rate`] while
    /// engaged, `None` while calm.
    pub fn drop_rate(&self, available: u64, amemthresh: u64, fixed: u64) -> Option<u64> {
        if self.level.engaged() {
            syn_drop_rate(available, amemthresh, fixed)
        } else {
            None
        }
    }

    fn switch_to(&mut self, to: Level, cause: Cause) -> Option<Switch> {
        let from = self.level;
        if from == to {
            return None;
        }
        self.level = to;
        self.switches = self.switches.wrapping_add(1);
        Some(Switch { from, to, cause })
    }
}

/// The SYN drop rate while engaged: "drop one in N", or `None` for no drops.
///
/// `fixed > 0` is that N. `fixed = 0` is automatic: `amemthresh / (amemthresh - available)`
/// when `available < amemthresh` (always ≥ 1; 1 drops every SYN), `None` otherwise
/// (including `amemthresh = 0`).
pub const fn syn_drop_rate(available: u64, amemthresh: u64, fixed: u64) -> Option<u64> {
    if fixed > 0 {
        return Some(fixed);
    }
    if available >= amemthresh {
        return None;
    }
    // available < amemthresh: the divisor is at least 1 and at most amemthresh.
    Some(amemthresh / (amemthresh - available))
}

/// A drop spreader: counts new SYNs and says which to drop for a given rate. The caller
/// owns it (one per CPU, see the module documentation).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DropCounter {
    /// SYNs seen since the last drop.
    seen: u64,
}

impl DropCounter {
    /// A counter that has seen nothing.
    pub const fn new() -> Self {
        Self { seen: 0 }
    }

    /// Counts one new SYN; returns whether to drop it. `None` (no rate) never drops and
    /// leaves the counter alone.
    pub fn should_drop(&mut self, rate: Option<u64>) -> bool {
        let (next, drop) = self.step(rate);
        *self = next;
        drop
    }

    /// The pure form of [`DropCounter::should_drop`]: the counter after one more SYN, and
    /// whether to drop it. For a shared counter updated by compare-and-swap.
    pub const fn step(self, rate: Option<u64>) -> (Self, bool) {
        let Some(rate) = rate else {
            return (self, false);
        };
        let seen = self.seen.saturating_add(1);
        if seen >= rate {
            (Self { seen: 0 }, true)
        } else {
            (Self { seen }, false)
        }
    }

    /// The raw count, to keep the counter in an atomic.
    pub const fn to_bits(self) -> u64 {
        self.seen
    }

    /// A counter from [`DropCounter::to_bits`].
    pub const fn from_bits(seen: u64) -> Self {
        Self { seen }
    }
}

/// Whether a client segment for an entry in `state` may pass while defense is engaged.
///
/// On a half-open entry (SR, SA) the client may only resend its SYN (without FIN), reset,
/// or acknowledge what [`client_ack_allowed`] accepts; a segment without ACK (a blind FIN,
/// a bare segment) is refused, since it would move the entry out of the half-open states
/// (SR → TIME_WAIT), beyond the reach of eviction. Any segment passes in the other states.
/// The caller drops and counts (`blind_acks`) a segment this refuses.
pub const fn client_segment_allowed(
    state: TcpState,
    rs_isn: u32,
    flags: TcpFlags,
    ack_seq: u32,
) -> bool {
    if !state.is_half_open() || flags.has(TcpFlags::RST) {
        return true;
    }
    if flags.has(TcpFlags::ACK) {
        return flags.has(TcpFlags::SYN) || client_ack_allowed(state, rs_isn, ack_seq);
    }
    flags.has(TcpFlags::SYN) && !flags.has(TcpFlags::FIN)
}

/// Whether a segment may open a TCP entry: a SYN without ACK, RST or FIN.
pub const fn opens_connection(flags: TcpFlags) -> bool {
    flags.0 & (TcpFlags::SYN | TcpFlags::ACK | TcpFlags::RST | TcpFlags::FIN) == TcpFlags::SYN
}

/// Whether a client's ACK for an entry in `state` may pass while defense is engaged:
/// never in SR, in SA only when `ack_seq` acknowledges the real server's SYN
/// (`rs_isn + 1`, modulo 2^32), always in the other states. The caller drops and counts
/// (`blind_acks`) a segment this refuses; it applies to INPUT segments with ACK set.
pub const fn client_ack_allowed(state: TcpState, rs_isn: u32, ack_seq: u32) -> bool {
    match state {
        TcpState::SynRecv => false,
        TcpState::SynAck => ack_seq == rs_isn.wrapping_add(1),
        _ => true,
    }
}
