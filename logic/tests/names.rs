// SPDX-License-Identifier: GPL-2.0
//! Names written once as C strings: the `str` forms and the prefixed sysctl names agree.

use ipvsd_logic::names::c_suffix;
use ipvsd_logic::packet::{ParseError, MALFORMED_PREFIX};
use ipvsd_logic::sched::SchedKind;
use ipvsd_logic::timeouts::TimeoutRow;

fn text(c: &core::ffi::CStr) -> &str {
    c.to_str().expect("ASCII")
}

#[test]
fn scheduler_names_are_their_c_names() {
    for k in SchedKind::ALL {
        assert!(!k.name().is_empty());
        assert_eq!(k.name(), text(k.c_name()));
    }
}

#[test]
fn malformation_counters_are_malformed_and_the_name() {
    let mut seen = std::collections::HashSet::new();
    for e in ParseError::ALL {
        assert!(!e.name().is_empty(), "{e:?}");
        assert_eq!(
            text(e.sysctl_name()),
            format!("{MALFORMED_PREFIX}{}", e.name())
        );
        assert!(seen.insert(e.name()), "{} twice", e.name());
    }
}

#[test]
fn timeout_sysctls_are_the_prefixes_and_the_row_name() {
    for r in TimeoutRow::ALL {
        assert!(!r.name().is_empty(), "{r:?}");
        assert_eq!(text(r.sysctl_name()), format!("timeout_{}", r.name()));
        assert_eq!(
            text(r.defense_sysctl_name()),
            format!("defense_timeout_{}", r.name())
        );
    }
}

#[test]
fn a_suffix_past_the_end_is_empty() {
    assert_eq!(text(c_suffix(c"abc", 1)), "bc");
    assert_eq!(text(c_suffix(c"abc", 3)), "");
    assert_eq!(text(c_suffix(c"abc", 99)), "");
}
