"""The report: targets and ratios evaluated from the measured points, the Markdown, and its quote in
bench/README.md."""

from __future__ import annotations

from .common import BENCH
import statistics

from .scenarios import BASE_SUFFIX, OURS, READ_ONLY, WRITE_REFERENCE

WRITE_TARGET = 0.85  # issue: a write with its history event >= 85% of the baseline's write req/s at 16 connections


def ms(us: float) -> str:
    return f"{us / 1000:.2f}"


def socket_errors(point: dict) -> int:
    e = point["errors"]
    return e["connect"] + e["read"] + e["write"] + e["timeout"]


def markdown(report: dict) -> str:
    out = []
    m = report["machine"]
    out.append(f"# CustomerRecords benchmark — {report['date']}\n")
    out.append(f"- Commit: `{report['commit']}`; rows: {report['rows']:,}; {report['duration_s']} s per point after a "
               f"{report['warmup_s']} s warm-up; connections: {', '.join(map(str, report['connections']))}; wrk threads: min(2, connections)")
    out.append(f"- Machine: {m['cpus']} × {m['cpu_model']}, {m['memory_gib']} GiB, kernel {m['kernel']}, {m['os']}; "
               f".NET SDK {m['dotnet']}; {m['mariadb'].split(' for ')[0]}; {m['redis'].split(' sha=')[0]}; {m['wrk']}")
    out.append("- wrk, the service, MariaDB (and Redis) share the same cores: absolute numbers are a floor, the ratios are the point.")
    if report.get("repeat", 1) > 1:
        out.append(f"- Each point ran {report['repeat']} rounds, alternating with the other scenarios of its block; "
                   "req/s, latency and CPU are the best round's (least disturbed by the rest of the machine), "
                   "errors are summed over all rounds, RSS is the highest of all rounds.")
    load = report.get("load", {})
    if load:
        out.append(f"- Bulk load of {load['rows']:,} rows: migrate {load['migrate_s']} s, generate {load['generate_s']} s, "
                   f"LOAD DATA {load['load_s']} s, tutorial copy {load['tutorial_copy_s']} s")
    if report.get("notes"):
        for note in report["notes"]:
            out.append(f"- {note}")
    out.append("")

    out.append("## Summary\n")
    out.append(summary_table(report))
    out.append("")

    out.append("## Targets\n")
    out.append("| Target | Measured | Result |")
    out.append("|---|---|---|")
    for t in report["targets"]:
        out.append(f"| {t['target']} | {t['measured']} | {t['result']} |")
    out.append("")

    out.append("## Ratios (requests/s)\n")
    conns = report["connections"]
    out.append("| Ratio | " + " | ".join(f"{c} conn" for c in conns) + " |")
    out.append("|---|" + "---|" * len(conns))
    for r in report["ratios"]:
        out.append(f"| {r['name']} | " + " | ".join(r["values"].get(str(c), "n/a") for c in conns) + " |")
    out.append("")

    if report.get("baseline"):
        out.append(baseline_section(report))

    out.append("## Start-up (process start → first 200)\n")
    out.append("| Program | /health/live (or first route) s | first read s |")
    out.append("|---|---|---|")
    for name, s in report["startups"]:
        out.append(f"| {name} | {s['to_ready_s']} | {s['to_first_read_s']} |")
    out.append("")

    out.append("## Scenarios\n")
    out.append("non-2xx: responses with status ≥ 400 as wrk counts them; socket errors: connect/read/write errors and "
               "timeouts (2 s). CPU: % of one core over the measured run (200% = both cores); CPU µs/req: the server's "
               "CPU time per response (steadier than req/s when the machine is shared); others: CPU the rest of "
               "the machine used meanwhile (noise: anything well above 0 means the point shared the cores with "
               "unrelated work). RSS: highest VmRSS sampled every 0.25 s during the run; peak: VmHWM since the "
               "process started.\n")
    for sc in report["scenarios"]:
        out.append(f"### {sc['title']} (`{sc['name']}`)\n")
        if sc.get("note"):
            out.append(sc["note"] + "\n")
        out.append("| conns | req/s | p50 ms | p99 ms | non-2xx | socket errors | server CPU % | CPU µs/req | db CPU % | wrk CPU % | others CPU % | RSS MB | peak RSS MB |")
        out.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for p in sc["points"]:
            if "skipped" in p:
                out.append(f"| {p['connections']} | skipped: {p['skipped']} | | | | | | | | | | | |")
                continue
            out.append(f"| {p['connections']} | {p['rps']:,.0f} | {ms(p['latency_us']['p50'])} | {ms(p['latency_us']['p99'])} | "
                       f"{p['errors']['status']:,} | {socket_errors(p):,} | {p['cpu_pct']['server']} | {p['server_cpu_us_per_req']} | {p['cpu_pct']['db']} | "
                       f"{p['wrk_cpu_pct']} | {p['others_cpu_pct']} | "
                       f"{p['rss_mb']} | {p['peak_rss_mb']} |")
        out.append("")
    return "\n".join(out) + "\n"


def baseline_comparison(report: dict) -> list[dict]:
    """Each scenario run against both builds, per concurrency: medians over the alternating rounds, and the
    ratio as the median of the per-round pairs (round i of this build / round i of the baseline, measured
    back to back), with the pairs' range as its spread."""
    by = {sc["name"]: {p["connections"]: p for p in sc["points"] if "skipped" not in p} for sc in report["scenarios"]}
    rows = []
    for sc in report["scenarios"]:
        name = sc["name"]
        twin = by.get(name + BASE_SUFFIX)
        if name.endswith(BASE_SUFFIX) or not twin:
            continue
        for c in report["connections"]:
            a, b = by[name].get(c), twin.get(c)
            if not a or not b:
                continue
            ra, rb = a["rounds"], b["rounds"]
            pairs = [x["rps"] / y["rps"] for x, y in zip(ra, rb) if y["rps"]]
            ref = by.get(WRITE_REFERENCE.get(name, ""), {}).get(c)
            rows.append({
                "name": name, "title": sc["title"], "connections": c, "write": name not in READ_ONLY,
                "rps": [x["rps"] for x in ra], "base_rps": [y["rps"] for y in rb],
                "rps_median": statistics.median(x["rps"] for x in ra), "base_rps_median": statistics.median(y["rps"] for y in rb),
                "p50_us": statistics.median(x["p50_us"] for x in ra), "base_p50_us": statistics.median(y["p50_us"] for y in rb),
                "p99_us": statistics.median(x["p99_us"] for x in ra), "base_p99_us": statistics.median(y["p99_us"] for y in rb),
                "ratio": statistics.median(pairs) if pairs else None, "ratio_min": min(pairs, default=None),
                "ratio_max": max(pairs, default=None),
                "errors": sum(x.get("errors", 0) for x in ra), "base_errors": sum(y.get("errors", 0) for y in rb),
                "db_per_req": a.get("db_per_req", {}), "base_db_per_req": b.get("db_per_req", {}),
                "cpu_us_per_req": cpu_median(ra, "server"), "base_cpu_us_per_req": cpu_median(rb, "server"),
                "db_cpu_us_per_req": cpu_median(ra, "db"), "base_db_cpu_us_per_req": cpu_median(rb, "db"),
                "reference": WRITE_REFERENCE.get(name) if ref else None,
                "ref_rps_median": statistics.median(x["rps"] for x in ref["rounds"]) if ref else None,
            })
    return rows


def cpu_median(rounds: list[dict], who: str) -> float | None:
    """The server's ("server") or MariaDB's ("db") CPU µs per response, median over the rounds."""
    if who == "server":
        values = [r["server_cpu_us_per_req"] for r in rounds if r.get("server_cpu_us_per_req")]
    else:
        values = [r["db_cpu_pct"] / 100 * 1e6 / r["rps"] for r in rounds if "db_cpu_pct" in r and r["rps"]]
    return round(statistics.median(values), 1) if values else None


def baseline_section(report: dict) -> str:
    base = report["baseline"]
    rows = report.get("comparison") or baseline_comparison(report)
    out = [f"## This build vs the baseline `{base['commit']}`\n",
           f"Every scenario below ran against this build (`{report['commit']}`) and against a Release build of "
           f"`{base['commit']}` on its own database (`{base['database']}`, same MariaDB, same rows, migrated by that "
           f"build's own `migrate`), in alternating rounds (A B A B …, {report.get('repeat', 1)} rounds of "
           f"{report['duration_s']} s each side, same connections). req/s, p50 and p99 are medians over the rounds; "
           "the ratio is the median of the per-round pairs (round i / baseline round i, measured back to back), "
           f"with the pairs' range. Target: a write ≥ {WRITE_TARGET:.0%} of the baseline at 16 connections.\n"]
    settings = report.get("db_settings") or {}
    if settings:
        out.append("MariaDB while measuring: " + ", ".join(f"`{k}={v}`" for k, v in settings.items()) + ".\n")
    out.append("| Scenario | conns | req/s (rounds) | baseline req/s (rounds) | ratio [range] | p50 ms | baseline p50 ms | "
               "p99 ms | baseline p99 ms | bare write req/s | errors | target |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    def rounds(xs: list[float]) -> str:
        return f"{statistics.median(xs):,.0f} ({' / '.join(f'{x:,.0f}' for x in xs)})"

    for r in rows:
        ratio = "n/a" if r["ratio"] is None else f"{r['ratio']:.2f} [{r['ratio_min']:.2f}–{r['ratio_max']:.2f}]"
        target = ""
        if r["write"] and r["connections"] == 16 and r["ratio"] is not None:
            target = "met" if r["ratio"] >= WRITE_TARGET else "NOT met"
        ref = f"{r['ref_rps_median']:,.0f} (`{r['reference']}`)" if r["ref_rps_median"] else ""
        out.append(f"| {r['title']} (`{r['name']}`) | {r['connections']} | {rounds(r['rps'])} | {rounds(r['base_rps'])} | {ratio} | "
                   f"{ms(r['p50_us'])} | {ms(r['base_p50_us'])} | {ms(r['p99_us'])} | {ms(r['base_p99_us'])} | {ref} | "
                   f"{r['errors']} / {r['base_errors']} | {target} |")
    out.append("")
    keys = [("Questions", "statements"), ("Com_begin", "BEGIN"), ("Com_commit", "COMMIT"), ("Com_select", "SELECT"),
            ("Com_insert", "INSERT"), ("Com_update", "UPDATE"), ("Innodb_os_log_written", "redo bytes"),
            ("Innodb_os_log_fsyncs", "log fsyncs"), ("Innodb_data_fsyncs", "data fsyncs"), ("Innodb_row_lock_waits", "row lock waits")]
    if any(r["db_per_req"] for r in rows):
        out.append("What one response cost (MariaDB's global counters over the best round, per response; CPU µs per "
                   "response, median over the rounds; this build / baseline):\n")
        out.append("| Scenario | conns | " + " | ".join(label for _, label in keys) + " | server CPU µs/req | MariaDB CPU µs/req |")
        out.append("|---|---:|" + "---:|" * (len(keys) + 2))
        for r in rows:
            a, b = r["db_per_req"], r["base_db_per_req"]
            cells = [f"{a.get(k, 0):,.0f} / {b.get(k, 0):,.0f}" if k == "Innodb_os_log_written"
                     else f"{a.get(k, 0):.2f} / {b.get(k, 0):.2f}" for k, _ in keys]
            out.append(f"| `{r['name']}` | {r['connections']} | " + " | ".join(cells)
                       + f" | {r['cpu_us_per_req']} / {r['base_cpu_us_per_req']} | {r.get('db_cpu_us_per_req')} / {r.get('base_db_cpu_us_per_req')} |")
        out.append("")
    return "\n".join(out) + "\n"


def successes_per_s(p: dict) -> float:
    """Responses below 400 per second, over every round of the point (errors are counted over all rounds)."""
    requests = p.get("requests_all_rounds", p["requests"])
    duration = p.get("duration_us_all_rounds", p["duration_us"])
    return (requests - p["errors"]["status"]) / (duration / 1e6) if duration else 0.0


def summary_table(report: dict) -> str:
    """One row per scenario: requests/s at each concurrency, p99 and errors."""
    conns = report["connections"]
    head = ("| Scenario | " + " | ".join(f"req/s @{c}" for c in conns) + " | " + " | ".join(f"p99 ms @{c}" for c in conns)
            + " | errors (non-2xx + socket) |")
    lines = [head, "|---|" + "---:|" * (2 * len(conns) + 1)]
    for sc in report["scenarios"]:
        pts = {p["connections"]: p for p in sc["points"] if "skipped" not in p}
        rps = [f"{pts[c]['rps']:,.0f}" if c in pts else "" for c in conns]
        p99 = [ms(pts[c]["latency_us"]["p99"]) if c in pts else "" for c in conns]
        errors = sum(p["errors"]["status"] + socket_errors(p) for p in pts.values())
        total = sum(p.get("requests_all_rounds", p["requests"]) + socket_errors(p) for p in pts.values())
        err = f"{errors:,}" + (f" ({100 * errors / total:.0f}%)" if errors and total else "")
        lines.append(f"| {sc['title']} | " + " | ".join(rps) + " | " + " | ".join(p99) + f" | {err} |")
    return "\n".join(lines)


def evaluate(report: dict) -> None:
    by = {sc["name"]: {p["connections"]: p for p in sc["points"] if "skipped" not in p} for sc in report["scenarios"]}
    conns = report["connections"]
    top = 64 if 64 in conns else max(conns)

    def rps(name: str, c: int) -> float | None:
        return by.get(name, {}).get(c, {}).get("rps")

    def ratio(a: str, b: str, c: int) -> float | None:
        x, y = rps(a, c), rps(b, c)
        return x / y if x is not None and y else None

    ratios = []
    for label, a, b in [("Our cached read / bare JSON", "get_cached", "ref_json"),
                        ("Our cached read with an API key / bare JSON", "get_cached_keyed", "ref_json"),
                        ("Our cached read with an API key / open mode", "get_cached_keyed", "get_cached"),
                        ("Our cached read (Redis mode) / bare JSON", "get_cached_redis", "ref_json"),
                        ("Our database read / bare database endpoint", "get_db", "ref_db"),
                        ("Our database read / Directus tuned", "get_db", "dx_get_tuned"),
                        ("Directus tuned / Directus defaults: GET", "dx_get_tuned", "dx_get"),
                        ("Our PATCH / Directus tuned PATCH", "patch", "dx_patch_tuned"),
                        ("On SQLite: our database read / bare SQLite select", "get_sqlite", "ref_sqlite_get"),
                        ("Original route (ours) / tutorial app: GET /read/{id}", "orig_read", "tut_read"),
                        ("Original route (ours) / tutorial app: PUT /update/{id}", "orig_update", "tut_update"),
                        ("Original route (ours) / tutorial app: POST /create", "orig_create", "tut_create")]:
        values = {str(c): f"{r:.2f}" for c in conns if (r := ratio(a, b, c)) is not None}
        if values:
            ratios.append({"name": label, "values": values})
    # CPU per response moves less than requests/s when the machine is shared.
    for label, a, b in [("Server CPU per request: our cached read / bare JSON", "get_cached", "ref_json"),
                        ("Server CPU per request: our cached read with an API key / open mode", "get_cached_keyed", "get_cached"),
                        ("Server CPU per request: our database read / bare database endpoint", "get_db", "ref_db")]:
        values = {}
        for c in conns:
            pa, pb = by.get(a, {}).get(c), by.get(b, {}).get(c)
            if pa and pb and pa.get("server_cpu_us_per_req") and pb.get("server_cpu_us_per_req"):
                values[str(c)] = f"{pa['server_cpu_us_per_req'] / pb['server_cpu_us_per_req']:.2f}"
        if values:
            ratios.append({"name": label, "values": values})
    # Successful responses only: the tutorial app's error pages are fast but are not answers.
    good = {}
    for a, b in [("orig_read", "tut_read"), ("orig_update", "tut_update"), ("orig_create", "tut_create")]:
        values = {}
        for c in conns:
            pa, pb = by.get(a, {}).get(c), by.get(b, {}).get(c)
            if pa and pb:
                ga, gb = successes_per_s(pa), successes_per_s(pb)
                if gb >= 1 and ga / gb < 100:
                    values[str(c)] = f"{ga / gb:.2f}"
                else:  # a ratio over a near-zero denominator says less than the two numbers
                    values[str(c)] = f"{ga:,.0f} vs {gb:,.1f} per s"
        if values:
            good[a] = values
    for a, label in [("orig_read", "GET /read/{id}"), ("orig_update", "PUT /update/{id}"), ("orig_create", "POST /create")]:
        if a in good:
            ratios.append({"name": f"Original route (ours) / tutorial app, successful responses/s: {label}", "values": good[a]})
    report["ratios"] = ratios

    def verdict(ok: bool | None) -> str:
        return "n/a" if ok is None else ("met" if ok else "NOT met")

    targets = []
    r = ratio("get_cached", "ref_json", top)
    targets.append({"target": f"Cached read by id ≥ 60% of bare JSON req/s at {top} connections",
                    "measured": f"{r:.0%}" if r is not None else "n/a", "result": verdict(None if r is None else r >= 0.60)})
    r = ratio("get_db", "ref_db", top)
    targets.append({"target": f"Database read by id ≥ 80% of bare database endpoint req/s at {top} connections",
                    "measured": f"{r:.0%}" if r is not None else "n/a", "result": verdict(None if r is None else r >= 0.80)})

    total_errors, worst = 0, []
    for name in sorted(OURS):
        for c, p in by.get(name, {}).items():
            n = p["errors"]["status"] + socket_errors(p)
            total_errors += n
            if n:
                worst.append(f"{name}@{c}: {n}")
    measured = "0" if total_errors == 0 else f"{total_errors} ({', '.join(worst[:6])})"
    any_ours = any(by.get(n) for n in OURS)
    targets.append({"target": "Zero errors (non-2xx + socket) in every scenario of ours, at every concurrency",
                    "measured": measured, "result": verdict(None if not any_ours else total_errors == 0)})

    p99s = []
    for name in ("get_cached", "get_cached_redis", "get_db", "orig_read"):
        p = by.get(name, {}).get(16)
        if p:
            p99s.append((name, p["latency_us"]["p99"]))
    targets.append({"target": "p99 ≤ 10 ms at 16 connections for reads by id",
                    "measured": ", ".join(f"{n} {ms(v)} ms" for n, v in p99s) or "n/a",
                    "result": verdict(None if not p99s else all(v <= 10000 for _, v in p99s))})

    first, deep = by.get("list_first", {}).get(1), by.get("list_deep", {}).get(1)
    if first and deep:
        q = deep["latency_us"]["p50"] / first["latency_us"]["p50"]
        others = []
        for c in conns:
            f2, d2 = by["list_first"].get(c), by["list_deep"].get(c)
            if f2 and d2 and c != 1:
                others.append(f"{c} conn {d2['latency_us']['p50'] / f2['latency_us']['p50']:.2f}×")
        depth_note = "" if report["rows"] >= 1_000_000 else f" (table of {report['rows']:,} rows, not 1,000,000)"
        targets.append({"target": "Page deep in 1,000,000 rows within 1.5× the first page's time (p50, 1 connection)",
                        "measured": f"{q:.2f}× ({ms(deep['latency_us']['p50'])} vs {ms(first['latency_us']['p50'])} ms)"
                                    + (f"; {', '.join(others)}" if others else "") + depth_note,
                        "result": verdict(q <= 1.5) + ("" if report["rows"] >= 1_000_000 else " (smaller table)")})
    else:
        targets.append({"target": "Page deep in 1,000,000 rows within 1.5× the first page's time", "measured": "n/a", "result": "n/a"})

    rss = [(name, c, p["rss_mb"]) for name in OURS for c, p in by.get(name, {}).items()]
    if rss:
        name, c, top_rss = max(rss, key=lambda x: x[2])
        reads = [x for x in rss if x[0] in READ_ONLY]
        read_note = ""
        if reads:
            rn, rc, rtop = max(reads, key=lambda x: x[2])
            read_note = f"; read-only scenarios: {rtop} MB ({rn} at {rc} conn)"
        targets.append({"target": "Steady-state RSS ≤ 250 MB under load (highest VmRSS sampled in any scenario of ours)",
                        "measured": f"{top_rss} MB ({name} at {c} conn){read_note}", "result": verdict(top_rss <= 250)})
    starts = [(n, s["to_first_read_s"]) for n, s in report["startups"] if n.startswith("service")]
    if starts:
        worst_start = max(starts, key=lambda x: x[1])
        targets.append({"target": "Start-up to first successful request ≤ 1.5 s (worst start, GET /customers/1)",
                        "measured": ", ".join(f"{n} {v:.2f} s" for n, v in starts), "result": verdict(worst_start[1] <= 1.5)})
    if report.get("baseline"):
        report["comparison"] = baseline_comparison(report)
        for r in report["comparison"]:
            if r["write"] and r["connections"] == 16:
                measured = "n/a" if r["ratio"] is None else (
                    f"{r['ratio']:.0%} (rounds {r['ratio_min']:.0%}–{r['ratio_max']:.0%}; {r['rps_median']:,.0f} vs "
                    f"{r['base_rps_median']:,.0f} req/s)")
                targets.append({"target": f"{r['name']}: ≥ {WRITE_TARGET:.0%} of baseline {report['baseline']['commit']} req/s at 16 connections",
                                "measured": measured, "result": verdict(None if r["ratio"] is None else r["ratio"] >= WRITE_TARGET)})
    targets.extend(issue17_targets(report, by))
    report["targets"] = targets


README_START, README_END = "<!-- latest results: start -->", "<!-- latest results: end -->"


def update_readme(report: dict, text: str, md_name: str) -> None:
    """Quotes the run's summary, targets and ratios in bench/README.md, between the markers."""
    readme = BENCH / "README.md"
    content = readme.read_text()
    if README_START not in content or README_END not in content:
        return
    keep = text.split("## Start-up", 1)[0]  # header, summary, targets, ratios
    keep = keep.split("\n", 1)[1].strip()  # drop the report's own title
    block = (f"{README_START}\n_Run of {report['date']}, from [`results/{md_name}`](results/{md_name}) — every "
             f"scenario's full table, CPU and memory are there._\n\n{keep.replace('## ', '### ')}\n{README_END}")
    head, rest = content.split(README_START, 1)
    readme.write_text(head + block + rest.split(README_END, 1)[1])


def issue17_targets(report: dict, by: dict) -> list[dict]:
    """Issue #17's targets. A target whose scenarios were not run says "not run", never met."""
    out = []

    def add(target: str, parts: list[str], oks: list[bool]) -> None:
        if not oks:
            out.append({"target": target, "measured": "not run", "result": "not run"})
        else:
            out.append({"target": target, "measured": "; ".join(parts), "result": "met" if all(oks) else "NOT met"})

    def ratio_target(target: str, a: str, b: str, bounds: dict[int, float]) -> None:
        parts, oks = [], []
        for c, bound in bounds.items():
            pa, pb = by.get(a, {}).get(c), by.get(b, {}).get(c)
            if pa and pb and pb["rps"]:
                r = pa["rps"] / pb["rps"]
                parts.append(f"{c} conn {r:.2f} ({pa['rps']:,.0f} vs {pb['rps']:,.0f})")
                oks.append(r >= bound)
        if oks and len(oks) < len(bounds):
            parts.append("other concurrencies not run")
        add(target, parts, oks)

    all3 = lambda x: {1: x, 16: x, 64: x}  # noqa: E731
    writes = {1: 0.6, 16: 0.75, 64: 0.75}
    ratio_target("#17: cached read ≥ 0.90 × ref_json req/s at 1, 16, 64 conn", "get_cached", "ref_json", all3(0.90))
    ratio_target("#17: DB read ≥ 0.95 × ref_db req/s at 1, 16, 64 conn", "get_db", "ref_db", all3(0.95))
    parts, oks = [], []
    for c in (1, 16, 64):
        pa, pb = by.get("get_cached", {}).get(c), by.get("ref_json", {}).get(c)
        if pa and pb and pa.get("server_cpu_us_per_req") and pb.get("server_cpu_us_per_req"):
            r = pa["server_cpu_us_per_req"] / pb["server_cpu_us_per_req"]
            parts.append(f"{c} conn {r:.2f} ({pa['server_cpu_us_per_req']} vs {pb['server_cpu_us_per_req']} µs)")
            oks.append(r <= 1.15)
    add("#17: server CPU µs per cached read ≤ 1.15 × ref_json's", parts, oks)
    for a, b in [("create", "ref_create"), ("patch", "ref_patch"),
                 ("create_sqlite", "ref_sqlite_create"), ("patch_sqlite", "ref_sqlite_patch")]:
        ratio_target(f"#17: {a} ≥ 0.75 × {b} req/s at 16, 64 conn (≥ 0.6 at 1)", a, b, writes)
    for a, b in [("get_cached", "dx_get_tuned"), ("get_db", "dx_get_tuned"), ("patch", "dx_patch_tuned")]:
        ratio_target(f"#17: {a} ≥ 6 × {b} (tuned Directus) req/s at 1, 16, 64 conn", a, b, all3(6.0))
    rss = [(n, c, p["rss_mb"]) for n in OURS for c, p in by.get(n, {}).items()]
    over = [f"{n}@{c} {v} MB" for n, c, v in sorted(rss, key=lambda x: -x[2]) if v > 150]
    if rss:
        n, c, v = max(rss, key=lambda x: x[2])
        add("#17: peak RSS ≤ 150 MB in every scenario of ours (highest VmRSS sampled during each scenario)",
            [f"highest {v} MB ({n} at {c} conn)" + (f"; over: {', '.join(over[:6])}" if over else "")], [not over])
    else:
        add("#17: peak RSS ≤ 150 MB in every scenario of ours (highest VmRSS sampled during each scenario)", [], [])
    errs = [(n, c, p["errors"]["status"] + socket_errors(p)) for n in OURS for c, p in by.get(n, {}).items()]
    bad = [f"{n}@{c}: {e}" for n, c, e in errs if e]
    add("#17: 0 errors in every scenario of ours", [f"{sum(e for *_, e in errs)}" + (f" ({', '.join(bad[:6])})" if bad else "")] if errs else [],
        [not bad] if errs else [])
    return out
