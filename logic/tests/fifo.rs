// SPDX-License-Identifier: GPL-2.0
//! The bounded FIFO against a `VecDeque` model, over random pushes and pops.

mod common;

use common::Rng;
use ipvsd_logic::fifo::Fifo;
use std::collections::VecDeque;

#[test]
fn keeps_order_and_forgets_the_oldest_when_full() {
    let mut slots = [0u32; 3];
    let mut q = Fifo::new();
    assert_eq!(q.pop(&slots), None);
    for v in 1..=3 {
        assert_eq!(q.push(&mut slots, v), None);
    }
    assert_eq!(
        q.push(&mut slots, 4),
        Some(1),
        "full: the oldest makes room"
    );
    assert_eq!(q.len(), 3);
    assert_eq!(q.front(&slots), Some(2));
    assert_eq!(
        (q.pop(&slots), q.pop(&slots), q.pop(&slots)),
        (Some(2), Some(3), Some(4))
    );
    assert!(q.is_empty());
    assert_eq!(
        Fifo::new().push(&mut [0u32; 0], 7),
        Some(7),
        "no storage keeps nothing"
    );
}

#[test]
fn matches_a_model_over_random_operations() {
    let mut rng = Rng::new(11);
    for cap in [1usize, 2, 5, 64] {
        let mut slots = vec![0u64; cap];
        let mut q = Fifo::new();
        let mut model = VecDeque::new();
        for step in 0..20_000u64 {
            if rng.next_u32() % 3 == 0 {
                assert_eq!(q.pop(&slots), model.pop_front(), "cap {cap} step {step}");
            } else {
                let dropped = if model.len() == cap {
                    model.pop_front()
                } else {
                    None
                };
                model.push_back(step);
                assert_eq!(q.push(&mut slots, step), dropped, "cap {cap} step {step}");
            }
            assert_eq!(q.len(), model.len());
            assert_eq!(q.front(&slots), model.front().copied());
        }
    }
}
