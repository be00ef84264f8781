// SPDX-License-Identifier: GPL-2.0
//! The protocol's commands and attributes: numbers, conversions and the request policy.

use ipvsd_logic::proto::{Attr, Cmd, Payload};

#[test]
fn all_lists_every_number_in_order_and_try_from_round_trips() {
    for (i, c) in Cmd::ALL.iter().enumerate() {
        assert_eq!(usize::from(c.number()), i + 1);
        assert_eq!(Cmd::try_from(c.number()), Ok(*c));
        assert_eq!(u8::from(*c), c.number());
    }
    for (i, a) in Attr::ALL.iter().enumerate() {
        assert_eq!(usize::from(a.number()), i + 1);
        assert_eq!(Attr::try_from(a.number()), Ok(*a));
        assert_eq!(u16::from(*a), a.number());
    }
}

#[test]
fn numbers_outside_the_protocol_are_refused() {
    let past = Cmd::ALL.len() as u8 + 1;
    for n in [0, past, u8::MAX] {
        assert_eq!(Cmd::try_from(n), Err(n));
    }
    let past = Attr::ALL.len() as u16 + 1;
    for n in [0, past, u16::MAX] {
        assert_eq!(Attr::try_from(n), Err(n));
    }
}

#[test]
fn state_changing_commands_and_the_connection_dump_need_cap_net_admin() {
    for c in Cmd::ALL {
        let k = c.kind();
        assert!(k.doit || k.dump, "{c:?} is neither a request nor a dump");
        let reads = matches!(
            c,
            Cmd::GetService | Cmd::GetDest | Cmd::GetConn | Cmd::GetStats | Cmd::GetDefense
        );
        assert_eq!(k.admin, !reads || c == Cmd::GetConn, "{c:?}");
    }
}

#[test]
fn requests_carry_only_keys_settings_and_the_level() {
    let carried: Vec<Attr> = Attr::ALL
        .into_iter()
        .filter(|a| a.request_payload().is_some())
        .collect();
    assert_eq!(
        carried,
        [
            Attr::SvcProtocol,
            Attr::SvcAddr,
            Attr::SvcPort,
            Attr::SvcSched,
            Attr::SvcFlags,
            Attr::DestAddr,
            Attr::DestPort,
            Attr::DestWeight,
            Attr::DefLevel,
        ]
    );
    assert!(matches!(
        Attr::SvcSched.request_payload(),
        Some(Payload::NulString { max_len: 15 })
    ));
}

#[test]
fn the_family_name_for_c_is_the_name_with_a_nul() {
    use ipvsd_logic::proto::{FAMILY_NAME, FAMILY_NAME_NUL};
    assert_eq!(FAMILY_NAME_NUL.last(), Some(&0));
    assert_eq!(
        &FAMILY_NAME_NUL[..FAMILY_NAME_NUL.len() - 1],
        FAMILY_NAME.as_bytes()
    );
}
