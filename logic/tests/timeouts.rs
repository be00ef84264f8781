// SPDX-License-Identifier: GPL-2.0
//! Timeouts: the values of Documentation/ipvs-defense.rst, "States and timeouts", the sysctl
//! range, and tick conversion.

mod common;

use ipvsd_logic::sysctl::{parse_write, WriteError};
use ipvsd_logic::tcp_state::TcpState;
use ipvsd_logic::timeouts::{
    secs_to_ticks, ticks_to_secs, OutOfRange, TimeoutRow, Timeouts, MAX_SECS, MIN_SECS, RANGE,
    ROW_COUNT,
};

/// The design document's timeout table: (state, normal, defense).
const TABLE: [(&str, u32, u32); 12] = [
    ("NONE", 2, 2),
    ("ES", 900, 480),
    ("SS", 120, 60),
    ("SR", 60, 10),
    ("FW", 120, 60),
    ("TW", 120, 60),
    ("CL", 10, 10),
    ("CW", 60, 60),
    ("LA", 30, 30),
    ("LI", 120, 120),
    ("SA", 120, 60),
    ("UDP", 300, 180),
];

fn row(name: &str) -> TimeoutRow {
    if name == "UDP" {
        return TimeoutRow::Udp;
    }
    TimeoutRow::Tcp(common::state_by_abbrev(name).unwrap_or_else(|| panic!("{name}")))
}

#[test]
fn defaults_match_design() {
    for (name, normal, defense) in TABLE {
        assert_eq!(Timeouts::NORMAL.secs(row(name)), normal, "{name}");
        assert_eq!(Timeouts::DEFENSE.secs(row(name)), defense, "{name}");
    }
}

#[test]
fn rows_cover_every_state_and_udp_once() {
    assert_eq!(TimeoutRow::ALL.len(), ROW_COUNT);
    for (i, r) in TimeoutRow::ALL.into_iter().enumerate() {
        assert_eq!(r.index(), i);
    }
    for s in TcpState::ALL {
        assert!(TimeoutRow::ALL.contains(&TimeoutRow::Tcp(s)));
    }
    assert!(TimeoutRow::ALL.contains(&TimeoutRow::Udp));
    let mut names: Vec<&str> = TimeoutRow::ALL.iter().map(|r| r.name()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), ROW_COUNT);
    assert_eq!(TimeoutRow::Tcp(TcpState::Established).name(), "established");
    assert_eq!(TimeoutRow::Udp.name(), "udp");
}

#[test]
fn range_is_1_to_2147483_and_refusals_keep_the_old_value() {
    assert_eq!((MIN_SECS, MAX_SECS), (1, 2_147_483));
    let mut t = Timeouts::NORMAL;
    let es = TimeoutRow::Tcp(TcpState::Established);
    assert_eq!(t.set_secs(es, 0), Err(OutOfRange));
    assert_eq!(t.set_secs(es, 2_147_484), Err(OutOfRange));
    assert_eq!(t.set_secs(es, u32::MAX), Err(OutOfRange));
    assert_eq!(t.secs(es), 900);
    assert_eq!(t.set_secs(es, 1), Ok(()));
    assert_eq!(t.secs(es), 1);
    assert_eq!(t.set_secs(es, 2_147_483), Ok(()));
    assert_eq!(t.secs(es), 2_147_483);
    // Only that row changed.
    for r in TimeoutRow::ALL {
        if r != es {
            assert_eq!(t.secs(r), Timeouts::NORMAL.secs(r));
        }
    }
    // The sysctl parser applies the same range.
    assert_eq!(parse_write(b"0\n", RANGE), Err(WriteError::OutOfRange));
    assert_eq!(parse_write(b"2147483\n", RANGE), Ok(Some(2_147_483)));
    assert_eq!(
        parse_write(b"2147484\n", RANGE),
        Err(WriteError::OutOfRange)
    );
}

#[test]
fn tick_conversion_never_overflows() {
    assert_eq!(secs_to_ticks(900, 1000), 900_000);
    assert_eq!(secs_to_ticks(MAX_SECS, 1000), 2_147_483_000);
    assert!(secs_to_ticks(MAX_SECS, 1000) <= i32::MAX as u64);
    assert_eq!(secs_to_ticks(MAX_SECS, 250), 536_870_750);
    assert_eq!(
        secs_to_ticks(u32::MAX, u32::MAX),
        u64::from(u32::MAX) * u64::from(u32::MAX)
    );
    assert_eq!(secs_to_ticks(5, 0), 0);
    assert_eq!(
        Timeouts::DEFENSE.ticks(TimeoutRow::Tcp(TcpState::SynRecv), 100),
        1000
    );
    for hz in [100, 250, 300, 1000] {
        for (name, normal, _) in TABLE {
            let ticks = Timeouts::NORMAL.ticks(row(name), hz);
            assert_eq!(ticks, u64::from(normal) * u64::from(hz));
            assert_eq!(ticks_to_secs(ticks, hz), u64::from(normal));
        }
    }
    assert_eq!(ticks_to_secs(1, 1000), 1);
    assert_eq!(ticks_to_secs(1001, 1000), 2);
    assert_eq!(ticks_to_secs(0, 1000), 0);
    assert_eq!(ticks_to_secs(u64::MAX, 1), u64::MAX);
    assert_eq!(ticks_to_secs(u64::MAX, 1000), u64::MAX / 1000 + 1);
    assert_eq!(ticks_to_secs(123, 0), 0);
}
