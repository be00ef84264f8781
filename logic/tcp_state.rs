// SPDX-License-Identifier: GPL-2.0
//! TCP connection states and the two transition tables (Documentation/ipvs-defense.rst,
//! "States and timeouts").
//!
//! Each TCP segment the director forwards is reduced to an *event* (the highest-priority flag
//! it carries: RST > SYN > FIN > ACK) and a *direction* (INPUT: client → real server,
//! OUTPUT: real server → client). The entry's next state is then one cell of a table indexed
//! by direction, event and current state. There are two tables:
//!
//! - the **normal** table, used while the director is calm;
//! - the **secure** table, used while defense is engaged: it differs in seven cells so that a
//!   client's ACK can never establish a connection. An entry goes SR → (the real server's
//!   SYN+ACK) → SA → (the real server's first ACK or data) → ES.
//!
//! A segment with none of the four flags is no event and leaves the state unchanged.

/// A connection's state. The discriminants are the column order of the state tables in
/// Documentation/ipvs-defense.rst, "States and timeouts".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum TcpState {
    /// NONE: no segment seen yet.
    #[default]
    None = 0,
    /// ES: established.
    Established = 1,
    /// SS: SYN sent (by the real server).
    SynSent = 2,
    /// SR: SYN received (from the client).
    SynRecv = 3,
    /// FW: FIN wait.
    FinWait = 4,
    /// TW: time wait.
    TimeWait = 5,
    /// CL: closed.
    Close = 6,
    /// CW: close wait.
    CloseWait = 7,
    /// LA: last ACK.
    LastAck = 8,
    /// LI: listen.
    Listen = 9,
    /// SA: the real server's SYN+ACK seen (secure table only).
    SynAck = 10,
}

/// Number of TCP states.
pub const STATE_COUNT: usize = 11;

use TcpState::{
    Close as CL, CloseWait as CW, Established as ES, FinWait as FW, LastAck as LA, Listen as LI,
    None as NO, SynAck as SA, SynRecv as SR, SynSent as SS, TimeWait as TW,
};

impl TcpState {
    /// Every state, in discriminant order.
    pub const ALL: [TcpState; STATE_COUNT] = [NO, ES, SS, SR, FW, TW, CL, CW, LA, LI, SA];

    /// The state whose discriminant is `v`, if any.
    pub const fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            0 => NO,
            1 => ES,
            2 => SS,
            3 => SR,
            4 => FW,
            5 => TW,
            6 => CL,
            7 => CW,
            8 => LA,
            9 => LI,
            10 => SA,
            _ => return None,
        })
    }

    /// The name `ipvsadm -c` prints for this state (`ESTABLISHED`, `SYN_RECV`, ...), from
    /// [`TCP_STATE_NAMES`](super::proto::TCP_STATE_NAMES).
    pub fn name(self) -> &'static str {
        super::proto::TCP_STATE_NAMES
            .get(self as usize)
            .copied()
            .unwrap_or("UNKNOWN")
    }

    /// The state's two-letter abbreviation (`NO`, `ES`, `SS`, ...).
    pub const fn abbrev(self) -> &'static str {
        match self {
            NO => "NO",
            ES => "ES",
            SS => "SS",
            SR => "SR",
            FW => "FW",
            TW => "TW",
            CL => "CL",
            CW => "CW",
            LA => "LA",
            LI => "LI",
            SA => "SA",
        }
    }

    /// Half-open: the client's SYN was seen but no handshake completed (SR or SA). These are
    /// the entries defense evicts, oldest first, when the table is full.
    pub const fn is_half_open(self) -> bool {
        matches!(self, SR | SA)
    }

    /// Whether the connection counts as *active* for the lc/wlc schedulers, as in IPVS:
    /// established only; every other state counts as inactive.
    pub const fn is_active(self) -> bool {
        matches!(self, ES)
    }
}

/// The direction of a segment relative to the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Client → real server (through the VIP).
    Input = 0,
    /// Real server → client.
    Output = 1,
}

/// What a segment means to the state machine: its highest-priority flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TcpEvent {
    /// SYN set (and RST clear).
    Syn = 0,
    /// FIN set (RST and SYN clear).
    Fin = 1,
    /// ACK set and none of RST, SYN, FIN.
    Ack = 2,
    /// RST set, whatever else is.
    Rst = 3,
}

/// The flags byte of a TCP header (byte 13).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    /// FIN: the sender has finished sending.
    pub const FIN: u8 = 0x01;
    /// SYN: synchronise sequence numbers.
    pub const SYN: u8 = 0x02;
    /// RST: reset the connection.
    pub const RST: u8 = 0x04;
    /// PSH: push.
    pub const PSH: u8 = 0x08;
    /// ACK: the acknowledgment field is significant.
    pub const ACK: u8 = 0x10;
    /// URG: the urgent pointer is significant.
    pub const URG: u8 = 0x20;
    /// ECE: ECN echo (on a SYN: ECN wanted).
    pub const ECE: u8 = 0x40;
    /// CWR: congestion window reduced (on a SYN, with ECE: ECN wanted).
    pub const CWR: u8 = 0x80;

    /// Whether every bit of `mask` is set.
    pub const fn has(self, mask: u8) -> bool {
        self.0 & mask == mask
    }

    /// The event by priority RST > SYN > FIN > ACK, or `None` when none of them is set.
    pub const fn event(self) -> Option<TcpEvent> {
        if self.has(Self::RST) {
            Some(TcpEvent::Rst)
        } else if self.has(Self::SYN) {
            Some(TcpEvent::Syn)
        } else if self.has(Self::FIN) {
            Some(TcpEvent::Fin)
        } else if self.has(Self::ACK) {
            Some(TcpEvent::Ack)
        } else {
            None
        }
    }
}

/// Which transition table applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Table {
    /// The normal table (defense calm).
    Normal = 0,
    /// The secure table (defense engaged or forced).
    Secure = 1,
}

/// One row: the next state for each current state, in [`TcpState::ALL`] order.
type Row = [TcpState; STATE_COUNT];

/// Rows indexed by `[direction][event]`, events in [`TcpEvent`] order (syn, fin, ack, rst).
type Rows = [[Row; 4]; 2];

/// The normal table, column order NO ES SS SR FW TW CL CW LA LI SA.
const NORMAL: Rows = [
    [
        /* INPUT  syn */ [SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR],
        /* INPUT  fin */ [CL, CW, SS, TW, TW, TW, CL, CW, LA, LI, TW],
        /* INPUT  ack */ [ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES],
        /* INPUT  rst */ [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, SR],
    ],
    [
        /* OUTPUT syn */ [SS, ES, SS, SR, SS, SS, SS, SS, SS, LI, SR],
        /* OUTPUT fin */ [TW, FW, SS, TW, FW, TW, CL, TW, LA, LI, TW],
        /* OUTPUT ack */ [ES, ES, SS, ES, FW, TW, CL, CW, LA, ES, ES],
        /* OUTPUT rst */ [CL, CL, SS, CL, CL, TW, CL, CL, CL, CL, CL],
    ],
];

/// The secure table: the normal table with seven cells changed (marked `*`).
const SECURE: Rows = [
    [
        /* INPUT  syn */ [SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SA /* * */],
        /* INPUT  fin */ [CL, CW, SS, TW, TW, TW, CL, CW, LA, LI, SA /* * */],
        /* INPUT  ack */
        [
            ES, ES, SS, SR, /* * */
            FW, TW, CL, CW, CL, LI, SA, /* * */
        ],
        /* INPUT  rst */ [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL /* * */],
    ],
    [
        /* OUTPUT syn */
        [
            SS, ES, SS, SA, /* * */
            SS, SS, SS, SS, SS, LI, SA, /* * */
        ],
        /* OUTPUT fin */ [TW, FW, SS, TW, FW, TW, CL, TW, LA, LI, TW],
        /* OUTPUT ack */ [ES, ES, SS, ES, FW, TW, CL, CW, LA, ES, ES],
        /* OUTPUT rst */ [CL, CL, SS, CL, CL, TW, CL, CL, CL, CL, CL],
    ],
];

/// The next state after `event` in direction `dir` from `state`, under `table`.
pub const fn next_state(
    table: Table,
    dir: Direction,
    event: TcpEvent,
    state: TcpState,
) -> TcpState {
    let rows = match table {
        Table::Normal => &NORMAL,
        Table::Secure => &SECURE,
    };
    // All three indices are enum discriminants and the arrays are sized by the enums
    // (2 directions, 4 events, STATE_COUNT states), so these indexings cannot fail.
    rows[dir as usize][event as usize][state as usize]
}

/// The next state for a segment with `flags`: [`next_state`] of its event, or `state`
/// unchanged when the segment carries none of RST, SYN, FIN, ACK.
pub const fn transition(
    table: Table,
    dir: Direction,
    flags: TcpFlags,
    state: TcpState,
) -> TcpState {
    match flags.event() {
        Some(event) => next_state(table, dir, event, state),
        None => state,
    }
}
