// SPDX-License-Identifier: GPL-2.0
//! The heapsort against the standard library's sort, over random and adversarial inputs.

mod common;

use common::Rng;
use ipvsd_logic::sort::{sort, sort_by_key};

#[test]
fn sorts_like_the_standard_library() {
    let mut rng = Rng::new(7);
    for len in (0..70).chain([255, 256, 257, 1000, 4096]) {
        for range in [2, 10, 1 << 20] {
            let mut v: Vec<u64> = (0..len).map(|_| rng.below(range)).collect();
            let mut want = v.clone();
            want.sort_unstable();
            sort(&mut v);
            assert_eq!(v, want, "len {len} range {range}");
        }
    }
}

#[test]
fn sorted_reversed_and_equal_inputs() {
    for len in [0usize, 1, 2, 3, 100, 1001] {
        let up: Vec<usize> = (0..len).collect();
        let mut v = up.clone();
        sort(&mut v);
        assert_eq!(v, up);
        let mut v: Vec<usize> = (0..len).rev().collect();
        sort(&mut v);
        assert_eq!(v, up);
        let mut v = vec![5u8; len];
        sort(&mut v);
        assert_eq!(v, vec![5u8; len]);
    }
}

#[test]
fn by_key_orders_by_the_key_only() {
    let mut rng = Rng::new(11);
    let mut v: Vec<(u16, u32)> = (0..500).map(|i| (rng.below(50) as u16, i)).collect();
    let mut want: Vec<u16> = v.iter().map(|p| p.0).collect();
    want.sort_unstable();
    let mut all = v.clone();
    sort_by_key(&mut v, |p| p.0);
    assert_eq!(v.iter().map(|p| p.0).collect::<Vec<_>>(), want);
    // A permutation: nothing lost or doubled.
    v.sort_unstable_by_key(|p| p.1);
    all.sort_unstable_by_key(|p| p.1);
    assert_eq!(v, all);
}
