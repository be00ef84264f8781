// SPDX-License-Identifier: GPL-2.0
//! `loadgen`: the benchmark's traffic generator and servers (see bench/README.md).
//!
//! Under software emulation a process start costs seconds in the guest and Python is far
//! too slow, so every piece of benchmark traffic that a stock tool does not cover well is
//! one subcommand of this small binary:
//!
//! ```text
//! loadgen serve --port P --seconds S [--reply TEXT] [--threads N]
//!     TCP server: accept, write TEXT and a newline, close (the server closes first, so
//!     the TIME_WAIT is on its side). Exits after S seconds.
//! loadgen serve --udp --port P --seconds S [--idle-ms MS] [--ready FILE]
//!     UDP sink: counts datagrams; exits S seconds after start, or MS (default 2000)
//!     milliseconds after the last datagram once one arrived. Creates FILE (if given) once
//!     it listens. Prints `received=N`.
//! loadgen conn --dst IP:PORT [--dst IP:PORT ...] --seconds S --parallel N --ports LO-HI
//!             [--timeout-ms T] [--rate R] [--ready FILE]
//!     Short TCP connections from N threads for S seconds, round robin over the
//!     destinations: bind the next client port of LO..=HI (each port once, so a client
//!     never reuses a port that a server may still hold in TIME_WAIT), connect, read the
//!     answer to EOF, close; with --rate, connection i starts no earlier than i/R seconds
//!     after the start (R per second in all threads together). Creates FILE (if given)
//!     when it starts. Stops early when the ports run out. Prints `ok= fast= failed= bind_errors= slow= elapsed_ms= rate= ports_used=
//!     exhausted= start_ms= end_ms=` (fast: answered within 1 s; slow: took 900 ms or
//!     more, answered or not; start_ms, end_ms: wall clock, for combining clients).
//! loadgen udp --dst IP:PORT [--dst ...] --seconds S [--flows F] [--size BYTES] [--rate R]
//!             [--ready FILE]
//!     Small UDP datagrams from F sockets (F source ports, so a scheduler spreads them),
//!     as fast as possible or R per second in all. Creates FILE (if given) when it starts.
//!     Prints `sent= errors= elapsed_ms= rate=`.
//! loadgen syn --dst IP:PORT [--dst ...] --count N --seconds S [--ack | --fin]
//!             [--seed X [--cycle C]] [--ready FILE] [--src-block B] [--rate R] [--stop-file STOP]
//!     Spoofed TCP SYNs (with --ack each followed by a blind ACK from the same source, with
//!     --fin by a FIN without ACK), round robin over the destinations, as fast as possible,
//!     or R SYNs per second with --rate, from random sources in 198.18.0.0/15 (the
//!     benchmarking range; the guest routes it back to a client namespace that drops the
//!     replies) and random ports; with --src-block B (0..63) only from the B-th /21 of that
//!     range, so that the entries of one flood can be told from those of earlier ones. With
//!     --seed, the sources, ports and sequence numbers are the same at every run with that
//!     seed (to send the same SYNs again), and with --cycle C as well, the first C of them
//!     again and again. Creates FILE (if given) when it starts sending.
//!     Stops after N SYNs, S seconds, or once STOP exists. Prints `sent= errors=
//!     elapsed_ms= rate=`.
//! loadgen answer --name NAME [--port P] [--udp-port U] --seconds S [--ready FILE]
//!     The tests' real server: answers each TCP connection on P and each UDP datagram on U
//!     with `NAME CLIENT-ADDRESS` and a newline (the client's address as it arrived, so a
//!     test sees NAT, not masquerading). TCP: writes the answer, reads what the client
//!     sends until the client ends its side, then closes (so a client may hold the
//!     connection ESTABLISHED, and closing never resets). Creates FILE (if given) once it
//!     listens. Exits after S seconds.
//! loadgen req --dst IP:PORT [--udp] [--count N] [--timeout-ms T]
//!     The tests' client: N requests one after the other (default 1), each from a new
//!     socket, printing each answer on a line. TCP: connect, end its side at once, read
//!     the answer to the server's end; UDP: send `hi`, wait for one datagram. T (default
//!     10000 for TCP, 3000 for UDP) bounds each connect and each wait for an answer. A
//!     failed request prints `loadgen req: ...` with the reason on its line instead; the
//!     exit status is 1 when any failed.
//! ```
//!
//! Every subcommand takes `--netns NAME`: it first enters the network namespace
//! /run/netns/NAME (as `ip netns exec` would, without a second process start).
//!
//! Every mode is bounded in time; floods also in count. A sender that cannot keep up with
//! --rate sends as fast as it can: the printed rate says what it offered.

use rustix::thread::{move_into_link_name_space, LinkNameSpaceType};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, UdpSocket};
use std::os::fd::AsFd;
use std::path::Path;
use std::process::exit;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// Parsed `--key value` options; flags (`--udp`, `--ack`) map to an empty list.
struct Opts {
    map: HashMap<String, Vec<String>>,
}

const FLAGS: [&str; 3] = ["udp", "ack", "fin"];

impl Opts {
    fn parse(args: &[String]) -> Result<Self, String> {
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        let mut i = 0;
        while i < args.len() {
            let key = args[i]
                .strip_prefix("--")
                .ok_or_else(|| format!("unexpected argument '{}'", args[i]))?;
            let entry = map.entry(key.to_string()).or_default();
            if !FLAGS.contains(&key) {
                let v = args
                    .get(i + 1)
                    .ok_or_else(|| format!("--{key} needs a value"))?;
                entry.push(v.clone());
                i += 1;
            }
            i += 1;
        }
        Ok(Self { map })
    }

    fn flag(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    fn all(&self, key: &str) -> Vec<String> {
        self.map.get(key).cloned().unwrap_or_default()
    }

    fn get<T: std::str::FromStr>(&self, key: &str, default: Option<T>) -> Result<T, String> {
        match self.map.get(key).and_then(|v| v.last()) {
            Some(s) => s
                .parse()
                .map_err(|_| format!("bad value '{s}' for --{key}")),
            None => default.ok_or_else(|| format!("--{key} is required")),
        }
    }

    fn dsts(&self) -> Result<Vec<SocketAddrV4>, String> {
        let d: Result<Vec<SocketAddrV4>, String> = self
            .all("dst")
            .iter()
            .map(|s| s.parse().map_err(|_| format!("bad --dst '{s}'")))
            .collect();
        let d = d?;
        if d.is_empty() {
            return Err("--dst is required".into());
        }
        Ok(d)
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(cmd) = args.first() else {
        eprintln!("usage: loadgen serve|conn|udp|syn --option value ... (see the source's header)");
        exit(2);
    };
    let result = Opts::parse(&args[1..]).and_then(|o| {
        enter_netns(&o)?;
        run(cmd, &o)
    });
    if let Err(e) = result {
        eprintln!("loadgen {cmd}: {e}");
        exit(1);
    }
}

fn run(cmd: &str, o: &Opts) -> Result<(), String> {
    match cmd {
        "serve" if o.flag("udp") => udp_sink(o),
        "serve" => tcp_serve(o),
        "answer" => answer(o),
        "req" => req(o),
        "conn" => conn(o),
        "udp" => udp_send(o),
        "syn" => syn_flood(o),
        other => Err(format!("unknown subcommand '{other}'")),
    }
}

/// `--netns NAME`: moves the process (still one thread) into /run/netns/NAME.
fn enter_netns(o: &Opts) -> Result<(), String> {
    let Ok(name) = o.get::<String>("netns", None) else {
        return Ok(());
    };
    let path = format!("/run/netns/{name}");
    let ns = std::fs::File::open(&path).map_err(|e| format!("--netns {path}: {e}"))?;
    move_into_link_name_space(ns.as_fd(), Some(LinkNameSpaceType::Network))
        .map_err(|e| format!("--netns {path}: setns: {e}"))
}

/// Paces a sender to a set rate: item `i` is due `i / rate` seconds after the start.
#[derive(Clone, Copy)]
struct Pacer {
    start: Instant,
    rate: Option<f64>,
}

impl Pacer {
    /// `--rate R` per second (0 or absent: as fast as possible), counted from `start`.
    fn new(o: &Opts, start: Instant) -> Result<Self, String> {
        let rate: f64 = o.get("rate", Some(0.0))?;
        if !(0.0..=1e7).contains(&rate) {
            return Err("--rate must be in [0, 10000000] (0: as fast as possible)".into());
        }
        Ok(Self {
            start,
            rate: (rate > 0.0).then_some(rate),
        })
    }

    /// Sleeps until item `i` is due, unless that is less than a millisecond away (a sleep
    /// costs more than the packet under emulation; the schedule keeps the average).
    fn wait(&self, i: u64) {
        if let Some(rate) = self.rate {
            let due = Duration::from_secs_f64(i as f64 / rate);
            let now = self.start.elapsed();
            if due > now + Duration::from_millis(1) {
                thread::sleep(due - now);
            }
        }
    }
}

/// Creates the file of `--ready FILE`, if given: tells a caller waiting for the sender to
/// run (a process start takes seconds in the guest) that it now does.
fn signal_ready(o: &Opts) -> Result<(), String> {
    if let Ok(ready) = o.get::<String>("ready", None) {
        std::fs::write(&ready, b"").map_err(|e| format!("--ready {ready}: {e}"))?;
    }
    Ok(())
}

fn secs(o: &Opts) -> Result<Duration, String> {
    let s: f64 = o.get("seconds", None)?;
    if !(s > 0.0 && s <= 3600.0) {
        return Err("--seconds must be in (0, 3600]".into());
    }
    Ok(Duration::from_secs_f64(s))
}

/// Ends the process after `d` (the servers block in accept/recv).
fn exit_after(d: Duration, report: impl FnOnce() + Send + 'static) {
    thread::spawn(move || {
        thread::sleep(d);
        report();
        exit(0);
    });
}

fn tcp_serve(o: &Opts) -> Result<(), String> {
    let port: u16 = o.get("port", None)?;
    let threads: usize = o.get("threads", Some(8))?;
    let reply = format!("{}\n", o.get::<String>("reply", Some("ok".into()))?);
    let listener = TcpListener::bind(("0.0.0.0", port)).map_err(|e| format!("bind: {e}"))?;
    let listener = Arc::new(listener);
    let served = Arc::new(AtomicU64::new(0));
    let s = Arc::clone(&served);
    exit_after(secs(o)?, move || {
        println!("served={}", s.load(Ordering::Relaxed))
    });
    let mut handles = Vec::new();
    for _ in 0..threads.max(1) {
        let (l, served, reply) = (Arc::clone(&listener), Arc::clone(&served), reply.clone());
        handles.push(thread::spawn(move || loop {
            if let Ok((mut c, _)) = l.accept() {
                // A failed write (client gone) is the client's failure to count, not ours.
                if c.write_all(reply.as_bytes()).is_ok() {
                    served.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for h in handles {
        let _ = h.join();
    }
    Ok(())
}

/// The answer of a test server to a client: `NAME CLIENT-ADDRESS` and a newline.
fn answer_text(name: &str, peer: SocketAddr) -> String {
    format!("{name} {}\n", peer.ip())
}

fn answer(o: &Opts) -> Result<(), String> {
    let name: String = o.get("name", None)?;
    let tcp_port: Option<u16> = o.get("port", None).ok();
    let udp_port: Option<u16> = o.get("udp-port", None).ok();
    if tcp_port.is_none() && udp_port.is_none() {
        return Err("--port or --udp-port is required".into());
    }
    let listener = match tcp_port {
        Some(p) => Some(TcpListener::bind(("0.0.0.0", p)).map_err(|e| format!("bind {p}: {e}"))?),
        None => None,
    };
    let udp = match udp_port {
        // SO_REUSEADDR, as socat's reuseaddr: a test may send from this port too.
        Some(u) => Some(
            Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))
                .and_then(|s| {
                    s.set_reuse_address(true)?;
                    s.bind(&SockAddr::from(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, u)))?;
                    Ok(UdpSocket::from(s))
                })
                .map_err(|e| format!("bind {u}/udp: {e}"))?,
        ),
        None => None,
    };
    exit_after(secs(o)?, || {});
    signal_ready(o)?;
    let udp_name = name.clone();
    let udp_loop = move |sock: UdpSocket| {
        let mut buf = [0u8; 2048];
        while let Ok((_, peer)) = sock.recv_from(&mut buf) {
            let _ = sock.send_to(answer_text(&udp_name, peer).as_bytes(), peer);
        }
    };
    let Some(listener) = listener else {
        // Only UDP: serve it on this thread until the time is up.
        udp_loop(udp.expect("--udp-port given"));
        return Ok(());
    };
    if let Some(sock) = udp {
        thread::spawn(move || udp_loop(sock));
    }
    // A thread per connection, at most 256 at a time; each holds its connection open until
    // the client ends its side or resets it (a test may hold one ESTABLISHED for the whole
    // run), then closes.
    let live = Arc::new(AtomicU64::new(0));
    loop {
        let Ok((mut c, peer)) = listener.accept() else {
            continue;
        };
        if live.load(Ordering::Relaxed) >= 256 {
            continue;
        }
        live.fetch_add(1, Ordering::Relaxed);
        let (name, live) = (name.clone(), Arc::clone(&live));
        thread::spawn(move || {
            if c.write_all(answer_text(&name, peer).as_bytes()).is_ok() {
                let mut buf = [0u8; 2048];
                while matches!(c.read(&mut buf), Ok(n) if n > 0) {}
            }
            live.fetch_sub(1, Ordering::Relaxed);
        });
    }
}

/// One request of `req`: the answer, or why there is none.
fn one_req(dst: SocketAddrV4, udp: bool, timeout: Duration) -> Result<String, String> {
    let mut buf = Vec::with_capacity(128);
    if udp {
        let s = UdpSocket::bind(("0.0.0.0", 0)).map_err(|e| format!("bind: {e}"))?;
        s.connect(dst).map_err(|e| format!("connect: {e}"))?;
        s.send(b"hi\n").map_err(|e| format!("send: {e}"))?;
        s.set_read_timeout(Some(timeout))
            .map_err(|e| e.to_string())?;
        buf.resize(2048, 0);
        let n = s.recv(&mut buf).map_err(|e| format!("no answer: {e}"))?;
        buf.truncate(n);
    } else {
        let mut c = std::net::TcpStream::connect_timeout(&SocketAddr::V4(dst), timeout)
            .map_err(|e| format!("connect: {e}"))?;
        let _ = c.shutdown(std::net::Shutdown::Write);
        c.set_read_timeout(Some(timeout))
            .map_err(|e| e.to_string())?;
        c.read_to_end(&mut buf).map_err(|e| format!("read: {e}"))?;
    }
    Ok(String::from_utf8_lossy(&buf)
        .trim_end_matches('\n')
        .to_string())
}

fn req(o: &Opts) -> Result<(), String> {
    let dst: SocketAddrV4 = o.get("dst", None)?;
    let udp = o.flag("udp");
    let count: u32 = o.get("count", Some(1))?;
    let timeout = Duration::from_millis(o.get("timeout-ms", Some(if udp { 3000 } else { 10000 }))?);
    if !(1..=10000).contains(&count) || timeout.is_zero() || timeout > Duration::from_secs(60) {
        return Err("--count must be 1..10000 and --timeout-ms 1..60000".into());
    }
    let mut failed = 0;
    for _ in 0..count {
        match one_req(dst, udp, timeout) {
            Ok(a) => println!("{a}"),
            Err(e) => {
                println!("loadgen req: {dst}: {e}");
                failed += 1;
            }
        }
    }
    if failed > 0 {
        return Err(format!("{failed} of {count} request(s) failed"));
    }
    Ok(())
}

fn udp_sink(o: &Opts) -> Result<(), String> {
    let port: u16 = o.get("port", None)?;
    let idle = Duration::from_millis(o.get("idle-ms", Some(2000))?);
    let end = Instant::now() + secs(o)?;
    let sock = UdpSocket::bind(("0.0.0.0", port)).map_err(|e| format!("bind: {e}"))?;
    // A large receive buffer, so that the sink (one thread) is not what drops packets.
    let sock = Socket::from(sock);
    let _ = sock.set_recv_buffer_size(4 << 20);
    let sock: UdpSocket = sock.into();
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .map_err(|e| e.to_string())?;
    signal_ready(o)?;
    let mut buf = [0u8; 2048];
    let (mut received, mut last) = (0u64, None::<Instant>);
    loop {
        let now = Instant::now();
        if now >= end || last.is_some_and(|t| now.duration_since(t) >= idle) {
            break;
        }
        if sock.recv(&mut buf).is_ok() {
            received += 1;
            last = Some(Instant::now());
        }
    }
    println!("received={received}");
    Ok(())
}

fn parse_range(s: &str) -> Result<(u16, u16), String> {
    let (a, b) = s.split_once('-').ok_or("--ports wants LO-HI")?;
    let (a, b): (u16, u16) = (
        a.parse().map_err(|_| "bad --ports")?,
        b.parse().map_err(|_| "bad --ports")?,
    );
    if a == 0 || a > b {
        return Err("--ports wants 1 <= LO <= HI".into());
    }
    Ok((a, b))
}

#[derive(Default)]
struct ConnCounts {
    ok: AtomicU64,
    fast: AtomicU64,
    failed: AtomicU64,
    bind_errors: AtomicU64,
    slow: AtomicU64,
}

/// One short connection from local port `port`; Ok(true) when an answer came and the
/// server closed, Ok(false) on a connection failure, Err on a local bind error.
fn one_conn(port: u16, dst: SocketAddrV4, timeout: Duration) -> Result<bool, ()> {
    let Ok(s) = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)) else {
        return Err(());
    };
    // SO_REUSEADDR lets bind() take a port whose earlier socket lingers here; the port
    // plan (each port once per run, windows rotated by the caller) keeps the servers'
    // TIME_WAIT out of the way.
    let _ = s.set_reuse_address(true);
    let local = SockAddr::from(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port));
    if s.bind(&local).is_err() {
        return Err(());
    }
    if s.connect_timeout(&SockAddr::from(dst), timeout).is_err() {
        return Ok(false);
    }
    let mut stream: std::net::TcpStream = s.into();
    let _ = stream.set_read_timeout(Some(timeout));
    let mut buf = Vec::with_capacity(64);
    match stream.read_to_end(&mut buf) {
        Ok(_) => Ok(!buf.is_empty()),
        Err(_) => Ok(false),
    }
}

fn conn(o: &Opts) -> Result<(), String> {
    let dsts = Arc::new(o.dsts()?);
    let dur = secs(o)?;
    let parallel: usize = o.get("parallel", Some(8))?;
    let (lo, hi) = parse_range(&o.get::<String>("ports", None)?)?;
    let timeout = Duration::from_millis(o.get("timeout-ms", Some(3000))?);
    let next = Arc::new(AtomicU64::new(0));
    let counts = Arc::new(ConnCounts::default());
    let wall_start = unix_ms();
    let start = Instant::now();
    let pacer = Pacer::new(o, start)?;
    signal_ready(o)?;
    let mut handles = Vec::new();
    for _ in 0..parallel.max(1) {
        let (dsts, next, counts) = (Arc::clone(&dsts), Arc::clone(&next), Arc::clone(&counts));
        handles.push(thread::spawn(move || {
            while start.elapsed() < dur {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(port) = u64::from(lo).checked_add(i).filter(|p| *p <= u64::from(hi))
                else {
                    break;
                };
                pacer.wait(i);
                if start.elapsed() >= dur {
                    break;
                }
                let dst = dsts[(i % dsts.len() as u64) as usize];
                let t0 = Instant::now();
                let result = one_conn(port as u16, dst, timeout);
                let took = t0.elapsed();
                let c = match result {
                    Ok(true) if took < Duration::from_secs(1) => {
                        counts.fast.fetch_add(1, Ordering::Relaxed);
                        &counts.ok
                    }
                    Ok(true) => &counts.ok,
                    Ok(false) => &counts.failed,
                    Err(()) => &counts.bind_errors,
                };
                c.fetch_add(1, Ordering::Relaxed);
                // A SYN retransmission (1 s) shows up here: the symptom of port reuse.
                if took >= Duration::from_millis(900) {
                    counts.slow.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for h in handles {
        let _ = h.join();
    }
    let el = start.elapsed().as_secs_f64();
    let wall_end = unix_ms();
    let used = next.load(Ordering::Relaxed).min(u64::from(hi - lo) + 1);
    let ok = counts.ok.load(Ordering::Relaxed);
    println!(
        "ok={} fast={} failed={} bind_errors={} slow={} elapsed_ms={} rate={:.1} ports_used={} exhausted={} start_ms={} end_ms={}",
        ok,
        counts.fast.load(Ordering::Relaxed),
        counts.failed.load(Ordering::Relaxed),
        counts.bind_errors.load(Ordering::Relaxed),
        counts.slow.load(Ordering::Relaxed),
        (el * 1000.0) as u64,
        ok as f64 / el,
        used,
        u8::from(used > u64::from(hi - lo)),
        wall_start,
        wall_end,
    );
    Ok(())
}

fn udp_send(o: &Opts) -> Result<(), String> {
    let dsts = o.dsts()?;
    let dur = secs(o)?;
    let flows: usize = o.get("flows", Some(4))?;
    let size: usize = o.get("size", Some(18))?;
    let mut socks = Vec::new();
    for i in 0..flows.max(1) {
        let s = UdpSocket::bind("0.0.0.0:0").map_err(|e| format!("bind: {e}"))?;
        s.connect(dsts[i % dsts.len()])
            .map_err(|e| format!("connect: {e}"))?;
        socks.push(s);
    }
    let payload = vec![0x5au8; size];
    let (mut sent, mut errors) = (0u64, 0u64);
    signal_ready(o)?;
    let start = Instant::now();
    let pacer = Pacer::new(o, start)?;
    'outer: loop {
        // Check the clock every 16 rounds of sends (a send costs far more than a look at
        // the clock, but under emulation with a debug kernel a send can take milliseconds).
        for _ in 0..16 {
            for s in &socks {
                pacer.wait(sent + errors);
                // ECONNREFUSED (an ICMP port unreachable came back) and ENOBUFS (a full
                // queue) only count: the rate delivered is measured at the sinks.
                match s.send(&payload) {
                    Ok(_) => sent += 1,
                    Err(_) => errors += 1,
                }
            }
        }
        if start.elapsed() >= dur {
            break 'outer;
        }
    }
    print_sent(sent, errors, start);
    Ok(())
}

/// Wall-clock milliseconds since the epoch: lets the caller combine runs of separate
/// processes (two client namespaces) over the span they really covered.
fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// xorshift64*: plenty for spoofed addresses and ports.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

fn csum(data: &[u8], init: u32) -> u16 {
    let mut s = init;
    for c in data.chunks(2) {
        let w = if c.len() == 2 {
            u16::from_be_bytes([c[0], c[1]])
        } else {
            u16::from_be_bytes([c[0], 0])
        };
        s += u32::from(w);
    }
    while s >> 16 != 0 {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

/// An IPv4 + TCP header, no options, no payload.
fn segment(
    src: Ipv4Addr,
    dst: SocketAddrV4,
    sport: u16,
    seq: u32,
    ack: u32,
    flags: u8,
) -> [u8; 40] {
    let mut p = [0u8; 40];
    p[0] = 0x45;
    p[2..4].copy_from_slice(&40u16.to_be_bytes());
    p[4..6].copy_from_slice(&(seq as u16).to_be_bytes()); // IP id
    p[6] = 0x40; // DF
    p[8] = 64; // TTL
    p[9] = 6; // TCP
    p[12..16].copy_from_slice(&src.octets());
    p[16..20].copy_from_slice(&dst.ip().octets());
    let ipsum = csum(&p[..20], 0);
    p[10..12].copy_from_slice(&ipsum.to_be_bytes());
    let t = &mut p[20..];
    t[0..2].copy_from_slice(&sport.to_be_bytes());
    t[2..4].copy_from_slice(&dst.port().to_be_bytes());
    t[4..8].copy_from_slice(&seq.to_be_bytes());
    t[8..12].copy_from_slice(&ack.to_be_bytes());
    t[12] = 5 << 4;
    t[13] = flags;
    t[14..16].copy_from_slice(&64240u16.to_be_bytes());
    // Pseudo header: source, destination, zero, protocol, TCP length.
    let mut pseudo = 0u32;
    for w in [src.octets(), dst.ip().octets()] {
        pseudo += u32::from(u16::from_be_bytes([w[0], w[1]]))
            + u32::from(u16::from_be_bytes([w[2], w[3]]));
    }
    pseudo += 6 + 20;
    let tsum = csum(t, pseudo);
    t[16..18].copy_from_slice(&tsum.to_be_bytes());
    p
}

fn syn_flood(o: &Opts) -> Result<(), String> {
    let dsts = o.dsts()?;
    let count: u64 = o.get("count", None)?;
    let dur = secs(o)?;
    let with_ack = o.flag("ack");
    let with_fin = o.flag("fin");
    if with_ack && with_fin {
        return Err("--ack and --fin exclude each other".into());
    }
    // IPPROTO_RAW (255): we write the IP header ourselves.
    let s = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(255)))
        .map_err(|e| format!("raw socket (needs CAP_NET_RAW): {e}"))?;
    let tos: Vec<SockAddr> = dsts
        .iter()
        .map(|d| SockAddr::from(SocketAddr::V4(*d)))
        .collect();
    let seed = if o.flag("seed") {
        // Spread a small seed over the state's bits (xorshift's first outputs follow them).
        o.get::<u64>("seed", None)?
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
    } else {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
    };
    let mut rng = Rng(seed | 1);
    let cycle = match o.get::<u64>("cycle", Some(0))? {
        0 => u64::MAX,
        _ if !o.flag("seed") => return Err("--cycle needs --seed".into()),
        c => c,
    };
    // 198.18.0.0/15 is 2^17 addresses: the whole of it, or one /21 block (2^11) of it.
    let (base, bits) = match o.get::<u32>("src-block", Some(u32::MAX))? {
        u32::MAX => (0u32, 17),
        b if b < 64 => (b << 11, 11),
        _ => return Err("--src-block must be 0..63".into()),
    };
    signal_ready(o)?;
    let (mut sent, mut errors) = (0u64, 0u64);
    let start = Instant::now();
    let pacer = Pacer::new(o, start)?;
    let stop_file = o.get::<String>("stop-file", None).ok();
    while sent < count {
        pacer.wait(sent);
        if sent % 8 == 0 && start.elapsed() >= dur {
            break;
        }
        if sent % 64 == 0 && stop_file.as_ref().is_some_and(|f| Path::new(f).exists()) {
            break;
        }
        if sent % cycle == 0 {
            rng = Rng(seed | 1);
        }
        let r = rng.next();
        // 198.18.0.0/15 (or its block): random bits, last octet never 0 or 255.
        let host = base | ((r as u32) & ((1 << bits) - 1));
        let last = (host & 0xff).clamp(1, 254);
        let src = Ipv4Addr::from(0xc612_0000u32 | (host & 0x1_ff00) | last);
        let sport = 1024 + ((r >> 20) as u16 % 64000);
        let seq = (r >> 32) as u32;
        let i = (sent % dsts.len() as u64) as usize;
        let (dst, to) = (dsts[i], &tos[i]);
        let syn = segment(src, dst, sport, seq, 0, 0x02);
        match s.send_to(&syn, to) {
            Ok(_) => sent += 1,
            Err(_) => {
                errors += 1;
                sent += 1; // bounded in count even if every send fails
                continue;
            }
        }
        // The blind ACK guesses the server's sequence number; the FIN carries no ACK.
        let second = if with_ack {
            Some(segment(
                src,
                dst,
                sport,
                seq.wrapping_add(1),
                rng.next() as u32,
                0x10,
            ))
        } else if with_fin {
            Some(segment(src, dst, sport, seq.wrapping_add(1), 0, 0x01))
        } else {
            None
        };
        if let Some(p) = second {
            if s.send_to(&p, to).is_err() {
                errors += 1;
            }
        }
    }
    print_sent(sent, errors, start);
    Ok(())
}

/// The result line of a sender: packets sent, send errors, time taken and rate.
fn print_sent(sent: u64, errors: u64, start: Instant) {
    let el = start.elapsed().as_secs_f64();
    println!(
        "sent={sent} errors={errors} elapsed_ms={} rate={:.1}",
        (el * 1000.0) as u64,
        sent as f64 / el
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_verify() {
        let dst = SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 100), 80);
        let p = segment(Ipv4Addr::new(198, 19, 1, 2), dst, 4000, 12345, 0, 0x02);
        // A header with its checksum in place sums to 0xffff (its complement is 0).
        assert_eq!(csum(&p[..20], 0), 0);
        let mut pseudo = 0u32;
        for w in [[198u8, 19, 1, 2], [192, 0, 2, 100]] {
            pseudo += u32::from(u16::from_be_bytes([w[0], w[1]]))
                + u32::from(u16::from_be_bytes([w[2], w[3]]));
        }
        assert_eq!(csum(&p[20..], pseudo + 26), 0);
    }

    #[test]
    fn options_and_ranges() {
        let a: Vec<String> = [
            "--dst",
            "1.2.3.4:5",
            "--dst",
            "1.2.3.5:6",
            "--ack",
            "--seconds",
            "2",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let o = Opts::parse(&a).unwrap();
        assert_eq!(o.dsts().unwrap().len(), 2);
        assert!(o.flag("ack"));
        assert_eq!(secs(&o).unwrap(), Duration::from_secs(2));
        assert_eq!(parse_range("10000-13999").unwrap(), (10000, 13999));
        assert!(parse_range("5-4").is_err());
    }
}
