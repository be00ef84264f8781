// SPDX-License-Identifier: GPL-2.0

//! `/proc/sys/net/ipvs_defense/`: the tunables and read-only counters.

use super::{
    defense::Controller,
    stats::{HookStats, MalformedStats, ProxyStats, Stats},
    tunables::{RangedInt, Tunables},
};
use crate::logic::{
    defense::Level,
    drops::DropReason,
    packet::ParseError,
    synproxy::ProxyCount,
    sysctl::{format_value, parse_write},
    timeouts::TimeoutRow,
};
use kernel::{
    c_str,
    net::netfilter::Hook,
    prelude::*,
    sync::Arc,
    sysctl::{Entry, Registration, Value},
};

/// Which tunable a file shows.
#[derive(Clone, Copy)]
enum Knob {
    Amemthresh,
    TableFillHigh,
    TableFillLow,
    SynDropRate,
    ConnMax,
    KnownClientTtl,
    Resurrect,
    SynProxy,
    /// `timeout_<row>`, by `TimeoutRow::index`.
    Timeout(usize),
    /// `defense_timeout_<row>`.
    DefenseTimeout(usize),
}

/// A tunable's file: shows its value; a write outside its range, or of anything but a
/// decimal integer, fails with `EINVAL` and keeps the old value.
struct TunableFile {
    tunables: Arc<Tunables>,
    knob: Knob,
}

impl TunableFile {
    fn value(&self) -> Option<&RangedInt> {
        let t = &*self.tunables;
        Some(match self.knob {
            Knob::Amemthresh => &t.amemthresh,
            Knob::TableFillHigh => &t.table_fill_high,
            Knob::TableFillLow => &t.table_fill_low,
            Knob::SynDropRate => &t.syn_drop_rate,
            Knob::ConnMax => &t.conn_max,
            Knob::KnownClientTtl => &t.known_client_ttl,
            Knob::Resurrect => &t.resurrect,
            Knob::SynProxy => &t.syn_proxy,
            Knob::Timeout(i) => t.timeouts.get(i)?,
            Knob::DefenseTimeout(i) => t.defense_timeouts.get(i)?,
        })
    }
}

/// Writes `v` and a newline into `out`; `ERANGE` when it does not fit.
fn show_number(v: i64, out: &mut [u8]) -> Result<usize> {
    format_value(v, out).ok_or(ERANGE)
}

/// Writes the counter `v` as [`show_number`] does; `ERANGE` above `i64::MAX`.
fn show_count(v: u64, out: &mut [u8]) -> Result<usize> {
    show_number(v.try_into().map_err(|_| ERANGE)?, out)
}

impl Value for TunableFile {
    fn show(&self, out: &mut [u8]) -> Result<usize> {
        show_number(self.value().ok_or(EINVAL)?.get().into(), out)
    }

    fn store(&self, input: &[u8]) -> Result {
        let v = self.value().ok_or(EINVAL)?;
        match parse_write(input, v.range()) {
            // In range, and every range fits an i32.
            Ok(Some(n)) => v.set(n as i32),
            Ok(None) => Ok(()),
            Err(_) => Err(EINVAL),
        }
    }
}

/// `defense_level`'s file: shows the level in force; a write goes through the controller.
struct LevelFile {
    tunables: Arc<Tunables>,
    controller: Arc<Controller>,
}

impl Value for LevelFile {
    fn show(&self, out: &mut [u8]) -> Result<usize> {
        show_number(self.tunables.defense_level.get().into(), out)
    }

    fn store(&self, input: &[u8]) -> Result {
        match parse_write(input, self.tunables.defense_level.range()) {
            Ok(Some(v)) => {
                let level = Level::from_value(v).ok_or(EINVAL)?;
                self.controller.set_level(level);
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(_) => Err(EINVAL),
        }
    }
}

/// What a read-only counter file shows.
#[derive(Clone, Copy)]
enum Field {
    Packets(Hook),
    Bytes(Hook),
    Drops(DropReason),
    Malformed(ParseError),
    DefenseSwitches,
    KnownClientPasses,
    Proxy(ProxyCount),
}

/// The counters read-only files show: the hooks', the director's drops, the defense's.
struct Counters {
    hooks: Arc<HookStats>,
    global: Arc<Stats>,
    malformed: Arc<MalformedStats>,
    defense: Arc<Controller>,
    proxy: Arc<ProxyStats>,
}

struct CounterFile {
    from: Arc<Counters>,
    field: Field,
}

impl Value for CounterFile {
    fn show(&self, out: &mut [u8]) -> Result<usize> {
        let c = &self.from;
        let v = match self.field {
            Field::Packets(w) => c.hooks.get(w).packets,
            Field::Bytes(w) => c.hooks.get(w).bytes,
            Field::Drops(why) => c.global.drops(why),
            Field::Malformed(why) => c.malformed.get(why),
            Field::DefenseSwitches => c.defense.switches(),
            Field::KnownClientPasses => c.defense.known_passes(),
            Field::Proxy(what) => c.proxy.get(what),
        };
        show_count(v, out)
    }

    fn store(&self, _input: &[u8]) -> Result {
        Err(EPERM)
    }
}

/// A name of `logic` (a `core` C string) as the kernel's C string.
pub(crate) fn kernel_name(name: &'static core::ffi::CStr) -> &'static CStr {
    // A `core::ffi::CStr`'s bytes end with its only NUL, which is all `CStr` asks.
    CStr::from_bytes_with_nul(name.to_bytes_with_nul()).unwrap_or(c_str!(""))
}

/// Registers the table.
pub(crate) fn register(
    tunables: &Arc<Tunables>,
    hooks: &Arc<HookStats>,
    global: &Arc<Stats>,
    malformed: &Arc<MalformedStats>,
    defense: &Arc<Controller>,
    proxy: &Arc<ProxyStats>,
) -> Result<Registration> {
    let mut e = KVec::new();
    let level = LevelFile {
        tunables: Arc::clone(tunables),
        controller: Arc::clone(defense),
    };
    e.push(
        Entry::read_write_shared(c_str!("defense_level"), Arc::new(level, GFP_KERNEL)?),
        GFP_KERNEL,
    )?;
    let tunable = |name, knob| -> Result<Entry> {
        let file = TunableFile {
            tunables: Arc::clone(tunables),
            knob,
        };
        Ok(Entry::read_write_shared(name, Arc::new(file, GFP_KERNEL)?))
    };
    for (name, knob) in [
        (c_str!("amemthresh"), Knob::Amemthresh),
        (c_str!("table_fill_high"), Knob::TableFillHigh),
        (c_str!("table_fill_low"), Knob::TableFillLow),
        (c_str!("syn_drop_rate"), Knob::SynDropRate),
        (c_str!("conn_max"), Knob::ConnMax),
        (c_str!("known_client_ttl"), Knob::KnownClientTtl),
        (c_str!("resurrect"), Knob::Resurrect),
        (c_str!("syn_proxy"), Knob::SynProxy),
    ] {
        e.push(tunable(name, knob)?, GFP_KERNEL)?;
    }
    for (i, row) in TimeoutRow::ALL.into_iter().enumerate() {
        e.push(
            tunable(kernel_name(row.sysctl_name()), Knob::Timeout(i))?,
            GFP_KERNEL,
        )?;
        e.push(
            tunable(
                kernel_name(row.defense_sysctl_name()),
                Knob::DefenseTimeout(i),
            )?,
            GFP_KERNEL,
        )?;
    }
    let from = Arc::new(
        Counters {
            hooks: Arc::clone(hooks),
            global: Arc::clone(global),
            malformed: Arc::clone(malformed),
            defense: Arc::clone(defense),
            proxy: Arc::clone(proxy),
        },
        GFP_KERNEL,
    )?;
    let hook_counters = [
        (c_str!("local_in_packets"), Field::Packets(Hook::LocalIn)),
        (c_str!("local_in_bytes"), Field::Bytes(Hook::LocalIn)),
        (c_str!("forward_packets"), Field::Packets(Hook::Forward)),
        (c_str!("forward_bytes"), Field::Bytes(Hook::Forward)),
        (c_str!("local_out_packets"), Field::Packets(Hook::LocalOut)),
        (c_str!("local_out_bytes"), Field::Bytes(Hook::LocalOut)),
    ];
    let drop_counters = DropReason::ALL.map(|r| (kernel_name(r.sysctl_name()), Field::Drops(r)));
    let defense_counters = [
        (c_str!("defense_switches"), Field::DefenseSwitches),
        (c_str!("known_client_passes"), Field::KnownClientPasses),
    ];
    let malformed_counters =
        ParseError::ALL.map(|why| (kernel_name(why.sysctl_name()), Field::Malformed(why)));
    let counters = Iterator::chain(hook_counters.into_iter(), drop_counters);
    let counters = Iterator::chain(counters, malformed_counters);
    let counters = Iterator::chain(counters, defense_counters);
    let proxy_counters = ProxyCount::ALL.map(|c| (kernel_name(c.sysctl_name()), Field::Proxy(c)));
    for (name, field) in Iterator::chain(counters, proxy_counters) {
        let file = CounterFile {
            from: Arc::clone(&from),
            field,
        };
        e.push(
            Entry::read_only_shared(name, Arc::new(file, GFP_KERNEL)?),
            GFP_KERNEL,
        )?;
    }
    Registration::register(c_str!("net/ipvs_defense"), e)
}
