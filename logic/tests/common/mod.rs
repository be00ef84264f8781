// SPDX-License-Identifier: GPL-2.0
//! Shared test helpers: a small seeded pseudo-random generator (SplitMix64), so that every
//! randomised test is reproducible and needs no dependency.
#![allow(dead_code)]

/// SplitMix64 (Steele, Lea, Flood 2014).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    pub fn next_u16(&mut self) -> u16 {
        (self.next_u64() >> 48) as u16
    }

    pub fn next_u8(&mut self) -> u8 {
        (self.next_u64() >> 56) as u8
    }

    /// Uniform in `0..n` (n > 0); the modulo bias is negligible for test sizes.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `num / den`.
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }

    pub fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            *b = self.next_u8();
        }
    }

    /// A 16-bit value biased towards the edge cases of ones' complement arithmetic.
    pub fn edgy_u16(&mut self) -> u16 {
        match self.below(8) {
            0 => 0,
            1 => 0xffff,
            2 => 0xfffe,
            3 => 1,
            _ => self.next_u16(),
        }
    }

    /// A 32-bit value built from two [`Rng::edgy_u16`] halves.
    pub fn edgy_u32(&mut self) -> u32 {
        (u32::from(self.edgy_u16()) << 16) | u32::from(self.edgy_u16())
    }
}

/// The TCP state the design document's tables write as `abbrev` (`NO` or `NONE`, `ES`, `SS`,
/// `SR`, `FW`, `TW`, `CL`, `CW`, `LA`, `LI`, `SA`).
pub fn state_by_abbrev(abbrev: &str) -> Option<ipvsd_logic::tcp_state::TcpState> {
    use ipvsd_logic::tcp_state::TcpState;
    Some(match abbrev {
        "NO" | "NONE" => TcpState::None,
        "ES" => TcpState::Established,
        "SS" => TcpState::SynSent,
        "SR" => TcpState::SynRecv,
        "FW" => TcpState::FinWait,
        "TW" => TcpState::TimeWait,
        "CL" => TcpState::Close,
        "CW" => TcpState::CloseWait,
        "LA" => TcpState::LastAck,
        "LI" => TcpState::Listen,
        "SA" => TcpState::SynAck,
        _ => return None,
    })
}
