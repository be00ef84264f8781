// SPDX-License-Identifier: GPL-2.0
//! SYN cookies: what a cookie proves, for how long, for which flow, and what it carries.

mod common;

use common::Rng;
use ipvsd_logic::cookie::{
    check, count_at, make, mss_index, Flow, Options, Secrets, MAX_AGE, MSS_TABLE,
};
use ipvsd_logic::hash::SipKey;

fn secrets(rng: &mut Rng) -> Secrets {
    Secrets {
        flow: SipKey::new(rng.next_u64(), rng.next_u64()),
        counted: SipKey::new(rng.next_u64(), rng.next_u64()),
    }
}

fn flow(rng: &mut Rng) -> Flow {
    Flow {
        saddr: 0xc612_0000 | (rng.next_u32() & 0x1_ffff),
        daddr: 0xc000_0201,
        sport: rng.next_u16(),
        dport: 80,
    }
}

#[test]
fn a_cookie_carries_the_mss_for_its_flow_and_age() {
    let mut rng = Rng::new(1);
    let s = secrets(&mut rng);
    for _ in 0..20_000 {
        let f = flow(&mut rng);
        let isn = rng.next_u32();
        let mss = rng.next_u16();
        let made = rng.next_u32();
        let c = make(&s, f, isn, mss, made);
        let want = MSS_TABLE[mss_index(mss) as usize];
        assert!(want <= mss || mss < MSS_TABLE[0]);
        for age in 0..MAX_AGE {
            assert_eq!(check(&s, f, isn, c, made.wrapping_add(age)), Some(want));
        }
        // Too old, or from the future.
        assert_eq!(check(&s, f, isn, c, made.wrapping_add(MAX_AGE)), None);
        assert_eq!(check(&s, f, isn, c, made.wrapping_sub(1)), None);
        // Another sequence number (far enough not to be read as another MSS index, as
        // cookie and sequence number add up), another flow, other secrets.
        assert_eq!(check(&s, f, isn.wrapping_add(1 << 20), c, made), None);
        let mut g = f;
        g.sport = g.sport.wrapping_add(1);
        assert_eq!(check(&s, g, isn, c, made), None);
        let mut g = f;
        g.saddr ^= 1 << (rng.next_u32() % 32);
        assert_eq!(check(&s, g, isn, c, made), None);
        assert_eq!(check(&secrets(&mut rng), f, isn, c, made), None);
    }
}

#[test]
fn guessed_cookies_pass_about_as_rarely_as_designed() {
    // A blind ACK passes with probability about 4 x 2 / 2^24: none in a million guesses is
    // expected (0.5 on average).
    let mut rng = Rng::new(2);
    let s = secrets(&mut rng);
    let f = flow(&mut rng);
    let isn = rng.next_u32();
    let passed = (0..1_000_000)
        .filter(|_| check(&s, f, isn, rng.next_u32(), 1000).is_some())
        .count();
    assert!(passed <= 4, "{passed} of 1,000,000 guessed cookies passed");
}

#[test]
fn every_mss_maps_to_the_largest_table_value_at_most_it() {
    for mss in 0..=u16::MAX {
        let m = MSS_TABLE[mss_index(mss) as usize];
        if mss >= MSS_TABLE[0] {
            assert!(m <= mss);
            assert!(MSS_TABLE.iter().all(|&t| t <= m || t > mss), "{mss} -> {m}");
        } else {
            assert_eq!(m, MSS_TABLE[0]);
        }
    }
}

#[test]
fn the_count_is_minutes() {
    assert_eq!(count_at(0), 0);
    assert_eq!(count_at(59), 0);
    assert_eq!(count_at(60), 1);
}

#[test]
fn options_ride_in_the_timestamp_which_never_runs_ahead() {
    let mut rng = Rng::new(3);
    for _ in 0..100_000 {
        let o = Options {
            wscale: match rng.next_u32() % 16 {
                15 => None,
                w => Some(w.min(14) as u8),
            },
            sack: rng.next_u32() & 1 == 1,
            ecn: rng.next_u32() & 1 == 1,
        };
        let now = rng.next_u32();
        let ts = o.timestamp(now);
        assert!(now.wrapping_sub(ts) < 64, "{now} -> {ts}");
        assert_eq!(Options::from_timestamp(ts), o);
    }
}
