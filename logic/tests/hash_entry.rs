// SPDX-License-Identifier: GPL-2.0
//! SipHash-2-4 against its reference vectors, and the connection entry.

mod common;

use common::Rng;
use ipvsd_logic::entry::{Entry, EntryFlags, FlowKey, Protocol, Target, NIL};
use ipvsd_logic::hash::{siphash24, SipKey};
use ipvsd_logic::tcp_state::{Direction, TcpState};
use ipvsd_logic::timeouts::{TimeoutRow, Timeouts};
use ipvsd_logic::wheel::Wheel;
use std::hash::Hasher;

/// The reference key: bytes 00..0f.
const KEY: SipKey = SipKey::new(0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908);

#[test]
fn siphash_reference_vectors() {
    let msg: Vec<u8> = (0..64).collect();
    // The SipHash paper, appendix A: 15 bytes 00..0e.
    assert_eq!(siphash24(KEY, &msg[..15]), 0xa129_ca61_49be_45e5);
    // The reference implementation's vectors.h, first entry (empty message).
    assert_eq!(siphash24(KEY, &[]), 0x726f_db47_dd0e_0e31);
}

#[test]
#[allow(deprecated)]
fn siphash_matches_std_siphasher_on_random_input() {
    let mut rng = Rng::new(0x51);
    for _ in 0..20_000 {
        let key = SipKey::new(rng.next_u64(), rng.next_u64());
        let mut data = vec![0u8; rng.below(80) as usize];
        rng.fill(&mut data);
        let mut h = std::hash::SipHasher::new_with_keys(key.k0, key.k1);
        h.write(&data);
        assert_eq!(siphash24(key, &data), h.finish());
    }
}

fn key() -> FlowKey {
    FlowKey {
        saddr: 0xc000_0201,
        daddr: 0xcb00_710a,
        sport: 40000,
        dport: 80,
        protocol: Protocol::Tcp,
    }
}

const TARGET: Target = Target {
    rs_addr: 0xc633_6402,
    rs_port: 8080,
    rs_index: 3,
    service: 1,
};

#[test]
fn entry_fits_128_bytes() {
    println!("size_of::<Entry>() = {}", std::mem::size_of::<Entry>());
    assert!(std::mem::size_of::<Entry>() <= 128);
}

#[test]
fn entry_keys_in_both_directions() {
    let e = Entry::new(&key(), &TARGET, 77);
    assert_eq!(e.in_key(), key());
    let out = e.out_key();
    assert_eq!(
        (out.saddr, out.sport, out.daddr, out.dport),
        (0xc633_6402, 8080, 0xc000_0201, 40000)
    );
    assert_eq!(out.protocol, Protocol::Tcp);
    assert_eq!((e.created, e.last_seen, e.state), (77, 77, TcpState::None));
    assert_eq!((e.next_in, e.next_out), (NIL, NIL));
    assert!(!e.timer.is_armed());
    assert_eq!(
        (e.rs_index, e.service, e.flags),
        (3, 1, EntryFlags::default())
    );
    assert_eq!(
        key().to_bytes(),
        [192, 0, 2, 1, 203, 0, 113, 10, 0x9c, 0x40, 0, 80, 6]
    );
}

#[test]
fn flow_hash_is_keyed_and_covers_every_field() {
    let k = key();
    let secret = SipKey::new(1, 2);
    let h = k.hash(secret);
    assert_ne!(k.hash(SipKey::new(1, 3)), h);
    for other in [
        FlowKey {
            saddr: k.saddr ^ 1,
            ..k
        },
        FlowKey {
            daddr: k.daddr ^ 1,
            ..k
        },
        FlowKey {
            sport: k.sport ^ 1,
            ..k
        },
        FlowKey {
            dport: k.dport ^ 1,
            ..k
        },
        FlowKey {
            protocol: Protocol::Udp,
            ..k
        },
    ] {
        assert_ne!(other.hash(secret), h);
    }
}

#[test]
fn entry_timeouts_counters_and_flags() {
    let mut e = Entry::new(&key(), &TARGET, 0);
    e.state = TcpState::Established;
    assert_eq!(e.timeout_row(), TimeoutRow::Tcp(TcpState::Established));
    assert_eq!(Timeouts::NORMAL.secs(e.timeout_row()), 900);
    let u = Entry::new(
        &FlowKey {
            protocol: Protocol::Udp,
            ..key()
        },
        &TARGET,
        0,
    );
    assert_eq!(u.timeout_row(), TimeoutRow::Udp);
    e.count(Direction::Input, 60, 5);
    e.count(Direction::Output, 1500, 6);
    e.count(Direction::Output, 40, 9);
    assert_eq!(
        (
            e.packets_in,
            e.bytes_in,
            e.packets_out,
            e.bytes_out,
            e.last_seen
        ),
        (1, 60, 2, 1540, 9)
    );
    e.bytes_in = u64::MAX;
    e.count(Direction::Input, 2, 10);
    assert_eq!(e.bytes_in, 1, "counters wrap, never panic");
    e.flags.set(EntryFlags::LOCAL | EntryFlags::HASHED);
    assert!(e.flags.has(EntryFlags::LOCAL) && e.flags.has(EntryFlags::HASHED));
    e.flags.clear(EntryFlags::LOCAL);
    assert!(!e.flags.has(EntryFlags::LOCAL) && e.flags.has(EntryFlags::HASHED));
    assert_eq!(Protocol::from_number(17), Some(Protocol::Udp));
    assert_eq!(Protocol::from_number(1), None);
    assert_eq!(Protocol::Tcp.number(), 6);
}

#[test]
fn entries_ride_the_wheel_directly() {
    let mut table = vec![Entry::default(); 3];
    let mut wheel = Wheel::new(100);
    wheel.arm(&mut table, 1, 150).unwrap();
    wheel.arm(&mut table, 2, 120).unwrap();
    assert_eq!(table[1].timer.expires(), Some(150));
    assert_eq!(wheel.pop_expired(&mut table, 149), Some(2));
    assert_eq!(wheel.pop_expired(&mut table, 149), None);
    assert_eq!(wheel.pop_expired(&mut table, 150), Some(1));
}
