// SPDX-License-Identifier: GPL-2.0
use ipvsd_logic::sysctl::{format_value, parse_write, IntRange, WriteError};

const LEVEL: IntRange = IntRange::new(0, 2);

#[test]
fn accepts_values_in_range_with_whitespace() {
    assert_eq!(parse_write(b"0", LEVEL), Ok(Some(0)));
    assert_eq!(parse_write(b"2\n", LEVEL), Ok(Some(2)));
    assert_eq!(parse_write(b"  1 \n", LEVEL), Ok(Some(1)));
    assert_eq!(parse_write(b"+1", LEVEL), Ok(Some(1)));
}

#[test]
fn rejects_out_of_range() {
    assert_eq!(parse_write(b"-1\n", LEVEL), Err(WriteError::OutOfRange));
    assert_eq!(parse_write(b"3\n", LEVEL), Err(WriteError::OutOfRange));
    assert_eq!(
        parse_write(b"99999999999999999999999", LEVEL),
        Err(WriteError::OutOfRange)
    );
    let timeout = IntRange::new(1, 2_147_483);
    assert_eq!(parse_write(b"0", timeout), Err(WriteError::OutOfRange));
    assert_eq!(
        parse_write(b"2147484", timeout),
        Err(WriteError::OutOfRange)
    );
    assert_eq!(parse_write(b"2147483", timeout), Ok(Some(2_147_483)));
}

#[test]
fn rejects_garbage() {
    for bad in [
        &b"abc"[..],
        b"1a",
        b"-",
        b"+",
        b"1 2",
        b"0x1",
        b"1.0",
        b"\xff",
    ] {
        assert_eq!(
            parse_write(bad, LEVEL),
            Err(WriteError::NotANumber),
            "{bad:?}"
        );
    }
}

#[test]
fn empty_write_changes_nothing() {
    assert_eq!(parse_write(b"", LEVEL), Ok(None));
    assert_eq!(parse_write(b"\n", LEVEL), Ok(None));
    assert_eq!(parse_write(b" \t\n", LEVEL), Ok(None));
}

#[test]
fn formats_like_proc() {
    let mut b = [0u8; 32];
    for v in [0i64, 7, -1, 2_147_483, i64::MAX, i64::MIN] {
        let n = format_value(v, &mut b).unwrap();
        assert_eq!(&b[..n], format!("{v}\n").as_bytes());
    }
    let mut small = [0u8; 2];
    assert_eq!(format_value(10, &mut small), None);
    assert_eq!(format_value(1, &mut small), Some(2));
}

#[test]
fn roundtrip_every_small_value() {
    let r = IntRange::new(-1000, 1000);
    let mut b = [0u8; 32];
    for v in -1000..=1000 {
        let n = format_value(v, &mut b).unwrap();
        assert_eq!(parse_write(&b[..n], r), Ok(Some(v)));
    }
}
