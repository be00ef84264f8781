// SPDX-License-Identifier: GPL-2.0
//! Pure formatting of every listing as text, in ipvsadm's layout where ipvsadm has one
//! (the JSON is [`crate::json`]'s).

use std::fmt::Write as _;

use crate::args::ListMode;
use crate::model::{ConnView, DefenseView, DestView, Protocol, ServiceView, Stats, TimeoutView};
use crate::timeouts;

/// How to print the service listing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FormatOpts {
    /// Plain, `--stats` or `--rate`.
    pub mode: ListMode,
    /// `--exact`.
    pub exact: bool,
    /// The first line (`-L` of every service prints one; `-L -t` does not).
    pub header: Option<String>,
}

/// The header line of `-L`, in place of ipvsadm's `IP Virtual Server version ... (size=...)`.
pub fn header_line(version: u8, conn_max: u64) -> String {
    format!("ipvs_defense (IPVS_DEFENSE protocol version {version}) (conn_max={conn_max})")
}

/// ipvsadm's `print_largenum`: `%9llu`, or 8 digits and a K/M/G/T suffix for large values;
/// with `--exact`, the whole number in at least 9 columns.
pub fn largenum(i: u64, exact: bool) -> String {
    if exact {
        let len = i.to_string().len();
        let width = if len <= 8 { 9 } else { len + 1 };
        return format!("{i:>width$}");
    }
    if i < 100_000_000 {
        format!("{i:>9}")
    } else if i < 1_000_000_000 {
        format!("{:>8}K", i / 1_000)
    } else if i < 100_000_000_000 {
        format!("{:>8}M", i / 1_000_000)
    } else if i < 100_000_000_000_000 {
        format!("{:>8}G", i / 1_000_000_000)
    } else {
        format!("{:>8}T", i / 1_000_000_000_000)
    }
}

/// Sorts services and their real servers as ipvsadm does (`ipvs_cmp_services`,
/// `ipvs_cmp_dests`): protocol, address, port.
pub fn sort_services(services: &mut [ServiceView]) {
    services.sort_by_key(|s| (s.key.protocol.number(), u32::from(s.key.addr), s.key.port));
    for s in services.iter_mut() {
        s.dests.sort_by_key(|d| (u32::from(d.addr), d.port));
    }
}

fn title(mode: ListMode) -> String {
    match mode {
        ListMode::Plain => "Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n".to_string(),
        ListMode::Stats => format!(
            "{:<33} {:>8} {:>8} {:>8} {:>8} {:>8}\n  -> RemoteAddress:Port\n",
            "Prot LocalAddress:Port", "Conns", "InPkts", "OutPkts", "InBytes", "OutBytes"
        ),
        ListMode::Rate => format!(
            "{:<33} {:>8} {:>8} {:>8} {:>8} {:>8}\n  -> RemoteAddress:Port\n",
            "Prot LocalAddress:Port", "CPS", "InPPS", "OutPPS", "InBPS", "OutBPS"
        ),
    }
}

fn truncate(mut s: String, max: usize) -> String {
    s.truncate(max);
    s
}

fn stats_columns(s: &Stats, exact: bool) -> String {
    [s.conns, s.inpkts, s.outpkts, s.inbytes, s.outbytes]
        .iter()
        .map(|&v| largenum(v, exact))
        .collect()
}

fn service_entry(out: &mut String, svc: &ServiceView, opts: &FormatOpts) {
    // ipvsadm: sprintf(svc_name, "%s  %s", "TCP", vname); svc_name[33] = '\0';
    let name = truncate(
        format!(
            "{}  {}:{}",
            svc.key.protocol.name(),
            svc.key.addr,
            svc.key.port
        ),
        33,
    );
    let rates = svc.rates.unwrap_or_default();
    match opts.mode {
        ListMode::Plain => {
            let _ = writeln!(out, "{} {}", name, svc.scheduler);
        }
        ListMode::Stats => {
            let _ = writeln!(out, "{:<33}{}", name, stats_columns(&svc.stats, opts.exact));
        }
        ListMode::Rate => {
            let cols: String = [
                rates.cps,
                rates.inpps,
                rates.outpps,
                rates.inbps,
                rates.outbps,
            ]
            .iter()
            .map(|&v| largenum(v, opts.exact))
            .collect();
            let _ = writeln!(out, "{name:<33}{cols}");
        }
    }
    for d in &svc.dests {
        dest_entry(out, d, opts);
    }
}

fn dest_entry(out: &mut String, d: &DestView, opts: &FormatOpts) {
    // ipvsadm: dname[28] = '\0';
    let name = truncate(format!("{}:{}", d.addr, d.port), 28);
    match opts.mode {
        ListMode::Plain => {
            let _ = writeln!(
                out,
                "  -> {:<28} {:<7} {:<6} {:<10} {:<10}",
                name, "Masq", d.weight, d.active, d.inactive
            );
        }
        ListMode::Stats => {
            let _ = writeln!(
                out,
                "  -> {:<28}{}",
                name,
                stats_columns(&d.stats, opts.exact)
            );
        }
        ListMode::Rate => {
            let r = d.rates.unwrap_or_default();
            let _ = writeln!(
                out,
                "  -> {:<28} {:>8} {:>8} {:>8}{}{}",
                name,
                r.cps,
                r.inpps,
                r.outpps,
                largenum(r.inbps, opts.exact),
                largenum(r.outbps, opts.exact)
            );
        }
    }
}

/// `-L -n`, `-L -n --stats`, `-L -n --rate` (services printed in the order given: call
/// [`sort_services`] first for ipvsadm's order).
pub fn format_list(services: &[ServiceView], opts: &FormatOpts) -> String {
    let mut out = String::new();
    if let Some(h) = &opts.header {
        out.push_str(h);
        out.push('\n');
    }
    out.push_str(&title(opts.mode));
    for svc in services {
        service_entry(&mut out, svc, opts);
    }
    out
}

/// `-S -n`: one `-A` line a service and one `-a` line a real server, as ipvsadm's
/// `-S -n` prints them (call [`sort_services`] first); `-R` reads them back.
pub fn format_rules(services: &[ServiceView]) -> String {
    let mut out = String::new();
    for svc in services {
        let flag = match svc.key.protocol {
            Protocol::Tcp => "-t",
            Protocol::Udp => "-u",
        };
        let vip = format!("{}:{}", svc.key.addr, svc.key.port);
        let _ = writeln!(out, "-A {flag} {vip} -s {}", svc.scheduler);
        for d in &svc.dests {
            let _ = writeln!(
                out,
                "-a {flag} {vip} -r {}:{} -m -w {}",
                d.addr, d.port, d.weight
            );
        }
    }
    out
}

/// `-L -n -c`: the connection table, in ipvsadm's layout.
pub fn format_connections(conns: &[ConnView]) -> String {
    let mut out = String::from("IPVS connection entries\n");
    // ipvsadm: printf("pro expire %-11s %-18s %-18s %s\n", "state", "source", ...)
    let (state, source, virt, dest) = ("state", "source", "virtual", "destination");
    let _ = writeln!(out, "pro expire {state:<11} {source:<18} {virt:<18} {dest}");
    for c in conns {
        // ipvsadm: printf("%-3s %-6s %-11s %-18s %-18s %s\n", ...), expire "%02d:%02d".
        let expire = format!("{:02}:{:02}", c.expires / 60, c.expires % 60);
        let source = format!("{}:{}", c.caddr, c.cport);
        let virt = format!("{}:{}", c.vaddr, c.vport);
        let dest = format!("{}:{}", c.daddr, c.dport);
        let _ = writeln!(
            out,
            "{:<3} {:<6} {:<11} {:<18} {:<18} {}",
            c.protocol.name(),
            expire,
            c.state_name(),
            source,
            virt,
            dest,
        );
    }
    out
}

/// ipvsadm's `-L --timeout`: `Timeout (tcp tcpfin udp): 900 120 300`.
pub fn format_ipvsadm_timeout(tcp: u32, tcpfin: u32, udp: u32) -> String {
    format!("Timeout (tcp tcpfin udp): {tcp} {tcpfin} {udp}\n")
}

fn level_name(level: u32) -> &'static str {
    match level {
        0 => "automatic",
        1 => "engaged",
        2 => "forced",
        _ => "unknown",
    }
}

fn effective_name(level: u32) -> &'static str {
    match level {
        0 => "calm",
        1 => "engaged",
        2 => "forced",
        _ => "unknown",
    }
}

fn mib(pages: u64, page_size: u64) -> String {
    let bytes = u128::from(pages) * u128::from(page_size);
    // One decimal, rounded down, without floating point.
    let tenths = bytes * 10 / (1024 * 1024);
    format!("{}.{} MiB", tenths / 10, tenths % 10)
}

fn drop_rate_text(rate: u32) -> String {
    match rate {
        0 => "none".to_string(),
        1 => "every new SYN (1 in 1)".to_string(),
        n => format!("1 in {n}"),
    }
}

/// `--defense`.
pub fn format_defense(v: &DefenseView) -> String {
    let d = &v.defense;
    let g = &v.global;
    let mut out = String::from("Defense\n");
    let mut row = |label: &str, value: String| {
        let _ = writeln!(out, "  {label:<22}{value}");
    };
    row(
        "level (operator)",
        format!("{} ({})", d.level, level_name(d.level)),
    );
    row(
        "level (effective)",
        format!("{} ({})", d.effective, effective_name(d.effective)),
    );
    row(
        "available memory",
        format!(
            "{} pages ({})",
            d.available_pages,
            mib(d.available_pages, v.page_size)
        ),
    );
    let thresh = if d.amemthresh_pages == 0 {
        "0 pages (automatic switch disabled)".to_string()
    } else {
        format!(
            "{} pages ({})",
            d.amemthresh_pages,
            mib(d.amemthresh_pages, v.page_size)
        )
    };
    row("amemthresh", thresh);
    row("SYN drop rate", drop_rate_text(d.drop_rate));
    row("level switches", d.switches.to_string());
    row(
        "connection entries",
        format!("{} of {}", g.entries, g.conn_max),
    );
    if let Some((high, low)) = d.fill_watermarks {
        let text = if high == 0 {
            "0% (automatic switch on the table's fill disabled)".to_string()
        } else {
            format!("engage at {high}%, return below {low}% of conn_max")
        };
        row("table watermarks", text);
    }
    out.push_str("Drop counters\n");
    for (name, value) in g.drops.named() {
        let _ = writeln!(out, "  {name:<22}{value}");
    }
    let _ = writeln!(
        out,
        "  {:<22}{}",
        "known_client_passes",
        v.known_client_passes()
    );
    out
}

/// `--timeouts`.
pub fn format_timeouts(rows: &[TimeoutView]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<13} {:<5} {:>8} {:>8}",
        "State", "Abbr", "Normal", "Defense"
    );
    let show = |v: Option<u32>| v.map_or_else(|| "-".to_string(), |s| s.to_string());
    for r in rows {
        let _ = writeln!(
            out,
            "{:<13} {:<5} {:>8} {:>8}",
            timeouts::display_name(r.row),
            timeouts::short_name(r.row),
            show(r.normal),
            show(r.defense)
        );
    }
    out
}
