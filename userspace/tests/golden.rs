// SPDX-License-Identifier: GPL-2.0
//! Every listing against the hand-written golden files of `tests/golden/` (written from
//! ipvsadm's printf formats), and the JSON of each listing parsed back.

mod common;

use std::time::Duration;

use common::*;
use ipvsdadm::args::ListMode;
use ipvsdadm::format::{self, FormatOpts};
use ipvsdadm::json;
use ipvsdadm::model::{ServiceView, TimeoutView};
use ipvsdadm::run::fill_rates;
use ipvsdadm::timeouts::TimeoutRow;
use serde_json::Value;

fn sorted() -> Vec<ServiceView> {
    let mut s = services();
    format::sort_services(&mut s);
    s
}

fn opts(mode: ListMode) -> FormatOpts {
    FormatOpts {
        mode,
        exact: false,
        header: Some(format::header_line(1, 65536)),
    }
}

fn timeout_rows() -> Vec<TimeoutView> {
    TimeoutRow::ALL
        .into_iter()
        .enumerate()
        .map(|(i, row)| TimeoutView {
            row,
            normal: Some(NORMAL[i]),
            defense: DEFENSE[i],
        })
        .collect()
}

#[test]
fn list_numeric_matches_golden() {
    assert_eq!(
        format::format_list(&sorted(), &opts(ListMode::Plain)),
        golden("list.txt")
    );
}

#[test]
fn list_stats_matches_golden() {
    assert_eq!(
        format::format_list(&sorted(), &opts(ListMode::Stats)),
        golden("stats.txt")
    );
}

#[test]
fn list_rate_matches_golden() {
    assert_eq!(
        format::format_list(&sorted(), &opts(ListMode::Rate)),
        golden("rate.txt")
    );
}

#[test]
fn rates_from_two_samples_match_golden() {
    // First sample: the fixture's counters; second: counters + rate over one second.
    let mut first = sorted();
    for s in first.iter_mut() {
        s.rates = None;
        for d in s.dests.iter_mut() {
            d.rates = None;
        }
    }
    let mut second = sorted();
    for s in second.iter_mut() {
        let r = s.rates.take().unwrap();
        s.stats.conns += r.cps;
        s.stats.inpkts += r.inpps;
        s.stats.outpkts += r.outpps;
        s.stats.inbytes += r.inbps;
        s.stats.outbytes += r.outbps;
        for d in s.dests.iter_mut() {
            let r = d.rates.take().unwrap();
            d.stats.conns += r.cps;
            d.stats.inpkts += r.inpps;
            d.stats.outpkts += r.outpps;
            d.stats.inbytes += r.inbps;
            d.stats.outbytes += r.outbps;
        }
    }
    fill_rates(&first, &mut second, Duration::from_secs(1));
    assert_eq!(
        format::format_list(&second, &opts(ListMode::Rate)),
        golden("rate.txt")
    );
}

#[test]
fn list_one_service_has_no_header_line() {
    let one = vec![sorted().remove(0)];
    let mut o = opts(ListMode::Plain);
    o.header = None;
    let want: String = golden("list.txt")
        .lines()
        .skip(1)
        .take(6)
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(format::format_list(&one, &o), want);
}

#[test]
fn connections_match_golden() {
    assert_eq!(
        format::format_connections(&connections()),
        golden("connections.txt")
    );
}

#[test]
fn defense_matches_golden() {
    assert_eq!(
        format::format_defense(&defense_view()),
        golden("defense.txt")
    );
}

#[test]
fn timeouts_match_golden() {
    assert_eq!(
        format::format_timeouts(&timeout_rows()),
        golden("timeouts.txt")
    );
}

#[test]
fn ipvsadm_timeout_matches_golden() {
    assert_eq!(
        format::format_ipvsadm_timeout(900, 120, 300),
        golden("ipvsadm_timeout.txt")
    );
}

#[test]
fn largenum_as_ipvsadm() {
    assert_eq!(format::largenum(0, false), "        0");
    assert_eq!(format::largenum(99_999_999, false), " 99999999");
    assert_eq!(format::largenum(100_000_000, false), "  100000K");
    assert_eq!(format::largenum(999_999_999, false), "  999999K");
    assert_eq!(format::largenum(1_000_000_000, false), "    1000M");
    assert_eq!(format::largenum(99_999_999_999, false), "   99999M");
    assert_eq!(format::largenum(100_000_000_000, false), "     100G");
    assert_eq!(format::largenum(100_000_000_000_000, false), "     100T");
    assert_eq!(format::largenum(u64::MAX, false), "18446744T");
    // --exact: at least 9 columns, one space before longer numbers.
    assert_eq!(format::largenum(5, true), "        5");
    assert_eq!(format::largenum(123_456_789, true), " 123456789");
    assert_eq!(format::largenum(123_456_789_012, true), " 123456789012");
}

#[test]
fn exact_stats_expand_numbers() {
    let mut o = opts(ListMode::Stats);
    o.exact = true;
    let text = format::format_list(&sorted(), &o);
    assert!(text.contains(
        "TCP  192.0.2.100:80                   1523    98234    87012  5892344 123456789\n"
    ));
    assert!(text.contains("UDP  192.0.2.100:53               2500000000 150000000000 150000000000000 999999999 100000000\n"));
}

#[test]
fn long_names_are_cut_as_ipvsadm() {
    // Only IPv4 exists here, so the 33/28-column cuts never bite; the widest names fit.
    let mut s = sorted();
    s[0].key.addr = ip("255.255.255.255");
    s[0].key.port = 65535;
    s[0].dests.truncate(1);
    s[0].dests[0].addr = ip("255.255.255.255");
    s[0].dests[0].port = 65535;
    let mut o = opts(ListMode::Plain);
    o.header = None;
    let text = format::format_list(&s[..1], &o);
    assert!(text.contains("\nTCP  255.255.255.255:65535 rr\n"));
    assert!(
        text.contains("\n  -> 255.255.255.255:65535        Masq    1      0          0         \n")
    );
}

fn parse(text: &str) -> Value {
    assert!(text.ends_with('\n'));
    serde_json::from_str(text).expect("valid JSON")
}

#[test]
fn json_list_fields() {
    let v = parse(&json::list(&sorted(), None));
    let services = v["services"].as_array().unwrap();
    assert_eq!(services.len(), 2);
    assert!(v.get("rate_interval_ms").is_none());
    let tcp = &services[0];
    assert_eq!(tcp["protocol"], "TCP");
    assert_eq!(tcp["address"], "192.0.2.100");
    assert_eq!(tcp["port"], 80);
    assert_eq!(tcp["scheduler"], "rr");
    assert_eq!(tcp["flags"], 0);
    assert_eq!(tcp["stats"]["conns"], 1523);
    assert_eq!(tcp["stats"]["inpkts"], 98234);
    assert_eq!(tcp["stats"]["outpkts"], 87012);
    assert_eq!(tcp["stats"]["inbytes"], 5_892_344);
    assert_eq!(tcp["stats"]["outbytes"], 123_456_789);
    assert_eq!(tcp["drops"]["syn_rate_drops"], 9);
    assert_eq!(tcp["drops"]["blind_acks"], 2);
    for name in [
        "entry_evictions",
        "route_errors",
        "zombie_replies",
        "table_full",
        "malformed",
        "rewrite_failures",
    ] {
        assert_eq!(tcp["drops"][name], 0, "{name}");
    }
    let rs = tcp["real_servers"].as_array().unwrap();
    assert_eq!(rs.len(), 3);
    let addrs: Vec<&str> = rs.iter().map(|r| r["address"].as_str().unwrap()).collect();
    assert_eq!(addrs, ["198.51.100.2", "198.51.100.3", "198.51.100.10"]);
    assert_eq!(rs[1]["port"], 8080);
    assert_eq!(rs[1]["forward"], "Masq");
    assert_eq!(rs[1]["weight"], 2);
    assert_eq!(rs[1]["active_conns"], 12);
    assert_eq!(rs[1]["inactive_conns"], 3);
    assert_eq!(rs[1]["stats"]["conns"], 700);
    let udp = &services[1];
    assert_eq!(udp["protocol"], "UDP");
    assert_eq!(udp["port"], 53);
    assert_eq!(udp["stats"]["outpkts"], 150_000_000_000_000u64);
    assert_eq!(udp["real_servers"][1]["weight"], 65535);
}

#[test]
fn json_rate_fields() {
    let v = parse(&json::list(&sorted(), Some(1000)));
    assert_eq!(v["rate_interval_ms"], 1000);
    let tcp = &v["services"][0];
    assert_eq!(tcp["rates"]["cps"], 12);
    assert_eq!(tcp["rates"]["inpps"], 340);
    assert_eq!(tcp["rates"]["outpps"], 310);
    assert_eq!(tcp["rates"]["inbps"], 45000);
    assert_eq!(tcp["rates"]["outbps"], 2_100_000);
    assert_eq!(tcp["real_servers"][0]["rates"]["outbps"], 1_200_000);
    assert_eq!(
        v["services"][1]["real_servers"][1]["rates"]["cps"],
        123_456_789
    );
}

#[test]
fn json_connections_fields() {
    let v = parse(&json::connections(&connections()));
    let c = v["connections"].as_array().unwrap();
    assert_eq!(c.len(), 6);
    assert_eq!(c[0]["protocol"], "TCP");
    assert_eq!(c[0]["client_address"], "203.0.113.7");
    assert_eq!(c[0]["client_port"], 51234);
    assert_eq!(c[0]["virtual_address"], "192.0.2.100");
    assert_eq!(c[0]["virtual_port"], 80);
    assert_eq!(c[0]["dest_address"], "198.51.100.2");
    assert_eq!(c[0]["dest_port"], 8080);
    assert_eq!(c[0]["state"], "ESTABLISHED");
    assert_eq!(c[0]["expires"], 897);
    assert_eq!(c[3]["state"], "SYNACK");
    assert_eq!(c[4]["protocol"], "UDP");
    assert_eq!(c[4]["state"], "UDP");
    assert_eq!(c[5]["expires"], 6000);
}

#[test]
fn json_defense_fields() {
    let v = parse(&json::defense(&defense_view()));
    assert_eq!(v["operator_level"], 0);
    assert_eq!(v["effective_level"], 1);
    assert_eq!(v["available_pages"], 1999);
    assert_eq!(v["amemthresh_pages"], 2560);
    assert_eq!(v["page_size"], 4096);
    assert_eq!(v["drop_rate"], 5);
    assert_eq!(v["switches"], 3);
    assert_eq!(v["entries"], 1234);
    assert_eq!(v["conn_max"], 65536);
    assert_eq!(v["known_client_passes"], 42);
    assert_eq!(v["drops"]["syn_rate_drops"], 1000);
    assert_eq!(v["drops"]["entry_evictions"], 20);
    assert_eq!(v["drops"]["route_errors"], 0);
    assert_eq!(v["drops"]["zombie_replies"], 5);
    assert_eq!(v["drops"]["table_full"], 0);
    assert_eq!(v["drops"]["malformed"], 2);
    assert_eq!(v["drops"]["blind_acks"], 17);
    assert_eq!(v["drops"]["rewrite_failures"], 3);
    assert_eq!(v["stats"]["outbytes"], 50);
}

#[test]
fn defense_passes_prefer_the_defense_reply() {
    let mut d = defense_view();
    d.defense.known_client_passes = Some(7);
    let v = parse(&json::defense(&d));
    assert_eq!(v["known_client_passes"], 7);
    assert!(format::format_defense(&d).contains("  known_client_passes   7\n"));
}

#[test]
fn defense_text_edge_cases() {
    let mut d = defense_view();
    d.defense.amemthresh_pages = 0;
    d.defense.drop_rate = 0;
    d.defense.level = 2;
    d.defense.effective = 2;
    let t = format::format_defense(&d);
    assert!(t.contains("  amemthresh            0 pages (automatic switch disabled)\n"));
    assert!(t.contains("  SYN drop rate         none\n"));
    assert!(t.contains("  level (operator)      2 (forced)\n"));
    assert!(t.contains("  level (effective)     2 (forced)\n"));
    d.defense.drop_rate = 1;
    assert!(format::format_defense(&d).contains("  SYN drop rate         every new SYN (1 in 1)\n"));
}

#[test]
fn json_timeouts_fields() {
    let v = parse(&json::timeouts(&timeout_rows()));
    assert_eq!(v["timeouts"]["established"], 900);
    assert_eq!(v["timeouts"]["syn_recv"], 60);
    assert_eq!(v["timeouts"]["udp"], 300);
    assert_eq!(v["timeouts"]["none"], 2);
    assert_eq!(v["timeouts"]["synack"], 120);
    assert_eq!(v["defense_timeouts"]["established"], 480);
    assert_eq!(v["defense_timeouts"]["syn_recv"], 10);
    assert_eq!(v["defense_timeouts"]["udp"], 180);
    assert!(v["defense_timeouts"]["listen"].is_null());
    assert_eq!(v["timeouts"].as_object().unwrap().len(), 12);
}

#[test]
fn json_ipvsadm_timeout_fields() {
    let v = parse(&json::ipvsadm_timeout(900, 120, 300));
    assert_eq!(v["tcp"], 900);
    assert_eq!(v["tcpfin"], 120);
    assert_eq!(v["udp"], 300);
}

#[test]
fn defense_shows_the_table_watermarks_when_the_kernel_sends_them() {
    let mut d = defense_view();
    assert!(!format::format_defense(&d).contains("table watermarks"));
    assert!(parse(&json::defense(&d)).get("table_fill_high").is_none());
    d.defense.fill_watermarks = Some((90, 70));
    let t = format::format_defense(&d);
    assert!(t.contains("  table watermarks      engage at 90%, return below 70% of conn_max\n"));
    let v = parse(&json::defense(&d));
    assert_eq!(
        (v["table_fill_high"].clone(), v["table_fill_low"].clone()),
        (90.into(), 70.into())
    );
    d.defense.fill_watermarks = Some((0, 70));
    assert!(format::format_defense(&d)
        .contains("  table watermarks      0% (automatic switch on the table's fill disabled)\n"));
}

#[test]
fn every_json_document_carries_the_schema_version() {
    for doc in [
        json::list(&sorted(), None),
        json::list(&sorted(), Some(1000)),
        json::connections(&connections()),
        json::ipvsadm_timeout(900, 120, 300),
        json::defense(&defense_view()),
        json::timeouts(&timeout_rows()),
    ] {
        assert_eq!(parse(&doc)["version"], json::SCHEMA_VERSION, "{doc}");
    }
}
