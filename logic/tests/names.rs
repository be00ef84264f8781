// SPDX-License-Identifier: GPL-2.0
//! Names written once as C strings: the `str` forms and the prefixed sysctl names agree.

use ipvsd_logic::drops::{DropReason, DROP_REASON_COUNT};
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

#[test]
fn drop_reasons_have_their_index_and_names_and_attributes_of_their_own() {
    let mut names = std::collections::HashSet::new();
    let mut attrs = std::collections::HashSet::new();
    for (i, r) in DropReason::ALL.into_iter().enumerate() {
        assert_eq!(r.index(), i, "{r:?}");
        assert!(!r.name().is_empty(), "{r:?}");
        assert_eq!(r.name(), text(r.sysctl_name()));
        assert!(names.insert(r.name()), "{} twice", r.name());
        assert!(attrs.insert(r.attr().number()), "{:?} twice", r.attr());
        assert_eq!(
            r.attr().request_payload(),
            None,
            "{r:?}: a counter is reply-only"
        );
    }
    assert_eq!(DropReason::ALL.len(), DROP_REASON_COUNT);
}
