// SPDX-License-Identifier: GPL-2.0

//! The director: the module's state and the order in which it is set up and torn down.

mod hooks;
mod sysctls;

use kernel::{prelude::*, sync::Arc};

/// Everything the module registered. Fields drop in declaration order, which is the
/// teardown order: first the hooks (no packet reaches us afterwards; unregistering waits for
/// hooks running on other CPUs), then the sysctl table.
pub(crate) struct Director {
    _hooks: hooks::Hooks,
    _sysctls: kernel::sysctl::Registration,
}

impl Director {
    pub(crate) fn new() -> Result<Self> {
        let stats = hooks::HookStats::new()?;
        // Sysctls first, so that the hooks never run without their tunables in place.
        let sysctls = sysctls::register(&stats)?;
        let hooks = hooks::Hooks::register(Arc::clone(&stats))?;
        Ok(Self {
            _hooks: hooks,
            _sysctls: sysctls,
        })
    }
}
