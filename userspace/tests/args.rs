// SPDX-License-Identifier: GPL-2.0
//! The argument parser: every flag in its short and long form, and every error.

mod common;

use common::*;
use ipvsd_logic::tcp_state::TcpState;
use ipvsdadm::args::{parse_args, Command, ListMode, ListOpts, ListWhat, TimeoutSet, UsageError};
use ipvsdadm::model::{DestKey, Protocol, ServiceKey};
use ipvsdadm::timeouts::{Set, TimeoutRow};

fn p(line: &str) -> Result<Command, UsageError> {
    let args: Vec<String> = line.split_whitespace().map(String::from).collect();
    parse_args(&args)
}

fn ok(line: &str) -> Command {
    p(line).unwrap_or_else(|e| panic!("{line:?}: {e}"))
}

/// The error message of `line`, which must fail.
fn err(line: &str) -> String {
    match p(line) {
        Ok(c) => panic!("{line:?} parsed as {c:?}"),
        Err(e) => e.0,
    }
}

fn err_has(line: &str, want: &str) {
    let e = err(line);
    assert!(e.contains(want), "{line:?}: {e:?} lacks {want:?}");
}

fn rs(addr: &str, port: u16) -> DestKey {
    DestKey {
        addr: ip(addr),
        port,
    }
}

fn list(what: ListWhat, mode: ListMode, numeric: bool, exact: bool, json: bool) -> Command {
    Command::List(ListOpts {
        what,
        mode,
        numeric,
        exact,
        json,
    })
}

// ---- commands -------------------------------------------------------------------------

#[test]
fn add_service_short_and_long() {
    let want = Command::AddService {
        svc: tcp80(),
        scheduler: "rr".into(),
    };
    assert_eq!(ok("-A -t 192.0.2.100:80 -s rr"), want);
    assert_eq!(
        ok("--add-service --tcp-service 192.0.2.100:80 --scheduler rr"),
        want
    );
    assert_eq!(
        ok("--add-service --tcp-service=192.0.2.100:80 --scheduler=rr"),
        want
    );
    assert_eq!(ok("-At 192.0.2.100:80 -srr"), want);
    assert_eq!(ok("-A -t192.0.2.100:80 -s rr"), want);
}

#[test]
fn add_service_defaults_to_wlc() {
    assert_eq!(
        ok("-A -u 192.0.2.100:53"),
        Command::AddService {
            svc: udp53(),
            scheduler: "wlc".into()
        }
    );
    assert_eq!(
        ok("-A --udp-service 192.0.2.100:53"),
        Command::AddService {
            svc: udp53(),
            scheduler: "wlc".into()
        }
    );
}

#[test]
fn every_scheduler() {
    for s in ["rr", "wrr", "lc", "wlc", "mh"] {
        assert_eq!(
            ok(&format!("-A -t 192.0.2.100:80 -s {s}")),
            Command::AddService {
                svc: tcp80(),
                scheduler: s.into()
            }
        );
    }
}

#[test]
fn edit_service() {
    let want = Command::EditService {
        svc: tcp80(),
        scheduler: "mh".into(),
    };
    assert_eq!(ok("-E -t 192.0.2.100:80 -s mh"), want);
    assert_eq!(ok("--edit-service -t 192.0.2.100:80 -s mh"), want);
    // As ipvsadm: -E without -s sets the default scheduler.
    assert_eq!(
        ok("-E -t 192.0.2.100:80"),
        Command::EditService {
            svc: tcp80(),
            scheduler: "wlc".into()
        }
    );
}

#[test]
fn delete_service() {
    let want = Command::DelService { svc: udp53() };
    assert_eq!(ok("-D -u 192.0.2.100:53"), want);
    assert_eq!(ok("--delete-service --udp-service 192.0.2.100:53"), want);
}

#[test]
fn clear() {
    assert_eq!(ok("-C"), Command::Flush);
    assert_eq!(ok("--clear"), Command::Flush);
}

#[test]
fn add_server() {
    let want = Command::AddDest {
        svc: tcp80(),
        dest: rs("198.51.100.2", 8080),
        weight: 3,
    };
    assert_eq!(
        ok("-a -t 192.0.2.100:80 -r 198.51.100.2:8080 -m -w 3"),
        want
    );
    assert_eq!(
        ok("--add-server --tcp-service 192.0.2.100:80 --real-server 198.51.100.2:8080 --masquerading --weight 3"),
        want
    );
    assert_eq!(ok("-a -t 192.0.2.100:80 -r 198.51.100.2:8080 -w 3"), want);
    // -r before -t works too.
    assert_eq!(ok("-a -r 198.51.100.2:8080 -t 192.0.2.100:80 -w3 -m"), want);
}

#[test]
fn add_server_defaults() {
    // Weight 1, and the service's port when -r has none (as ipvsadm).
    assert_eq!(
        ok("-a -t 192.0.2.100:80 -r 198.51.100.2"),
        Command::AddDest {
            svc: tcp80(),
            dest: rs("198.51.100.2", 80),
            weight: 1
        }
    );
}

#[test]
fn weight_bounds() {
    for (w, want) in [("0", 0), ("1", 1), ("65535", 65535)] {
        assert_eq!(
            ok(&format!("-e -t 192.0.2.100:80 -r 198.51.100.2:8080 -w {w}")),
            Command::EditDest {
                svc: tcp80(),
                dest: rs("198.51.100.2", 8080),
                weight: want
            }
        );
    }
}

#[test]
fn edit_server() {
    let want = Command::EditDest {
        svc: udp53(),
        dest: rs("198.51.100.4", 53),
        weight: 0,
    };
    assert_eq!(ok("-e -u 192.0.2.100:53 -r 198.51.100.4:53 -w 0"), want);
    assert_eq!(
        ok("--edit-server -u 192.0.2.100:53 --real-server=198.51.100.4:53 --weight=0"),
        want
    );
}

#[test]
fn delete_server() {
    let want = Command::DelDest {
        svc: tcp80(),
        dest: rs("198.51.100.3", 8080),
    };
    assert_eq!(ok("-d -t 192.0.2.100:80 -r 198.51.100.3:8080"), want);
    assert_eq!(
        ok("--delete-server -t 192.0.2.100:80 -r 198.51.100.3:8080"),
        want
    );
}

#[test]
fn list_forms() {
    let all = list(ListWhat::All, ListMode::Plain, false, false, false);
    assert_eq!(ok(""), all);
    assert_eq!(ok("-L"), all);
    assert_eq!(ok("-l"), all);
    assert_eq!(ok("--list"), all);
    let n = list(ListWhat::All, ListMode::Plain, true, false, false);
    assert_eq!(ok("-L -n"), n);
    assert_eq!(ok("-Ln"), n);
    assert_eq!(ok("-nL"), n);
    assert_eq!(ok("--list --numeric"), n);
}

#[test]
fn list_connections() {
    let want = list(ListWhat::Connections, ListMode::Plain, true, false, false);
    assert_eq!(ok("-L -n -c"), want);
    assert_eq!(ok("-Lnc"), want);
    assert_eq!(ok("--list --numeric --connection"), want);
    assert_eq!(
        ok("-L -c --json"),
        list(ListWhat::Connections, ListMode::Plain, false, false, true)
    );
}

#[test]
fn list_stats_rate_exact_json() {
    assert_eq!(
        ok("-L -n --stats"),
        list(ListWhat::All, ListMode::Stats, true, false, false)
    );
    assert_eq!(
        ok("-L -n --rate"),
        list(ListWhat::All, ListMode::Rate, true, false, false)
    );
    assert_eq!(
        ok("-L -n --stats --exact"),
        list(ListWhat::All, ListMode::Stats, true, true, false)
    );
    assert_eq!(
        ok("-L -n --rate -X --json"),
        list(ListWhat::All, ListMode::Rate, true, true, true)
    );
    assert_eq!(
        ok("-L --json"),
        list(ListWhat::All, ListMode::Plain, false, false, true)
    );
}

#[test]
fn list_one_service() {
    assert_eq!(
        ok("-L -n -t 192.0.2.100:80"),
        list(
            ListWhat::Service(tcp80()),
            ListMode::Plain,
            true,
            false,
            false
        )
    );
    assert_eq!(
        ok("-L -n --stats -u 192.0.2.100:53"),
        list(
            ListWhat::Service(udp53()),
            ListMode::Stats,
            true,
            false,
            false
        )
    );
}

#[test]
fn list_ipvsadm_timeout() {
    assert_eq!(
        ok("-L --timeout"),
        list(ListWhat::Timeout, ListMode::Plain, false, false, false)
    );
}

#[test]
fn zero() {
    assert_eq!(ok("-Z"), Command::Zero { svc: None });
    assert_eq!(ok("--zero"), Command::Zero { svc: None });
    assert_eq!(
        ok("-Z -t 192.0.2.100:80"),
        Command::Zero { svc: Some(tcp80()) }
    );
}

#[test]
fn set_ipvsadm_timeouts() {
    assert_eq!(
        ok("--set 900 120 300"),
        Command::SetTimeout {
            tcp: 900,
            tcpfin: 120,
            udp: 300
        }
    );
    assert_eq!(
        ok("--set 0 0 2147483"),
        Command::SetTimeout {
            tcp: 0,
            tcpfin: 0,
            udp: 2_147_483
        }
    );
}

#[test]
fn defense_commands() {
    assert_eq!(ok("--defense"), Command::Defense { json: false });
    assert_eq!(ok("--defense --json"), Command::Defense { json: true });
    for l in 0..=2 {
        assert_eq!(
            ok(&format!("--set-defense {l}")),
            Command::SetDefense { level: l }
        );
        assert_eq!(
            ok(&format!("--set-defense={l}")),
            Command::SetDefense { level: l }
        );
    }
}

#[test]
fn timeouts_show_and_set() {
    assert_eq!(ok("--timeouts"), Command::ShowTimeouts { json: false });
    assert_eq!(
        ok("--timeouts --json"),
        Command::ShowTimeouts { json: true }
    );
    assert_eq!(
        ok("--timeouts es=900 sr=10 defense:sr=5 UDP=300 fin_wait=60 d:synack=20 normal:no=2"),
        Command::SetTimeouts(vec![
            TimeoutSet {
                set: Set::Normal,
                row: TimeoutRow::Tcp(TcpState::Established),
                secs: 900
            },
            TimeoutSet {
                set: Set::Normal,
                row: TimeoutRow::Tcp(TcpState::SynRecv),
                secs: 10
            },
            TimeoutSet {
                set: Set::Defense,
                row: TimeoutRow::Tcp(TcpState::SynRecv),
                secs: 5
            },
            TimeoutSet {
                set: Set::Normal,
                row: TimeoutRow::Udp,
                secs: 300
            },
            TimeoutSet {
                set: Set::Normal,
                row: TimeoutRow::Tcp(TcpState::FinWait),
                secs: 60
            },
            TimeoutSet {
                set: Set::Defense,
                row: TimeoutRow::Tcp(TcpState::SynAck),
                secs: 20
            },
            TimeoutSet {
                set: Set::Normal,
                row: TimeoutRow::Tcp(TcpState::None),
                secs: 2
            },
        ])
    );
    // Every state by long name and abbreviation.
    let names = [
        ("none", "no"),
        ("established", "es"),
        ("syn_sent", "ss"),
        ("syn_recv", "sr"),
        ("fin_wait", "fw"),
        ("time_wait", "tw"),
        ("close", "cl"),
        ("close_wait", "cw"),
        ("last_ack", "la"),
        ("listen", "li"),
        ("synack", "sa"),
        ("udp", "udp"),
    ];
    for (row, (long, short)) in TimeoutRow::ALL.into_iter().zip(names) {
        for n in [long, short] {
            assert_eq!(
                ok(&format!("--timeouts {n}=7")),
                Command::SetTimeouts(vec![TimeoutSet {
                    set: Set::Normal,
                    row,
                    secs: 7
                }])
            );
        }
    }
}

#[test]
fn help_and_version() {
    assert_eq!(ok("-h"), Command::Help);
    assert_eq!(ok("--help"), Command::Help);
    assert_eq!(ok("-v"), Command::Version);
    assert_eq!(ok("--version"), Command::Version);
}

#[test]
fn help_documents_every_flag() {
    let h = ipvsdadm::args::help_text();
    for f in [
        "--add-service",
        "-A",
        "--edit-service",
        "-E",
        "--delete-service",
        "-D",
        "--clear",
        "-C",
        "--add-server",
        "-a",
        "--edit-server",
        "-e",
        "--delete-server",
        "-d",
        "--list",
        "-L|-l",
        "--zero",
        "-Z",
        "--set tcp tcpfin udp",
        "--defense",
        "--set-defense LEVEL",
        "--timeouts",
        "--tcp-service",
        "-t",
        "--udp-service",
        "-u",
        "--scheduler",
        "-s",
        "--real-server",
        "-r",
        "--masquerading",
        "-m",
        "--weight",
        "-w",
        "--numeric",
        "-n",
        "--connection",
        "-c",
        "--timeout",
        "--stats",
        "--rate",
        "--exact",
        "--json",
        "defense:",
        "Exit status: 0 success, 1 runtime or kernel error, 2 usage error",
    ] {
        assert!(h.contains(f), "help lacks {f}");
    }
}

// ---- errors ---------------------------------------------------------------------------

#[test]
fn unknown_flags() {
    assert_eq!(err("-L -q"), "unknown option '-q'");
    assert_eq!(err("--frobnicate"), "unknown option '--frobnicate'");
    assert_eq!(err("-Lq"), "unknown option '-q'");
}

#[test]
fn missing_option_argument() {
    assert_eq!(err("-A -t"), "option '-t' needs an argument");
    assert_eq!(
        err("-A --tcp-service"),
        "option '--tcp-service' needs an argument"
    );
    assert_eq!(
        err("-a -t 192.0.2.100:80 -r"),
        "option '-r' needs an argument"
    );
    assert_eq!(
        err("--set-defense"),
        "option '--set-defense' needs an argument"
    );
    assert_eq!(err("--list=x"), "option '--list' takes no argument");
}

#[test]
fn missing_service() {
    for cmd in ["-A", "-E", "-D"] {
        let name = match cmd {
            "-A" => "add-service",
            "-E" => "edit-service",
            _ => "delete-service",
        };
        assert_eq!(
            err(cmd),
            format!("You need to supply the 'service-address' option for the '{name}' command")
        );
    }
    assert_eq!(
        err("-a -r 198.51.100.2:8080"),
        "You need to supply the 'service-address' option for the 'add-server' command"
    );
    assert_eq!(
        err("-d -r 198.51.100.2:8080"),
        "You need to supply the 'service-address' option for the 'delete-server' command"
    );
}

#[test]
fn missing_real_server() {
    assert_eq!(
        err("-a -t 192.0.2.100:80"),
        "You need to supply the 'real-server' option for the 'add-server' command"
    );
    assert_eq!(
        err("-e -t 192.0.2.100:80 -w 2"),
        "You need to supply the 'real-server' option for the 'edit-server' command"
    );
    assert_eq!(
        err("-d -t 192.0.2.100:80"),
        "You need to supply the 'real-server' option for the 'delete-server' command"
    );
}

#[test]
fn bad_addresses() {
    for a in [
        "300.1.2.3:80",
        "192.0.2:80",
        "host.example:80",
        ":80",
        "1.2.3.4.5:80",
    ] {
        err_has(&format!("-A -t {a}"), "bad address");
    }
    err_has("-A -t 2001:db8::1", "IPv6 is not supported");
    err_has("-A -t [2001:db8::1]:80", "IPv6 is not supported");
    err_has(
        "-a -t 192.0.2.100:80 -r 198.51.100.256:80",
        "bad address '198.51.100.256'",
    );
    err_has("-a -t 192.0.2.100:80 -r [::1]:80", "IPv6 is not supported");
    assert_eq!(
        err("-A -t 192.0.2.100"),
        "service address '192.0.2.100' needs a port: ADDRESS:PORT, e.g. 192.0.2.1:80"
    );
}

#[test]
fn bad_ports() {
    for port in ["0", "65536", "99999", "-1", "http", "", "8o", "+80"] {
        err_has(&format!("-A -t 192.0.2.100:{port}"), "must be 1..65535");
        err_has(
            &format!("-a -t 192.0.2.100:80 -r 198.51.100.2:{port}"),
            "must be 1..65535",
        );
    }
    assert_eq!(
        err("-A -t 192.0.2.100:0"),
        "bad port '0' in '192.0.2.100:0': must be 1..65535"
    );
}

#[test]
fn bad_weights() {
    for w in ["-1", "65536", "1e3", "x", "", "4294967296"] {
        let e = err(&format!(
            "-a -t 192.0.2.100:80 -r 198.51.100.2:80 --weight={w}"
        ));
        assert_eq!(
            e,
            format!("illegal weight specified: '{w}' (must be 0..65535)")
        );
    }
}

#[test]
fn unknown_scheduler() {
    assert_eq!(
        err("-A -t 192.0.2.100:80 -s sh"),
        "unknown scheduler 'sh' (one of rr, wrr, lc, wlc, mh)"
    );
    err_has("-E -t 192.0.2.100:80 -s RR", "unknown scheduler 'RR'");
}

#[test]
fn gatewaying_and_tunneling_refused() {
    for line in [
        "-a -t 192.0.2.100:80 -r 198.51.100.2:80 -g",
        "-a -t 192.0.2.100:80 -r 198.51.100.2:80 --gatewaying",
        "-e -t 192.0.2.100:80 -r 198.51.100.2:80 -g",
    ] {
        assert_eq!(
            err(line),
            "-g (gatewaying, direct routing) is not supported: ipvs_defense forwards by NAT only (use -m)"
        );
    }
    for line in [
        "-a -t 192.0.2.100:80 -r 198.51.100.2:80 -i",
        "-a -t 192.0.2.100:80 -r 198.51.100.2:80 --ipip",
    ] {
        assert_eq!(
            err(line),
            "-i (ipip tunneling) is not supported: ipvs_defense forwards by NAT only (use -m)"
        );
    }
}

#[test]
fn save_and_restore() {
    for (line, want) in [
        ("-S", Command::Save),
        ("-S -n", Command::Save),
        ("-Sn", Command::Save),
        ("--save", Command::Save),
        ("-R", Command::Restore),
        ("--restore", Command::Restore),
    ] {
        assert_eq!(ok(line), want, "{line}");
    }
    err_has(
        "-R -n",
        "Illegal 'numeric' option with the 'restore' command",
    );
    err_has("-S -t 192.0.2.100:80", "Illegal 'service-address' option");
    err_has("-S -R", "multiple commands");
}

#[test]
fn unsupported_ipvsadm_features() {
    err_has("-A -t 192.0.2.100:80 -p 300", "persistence");
    err_has("-A -f 1", "firewall-mark");
    err_has("--start-daemon master", "sync daemon");
    err_has(
        "-a -t 192.0.2.100:80 -r 198.51.100.2:80 -x 10",
        "thresholds",
    );
    err_has("-A -u 192.0.2.100:53 -o", "one-packet");
}

#[test]
fn conflicting_commands() {
    assert_eq!(
        err("-A -D -t 192.0.2.100:80"),
        "multiple commands specified"
    );
    assert_eq!(err("-L -C"), "multiple commands specified");
    assert_eq!(err("-LZ"), "multiple commands specified");
    assert_eq!(err("--defense --timeouts"), "multiple commands specified");
    assert_eq!(err("-L --set-defense 1"), "multiple commands specified");
    assert_eq!(err("-L -h"), "multiple commands specified");
}

#[test]
fn repeated_options() {
    assert_eq!(
        err("-A -t 192.0.2.100:80 -u 192.0.2.100:53"),
        "multiple 'service-address' options specified"
    );
    assert_eq!(
        err("-A -t 192.0.2.100:80 -s rr -s wrr"),
        "multiple 'scheduler' options specified"
    );
    assert_eq!(err("-L -n -n"), "multiple 'numeric' options specified");
    assert_eq!(
        err("-a -t 192.0.2.100:80 -r 198.51.100.2:80 -m -m"),
        "multiple 'forwarding-method' options specified"
    );
}

#[test]
fn illegal_options_for_command() {
    assert_eq!(
        err("-A -t 192.0.2.100:80 -w 3"),
        "Illegal 'weight' option with the 'add-service' command"
    );
    assert_eq!(
        err("-A -t 192.0.2.100:80 -r 198.51.100.2:80"),
        "Illegal 'real-server' option with the 'add-service' command"
    );
    assert_eq!(
        err("-D -t 192.0.2.100:80 -s rr"),
        "Illegal 'scheduler' option with the 'delete-service' command"
    );
    assert_eq!(
        err("-C -n"),
        "Illegal 'numeric' option with the 'clear' command"
    );
    assert_eq!(
        err("-L -r 198.51.100.2:80"),
        "Illegal 'real-server' option with the 'list' command"
    );
    assert_eq!(
        err("-a -t 192.0.2.100:80 -r 198.51.100.2:80 -s rr"),
        "Illegal 'scheduler' option with the 'add-server' command"
    );
    assert_eq!(
        err("-d -t 192.0.2.100:80 -r 198.51.100.2:80 -w 1"),
        "Illegal 'weight' option with the 'delete-server' command"
    );
    assert_eq!(
        err("-Z -n"),
        "Illegal 'numeric' option with the 'zero' command"
    );
    assert_eq!(
        err("--set-defense 1 --json"),
        "Illegal 'json' option with the 'set-defense' command"
    );
    assert_eq!(
        err("--defense -n"),
        "Illegal 'numeric' option with the 'defense' command"
    );
    assert_eq!(
        err("-A -t 192.0.2.100:80 --json"),
        "Illegal 'json' option with the 'add-service' command"
    );
    assert_eq!(
        err("-h -n"),
        "Illegal 'numeric' option with the 'help' command"
    );
}

#[test]
fn conflicting_list_options() {
    assert_eq!(
        err("-L -c -t 192.0.2.100:80"),
        "The option 'service-address' conflicts with the 'connection' option in the 'list' command"
    );
    assert_eq!(
        err("-L -c --timeout"),
        "The option 'timeout' conflicts with the 'connection' option in the 'list' command"
    );
    assert_eq!(
        err("-L -c --stats"),
        "options conflicts in the list command"
    );
    assert_eq!(
        err("-L --timeout --rate"),
        "options conflicts in the list command"
    );
    assert_eq!(
        err("-L --stats --rate"),
        "The option 'rate' conflicts with the 'stats' option in the 'list' command"
    );
}

#[test]
fn set_defense_out_of_range() {
    for l in ["3", "-1", "x", "", "10", "4294967296"] {
        assert_eq!(
            err(&format!("--set-defense={l}")),
            format!("illegal defense level '{l}' (must be 0 automatic, 1 engaged or 2 forced)")
        );
    }
}

#[test]
fn set_needs_three_values() {
    assert_eq!(
        err("--set 900 120"),
        "--set option requires 3 timeout values (tcp tcpfin udp)"
    );
    assert_eq!(
        err("--set 1 2 3 4"),
        "--set option requires 3 timeout values (tcp tcpfin udp)"
    );
    assert_eq!(
        err("--set 900 120 2147484"),
        "invalid timeout value '2147484' specified (0 = unchanged, or 1..2147483 seconds)"
    );
    err_has("--set 900 x 300", "invalid timeout value 'x'");
}

#[test]
fn bad_timeout_assignments() {
    err_has("--timeouts es", "expected STATE=SECONDS");
    err_has("--timeouts foo=10", "unknown state 'foo'");
    err_has("--timeouts foo=10", "established|es");
    err_has("--timeouts es=0", "must be 1..2147483 seconds");
    err_has("--timeouts es=2147484", "must be 1..2147483 seconds");
    err_has("--timeouts es=-5", "must be 1..2147483 seconds");
    err_has("--timeouts es=", "must be 1..2147483 seconds");
    err_has("--timeouts quick:es=5", "bad timeout set 'quick'");
    assert_eq!(
        err("--timeouts --json es=5"),
        "--json shows timeouts; it cannot be used while setting them"
    );
}

#[test]
fn stray_arguments() {
    assert_eq!(err("-L extra"), "unexpected argument extra");
    assert_eq!(err("-A -t 192.0.2.100:80 rr"), "unexpected argument rr");
    assert_eq!(err("--defense 2"), "unexpected argument 2");
    err_has("-n", "no command specified");
    err_has("192.0.2.1", "no command specified");
}

#[test]
fn service_keys_are_exact() {
    assert_eq!(
        ok("-D -t 203.0.113.255:65535"),
        Command::DelService {
            svc: ServiceKey {
                protocol: Protocol::Tcp,
                addr: ip("203.0.113.255"),
                port: 65535
            }
        }
    );
}
