// SPDX-License-Identifier: GPL-2.0

//! `/proc/sys/net/ipvs_defense/`: the tunables and read-only counters.

use super::{
    defense::Controller,
    hooks::{HookStats, Which},
    stats::{Counter, DropReason, Stats, MALFORMED},
};
use crate::logic::{
    defense::Level,
    packet::ParseError,
    sysctl::{format_value, parse_write, IntRange},
    timeouts::{TimeoutRow, Timeouts, MAX_SECS, MIN_SECS, ROW_COUNT},
};
use core::sync::atomic::{AtomicI32, Ordering};
use kernel::{
    c_str,
    prelude::*,
    sync::Arc,
    sysctl::{Entry, Registration, Value},
};

/// An integer tunable with an inclusive range. A write outside the range, or of anything
/// but a decimal integer, fails with `EINVAL` and keeps the old value.
pub(crate) struct RangedInt {
    value: AtomicI32,
    min: AtomicI32,
    max: AtomicI32,
}

impl RangedInt {
    const fn new(default: i32, min: i32, max: i32) -> Self {
        Self {
            value: AtomicI32::new(default),
            min: AtomicI32::new(min),
            max: AtomicI32::new(max),
        }
    }

    /// Sets value and range at load, for tunables sized from the machine.
    fn reset(&self, value: i32, min: i32, max: i32) {
        self.min.store(min, Ordering::Relaxed);
        self.max.store(max, Ordering::Relaxed);
        self.value.store(value, Ordering::Relaxed);
    }

    fn range(&self) -> IntRange {
        IntRange::new(
            self.min.load(Ordering::Relaxed).into(),
            self.max.load(Ordering::Relaxed).into(),
        )
    }

    /// The current value.
    pub(crate) fn get(&self) -> i32 {
        self.value.load(Ordering::Relaxed)
    }

    /// Sets the value from inside the module (netlink); `EINVAL` outside the range.
    pub(crate) fn set(&self, v: i32) -> Result {
        if !self.range().contains(i64::from(v)) {
            return Err(EINVAL);
        }
        self.value.store(v, Ordering::Relaxed);
        Ok(())
    }
}

impl Value for RangedInt {
    fn show(&self, out: &mut [u8]) -> usize {
        format_value(i64::from(self.get()), out).unwrap_or(usize::MAX)
    }

    fn store(&self, input: &[u8]) -> Result {
        match parse_write(input, self.range()) {
            Ok(Some(v)) => {
                // In range, and every range fits an i32 (see `new`).
                self.value.store(v as i32, Ordering::Relaxed);
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(_) => Err(EINVAL),
        }
    }
}

/// `defense_level`: 0 automatic (calm), 1 engaged, 2 forced (DESIGN.md §5). Only the
/// controller sets it; the file writes through [`Controller::set_level`].
pub(crate) static DEFENSE_LEVEL: RangedInt = RangedInt::new(0, 0, 2);
/// `amemthresh`: pages of available memory below which level 0 engages (0 = never).
pub(crate) static AMEMTHRESH: RangedInt = RangedInt::new(2560, 0, i32::MAX);
/// `table_fill_high`: the table's fill, percent of `conn_max`, at which level 0 engages
/// (0 = never).
pub(crate) static TABLE_FILL_HIGH: RangedInt = RangedInt::new(90, 0, 100);
/// `table_fill_low`: the fill, percent of `conn_max`, below which level 1 may return to 0
/// (used as at most `table_fill_high - 1`).
pub(crate) static TABLE_FILL_LOW: RangedInt = RangedInt::new(70, 0, 100);
/// `syn_drop_rate`: 0 automatic, N drops one new-connection SYN in N while engaged.
pub(crate) static SYN_DROP_RATE: RangedInt = RangedInt::new(0, 0, i32::MAX);

/// `known_client_ttl`: seconds a client that completed a real handshake is remembered, so
/// that its SYNs skip the rate drop (0 disables).
pub(crate) static KNOWN_CLIENT_TTL: RangedInt = RangedInt::new(300, 0, MAX_SECS as i32);

/// `resurrect`: 1 re-creates the entry of a real server's packet that has none (a zombie)
/// when that server address:port belongs to exactly one service, instead of dropping it.
pub(crate) static RESURRECT: RangedInt = RangedInt::new(0, 0, 1);

/// `conn_max`: the connection table's bound. Its upper limit is the capacity allocated at
/// load (sized from RAM), set by [`size_conn_max`].
pub(crate) static CONN_MAX: RangedInt = RangedInt::new(1, 1, 1);

/// Bytes of memory each entry of the table takes: the entry (120), the counters it
/// updates (16), its half-open record and sequence number (12).
const BYTES_PER_ENTRY: u64 = 148;

/// The capacity the table is allocated with: about 1/256 of RAM, 4096 entries at least.
pub(crate) fn size_conn_max(total_pages: u64) -> u32 {
    let bytes = total_pages.saturating_mul(4096) / 256;
    let n = (bytes / BYTES_PER_ENTRY).clamp(4096, 1 << 22) as u32;
    CONN_MAX.reset(n as i32, 1, n as i32);
    n
}

/// `timeout_<state>` (normal) and `defense_timeout_<state>`, seconds, per timeout row
/// (`TimeoutRow::index`: the 11 TCP states in DESIGN.md §4 order, then UDP).
pub(crate) static TIMEOUTS: [RangedInt; ROW_COUNT] = timeouts(&Timeouts::NORMAL);
pub(crate) static DEFENSE_TIMEOUTS: [RangedInt; ROW_COUNT] = timeouts(&Timeouts::DEFENSE);

const fn timeouts(t: &Timeouts) -> [RangedInt; ROW_COUNT] {
    let mut i = 0;
    let mut out = [const { RangedInt::new(1, MIN_SECS as i32, MAX_SECS as i32) }; ROW_COUNT];
    while i < ROW_COUNT {
        out[i] = RangedInt::new(t.secs[i] as i32, MIN_SECS as i32, MAX_SECS as i32);
        i += 1;
    }
    out
}

/// The timeout of `row` in seconds: the defense value while defense is engaged.
pub(crate) fn timeout(row: TimeoutRow, engaged: bool) -> i32 {
    let set = if engaged {
        &DEFENSE_TIMEOUTS
    } else {
        &TIMEOUTS
    };
    set.get(row.index()).map_or(60, |v| v.get())
}

/// `defense_level`'s file: shows the level in force; a write goes through the controller.
struct LevelFile(Arc<Controller>);

impl Value for LevelFile {
    fn show(&self, out: &mut [u8]) -> usize {
        DEFENSE_LEVEL.show(out)
    }

    fn store(&self, input: &[u8]) -> Result {
        match parse_write(input, DEFENSE_LEVEL.range()) {
            Ok(Some(v)) => {
                let level = Level::from_value(v).ok_or(EINVAL)?;
                self.0.set_level(level);
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(_) => Err(EINVAL),
        }
    }
}

/// Shows a count in a read-only file.
fn show_count(v: u64, out: &mut [u8]) -> usize {
    format_value(i64::try_from(v).unwrap_or(i64::MAX), out).unwrap_or(usize::MAX)
}

/// What a read-only counter file shows.
#[derive(Clone, Copy)]
enum Field {
    Packets(Which),
    Bytes(Which),
    Drops(DropReason),
    DefenseSwitches,
    KnownClientPasses,
}

/// The counters read-only files show: the hooks', the director's drops, the defense's.
struct Counters {
    hooks: Arc<HookStats>,
    global: Arc<Stats>,
    defense: Arc<Controller>,
}

struct CounterFile {
    from: Arc<Counters>,
    field: Field,
}

impl Value for CounterFile {
    fn show(&self, out: &mut [u8]) -> usize {
        let c = &self.from;
        let v = match self.field {
            Field::Packets(w) => c.hooks.get(w).packets,
            Field::Bytes(w) => c.hooks.get(w).bytes,
            Field::Drops(why) => c.global.drops(why),
            Field::DefenseSwitches => c.defense.switches(),
            Field::KnownClientPasses => c.defense.known_passes(),
        };
        show_count(v, out)
    }

    fn store(&self, _input: &[u8]) -> Result {
        Err(EPERM)
    }
}

impl Value for Counter {
    fn show(&self, out: &mut [u8]) -> usize {
        show_count(self.get(), out)
    }

    fn store(&self, _input: &[u8]) -> Result {
        Err(EPERM)
    }
}

/// `malformed_<reason>`, in `ParseError::ALL` order.
const MALFORMED_NAMES: [&CStr; ParseError::ALL.len()] = [
    c_str!("malformed_ipv4_truncated"),
    c_str!("malformed_not_ipv4"),
    c_str!("malformed_bad_ihl"),
    c_str!("malformed_header_beyond_buffer"),
    c_str!("malformed_total_length_below_header"),
    c_str!("malformed_total_length_beyond_buffer"),
    c_str!("malformed_fragment"),
    c_str!("malformed_tcp_truncated"),
    c_str!("malformed_tcp_bad_data_offset"),
    c_str!("malformed_tcp_header_beyond_segment"),
    c_str!("malformed_udp_truncated"),
    c_str!("malformed_udp_bad_length"),
    c_str!("malformed_icmp_truncated"),
    c_str!("malformed_icmp_bad_quote"),
];

/// Registers the table.
pub(crate) fn register(
    hooks: &Arc<HookStats>,
    global: &Arc<Stats>,
    defense: &Arc<Controller>,
) -> Result<Registration> {
    let mut e = KVec::new();
    e.push(
        Entry::read_write_shared(
            c_str!("defense_level"),
            Arc::new(LevelFile(Arc::clone(defense)), GFP_KERNEL)?,
        ),
        GFP_KERNEL,
    )?;
    for (name, value) in [
        (c_str!("amemthresh"), &AMEMTHRESH),
        (c_str!("table_fill_high"), &TABLE_FILL_HIGH),
        (c_str!("table_fill_low"), &TABLE_FILL_LOW),
        (c_str!("syn_drop_rate"), &SYN_DROP_RATE),
        (c_str!("conn_max"), &CONN_MAX),
        (c_str!("known_client_ttl"), &KNOWN_CLIENT_TTL),
        (c_str!("resurrect"), &RESURRECT),
    ] {
        e.push(Entry::read_write(name, value), GFP_KERNEL)?;
    }
    let names = [
        (c_str!("timeout_none"), c_str!("defense_timeout_none")),
        (
            c_str!("timeout_established"),
            c_str!("defense_timeout_established"),
        ),
        (
            c_str!("timeout_syn_sent"),
            c_str!("defense_timeout_syn_sent"),
        ),
        (
            c_str!("timeout_syn_recv"),
            c_str!("defense_timeout_syn_recv"),
        ),
        (
            c_str!("timeout_fin_wait"),
            c_str!("defense_timeout_fin_wait"),
        ),
        (
            c_str!("timeout_time_wait"),
            c_str!("defense_timeout_time_wait"),
        ),
        (c_str!("timeout_close"), c_str!("defense_timeout_close")),
        (
            c_str!("timeout_close_wait"),
            c_str!("defense_timeout_close_wait"),
        ),
        (
            c_str!("timeout_last_ack"),
            c_str!("defense_timeout_last_ack"),
        ),
        (c_str!("timeout_listen"), c_str!("defense_timeout_listen")),
        (c_str!("timeout_synack"), c_str!("defense_timeout_synack")),
        (c_str!("timeout_udp"), c_str!("defense_timeout_udp")),
    ];
    for ((n, d), (t, dt)) in names
        .iter()
        .zip(TIMEOUTS.iter().zip(DEFENSE_TIMEOUTS.iter()))
    {
        e.push(Entry::read_write(n, t), GFP_KERNEL)?;
        e.push(Entry::read_write(d, dt), GFP_KERNEL)?;
    }
    let from = Arc::new(
        Counters {
            hooks: Arc::clone(hooks),
            global: Arc::clone(global),
            defense: Arc::clone(defense),
        },
        GFP_KERNEL,
    )?;
    for (name, field) in [
        (c_str!("local_in_packets"), Field::Packets(Which::LocalIn)),
        (c_str!("local_in_bytes"), Field::Bytes(Which::LocalIn)),
        (c_str!("forward_packets"), Field::Packets(Which::Forward)),
        (c_str!("forward_bytes"), Field::Bytes(Which::Forward)),
        (c_str!("local_out_packets"), Field::Packets(Which::LocalOut)),
        (c_str!("local_out_bytes"), Field::Bytes(Which::LocalOut)),
        (c_str!("syn_rate_drops"), Field::Drops(DropReason::SynRate)),
        (
            c_str!("entry_evictions"),
            Field::Drops(DropReason::Eviction),
        ),
        (c_str!("route_errors"), Field::Drops(DropReason::Route)),
        (c_str!("zombie_replies"), Field::Drops(DropReason::Zombie)),
        (c_str!("table_full"), Field::Drops(DropReason::TableFull)),
        (c_str!("malformed"), Field::Drops(DropReason::Malformed)),
        (c_str!("blind_acks"), Field::Drops(DropReason::BlindAck)),
        (c_str!("defense_switches"), Field::DefenseSwitches),
        (c_str!("known_client_passes"), Field::KnownClientPasses),
    ] {
        let file = CounterFile {
            from: Arc::clone(&from),
            field,
        };
        e.push(
            Entry::read_only_shared(name, Arc::new(file, GFP_KERNEL)?),
            GFP_KERNEL,
        )?;
    }
    for (name, c) in MALFORMED_NAMES.iter().zip(MALFORMED.iter()) {
        e.push(Entry::read_only(name, c), GFP_KERNEL)?;
    }
    Registration::register(c_str!("net/ipvs_defense"), e)
}
