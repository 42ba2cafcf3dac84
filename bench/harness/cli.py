"""The command line and the run: build, start, load, measure every block, report, stop."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import signal
import tempfile
import time
from pathlib import Path

from . import directus as peer
from . import servers
from .common import REPO, RESULTS, log
from .data import deep_path as find_deep_path, load_data, load_sqlite
from .loadrun import combine_rounds, measure
from .machine import git_commit, machine_info
from .report import evaluate, markdown, ms, socket_errors, update_readme
from .scenarios import BLOCKS, HOT_IDS, MIX_IDS, OLD_KINDS, OLD_NAMES, SCENARIOS, base_name, with_baseline
from .servers import BASE_DATABASE, MariaDB, Processes, Redis, Target, publish, publish_baseline, sqlite_paths


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="CustomerRecords benchmark")
    p.add_argument("--rows", type=int, default=100_000, help="customers to load (default 100000)")
    p.add_argument("--duration", type=float, default=15, help="seconds measured per point (default 15)")
    p.add_argument("--warmup", type=float, default=None, help="seconds of warm-up per point (default 5, quick 1)")
    p.add_argument("--connections", default="1 16 64", help='concurrency levels (default "1 16 64")')
    p.add_argument("--scenarios", default="", help="comma/space separated scenario names (default: all); "
                   + ", ".join(s[0] for s in SCENARIOS))
    p.add_argument("--quick", action="store_true", help="smoke run: 10,000 rows, 3 s per point, 1 s warm-up")
    p.add_argument("--buffer-pool", default="1G", help="MariaDB innodb_buffer_pool_size (default 1G)")
    p.add_argument("--tutorial-app", default=str(REPO.parent / "shared" / "reference" / "tutorial_app.py"))
    p.add_argument("--label", default="", help="suffix for the result file names (e.g. before, after)")
    p.add_argument("--no-save", action="store_true", help="print the report but write nothing under bench/results/")
    p.add_argument("--repeat", type=int, default=None, help="rounds per point, alternating within a block; the "
                   "best round's req/s and latency are reported, errors summed over all rounds (default 1; 3 with "
                   "--baseline-commit)")
    p.add_argument("--baseline-commit", default="", help="also run every selected scenario of the service against a "
                   "Release build of this commit (own database, migrated by its own migrate command), alternating "
                   "rounds with the current build, and report the ratios (e.g. 817ccd4)")
    p.add_argument("--flush-log-at-trx-commit", type=int, choices=[0, 1, 2], default=1,
                   help="MariaDB innodb_flush_log_at_trx_commit while measuring (default 1: durable, one log flush "
                   "per commit; 2 shows what the flushes cost)")
    p.add_argument("--hold", type=float, default=0, help="start everything, measure nothing, stop after this many "
                   "seconds (for profiling by hand)")
    p.add_argument("--service-env", action="append", default=[], metavar="KEY=VALUE",
                   help="an extra environment variable for this build's service (not the baseline, not the reference), "
                   "e.g. DOTNET_GCConserveMemory=5; repeatable: for trying a setting against --baseline-commit HEAD")
    p.add_argument("--startups", type=int, default=3, help="extra start-up measurements of the service (default 3)")
    args = p.parse_args(argv)
    if args.quick:
        if "--rows" not in argv:
            args.rows = 10_000
        if "--duration" not in argv:
            args.duration = 3
    if args.warmup is None:
        args.warmup = 1 if args.quick else 5
    if args.repeat is None:
        args.repeat = 3 if args.baseline_commit else 1
    bad = [e for e in args.service_env if "=" not in e or e.startswith("=")]
    if bad:
        p.error(f"--service-env takes KEY=VALUE: {', '.join(bad)}")
    args.service_env = dict(e.split("=", 1) for e in args.service_env)
    args.connections = [int(c) for c in args.connections.replace(",", " ").split()]
    names = [OLD_NAMES.get(s, s) for s in args.scenarios.replace(",", " ").split() if s]
    known = {s[0] for s in SCENARIOS}
    unknown = [n for n in names if n not in known]
    if unknown:
        p.error(f"unknown scenario(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    args.selected = [s for s in SCENARIOS if not names or s[0] in names]
    args.partial = bool(names)  # a run of some scenarios does not replace latest.md and the README's quote
    args.blocks = BLOCKS
    if args.baseline_commit:
        args.selected, args.blocks = with_baseline(args.selected, BLOCKS, args.baseline_commit)
    return args


def render(path: Path) -> int:
    """Re-writes the Markdown of a saved run (after a change to the report layout)."""
    report = json.loads(path.read_text())
    report["startups"] = [tuple(s) for s in report["startups"]]
    for sc in report["scenarios"]:
        sc["name"], sc["kind"] = OLD_NAMES.get(sc["name"], sc["name"]), OLD_KINDS.get(sc["kind"], sc["kind"])
    evaluate(report)
    text = markdown(report)
    path.with_suffix(".md").write_text(text)
    latest = RESULTS / "latest.md"
    if "-quick" not in path.name and not report.get("partial"):
        latest.write_text(text)
        update_readme(report, text, path.with_suffix(".md").name)
    print(text)
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["--render"]:
        return render(Path(argv[1]))
    args = parse_args(argv)
    procs = Processes()

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    stamp = dt.datetime.now(dt.timezone.utc)
    commit = git_commit()
    run_id = stamp.strftime("%Y-%m-%dT%H%MZ") + f"-{commit}" + (f"-{args.label}" if args.label else "")
    raw = RESULTS / "raw" / run_id
    raw.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="customerrecords-bench-"))
    log(f"run {run_id}; work dir {work}; raw logs {raw}")
    try:
        return run(args, procs, work, raw, stamp, commit, run_id)
    finally:
        procs.stop_all()
        shutil.rmtree(work, ignore_errors=True)


def run(args, procs: Processes, work: Path, raw: Path, stamp: dt.datetime, commit: str, run_id: str) -> int:
    targets_needed = {s[1] for s in args.selected}
    tutorial_app = Path(args.tutorial_app)
    notes = []
    if "tutorial" in targets_needed and not tutorial_app.exists():
        notes.append(f"Tutorial app not found at {tutorial_app}: its scenarios were skipped.")
        args.selected = [s for s in args.selected if s[1] != "tutorial"]
        targets_needed.discard("tutorial")

    log("building Release (service and reference)")
    api_dir, ref_dir = publish(work, raw)
    api_dll = api_dir / "CustomerRecords.Api.dll"
    base_dir, baseline = None, None
    if args.baseline_commit:
        log(f"building Release of the baseline {args.baseline_commit} (git worktree in {work})")
        base_dir, short = publish_baseline(args.baseline_commit, work, raw)
        baseline = {"commit": short, "database": BASE_DATABASE}

    log(f"starting MariaDB (buffer pool {args.buffer_pool})")
    db = MariaDB(procs, work, args.buffer_pool)
    db.start()
    redis = None
    if targets_needed & {"svc_redis", "base_svc_redis"}:
        log("starting Redis")
        redis = Redis(procs, work)
        redis.start()

    log(f"loading {args.rows:,} customers")
    load = load_data(db, api_dll, work, args.rows, raw)
    log(f"loaded: {load}")
    if baseline is not None:
        baseline["load"] = load_data(db, base_dir / "CustomerRecords.Api.dll", work, args.rows, raw, BASE_DATABASE, tutorial=False)
        log(f"baseline {baseline['commit']} loaded into {BASE_DATABASE}: {baseline['load']}")
    dx = None
    if targets_needed & set(peer.KINDS):
        log("installing Directus (reused when already installed)")
        dx = peer.Directus(db, procs, work, raw, peer.install(raw))
        log(f"Directus bootstrapped over its copy of the rows: {dx.prepare()}")
    if any(s[1].endswith("svc_sqlite") or s[3].startswith("/sqlite") for s in args.selected):
        files = sqlite_paths(work)
        load["sqlite"] = load_sqlite(db, api_dll, [files["service"], files["reference"]], work, args.rows, raw)
        if base_dir is not None:
            baseline["load_sqlite"] = load_sqlite(db, base_dir / "CustomerRecords.Api.dll", [files["baseline"]], work, args.rows, raw)
        log(f"SQLite files loaded: {load['sqlite']}")
    db.sql(f"SET GLOBAL innodb_flush_log_at_trx_commit = {args.flush_log_at_trx_commit};")
    db_settings = db.variables()
    log(f"MariaDB while measuring: {db_settings}")

    id_ranges = {"all": (1, args.rows), "hot": (1, min(HOT_IDS, args.rows)), "mix": (1, min(MIX_IDS, args.rows))}
    deep_path, deep_note = "", ""

    def make_target(kind: str) -> Target:
        return servers.make_target(kind, db, redis, procs, raw, api_dir, ref_dir, tutorial_app, base_dir,
                                   args.service_env)

    startups: list[tuple[str, dict]] = []
    if args.startups > 0 and any(t.startswith("svc_") for t in targets_needed):
        for i in range(args.startups):
            t = make_target("svc_memory")
            s = t.start()
            t.stop()
            startups.append((f"service-memory (start {i + 1})", s))
            log(f"start-up: {s}")

    # The long-lived programs are all started first (one at a time, each start timed) and stay up, idle
    # when not measured; then comparable scenarios run back to back at each concurrency, so a ratio is
    # never taken across minutes of changing background load.
    targets: dict[str, Target] = {}
    for kind in ["ref", "svc_none", "svc_memory", "svc_keyed", "svc_redis", "svc_sqlite", "base_svc_none",
                 "base_svc_memory", "base_svc_redis", "base_svc_sqlite"]:
        if kind in targets_needed:
            targets[kind] = make_target(kind)
            startups.append((targets[kind].name, targets[kind].start()))
            log(f"{targets[kind].name} up: {targets[kind].startup}")
    for kind in peer.KINDS:  # the tuned instance starts after the grant, so its frozen schema holds it
        if kind in targets_needed:
            targets[kind] = dx.target(kind)
            startups.append((targets[kind].name, targets[kind].start()))
            dx.grant(targets[kind])
            log(f"{targets[kind].name} up: {targets[kind].startup}")

    if "svc_memory" in targets:
        deep_path, deep_note = find_deep_path(targets["svc_memory"].base, args.rows)

    if args.hold:
        # For profiling by hand: everything up, nothing measured, stopped after --hold seconds.
        for kind, t in targets.items():
            log(f"holding {t.name}: {t.base} pid {t.proc.pid}")
        log(f"MariaDB 127.0.0.1:{db.port} (socket {db.socket}); deep page path {deep_path}; holding {args.hold:.0f} s")
        time.sleep(args.hold)
        return 0

    by_name = {s[0]: s for s in args.selected}
    results: dict[str, dict] = {}
    for block in args.blocks:
        block = [n for n in block if n in by_name]
        for c in args.connections:
            rounds: dict[str, list[dict]] = {}
            for rnd in range(args.repeat):
                for name in block:
                    _, kind, wrk_kind, path, ids_key, title = by_name[name]
                    path = deep_path if path == "DEEP" else path
                    ids = id_ranges[ids_key] if ids_key else None
                    sc = results.setdefault(name, {"name": name, "title": title, "kind": wrk_kind, "path": path,
                                                   "ids": list(ids) if ids else None, "points": []})
                    notes_sc = []
                    if name == "list_deep":
                        notes_sc.append(deep_note)
                    if ids_key:
                        notes_sc.append(f"Ids uniform in {ids[0]:,}–{ids[1]:,}.")
                    if kind == "tutorial":
                        notes_sc.append("The app is restarted before each point (a broken shared connection stays "
                                        "broken); no warm-up.")
                    sc["note"] = " ".join(notes_sc)
                    target = targets.get(kind)
                    if kind == "tutorial":
                        target = make_target(kind)
                        target.start()
                    try:
                        point = measure(target, db, redis, name, wrk_kind, path, ids, c, args, raw,
                                        warm=kind != "tutorial" and rnd == 0)
                    finally:
                        if kind == "tutorial":
                            target.stop()
                    rounds.setdefault(name, []).append(point)
                    log(f"{name} @{c}" + (f" round {rnd + 1}" if args.repeat > 1 else "")
                        + f": {point['rps']:,.0f} req/s, p50 {ms(point['latency_us']['p50'])} ms, "
                        f"p99 {ms(point['latency_us']['p99'])} ms, non-2xx {point['errors']['status']}, "
                        f"socket {socket_errors(point)}, cpu {point['cpu_pct']['server']}%, rss {point['rss_mb']} MB, "
                        f"others {point['others_cpu_pct']}%")
            for name, points in rounds.items():
                results[name]["points"].append(combine_rounds(points))
    for target in targets.values():
        target.stop()
    scenarios_out = list(results.values())

    # Failures no client saw (e.g. a request whose client had already gone) show only in the logs.
    for log_file in sorted(raw.glob("service-*.log")):
        counts = {level: 0 for level in ("crit", "fail", "warn")}
        for line in open(log_file, errors="replace"):
            for level in counts:
                if f"{level}: " in line[:40]:
                    counts[level] += 1
        if any(counts.values()):
            notes.append(f"Server log {log_file.name}: " + ", ".join(f"{n} {lvl}" for lvl, n in counts.items() if n)
                         + " (see bench/results/raw/)")

    order_names = [s[0] for s in SCENARIOS]
    scenarios_out.sort(key=lambda sc: (order_names.index(base_name(sc["name"])), sc["name"] != base_name(sc["name"])))
    report = {
        "date": stamp.strftime("%Y-%m-%d %H:%M UTC"), "run_id": run_id, "commit": commit, "machine": machine_info(),
        "rows": args.rows, "duration_s": args.duration, "warmup_s": args.warmup, "connections": args.connections,
        "load": load, "startups": startups, "repeat": args.repeat, "scenarios": scenarios_out, "notes": notes,
        "baseline": baseline, "db_settings": db_settings, "partial": args.partial,
        "settings": {"service": "Release publish, ASPNETCORE_ENVIRONMENT=Production, Logging:LogLevel:Default=Warning, RateLimit:Enabled=false, "
                                "Cache:CacheHeader=false", "mariadb_buffer_pool": args.buffer_pool,
                     "hot_ids": HOT_IDS, "mix_ids": MIX_IDS},
    }
    evaluate(report)
    text = markdown(report)
    print(text)
    if not args.no_save:
        name = stamp.strftime("%Y-%m-%d") + f"-{commit}" + (f"-{args.label}" if args.label else "") + ("-quick" if args.quick else "")
        (RESULTS / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
        (RESULTS / f"{name}.md").write_text(text)
        if not args.quick and not args.partial:
            (RESULTS / "latest.md").write_text(text)
            update_readme(report, text, f"{name}.md")
        log(f"wrote bench/results/{name}.json and .md" + ("" if args.quick or args.partial else " and latest.md"))
    return 0
