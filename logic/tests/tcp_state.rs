// SPDX-License-Identifier: GPL-2.0
//! The TCP state machine against the tables of Documentation/ipvs-defense.rst, "States and
//! timeouts", cell by cell (2 tables × 2 directions × 4 events × 11 states = 176 cells), and
//! scripted connections.

mod common;

use ipvsd_logic::defense::client_ack_allowed;
use ipvsd_logic::entry::{Entry, EntryFlags, FlowKey, Protocol, Target};
use ipvsd_logic::tcp_state::{
    next_state, transition, Direction, Table, TcpEvent, TcpFlags, TcpState, STATE_COUNT,
};

/// The design document's normal table, copied as text.
const NORMAL: &str = "
    INPUT  syn: SR ES ES SR SR SR SR SR SR SR SR
    INPUT  fin: CL CW SS TW TW TW CL CW LA LI TW
    INPUT  ack: ES ES SS ES FW TW CL CW CL LI ES
    INPUT  rst: CL CL CL SR CL CL CL CL LA LI SR
    OUTPUT syn: SS ES SS SR SS SS SS SS SS LI SR
    OUTPUT fin: TW FW SS TW FW TW CL TW LA LI TW
    OUTPUT ack: ES ES SS ES FW TW CL CW LA ES ES
    OUTPUT rst: CL CL SS CL CL TW CL CL CL CL CL
";

/// The column order of that table.
const COLUMNS: &str = "NO ES SS SR FW TW CL CW LA LI SA";

/// The design document's cells where the secure table differs.
/// "INPUT syn@SA→SA, INPUT fin@SA→SA, INPUT ack@SR→SR, INPUT ack@SA→SA, INPUT rst@SA→CL,
/// OUTPUT syn@SR→SA, OUTPUT syn@SA→SA"
const SECURE_DIFF: [(&str, &str, &str, &str); 7] = [
    ("INPUT", "syn", "SA", "SA"),
    ("INPUT", "fin", "SA", "SA"),
    ("INPUT", "ack", "SR", "SR"),
    ("INPUT", "ack", "SA", "SA"),
    ("INPUT", "rst", "SA", "CL"),
    ("OUTPUT", "syn", "SR", "SA"),
    ("OUTPUT", "syn", "SA", "SA"),
];

fn state(abbrev: &str) -> TcpState {
    common::state_by_abbrev(abbrev).unwrap_or_else(|| panic!("unknown state {abbrev}"))
}

fn direction(s: &str) -> Direction {
    match s {
        "INPUT" => Direction::Input,
        "OUTPUT" => Direction::Output,
        _ => panic!("unknown direction {s}"),
    }
}

fn event(s: &str) -> TcpEvent {
    match s {
        "syn" => TcpEvent::Syn,
        "fin" => TcpEvent::Fin,
        "ack" => TcpEvent::Ack,
        "rst" => TcpEvent::Rst,
        _ => panic!("unknown event {s}"),
    }
}

/// Every cell of the normal table as (direction, event, current, next).
fn normal_cells() -> Vec<(Direction, TcpEvent, TcpState, TcpState)> {
    let columns: Vec<TcpState> = COLUMNS.split_whitespace().map(state).collect();
    let mut cells = Vec::new();
    for line in NORMAL.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (head, row) = line.split_once(':').unwrap();
        let mut head = head.split_whitespace();
        let dir = direction(head.next().unwrap());
        let ev = event(head.next().unwrap());
        let next: Vec<TcpState> = row.split_whitespace().map(state).collect();
        assert_eq!(next.len(), 11);
        for (cur, nx) in columns.iter().zip(next) {
            cells.push((dir, ev, *cur, nx));
        }
    }
    cells
}

#[test]
fn all_176_cells_match_design() {
    let normal = normal_cells();
    assert_eq!(normal.len(), 88);
    let mut checked = 0;
    let mut secure_differences = 0;
    for (dir, ev, cur, want) in normal {
        assert_eq!(
            next_state(Table::Normal, dir, ev, cur),
            want,
            "normal {dir:?} {ev:?} @{cur:?}"
        );
        checked += 1;
        let secure_want = SECURE_DIFF
            .iter()
            .find(|(d, e, c, _)| direction(d) == dir && event(e) == ev && state(c) == cur)
            .map_or(want, |(_, _, _, n)| state(n));
        let got = next_state(Table::Secure, dir, ev, cur);
        assert_eq!(got, secure_want, "secure {dir:?} {ev:?} @{cur:?}");
        if got != want {
            secure_differences += 1;
        }
        checked += 1;
    }
    assert_eq!(checked, 176);
    assert_eq!(secure_differences, 7);
}

#[test]
fn event_priority_is_rst_syn_fin_ack_for_every_flags_byte() {
    for b in 0..=255u8 {
        let want = if b & 0x04 != 0 {
            Some(TcpEvent::Rst)
        } else if b & 0x02 != 0 {
            Some(TcpEvent::Syn)
        } else if b & 0x01 != 0 {
            Some(TcpEvent::Fin)
        } else if b & 0x10 != 0 {
            Some(TcpEvent::Ack)
        } else {
            None
        };
        assert_eq!(TcpFlags(b).event(), want, "flags {b:#04x}");
        for table in [Table::Normal, Table::Secure] {
            for dir in [Direction::Input, Direction::Output] {
                for s in TcpState::ALL {
                    let expect = want.map_or(s, |e| next_state(table, dir, e, s));
                    assert_eq!(transition(table, dir, TcpFlags(b), s), expect);
                }
            }
        }
    }
}

#[test]
fn states_round_trip_and_have_ipvsadm_names() {
    assert_eq!(TcpState::ALL.len(), STATE_COUNT);
    let names = [
        "NONE",
        "ESTABLISHED",
        "SYN_SENT",
        "SYN_RECV",
        "FIN_WAIT",
        "TIME_WAIT",
        "CLOSE",
        "CLOSE_WAIT",
        "LAST_ACK",
        "LISTEN",
        "SYNACK",
    ];
    let abbrevs: Vec<&str> = COLUMNS.split_whitespace().collect();
    for (i, s) in TcpState::ALL.into_iter().enumerate() {
        assert_eq!(s as usize, i);
        assert_eq!(TcpState::from_u8(i as u8), Some(s));
        assert_eq!(s.name(), names[i]);
        assert_eq!(s.abbrev(), abbrevs[i]);
        assert_eq!(state(abbrevs[i]), s);
    }
    assert_eq!(TcpState::from_u8(11), None);
    assert_eq!(TcpState::from_u8(255), None);
    assert!(TcpState::SynRecv.is_half_open() && TcpState::SynAck.is_half_open());
    assert_eq!(TcpState::ALL.iter().filter(|s| s.is_half_open()).count(), 2);
    assert_eq!(TcpState::ALL.iter().filter(|s| s.is_active()).count(), 1);
}

const SYN: TcpFlags = TcpFlags(TcpFlags::SYN);
const SYN_ACK: TcpFlags = TcpFlags(TcpFlags::SYN | TcpFlags::ACK);
const ACK: TcpFlags = TcpFlags(TcpFlags::ACK);
const PSH_ACK: TcpFlags = TcpFlags(TcpFlags::PSH | TcpFlags::ACK);
const FIN_ACK: TcpFlags = TcpFlags(TcpFlags::FIN | TcpFlags::ACK);
const IN: Direction = Direction::Input;
const OUT: Direction = Direction::Output;

/// Runs `steps` from NONE, checking the state after each.
fn script(table: Table, steps: &[(Direction, TcpFlags, TcpState)]) {
    let mut s = TcpState::None;
    for (n, &(dir, flags, want)) in steps.iter().enumerate() {
        s = transition(table, dir, flags, s);
        assert_eq!(s, want, "{table:?} step {n}: {dir:?} {flags:?}");
    }
}

#[test]
fn normal_handshake_and_client_close() {
    use TcpState::*;
    script(
        Table::Normal,
        &[
            (IN, SYN, SynRecv),
            (OUT, SYN_ACK, SynRecv),
            (IN, ACK, Established),
            (IN, PSH_ACK, Established),
            (OUT, PSH_ACK, Established),
            (IN, FIN_ACK, CloseWait),
            (OUT, ACK, CloseWait),
            (OUT, FIN_ACK, TimeWait),
            (IN, ACK, TimeWait),
        ],
    );
}

#[test]
fn normal_handshake_and_server_close() {
    use TcpState::*;
    script(
        Table::Normal,
        &[
            (IN, SYN, SynRecv),
            (OUT, SYN_ACK, SynRecv),
            (IN, ACK, Established),
            (OUT, FIN_ACK, FinWait),
            (IN, ACK, FinWait),
            (IN, FIN_ACK, TimeWait),
            (OUT, ACK, TimeWait),
        ],
    );
}

#[test]
fn reset_closes() {
    use TcpState::*;
    let rst = TcpFlags(TcpFlags::RST | TcpFlags::ACK);
    script(
        Table::Normal,
        &[
            (IN, SYN, SynRecv),
            (OUT, SYN_ACK, SynRecv),
            (IN, ACK, Established),
            (OUT, rst, Close),
        ],
    );
}

#[test]
fn secure_table_blind_ack_stays_syn_recv() {
    use TcpState::*;
    script(
        Table::Secure,
        &[
            (IN, SYN, SynRecv),
            (IN, ACK, SynRecv),
            (IN, PSH_ACK, SynRecv),
            (IN, ACK, SynRecv),
        ],
    );
    // The same flood under the normal table would establish.
    script(Table::Normal, &[(IN, SYN, SynRecv), (IN, ACK, Established)]);
}

#[test]
fn secure_table_established_only_by_the_server() {
    use TcpState::*;
    script(
        Table::Secure,
        &[
            (IN, SYN, SynRecv),
            (OUT, SYN_ACK, SynAck),
            (IN, ACK, SynAck),
            (OUT, ACK, Established),
            (IN, PSH_ACK, Established),
        ],
    );
    // Data from the server also establishes.
    script(
        Table::Secure,
        &[
            (IN, SYN, SynRecv),
            (OUT, SYN_ACK, SynAck),
            (OUT, PSH_ACK, Established),
        ],
    );
}

#[test]
fn entry_records_the_server_isn_and_blind_acks_are_refused() {
    let key = FlowKey {
        saddr: 0xc000_0201,
        daddr: 0xcb00_710a,
        sport: 40000,
        dport: 80,
        protocol: Protocol::Tcp,
    };
    let target = Target {
        rs_addr: 0xc633_6402,
        rs_port: 8080,
        rs_index: 1,
        service: 0,
    };
    let mut e = Entry::new(&key, &target, 5);
    let t = e.tcp_segment(Table::Secure, IN, SYN, 1000);
    assert_eq!((t.from, t.to), (TcpState::None, TcpState::SynRecv));
    assert!(!e.flags.has(EntryFlags::ISN_SEEN));
    // While in SR every client ACK is blind.
    assert!(!client_ack_allowed(e.state, e.rs_isn, 1));
    let t = e.tcp_segment(Table::Secure, OUT, SYN_ACK, 0xffff_ffff);
    assert_eq!((t.from, t.to), (TcpState::SynRecv, TcpState::SynAck));
    assert!(e.flags.has(EntryFlags::ISN_SEEN));
    assert_eq!(e.rs_isn, 0xffff_ffff);
    // In SA, only an ACK of ISN + 1 (wrapping) passes.
    assert!(client_ack_allowed(e.state, e.rs_isn, 0));
    assert!(!client_ack_allowed(e.state, e.rs_isn, 0xffff_ffff));
    assert!(!client_ack_allowed(e.state, e.rs_isn, 1));
    e.tcp_segment(Table::Secure, IN, ACK, 1001);
    assert_eq!(e.state, TcpState::SynAck);
    e.tcp_segment(Table::Secure, OUT, ACK, 0);
    assert_eq!(e.state, TcpState::Established);
    assert!(client_ack_allowed(e.state, e.rs_isn, 12345));
    // Under the normal table the server's SYN+ACK keeps SR and records nothing.
    let mut n = Entry::new(&key, &target, 5);
    n.tcp_segment(Table::Normal, IN, SYN, 1);
    n.tcp_segment(Table::Normal, OUT, SYN_ACK, 77);
    assert_eq!(n.state, TcpState::SynRecv);
    assert!(!n.flags.has(EntryFlags::ISN_SEEN));
}

#[test]
fn half_open_entries_refuse_client_segments_without_ack() {
    use ipvsd_logic::defense::{client_segment_allowed, opens_connection};
    const ISN: u32 = 5000;
    for state in TcpState::ALL {
        for bits in 0..=255u8 {
            let f = TcpFlags(bits);
            let ok = client_segment_allowed(state, ISN, f, ISN + 1);
            let blind_ack = client_segment_allowed(state, ISN, f, ISN);
            if !state.is_half_open() || f.has(TcpFlags::RST) {
                assert!(ok && blind_ack, "{state:?} {bits:#04x}: any segment passes");
            } else if f.has(TcpFlags::ACK) && !f.has(TcpFlags::SYN) {
                assert_eq!(ok, state == TcpState::SynAck, "{state:?} {bits:#04x}");
                assert!(!blind_ack, "{state:?} {bits:#04x}: a wrong ACK passed");
            } else if f.has(TcpFlags::ACK) {
                assert!(ok, "{state:?} {bits:#04x}: SYN+ACK passes as before");
            } else {
                // No ACK: only the SYN sent again (without FIN) passes; a FIN, a bare
                // segment, SYN+FIN are blind.
                let resent_syn = f.has(TcpFlags::SYN) && !f.has(TcpFlags::FIN);
                assert_eq!(ok, resent_syn, "{state:?} {bits:#04x}");
            }
        }
    }
    for bits in 0..=255u8 {
        let want = bits & 0x17 == TcpFlags::SYN;
        assert_eq!(opens_connection(TcpFlags(bits)), want, "{bits:#04x}");
    }
    assert!(!opens_connection(TcpFlags(TcpFlags::SYN | TcpFlags::RST)));
    assert!(!opens_connection(TcpFlags(TcpFlags::SYN | TcpFlags::FIN)));
    assert!(opens_connection(TcpFlags(TcpFlags::SYN | TcpFlags::PSH)));
}
