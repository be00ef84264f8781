// SPDX-License-Identifier: GPL-2.0
//! The defense controller, the SYN drop rate and its even spreading.

mod common;

use common::Rng;
use ipvsd_logic::defense::{syn_drop_rate, Cause, Defense, DropCounter, Level, Switch};
use ipvsd_logic::tcp_state::Table;

const THRESH: u64 = 2560;

#[test]
fn calm_engages_below_threshold_and_returns_by_itself() {
    let mut d = Defense::new();
    assert_eq!(d.level(), Level::Calm);
    assert!(!d.secure());
    assert_eq!(
        d.tick(THRESH, THRESH),
        None,
        "at the threshold is not below it"
    );
    assert_eq!(
        d.tick(THRESH - 1, THRESH),
        Some(Switch {
            from: Level::Calm,
            to: Level::Engaged,
            cause: Cause::MemoryLow
        })
    );
    assert!(d.secure());
    assert_eq!(d.level().table(), Table::Secure);
    assert_eq!(d.tick(10, THRESH), None, "one switch, logged once");
    assert_eq!(
        d.tick(THRESH, THRESH),
        Some(Switch {
            from: Level::Engaged,
            to: Level::Calm,
            cause: Cause::Recovered
        })
    );
    assert_eq!(d.level().table(), Table::Normal);
    assert_eq!(d.tick(u64::MAX, THRESH), None);
    assert_eq!(d.switches(), 2);
}

#[test]
fn forced_never_returns_on_its_own() {
    let mut d = Defense::new();
    let s = d.set_level(Level::Forced).unwrap();
    assert_eq!(
        (s.from, s.to, s.cause),
        (Level::Calm, Level::Forced, Cause::Operator)
    );
    for avail in [0, THRESH - 1, THRESH, u64::MAX] {
        assert_eq!(d.tick(avail, THRESH), None);
        assert_eq!(d.level(), Level::Forced);
    }
    assert_eq!(d.set_level(Level::Forced), None, "same level: no switch");
    assert_eq!(d.set_level(Level::Calm).map(|s| s.to), Some(Level::Calm));
    assert_eq!(d.switches(), 2);
}

#[test]
fn operator_engaged_returns_when_memory_is_fine() {
    let mut d = Defense::new();
    d.set_level(Level::Engaged).unwrap();
    assert_eq!(d.tick(THRESH - 1, THRESH), None);
    assert_eq!(d.tick(THRESH + 1, THRESH).map(|s| s.to), Some(Level::Calm));
}

#[test]
fn zero_threshold_disables_automatic_switching() {
    let mut d = Defense::new();
    assert_eq!(d.tick(0, 0), None);
    assert_eq!(d.level(), Level::Calm);
    d.set_level(Level::Engaged).unwrap();
    assert_eq!(d.tick(u64::MAX, 0), None);
    assert_eq!(d.level(), Level::Engaged);
}

#[test]
fn levels_from_sysctl_values() {
    assert_eq!(Level::from_value(0), Some(Level::Calm));
    assert_eq!(Level::from_value(1), Some(Level::Engaged));
    assert_eq!(Level::from_value(2), Some(Level::Forced));
    assert_eq!(Level::from_value(3), None);
    assert_eq!(Level::from_value(-1), None);
    for l in [Level::Calm, Level::Engaged, Level::Forced] {
        assert_eq!(Level::from_value(i64::from(l.value())), Some(l));
    }
}

#[test]
fn automatic_rate_is_amemthresh_over_shortfall() {
    // amemthresh / (amemthresh - available), integer division.
    assert_eq!(
        syn_drop_rate(0, THRESH, 0),
        Some(1),
        "no memory: drop every SYN"
    );
    assert_eq!(syn_drop_rate(THRESH / 2, THRESH, 0), Some(2));
    assert_eq!(syn_drop_rate(THRESH - 1, THRESH, 0), Some(THRESH));
    assert_eq!(
        syn_drop_rate(1000, THRESH, 0),
        Some(THRESH / (THRESH - 1000))
    );
    assert_eq!(syn_drop_rate(THRESH, THRESH, 0), None);
    assert_eq!(syn_drop_rate(u64::MAX, THRESH, 0), None);
    assert_eq!(
        syn_drop_rate(0, 0, 0),
        None,
        "amemthresh 0: no automatic drops"
    );
    assert_eq!(syn_drop_rate(u64::MAX - 1, u64::MAX, 0), Some(u64::MAX));
    let mut rng = Rng::new(11);
    for _ in 0..100_000 {
        let t = rng.next_u64() >> rng.below(64);
        let a = rng.next_u64() >> rng.below(64);
        let r = syn_drop_rate(a, t, 0);
        if a < t {
            let r = r.unwrap();
            assert!(r >= 1 && r == t / (t - a));
        } else {
            assert_eq!(r, None);
        }
    }
}

#[test]
fn fixed_rate_applies_whatever_the_memory() {
    assert_eq!(syn_drop_rate(0, THRESH, 10), Some(10));
    assert_eq!(syn_drop_rate(u64::MAX, THRESH, 1), Some(1));
    assert_eq!(syn_drop_rate(5, 0, 3), Some(3));
}

#[test]
fn rate_only_while_engaged() {
    let mut d = Defense::new();
    assert_eq!(d.drop_rate(0, THRESH, 10), None);
    d.tick(0, THRESH);
    assert_eq!(d.drop_rate(0, THRESH, 10), Some(10));
    assert_eq!(d.drop_rate(0, THRESH, 0), Some(1));
    d.set_level(Level::Forced);
    assert_eq!(d.drop_rate(THRESH * 2, THRESH, 0), None);
    assert_eq!(d.drop_rate(THRESH * 2, THRESH, 4), Some(4));
}

/// Drops made by `c` over `n` SYNs at `rate`.
fn drops(c: &mut DropCounter, rate: Option<u64>, n: u64) -> u64 {
    (0..n).filter(|_| c.should_drop(rate)).count() as u64
}

#[test]
fn drops_are_spread_exactly_one_in_rate() {
    let mut c = DropCounter::new();
    let pattern: Vec<bool> = (0..12).map(|_| c.should_drop(Some(4))).collect();
    assert_eq!(
        pattern,
        [false, false, false, true, false, false, false, true, false, false, false, true]
    );
    let mut c = DropCounter::new();
    assert!(
        (0..100).all(|_| c.should_drop(Some(1))),
        "rate 1 drops every SYN"
    );
    let mut c = DropCounter::new();
    assert!((0..100).all(|_| !c.should_drop(None)));
    assert_eq!(c, DropCounter::new(), "no rate leaves the counter alone");
}

#[test]
fn property_floor_n_over_rate_plus_minus_one() {
    // From any counter state, at any rate, n SYNs give floor(n / rate) drops, ± 1.
    let mut rng = Rng::new(0xd209);
    for _ in 0..5_000 {
        let rate = match rng.below(3) {
            0 => rng.range(1, 10),
            1 => rng.range(1, 1000),
            _ => rng.range(1, 20_000),
        };
        let n = rng.below(3 * rate + 50);
        let mut c = DropCounter::from_bits(rng.below(rate * 2));
        let got = drops(&mut c, Some(rate), n);
        let want = n / rate;
        assert!(
            got + 1 >= want && got <= want + 1,
            "rate {rate}, n {n}: {got} drops, want {want}±1"
        );
        // From a fresh counter it is exact.
        let mut c = DropCounter::new();
        assert_eq!(drops(&mut c, Some(rate), n), want);
    }
}

#[test]
fn property_per_cpu_counters_stay_within_one_per_cpu() {
    // SYNs spread at random over 8 CPUs, each with its own counter.
    let mut rng = Rng::new(0xc0de);
    for _ in 0..500 {
        let rate = rng.range(1, 64);
        let n = rng.below(20_000);
        let mut cpus = [DropCounter::new(); 8];
        let mut total = 0u64;
        for _ in 0..n {
            let cpu = rng.below(8) as usize;
            total += u64::from(cpus[cpu].should_drop(Some(rate)));
        }
        let want = n / rate;
        assert!(
            total <= want && total + 8 >= want,
            "rate {rate}, n {n}: {total} vs {want}"
        );
    }
}

#[test]
fn step_is_the_pure_form_for_compare_and_swap() {
    let mut shared = 0u64;
    let mut dropped = 0;
    for _ in 0..1000 {
        let (next, drop) = DropCounter::from_bits(shared).step(Some(7));
        shared = next.to_bits();
        dropped += u32::from(drop);
    }
    assert_eq!(dropped, 1000 / 7);
    // A rate lowered below the count drops at once, then spreads again.
    let mut c = DropCounter::from_bits(50);
    assert!(c.should_drop(Some(10)));
    assert_eq!(drops(&mut c, Some(10), 30), 3);
}

fn fill(used: u64, capacity: u64, high: u64, low: u64) -> ipvsd_logic::defense::Pressure {
    ipvsd_logic::defense::Pressure {
        available: 1 << 20,
        amemthresh: THRESH,
        used,
        capacity,
        fill_high: high,
        fill_low: low,
    }
}

#[test]
fn a_full_table_engages_and_a_drained_one_returns() {
    let mut d = Defense::new();
    assert_eq!(
        d.check(&fill(449, 500, 90, 70)),
        None,
        "89.8 % is below 90 %"
    );
    assert_eq!(
        d.check(&fill(450, 500, 90, 70)),
        Some(Switch {
            from: Level::Calm,
            to: Level::Engaged,
            cause: Cause::TableFull
        })
    );
    // Hysteresis: between the watermarks it stays engaged.
    for used in [450, 400, 350] {
        assert_eq!(d.check(&fill(used, 500, 90, 70)), None, "{used} of 500");
    }
    assert_eq!(
        d.check(&fill(349, 500, 90, 70)),
        Some(Switch {
            from: Level::Engaged,
            to: Level::Calm,
            cause: Cause::Recovered
        })
    );
    assert_eq!(d.switches(), 2);
}

#[test]
fn fill_trigger_off_and_forced_level() {
    let mut d = Defense::new();
    assert_eq!(d.check(&fill(500, 500, 0, 70)), None, "watermark 0: off");
    let mut off = fill(500, 500, 90, 70);
    off.amemthresh = 0;
    off.available = 0;
    assert_eq!(
        d.check(&off),
        None,
        "amemthresh 0: no automatic switch at all"
    );
    d.set_level(Level::Forced);
    assert_eq!(d.check(&fill(0, 500, 90, 70)), None, "2 is never left");
    d.set_level(Level::Calm);
    // Memory low engages even with an empty table; it returns only when both recover.
    let mut p = fill(0, 500, 90, 70);
    p.available = THRESH - 1;
    assert_eq!(d.check(&p).map(|s| s.cause), Some(Cause::MemoryLow));
    let mut p = fill(400, 500, 90, 70);
    p.available = THRESH;
    assert_eq!(
        d.check(&p),
        None,
        "memory back, but the fill is above the low watermark"
    );
    p.used = 300;
    assert_eq!(d.check(&p).map(|s| s.cause), Some(Cause::Recovered));
}

#[test]
fn watermarks_the_wrong_way_round_do_not_flap() {
    let mut d = Defense::new();
    // Low 95 above high 90: used as 89.
    assert!(d.check(&fill(460, 500, 90, 95)).is_some());
    assert_eq!(d.check(&fill(450, 500, 90, 95)), None, "90 % stays engaged");
    assert_eq!(
        d.check(&fill(447, 500, 90, 95)),
        None,
        "89.4 % is not below 89 %"
    );
    assert!(d.check(&fill(444, 500, 90, 95)).is_some(), "88.8 % returns");
}
