// SPDX-License-Identifier: GPL-2.0
//! The whole program against a fake module: output, the one error line, exit codes, and
//! the timeout sysctls in a temporary directory.

mod common;

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use common::*;
use ipvsdadm::client::NlError;
use ipvsdadm::run::{main_with, Env, BATCH_END};
use ipvsdadm::timeouts::TimeoutRow;

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
    calls: Vec<String>,
}

fn env(dir: PathBuf) -> Env {
    Env {
        sysctl_dir: dir,
        rate_interval: Duration::from_millis(0),
        page_size: 4096,
    }
}

fn run_with(line: &str, fake: Fake, dir: PathBuf) -> Out {
    run_input(line, "", fake, dir)
}

fn run_input(line: &str, input: &str, fake: Fake, dir: PathBuf) -> Out {
    let args: Vec<String> = line.split_whitespace().map(String::from).collect();
    let mut out = Vec::new();
    let mut err = Vec::new();
    let calls = fake.calls.clone();
    let mut fake = Some(fake);
    let code = main_with(
        &args,
        move || -> Result<Fake, NlError> { Ok(fake.take().expect("connected twice")) },
        &env(dir),
        &mut input.as_bytes(),
        &mut out,
        &mut err,
    );
    Out {
        code,
        stdout: String::from_utf8(out).unwrap(),
        stderr: String::from_utf8(err).unwrap(),
        calls: calls.take(),
    }
}

fn run(line: &str) -> Out {
    run_with(line, Fake::loaded(), sysctl_dir("run"))
}

fn run_failing(line: &str, e: NlError) -> Out {
    let mut f = Fake::loaded();
    f.fail = Some(e);
    run_with(line, f, sysctl_dir("fail"))
}

fn errno(errno: i32, message: Option<&str>) -> NlError {
    NlError::Errno {
        errno,
        message: message.map(String::from),
    }
}

#[test]
fn list_numeric() {
    let o = run("-L -n");
    assert_eq!((o.code, o.stderr.as_str()), (0, ""));
    assert_eq!(o.stdout, golden("list.txt"));
    assert_eq!(
        o.calls,
        [
            "global_stats",
            "services",
            "dests UDP 192.0.2.100:53",
            "dests TCP 192.0.2.100:80"
        ]
    );
    // No arguments at all lists the same way.
    assert_eq!(run("").stdout, golden("list.txt"));
}

#[test]
fn list_stats() {
    let o = run("-L -n --stats");
    assert_eq!(o.code, 0);
    assert_eq!(o.stdout, golden("stats.txt"));
}

#[test]
fn list_rate_samples_twice() {
    let mut f = Fake::loaded();
    f.grow = 1;
    let o = run_with("-L -n --rate --json", f, sysctl_dir("rate"));
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.calls.iter().filter(|c| *c == "services").count(), 2);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert!(v["rate_interval_ms"].is_u64());
    assert!(v["services"][0]["rates"]["cps"].as_u64().unwrap() > 0);
    assert!(v["services"][0]["real_servers"][0]["rates"]["inbps"].is_u64());

    let o = run("-L -n --rate");
    assert_eq!(o.code, 0);
    assert!(o
        .stdout
        .contains("CPS    InPPS   OutPPS    InBPS   OutBPS\n"));
}

#[test]
fn list_one_service() {
    let o = run("-L -n -t 192.0.2.100:80");
    assert_eq!(o.code, 0);
    let want: String = golden("list.txt")
        .lines()
        .skip(1)
        .take(6)
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(o.stdout, want);
    let o = run("-L -n -t 192.0.2.1:80");
    assert_eq!(o.code, 1);
    assert_eq!(
        o.stderr,
        "ipvsdadm: list service TCP 192.0.2.1:80: no such service (ENOENT)\n"
    );
}

#[test]
fn list_connections() {
    let o = run("-L -n -c");
    assert_eq!(o.code, 0);
    assert_eq!(o.stdout, golden("connections.txt"));
    let o = run("-Lnc --json");
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(v["connections"].as_array().unwrap().len(), 6);
}

#[test]
fn list_json() {
    let o = run("-L -n --json");
    assert_eq!(o.code, 0);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(v["services"][0]["address"], "192.0.2.100");
    assert_eq!(
        v["services"][0]["real_servers"][2]["address"],
        "198.51.100.10"
    );
    // JSON has no header, so GET_STATS is not needed.
    assert!(!o.calls.contains(&"global_stats".to_string()));
}

#[test]
fn defense() {
    let o = run("--defense");
    assert_eq!(o.code, 0);
    assert_eq!(o.stdout, golden("defense.txt"));
    let o = run("--defense --json");
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(v["effective_level"], 1);
    assert_eq!(v["drops"]["blind_acks"], 17);
}

#[test]
fn changes_reach_the_module() {
    let cases = [
        (
            "-A -t 192.0.2.100:80 -s rr",
            "add_service TCP 192.0.2.100:80 rr",
        ),
        (
            "-E -u 192.0.2.100:53 -s mh",
            "edit_service UDP 192.0.2.100:53 mh",
        ),
        ("-D -t 192.0.2.100:80", "del_service TCP 192.0.2.100:80"),
        ("-C", "flush"),
        (
            "-a -t 192.0.2.100:80 -r 198.51.100.2:8080 -m -w 5",
            "add_dest TCP 192.0.2.100:80 198.51.100.2:8080 5",
        ),
        (
            "-e -t 192.0.2.100:80 -r 198.51.100.2 -w 0",
            "edit_dest TCP 192.0.2.100:80 198.51.100.2:80 0",
        ),
        (
            "-d -t 192.0.2.100:80 -r 198.51.100.2:8080",
            "del_dest TCP 192.0.2.100:80 198.51.100.2:8080",
        ),
        ("-Z", "zero all"),
        ("-Z -u 192.0.2.100:53", "zero UDP 192.0.2.100:53"),
        ("--set-defense 2", "set_defense 2"),
    ];
    for (line, call) in cases {
        let o = run(line);
        assert_eq!(
            (o.code, o.stdout.as_str(), o.stderr.as_str()),
            (0, "", ""),
            "{line}"
        );
        assert_eq!(o.calls, [call], "{line}");
    }
}

#[test]
fn module_not_loaded() {
    let args: Vec<String> = vec!["-L".into(), "-n".into()];
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = main_with(
        &args,
        || -> Result<Fake, NlError> { Err(NlError::NotLoaded) },
        &env(sysctl_dir("nl")),
        &mut &b""[..],
        &mut out,
        &mut err,
    );
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert_eq!(
        String::from_utf8(err).unwrap(),
        "ipvsdadm: the ipvs_defense module is not loaded (generic netlink family IPVS_DEFENSE not found)\n"
    );
}

#[test]
fn permission_denied() {
    for line in ["-A -t 192.0.2.100:80", "-L -n -c", "--set-defense 1", "-C"] {
        let o = run_failing(line, errno(libc::EPERM, None));
        assert_eq!(o.code, 1, "{line}");
        assert!(o.stdout.is_empty());
        assert!(
            o.stderr
                .ends_with(": permission denied: CAP_NET_ADMIN is needed, run as root (EPERM)\n"),
            "{line}: {}",
            o.stderr
        );
        assert_eq!(o.stderr.lines().count(), 1);
    }
}

#[test]
fn kernel_errors_are_one_clear_line() {
    let cases = [
        (
            "-A -t 192.0.2.100:80 -s rr",
            errno(libc::EEXIST, Some("service exists")),
            "ipvsdadm: add service TCP 192.0.2.100:80: service already exists (EEXIST): service exists\n",
        ),
        (
            "-D -t 192.0.2.100:80",
            errno(libc::ENOENT, None),
            "ipvsdadm: delete service TCP 192.0.2.100:80: no such service (ENOENT)\n",
        ),
        (
            "-E -t 192.0.2.100:80 -s rr",
            errno(libc::ENOENT, None),
            "ipvsdadm: edit service TCP 192.0.2.100:80: no such service (ENOENT)\n",
        ),
        (
            "-a -t 192.0.2.100:80 -r 198.51.100.2:8080",
            errno(libc::EEXIST, None),
            "ipvsdadm: add real server 198.51.100.2:8080 to TCP 192.0.2.100:80: real server already exists (EEXIST)\n",
        ),
        (
            "-a -t 192.0.2.100:80 -r 198.51.100.2:8080",
            errno(libc::ENOENT, Some("no such service")),
            "ipvsdadm: add real server 198.51.100.2:8080 to TCP 192.0.2.100:80: no such service (ENOENT): no such service\n",
        ),
        (
            "-e -t 192.0.2.100:80 -r 198.51.100.9:8080 -w 3",
            errno(libc::ENOENT, Some("no such real server")),
            "ipvsdadm: edit real server 198.51.100.9:8080 of TCP 192.0.2.100:80: no such service or real server (ENOENT): no such real server\n",
        ),
        (
            "-d -t 192.0.2.100:80 -r 198.51.100.9:8080",
            errno(libc::ENOENT, None),
            "ipvsdadm: delete real server 198.51.100.9:8080 from TCP 192.0.2.100:80: no such service or real server (ENOENT)\n",
        ),
        (
            "-A -t 192.0.2.100:80 -s mh",
            errno(libc::EINVAL, Some("unknown scheduler")),
            "ipvsdadm: add service TCP 192.0.2.100:80: invalid request (EINVAL): unknown scheduler\n",
        ),
        (
            "-Z -t 192.0.2.100:80",
            errno(libc::ENOENT, None),
            "ipvsdadm: zero counters of TCP 192.0.2.100:80: no such service (ENOENT)\n",
        ),
        (
            "--defense",
            errno(libc::ENOMEM, None),
            "ipvsdadm: read defense state: Cannot allocate memory (ENOMEM)\n",
        ),
        (
            "-L -n",
            errno(libc::ENOTBLK, None),
            "ipvsdadm: read statistics: Block device required (errno 15)\n",
        ),
        (
            "-L -n -c",
            NlError::Protocol("reply lacks attribute 25".into()),
            "ipvsdadm: list connections: unexpected reply from the module: reply lacks attribute 25\n",
        ),
        (
            "-C",
            NlError::Io("Connection refused".into()),
            "ipvsdadm: clear: netlink socket: Connection refused\n",
        ),
    ];
    for (line, e, want) in cases {
        let o = run_failing(line, e);
        assert_eq!(o.code, 1, "{line}");
        assert_eq!(o.stderr, want, "{line}");
        assert!(o.stdout.is_empty(), "{line}");
    }
}

#[test]
fn usage_errors_exit_2_with_one_line() {
    for line in [
        "-A",
        "-A -t 192.0.2.100:0",
        "-A -t 192.0.2.100:80 -s foo",
        "-a -t 192.0.2.100:80 -r 198.51.100.2 -g",
        "--set-defense 3",
        "-L -C",
        "--bogus",
    ] {
        let o = run(line);
        assert_eq!(o.code, 2, "{line}");
        assert!(o.stdout.is_empty());
        assert_eq!(o.stderr.lines().count(), 1, "{line}: {}", o.stderr);
        assert!(o.stderr.starts_with("ipvsdadm: "), "{line}");
        assert!(o.stderr.ends_with(" (try 'ipvsdadm --help')\n"), "{line}");
        assert!(o.calls.is_empty(), "{line}: no request on a usage error");
    }
}

#[test]
fn help_and_version() {
    let o = run("--help");
    assert_eq!(o.code, 0);
    assert!(o.stdout.starts_with("ipvsdadm "));
    assert!(o.calls.is_empty());
    let o = run("-v");
    assert_eq!(o.code, 0);
    assert_eq!(
        o.stdout,
        format!(
            "ipvsdadm {} (IPVS_DEFENSE protocol version 1)\n",
            env!("CARGO_PKG_VERSION")
        )
    );
}

#[test]
fn timeouts_show() {
    let dir = sysctl_dir("show");
    let o = run_with("--timeouts", Fake::loaded(), dir.clone());
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.stdout, golden("timeouts.txt"));
    assert!(o.calls.is_empty(), "timeouts need no netlink");
    let o = run_with("--timeouts --json", Fake::loaded(), dir.clone());
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(v["timeouts"]["established"], 900);
    assert!(v["defense_timeouts"]["listen"].is_null());
    let o = run_with("-L --timeout", Fake::loaded(), dir);
    assert_eq!(o.stdout, golden("ipvsadm_timeout.txt"));
}

#[test]
fn timeouts_short_sysctl_names() {
    // A module that names its sysctls timeout_es, timeout_fw, ... works as well.
    let dir = temp_dir("short");
    for (row, short) in TimeoutRow::ALL
        .into_iter()
        .map(ipvsdadm::timeouts::short_name)
        .enumerate()
    {
        std::fs::write(
            dir.join(format!("timeout_{short}")),
            format!("{}\n", NORMAL[row]),
        )
        .unwrap();
        if let Some(v) = DEFENSE[row] {
            std::fs::write(
                dir.join(format!("defense_timeout_{short}")),
                format!("{v}\n"),
            )
            .unwrap();
        }
    }
    let o = run_with("--timeouts", Fake::loaded(), dir.clone());
    assert_eq!(o.stdout, golden("timeouts.txt"));
    let o = run_with("--set 1000 0 200", Fake::loaded(), dir.clone());
    assert_eq!(o.code, 0, "{}", o.stderr);
    let read = |n: &str| std::fs::read_to_string(dir.join(n)).unwrap();
    assert_eq!(read("timeout_es"), "1000\n");
    assert_eq!(read("timeout_fw"), "120\n");
    assert_eq!(read("timeout_udp"), "200\n");
}

#[test]
fn timeouts_set() {
    let dir = sysctl_dir("set");
    let o = run_with(
        "--timeouts es=901 sr=11 defense:sr=5 udp=301",
        Fake::loaded(),
        dir.clone(),
    );
    assert_eq!((o.code, o.stderr.as_str()), (0, ""));
    let read = |n: &str| std::fs::read_to_string(dir.join(n)).unwrap();
    assert_eq!(read("timeout_established"), "901\n");
    assert_eq!(read("timeout_syn_recv"), "11\n");
    assert_eq!(read("defense_timeout_syn_recv"), "5\n");
    assert_eq!(read("timeout_udp"), "301\n");
    assert_eq!(read("defense_timeout_established"), "480\n");

    // ipvsadm's --set: 0 leaves a value as it is.
    let o = run_with("--set 0 61 0", Fake::loaded(), dir.clone());
    assert_eq!(o.code, 0);
    assert_eq!(read("timeout_established"), "901\n");
    assert_eq!(read("timeout_fin_wait"), "61\n");
    assert_eq!(read("timeout_udp"), "301\n");
}

#[test]
fn timeouts_missing_entry_changes_nothing() {
    let dir = sysctl_dir("missing");
    // LISTEN has no defense sysctl here: the whole command fails before writing anything.
    let o = run_with("--timeouts es=5 defense:li=5", Fake::loaded(), dir.clone());
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains("has no sysctl defense_timeout_listen"),
        "{}",
        o.stderr
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("timeout_established")).unwrap(),
        "900\n"
    );
}

#[test]
fn timeouts_module_not_loaded() {
    let dir = temp_dir("gone").join("ipvs_defense");
    for line in [
        "--timeouts",
        "--timeouts es=5",
        "--set 1 1 1",
        "-L --timeout",
    ] {
        let o = run_with(line, Fake::loaded(), dir.clone());
        assert_eq!(o.code, 1, "{line}");
        assert!(
            o.stderr
                .starts_with("ipvsdadm: the ipvs_defense module is not loaded ("),
            "{line}: {}",
            o.stderr
        );
    }
}

const SAVED: &str = "\
-A -t 192.0.2.100:80 -s rr
-a -t 192.0.2.100:80 -r 198.51.100.2:8080 -m -w 1
-a -t 192.0.2.100:80 -r 198.51.100.3:8080 -m -w 2
-a -t 192.0.2.100:80 -r 198.51.100.10:8080 -m -w 0
-A -u 192.0.2.100:53 -s wlc
-a -u 192.0.2.100:53 -r 198.51.100.4:53 -m -w 100
-a -u 192.0.2.100:53 -r 198.51.100.5:5353 -m -w 65535
";

#[test]
fn save() {
    for line in ["-S", "-S -n", "--save"] {
        let o = run(line);
        assert_eq!((o.code, o.stderr.as_str()), (0, ""), "{line}");
        assert_eq!(o.stdout, SAVED, "{line}");
    }
    assert_eq!(run("-S -c").code, 2);
    let o = run("-S -t 192.0.2.100:80");
    assert_eq!(o.code, 2);
    assert!(o
        .stderr
        .contains("Illegal 'service-address' option with the 'save' command"));
}

#[test]
fn restore_runs_each_line_on_one_connection() {
    let input = format!("# saved\n\n{SAVED}  -Z\n--set-defense 1\n");
    let o = run_input("-R", &input, Fake::default(), sysctl_dir("restore"));
    assert_eq!((o.code, o.stdout.as_str(), o.stderr.as_str()), (0, "", ""));
    assert_eq!(
        o.calls,
        [
            "add_service TCP 192.0.2.100:80 rr",
            "add_dest TCP 192.0.2.100:80 198.51.100.2:8080 1",
            "add_dest TCP 192.0.2.100:80 198.51.100.3:8080 2",
            "add_dest TCP 192.0.2.100:80 198.51.100.10:8080 0",
            "add_service UDP 192.0.2.100:53 wlc",
            "add_dest UDP 192.0.2.100:53 198.51.100.4:53 100",
            "add_dest UDP 192.0.2.100:53 198.51.100.5:5353 65535",
            "zero all",
            "set_defense 1",
        ]
    );
    // What -S prints, -R makes again.
    let saved = run("-S").stdout;
    let o = run_input("--restore", &saved, Fake::default(), sysctl_dir("restore"));
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.calls.len(), saved.lines().count());
    // Timeouts need no connection.
    let dir = sysctl_dir("restore-timeouts");
    let o = run_input("-R", "--set 0 0 1200\n", Fake::default(), dir.clone());
    assert_eq!((o.code, o.stderr.as_str()), (0, ""));
    assert!(o.calls.is_empty());
    assert_eq!(
        std::fs::read_to_string(dir.join("timeout_udp"))
            .unwrap()
            .trim(),
        "1200"
    );
}

#[test]
fn restore_stops_at_the_first_bad_line() {
    let input = "-A -t 192.0.2.100:80 -s rr\n-a -t 192.0.2.100:80 -r 198.51.100.2 -w 99999\n-C\n";
    let o = run_input("-R", input, Fake::default(), sysctl_dir("restore"));
    assert_eq!(o.code, 2);
    assert!(
        o.stderr.starts_with("ipvsdadm: line 2: ") && o.stderr.contains("weight"),
        "{}",
        o.stderr
    );
    assert_eq!(o.calls, ["add_service TCP 192.0.2.100:80 rr"]);

    let f = Fake {
        fail: Some(errno(libc::EEXIST, None)),
        ..Fake::default()
    };
    let o = run_input(
        "-R",
        "\n-A -t 192.0.2.100:80\n-C\n",
        f,
        sysctl_dir("restore"),
    );
    assert_eq!(o.code, 1);
    assert!(
        o.stderr
            .starts_with("ipvsdadm: line 2: add service TCP 192.0.2.100:80: "),
        "{}",
        o.stderr
    );
    assert_eq!(o.calls, ["add_service TCP 192.0.2.100:80 wlc"]);

    for nested in ["-R", "-h", "--version"] {
        let o = run_input(
            "-R",
            &format!("-C\n{nested}\n"),
            Fake::default(),
            sysctl_dir("restore"),
        );
        assert_eq!(o.code, 2, "{nested}");
        assert_eq!(
            o.stderr,
            format!("ipvsdadm: line 2: '{nested}' cannot be used in a restore\n")
        );
        assert_eq!(o.calls, ["flush"]);
    }
    assert_eq!(run("-R -n").code, 2);
}

#[test]
fn errno_names() {
    use ipvsdadm::client::errno_name;
    for (e, name) in [
        (libc::EPERM, "EPERM"),
        (libc::ENOBUFS, "ENOBUFS"),
        (libc::EOPNOTSUPP, "EOPNOTSUPP"),
        (libc::EAGAIN, "EAGAIN"),
        (libc::EMSGSIZE, "EMSGSIZE"),
        (libc::E2BIG, "E2BIG"),
    ] {
        assert_eq!(errno_name(e), name);
    }
    assert_eq!(errno_name(4095), "errno 4095");
}

#[test]
fn page_size_from_the_auxiliary_vector() {
    use ipvsdadm::run::auxv_page_size;
    let pairs = |p: &[(u64, u64)]| -> Vec<u8> {
        p.iter()
            .flat_map(|&(k, v)| [k.to_ne_bytes(), v.to_ne_bytes()])
            .flatten()
            .collect()
    };
    assert_eq!(
        auxv_page_size(&pairs(&[(33, 1), (6, 65536), (0, 0)])),
        Some(65536)
    );
    assert_eq!(auxv_page_size(&pairs(&[(33, 1), (0, 0)])), None);
    assert_eq!(auxv_page_size(&pairs(&[(6, 0)])), None);
    assert_eq!(auxv_page_size(&[6, 0, 0]), None);
    // This host's own vector has it (x86-64: 4096).
    let own = std::fs::read("/proc/self/auxv").expect("/proc/self/auxv");
    assert_eq!(auxv_page_size(&own), Some(4096));
}

#[test]
fn batch_runs_every_line_and_reports_each_status() {
    let calls = Rc::new(RefCell::new(Vec::new()));
    let mut connects = 0;
    let dir = sysctl_dir("batch");
    let input = "-A -t 192.0.2.100:80 -s rr\n\n# a comment\n--bogus\n-R\n--batch\n\
                 -d -t 192.0.2.100:80 -r 198.51.100.2:8080\n--set 0 0 1200\n-L -n -t 192.0.2.100:80\n";
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = main_with(
        &["--batch".to_string()],
        || -> Result<Fake, NlError> {
            connects += 1;
            let mut f = Fake::loaded();
            f.calls = calls.clone();
            // The second command that talks to the module (-d) fails.
            if connects == 2 {
                f.fail = Some(errno(libc::ENOENT, None));
            }
            Ok(f)
        },
        &env(dir.clone()),
        &mut input.as_bytes(),
        &mut out,
        &mut err,
    );
    assert_eq!(code, 0);
    let out = String::from_utf8(out).unwrap();
    let statuses: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix(BATCH_END))
        .collect();
    // One status per line of input, each its own command's.
    assert_eq!(
        statuses,
        ["0", "0", "0", "2", "2", "2", "1", "0", "0"],
        "{out}"
    );
    // The listing comes before its status line.
    let (_, listing) = out
        .split_once(&format!("{BATCH_END}1\n{BATCH_END}0\n"))
        .unwrap();
    assert_eq!(
        listing,
        format!("{}{BATCH_END}0\n", run("-L -n -t 192.0.2.100:80").stdout)
    );
    let err = String::from_utf8(err).unwrap();
    let errs: Vec<&str> = err.lines().collect();
    assert_eq!(errs.len(), 4, "{err}");
    assert!(errs[0].contains("unknown option '--bogus'"), "{err}");
    assert!(errs[1].contains("'-R' cannot be used in a batch"), "{err}");
    assert!(
        errs[2].contains("'--batch' cannot be used in a batch"),
        "{err}"
    );
    assert!(errs[3].starts_with("ipvsdadm: "), "{err}");
    assert_eq!(connects, 3);
    let calls = calls.take();
    assert_eq!(calls[0], "add_service TCP 192.0.2.100:80 rr");
    assert!(calls[1].starts_with("del_dest"), "{calls:?}");
    assert!(calls.len() > 2, "{calls:?}");
    assert_eq!(
        std::fs::read_to_string(dir.join("timeout_udp"))
            .unwrap()
            .trim(),
        "1200"
    );
}
