// SPDX-License-Identifier: GPL-2.0

//! The director: the module's state and the order in which it is set up and torn down.

mod config;
mod control;
mod hooks;
mod stats;
mod sysctls;

use kernel::{net::genetlink, prelude::*, sync::Arc};

/// Everything the module registered. Fields drop in declaration order, which is the
/// teardown order: first the hooks (no packet reaches us afterwards; unregistering waits for
/// hooks running on other CPUs), then the netlink family (no request afterwards; dumps in
/// progress hold a module reference, so they cannot be running), then the sysctl table.
pub(crate) struct Director {
    _hooks: hooks::Hooks,
    _control: genetlink::Registration<control::Control>,
    _sysctls: kernel::sysctl::Registration,
}

impl Director {
    pub(crate) fn new(module: &'static ThisModule) -> Result<Self> {
        let stats = hooks::HookStats::new()?;
        let store = config::Store::new()?;
        let global = Arc::new(stats::Stats::default(), GFP_KERNEL)?;
        // Sysctls first, so that the hooks and the family never run without their tunables.
        let sysctls = sysctls::register(&stats)?;
        let control = genetlink::Registration::new(control::Control { store, global }, module)?;
        let hooks = hooks::Hooks::register(Arc::clone(&stats))?;
        Ok(Self {
            _hooks: hooks,
            _control: control,
            _sysctls: sysctls,
        })
    }
}
