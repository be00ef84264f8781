// SPDX-License-Identifier: GPL-2.0
//! What the tool asks of the kernel, as a trait so that the command logic can be tested
//! with a fake; [`crate::netlink::NlClient`] implements it over generic netlink.

use std::fmt;

use crate::model::{
    ConnView, DefenseInfo, DestKey, DestView, GlobalStats, ServiceKey, ServiceView,
};

/// Why a request failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NlError {
    /// The generic netlink family `IPVS_DEFENSE` is not registered.
    NotLoaded,
    /// The kernel answered with an error: a positive errno and the extended-ack message,
    /// if any.
    Errno {
        /// `errno` (positive).
        errno: i32,
        /// `NLMSGERR_ATTR_MSG`.
        message: Option<String>,
    },
    /// The socket failed.
    Io(String),
    /// A reply we cannot understand.
    Protocol(String),
}

impl fmt::Display for NlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NlError::NotLoaded => f.write_str("generic netlink family IPVS_DEFENSE not found"),
            NlError::Errno { errno, message } => {
                write!(f, "{}", errno_text(*errno))?;
                if let Some(m) = message {
                    write!(f, ": {m}")?;
                }
                Ok(())
            }
            NlError::Io(s) => write!(f, "netlink socket: {s}"),
            NlError::Protocol(s) => write!(f, "unexpected reply from the module: {s}"),
        }
    }
}

/// The errno's symbolic name (`EEXIST`), or `errno N` for one we do not name.
pub fn errno_name(errno: i32) -> String {
    let name = match errno {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::ESRCH => "ESRCH",
        libc::EINVAL => "EINVAL",
        libc::EEXIST => "EEXIST",
        libc::ENOMEM => "ENOMEM",
        libc::EBUSY => "EBUSY",
        libc::EACCES => "EACCES",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::ERANGE => "ERANGE",
        libc::EMSGSIZE => "EMSGSIZE",
        libc::EAGAIN => "EAGAIN",
        libc::EINTR => "EINTR",
        libc::ENOBUFS => "ENOBUFS",
        libc::E2BIG => "E2BIG",
        libc::EFAULT => "EFAULT",
        libc::EIO => "EIO",
        libc::ENODEV => "ENODEV",
        libc::ENOSPC => "ENOSPC",
        libc::EBADMSG => "EBADMSG",
        libc::EPROTO => "EPROTO",
        libc::EPROTONOSUPPORT => "EPROTONOSUPPORT",
        libc::EAFNOSUPPORT => "EAFNOSUPPORT",
        libc::ECONNREFUSED => "ECONNREFUSED",
        libc::ETIMEDOUT => "ETIMEDOUT",
        libc::EOVERFLOW => "EOVERFLOW",
        _ => return format!("errno {errno}"),
    };
    name.to_string()
}

/// `strerror` text and errno name, e.g. `File exists (EEXIST)`.
pub fn errno_text(errno: i32) -> String {
    let text = std::io::Error::from_raw_os_error(errno).to_string();
    // Drop std's " (os error N)" suffix: we print the name instead.
    let text = match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    };
    format!("{text} ({})", errno_name(errno))
}

/// The requests of the `IPVS_DEFENSE` protocol (logic/proto.rs).
pub trait Client {
    /// `GET_SERVICE` dump: every service, without real servers.
    fn services(&mut self) -> Result<Vec<ServiceView>, NlError>;
    /// `GET_SERVICE` do: one service, without real servers.
    fn service(&mut self, key: &ServiceKey) -> Result<ServiceView, NlError>;
    /// `GET_DEST` dump: the real servers of a service.
    fn dests(&mut self, key: &ServiceKey) -> Result<Vec<DestView>, NlError>;
    /// `GET_CONN` dump.
    fn connections(&mut self) -> Result<Vec<ConnView>, NlError>;
    /// `GET_STATS`.
    fn global_stats(&mut self) -> Result<GlobalStats, NlError>;
    /// `GET_DEFENSE`.
    fn defense(&mut self) -> Result<DefenseInfo, NlError>;
    /// `NEW_SERVICE`.
    fn add_service(&mut self, key: &ServiceKey, scheduler: &str) -> Result<(), NlError>;
    /// `SET_SERVICE`.
    fn edit_service(&mut self, key: &ServiceKey, scheduler: &str) -> Result<(), NlError>;
    /// `DEL_SERVICE`.
    fn del_service(&mut self, key: &ServiceKey) -> Result<(), NlError>;
    /// `NEW_DEST`.
    fn add_dest(&mut self, key: &ServiceKey, dest: &DestKey, weight: u32) -> Result<(), NlError>;
    /// `SET_DEST`.
    fn edit_dest(&mut self, key: &ServiceKey, dest: &DestKey, weight: u32) -> Result<(), NlError>;
    /// `DEL_DEST`.
    fn del_dest(&mut self, key: &ServiceKey, dest: &DestKey) -> Result<(), NlError>;
    /// `ZERO`.
    fn zero(&mut self, key: Option<&ServiceKey>) -> Result<(), NlError>;
    /// `FLUSH`.
    fn flush(&mut self) -> Result<(), NlError>;
    /// `SET_DEFENSE`.
    fn set_defense(&mut self, level: u32) -> Result<(), NlError>;
}
