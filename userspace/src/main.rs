// SPDX-License-Identifier: GPL-2.0
//! `ipvsdadm`: exit status 0 on success, 1 on a runtime or kernel error, 2 on a usage error.
#![forbid(unsafe_code)]

use ipvsdadm::netlink::NlClient;
use ipvsdadm::run::{main_with, Env};
use rustix::process::{set_parent_process_death_signal, Signal};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--batch") {
        // A batch ipvsdadm serves the script that started it: it ends when that script
        // does, even if a process the script left behind still holds its input open.
        let _ = set_parent_process_death_signal(Some(Signal::TERM));
    }
    let code = main_with(
        &args,
        NlClient::connect,
        &Env::default(),
        &mut std::io::stdin().lock(),
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    );
    std::process::exit(code);
}
