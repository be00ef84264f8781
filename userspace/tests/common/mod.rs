// SPDX-License-Identifier: GPL-2.0
//! Test data shared by the integration tests: the configuration the golden files in
//! `tests/golden/` describe, and a fake [`Client`].
#![allow(dead_code)]

use std::cell::RefCell;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use ipvsd_logic::drops::DropReason;
use ipvsdadm::client::{Client, NlError};
use ipvsdadm::model::{
    ConnView, DefenseInfo, DefenseView, DestKey, DestView, Drops, GlobalStats, Protocol, Rates,
    ServiceKey, ServiceView, Stats,
};
use ipvsdadm::timeouts::TimeoutRow;

pub fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

pub fn golden(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn tcp80() -> ServiceKey {
    ServiceKey {
        protocol: Protocol::Tcp,
        addr: ip("192.0.2.100"),
        port: 80,
    }
}

pub fn udp53() -> ServiceKey {
    ServiceKey {
        protocol: Protocol::Udp,
        addr: ip("192.0.2.100"),
        port: 53,
    }
}

fn st(v: [u64; 5]) -> Stats {
    Stats {
        conns: v[0],
        inpkts: v[1],
        outpkts: v[2],
        inbytes: v[3],
        outbytes: v[4],
    }
}

fn rt(v: [u64; 5]) -> Rates {
    Rates {
        cps: v[0],
        inpps: v[1],
        outpps: v[2],
        inbps: v[3],
        outbps: v[4],
    }
}

fn dest(addr: &str, port: u16, w: u32, a: u32, i: u32, s: [u64; 5], r: [u64; 5]) -> DestView {
    DestView {
        addr: ip(addr),
        port,
        weight: w,
        active: a,
        inactive: i,
        stats: st(s),
        rates: Some(rt(r)),
    }
}

/// Two services, unsorted (UDP first, TCP real servers out of order), with counters and
/// rates: `list.txt`, `stats.txt` and `rate.txt` once sorted.
pub fn services() -> Vec<ServiceView> {
    vec![
        ServiceView {
            key: udp53(),
            scheduler: "wlc".into(),
            flags: 0,
            stats: st([
                2_500_000_000,
                150_000_000_000,
                150_000_000_000_000,
                999_999_999,
                100_000_000,
            ]),
            drops: Drops::default().with(DropReason::Malformed, 4),
            rates: Some(rt([0, 1500, 1500, 120_000_000, 96000])),
            dests: vec![
                dest(
                    "198.51.100.5",
                    5353,
                    65535,
                    1234,
                    0,
                    [99_999_999; 5],
                    [123_456_789, 500, 500, 40_000_000, 32000],
                ),
                dest(
                    "198.51.100.4",
                    53,
                    100,
                    0,
                    7,
                    [1, 2, 3, 4, 5],
                    [0, 1000, 1000, 80000, 64000],
                ),
            ],
        },
        ServiceView {
            key: tcp80(),
            scheduler: "rr".into(),
            flags: 0,
            stats: st([1523, 98234, 87012, 5_892_344, 123_456_789]),
            drops: Drops::default()
                .with(DropReason::SynRate, 9)
                .with(DropReason::BlindAck, 2),
            rates: Some(rt([12, 340, 310, 45000, 2_100_000])),
            dests: vec![
                dest("198.51.100.10", 8080, 0, 0, 41, [0; 5], [0; 5]),
                dest(
                    "198.51.100.2",
                    8080,
                    1,
                    0,
                    0,
                    [800, 50000, 45000, 3_000_000, 60_000_000],
                    [7, 200, 180, 25000, 1_200_000],
                ),
                dest(
                    "198.51.100.3",
                    8080,
                    2,
                    12,
                    3,
                    [700, 48234, 42012, 2_892_344, 63_456_789],
                    [5, 140, 130, 20000, 900_000],
                ),
            ],
        },
    ]
}

fn conn(
    p: Protocol,
    c: (&str, u16),
    v: (&str, u16),
    d: (&str, u16),
    state: u8,
    expires: u32,
) -> ConnView {
    ConnView {
        protocol: p,
        caddr: ip(c.0),
        cport: c.1,
        vaddr: ip(v.0),
        vport: v.1,
        daddr: ip(d.0),
        dport: d.1,
        state,
        expires,
    }
}

/// `connections.txt`.
pub fn connections() -> Vec<ConnView> {
    use Protocol::{Tcp, Udp};
    let vip = ("192.0.2.100", 80);
    vec![
        conn(
            Tcp,
            ("203.0.113.7", 51234),
            vip,
            ("198.51.100.2", 8080),
            1,
            897,
        ),
        conn(
            Tcp,
            ("203.0.113.8", 40000),
            vip,
            ("198.51.100.3", 8080),
            3,
            8,
        ),
        conn(
            Tcp,
            ("203.0.113.200", 65535),
            vip,
            ("198.51.100.10", 8080),
            5,
            100,
        ),
        conn(
            Tcp,
            ("198.18.0.1", 1025),
            vip,
            ("198.51.100.2", 8080),
            10,
            119,
        ),
        conn(
            Udp,
            ("203.0.113.9", 5353),
            ("192.0.2.100", 53),
            ("198.51.100.4", 53),
            0,
            300,
        ),
        conn(
            Tcp,
            ("203.0.113.10", 443),
            vip,
            ("198.51.100.3", 8080),
            4,
            6000,
        ),
    ]
}

pub fn global() -> GlobalStats {
    GlobalStats {
        version: 1,
        stats: Stats {
            conns: 10,
            inpkts: 20,
            outpkts: 30,
            inbytes: 40,
            outbytes: 50,
        },
        drops: Drops::default()
            .with(DropReason::SynRate, 1000)
            .with(DropReason::Eviction, 20)
            .with(DropReason::Zombie, 5)
            .with(DropReason::Malformed, 2)
            .with(DropReason::BlindAck, 17)
            .with(DropReason::Rewrite, 3),
        entries: 1234,
        conn_max: 65536,
        known_client_passes: 42,
    }
}

pub fn defense_info() -> DefenseInfo {
    DefenseInfo {
        level: 0,
        effective: 1,
        available_pages: 1999,
        amemthresh_pages: 2560,
        drop_rate: 5,
        switches: 3,
        known_client_passes: None,
        fill_watermarks: None,
    }
}

/// `defense.txt`.
pub fn defense_view() -> DefenseView {
    DefenseView {
        defense: defense_info(),
        global: global(),
        page_size: 4096,
    }
}

/// The normal and defense timeouts of `timeouts.txt` (LISTEN's defense value missing).
pub const NORMAL: [u32; 12] = [2, 900, 120, 60, 120, 120, 10, 60, 30, 120, 120, 300];
pub const DEFENSE: [Option<u32>; 12] = [
    Some(2),
    Some(480),
    Some(60),
    Some(10),
    Some(60),
    Some(60),
    Some(10),
    Some(60),
    Some(30),
    None,
    Some(60),
    Some(180),
];

/// A fresh, empty directory under cargo's temporary directory for tests.
pub fn temp_dir(tag: &str) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "ipvsdadm-test-{}-{}-{}",
        std::process::id(),
        tag,
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A sysctl directory holding the timeouts of `timeouts.txt`, named by long names.
pub fn sysctl_dir(tag: &str) -> PathBuf {
    let dir = temp_dir(tag);
    for (row, name) in TimeoutRow::ALL
        .into_iter()
        .map(TimeoutRow::name)
        .enumerate()
    {
        std::fs::write(
            dir.join(format!("timeout_{name}")),
            format!("{}\n", NORMAL[row]),
        )
        .unwrap();
        if let Some(v) = DEFENSE[row] {
            std::fs::write(
                dir.join(format!("defense_timeout_{name}")),
                format!("{v}\n"),
            )
            .unwrap();
        }
    }
    dir
}

/// A fake module: answers from the fixtures, records every change, and fails the next
/// request with `fail` when set.
#[derive(Default)]
pub struct Fake {
    pub services: Vec<ServiceView>,
    pub conns: Vec<ConnView>,
    pub global: GlobalStats,
    pub defense: DefenseInfo,
    pub fail: Option<NlError>,
    /// The requests made, shared with the test (the fake itself moves into the run).
    pub calls: Rc<RefCell<Vec<String>>>,
    /// Counters added to every service and real server at each `services()` call.
    pub grow: u64,
    pub dumps: usize,
}

impl Fake {
    pub fn loaded() -> Self {
        let mut services = services();
        for s in services.iter_mut() {
            s.rates = None;
            for d in s.dests.iter_mut() {
                d.rates = None;
            }
        }
        Fake {
            services,
            conns: connections(),
            global: global(),
            defense: defense_info(),
            ..Fake::default()
        }
    }

    fn check(&mut self, call: String) -> Result<(), NlError> {
        self.calls.borrow_mut().push(call);
        match self.fail.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn without_dests(&self, s: &ServiceView) -> ServiceView {
        let mut s = s.clone();
        s.dests.clear();
        s
    }
}

fn bump(s: &mut Stats, n: u64) {
    s.conns += n;
    s.inpkts += n;
    s.outpkts += n;
    s.inbytes += n;
    s.outbytes += n;
}

impl Client for Fake {
    fn services(&mut self) -> Result<Vec<ServiceView>, NlError> {
        self.check("services".into())?;
        if self.dumps > 0 {
            let n = self.grow;
            for s in self.services.iter_mut() {
                bump(&mut s.stats, n);
                for d in s.dests.iter_mut() {
                    bump(&mut d.stats, n);
                }
            }
        }
        self.dumps += 1;
        Ok(self
            .services
            .iter()
            .map(|s| self.without_dests(s))
            .collect())
    }

    fn service(&mut self, key: &ServiceKey) -> Result<ServiceView, NlError> {
        self.check(format!("service {key}"))?;
        self.services
            .iter()
            .find(|s| s.key == *key)
            .map(|s| self.without_dests(s))
            .ok_or(NlError::Errno {
                errno: libc::ENOENT,
                message: None,
            })
    }

    fn dests(&mut self, key: &ServiceKey) -> Result<Vec<DestView>, NlError> {
        self.check(format!("dests {key}"))?;
        Ok(self
            .services
            .iter()
            .find(|s| s.key == *key)
            .map(|s| s.dests.clone())
            .unwrap_or_default())
    }

    fn connections(&mut self) -> Result<Vec<ConnView>, NlError> {
        self.check("connections".into())?;
        Ok(self.conns.clone())
    }

    fn global_stats(&mut self) -> Result<GlobalStats, NlError> {
        self.check("global_stats".into())?;
        Ok(self.global)
    }

    fn defense(&mut self) -> Result<DefenseInfo, NlError> {
        self.check("defense".into())?;
        Ok(self.defense)
    }

    fn add_service(&mut self, key: &ServiceKey, scheduler: &str) -> Result<(), NlError> {
        self.check(format!("add_service {key} {scheduler}"))
    }

    fn edit_service(&mut self, key: &ServiceKey, scheduler: &str) -> Result<(), NlError> {
        self.check(format!("edit_service {key} {scheduler}"))
    }

    fn del_service(&mut self, key: &ServiceKey) -> Result<(), NlError> {
        self.check(format!("del_service {key}"))
    }

    fn add_dest(&mut self, key: &ServiceKey, dest: &DestKey, weight: u32) -> Result<(), NlError> {
        self.check(format!("add_dest {key} {dest} {weight}"))
    }

    fn edit_dest(&mut self, key: &ServiceKey, dest: &DestKey, weight: u32) -> Result<(), NlError> {
        self.check(format!("edit_dest {key} {dest} {weight}"))
    }

    fn del_dest(&mut self, key: &ServiceKey, dest: &DestKey) -> Result<(), NlError> {
        self.check(format!("del_dest {key} {dest}"))
    }

    fn zero(&mut self, key: Option<&ServiceKey>) -> Result<(), NlError> {
        match key {
            Some(k) => self.check(format!("zero {k}")),
            None => self.check("zero all".into()),
        }
    }

    fn flush(&mut self) -> Result<(), NlError> {
        self.check("flush".into())
    }

    fn set_defense(&mut self, level: u32) -> Result<(), NlError> {
        self.check(format!("set_defense {level}"))
    }
}
