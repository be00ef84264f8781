// SPDX-License-Identifier: GPL-2.0
//! The JSON of `--json`: one serializable document per command, built from the model. The
//! field names here are the schema (userspace/README.md, "JSON"); every document starts
//! with `"version": SCHEMA_VERSION`, raised whenever a field changes meaning or goes away.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use serde::Serialize;

use crate::model::{
    ConnView, DefenseView, DestView, Drops, Rates, ServiceView, Stats, TimeoutView,
};

/// The version of the schema below.
pub const SCHEMA_VERSION: u32 = 1;

/// `-L --json`, with `--stats` or `--rate` too.
#[derive(Serialize)]
struct List<'a> {
    version: u32,
    /// For `--rate`: the measured time between the two samples.
    #[serde(skip_serializing_if = "Option::is_none")]
    rate_interval_ms: Option<u64>,
    services: Vec<Service<'a>>,
}

#[derive(Serialize)]
struct Service<'a> {
    protocol: &'static str,
    address: Ipv4Addr,
    port: u16,
    scheduler: &'a str,
    flags: u32,
    stats: &'a Stats,
    drops: &'a Drops,
    #[serde(skip_serializing_if = "Option::is_none")]
    rates: Option<&'a Rates>,
    real_servers: Vec<RealServer<'a>>,
}

#[derive(Serialize)]
struct RealServer<'a> {
    address: Ipv4Addr,
    port: u16,
    /// Always `Masq`: the module forwards by NAT only.
    forward: &'static str,
    weight: u32,
    active_conns: u32,
    inactive_conns: u32,
    stats: &'a Stats,
    #[serde(skip_serializing_if = "Option::is_none")]
    rates: Option<&'a Rates>,
}

/// `-L -c --json`.
#[derive(Serialize)]
struct Connections {
    version: u32,
    connections: Vec<Connection>,
}

#[derive(Serialize)]
struct Connection {
    protocol: &'static str,
    client_address: Ipv4Addr,
    client_port: u16,
    virtual_address: Ipv4Addr,
    virtual_port: u16,
    dest_address: Ipv4Addr,
    dest_port: u16,
    state: String,
    expires: u32,
}

/// `-L --timeout --json`: ipvsadm's three timeouts.
#[derive(Serialize)]
struct IpvsadmTimeout {
    version: u32,
    tcp: u32,
    tcpfin: u32,
    udp: u32,
}

/// `--defense --json`.
#[derive(Serialize)]
struct Defense<'a> {
    version: u32,
    operator_level: u32,
    effective_level: u32,
    available_pages: u64,
    amemthresh_pages: u64,
    page_size: u64,
    /// One new-connection SYN dropped in this many; 0: none.
    drop_rate: u32,
    switches: u64,
    entries: u64,
    conn_max: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    table_fill_high: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    table_fill_low: Option<u32>,
    drops: &'a Drops,
    known_client_passes: u64,
    stats: &'a Stats,
}

/// `--timeouts --json`: seconds by row name; `null` where the sysctl could not be read.
#[derive(Serialize)]
struct Timeouts {
    version: u32,
    timeouts: BTreeMap<&'static str, Option<u32>>,
    defense_timeouts: BTreeMap<&'static str, Option<u32>>,
}

fn pretty<T: Serialize>(doc: &T) -> String {
    let mut s = serde_json::to_string_pretty(doc).unwrap_or_else(|_| "null".to_string());
    s.push('\n');
    s
}

fn real_server(d: &DestView) -> RealServer<'_> {
    RealServer {
        address: d.addr,
        port: d.port,
        forward: "Masq",
        weight: d.weight,
        active_conns: d.active,
        inactive_conns: d.inactive,
        stats: &d.stats,
        rates: d.rates.as_ref(),
    }
}

fn service(s: &ServiceView) -> Service<'_> {
    Service {
        protocol: s.key.protocol.name(),
        address: s.key.addr,
        port: s.key.port,
        scheduler: &s.scheduler,
        flags: s.flags,
        stats: &s.stats,
        drops: &s.drops,
        rates: s.rates.as_ref(),
        real_servers: s.dests.iter().map(real_server).collect(),
    }
}

/// `-L --json`: every service with its real servers and counters, and for `--rate` the
/// rates and `rate_interval_ms`.
pub fn list(services: &[ServiceView], rate_interval_ms: Option<u64>) -> String {
    pretty(&List {
        version: SCHEMA_VERSION,
        rate_interval_ms,
        services: services.iter().map(service).collect(),
    })
}

/// `-L -c --json`.
pub fn connections(conns: &[ConnView]) -> String {
    pretty(&Connections {
        version: SCHEMA_VERSION,
        connections: conns
            .iter()
            .map(|c| Connection {
                protocol: c.protocol.name(),
                client_address: c.caddr,
                client_port: c.cport,
                virtual_address: c.vaddr,
                virtual_port: c.vport,
                dest_address: c.daddr,
                dest_port: c.dport,
                state: c.state_name(),
                expires: c.expires,
            })
            .collect(),
    })
}

/// `-L --timeout --json`.
pub fn ipvsadm_timeout(tcp: u32, tcpfin: u32, udp: u32) -> String {
    pretty(&IpvsadmTimeout {
        version: SCHEMA_VERSION,
        tcp,
        tcpfin,
        udp,
    })
}

/// `--defense --json`.
pub fn defense(v: &DefenseView) -> String {
    let d = &v.defense;
    let g = &v.global;
    pretty(&Defense {
        version: SCHEMA_VERSION,
        operator_level: d.level,
        effective_level: d.effective,
        available_pages: d.available_pages,
        amemthresh_pages: d.amemthresh_pages,
        page_size: v.page_size,
        drop_rate: d.drop_rate,
        switches: d.switches,
        entries: g.entries,
        conn_max: g.conn_max,
        table_fill_high: d.fill_watermarks.map(|(high, _)| high),
        table_fill_low: d.fill_watermarks.map(|(_, low)| low),
        drops: &g.drops,
        known_client_passes: v.known_client_passes(),
        stats: &g.stats,
    })
}

/// `--timeouts --json`, keyed by the sysctl suffix of each row.
pub fn timeouts(rows: &[TimeoutView]) -> String {
    pretty(&Timeouts {
        version: SCHEMA_VERSION,
        timeouts: rows.iter().map(|r| (r.row.name(), r.normal)).collect(),
        defense_timeouts: rows.iter().map(|r| (r.row.name(), r.defense)).collect(),
    })
}
