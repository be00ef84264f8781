// SPDX-License-Identifier: GPL-2.0
//! The timer wheel: exact expiry of a million entries under random re-arms and a moving
//! clock, none lost, none twice; O(1) operations; broken links never hang a sweep.

mod common;

use common::Rng;
use ipvsd_logic::wheel::{BadIndex, Wheel, WheelLink, MAX_DELTA};
use std::time::Instant;

/// A random timeout in ticks: mostly short, some long, a few beyond the wheel's 2^32 span
/// (which expire at its end).
fn timeout(rng: &mut Rng) -> u64 {
    match rng.below(100) {
        0..=39 => rng.below(300),
        40..=69 => rng.range(300, 20_000),
        70..=89 => rng.range(20_000, 2_000_000),
        90..=98 => rng.range(2_000_000, 2_147_483_000),
        _ => rng.range(1 << 32, 1 << 34),
    }
}

#[test]
fn million_entries_expire_exactly_once_at_their_tick() {
    const N: usize = 1_000_000;
    let started = Instant::now();
    let mut rng = Rng::new(0x5eed_0001);
    // A jiffies-like start, far from 0.
    let mut now: u64 = 4_294_667_296;
    let mut wheel = Wheel::new(now);
    let mut links = vec![WheelLink::UNARMED; N];
    let mut expect: Vec<Option<u64>> = vec![None; N];

    for (i, e) in expect.iter_mut().enumerate() {
        let at = now + 1 + timeout(&mut rng);
        wheel.arm(&mut links, i as u32, at).unwrap();
        *e = Some(at.min(wheel.clock() + MAX_DELTA));
        assert_eq!(wheel.expires(&links[i]), *e);
    }
    assert_eq!(wheel.len(), N);

    // `fresh`: arms of entries that were not armed (each ends in one expiry or removal).
    let (mut popped, mut rearmed, mut disarmed, mut fresh) = (0u64, 0u64, 0u64, N as u64);
    let mut armed = N as u64;
    let pop_all = |wheel: &mut Wheel,
                   links: &mut [WheelLink],
                   expect: &mut [Option<u64>],
                   prev: u64,
                   now: u64|
     -> u64 {
        let mut n = 0;
        while let Some(i) = wheel.pop_expired(links, now) {
            let e = expect[i as usize]
                .take()
                .expect("popped an entry that was not armed");
            // Exactly at its tick: the wheel's clock when it comes out is its expiry.
            assert_eq!(wheel.clock(), e, "entry {i} came out at the wrong tick");
            assert!(
                e > prev && e <= now,
                "entry {i} (at {e}) outside sweep ({prev}, {now}]"
            );
            assert!(!links[i as usize].is_armed());
            n += 1;
        }
        assert_eq!(wheel.clock(), now);
        n
    };

    for round in 0..2_000 {
        let prev = now;
        // A moving clock: mostly small steps, sometimes a big jump.
        now += if round % 100 == 99 {
            rng.range(100_000, 5_000_000)
        } else {
            rng.range(1, 3_000)
        };
        let n = pop_all(&mut wheel, &mut links, &mut expect, prev, now);
        popped += n;
        armed -= n;
        // Random re-arms (armed or not), and some removals.
        for _ in 0..600 {
            let i = rng.below(N as u64) as usize;
            if rng.chance(1, 10) {
                let was = wheel.disarm(&mut links, i as u32).unwrap();
                assert_eq!(was, expect[i].is_some());
                if was {
                    armed -= 1;
                    disarmed += 1;
                }
                expect[i] = None;
            } else {
                let at = now + 1 + timeout(&mut rng);
                if expect[i].is_none() {
                    armed += 1;
                    fresh += 1;
                }
                wheel.arm(&mut links, i as u32, at).unwrap();
                expect[i] = Some(at.min(wheel.clock() + MAX_DELTA));
                assert_eq!(wheel.expires(&links[i]), expect[i]);
                rearmed += 1;
            }
        }
        assert_eq!(wheel.len() as u64, armed);
    }

    // Drain: everything left expires within 2^35 ticks.
    let prev = now;
    now += 1 << 35;
    popped += pop_all(&mut wheel, &mut links, &mut expect, prev, now);
    assert!(wheel.is_empty());
    assert!(expect.iter().all(Option::is_none), "entries lost");
    assert!(links.iter().all(|l| !l.is_armed()));
    let elapsed = started.elapsed();
    println!(
        "wheel: {N} entries, {rearmed} re-arms, {disarmed} removals, {popped} expiries in {:.2?}",
        elapsed
    );
    assert_eq!(popped + disarmed, fresh, "each arming ends exactly once");
}

#[test]
fn past_and_present_ticks_expire_at_the_next_sweep() {
    let mut links = vec![WheelLink::UNARMED; 3];
    let mut wheel = Wheel::new(1000);
    wheel.arm(&mut links, 0, 10).unwrap();
    wheel.arm(&mut links, 1, 1000).unwrap();
    wheel.arm(&mut links, 2, 1001).unwrap();
    let mut got: Vec<u32> = std::iter::from_fn(|| wheel.pop_expired(&mut links, 1000)).collect();
    got.sort();
    assert_eq!(got, [0, 1]);
    assert_eq!(wheel.pop_expired(&mut links, 1000), None);
    assert_eq!(wheel.pop_expired(&mut links, 1001), Some(2));
}

#[test]
fn clock_never_runs_ahead_of_now() {
    let mut links = vec![WheelLink::UNARMED; 1];
    let mut wheel = Wheel::new(500);
    wheel.arm(&mut links, 0, 700).unwrap();
    assert_eq!(wheel.pop_expired(&mut links, 699), None);
    assert_eq!(wheel.clock(), 699);
    // An older `now` neither pops nor moves the clock back.
    assert_eq!(wheel.pop_expired(&mut links, 10), None);
    assert_eq!(wheel.clock(), 699);
    assert_eq!(wheel.pop_expired(&mut links, 700), Some(0));
}

#[test]
fn rearm_moves_and_disarm_removes() {
    let mut links = vec![WheelLink::UNARMED; 4];
    let mut wheel = Wheel::new(0);
    for i in 0..4 {
        wheel.arm(&mut links, i, 100).unwrap();
    }
    assert_eq!(wheel.expires(&links[2]), Some(100));
    wheel.arm(&mut links, 2, 50_000).unwrap();
    assert_eq!(wheel.expires(&links[2]), Some(50_000));
    assert_eq!(wheel.disarm(&mut links, 1), Ok(true));
    assert_eq!(wheel.disarm(&mut links, 1), Ok(false));
    assert_eq!(wheel.len(), 3);
    let mut at_100: Vec<u32> = std::iter::from_fn(|| wheel.pop_expired(&mut links, 100)).collect();
    at_100.sort();
    assert_eq!(at_100, [0, 3]);
    assert_eq!(wheel.pop_expired(&mut links, 49_999), None);
    assert_eq!(wheel.pop_expired(&mut links, 50_000), Some(2));
    assert!(wheel.is_empty());
}

#[test]
fn expiries_past_or_beyond_the_span_are_brought_within_it() {
    let mut links = vec![WheelLink::UNARMED; 3];
    let start = 5u64 << 32;
    let mut wheel = Wheel::new(start);
    wheel.arm(&mut links, 0, 3).unwrap();
    wheel.arm(&mut links, 1, start + (7 << 32)).unwrap();
    wheel.arm(&mut links, 2, start + MAX_DELTA).unwrap();
    assert_eq!(wheel.expires(&links[0]), Some(start));
    assert_eq!(wheel.expires(&links[1]), Some(start + MAX_DELTA));
    assert_eq!(wheel.expires(&links[2]), Some(start + MAX_DELTA));
    assert_eq!(wheel.pop_expired(&mut links, start), Some(0));
    assert_eq!(wheel.pop_expired(&mut links, start + MAX_DELTA - 1), None);
    // The full tick is still known half-way there, after the cascades.
    assert_eq!(wheel.expires(&links[1]), Some(start + MAX_DELTA));
    let mut rest: Vec<u32> =
        std::iter::from_fn(|| wheel.pop_expired(&mut links, start + MAX_DELTA)).collect();
    rest.sort();
    assert_eq!(rest, [1, 2]);
    assert_eq!(wheel.expires(&links[1]), None);
}

#[test]
fn bad_indices_are_errors() {
    let mut links = vec![WheelLink::UNARMED; 2];
    let mut wheel = Wheel::new(0);
    assert_eq!(wheel.arm(&mut links, 2, 5), Err(BadIndex));
    assert_eq!(wheel.disarm(&mut links, u32::MAX), Err(BadIndex));
    assert!(wheel.is_empty());
}

#[test]
fn huge_clock_values_do_not_overflow() {
    let mut links = vec![WheelLink::UNARMED; 3];
    let start = u64::MAX - 1000;
    let mut wheel = Wheel::new(start);
    wheel.arm(&mut links, 0, u64::MAX).unwrap();
    wheel.arm(&mut links, 1, start + 10).unwrap();
    wheel.arm(&mut links, 2, u64::MAX - 1).unwrap();
    assert_eq!(wheel.pop_expired(&mut links, start + 10), Some(1));
    let rest: Vec<u32> = std::iter::from_fn(|| wheel.pop_expired(&mut links, u64::MAX)).collect();
    assert_eq!(rest, [2, 0]);
}

#[test]
fn broken_links_never_hang_a_sweep() {
    // A caller that overwrites armed entries (a bug) must not make the sweep loop forever
    // or panic: random corruption, then sweeps until the clock has passed everything.
    let mut rng = Rng::new(7);
    for _ in 0..200 {
        let n = 64;
        let mut links = vec![WheelLink::UNARMED; n];
        let mut wheel = Wheel::new(0);
        for i in 0..n {
            wheel.arm(&mut links, i as u32, rng.below(100_000)).unwrap();
        }
        for _ in 0..8 {
            let i = rng.below(n as u64) as usize;
            links[i] = WheelLink::UNARMED;
        }
        let mut count = 0;
        while wheel.pop_expired(&mut links, 1 << 40).is_some() {
            count += 1;
            assert!(count <= n);
        }
    }
}

#[test]
fn operations_are_constant_time() {
    // arm/disarm cost must not grow with the number of armed entries: time 100,000 re-arms
    // at 1,000 and at 1,000,000 entries; allow a wide margin for cache effects.
    fn rearm_time(n: usize) -> f64 {
        let mut rng = Rng::new(3);
        let mut links = vec![WheelLink::UNARMED; n];
        let mut wheel = Wheel::new(0);
        for i in 0..n {
            wheel
                .arm(&mut links, i as u32, 1 + rng.below(1 << 20))
                .unwrap();
        }
        let t = Instant::now();
        for _ in 0..100_000 {
            let i = rng.below(n as u64) as u32;
            wheel.arm(&mut links, i, 1 + rng.below(1 << 20)).unwrap();
        }
        t.elapsed().as_secs_f64()
    }
    let small = rearm_time(1_000);
    let large = rearm_time(1_000_000);
    assert!(
        large < small * 20.0 + 0.05,
        "re-arm slowed from {small}s to {large}s"
    );
}
