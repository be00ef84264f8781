// SPDX-License-Identifier: GPL-2.0
//! Runs a parsed [`Command`]: asks the [`Client`], reads or writes sysctls, formats the
//! result. Every failure becomes a [`CliError`] whose text is the one line printed.

use std::fmt;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::args::{Command, ListMode, ListOpts, ListWhat, TimeoutSet};
use crate::client::{errno_name, errno_text, Client, NlError};
use crate::format::{self, FormatOpts};
use crate::model::{DefenseView, DestKey, Rates, ServiceKey, ServiceView, Stats};
use crate::timeouts::{self, Set, SysctlError};

/// Exit status of a usage error.
pub const EXIT_USAGE: i32 = 2;
/// Exit status of a runtime or kernel error.
pub const EXIT_FAILURE: i32 = 1;

/// The one-line message of the module being absent.
pub const NOT_LOADED: &str =
    "the ipvs_defense module is not loaded (generic netlink family IPVS_DEFENSE not found)";

/// A failed command: the line to print (without the `ipvsdadm: ` prefix) and the exit code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CliError {
    /// The message.
    pub message: String,
    /// The exit status (1 or 2).
    pub code: i32,
}

impl CliError {
    fn runtime(message: impl Into<String>) -> Self {
        CliError {
            message: message.into(),
            code: EXIT_FAILURE,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The request that failed, for the error message.
#[derive(Clone, Copy, Debug)]
pub enum Op<'a> {
    /// Resolving the family and opening the socket.
    Connect,
    /// `GET_SERVICE` dump.
    ListServices,
    /// `GET_SERVICE` do.
    GetService(&'a ServiceKey),
    /// `GET_DEST` dump.
    ListDests(&'a ServiceKey),
    /// `GET_CONN`.
    ListConns,
    /// `GET_STATS`.
    Stats,
    /// `GET_DEFENSE`.
    Defense,
    /// `NEW_SERVICE`.
    AddService(&'a ServiceKey),
    /// `SET_SERVICE`.
    EditService(&'a ServiceKey),
    /// `DEL_SERVICE`.
    DelService(&'a ServiceKey),
    /// `NEW_DEST`.
    AddDest(&'a ServiceKey, &'a DestKey),
    /// `SET_DEST`.
    EditDest(&'a ServiceKey, &'a DestKey),
    /// `DEL_DEST`.
    DelDest(&'a ServiceKey, &'a DestKey),
    /// `ZERO`.
    Zero(Option<&'a ServiceKey>),
    /// `FLUSH`.
    Flush,
    /// `SET_DEFENSE`.
    SetDefense(u32),
}

impl fmt::Display for Op<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Connect => write!(f, "connect"),
            Op::ListServices => write!(f, "list services"),
            Op::GetService(s) => write!(f, "list service {s}"),
            Op::ListDests(s) => write!(f, "list real servers of {s}"),
            Op::ListConns => write!(f, "list connections"),
            Op::Stats => write!(f, "read statistics"),
            Op::Defense => write!(f, "read defense state"),
            Op::AddService(s) => write!(f, "add service {s}"),
            Op::EditService(s) => write!(f, "edit service {s}"),
            Op::DelService(s) => write!(f, "delete service {s}"),
            Op::AddDest(s, d) => write!(f, "add real server {d} to {s}"),
            Op::EditDest(s, d) => write!(f, "edit real server {d} of {s}"),
            Op::DelDest(s, d) => write!(f, "delete real server {d} from {s}"),
            Op::Zero(Some(s)) => write!(f, "zero counters of {s}"),
            Op::Zero(None) => write!(f, "zero counters"),
            Op::Flush => write!(f, "clear"),
            Op::SetDefense(l) => write!(f, "set defense level {l}"),
        }
    }
}

/// Turns a failed request into the one line to print.
pub fn describe(op: Op<'_>, e: NlError) -> CliError {
    let (errno, ext) = match e {
        NlError::NotLoaded => return CliError::runtime(NOT_LOADED),
        NlError::Errno { errno, message } => (errno, message),
        other => return CliError::runtime(format!("{op}: {other}")),
    };
    let has_service = !matches!(
        op,
        Op::Connect
            | Op::ListServices
            | Op::ListConns
            | Op::Stats
            | Op::Defense
            | Op::Flush
            | Op::SetDefense(_)
            | Op::Zero(None)
    );
    let is_dest_change = matches!(op, Op::EditDest(..) | Op::DelDest(..));
    let name = errno_name(errno);
    let reason = match errno {
        libc::EPERM | libc::EACCES => {
            format!("permission denied: CAP_NET_ADMIN is needed, run as root ({name})")
        }
        libc::ENOENT | libc::ESRCH if is_dest_change => {
            format!("no such service or real server ({name})")
        }
        libc::ENOENT | libc::ESRCH if has_service => format!("no such service ({name})"),
        libc::EEXIST if matches!(op, Op::AddDest(..)) => {
            format!("real server already exists ({name})")
        }
        libc::EEXIST => format!("service already exists ({name})"),
        libc::EINVAL => format!("invalid request ({name})"),
        _ => errno_text(errno),
    };
    match ext {
        Some(m) => CliError::runtime(format!("{op}: {reason}: {m}")),
        None => CliError::runtime(format!("{op}: {reason}")),
    }
}

fn sysctl_error(e: SysctlError) -> CliError {
    match e {
        SysctlError::NotLoaded => CliError::runtime(format!(
            "the ipvs_defense module is not loaded ({} not found)",
            timeouts::SYSCTL_DIR
        )),
        SysctlError::NoSuchEntry(name) => CliError::runtime(format!(
            "the module has no sysctl {name} in {}",
            timeouts::SYSCTL_DIR
        )),
        SysctlError::Rejected(p) => CliError::runtime(format!(
            "{}: value refused by the module (must be 1..{} seconds)",
            p.display(),
            timeouts::MAX_SECS
        )),
        SysctlError::Permission(p) => CliError::runtime(format!(
            "{}: permission denied: only root may change the module's sysctls",
            p.display()
        )),
        SysctlError::Other(p, s) => CliError::runtime(format!("{}: {s}", p.display())),
    }
}

/// What the runner needs from the machine besides the client.
#[derive(Clone, Debug)]
pub struct Env {
    /// The module's sysctl directory.
    pub sysctl_dir: PathBuf,
    /// The time between the two samples of `--rate`.
    pub rate_interval: Duration,
    /// The page size, to show memory in MiB.
    pub page_size: u64,
}

impl Default for Env {
    fn default() -> Self {
        Env {
            sysctl_dir: PathBuf::from(timeouts::SYSCTL_DIR),
            rate_interval: Duration::from_secs(1),
            page_size: page_size(),
        }
    }
}

/// The kernel's page size, from the auxiliary vector (`AT_PAGESZ` in `/proc/self/auxv`: a
/// few hundred bytes, where `smaps` walks every mapping), or 4096.
pub fn page_size() -> u64 {
    std::fs::read("/proc/self/auxv")
        .ok()
        .and_then(|b| auxv_page_size(&b))
        .unwrap_or(4096)
}

/// `AT_PAGESZ` of an auxiliary vector (pairs of native-endian 64-bit words), if there.
pub fn auxv_page_size(auxv: &[u8]) -> Option<u64> {
    const AT_PAGESZ: u64 = 6;
    let word = |x: &[u8]| x.try_into().ok().map(u64::from_ne_bytes);
    auxv.chunks_exact(16)
        .find_map(|p| {
            let (k, v) = p.split_at(8);
            (word(k)? == AT_PAGESZ).then(|| word(v)).flatten()
        })
        .filter(|&p| p > 0)
}

/// Per-second rates from two samples taken `elapsed` apart (counters that went backwards,
/// e.g. after `-Z`, give 0).
pub fn compute_rates(first: &Stats, second: &Stats, elapsed: Duration) -> Rates {
    let ms = elapsed.as_millis().max(1);
    let per_sec = |a: u64, b: u64| -> u64 {
        let d = u128::from(b.saturating_sub(a));
        u64::try_from(d * 1000 / ms).unwrap_or(u64::MAX)
    };
    Rates {
        cps: per_sec(first.conns, second.conns),
        inpps: per_sec(first.inpkts, second.inpkts),
        outpps: per_sec(first.outpkts, second.outpkts),
        inbps: per_sec(first.inbytes, second.inbytes),
        outbps: per_sec(first.outbytes, second.outbytes),
    }
}

/// Fills the rates of `second` from `first` (matched by service key and real server key;
/// an entry absent from `first` counts from zero).
pub fn fill_rates(first: &[ServiceView], second: &mut [ServiceView], elapsed: Duration) {
    for s in second.iter_mut() {
        let old = first.iter().find(|o| o.key == s.key);
        let old_stats = old.map(|o| o.stats).unwrap_or_default();
        s.rates = Some(compute_rates(&old_stats, &s.stats, elapsed));
        for d in s.dests.iter_mut() {
            let old_d = old
                .and_then(|o| o.dests.iter().find(|x| x.key() == d.key()))
                .map(|x| x.stats)
                .unwrap_or_default();
            d.rates = Some(compute_rates(&old_d, &d.stats, elapsed));
        }
    }
}

fn fetch_services<C: Client + ?Sized>(
    c: &mut C,
    only: Option<&ServiceKey>,
) -> Result<Vec<ServiceView>, CliError> {
    let mut services = match only {
        Some(k) => vec![c.service(k).map_err(|e| describe(Op::GetService(k), e))?],
        None => c.services().map_err(|e| describe(Op::ListServices, e))?,
    };
    for s in services.iter_mut() {
        let key = s.key;
        s.dests = c
            .dests(&key)
            .map_err(|e| describe(Op::ListDests(&key), e))?;
    }
    format::sort_services(&mut services);
    Ok(services)
}

fn list<C: Client + ?Sized>(
    c: &mut C,
    opts: &ListOpts,
    env: &Env,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let text = match opts.what {
        ListWhat::Connections => {
            let conns = c.connections().map_err(|e| describe(Op::ListConns, e))?;
            if opts.json {
                crate::json::connections(&conns)
            } else {
                format::format_connections(&conns)
            }
        }
        // Handled by `run` without the client.
        ListWhat::Timeout => return Err(CliError::runtime("internal error: --timeout listing")),
        ListWhat::All | ListWhat::Service(_) => {
            let only = match &opts.what {
                ListWhat::Service(k) => Some(k),
                _ => None,
            };
            let header = if only.is_none() && !opts.json {
                let g = c.global_stats().map_err(|e| describe(Op::Stats, e))?;
                Some(format::header_line(g.version, g.conn_max))
            } else {
                None
            };
            let mut services = fetch_services(c, only)?;
            let mut interval = None;
            if opts.mode == ListMode::Rate {
                let start = Instant::now();
                std::thread::sleep(env.rate_interval);
                let first = services;
                services = fetch_services(c, only)?;
                let elapsed = start.elapsed();
                fill_rates(&first, &mut services, elapsed);
                interval = Some(u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX));
            }
            if opts.json {
                crate::json::list(&services, interval)
            } else {
                format::format_list(
                    &services,
                    &FormatOpts {
                        mode: opts.mode,
                        exact: opts.exact,
                        header,
                    },
                )
            }
        }
    };
    write_out(out, &text)
}

fn write_out(out: &mut dyn Write, text: &str) -> Result<(), CliError> {
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .map_err(|e| CliError::runtime(format!("cannot write output: {e}")))
}

fn set_timeouts(env: &Env, sets: &[TimeoutSet]) -> Result<(), CliError> {
    // Resolve every file first so that a bad name changes nothing.
    for s in sets {
        timeouts::sysctl_path(&env.sysctl_dir, s.set, s.row).map_err(sysctl_error)?;
    }
    for s in sets {
        timeouts::write(&env.sysctl_dir, s.set, s.row, s.secs).map_err(sysctl_error)?;
    }
    Ok(())
}

/// Runs `cmd`. `connect` is called only by commands that talk to the module, once; `-R`
/// reads its commands from `input`.
pub fn run<C, F>(
    cmd: &Command,
    connect: F,
    env: &Env,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<(), CliError>
where
    C: Client,
    F: FnOnce() -> Result<C, NlError>,
{
    if let Command::Restore = cmd {
        return restore(connect, env, input, out);
    }
    if let Some(done) = run_local(cmd, env, out) {
        return done;
    }
    let mut c = connect().map_err(|e| describe(Op::Connect, e))?;
    run_client(&mut c, cmd, env, out)
}

/// `-R`: runs the commands of `input`, one a line, on one connection; empty lines and
/// lines starting with `#` are skipped. Stops at the first that fails, naming its line:
/// the lines before it stay applied, as with ipvsadm.
fn restore<C, F>(
    connect: F,
    env: &Env,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<(), CliError>
where
    C: Client,
    F: FnOnce() -> Result<C, NlError>,
{
    let mut connect = Some(connect);
    let mut client: Option<C> = None;
    for (i, line) in input.lines().enumerate() {
        let at = |e: CliError| CliError {
            message: format!("line {}: {}", i + 1, e.message),
            code: e.code,
        };
        let line =
            line.map_err(|e| CliError::runtime(format!("cannot read standard input: {e}")))?;
        let words: Vec<String> = line.split_whitespace().map(String::from).collect();
        if words.first().is_none_or(|w| w.starts_with('#')) {
            continue;
        }
        let usage = |message: String| {
            at(CliError {
                message,
                code: EXIT_USAGE,
            })
        };
        let cmd = crate::args::parse_args(&words).map_err(|e| usage(e.to_string()))?;
        if matches!(
            cmd,
            Command::Restore | Command::Batch | Command::Help | Command::Version
        ) {
            return Err(usage(format!("'{line}' cannot be used in a restore")));
        }
        if let Some(done) = run_local(&cmd, env, out) {
            done.map_err(at)?;
            continue;
        }
        let c = match client.as_mut() {
            Some(c) => c,
            None => {
                let open = connect
                    .take()
                    .ok_or_else(|| at(CliError::runtime("internal error: connected twice")))?;
                client.insert(open().map_err(|e| at(describe(Op::Connect, e)))?)
            }
        };
        run_client(c, &cmd, env, out).map_err(at)?;
    }
    Ok(())
}

/// Runs the commands that need no client (help, version, the timeout sysctls); `None`
/// for every other.
fn run_local(cmd: &Command, env: &Env, out: &mut dyn Write) -> Option<Result<(), CliError>> {
    Some(match cmd {
        Command::Help => write_out(out, &crate::args::help_text()),
        Command::Version => write_out(
            out,
            &format!(
                "ipvsdadm {} (IPVS_DEFENSE protocol version {})\n",
                env!("CARGO_PKG_VERSION"),
                ipvsd_logic::proto::VERSION
            ),
        ),
        Command::SetTimeout { tcp, tcpfin, udp } => {
            let sets: Vec<TimeoutSet> = [
                (timeouts::TCP, *tcp),
                (timeouts::TCP_FIN, *tcpfin),
                (timeouts::UDP, *udp),
            ]
            .into_iter()
            .filter(|&(_, secs)| secs != 0)
            .map(|(row, secs)| TimeoutSet {
                set: Set::Normal,
                row,
                secs,
            })
            .collect();
            set_timeouts(env, &sets)
        }
        Command::SetTimeouts(sets) => set_timeouts(env, sets),
        Command::ShowTimeouts { json } => timeouts::read_all(&env.sysctl_dir)
            .map_err(sysctl_error)
            .and_then(|rows| {
                let text = if *json {
                    crate::json::timeouts(&rows)
                } else {
                    format::format_timeouts(&rows)
                };
                write_out(out, &text)
            }),
        Command::List(ListOpts {
            what: ListWhat::Timeout,
            json,
            ..
        }) => {
            let get = |row| timeouts::read(&env.sysctl_dir, Set::Normal, row).map_err(sysctl_error);
            let read = || -> Result<_, CliError> {
                Ok((
                    get(timeouts::TCP)?,
                    get(timeouts::TCP_FIN)?,
                    get(timeouts::UDP)?,
                ))
            };
            read().and_then(|(tcp, fin, udp)| {
                let text = if *json {
                    crate::json::ipvsadm_timeout(tcp, fin, udp)
                } else {
                    format::format_ipvsadm_timeout(tcp, fin, udp)
                };
                write_out(out, &text)
            })
        }
        _ => return None,
    })
}

/// Runs a command that talks to the module, on `c`.
fn run_client<C: Client + ?Sized>(
    c: &mut C,
    cmd: &Command,
    env: &Env,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    match cmd {
        Command::AddService { svc, scheduler } => c
            .add_service(svc, scheduler)
            .map_err(|e| describe(Op::AddService(svc), e)),
        Command::EditService { svc, scheduler } => c
            .edit_service(svc, scheduler)
            .map_err(|e| describe(Op::EditService(svc), e)),
        Command::DelService { svc } => c
            .del_service(svc)
            .map_err(|e| describe(Op::DelService(svc), e)),
        Command::Flush => c.flush().map_err(|e| describe(Op::Flush, e)),
        Command::AddDest { svc, dest, weight } => c
            .add_dest(svc, dest, *weight)
            .map_err(|e| describe(Op::AddDest(svc, dest), e)),
        Command::EditDest { svc, dest, weight } => c
            .edit_dest(svc, dest, *weight)
            .map_err(|e| describe(Op::EditDest(svc, dest), e)),
        Command::DelDest { svc, dest } => c
            .del_dest(svc, dest)
            .map_err(|e| describe(Op::DelDest(svc, dest), e)),
        Command::Zero { svc } => c
            .zero(svc.as_ref())
            .map_err(|e| describe(Op::Zero(svc.as_ref()), e)),
        Command::SetDefense { level } => c
            .set_defense(*level)
            .map_err(|e| describe(Op::SetDefense(*level), e)),
        Command::Defense { json } => {
            let defense = c.defense().map_err(|e| describe(Op::Defense, e))?;
            let global = c.global_stats().map_err(|e| describe(Op::Stats, e))?;
            let view = DefenseView {
                defense,
                global,
                page_size: env.page_size,
            };
            let text = if *json {
                crate::json::defense(&view)
            } else {
                format::format_defense(&view)
            };
            write_out(out, &text)
        }
        Command::List(opts) => list(c, opts, env, out),
        Command::Save => {
            let services = fetch_services(c, None)?;
            write_out(out, &format::format_rules(&services))
        }
        Command::Restore
        | Command::Batch
        | Command::Help
        | Command::Version
        | Command::SetTimeout { .. }
        | Command::SetTimeouts(_)
        | Command::ShowTimeouts { .. } => Ok(()),
    }
}

/// The whole program: parses `args`, runs, prints output to `out` and the error line to
/// `err`, and returns the exit status. `connect` is called once per command that talks to
/// the module (more than once only in `--batch`).
pub fn main_with<C, F>(
    args: &[String],
    mut connect: F,
    env: &Env,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32
where
    C: Client,
    F: FnMut() -> Result<C, NlError>,
{
    match crate::args::parse_args(args) {
        Ok(Command::Batch) => batch(connect, env, input, out, err),
        Ok(cmd) => status(run(&cmd, &mut connect, env, input, out), err),
        Err(e) => usage_status(&e.to_string(), err),
    }
}

/// The exit status of a command's result, after printing its error line to `err`.
fn status(result: Result<(), CliError>, err: &mut dyn Write) -> i32 {
    match result {
        Ok(()) => 0,
        Err(e) => {
            let _ = writeln!(err, "ipvsdadm: {}", e.message);
            e.code
        }
    }
}

/// The exit status of a usage error, after printing it to `err`.
fn usage_status(message: &str, err: &mut dyn Write) -> i32 {
    let _ = writeln!(err, "ipvsdadm: {message} (try 'ipvsdadm --help')");
    EXIT_USAGE
}

/// What `--batch` prints after each command, followed by its exit status, on a line of its
/// own.
pub const BATCH_END: &str = "ipvsdadm-batch: exit ";

/// `--batch`: runs the commands of `input`, one a line (the words of a command line, as `-R`
/// reads them), each whatever the ones before it did; after each, prints [`BATCH_END`] and
/// its exit status on a line of its own and flushes. For a script that keeps one ipvsdadm
/// running instead of starting one per command; error lines go to `err` as usual. Empty
/// lines and `#` comments are answered with status 0. Returns 0 at the end of `input`.
fn batch<C, F>(
    mut connect: F,
    env: &Env,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32
where
    C: Client,
    F: FnMut() -> Result<C, NlError>,
{
    let mut line = String::new();
    loop {
        line.clear();
        match input.read_line(&mut line) {
            Ok(0) => return 0,
            Ok(_) => {}
            Err(e) => {
                let _ = writeln!(err, "ipvsdadm: cannot read standard input: {e}");
                return EXIT_FAILURE;
            }
        }
        let words: Vec<String> = line.split_whitespace().map(String::from).collect();
        let mut tracked = LastByte { out, last: None };
        let code = if words.first().is_none_or(|w| w.starts_with('#')) {
            0
        } else {
            match crate::args::parse_args(&words) {
                Ok(Command::Batch | Command::Restore) => usage_status(
                    &format!("'{}' cannot be used in a batch", line.trim_end()),
                    err,
                ),
                Ok(cmd) => status(
                    run(&cmd, &mut connect, env, &mut std::io::empty(), &mut tracked),
                    err,
                ),
                Err(e) => usage_status(&e.to_string(), err),
            }
        };
        // The status line must start a line of its own.
        let newline = if tracked.last.is_some_and(|b| b != b'\n') {
            "\n"
        } else {
            ""
        };
        if writeln!(out, "{newline}{BATCH_END}{code}")
            .and_then(|()| out.flush())
            .is_err()
        {
            return EXIT_FAILURE;
        }
    }
}

/// A writer that remembers the last byte written through it.
struct LastByte<'a> {
    out: &'a mut dyn Write,
    last: Option<u8>,
}

impl Write for LastByte<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(buf)?;
        if n > 0 {
            self.last = Some(buf[n - 1]);
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}
