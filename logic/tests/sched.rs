// SPDX-License-Identifier: GPL-2.0
//! Schedulers: rr, wrr, lc, wlc with the kernel's semantics, and Maglev (`mh`): identical
//! tables on every director, bounded disruption, weights honoured.
//!
//! The `measured_*` tests print the numbers quoted in `logic/README.md`; run with
//! `cargo test -p ipvsd-logic --test sched -- --nocapture` to see them.

mod common;

use common::Rng;
use ipvsd_logic::sched::mh::{self, MhError, Perm, DEFAULT_TABLE_SIZE, EMPTY};
use ipvsd_logic::sched::rr::RoundRobin;
use ipvsd_logic::sched::wrr::{gcd, WeightedRoundRobin};
use ipvsd_logic::sched::{lc, Dest, RealServer, SchedKind, Scheduler};

fn servers(weights: &[u32]) -> Vec<RealServer> {
    weights
        .iter()
        .enumerate()
        .map(|(i, &weight)| RealServer {
            addr: 0xc633_6400 + i as u32 + 1,
            port: 8080,
            weight,
            active: 0,
            inactive: 0,
        })
        .collect()
}

fn picks(s: &mut Scheduler, d: &[RealServer], n: usize) -> String {
    (0..n)
        .map(|_| s.pick(d, &[], 0).map_or('-', |i| (b'A' + i as u8) as char))
        .collect()
}

#[test]
fn names_round_trip() {
    for k in SchedKind::ALL {
        assert_eq!(SchedKind::from_name(k.name().as_bytes()), Some(k));
        assert_eq!(Scheduler::new(k, &servers(&[1])).kind(), k);
    }
    assert_eq!(SchedKind::from_name(b"sh"), None);
    assert_eq!(SchedKind::from_name(b""), None);
}

#[test]
fn rr_cycles_and_skips_quiesced() {
    let d = servers(&[1, 1, 1]);
    let mut s = Scheduler::new(SchedKind::Rr, &d);
    assert_eq!(picks(&mut s, &d, 7), "ABCABCA");
    let d = servers(&[1, 0, 5, 0]);
    let mut s = Scheduler::new(SchedKind::Rr, &d);
    assert_eq!(
        picks(&mut s, &d, 5),
        "ACACA",
        "weights do not matter, only > 0"
    );
    let d = servers(&[0, 3, 0]);
    assert_eq!(
        picks(&mut s, &d, 3),
        "BBB",
        "the only one left is picked again"
    );
    let d = servers(&[0, 0]);
    assert_eq!(picks(&mut s, &d, 2), "--");
    assert_eq!(RoundRobin::new().pick::<RealServer>(&[]), None);
}

#[test]
fn rr_survives_a_shorter_list() {
    let d = servers(&[1, 1, 1, 1]);
    let mut s = RoundRobin::new();
    for _ in 0..4 {
        s.pick(&d);
    }
    let short = servers(&[1, 1]);
    s.dests_changed();
    assert!(matches!(s.pick(&short), Some(0 | 1)));
}

#[test]
fn wrr_3_to_1_is_the_exact_kernel_sequence() {
    let d = servers(&[3, 1]);
    let mut s = Scheduler::new(SchedKind::Wrr, &d);
    assert_eq!(picks(&mut s, &d, 12), "AAABAAABAAAB");
}

#[test]
fn wrr_interleaves_by_gcd() {
    // ip_vs_wrr.c's own example: weights 4, 3, 2 give A A B A B C A B C.
    let d = servers(&[4, 3, 2]);
    let mut s = Scheduler::new(SchedKind::Wrr, &d);
    assert_eq!(picks(&mut s, &d, 18), "AABABCABCAABABCABC");
    // Weights with a common factor step by the gcd: 6:4:2 behaves as 3:2:1.
    let d = servers(&[6, 4, 2]);
    let mut s = Scheduler::new(SchedKind::Wrr, &d);
    assert_eq!(picks(&mut s, &d, 12), "AABABCAABABC");
    // Equal weights are plain round robin.
    let d = servers(&[5, 5, 5]);
    let mut s = Scheduler::new(SchedKind::Wrr, &d);
    assert_eq!(picks(&mut s, &d, 6), "ABCABC");
}

#[test]
fn wrr_quiesced_and_empty() {
    let d = servers(&[0, 2, 0, 1]);
    let mut s = Scheduler::new(SchedKind::Wrr, &d);
    assert_eq!(picks(&mut s, &d, 6), "BBDBBD");
    let d = servers(&[0, 0]);
    let mut s = Scheduler::new(SchedKind::Wrr, &d);
    assert_eq!(picks(&mut s, &d, 3), "---");
    assert_eq!(
        WeightedRoundRobin::new::<RealServer>(&[]).pick::<RealServer>(&[]),
        None
    );
}

#[test]
fn wrr_follows_weight_changes() {
    let mut d = servers(&[1, 1]);
    let mut s = Scheduler::new(SchedKind::Wrr, &d);
    assert_eq!(picks(&mut s, &d, 4), "ABAB");
    d[0].weight = 3;
    s.dests_changed(&d);
    // As the kernel: back to the list head, the current weight (1) kept, so the first
    // round finishes at weight 1 before the 3:1 pattern starts.
    assert_eq!(picks(&mut s, &d, 10), "ABAAABAAAB");
    d[0].weight = 0;
    s.dests_changed(&d);
    assert_eq!(picks(&mut s, &d, 3), "BBB");
    // Weights changed without telling the scheduler still terminate, and never pick
    // weight 0.
    d[1].weight = 0;
    assert_eq!(picks(&mut s, &d, 3), "---");
}

#[test]
fn property_wrr_cycle_counts_equal_weights_over_gcd() {
    let mut rng = Rng::new(0x77);
    for _ in 0..300 {
        let n = rng.range(1, 8) as usize;
        let g = rng.range(1, 4) as u32;
        let w: Vec<u32> = (0..n).map(|_| g * rng.range(0, 12) as u32).collect();
        let d = servers(&w);
        let mut s = WeightedRoundRobin::new(&d);
        let gg = w.iter().fold(0i64, |a, &b| gcd(a, i64::from(b)));
        if gg == 0 {
            assert_eq!(s.pick(&d), None);
            continue;
        }
        let cycle: u64 = w.iter().map(|&x| u64::from(x) / gg as u64).sum();
        let mut counts = vec![0u64; n];
        for _ in 0..cycle * 3 {
            counts[s.pick(&d).unwrap()] += 1;
        }
        for i in 0..n {
            assert_eq!(counts[i], 3 * u64::from(w[i]) / gg as u64, "weights {w:?}");
        }
    }
}

#[test]
fn lc_takes_least_overhead_active_times_256_plus_inactive() {
    let mut d = servers(&[1, 1, 1]);
    d[0].active = 1; // overhead 256
    d[1].inactive = 255; // overhead 255
    d[2].inactive = 256; // overhead 256
    assert_eq!(lc::overhead(&d[0]), 256);
    assert_eq!(lc::pick_lc(&d), Some(1));
    d[1].inactive = 256;
    assert_eq!(lc::pick_lc(&d), Some(0), "ties go to the first");
    d[0].weight = 0;
    assert_eq!(lc::pick_lc(&d), Some(1), "quiesced servers are skipped");
    assert_eq!(lc::pick_lc(&servers(&[0, 0])), None);
    assert_eq!(lc::pick_lc::<RealServer>(&[]), None);
    d[2].active = u32::MAX;
    d[2].inactive = u32::MAX;
    assert_eq!(
        lc::overhead(&d[2]),
        (u64::from(u32::MAX) << 8) + u64::from(u32::MAX)
    );
}

#[test]
fn wlc_takes_least_overhead_per_weight() {
    let mut d = servers(&[1, 3, 2]);
    d[0].active = 1; // 256 / 1 = 256
    d[1].active = 2; // 512 / 3 ≈ 171
    d[2].active = 1; // 256 / 2 = 128
    assert_eq!(lc::pick_wlc(&d), Some(2));
    d[2].active = 2; // 512 / 2 = 256
    assert_eq!(lc::pick_wlc(&d), Some(1));
    // Ties go to the first: 0/1 = 0/3.
    let d = servers(&[1, 3]);
    assert_eq!(lc::pick_wlc(&d), Some(0));
    assert_eq!(lc::pick_wlc(&servers(&[0, 0])), None);
    // Extreme values do not overflow.
    let mut d = servers(&[u32::MAX, 1]);
    d[0].active = u32::MAX;
    d[0].inactive = u32::MAX;
    assert_eq!(lc::pick_wlc(&d), Some(1));
}

#[test]
fn property_wlc_is_the_first_minimum_of_overhead_over_weight() {
    let mut rng = Rng::new(0x3c);
    for _ in 0..20_000 {
        let n = rng.range(1, 6) as usize;
        let d: Vec<RealServer> = (0..n)
            .map(|i| RealServer {
                addr: i as u32,
                port: 1,
                weight: rng.below(4) as u32,
                active: rng.below(4) as u32,
                inactive: rng.below(600) as u32,
            })
            .collect();
        // Independent: compare overhead/weight as exact fractions, first minimum wins.
        let mut best: Option<(usize, i128, i128)> = None;
        for (i, s) in d.iter().enumerate() {
            if s.weight == 0 {
                continue;
            }
            let oh = i128::from(s.active) * 256 + i128::from(s.inactive);
            let w = i128::from(s.weight);
            if best.is_none_or(|(_, bo, bw)| oh * bw < bo * w) {
                best = Some((i, oh, w));
            }
        }
        assert_eq!(lc::pick_wlc(&d), best.map(|b| b.0), "{d:?}");
        let mut best_lc: Option<(usize, i128)> = None;
        for (i, s) in d.iter().enumerate() {
            let oh = i128::from(s.active) * 256 + i128::from(s.inactive);
            if s.weight > 0 && best_lc.is_none_or(|(_, b)| oh < b) {
                best_lc = Some((i, oh));
            }
        }
        assert_eq!(lc::pick_lc(&d), best_lc.map(|b| b.0));
    }
}

/// Simulates `conns` connections arriving one per tick, each established for a random
/// lifetime and then in TIME_WAIT (inactive) for 120 ticks, and returns each server's
/// share of them.
fn simulate(kind: SchedKind, weights: &[u32], conns: usize, seed: u64) -> Vec<f64> {
    let mut rng = Rng::new(seed);
    let mut d = servers(weights);
    let mut s = Scheduler::new(kind, &d);
    let mut established: Vec<(u64, usize)> = Vec::new();
    let mut time_wait: Vec<(u64, usize)> = Vec::new();
    let mut counts = vec![0u64; d.len()];
    for t in 0..conns as u64 {
        established.retain(|&(end, i)| {
            let open = end > t;
            if !open {
                d[i].active -= 1;
                d[i].inactive += 1;
                time_wait.push((t + 120, i));
            }
            open
        });
        time_wait.retain(|&(end, i)| {
            let open = end > t;
            if !open {
                d[i].inactive -= 1;
            }
            open
        });
        let i = s.pick(&d, &[], 0).unwrap();
        counts[i] += 1;
        d[i].active += 1;
        established.push((t + rng.range(50, 400), i));
    }
    counts.iter().map(|&c| c as f64 / conns as f64).collect()
}

fn expected_shares(weights: &[u32]) -> Vec<f64> {
    let sum: u32 = weights.iter().sum();
    weights
        .iter()
        .map(|&w| f64::from(w) / f64::from(sum))
        .collect()
}

fn fmt(v: &[f64]) -> String {
    v.iter()
        .map(|x| format!("{:.2}%", x * 100.0))
        .collect::<Vec<_>>()
        .join(" / ")
}

#[test]
fn measured_distribution_of_rr_wrr_lc_wlc() {
    let weights = [1, 2, 3, 4];
    let n = 100_000;
    for (kind, want, tol) in [
        (SchedKind::Rr, vec![0.25; 4], 0.0001),
        (SchedKind::Wrr, expected_shares(&weights), 0.0001),
        (SchedKind::Lc, vec![0.25; 4], 0.01),
        (SchedKind::Wlc, expected_shares(&weights), 0.01),
    ] {
        let got = simulate(kind, &weights, n, 42);
        println!(
            "{:>3} weights {weights:?}, {n} connections: {}",
            kind.name(),
            fmt(&got)
        );
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() <= tol, "{}: share {g} vs {w}", kind.name());
        }
    }
}

// ---------------------------------------------------------------------------------------
// Maglev

fn build(d: &[RealServer], m: usize) -> Vec<u16> {
    let mut table = vec![0u16; m];
    let mut scratch = vec![Perm::default(); d.len()];
    mh::populate(d, &mut table, &mut scratch).unwrap();
    table
}

/// Slot → server identity (address), so that tables of different lists compare.
fn owners(d: &[RealServer], table: &[u16]) -> Vec<u32> {
    table
        .iter()
        .map(|&i| {
            if i == EMPTY {
                0
            } else {
                d[usize::from(i)].addr
            }
        })
        .collect()
}

#[test]
fn mh_table_size_is_checked() {
    assert!(mh::is_prime(65_537) && mh::is_prime(251) && mh::is_prime(2));
    assert!(!mh::is_prime(65_536) && !mh::is_prime(1) && !mh::is_prime(0) && !mh::is_prime(65_535));
    let d = servers(&[1, 1]);
    let mut scratch = vec![Perm::default(); 2];
    for bad in [0, 1, 4, 65_535, 65_536] {
        let mut t = vec![0u16; bad];
        assert_eq!(
            mh::populate(&d, &mut t, &mut scratch),
            Err(MhError::NotPrime),
            "size {bad}"
        );
    }
    let mut t = vec![0u16; mh::MAX_TABLE_SIZE + 1];
    assert_eq!(
        mh::populate(&d, &mut t, &mut scratch),
        Err(MhError::TooLarge)
    );
    let mut t = vec![0u16; 251];
    assert_eq!(
        mh::populate(&d, &mut t, &mut scratch[..1]),
        Err(MhError::TooManyDests)
    );
    assert_eq!(mh::populate(&d, &mut t, &mut scratch), Ok(2));
    assert!(t.iter().all(|&i| i < 2));
}

#[test]
fn mh_identical_on_every_director_whatever_the_order() {
    let mut rng = Rng::new(0x6d68);
    for n in [1, 2, 3, 7, 20, 100] {
        let mut d: Vec<RealServer> = (0..n)
            .map(|i| RealServer {
                addr: 0x0a00_0000 | rng.next_u32() >> 8,
                port: 80 + (i % 3) as u16,
                weight: rng.range(1, 5) as u32,
                ..Default::default()
            })
            .collect();
        let a = build(&d, DEFAULT_TABLE_SIZE);
        let b = build(&d, DEFAULT_TABLE_SIZE);
        assert_eq!(a, b, "two builds from the same list");
        let before = owners(&d, &a);
        // Another director that added the same servers in another order.
        for i in (1..d.len()).rev() {
            d.swap(i, rng.below(i as u64 + 1) as usize);
        }
        let c = build(&d, DEFAULT_TABLE_SIZE);
        assert_eq!(owners(&d, &c), before, "same servers, other order");
        assert!(a.iter().all(|&i| i != EMPTY));
    }
}

#[test]
fn mh_fixed_keys_give_a_stable_table() {
    // Guards the on-the-wire behaviour: directors running different builds must agree.
    let d = servers(&[1, 1, 1]);
    let t = build(&d, 251);
    let digest = t
        .iter()
        .fold(0u64, |h, &x| h.wrapping_mul(31).wrapping_add(u64::from(x)));
    let counts: Vec<usize> = (0..3)
        .map(|i| t.iter().filter(|&&x| x == i).count())
        .collect();
    assert_eq!(counts.iter().sum::<usize>(), 251);
    assert!(counts.iter().all(|&c| (83..=84).contains(&c)), "{counts:?}");
    assert_eq!(
        digest,
        mh_digest_251(),
        "the mh table changed: every director must upgrade at once"
    );
}

/// The digest of `servers(&[1, 1, 1])`'s table of size 251, recorded when the keys were
/// chosen.
fn mh_digest_251() -> u64 {
    18_228_476_013_394_537_888
}

/// Fraction of slots whose server changed between two tables (by server identity).
fn disruption(a: &[u32], b: &[u32]) -> f64 {
    a.iter().zip(b).filter(|(x, y)| x != y).count() as f64 / a.len() as f64
}

#[test]
fn measured_mh_disruption_when_one_server_goes() {
    let mut rng = Rng::new(0xd15);
    for n in [3usize, 5, 10, 20, 50, 100] {
        let mut worst: f64 = 0.0;
        let mut total = 0.0;
        let trials = 10;
        for _ in 0..trials {
            let d: Vec<RealServer> = (0..n)
                .map(|_| RealServer {
                    addr: rng.next_u32() | 1,
                    port: 80,
                    weight: 1,
                    ..Default::default()
                })
                .collect();
            let before = owners(&d, &build(&d, DEFAULT_TABLE_SIZE));
            let mut fewer = d.clone();
            fewer.remove(rng.below(n as u64) as usize);
            let after = owners(&fewer, &build(&fewer, DEFAULT_TABLE_SIZE));
            let moved = disruption(&before, &after);
            worst = worst.max(moved);
            total += moved;
        }
        let ideal = 1.0 / n as f64;
        println!(
            "mh: remove 1 of {n:>3}: ideal {:.2}%, mean {:.2}%, worst {:.2}% of slots moved (excess {:.2}%)",
            ideal * 100.0,
            total / trials as f64 * 100.0,
            worst * 100.0,
            (worst - ideal) * 100.0
        );
        assert!(
            worst <= ideal * 1.5 + 0.01,
            "removing 1 of {n} moved {worst}"
        );
    }
}

#[test]
fn measured_mh_weights_are_honoured() {
    let mut rng = Rng::new(0x3e1);
    for weights in [
        vec![1u32, 1, 1, 1],
        vec![1, 2, 3, 4],
        vec![1, 10],
        vec![5, 0, 5],
        vec![100, 1, 37, 2, 60],
    ] {
        let d = servers(&weights);
        let table = build(&d, DEFAULT_TABLE_SIZE);
        let sum: u64 = weights.iter().map(|&w| u64::from(w)).sum();
        let mut worst_slots: f64 = 0.0;
        for (i, &w) in weights.iter().enumerate() {
            let got = table.iter().filter(|&&x| usize::from(x) == i).count() as f64;
            let want = DEFAULT_TABLE_SIZE as f64 * w as f64 / sum as f64;
            worst_slots = worst_slots.max((got - want).abs());
            assert!(
                (got - want).abs() <= 2.0,
                "weights {weights:?}: server {i} has {got} slots, want {want}"
            );
        }
        // And the clients: shares of 200,000 random sources.
        let mut hits = vec![0u64; weights.len()];
        for _ in 0..200_000 {
            let h = mh::source_hash(rng.next_u32(), 0);
            hits[mh::pick(&table, &d, h).unwrap()] += 1;
        }
        let shares: Vec<f64> = hits.iter().map(|&h| h as f64 / 200_000.0).collect();
        let worst_share = shares
            .iter()
            .zip(&weights)
            .map(|(s, &w)| (s - w as f64 / sum as f64).abs())
            .fold(0.0, f64::max);
        println!(
            "mh: weights {weights:?}: table slots within {worst_slots:.1} of M·w/Σw; client shares {} (max error {:.2} points)",
            fmt(&shares),
            worst_share * 100.0
        );
        assert!(worst_share < 0.01);
    }
}

#[test]
fn mh_quiesced_and_removed_servers_fall_back_deterministically() {
    let mut d = servers(&[1, 1, 1, 1]);
    let table = build(&d, 251);
    d[2].weight = 0;
    let mut rng = Rng::new(5);
    for _ in 0..5_000 {
        let h = rng.next_u64();
        let got = mh::pick(&table, &d, h).unwrap();
        assert_ne!(got, 2);
        assert_eq!(mh::pick(&table, &d, h), Some(got), "deterministic");
        if mh::lookup(&table, h) != Some(2) {
            assert_eq!(Some(got), mh::lookup(&table, h), "others keep their server");
        }
    }
    // A server removed from the list (index now out of range) also falls back.
    let short = &d[..2];
    for _ in 0..1000 {
        assert!(mh::pick(&table, short, rng.next_u64()).unwrap() < 2);
    }
    d.iter_mut().for_each(|s| s.weight = 0);
    assert_eq!(mh::pick(&table, &d, 1), None);
    assert_eq!(mh::pick(&[], &d, 1), None);
    assert_eq!(mh::lookup(&[], 1), None);
}

#[test]
fn mh_all_quiesced_builds_an_empty_table() {
    let d = servers(&[0, 0]);
    let mut t = vec![7u16; 251];
    assert_eq!(mh::populate(&d, &mut t, &mut []), Ok(0));
    assert!(t.iter().all(|&x| x == EMPTY));
    assert_eq!(mh::lookup(&t, 3), None);
}

#[test]
fn mh_through_the_scheduler() {
    let d = servers(&[1, 1, 1]);
    let table = build(&d, DEFAULT_TABLE_SIZE);
    let mut s = Scheduler::new(SchedKind::Mh, &d);
    let h = mh::source_hash(0xc000_0201, 0);
    let first = s.pick(&d, &table, h);
    assert!(first.is_some());
    for _ in 0..10 {
        assert_eq!(s.pick(&d, &table, h), first, "same client, same server");
    }
    assert_ne!(
        mh::source_hash(0xc000_0201, 1),
        h,
        "ports are hashed when given"
    );
}

#[test]
fn dest_trait_reads_the_record() {
    let s = RealServer {
        addr: 1,
        port: 2,
        weight: 3,
        active: 4,
        inactive: 5,
    };
    assert_eq!(
        (
            s.addr(),
            s.port(),
            s.weight(),
            s.active_conns(),
            s.inactive_conns()
        ),
        (1, 2, 3, 4, 5)
    );
}
