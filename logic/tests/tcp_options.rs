// SPDX-License-Identifier: GPL-2.0
//! Handshake options: what the kernel's parser reads, what the writer lays out.

mod common;

use common::Rng;
use ipvsd_logic::tcp_options::{parse, write, Options, Timestamp, MAX_WRITTEN};

#[test]
fn reads_a_linux_syn() {
    // A SYN of Linux 6.12: MSS 1460, SACK permitted, timestamps, NOP, window scale 7.
    let syn = [
        2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0x12, 0x34, 0, 0, 0, 0, 1, 3, 3, 7,
    ];
    assert_eq!(
        parse(&syn),
        Options {
            mss: Some(1460),
            wscale: Some(7),
            sack_perm: true,
            timestamp: Some(Timestamp {
                val: 0x1234,
                ecr: 0
            }),
        }
    );
}

#[test]
fn stops_at_the_end_or_a_bad_length_and_skips_wrong_sizes() {
    // An MSS of the wrong length is ignored, the window scale after it is read.
    assert_eq!(
        parse(&[2, 3, 5, 3, 3, 2]),
        Options {
            wscale: Some(2),
            ..Options::default()
        }
    );
    // End of list: what follows is not read.
    assert_eq!(parse(&[0, 2, 4, 5, 0xb4]), Options::default());
    // A length of 0 or 1, or past the end, stops the parse.
    assert_eq!(parse(&[3, 3, 2, 2, 1, 5, 0]).wscale, Some(2));
    assert_eq!(parse(&[3, 0, 2, 4, 5, 0xb4]), Options::default());
    assert_eq!(parse(&[3, 1, 2, 4, 5, 0xb4]), Options::default());
    assert_eq!(parse(&[2, 4, 5]), Options::default());
    assert_eq!(parse(&[1, 1, 1]), Options::default());
    assert_eq!(parse(&[]), Options::default());
    // An unknown option is skipped by its length.
    assert_eq!(parse(&[30, 4, 9, 9, 2, 4, 1, 0]).mss, Some(256));
}

#[test]
fn writes_what_it_reads_back_aligned() {
    let mut rng = Rng::new(7);
    for _ in 0..10_000 {
        let o = Options {
            mss: (rng.next_u32() & 1 == 1).then(|| rng.next_u16()),
            wscale: (rng.next_u32() & 1 == 1).then(|| rng.next_u8() % 15),
            sack_perm: rng.next_u32() & 1 == 1,
            timestamp: (rng.next_u32() & 1 == 1).then(|| Timestamp {
                val: rng.next_u32(),
                ecr: rng.next_u32(),
            }),
        };
        let mut buf = [0xffu8; 64];
        let n = write(&mut buf, &o).expect("fits");
        assert!(n % 4 == 0 && n <= MAX_WRITTEN, "{n} bytes for {o:?}");
        assert_eq!(parse(&buf[..n]), o);
        // Too small a buffer is refused.
        if n > 0 {
            assert_eq!(write(&mut buf[..n - 1], &o), None);
        }
    }
}

#[test]
fn never_panics_on_any_bytes() {
    let mut rng = Rng::new(8);
    for _ in 0..200_000 {
        let n = (rng.next_u32() % 41) as usize;
        let b: Vec<u8> = (0..n).map(|_| rng.next_u8() % 12).collect();
        let _ = parse(&b);
    }
}
