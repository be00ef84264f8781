// SPDX-License-Identifier: GPL-2.0
use ipvsd_logic::known::KnownClients;
use std::sync::atomic::AtomicU64;

fn slots(n: usize) -> Vec<AtomicU64> {
    (0..n).map(|_| AtomicU64::new(0)).collect()
}

#[test]
fn remembers_for_the_ttl_only() {
    let s = slots(1024);
    let k = KnownClients::new(&s, 0x1234_5678_9abc_def0);
    let a = u32::from_be_bytes([192, 0, 2, 2]);
    assert!(!k.contains(a, 100));
    k.remember(a, 100, 30);
    assert!(k.contains(a, 100));
    assert!(k.contains(a, 129));
    assert!(!k.contains(a, 130));
    // Refreshing extends it.
    k.remember(a, 120, 30);
    assert!(k.contains(a, 149));
}

#[test]
fn ttl_zero_address_zero_and_empty_tables_remember_nothing() {
    let s = slots(64);
    let k = KnownClients::new(&s, 7);
    k.remember(5, 10, 0);
    assert!(!k.contains(5, 10));
    k.remember(0, 10, 100);
    assert!(!k.contains(0, 10));
    let none = slots(0);
    let e = KnownClients::new(&none, 7);
    e.remember(5, 10, 100);
    assert!(!e.contains(5, 10));
}

#[test]
fn never_answers_for_an_address_it_was_not_told() {
    // Fill a small table far beyond its size: whatever it forgets, it never claims an
    // address it never saw (spoofed sources never get in).
    let s = slots(256);
    let k = KnownClients::new(&s, 99);
    for a in 1..=10_000u32 {
        k.remember(a * 2, 1000, 60);
    }
    for a in 0..=10_000u32 {
        assert!(
            !k.contains(a * 2 + 1, 1000),
            "odd address {} claimed",
            a * 2 + 1
        );
    }
    // The table keeps about as many addresses as it has slots.
    let kept = (1..=10_000u32).filter(|a| k.contains(a * 2, 1000)).count();
    assert!(kept > 128 && kept <= 256, "kept {kept}");
}

#[test]
fn below_capacity_nearly_every_client_is_kept() {
    let s = slots(4096);
    let k = KnownClients::new(&s, 0xdead_beef);
    let n = 1000u32;
    for a in 1..=n {
        k.remember(0xC000_0200 + a, 50, 300);
    }
    let kept = (1..=n).filter(|a| k.contains(0xC000_0200 + a, 50)).count();
    // Two choices per address: at a quarter load collisions in both slots are rare.
    assert!(kept >= 990, "kept {kept} of {n}");
}
