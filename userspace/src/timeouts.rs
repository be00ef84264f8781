//! Entry timeouts: the `timeout_<state>` and `defense_timeout_<state>` sysctls under
//! `/proc/sys/net/ipvs_defense/` (Documentation/ipvs-defense.rst, "States and timeouts" and
//! "Tunables"). The tool reads and writes those files directly; the module checks the range
//! of every write.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use ipvsd_logic::proto::TCP_STATE_NAMES;

use crate::model::TimeoutView;

/// Where the module's sysctls live.
pub const SYSCTL_DIR: &str = "/proc/sys/net/ipvs_defense";

/// Largest timeout the module accepts, in seconds (`1..2147483`).
pub const MAX_SECS: u32 = 2_147_483;

/// Number of timeout rows: the TCP states of `TCP_STATE_NAMES`, then UDP.
pub const ROW_COUNT: usize = TCP_STATE_NAMES.len() + 1;

/// Index of the UDP row.
pub const UDP_ROW: usize = TCP_STATE_NAMES.len();

/// The states' two-letter abbreviations, in `TCP_STATE_NAMES` order, then UDP.
const SHORT: [&str; ROW_COUNT] = [
    "no", "es", "ss", "sr", "fw", "tw", "cl", "cw", "la", "li", "sa", "udp",
];

/// Row index of ESTABLISHED (ipvsadm's `tcp` timeout).
pub const ES_ROW: usize = 1;
/// Row index of FIN_WAIT (ipvsadm's `tcpfin` timeout).
pub const FW_ROW: usize = 4;

/// Which of the two timeout sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Set {
    /// `timeout_<state>`: used while the director is calm.
    Normal,
    /// `defense_timeout_<state>`: used while defense is engaged or forced.
    Defense,
}

impl Set {
    fn prefix(self) -> &'static str {
        match self {
            Set::Normal => "timeout_",
            Set::Defense => "defense_timeout_",
        }
    }
}

/// The row's long name: the lower-case state name (`established`, `syn_recv`, ...) or
/// `udp`. This is the sysctl suffix.
pub fn long_name(row: usize) -> String {
    match TCP_STATE_NAMES.get(row) {
        Some(n) => n.to_ascii_lowercase(),
        None => "udp".to_string(),
    }
}

/// The row's abbreviation (`es`, `sr`, ..., `udp`).
pub fn short_name(row: usize) -> &'static str {
    SHORT.get(row).copied().unwrap_or("udp")
}

/// The name shown in listings: the state name as `ipvsadm -c` prints it, or `UDP`.
pub fn display_name(row: usize) -> &'static str {
    TCP_STATE_NAMES.get(row).copied().unwrap_or("UDP")
}

/// The row named `name`: a long name or an abbreviation, any case.
pub fn row_by_name(name: &str) -> Option<usize> {
    let lower = name.to_ascii_lowercase();
    (0..ROW_COUNT).find(|&r| lower == long_name(r) || lower == short_name(r))
}

/// Every accepted state name, for error messages: `none|no, established|es, ...`.
pub fn names_help() -> String {
    (0..ROW_COUNT)
        .map(|r| {
            let long = long_name(r);
            if long == short_name(r) {
                long
            } else {
                format!("{}|{}", long, short_name(r))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why a sysctl could not be read or written.
#[derive(Debug)]
pub enum SysctlError {
    /// The directory does not exist: the module is not loaded.
    NotLoaded,
    /// Neither `<prefix><long>` nor `<prefix><short>` exists.
    NoSuchEntry(String),
    /// The module refused the value (EINVAL).
    Rejected(PathBuf),
    /// Not allowed (needs root).
    Permission(PathBuf),
    /// Another I/O error or an unreadable value.
    Other(PathBuf, String),
}

/// The sysctl file of `row` in `set`: `<prefix><long name>`, or `<prefix><abbreviation>`
/// when only that exists.
pub fn sysctl_path(dir: &Path, set: Set, row: usize) -> Result<PathBuf, SysctlError> {
    if !dir.is_dir() {
        return Err(SysctlError::NotLoaded);
    }
    let long = dir.join(format!("{}{}", set.prefix(), long_name(row)));
    if long.exists() {
        return Ok(long);
    }
    let short = dir.join(format!("{}{}", set.prefix(), short_name(row)));
    if short.exists() {
        return Ok(short);
    }
    Err(SysctlError::NoSuchEntry(format!(
        "{}{}",
        set.prefix(),
        long_name(row)
    )))
}

fn io_error(path: PathBuf, e: io::Error) -> SysctlError {
    match e.kind() {
        io::ErrorKind::PermissionDenied => SysctlError::Permission(path),
        io::ErrorKind::InvalidInput => SysctlError::Rejected(path),
        _ => SysctlError::Other(path, e.to_string()),
    }
}

/// Reads one timeout.
pub fn read(dir: &Path, set: Set, row: usize) -> Result<u32, SysctlError> {
    let path = sysctl_path(dir, set, row)?;
    let text = fs::read_to_string(&path).map_err(|e| io_error(path.clone(), e))?;
    text.trim()
        .parse::<u32>()
        .map_err(|_| SysctlError::Other(path, format!("unreadable value {:?}", text.trim())))
}

/// Writes one timeout.
pub fn write(dir: &Path, set: Set, row: usize, secs: u32) -> Result<(), SysctlError> {
    let path = sysctl_path(dir, set, row)?;
    fs::write(&path, format!("{secs}\n")).map_err(|e| io_error(path, e))
}

/// Reads every row of both sets. A row whose sysctl is missing shows as `None`; a missing
/// directory is an error (module not loaded).
pub fn read_all(dir: &Path) -> Result<Vec<TimeoutView>, SysctlError> {
    if !dir.is_dir() {
        return Err(SysctlError::NotLoaded);
    }
    let mut rows = Vec::with_capacity(ROW_COUNT);
    for row in 0..ROW_COUNT {
        let get = |set| match read(dir, set, row) {
            Ok(v) => Ok(Some(v)),
            Err(SysctlError::NoSuchEntry(_)) => Ok(None),
            Err(e) => Err(e),
        };
        rows.push(TimeoutView {
            row,
            normal: get(Set::Normal)?,
            defense: get(Set::Defense)?,
        });
    }
    Ok(rows)
}
