// SPDX-License-Identifier: GPL-2.0
//! Keyed hashing: SipHash-2-4 (Aumasson and Bernstein, 2012) over a byte slice.
//!
//! The connection table hashes flow keys with a random key chosen at module load, so that
//! remote hosts cannot aim their packets at one hash chain. Maglev (`sched::mh`) hashes with
//! fixed, published keys instead, so that every director builds the same lookup table.
//! SipHash is the kernel's own choice for both jobs (`siphash`, `ip_vs_mh`).

/// A 128-bit SipHash key, as two little-endian 64-bit halves.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SipKey {
    /// Key bytes 0..8, little-endian.
    pub k0: u64,
    /// Key bytes 8..16, little-endian.
    pub k1: u64,
}

impl SipKey {
    /// The key made of `k0` and `k1`.
    pub const fn new(k0: u64, k1: u64) -> Self {
        Self { k0, k1 }
    }
}

/// SipHash-2-4 of `data` under `key`: the 64-bit output of the reference implementation.
pub fn siphash24(key: SipKey, data: &[u8]) -> u64 {
    let mut s = State {
        v0: key.k0 ^ 0x736f_6d65_7073_6575,
        v1: key.k1 ^ 0x646f_7261_6e64_6f6d,
        v2: key.k0 ^ 0x6c79_6765_6e65_7261,
        v3: key.k1 ^ 0x7465_6462_7974_6573,
    };
    let mut chunks = data.chunks_exact(8);
    for chunk in &mut chunks {
        s.compress(le_word(chunk));
    }
    // The last word: the remaining 0..=7 bytes, and the length's low byte on top.
    let len_byte = (data.len() as u64) << 56;
    s.compress(le_word(chunks.remainder()) | len_byte);
    s.v2 ^= 0xff;
    for _ in 0..4 {
        s.round();
    }
    s.v0 ^ s.v1 ^ s.v2 ^ s.v3
}

struct State {
    v0: u64,
    v1: u64,
    v2: u64,
    v3: u64,
}

impl State {
    fn round(&mut self) {
        self.v0 = self.v0.wrapping_add(self.v1);
        self.v1 = self.v1.rotate_left(13) ^ self.v0;
        self.v0 = self.v0.rotate_left(32);
        self.v2 = self.v2.wrapping_add(self.v3);
        self.v3 = self.v3.rotate_left(16) ^ self.v2;
        self.v0 = self.v0.wrapping_add(self.v3);
        self.v3 = self.v3.rotate_left(21) ^ self.v0;
        self.v2 = self.v2.wrapping_add(self.v1);
        self.v1 = self.v1.rotate_left(17) ^ self.v2;
        self.v2 = self.v2.rotate_left(32);
    }

    /// Mixes in one message word with the two "c" rounds of SipHash-2-4.
    fn compress(&mut self, m: u64) {
        self.v3 ^= m;
        self.round();
        self.round();
        self.v0 ^= m;
    }
}

/// Up to 8 bytes read as a little-endian integer.
fn le_word(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .rev()
        .fold(0, |acc, &b| (acc << 8) | u64::from(b))
}
