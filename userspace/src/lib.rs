// SPDX-License-Identifier: GPL-2.0
//! `ipvsdadm`: the ipvsadm-style control tool of the ipvs_defense director.
//!
//! - [`args`]: the pure command-line parser ([`args::parse_args`]);
//! - [`client`]: the [`client::Client`] trait (the protocol's requests);
//! - [`netlink`]: its implementation over generic netlink with `neli`;
//! - [`model`]: the plain data listed;
//! - [`format`]: pure text and JSON formatting of every listing;
//! - [`timeouts`]: the timeout sysctls;
//! - [`run`]: runs a command and maps failures to one line and an exit status.
#![forbid(unsafe_code)]

pub mod args;
pub mod client;
pub mod format;
pub mod json;
pub mod model;
pub mod netlink;
pub mod run;
pub mod timeouts;
