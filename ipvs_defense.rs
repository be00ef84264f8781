// SPDX-License-Identifier: GPL-2.0

//! ipvs_defense: an LVS-style NAT director on netfilter hooks that defends itself, and the
//! real servers behind it, against SYN floods.
//!
//! Layout:
//! - `logic/`: the pure, `core`-only logic (state tables, parsing, schedulers, ...), also
//!   compiled on the host for `cargo test`;
//! - `director/`: the module's glue, safe Rust joining the logic to the kernel abstractions
//!   of our `rust/` overlay (netfilter hooks, sysctl tables, bh-safe locks);
//! - this file: the module's entry points.
//!
//! Every raw-pointer operation lives in the `rust/` abstractions; this crate is safe Rust.

use kernel::prelude::*;

mod director;
// The logic is shared with the host crate; the module does not use all of it yet, and its
// `pub` items are `pub` for the host crate's tests.
#[expect(dead_code, unreachable_pub)]
mod logic;

module! {
    type: IpvsDefense,
    name: "ipvs_defense",
    author: "ipvs-defense developers",
    description: "LVS/NAT director with SYN-flood defense",
    license: "GPL",
}

struct IpvsDefense {
    _director: director::Director,
}

impl kernel::Module for IpvsDefense {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let director = director::Director::new(module)?;
        pr_info!("loaded: hooks at PRE_ROUTING, LOCAL_IN, FORWARD and LOCAL_OUT, netlink family IPVS_DEFENSE, sysctls in /proc/sys/net/ipvs_defense\n");
        Ok(Self {
            _director: director,
        })
    }
}

impl Drop for IpvsDefense {
    fn drop(&mut self) {
        pr_info!("unloading\n");
    }
}
