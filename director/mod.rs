// SPDX-License-Identifier: GPL-2.0

//! The director: the module's state and the order in which it is set up and torn down.

mod config;
mod control;
mod datapath;
mod defense;
mod fault;
mod hooks;
mod stats;
mod sysctls;
mod table;
mod tunables;

use kernel::{delayed_work, jiffies, meminfo::MemInfo, net::genetlink, prelude::*, sync::Arc};

/// How often expired entries are removed, in milliseconds.
const SWEEP_MS: u32 = 250;

/// Removes expired entries, in process context.
struct Sweeper(Arc<datapath::DataPath>);

impl delayed_work::Handler for Sweeper {
    fn run(&self) {
        self.0.sweep(jiffies::now());
    }
}

/// Everything the module registered. Fields drop in declaration order, which is the
/// teardown order: first the hooks (no packet reaches us afterwards; unregistering waits for
/// hooks running on other CPUs), then the netlink family (no request afterwards; dumps in
/// progress hold a module reference, so they cannot be running), then the sysctl table.
pub(crate) struct Director {
    _hooks: hooks::Hooks,
    _control: genetlink::Registration<control::Control>,
    _sweeper: delayed_work::Periodic<Sweeper>,
    _ticker: delayed_work::Periodic<defense::Ticker>,
    _sysctls: kernel::sysctl::Registration,
    table: Arc<table::Table>,
}

impl Drop for Director {
    fn drop(&mut self) {
        // Runs before the fields are dropped (and so unregistered). The entries themselves
        // are freed with the table, once the hooks, the family and the sweeper are gone.
        pr_info!("{} connection entries at unload\n", self.table.len());
    }
}

impl Director {
    pub(crate) fn new(module: &'static ThisModule) -> Result<Self> {
        fault::leak_one()?;
        let stats = Arc::new(stats::HookStats::new()?, GFP_KERNEL)?;
        let store = config::Store::new()?;
        let global = Arc::new(stats::Stats::new()?, GFP_KERNEL)?;
        let malformed = Arc::new(stats::MalformedStats::new()?, GFP_KERNEL)?;
        let capacity = crate::logic::sizing::capacity_for(MemInfo::read().total_pages);
        let tunables = Arc::new(tunables::Tunables::new(capacity), GFP_KERNEL)?;
        let table = table::Table::new(capacity)?;
        let controller =
            Arc::pin_init(defense::Controller::new(Arc::clone(&tunables))?, GFP_KERNEL)?;
        let proxy = Arc::new(stats::ProxyStats::new()?, GFP_KERNEL)?;
        let sysctls =
            sysctls::register(&tunables, &stats, &global, &malformed, &controller, &proxy)?;
        let dp = Arc::new(
            datapath::DataPath {
                store: Arc::clone(&store),
                table: Arc::clone(&table),
                global: Arc::clone(&global),
                malformed,
                defense: Arc::clone(&controller),
                tunables: Arc::clone(&tunables),
                zombie_resets: datapath::DataPath::zombie_reset_limit(),
                cookies: datapath::DataPath::cookie_secrets(),
                proxy,
            },
            GFP_KERNEL,
        )?;
        let sweeper = delayed_work::Periodic::start(Sweeper(Arc::clone(&dp)), SWEEP_MS)?;
        let ticker = delayed_work::Periodic::start(
            defense::Ticker {
                controller: Arc::clone(&controller),
                table: Arc::clone(&table),
            },
            1000,
        )?;
        let control = genetlink::Registration::new(
            control::Control {
                store,
                global,
                table: Arc::clone(&table),
                defense: controller,
                tunables,
            },
            module,
        )?;
        let hooks = hooks::Hooks::register(Arc::clone(&stats), dp)?;
        Ok(Self {
            _hooks: hooks,
            _control: control,
            _sweeper: sweeper,
            _ticker: ticker,
            _sysctls: sysctls,
            table,
        })
    }
}
