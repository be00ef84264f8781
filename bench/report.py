#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Summarises one benchmark boot: medians with min-max, ratios, JSON and a plot.

    report.py --raw results.jsonl --meta meta.txt --outdir DIR [--quick]

Input: the guest's JSON lines (one per run: workload, contestant, variant, round,
metrics) and the host's key=value meta file. Output, in DIR, a new file pair
<date>-<kernel flavour>[-N].json / .png (an existing file is never overwritten), and the
tables on stdout.

Ratios are taken per round (ours and its opponent ran in the same round, minutes apart,
in the same boot) and then summarised by their median and min-max: under software
emulation the same path varies by about +-50 % between boots, so only ratios within one
boot mean anything.

Exit status: 1 when a planned (workload, contestant, variant) produced no record or a
record lacks a metric; with --quick that is all it checks (never a speed).
"""
import argparse
import datetime
import json
import os
import statistics
import sys

# What each workload must record, per (contestant, variant). Primary metrics first.
EXPECTED = {
    "stream": (["busy_us_per_mbit", "set_mbit_s", "mbit_s"],
               [("ipvs", ""), ("ours", ""), ("route", "")]),
    "udp": (["busy_us_per_pkt", "set_pps", "offered_pps", "pps", "delivered_pct"],
            [("ipvs", ""), ("ours", ""), ("route", "")]),
    "routed": (["busy_us_per_pkt", "set_pps", "offered_pps", "pps", "delivered_pct"],
               [("ipvs", ""), ("ours", ""), ("route", "")]),
    "conn": (["busy_us_per_conn", "set_cps", "conns_per_s", "failed", "slow"],
             [("ipvs", ""), ("ours", ""), ("route", "")]),
    "synflood": (["busy_us_per_syn", "set_pps", "offered_pps", "delivered_pct",
                  "legit_success_pct", "legit_1s_pct", "legit_slow", "start_entries"],
                 [("ipvs", "st0"), ("ours", "l0"), ("route", "-"), ("ipvs", "st3"),
                  ("ours", "l2"), ("ours", "l2full")]),
    "synack": (["established", "entries", "sent"],
               [("ipvs", "st0"), ("ours", "l0"), ("ipvs", "st3"), ("ours", "l2")]),
    "memory": (["bytes_per_entry", "table_bytes", "entries"],
               [("ipvs", ""), ("ours", "")]),
}

# Metrics the report derives per round: (workload, new metric, metric, baseline): the
# metric minus the baseline's in the same round. The busy time per packet includes the
# senders and the servers, which plain routing pays alike: what is left is
# the director's.
DERIVED = [
    ("stream", "director_us_per_mbit", "busy_us_per_mbit", ("route", "")),
    ("udp", "director_us_per_pkt", "busy_us_per_pkt", ("route", "")),
    ("conn", "director_us_per_conn", "busy_us_per_conn", ("route", "")),
    ("synflood", "director_us_per_syn", "busy_us_per_syn", ("route", "-")),
]

# The parameter each workload's set rate comes from: a run set to another rate than the
# parameter says ran with a value something else put in its place, and fails the report.
RATE_PARAMS = {
    "stream": ("set_mbit_s", "STREAM_MBIT"),
    "udp": ("set_pps", "UDP_RATE"),
    "routed": ("set_pps", "UDP_RATE"),
    "conn": ("set_cps", "CONN_RATE"),
    "synflood": ("set_pps", "FLOOD_RATE"),
}

# A run below this share of its set rate did not get the load the others got: (set rate,
# rate reached) per workload.
EQUAL_LOAD_SHARE = 0.95
LOAD_METRICS = {
    "stream": ("set_mbit_s", "mbit_s"),
    "udp": ("set_pps", "offered_pps"),
    "routed": ("set_pps", "offered_pps"),
    "conn": ("set_cps", "conns_per_s"),
    "synflood": ("set_pps", "offered_pps"),
}

# The ratio table: (workload, metric, numerator, denominator, what is better, target).
# A target ("<=", x) or (">=", x) applies to the median of the per-round ratios.
RATIOS = [
    # The fast-path targets (issue 15), in CPU per unit at equal load: a stream at least as
    # fast as IPVS's, 64-byte UDP at most 0.8 x IPVS's director cost and 1.1 x plain
    # routing's, new connections 1.1 x IPVS's rate (1/1.1 of its cost).
    ("stream", "busy_us_per_mbit", ("ours", ""), ("ipvs", ""), "lower", ("<=", 1.0)),
    ("stream", "director_us_per_mbit", ("ours", ""), ("ipvs", ""), "lower"),
    ("udp", "busy_us_per_pkt", ("ours", ""), ("ipvs", ""), "lower"),
    ("udp", "director_us_per_pkt", ("ours", ""), ("ipvs", ""), "lower", ("<=", 0.8)),
    ("udp", "busy_us_per_pkt", ("ours", ""), ("route", ""), "lower", ("<=", 1.1)),
    # Traffic that touches no service, with each contestant loaded and configured, against
    # the same with neither loaded.
    ("routed", "busy_us_per_pkt", ("ours", ""), ("route", ""), "lower", ("<=", 1.02)),
    ("routed", "busy_us_per_pkt", ("ipvs", ""), ("route", ""), "lower"),
    ("conn", "busy_us_per_conn", ("ours", ""), ("ipvs", ""), "lower", ("<=", 0.91)),
    ("conn", "director_us_per_conn", ("ours", ""), ("ipvs", ""), "lower"),
    ("conn", "conns_per_s", ("ours", ""), ("ipvs", ""), "higher"),
    ("synflood", "busy_us_per_syn", ("ours", "l0"), ("ipvs", "st0"), "lower"),
    ("synflood", "director_us_per_syn", ("ours", "l0"), ("ipvs", "st0"), "lower"),
    ("synflood", "busy_us_per_syn", ("ours", "l2"), ("ipvs", "st3"), "lower"),
    # A full table (every SYN evicts) costs the guest at most 1.25 x an empty one per SYN
    # at the same rate: it takes at least 0.8 x as many SYNs per second.
    ("synflood", "busy_us_per_syn", ("ours", "l2full"), ("ours", "l2"), "lower",
     ("<=", 1.25)),
    ("synflood", "legit_success_pct", ("ours", "l0"), ("ipvs", "st0"), "higher"),
    ("synflood", "legit_success_pct", ("ours", "l2"), ("ipvs", "st3"), "higher"),
    ("synflood", "legit_1s_pct", ("ours", "l2"), ("ipvs", "st3"), "higher"),
    ("synack", "established", ("ours", "l0"), ("ipvs", "st0"), "lower"),
    ("synack", "established", ("ours", "l2"), ("ipvs", "st3"), "lower"),
    ("synack", "entries", ("ours", "l0"), ("ipvs", "st0"), "lower"),
    ("synack", "entries", ("ours", "l2"), ("ipvs", "st3"), "lower"),
    ("memory", "bytes_per_entry", ("ours", ""), ("ipvs", ""), "lower"),
    ("memory", "table_bytes", ("ours", ""), ("ipvs", ""), "lower"),
]

# Bounds on one contestant's own figure: (workload, metric, contestant, (op, bound)), on the
# median over rounds. The table's memory per entry of capacity, all of it counted (issue 15;
# logic/sizing.rs bounds its layout the same way).
BOUNDS = [
    ("memory", "bytes_per_entry", ("ours", ""), ("<=", 128)),
]

NOTE_TCG = ("Software emulation (QEMU TCG, no KVM): the same path varies by about +-50 % "
            "between boots; only the ratios within this one boot mean anything, never the "
            "absolute numbers.")
NOTE_KVM = ("KVM: hardware virtualisation; absolute numbers are still those of a 2-vCPU "
            "guest on this host; the ratios are the result.")


def name(cv):
    c, v = cv
    return c if v in ("", "-") else f"{c} {v}"


def read_meta(path):
    meta = {}
    with open(path) as f:
        for line in f:
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                meta[k] = v
    return meta


def summary(vals):
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals),
            "n": len(vals)}


def fmt(x):
    if x is None:
        return "n/a"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.3g}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--meta", required=True)
    ap.add_argument("--outdir", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-plot", action="store_true",
                    help="write no plot (the guest test: matplotlib takes a minute to start "
                    "under emulation; the host checks draw one from a stored run)")
    ap.add_argument("--plan", help="the runs planned (guest.sh's plan.txt): only these "
                    "must have results")
    a = ap.parse_args()

    meta = read_meta(a.meta)
    runs = []
    if os.path.exists(a.raw):
        with open(a.raw) as f:
            runs = [json.loads(line) for line in f if line.strip()]
    only = meta.get("WORKLOADS", "").strip('"').split()
    unknown = [w for w in only if w not in EXPECTED]
    if unknown:
        print(f"FAILED: unknown workload(s) in WORKLOADS: {' '.join(unknown)}")
        return 1

    # Derived metrics, per round, from the same round's baseline.
    for w, new, m, base in DERIVED:
        for r in runs:
            if r["workload"] != w or m not in r["metrics"]:
                continue
            b = [x["metrics"].get(m) for x in runs if (x["workload"], x["contestant"],
                 x["variant"], x["round"]) == (w, base[0], base[1], r["round"])]
            if b and b[0] is not None:
                r["metrics"][new] = round(r["metrics"][m] - b[0], 3)
    # Runs that did not get their set load.
    short_load = []
    for r in runs:
        set_m, got_m = LOAD_METRICS.get(r["workload"], (None, None))
        want, got = r["metrics"].get(set_m), r["metrics"].get(got_m)
        if want and got is not None and got < EQUAL_LOAD_SHARE * want:
            short_load.append(f"{r['workload']} {name((r['contestant'], r['variant']))} round "
                              f"{r['round']}: {got_m} {got} of {want}")

    # Runs set to another rate than their parameter.
    not_as_set = []
    for r in runs:
        set_m, param = RATE_PARAMS.get(r["workload"], (None, None))
        want, got = meta.get(param or ""), r["metrics"].get(set_m)
        if want and got is not None and float(got) != float(want.strip('"')):
            not_as_set.append(f"{r['workload']} {name((r['contestant'], r['variant']))} round "
                              f"{r['round']}: {set_m} {got}, {param} {want}")

    # Completeness: every planned (workload, contestant, variant) has every metric in
    # every round that ran.
    rounds = sorted({r["round"] for r in runs}) or [1]
    planned = None
    if a.plan:
        with open(a.plan, encoding="utf-8") as f:
            planned = {tuple((line.split() + ["", ""])[:3]) for line in f if line.strip()}
    missing = []
    for w, (metrics, cvs) in EXPECTED.items():
        if only and w not in only:
            continue
        for cv in cvs:
            if planned is not None and (w, cv[0], cv[1]) not in planned:
                continue
            for rnd in range(1, int(meta.get("ROUNDS", "1")) + 1):
                rec = [r for r in runs if (r["workload"], r["contestant"], r["variant"])
                       == (w, cv[0], cv[1]) and r["round"] == rnd]
                if not rec:
                    missing.append(f"{w} {name(cv)} round {rnd}: no result")
                    continue
                lacks = [m for m in metrics if m not in rec[0]["metrics"]]
                if lacks:
                    missing.append(f"{w} {name(cv)} round {rnd}: no {', '.join(lacks)}")

    # Per (workload, contestant, variant, metric): values over rounds.
    table = {}
    for r in runs:
        for m, v in r["metrics"].items():
            table.setdefault((r["workload"], r["contestant"], r["variant"], m), []).append(v)
    summaries = {k: summary(v) for k, v in table.items()}

    def value(w, cv, m, rnd):
        for r in runs:
            if (r["workload"], r["contestant"], r["variant"], r["round"]) == (w, cv[0], cv[1], rnd):
                return r["metrics"].get(m)
        return None

    ratios = []
    for w, m, num, den, better, *target in RATIOS:
        if only and w not in only:
            continue
        per_round, skipped = [], 0
        for rnd in rounds:
            n, d = value(w, num, m, rnd), value(w, den, m, rnd)
            if n is None or d is None:
                continue
            if d <= 0:  # a derived metric can be 0 or below
                skipped += 1
                continue
            per_round.append(n / d)
        entry = {"workload": w, "metric": m, "numerator": name(num), "denominator": name(den),
                 "better": better, "per_round": per_round, "zero_denominator_rounds": skipped}
        entry.update(summary(per_round) if per_round else
                     {"median": None, "min": None, "max": None, "n": 0})
        if target:
            op, x = target[0]
            med = entry["median"]
            entry["target"] = f"{op} {x}"
            entry["target_met"] = None if med is None else (med <= x if op == "<=" else med >= x)
        ratios.append(entry)

    bounds = []
    for w, m, cv, (op, x) in BOUNDS:
        if only and w not in only:
            continue
        s = summaries.get((w, cv[0], cv[1], m))
        med = s["median"] if s else None
        bounds.append({"workload": w, "metric": m, "contestant": name(cv), "median": med,
                       "target": f"{op} {x}",
                       "target_met": None if med is None else
                       (med <= x if op == "<=" else med >= x)})

    accel = meta.get("accel", "unknown")
    note = NOTE_KVM if accel == "kvm" else NOTE_TCG

    # --- stdout ---------------------------------------------------------------------
    print()
    print(f"Benchmark: kernel {meta.get('kernel', '?')} ({meta.get('flavour', '?')}), "
          f"{'KVM' if accel == 'kvm' else 'software emulation (TCG)' if accel == 'tcg' else accel}, "
          f"host CPU {meta.get('host_cpu', '?')}, {len(rounds)} round(s), module {meta.get('git_commit', '?')}")
    print(f"Note: {note}")
    if a.quick:
        print("QUICK run: debug kernel, one short round: checks that every workload produces "
              "numbers; the numbers say nothing about speed.")
    print()
    print(f"{'workload':<9} {'metric':<25} {'contestant':<10} {'median':>12}  {'min - max':<25}")
    for w, (metrics, cvs) in EXPECTED.items():
        for m in metrics:
            for cv in cvs:
                s = summaries.get((w, cv[0], cv[1], m))
                if s:
                    print(f"{w:<9} {m:<25} {name(cv):<10} {fmt(s['median']):>12}  "
                          f"{fmt(s['min'])} - {fmt(s['max'])}")
    print()
    print("Ratios within this boot (per round, then median and min-max over rounds):")
    print(f"{'workload':<9} {'metric':<20} {'ratio':<22} {'median':>8}  {'min - max':<18} better")
    for e in ratios:
        label = f"{e['numerator']} / {e['denominator']}"
        rng = "n/a" if e["min"] is None else f"{fmt(e['min'])} - {fmt(e['max'])}"
        extra = f" ({e['zero_denominator_rounds']} round(s) with a denominator <= 0)" \
            if e["zero_denominator_rounds"] else ""
        if "target" in e:
            verdict = {True: "met", False: "MISSED", None: "no data"}[e["target_met"]]
            extra += f"; target {e['target']}: {verdict}"
        print(f"{e['workload']:<9} {e['metric']:<20} {label:<22} {fmt(e['median']):>8}  "
              f"{rng:<18} {e['better']}{extra}")
    print("(median of per-round ratios: each round's ratio, then the median over rounds)")
    for b in bounds:
        verdict = {True: "met", False: "MISSED", None: "no data"}[b["target_met"]]
        print(f"Bound: {b['workload']} {b['metric']} {b['contestant']} median "
              f"{fmt(b['median'])}, target {b['target']}: {verdict}")
    print(f"({note})")
    if short_load:
        print(f"\nNot at equal load ({len(short_load)} run(s) below "
              f"{EQUAL_LOAD_SHARE:.0%} of the set rate; the sender could not keep up):")
        for line in short_load:
            print(f"  {line}")

    # --- files ----------------------------------------------------------------------
    os.makedirs(a.outdir, exist_ok=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H%M%S")
    stem = os.path.join(a.outdir, f"{stamp}-{meta.get('flavour', 'kernel')}")
    i = 1
    base = stem
    while os.path.exists(stem + ".json") or os.path.exists(stem + ".png"):
        i += 1
        stem = f"{base}-{i}"
    doc = {
        "date": meta.get("date"),
        "kernel": meta.get("kernel"),
        "kernel_flavour": meta.get("flavour"),
        "kernel_source": meta.get("kernel_source"),
        "emulation": "kvm" if accel == "kvm" else "tcg" if accel == "tcg" else accel,
        "kvm": accel == "kvm",
        "note": note,
        "quick": a.quick,
        "host_cpu": meta.get("host_cpu"),
        "host_cpus": meta.get("host_cpus"),
        "guest_cpu": meta.get("guest_cpu"),
        "guest_cpus": meta.get("guest_cpus"),
        "guest_mem_bytes": meta.get("guest_mem_bytes"),
        "module": meta.get("git_commit"),
        "params": {k: meta.get(k) for k in ("ROUNDS", "BENCH_SECONDS", "UDP_RATE",
                                            "CONN_RATE", "STREAM_MBIT", "FLOOD_SECONDS",
                                            "FLOOD_RATE", "LEGIT_RATE", "IPVS_EMPTY_WAIT",
                                            "FULL_CONN_MAX", "FLOOD_MAX", "SYNACK_COUNT", "MEM_FLOOD", "MEM_FLOOD_SECONDS",
                                            "CONN_PARALLEL", "WORKLOADS", "VM_MEMORY")},
        "wall_seconds": meta.get("wall_seconds"),
        "runs": runs,
        "summary": [{"workload": k[0], "contestant": k[1], "variant": k[2], "metric": k[3],
                     **v} for k, v in sorted(summaries.items())],
        "ratios": ratios,
        "bounds": bounds,
        "missing": missing,
        "not_at_equal_load": short_load,
        "not_at_set_rate": not_as_set,
    }
    with open(stem + ".json", "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print(f"\nraw runs and summary: {stem}.json")
    if not a.no_plot:
        plot(ratios, stem + ".png", meta, note)
        print(f"plot: {stem}.png")

    if not_as_set:
        print(f"\nFAILED: {len(not_as_set)} run(s) not at the rate their parameter sets:")
        for m in not_as_set:
            print(f"  {m}")
        return 1
    if missing:
        print(f"\nFAILED: {len(missing)} workload result(s) missing:")
        for m in missing:
            print(f"  {m}")
        return 1
    if not runs:
        print("FAILED: no result at all")
        return 1
    print(f"\nevery workload produced its numbers ({len(runs)} runs)")
    return 0


def plot(ratios, path, meta, note):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [e for e in ratios if e["median"] is not None]
    fig, ax = plt.subplots(figsize=(10, 0.45 * max(len(rows), 1) + 1.8))
    labels, med, lo, hi, colors = [], [], [], [], []
    for e in rows:
        labels.append(f"{e['workload']} {e['metric']}: {e['numerator']} / {e['denominator']}"
                      f" ({e['better']} is better)")
        med.append(e["median"])
        lo.append(e["median"] - e["min"])
        hi.append(e["max"] - e["median"])
        if "target" in e:
            good = e["target_met"]
        else:
            good = (e["median"] >= 1) if e["better"] == "higher" else (e["median"] <= 1)
        colors.append("tab:green" if good else "tab:red")
    y = list(range(len(rows)))
    ax.barh(y, med, xerr=[lo, hi], color=colors, alpha=0.7, capsize=3)
    for yi, m, h in zip(y, med, hi):
        ax.text(m + h, yi, f"  {m:.3g}", va="center", fontsize=8)
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("median of per-round ratios (bars: min-max over rounds)")
    ax.set_title(f"ipvs_defense benchmark, kernel {meta.get('kernel', '?')}, "
                 f"{meta.get('accel', '?')}, {meta.get('date', '')}", fontsize=9)
    fig.text(0.01, 0.005, note, fontsize=7, wrap=True)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
