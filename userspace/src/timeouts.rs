// SPDX-License-Identifier: GPL-2.0
//! Entry timeouts: the `timeout_<state>` and `defense_timeout_<state>` sysctls under
//! `/proc/sys/net/ipvs_defense/` (Documentation/ipvs-defense.rst, "States and timeouts" and
//! "Tunables"). The tool reads and writes those files directly; the module checks the range
//! of every write.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use ipvsd_logic::tcp_state::TcpState;
pub use ipvsd_logic::timeouts::{TimeoutRow, MAX_SECS};

use crate::model::TimeoutView;

/// Where the module's sysctls live.
pub const SYSCTL_DIR: &str = "/proc/sys/net/ipvs_defense";

/// ESTABLISHED: ipvsadm's `tcp` timeout.
pub const TCP: TimeoutRow = TimeoutRow::Tcp(TcpState::Established);
/// FIN_WAIT: ipvsadm's `tcpfin` timeout.
pub const TCP_FIN: TimeoutRow = TimeoutRow::Tcp(TcpState::FinWait);
/// UDP: ipvsadm's `udp` timeout.
pub const UDP: TimeoutRow = TimeoutRow::Udp;

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

/// The row's abbreviation: the state's (`es`, `sr`, ...) in lower case, or `udp`.
pub fn short_name(row: TimeoutRow) -> String {
    match row {
        TimeoutRow::Tcp(s) => s.abbrev().to_ascii_lowercase(),
        TimeoutRow::Udp => "udp".to_string(),
    }
}

/// The name shown in listings: the state name as `ipvsadm -c` prints it, or `UDP`.
pub fn display_name(row: TimeoutRow) -> &'static str {
    match row {
        TimeoutRow::Tcp(s) => s.name(),
        TimeoutRow::Udp => "UDP",
    }
}

/// The row named `name`: its name ([`TimeoutRow::name`]) or its abbreviation, any case.
pub fn row_by_name(name: &str) -> Option<TimeoutRow> {
    let lower = name.to_ascii_lowercase();
    TimeoutRow::ALL
        .into_iter()
        .find(|&r| lower == r.name() || lower == short_name(r))
}

/// Every accepted state name, for error messages: `none|no, established|es, ...`.
pub fn names_help() -> String {
    TimeoutRow::ALL
        .into_iter()
        .map(|r| {
            let (long, short) = (r.name(), short_name(r));
            if long == short {
                short
            } else {
                format!("{long}|{short}")
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

/// The sysctl file of `row` in `set`: `<prefix><name>`, or `<prefix><abbreviation>`
/// when only that exists.
pub fn sysctl_path(dir: &Path, set: Set, row: TimeoutRow) -> Result<PathBuf, SysctlError> {
    if !dir.is_dir() {
        return Err(SysctlError::NotLoaded);
    }
    let long = dir.join(format!("{}{}", set.prefix(), row.name()));
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
        row.name()
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
pub fn read(dir: &Path, set: Set, row: TimeoutRow) -> Result<u32, SysctlError> {
    let path = sysctl_path(dir, set, row)?;
    let text = fs::read_to_string(&path).map_err(|e| io_error(path.clone(), e))?;
    text.trim()
        .parse::<u32>()
        .map_err(|_| SysctlError::Other(path, format!("unreadable value {:?}", text.trim())))
}

/// Writes one timeout.
pub fn write(dir: &Path, set: Set, row: TimeoutRow, secs: u32) -> Result<(), SysctlError> {
    let path = sysctl_path(dir, set, row)?;
    fs::write(&path, format!("{secs}\n")).map_err(|e| io_error(path, e))
}

/// Reads every row of both sets. A row whose sysctl is missing shows as `None`; a missing
/// directory is an error (module not loaded).
pub fn read_all(dir: &Path) -> Result<Vec<TimeoutView>, SysctlError> {
    if !dir.is_dir() {
        return Err(SysctlError::NotLoaded);
    }
    let mut rows = Vec::with_capacity(TimeoutRow::ALL.len());
    for row in TimeoutRow::ALL {
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
