// SPDX-License-Identifier: GPL-2.0
//! The command line: a pure parser from arguments to a [`Command`], with ipvsadm's flags,
//! its checks of which options go with which command, and its error wording where it has
//! one.

use std::fmt;
use std::net::Ipv4Addr;

use crate::model::{DestKey, Protocol, ServiceKey};
use crate::timeouts::{self, Set};
use ipvsd_logic::sched::SchedKind;

/// The names of the schedulers the module implements, comma-separated.
fn scheduler_names() -> String {
    SchedKind::ALL.map(SchedKind::name).join(", ")
}

/// ipvsadm's default scheduler, used by `-A`/`-E` without `-s`.
pub const DEFAULT_SCHEDULER: &str = SchedKind::Wlc.name();

/// Default weight of `-a`/`-e` without `-w`, as ipvsadm.
pub const DEFAULT_WEIGHT: u32 = 1;

/// A wrong command line. Its text is the whole message (without the program name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

fn usage<T>(msg: impl Into<String>) -> Result<T, UsageError> {
    Err(UsageError(msg.into()))
}

/// Which counters the service listing shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ListMode {
    /// Scheduler, weight, active and inactive connections.
    #[default]
    Plain,
    /// `--stats`: counters.
    Stats,
    /// `--rate`: per-second rates.
    Rate,
}

/// What `-L` lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ListWhat {
    /// Every service.
    #[default]
    All,
    /// One service (`-L -t VIP:PORT`).
    Service(ServiceKey),
    /// The connection table (`-c`).
    Connections,
    /// ipvsadm's `--timeout`: `Timeout (tcp tcpfin udp): ...`.
    Timeout,
}

/// Options of `-L`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ListOpts {
    /// What to list.
    pub what: ListWhat,
    /// Plain, stats or rate.
    pub mode: ListMode,
    /// `-n` (addresses are always numeric; accepted for compatibility).
    pub numeric: bool,
    /// `--exact`: full numbers instead of K/M/G/T.
    pub exact: bool,
    /// `--json`.
    pub json: bool,
}

/// One `STATE=SECONDS` of `--timeouts`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeoutSet {
    /// Normal or defense set.
    pub set: Set,
    /// The TCP state or UDP.
    pub row: timeouts::TimeoutRow,
    /// New value, 1..=[`timeouts::MAX_SECS`].
    pub secs: u32,
}

/// A parsed command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// `-A`: add a virtual service.
    AddService {
        /// The service.
        svc: ServiceKey,
        /// Its scheduler.
        scheduler: String,
    },
    /// `-E`: change a service's scheduler.
    EditService {
        /// The service.
        svc: ServiceKey,
        /// Its new scheduler.
        scheduler: String,
    },
    /// `-D`: delete a service.
    DelService {
        /// The service.
        svc: ServiceKey,
    },
    /// `-C`: delete every service.
    Flush,
    /// `-a`: add a real server.
    AddDest {
        /// The service.
        svc: ServiceKey,
        /// The real server.
        dest: DestKey,
        /// Its weight.
        weight: u32,
    },
    /// `-e`: change a real server's weight.
    EditDest {
        /// The service.
        svc: ServiceKey,
        /// The real server.
        dest: DestKey,
        /// Its new weight.
        weight: u32,
    },
    /// `-d`: delete a real server.
    DelDest {
        /// The service.
        svc: ServiceKey,
        /// The real server.
        dest: DestKey,
    },
    /// `-L`/`-l`, or no arguments at all.
    List(ListOpts),
    /// `-Z`: zero the counters of one service or of everything.
    Zero {
        /// The service, or every counter.
        svc: Option<ServiceKey>,
    },
    /// `--set tcp tcpfin udp` (0 leaves a value unchanged).
    SetTimeout {
        /// ESTABLISHED timeout.
        tcp: u32,
        /// FIN_WAIT timeout.
        tcpfin: u32,
        /// UDP timeout.
        udp: u32,
    },
    /// `--defense`: show the defense state.
    Defense {
        /// `--json`.
        json: bool,
    },
    /// `--set-defense LEVEL`.
    SetDefense {
        /// 0, 1 or 2.
        level: u32,
    },
    /// `--timeouts` with no assignment: show every timeout.
    ShowTimeouts {
        /// `--json`.
        json: bool,
    },
    /// `--timeouts STATE=SECONDS ...`: set timeouts.
    SetTimeouts(Vec<TimeoutSet>),
    /// `-S`/`--save`: print the services and real servers as `-A`/`-a` lines, which
    /// `-R` (and ipvsadm's `-R`) reads back.
    Save,
    /// `-R`/`--restore`: run the commands of standard input, one a line.
    Restore,
    /// `--batch`: run the commands of standard input, one a line, each to its end, and
    /// report each one's exit status.
    Batch,
    /// `-h`/`--help`.
    Help,
    /// `-v`/`--version`.
    Version,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cmd {
    Add,
    Edit,
    Del,
    Flush,
    List,
    AddDest,
    EditDest,
    DelDest,
    Zero,
    Set,
    Defense,
    SetDefense,
    Timeouts,
    Save,
    Restore,
    Batch,
    Help,
    Version,
}

impl Cmd {
    /// The name in messages (ipvsadm's `cmdnames`, plus ours).
    fn name(self) -> &'static str {
        match self {
            Cmd::Add => "add-service",
            Cmd::Edit => "edit-service",
            Cmd::Del => "delete-service",
            Cmd::Flush => "clear",
            Cmd::List => "list",
            Cmd::AddDest => "add-server",
            Cmd::EditDest => "edit-server",
            Cmd::DelDest => "delete-server",
            Cmd::Zero => "zero",
            Cmd::Set => "set",
            Cmd::Defense => "defense",
            Cmd::SetDefense => "set-defense",
            Cmd::Timeouts => "timeouts",
            Cmd::Save => "save",
            Cmd::Restore => "restore",
            Cmd::Batch => "batch",
            Cmd::Help => "help",
            Cmd::Version => "version",
        }
    }
}

/// Options, as ipvsadm's `OPT_*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Opt {
    Numeric,
    Connection,
    Service,
    Scheduler,
    Server,
    Forward,
    Weight,
    Timeout,
    Stats,
    Rate,
    Exact,
    Json,
}

const ALL_OPTS: [Opt; 12] = [
    Opt::Numeric,
    Opt::Connection,
    Opt::Service,
    Opt::Scheduler,
    Opt::Server,
    Opt::Forward,
    Opt::Weight,
    Opt::Timeout,
    Opt::Stats,
    Opt::Rate,
    Opt::Exact,
    Opt::Json,
];

impl Opt {
    fn bit(self) -> u32 {
        1 << (self as u32)
    }

    /// The name in messages (ipvsadm's `optnames`, plus ours).
    fn name(self) -> &'static str {
        match self {
            Opt::Numeric => "numeric",
            Opt::Connection => "connection",
            Opt::Service => "service-address",
            Opt::Scheduler => "scheduler",
            Opt::Server => "real-server",
            Opt::Forward => "forwarding-method",
            Opt::Weight => "weight",
            Opt::Timeout => "timeout",
            Opt::Stats => "stats",
            Opt::Rate => "rate",
            Opt::Exact => "exact",
            Opt::Json => "json",
        }
    }
}

/// How an option may be used with a command: ipvsadm's `commands_v_options` table.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// Must be given.
    Required,
    /// May be given.
    Optional,
    /// Must not be given.
    Illegal,
    /// At most one of the options marked so.
    Exclusive,
}

fn rule(cmd: Cmd, opt: Opt) -> Rule {
    use Opt::*;
    use Rule::*;
    match cmd {
        Cmd::Add | Cmd::Edit => match opt {
            Service => Required,
            Scheduler => Optional,
            _ => Illegal,
        },
        Cmd::Del => match opt {
            Service => Required,
            _ => Illegal,
        },
        Cmd::List => match opt {
            Connection | Service | Timeout => Exclusive,
            Numeric | Stats | Rate | Exact | Json => Optional,
            _ => Illegal,
        },
        Cmd::AddDest | Cmd::EditDest => match opt {
            Service | Server => Required,
            Forward | Weight => Optional,
            _ => Illegal,
        },
        Cmd::DelDest => match opt {
            Service | Server => Required,
            Forward => Optional,
            _ => Illegal,
        },
        Cmd::Zero => match opt {
            Service => Optional,
            _ => Illegal,
        },
        Cmd::Defense | Cmd::Timeouts => match opt {
            Json => Optional,
            _ => Illegal,
        },
        Cmd::Save => match opt {
            Numeric => Optional,
            _ => Illegal,
        },
        Cmd::Flush
        | Cmd::Set
        | Cmd::SetDefense
        | Cmd::Restore
        | Cmd::Batch
        | Cmd::Help
        | Cmd::Version => Illegal,
    }
}

/// Every flag, short and long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flag {
    Command(Cmd),
    Tcp,
    Udp,
    Scheduler,
    Server,
    Masq,
    Gatewaying,
    Ipip,
    Weight,
    Numeric,
    Connection,
    Timeout,
    Stats,
    Rate,
    Exact,
    Json,
    SetDefense,
    /// An ipvsadm flag the module has no use for; the text says why.
    Unsupported(&'static str),
}

impl Flag {
    fn takes_arg(self) -> bool {
        matches!(
            self,
            Flag::Tcp
                | Flag::Udp
                | Flag::Scheduler
                | Flag::Server
                | Flag::Weight
                | Flag::SetDefense
        )
    }
}

const NO_PERSISTENCE: &str = "persistence (-p/-M) is not supported by ipvs_defense";
const NO_FWMARK: &str = "firewall-mark services (-f) are not supported by ipvs_defense";
const NO_THRESHOLDS: &str = "connection thresholds (-x/-y) are not supported by ipvs_defense";
const NO_SYNC: &str = "the connection sync daemon is not supported by ipvs_defense";
const NO_IPV6: &str = "IPv6 is not supported by ipvs_defense (IPv4 only)";
const NO_OPS: &str = "one-packet scheduling (-o) is not supported by ipvs_defense";
const NO_DR: &str =
    "-g (gatewaying, direct routing) is not supported: ipvs_defense forwards by NAT only (use -m)";
const NO_TUN: &str =
    "-i (ipip tunneling) is not supported: ipvs_defense forwards by NAT only (use -m)";

fn short_flag(c: char) -> Option<Flag> {
    Some(match c {
        'A' => Flag::Command(Cmd::Add),
        'E' => Flag::Command(Cmd::Edit),
        'D' => Flag::Command(Cmd::Del),
        'C' => Flag::Command(Cmd::Flush),
        'L' | 'l' => Flag::Command(Cmd::List),
        'Z' => Flag::Command(Cmd::Zero),
        'a' => Flag::Command(Cmd::AddDest),
        'e' => Flag::Command(Cmd::EditDest),
        'd' => Flag::Command(Cmd::DelDest),
        'h' => Flag::Command(Cmd::Help),
        'v' => Flag::Command(Cmd::Version),
        't' => Flag::Tcp,
        'u' => Flag::Udp,
        's' => Flag::Scheduler,
        'r' => Flag::Server,
        'm' => Flag::Masq,
        'g' => Flag::Gatewaying,
        'i' => Flag::Ipip,
        'w' => Flag::Weight,
        'n' => Flag::Numeric,
        'c' => Flag::Connection,
        'X' => Flag::Exact,
        'p' | 'M' => Flag::Unsupported(NO_PERSISTENCE),
        'f' => Flag::Unsupported(NO_FWMARK),
        'x' | 'y' => Flag::Unsupported(NO_THRESHOLDS),
        'S' => Flag::Command(Cmd::Save),
        'R' => Flag::Command(Cmd::Restore),
        '6' => Flag::Unsupported(NO_IPV6),
        'o' => Flag::Unsupported(NO_OPS),
        _ => return None,
    })
}

fn long_flag(name: &str) -> Option<Flag> {
    Some(match name {
        "add-service" => Flag::Command(Cmd::Add),
        "edit-service" => Flag::Command(Cmd::Edit),
        "delete-service" => Flag::Command(Cmd::Del),
        "clear" => Flag::Command(Cmd::Flush),
        "list" => Flag::Command(Cmd::List),
        "zero" => Flag::Command(Cmd::Zero),
        "add-server" => Flag::Command(Cmd::AddDest),
        "edit-server" => Flag::Command(Cmd::EditDest),
        "delete-server" => Flag::Command(Cmd::DelDest),
        "set" => Flag::Command(Cmd::Set),
        "defense" => Flag::Command(Cmd::Defense),
        "set-defense" => Flag::SetDefense,
        "timeouts" => Flag::Command(Cmd::Timeouts),
        "help" => Flag::Command(Cmd::Help),
        "version" => Flag::Command(Cmd::Version),
        "tcp-service" => Flag::Tcp,
        "udp-service" => Flag::Udp,
        "scheduler" => Flag::Scheduler,
        "real-server" => Flag::Server,
        "masquerading" => Flag::Masq,
        "gatewaying" => Flag::Gatewaying,
        "ipip" => Flag::Ipip,
        "weight" => Flag::Weight,
        "numeric" => Flag::Numeric,
        "connection" => Flag::Connection,
        "timeout" => Flag::Timeout,
        "stats" => Flag::Stats,
        "rate" => Flag::Rate,
        "exact" => Flag::Exact,
        "json" => Flag::Json,
        "persistent" | "netmask" => Flag::Unsupported(NO_PERSISTENCE),
        "fwmark-service" => Flag::Unsupported(NO_FWMARK),
        "u-threshold" | "l-threshold" | "thresholds" => Flag::Unsupported(NO_THRESHOLDS),
        "save" => Flag::Command(Cmd::Save),
        "restore" => Flag::Command(Cmd::Restore),
        "batch" => Flag::Command(Cmd::Batch),
        "start-daemon" | "stop-daemon" | "daemon" | "mcast-interface" | "syncid" => {
            Flag::Unsupported(NO_SYNC)
        }
        "ipv6" => Flag::Unsupported(NO_IPV6),
        "ops" => Flag::Unsupported(NO_OPS),
        _ => return None,
    })
}

/// State while reading the arguments.
#[derive(Default)]
struct Parsed {
    cmd: Option<Cmd>,
    options: u32,
    svc: Option<(Protocol, String)>,
    scheduler: Option<String>,
    server: Option<String>,
    weight: Option<u32>,
    level: Option<u32>,
    mode: ListMode,
    exact: bool,
    numeric: bool,
    json: bool,
    positional: Vec<String>,
}

impl Parsed {
    fn set_command(&mut self, cmd: Cmd) -> Result<(), UsageError> {
        if self.cmd.is_some() {
            return usage("multiple commands specified");
        }
        self.cmd = Some(cmd);
        Ok(())
    }

    fn set_option(&mut self, opt: Opt) -> Result<(), UsageError> {
        if self.options & opt.bit() != 0 {
            return usage(format!("multiple '{}' options specified", opt.name()));
        }
        self.options |= opt.bit();
        Ok(())
    }

    fn has(&self, opt: Opt) -> bool {
        self.options & opt.bit() != 0
    }

    fn apply(&mut self, flag: Flag, arg: Option<String>) -> Result<(), UsageError> {
        let arg = arg.unwrap_or_default();
        match flag {
            Flag::Command(cmd) => self.set_command(cmd)?,
            Flag::SetDefense => {
                self.set_command(Cmd::SetDefense)?;
                self.level = Some(parse_level(&arg)?);
            }
            Flag::Tcp | Flag::Udp => {
                self.set_option(Opt::Service)?;
                let proto = if flag == Flag::Tcp {
                    Protocol::Tcp
                } else {
                    Protocol::Udp
                };
                self.svc = Some((proto, arg));
            }
            Flag::Scheduler => {
                self.set_option(Opt::Scheduler)?;
                self.scheduler = Some(parse_scheduler(&arg)?);
            }
            Flag::Server => {
                self.set_option(Opt::Server)?;
                self.server = Some(arg);
            }
            Flag::Masq => self.set_option(Opt::Forward)?,
            Flag::Gatewaying => return usage(NO_DR),
            Flag::Ipip => return usage(NO_TUN),
            Flag::Weight => {
                self.set_option(Opt::Weight)?;
                self.weight = Some(parse_weight(&arg)?);
            }
            Flag::Numeric => {
                self.set_option(Opt::Numeric)?;
                self.numeric = true;
            }
            Flag::Connection => self.set_option(Opt::Connection)?,
            Flag::Timeout => self.set_option(Opt::Timeout)?,
            Flag::Stats => {
                self.set_option(Opt::Stats)?;
                self.mode = ListMode::Stats;
            }
            Flag::Rate => {
                self.set_option(Opt::Rate)?;
                self.mode = ListMode::Rate;
            }
            Flag::Exact => {
                self.set_option(Opt::Exact)?;
                self.exact = true;
            }
            Flag::Json => {
                self.set_option(Opt::Json)?;
                self.json = true;
            }
            Flag::Unsupported(why) => return usage(why),
        }
        Ok(())
    }
}

/// Parses the arguments (without the program name) into a command.
pub fn parse_args(args: &[String]) -> Result<Command, UsageError> {
    let mut p = Parsed::default();
    let mut i = 0;
    let mut only_positional = false;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if only_positional || a == "-" || !a.starts_with('-') {
            p.positional.push(a.clone());
            continue;
        }
        if a == "--" {
            only_positional = true;
            continue;
        }
        if let Some(long) = a.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let flag =
                long_flag(name).ok_or_else(|| UsageError(format!("unknown option '--{name}'")))?;
            let arg = if flag.takes_arg() {
                match inline {
                    Some(v) => Some(v),
                    None => {
                        let v = args.get(i).ok_or_else(|| {
                            UsageError(format!("option '--{name}' needs an argument"))
                        })?;
                        i += 1;
                        Some(v.clone())
                    }
                }
            } else {
                if inline.is_some() {
                    return usage(format!("option '--{name}' takes no argument"));
                }
                None
            };
            p.apply(flag, arg)?;
            continue;
        }
        // A cluster of short options, as `-Ln` or `-At 192.0.2.1:80` or `-t192.0.2.1:80`.
        let cluster: Vec<char> = a.chars().skip(1).collect();
        let mut k = 0;
        while k < cluster.len() {
            let c = cluster[k];
            k += 1;
            let flag = short_flag(c).ok_or_else(|| UsageError(format!("unknown option '-{c}'")))?;
            let arg = if flag.takes_arg() {
                if k < cluster.len() {
                    let v: String = cluster[k..].iter().collect();
                    k = cluster.len();
                    Some(v)
                } else {
                    let v = args
                        .get(i)
                        .ok_or_else(|| UsageError(format!("option '-{c}' needs an argument")))?;
                    i += 1;
                    Some(v.clone())
                }
            } else {
                None
            };
            p.apply(flag, arg)?;
        }
    }
    build(p)
}

fn build(p: Parsed) -> Result<Command, UsageError> {
    // No command at all: ipvsadm lists the table.
    let cmd = match p.cmd {
        Some(c) => c,
        None if p.options == 0 && p.positional.is_empty() => Cmd::List,
        None => return usage("no command specified (one of -A -E -D -C -a -e -d -L -Z -S -R --set --defense --set-defense --timeouts)"),
    };
    if matches!(cmd, Cmd::Help | Cmd::Version) && p.options == 0 && p.positional.is_empty() {
        return Ok(if cmd == Cmd::Help {
            Command::Help
        } else {
            Command::Version
        });
    }

    // Options against the command (ipvsadm's generic_opt_check).
    let mut exclusive: Option<Opt> = None;
    for opt in ALL_OPTS {
        match (rule(cmd, opt), p.has(opt)) {
            (Rule::Required, false) => {
                return usage(format!(
                    "You need to supply the '{}' option for the '{}' command",
                    opt.name(),
                    cmd.name()
                ))
            }
            (Rule::Illegal, true) => {
                return usage(format!(
                    "Illegal '{}' option with the '{}' command",
                    opt.name(),
                    cmd.name()
                ))
            }
            (Rule::Exclusive, true) => {
                if let Some(prev) = exclusive {
                    return usage(format!(
                        "The option '{}' conflicts with the '{}' option in the '{}' command",
                        opt.name(),
                        prev.name(),
                        cmd.name()
                    ));
                }
                exclusive = Some(opt);
            }
            _ => {}
        }
    }
    if cmd != Cmd::Set && cmd != Cmd::Timeouts {
        if let Some(extra) = p.positional.first() {
            return usage(format!("unexpected argument {extra}"));
        }
    }

    let svc = match &p.svc {
        Some((proto, text)) => Some(parse_service(*proto, text)?),
        None => None,
    };
    let dest = match (&p.server, svc) {
        (Some(text), Some(svc)) => Some(parse_server(text, svc.port)?),
        _ => None,
    };
    let scheduler = || {
        p.scheduler
            .clone()
            .unwrap_or_else(|| DEFAULT_SCHEDULER.to_string())
    };
    let weight = p.weight.unwrap_or(DEFAULT_WEIGHT);
    // Required options were checked above; these cannot fail.
    let need_svc = || svc.ok_or_else(|| UsageError("missing service".into()));
    let need_dest = || dest.ok_or_else(|| UsageError("missing real server".into()));

    Ok(match cmd {
        Cmd::Add => Command::AddService {
            svc: need_svc()?,
            scheduler: scheduler(),
        },
        Cmd::Edit => Command::EditService {
            svc: need_svc()?,
            scheduler: scheduler(),
        },
        Cmd::Del => Command::DelService { svc: need_svc()? },
        Cmd::Flush => Command::Flush,
        Cmd::AddDest => Command::AddDest {
            svc: need_svc()?,
            dest: need_dest()?,
            weight,
        },
        Cmd::EditDest => Command::EditDest {
            svc: need_svc()?,
            dest: need_dest()?,
            weight,
        },
        Cmd::DelDest => Command::DelDest {
            svc: need_svc()?,
            dest: need_dest()?,
        },
        Cmd::Zero => Command::Zero { svc },
        Cmd::List => {
            let listing_other = p.has(Opt::Connection) || p.has(Opt::Timeout);
            if listing_other && (p.has(Opt::Stats) || p.has(Opt::Rate)) {
                return usage("options conflicts in the list command");
            }
            if p.has(Opt::Stats) && p.has(Opt::Rate) {
                return usage(
                    "The option 'rate' conflicts with the 'stats' option in the 'list' command",
                );
            }
            let what = if p.has(Opt::Connection) {
                ListWhat::Connections
            } else if p.has(Opt::Timeout) {
                ListWhat::Timeout
            } else if let Some(svc) = svc {
                ListWhat::Service(svc)
            } else {
                ListWhat::All
            };
            Command::List(ListOpts {
                what,
                mode: p.mode,
                numeric: p.numeric,
                exact: p.exact,
                json: p.json,
            })
        }
        Cmd::Set => {
            if p.positional.len() != 3 {
                return usage("--set option requires 3 timeout values (tcp tcpfin udp)");
            }
            Command::SetTimeout {
                tcp: parse_set_timeout(&p.positional[0])?,
                tcpfin: parse_set_timeout(&p.positional[1])?,
                udp: parse_set_timeout(&p.positional[2])?,
            }
        }
        Cmd::Defense => Command::Defense { json: p.json },
        Cmd::Save => Command::Save,
        Cmd::Restore => Command::Restore,
        Cmd::Batch => Command::Batch,
        Cmd::SetDefense => Command::SetDefense {
            level: p.level.unwrap_or(0),
        },
        Cmd::Timeouts => {
            if p.positional.is_empty() {
                Command::ShowTimeouts { json: p.json }
            } else {
                if p.json {
                    return usage("--json shows timeouts; it cannot be used while setting them");
                }
                let sets = p
                    .positional
                    .iter()
                    .map(|a| parse_timeout_assignment(a))
                    .collect::<Result<Vec<_>, _>>()?;
                Command::SetTimeouts(sets)
            }
        }
        Cmd::Help | Cmd::Version => {
            return usage(format!(
                "'--{}' takes no other option or argument",
                cmd.name()
            ))
        }
    })
}

/// Parses an IPv4 address literal.
pub fn parse_addr(text: &str) -> Result<Ipv4Addr, UsageError> {
    if text.contains(':') || text.starts_with('[') {
        return usage(format!("bad address '{text}': {NO_IPV6}"));
    }
    text.parse::<Ipv4Addr>().map_err(|_| {
        UsageError(format!(
            "bad address '{text}': expected an IPv4 address such as 192.0.2.1"
        ))
    })
}

/// Parses a port, 1..=65535.
pub fn parse_port(text: &str, whole: &str) -> Result<u16, UsageError> {
    let ok = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    match text.parse::<u32>() {
        Ok(p) if ok && (1..=65535).contains(&p) => Ok(p as u16),
        _ => usage(format!("bad port '{text}' in '{whole}': must be 1..65535")),
    }
}

/// Parses `-t`/`-u`'s `ADDRESS:PORT`.
pub fn parse_service(protocol: Protocol, text: &str) -> Result<ServiceKey, UsageError> {
    if text.starts_with('[') || text.matches(':').count() > 1 {
        return usage(format!("bad service address '{text}': {NO_IPV6}"));
    }
    let Some((addr, port)) = text.rsplit_once(':') else {
        return usage(format!(
            "service address '{text}' needs a port: ADDRESS:PORT, e.g. 192.0.2.1:80"
        ));
    };
    Ok(ServiceKey {
        protocol,
        addr: parse_addr(addr)?,
        port: parse_port(port, text)?,
    })
}

/// Parses `-r`'s `ADDRESS[:PORT]`; without a port, the service's port (as ipvsadm).
pub fn parse_server(text: &str, svc_port: u16) -> Result<DestKey, UsageError> {
    if text.starts_with('[') || text.matches(':').count() > 1 {
        return usage(format!("bad real server address '{text}': {NO_IPV6}"));
    }
    match text.rsplit_once(':') {
        Some((addr, port)) => Ok(DestKey {
            addr: parse_addr(addr)?,
            port: parse_port(port, text)?,
        }),
        None => Ok(DestKey {
            addr: parse_addr(text)?,
            port: svc_port,
        }),
    }
}

fn parse_scheduler(text: &str) -> Result<String, UsageError> {
    match SchedKind::from_name(text.as_bytes()) {
        Some(k) => Ok(k.name().to_string()),
        None => usage(format!(
            "unknown scheduler '{text}' (one of {})",
            scheduler_names()
        )),
    }
}

fn parse_number(text: &str, max: u32) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<u32>().ok().filter(|&v| v <= max)
}

fn parse_weight(text: &str) -> Result<u32, UsageError> {
    parse_number(text, 65535).ok_or_else(|| {
        UsageError(format!(
            "illegal weight specified: '{text}' (must be 0..65535)"
        ))
    })
}

fn parse_level(text: &str) -> Result<u32, UsageError> {
    parse_number(text, 2).ok_or_else(|| {
        UsageError(format!(
            "illegal defense level '{text}' (must be 0 automatic, 1 engaged or 2 forced)"
        ))
    })
}

fn parse_set_timeout(text: &str) -> Result<u32, UsageError> {
    parse_number(text, timeouts::MAX_SECS).ok_or_else(|| {
        UsageError(format!(
            "invalid timeout value '{text}' specified (0 = unchanged, or 1..{} seconds)",
            timeouts::MAX_SECS
        ))
    })
}

/// Parses one `[defense:]STATE=SECONDS` of `--timeouts`.
pub fn parse_timeout_assignment(text: &str) -> Result<TimeoutSet, UsageError> {
    let Some((key, value)) = text.split_once('=') else {
        return usage(format!(
            "bad timeout assignment '{text}' (expected STATE=SECONDS, e.g. es=900 or defense:sr=10)"
        ));
    };
    let (set, name) = match key.split_once(':') {
        Some((prefix, name))
            if prefix.eq_ignore_ascii_case("defense") || prefix.eq_ignore_ascii_case("d") =>
        {
            (Set::Defense, name)
        }
        Some((prefix, name))
            if prefix.eq_ignore_ascii_case("normal") || prefix.eq_ignore_ascii_case("n") =>
        {
            (Set::Normal, name)
        }
        Some((prefix, _)) => {
            return usage(format!(
                "bad timeout set '{prefix}' in '{text}' (use defense: for the defense timeouts)"
            ))
        }
        None => (Set::Normal, key),
    };
    let row = timeouts::row_by_name(name).ok_or_else(|| {
        UsageError(format!(
            "unknown state '{name}' in '{text}' (one of {})",
            timeouts::names_help()
        ))
    })?;
    let secs = parse_number(value, timeouts::MAX_SECS)
        .filter(|&v| v >= 1)
        .ok_or_else(|| {
            UsageError(format!(
                "bad timeout '{value}' in '{text}' (must be 1..{} seconds)",
                timeouts::MAX_SECS
            ))
        })?;
    Ok(TimeoutSet { set, row, secs })
}

/// Wraps a comma-separated list at `width` columns, continuation lines indented by `indent`.
fn wrap(list: &str, width: usize, indent: usize) -> String {
    let mut lines: Vec<String> = vec![String::new()];
    for item in list.split(", ") {
        let cur = lines.last_mut().map_or(0, |l| l.len());
        if cur > 0 && cur + item.len() + 2 > width {
            lines.push(String::new());
        }
        if let Some(l) = lines.last_mut() {
            if !l.is_empty() {
                l.push(' ');
            }
            l.push_str(item);
            l.push(',');
        }
    }
    if let Some(l) = lines.last_mut() {
        l.pop();
    }
    lines.join(&format!("\n{}", " ".repeat(indent)))
}

/// The `--help` text.
pub fn help_text() -> String {
    format!(
        "\
ipvsdadm {version}: control the ipvs_defense director (ipvsadm-style)

Usage:
  ipvsdadm -A|E -t|u service-address [-s scheduler]
  ipvsdadm -D -t|u service-address
  ipvsdadm -C
  ipvsdadm -a|e -t|u service-address -r server-address [-m] [-w weight]
  ipvsdadm -d -t|u service-address -r server-address
  ipvsdadm -L|l [-n] [-c | -t|u service-address | --timeout]
                [--stats | --rate] [--exact] [--json]
  ipvsdadm -Z [-t|u service-address]
  ipvsdadm -S [-n]
  ipvsdadm -R | --batch
  ipvsdadm --set tcp tcpfin udp
  ipvsdadm --defense [--json]
  ipvsdadm --set-defense LEVEL
  ipvsdadm --timeouts [--json]
  ipvsdadm --timeouts [defense:]STATE=SECONDS ...
  ipvsdadm -h | -v

Commands:
  --add-service     -A        add virtual service
  --edit-service    -E        edit virtual service (its scheduler; wlc
                              without -s, as ipvsadm)
  --delete-service  -D        delete virtual service
  --clear           -C        delete every virtual service
  --add-server      -a        add real server
  --edit-server     -e        edit real server (its weight)
  --delete-server   -d        delete real server
  --list            -L|-l     list the table (the default with no arguments)
  --zero            -Z        zero counters of one service or of everything
  --save            -S        print the services and real servers as the
                              commands that make them (ipvsadm -S -n's
                              format)
  --restore         -R        run the commands of standard input, one a
                              line (ipvsadm -S's format; empty lines and
                              # comments skipped); stops at the first
                              that fails, naming its line
  --batch                     run the commands of standard input, one a
                              line, each to its end; after each, print
                              'ipvsdadm-batch: exit STATUS' (for scripts
                              that keep one ipvsdadm running)
  --set tcp tcpfin udp        set the ESTABLISHED, FIN_WAIT and UDP timeouts
                              (seconds; 0 leaves a value unchanged)
  --defense                   show the defense state: operator and effective
                              level, available memory vs amemthresh, SYN
                              drop rate, level switches, drop counters and
                              known-client passes
  --set-defense LEVEL         set defense_level: 0 automatic, 1 engaged,
                              2 forced
  --timeouts                  show every timeout_* and defense_timeout_* sysctl
  --timeouts STATE=SECONDS... set timeouts; STATE is a state name or its
                              abbreviation:
                              {names}
                              prefix defense: for the defense set, e.g.
                              ipvsdadm --timeouts es=900 sr=10 defense:sr=5
  --help            -h        show this help
  --version         -v        show the version

Options:
  --tcp-service  -t service-address   service-address is IPv4-address:port
  --udp-service  -u service-address   service-address is IPv4-address:port
  --scheduler    -s scheduler         one of {scheds};
                                      the default is {default_sched}
  --real-server  -r server-address    IPv4-address[:port] (default port: the
                                      service's)
  --masquerading -m                   masquerading (NAT): the only forwarding
                                      method and the default (-g, -i refused)
  --weight       -w weight            capacity of real server, 0..65535 (default
                                      1; 0 = no new connections); -e without -w
                                      sets 1, as ipvsadm
  --numeric      -n                   numeric output (output is always numeric)
  --connection   -c                   list the connection table
  --timeout                           list ipvsadm's timeouts (tcp tcpfin udp)
  --stats                             list counters
  --rate                              list per-second rates, computed from two
                                      samples of the counters 1 second apart
  --exact                -X           print exact numbers in --stats/--rate
  --json                              JSON output of any listing (fields are
                                      documented in userspace/README.md)

Exit status: 0 success, 1 runtime or kernel error, 2 usage error.
Files: timeouts are read and written in {dir}/.
",
        version = env!("CARGO_PKG_VERSION"),
        names = wrap(&timeouts::names_help(), 48, 30),
        scheds = scheduler_names(),
        default_sched = DEFAULT_SCHEDULER,
        dir = timeouts::SYSCTL_DIR,
    )
}
