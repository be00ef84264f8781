// SPDX-License-Identifier: GPL-2.0
//! SipHash-2-4 against its reference vectors, and the connection entry.

mod common;

use common::Rng;
use ipvsd_logic::entry::{
    chain_hash, client_hash, Entry, EntryFlags, FlowKey, Protocol, Target, NIL,
};
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
    assert_eq!((e.created, e.state), (77, TcpState::None));
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
fn flow_place_is_keyed_shared_by_both_directions_and_covers_every_field() {
    let k = key();
    let secret = SipKey::new(1, 2);
    let p = k.place(Direction::Input, secret);
    assert_ne!(k.place(Direction::Input, SipKey::new(1, 3)), p);
    // The reply of the same flow (real server -> client) is in the same shard.
    let reply = FlowKey {
        saddr: 0xc633_6402,
        daddr: k.saddr,
        sport: 8080,
        dport: k.sport,
        protocol: k.protocol,
    };
    let r = reply.place(Direction::Output, secret);
    assert_eq!(r.client, p.client);
    assert_ne!(r.chain, p.chain);
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
        assert_ne!(other.place(Direction::Input, secret).chain, p.chain);
    }
}

#[test]
fn chain_hash_spreads_one_clients_flows_over_buckets() {
    // One client, 1024 peers differing only in address (or only in port): the low 10 bits
    // (a table of 1024 buckets) take most of their values.
    let c = client_hash((0xc000_0201, 40000), SipKey::new(5, 6));
    for vary in [
        |i: u32| (0xcb00_7100 + i, 80u16),
        |i: u32| (0xcb00_7164, i as u16),
    ] {
        let mut seen = [false; 1024];
        for i in 0..1024 {
            seen[(chain_hash(c, vary(i), Protocol::Tcp) & 1023) as usize] = true;
        }
        let n = seen.iter().filter(|&&b| b).count();
        assert!(n > 550, "{n} of 1024 buckets used");
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
    assert_eq!(wheel.expires(&table[1].timer), Some(150));
    assert_eq!(wheel.pop_expired(&mut table, 149), Some(2));
    assert_eq!(wheel.pop_expired(&mut table, 149), None);
    assert_eq!(wheel.pop_expired(&mut table, 150), Some(1));
}
