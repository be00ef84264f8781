// SPDX-License-Identifier: GPL-2.0
//! Entry timeouts: one value per TCP state plus one for UDP, in a normal and a defense set,
//! each a sysctl in `1..=2147483` seconds, and their conversion to ticks
//! (Documentation/ipvs-defense.rst, "States and timeouts").
//!
//! The upper bound is `i32::MAX / 1000`: the largest number of seconds whose jiffies still
//! fit an `int` at HZ = 1000, as for the kernel's `proc_dointvec_jiffies`. Conversions here
//! are done in `u64` and saturate, so no HZ and no value can overflow them.

use super::names::{ascii, c_suffix};
use super::sysctl::IntRange;
use super::tcp_state::{TcpState, STATE_COUNT};
use core::ffi::CStr;

/// Smallest accepted timeout, in seconds.
pub const MIN_SECS: u32 = 1;
/// Largest accepted timeout, in seconds.
pub const MAX_SECS: u32 = 2_147_483;
/// The sysctl range of every `timeout_*` and `defense_timeout_*` entry.
pub const RANGE: IntRange = IntRange::new(MIN_SECS as i64, MAX_SECS as i64);

/// Number of timeout rows: the 11 TCP states and UDP.
pub const ROW_COUNT: usize = STATE_COUNT + 1;

/// One row of the timeout table: a TCP state, or UDP (which has a single timeout).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimeoutRow {
    /// The timeout of a TCP entry in this state.
    Tcp(TcpState),
    /// The timeout of a UDP entry.
    Udp,
}

impl TimeoutRow {
    /// Every row, TCP states in [`TcpState::ALL`] order, then UDP.
    pub const ALL: [TimeoutRow; ROW_COUNT] = {
        let mut rows = [TimeoutRow::Udp; ROW_COUNT];
        let mut i = 0;
        while i < STATE_COUNT {
            rows[i] = TimeoutRow::Tcp(TcpState::ALL[i]);
            i += 1;
        }
        rows
    };

    /// Position of the row in [`TimeoutRow::ALL`] (always below [`ROW_COUNT`]).
    pub const fn index(self) -> usize {
        match self {
            TimeoutRow::Tcp(s) => s as usize,
            TimeoutRow::Udp => STATE_COUNT,
        }
    }

    /// The sysctl file of the row's timeout while defense is engaged:
    /// `defense_timeout_<name>`.
    pub const fn defense_sysctl_name(self) -> &'static CStr {
        match self {
            TimeoutRow::Tcp(s) => match s {
                TcpState::None => c"defense_timeout_none",
                TcpState::Established => c"defense_timeout_established",
                TcpState::SynSent => c"defense_timeout_syn_sent",
                TcpState::SynRecv => c"defense_timeout_syn_recv",
                TcpState::FinWait => c"defense_timeout_fin_wait",
                TcpState::TimeWait => c"defense_timeout_time_wait",
                TcpState::Close => c"defense_timeout_close",
                TcpState::CloseWait => c"defense_timeout_close_wait",
                TcpState::LastAck => c"defense_timeout_last_ack",
                TcpState::Listen => c"defense_timeout_listen",
                TcpState::SynAck => c"defense_timeout_synack",
            },
            TimeoutRow::Udp => c"defense_timeout_udp",
        }
    }

    /// The sysctl file of the row's normal timeout: `timeout_<name>`.
    pub const fn sysctl_name(self) -> &'static CStr {
        c_suffix(self.defense_sysctl_name(), "defense_".len())
    }

    /// The row's name: lower-case state names as `ipvsadm -c` shows them (`established`,
    /// `syn_recv`, ...), and `udp`; the sysctl names are `timeout_<name>` and
    /// `defense_timeout_<name>`.
    pub const fn name(self) -> &'static str {
        ascii(c_suffix(self.defense_sysctl_name(), "defense_timeout_".len()).to_bytes())
    }
}

/// A timeout outside `MIN_SECS..=MAX_SECS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutOfRange;

/// One set of timeouts (normal or defense), in seconds, each within [`RANGE`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// Seconds per row, in [`TimeoutRow::ALL`] order.
    pub secs: [u32; ROW_COUNT],
}

impl Timeouts {
    /// The normal set (rows in [`TimeoutRow::ALL`] order).
    pub const NORMAL: Timeouts = Timeouts {
        secs: [2, 900, 120, 60, 120, 120, 10, 60, 30, 120, 120, 300],
    };

    /// The defense set, used while defense is engaged or forced.
    pub const DEFENSE: Timeouts = Timeouts {
        secs: [2, 480, 60, 10, 60, 60, 10, 60, 30, 120, 60, 180],
    };

    /// The timeout of `row`, in seconds.
    pub const fn secs(&self, row: TimeoutRow) -> u32 {
        // `index()` is below ROW_COUNT by construction: this cannot fail.
        self.secs[row.index()]
    }

    /// Sets the timeout of `row`; a value outside [`RANGE`] is refused and changes nothing.
    pub fn set_secs(&mut self, row: TimeoutRow, secs: u32) -> Result<(), OutOfRange> {
        if !(MIN_SECS..=MAX_SECS).contains(&secs) {
            return Err(OutOfRange);
        }
        let slot = self.secs.get_mut(row.index()).ok_or(OutOfRange)?;
        *slot = secs;
        Ok(())
    }

    /// The timeout of `row` in ticks of a `hz` Hz clock (see [`secs_to_ticks`]).
    pub const fn ticks(&self, row: TimeoutRow, hz: u32) -> u64 {
        secs_to_ticks(self.secs(row), hz)
    }
}

/// `secs` seconds in ticks of a `hz` Hz clock. `u32 × u32` always fits `u64`.
pub const fn secs_to_ticks(secs: u32, hz: u32) -> u64 {
    (secs as u64) * (hz as u64)
}

/// `ticks` in whole seconds of a `hz` Hz clock, rounded up (a connection dump shows 1 s
/// rather than 0 s for an entry about to expire). `hz = 0` gives 0.
pub const fn ticks_to_secs(ticks: u64, hz: u32) -> u64 {
    if hz == 0 {
        return 0;
    }
    ticks.div_ceil(hz as u64)
}
