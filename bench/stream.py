"""The real command on a long stream, beside the engine in process on the same lines.

    .venv/bin/python bench/stream.py                   # 100,000 and 10,000 lines, 5 rounds
    .venv/bin/python bench/stream.py --json

It writes JSON lines to a temporary folder (the request mix of the screening
benchmark, with one bad line in every 1,000: bad JSON, not an object, an
unknown system, an impossible date, a missing field, an unknown action) and
runs ``clearance screen - --json < FILE > /dev/null`` as a child process, the
console script installed next to this Python. Each child's peak resident set
size comes from ``os.wait4``, so it is that child's own, not the largest of
all children.

In each round, beside the command on the longest stream, a child of its own
(``--in-process``) loads the pack, sets the garbage collector as the command
does (``service.collector.for_a_long_stream``), reads the same file in the
same batches and times, per batch: parsing its lines, ``Screener.decide_many``
on them, their JSON records, and raw ``cedarpy.is_authorized_batch`` on the
Cedar requests the engine would make (one per request and consent holder with
a bundle in force), collecting Cedar's own ``authz_duration_micros`` from each
result.
The goal compares the command's decisions per second with ``decide_many``'s.

Memory stays flat when 100,000 lines peak at about what 10,000 do; an empty
stream gives what start-up alone takes (imports and loading the pack). Before
timing, one run of the short stream is checked: one record per line, in
order, an error record for each bad line, and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from common import SEED, emit, machine, median, peak_rss_mib, request_lines, rss_mib, table

BAD_EVERY = 1_000
GOAL_RATIO = 0.8  # the command's decisions/s over decide_many's on the same lines


@dataclass(frozen=True, slots=True)
class Run:
    seconds: float
    peak_rss_mib: float
    status: int


def clearance_command() -> Path:
    """The console script of this environment (next to the running Python)."""
    beside = Path(sys.executable).parent / "clearance"
    if beside.exists():
        return beside
    found = shutil.which("clearance")
    if found is None:
        raise SystemExit("no 'clearance' command next to this Python or on PATH")
    return Path(found)


def catalog_systems() -> list[str]:
    """The seed pack's systems, loaded in a child process so that this one stays small.

    A child's peak RSS as ``wait4`` reports it is never below the size of the
    process that started it (Linux carries the parent's memory over through
    fork and exec), so this process must not load clearance itself.
    """
    code = (
        "import json; from clearance.policy.pack import load_pack; "
        "print(json.dumps([s.id for s in load_pack().catalog.systems]))"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    systems: list[str] = json.loads(found)
    return systems


def write_stream(path: Path, systems: Sequence[str], lines: int, seed: int) -> int:
    """Write ``lines`` JSON lines; returns how many are bad."""
    with path.open("wb") as out:
        out.writelines(request_lines(systems, lines, bad_every=BAD_EVERY, seed=seed))
    return lines // BAD_EVERY


def screen(command: Path, source: Path, output: BinaryIO | int, workers: int = 1) -> Run:
    """``clearance screen - --json --workers N < source > output``; its wall time and peak RSS
    (of the command's own process: its workers' are not counted)."""
    with source.open("rb") as stdin, tempfile.TemporaryFile() as errors:
        started = time.perf_counter_ns()
        child = subprocess.Popen(
            [str(command), "screen", "-", "--json", "--workers", str(workers)],
            stdin=stdin,
            stdout=output,
            stderr=errors,
        )
        _, status, usage = os.wait4(child.pid, 0)
        seconds = (time.perf_counter_ns() - started) / 1e9
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode not in (0, 2):
            errors.seek(0)
            raise SystemExit(
                f"clearance screen failed ({child.returncode}): {errors.read().decode()[-2000:]}"
            )
    return Run(seconds, rss_mib(usage), child.returncode)


def in_process(source: Path) -> dict[str, Any]:
    """The engine on ``source`` in this process, batch by batch as the command reads it.

    Run in a child of its own (``--in-process``): it loads clearance and Cedar.
    Only the work named is inside each timer; building the Cedar requests and
    reading Cedar's metrics are not timed.
    """
    import datetime as dt

    import cedarpy

    from clearance.cli.json_input import read_json_line
    from clearance.cli.screen_stream import json_bytes, read_lines
    from clearance.core.holders import consent_holders
    from clearance.core.request import check_against, parse_request, parse_request_json
    from clearance.errors import ClearanceError
    from clearance.policy.engine import Screener
    from clearance.policy.entities import cedar_request
    from clearance.policy.pack import load_pack
    from clearance.service.collector import for_a_long_stream

    pack = load_pack()
    screener = Screener(pack)
    for_a_long_stream()  # as the command does once the pack is loaded
    now = dt.datetime.now(dt.UTC)
    ns = dict.fromkeys(("parse", "decide_many", "records", "cedar"), 0)
    decisions = evaluations = 0
    authz_us: list[int] = []
    with source.open("rb") as stream:
        for batch in read_lines(stream.fileno()):
            started = time.perf_counter_ns()
            requests = []
            for raw in batch:
                try:
                    # as the command reads a line (cli.screen_stream._parse_line)
                    request = parse_request_json(raw) or parse_request(read_json_line(raw))
                    check_against(request, pack.catalog)
                except ClearanceError:
                    continue
                requests.append(request)
            parsed = time.perf_counter_ns()
            ids = [f"bench-{decisions + i:07d}" for i in range(len(requests))]
            decided = screener.decide_many(requests, decision_ids=ids, now=now)
            done = time.perf_counter_ns()
            json_bytes(list(enumerate(decided, 1)))
            written = time.perf_counter_ns()
            ns["parse"] += parsed - started
            ns["decide_many"] += done - parsed
            ns["records"] += written - done
            decisions += len(decided)
            del decided
            per_bundle: dict[int, tuple[Any, list[dict[str, Any]]]] = {}
            for request in requests:
                for holder in consent_holders(pack.catalog, request.system):
                    bundle = pack.history.bundle_in_force(holder.party, request.date)
                    if bundle is not None:
                        asked = cedar_request(request, (b.value for b in holder.bases), ())
                        per_bundle.setdefault(id(bundle), (bundle, []))[1].append(asked)
            for bundle, batch_asked in per_bundle.values():
                started = time.perf_counter_ns()
                results = cedarpy.is_authorized_batch(
                    batch_asked, bundle.policy_set, bundle.entities
                )
                ns["cedar"] += time.perf_counter_ns() - started
                evaluations += len(results)
                authz_us.extend(r.metrics.get("authz_duration_micros", 0) for r in results)
    return {
        "decisions": decisions,
        "evaluations": evaluations,
        "seconds": {name: value / 1e9 for name, value in ns.items()},
        "cedar_authz_us_median": median(authz_us),
        "cedar_authz_us_total": sum(authz_us),
        "peak_rss_mib": peak_rss_mib(),
    }


def in_process_child(source: Path) -> dict[str, Any]:
    """``in_process`` in a fresh process, so that this one stays small."""
    command = [sys.executable, __file__, "--in-process", str(source)]
    found = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    measured: dict[str, Any] = json.loads(found)
    return measured


def check_stream(command: Path, source: Path, lines: int) -> dict[str, Any]:
    """Screen ``source`` once and check the stream survived its bad lines."""
    numbers: list[int] = []
    bad: list[int] = []
    codes: set[str] = set()
    neither = 0
    with tempfile.TemporaryFile() as out:
        result = screen(command, source, out)
        out.seek(0)
        for line in out:  # one record at a time, so that this process stays small
            record = json.loads(line)
            numbers.append(record["line"])
            if "error" in record:
                bad.append(record["line"])
                codes.add(record["code"])
            elif "decision_id" not in record:
                neither += 1
    expected_bad = [n for n in range(1, lines + 1) if n % BAD_EVERY == 0]
    problems = []
    if numbers != list(range(1, lines + 1)):
        problems.append("records are not one per line in input order")
    if bad != expected_bad:
        problems.append(f"error records at lines {bad[:5]}…, expected {expected_bad[:5]}…")
    if neither:
        problems.append(f"{neither} records are neither a decision nor an error")
    if result.status != (2 if expected_bad else 0):
        problems.append(f"exit status {result.status}")
    if problems:
        raise SystemExit("the stream check failed: " + "; ".join(problems))
    return {
        "lines": lines,
        "records": len(numbers),
        "decisions": len(numbers) - len(bad),
        "errors": len(bad),
        "error_codes": sorted(codes),
        "exit_status": result.status,
    }


def profile_cli(command: Path, source: Path, lines: int) -> str:
    """Where the command spends its time on ``source``: the child under cProfile."""
    with tempfile.TemporaryDirectory(prefix="clearance-profile-") as folder:
        output = Path(folder) / "screen.prof"
        profiled = [sys.executable, "-m", "cProfile", "-o", str(output), str(command)]
        with source.open("rb") as stdin:
            subprocess.run(
                [*profiled, "screen", "-", "--json"],
                stdin=stdin,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,
            )
        stats = pstats.Stats(str(output))
    entries: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = stats.stats  # type: ignore[attr-defined]

    def cumulative(file_suffix: str, function: str) -> float:
        # The outermost of same-named functions, should one call another of its name.
        return max(
            (
                v[3]
                for (f, _, n), v in entries.items()
                if f.replace("\\", "/").endswith(file_suffix) and n == function
            ),
            default=0.0,
        )

    total = max(v[3] for v in entries.values())
    stream = cumulative("clearance/cli/screen.py", "stream")
    parse = cumulative("clearance/cli/screen_stream.py", "_parse_line")
    decide = cumulative("clearance/policy/engine.py", "decide_many")
    write = cumulative("clearance/cli/screen_stream.py", "write_json")
    records = cumulative("clearance/cli/screen_stream.py", "_decision_bytes")
    parts = [
        ("start-up: imports, loading the pack", total - stream),
        ("reading and parsing lines (json, pydantic)", parse),
        ("deciding (Screener.decide_many)", decide),
        ("a decision's record (screen_stream._decision_bytes)", records),
        ("writing records (error records, one write a batch)", write - records),
        ("the rest of the stream loop", stream - parse - decide - write),
    ]
    rows = [[name, f"{sec * 1000:,.0f}", f"{100 * sec / total:.0f}%"] for name, sec in parts]
    return (
        f"Profile: clearance screen - --json on {lines:,} lines (cProfile; "
        f"total {total * 1000:,.0f} ms, {1e6 * write / lines:,.1f} µs per line writing)\n\n"
        + table(["where", "ms", "share"], rows)
        + "\n"
    )


def summary(values: Sequence[float]) -> dict[str, Any]:
    return {"median": median(values), "runs": list(values)}


def against_engine(
    lines: int,
    runs: Sequence[Run],
    engine: Sequence[dict[str, Any]],
    startup: float,
    parallel: Sequence[Run] = (),
    workers: int = 1,
) -> dict[str, Any]:
    """The command's decisions per second beside the engine's on the same lines, round by
    round (each round's pair ran back to back), and where the engine's time goes;
    ``parallel``: the command with ``--workers`` on the same lines, in the same rounds."""
    decisions = engine[0]["decisions"]
    evaluations = engine[0]["evaluations"]
    cli = [decisions / r.seconds for r in runs]
    cli_net = [decisions / (r.seconds - startup) for r in runs]
    many = [decisions / e["seconds"]["decide_many"] for e in engine]
    with_workers = [decisions / r.seconds for r in parallel]
    parallel_entry = (
        {
            "workers": workers,
            "cli_decisions_per_s": summary(with_workers),
            "ratio": summary([c / m for c, m in zip(with_workers, many, strict=True)]),
            "over_one_process": summary([w / c for w, c in zip(with_workers, cli, strict=True)]),
        }
        if with_workers
        else {}
    )

    def per(key: str, count: int) -> dict[str, Any]:
        return summary([1e6 * e["seconds"][key] / count for e in engine])

    return {
        "lines": lines,
        "decisions": decisions,
        "cedar_evaluations": evaluations,
        "cli_decisions_per_s": summary(cli),
        "cli_decisions_per_s_after_startup": summary(cli_net),
        "decide_many_decisions_per_s": summary(many),
        "ratio": summary([c / m for c, m in zip(cli, many, strict=True)]),
        "ratio_after_startup": summary([c / m for c, m in zip(cli_net, many, strict=True)]),
        "cli_us_per_decision": summary([1e6 / c for c in cli]),
        "parse_us_per_line": per("parse", lines),
        "decide_many_us_per_decision": per("decide_many", decisions),
        "records_us_per_decision": per("records", decisions),
        "cedarpy_us_per_evaluation": per("cedar", evaluations),
        "cedarpy_us_per_decision": per("cedar", decisions),
        "cedar_authz_us_per_evaluation": summary([e["cedar_authz_us_median"] for e in engine]),
        "cedar_authz_us_per_decision": summary(
            [e["cedar_authz_us_total"] / decisions for e in engine]
        ),
        "in_process_peak_rss_mib": summary([e["peak_rss_mib"] for e in engine]),
        **({"with_workers": parallel_entry} if parallel_entry else {}),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    command = clearance_command()
    systems = catalog_systems()
    sizes = sorted({0, *args.lines})
    results: dict[str, Any] = {
        "machine": machine(),
        "parameters": {"rounds": args.repeats, "seed": args.seed, "bad_every": BAD_EVERY},
        "streams": {},
    }
    with tempfile.TemporaryDirectory(prefix="clearance-bench-") as folder:
        files = {}
        for size in sizes:
            files[size] = Path(folder) / f"requests-{size}.jsonl"
            write_stream(files[size], systems, size, args.seed)
        check_size = min(s for s in sizes if s > 0)
        results["check"] = check_stream(command, files[check_size], check_size)
        if args.profile:
            results["profile"] = profile_cli(command, files[check_size], check_size)

        runs: dict[int, list[Run]] = {size: [] for size in sizes}
        parallel: list[Run] = []
        engine: list[dict[str, Any]] = []
        for _ in range(args.repeats):
            for size in sizes:  # each round runs every size, so all see the same load
                runs[size].append(screen(command, files[size], subprocess.DEVNULL))
            if args.workers > 1:
                parallel.append(
                    screen(command, files[sizes[-1]], subprocess.DEVNULL, workers=args.workers)
                )
            engine.append(in_process_child(files[sizes[-1]]))

    startup = median([r.seconds for r in runs[0]])
    for size in sizes:
        seconds = [r.seconds for r in runs[size]]
        entry: dict[str, Any] = {
            "lines": size,
            "bad_lines": size // BAD_EVERY,
            "seconds": summary(seconds),
            "peak_rss_mib": summary([r.peak_rss_mib for r in runs[size]]),
            "exit_status": sorted({r.status for r in runs[size]}),
        }
        if size:
            entry["lines_per_s"] = summary([size / s for s in seconds])
            entry["lines_per_s_after_startup"] = summary(
                [size / (s - startup) for s in seconds if s > startup]
            )
        results["streams"][str(size)] = entry
    results["against_engine"] = against_engine(
        sizes[-1], runs[sizes[-1]], engine, startup, parallel, args.workers
    )
    results["bench_process_peak_rss_mib"] = peak_rss_mib()
    largest, smallest = str(sizes[-1]), str(min(s for s in sizes if s > 0))
    big, small = results["streams"][largest], results["streams"][smallest]
    results["rss_ratio_largest_to_smallest"] = (
        big["peak_rss_mib"]["median"] / small["peak_rss_mib"]["median"]
    )
    return results


def report(r: dict[str, Any]) -> str:
    m, p, check = r["machine"], r["parameters"], r["check"]
    rows = []
    for entry in r["streams"].values():
        secs, rss = entry["seconds"], entry["peak_rss_mib"]
        rate = entry.get("lines_per_s")
        net = entry.get("lines_per_s_after_startup")
        rows.append(
            [
                f"{entry['lines']:,} lines ({entry['bad_lines']} bad)"
                if entry["lines"]
                else "empty stream (start-up)",
                f"{secs['median']:.2f}",
                f"{min(secs['runs']):.2f}–{max(secs['runs']):.2f}",
                f"{rate['median']:,.0f}" if rate else "",
                f"{net['median']:,.0f}" if net else "",
                f"{rss['median']:.1f}",
                f"{min(rss['runs']):.1f}–{max(rss['runs']):.1f}",
                ",".join(str(s) for s in entry["exit_status"]),
            ]
        )
    return "\n".join(
        [
            f"clearance screen - --json, a child process per run; medians of {p['rounds']} rounds",
            f"{m['cpus']} CPUs ({m['cpu']}), {m['system']}, Python {m['python']}, "
            f"cedarpy {m['cedarpy']}, pydantic {m['pydantic']}, clearance {m['clearance']}",
            "",
            f"stream check ({check['lines']:,} lines): {check['records']:,} records in input "
            f"order, {check['decisions']:,} decisions and {check['errors']} error records at "
            f"the bad lines ({', '.join(check['error_codes'])}), exit status "
            f"{check['exit_status']}",
            "",
            table(
                [
                    "stream",
                    "wall s",
                    "range",
                    "lines/s",
                    "after start-up",
                    "peak RSS MiB",
                    "range",
                    "exit",
                ],
                rows,
            ),
            "",
            f"peak RSS, largest stream / smallest: {r['rss_ratio_largest_to_smallest']:.2f}× "
            f"(this process: {r['bench_process_peak_rss_mib']:.1f} MiB, below any child)",
            "",
            engine_report(r["against_engine"]),
            *(["", r["profile"]] if "profile" in r else []),
        ]
    )


def engine_report(a: dict[str, Any]) -> str:
    """The command beside the engine in process and raw Cedar, on the longest stream."""

    def row(name: str, value: dict[str, Any], fmt: str, goal: str = "") -> list[str]:
        runs = value["runs"]
        spread = f"{format(min(runs), fmt)}–{format(max(runs), fmt)}"
        return [name, format(value["median"], fmt), spread, goal]

    met = "met" if a["ratio"]["median"] >= GOAL_RATIO else "missed"
    parallel = []
    if "with_workers" in a:
        w = a["with_workers"]
        met_w = "met" if w["ratio"]["median"] >= GOAL_RATIO else "missed"
        parallel = [
            row(f"--workers {w['workers']}, decisions/s", w["cli_decisions_per_s"], ",.0f"),
            row(
                f"--workers {w['workers']} / decide_many",
                w["ratio"],
                ".2f",
                f"≥ {GOAL_RATIO}: {met_w}",
            ),
            row(f"--workers {w['workers']} / one process", w["over_one_process"], ".2f"),
        ]
    return (
        f"the command beside the engine in process on the same {a['lines']:,} lines "
        f"({a['decisions']:,} decisions, {a['cedar_evaluations']:,} raw Cedar evaluations), "
        "each round's pair back to back\n\n"
        + table(
            ["measure", "median", "range", "goal"],
            [
                row("clearance screen - --json, decisions/s", a["cli_decisions_per_s"], ",.0f"),
                row("  after start-up", a["cli_decisions_per_s_after_startup"], ",.0f"),
                row(
                    "decide_many in process, decisions/s", a["decide_many_decisions_per_s"], ",.0f"
                ),
                row("command / decide_many", a["ratio"], ".2f", f"≥ {GOAL_RATIO}: {met}"),
                row("  after start-up", a["ratio_after_startup"], ".2f"),
                *parallel,
                row("command, µs per decision", a["cli_us_per_decision"], ",.0f"),
                row("decide_many, µs per decision", a["decide_many_us_per_decision"], ",.0f"),
                row("parsing a line (JSON, pydantic, catalog), µs", a["parse_us_per_line"], ",.1f"),
                row("its JSON record (json_bytes), µs", a["records_us_per_decision"], ",.1f"),
                row("raw cedarpy, µs per decision", a["cedarpy_us_per_decision"], ",.0f"),
                row("raw cedarpy, µs per evaluation", a["cedarpy_us_per_evaluation"], ",.1f"),
                row(
                    "Cedar's own authz time, µs per decision",
                    a["cedar_authz_us_per_decision"],
                    ",.1f",
                ),
                row(
                    "Cedar's own authz time, µs per evaluation (median)",
                    a["cedar_authz_us_per_evaluation"],
                    ",.0f",
                ),
                row("in-process peak RSS, MiB", a["in_process_peak_rss_mib"], ".1f"),
            ],
        )
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="clearance screen on long streams.")
    parser.add_argument(
        "--lines",
        type=int,
        nargs="+",
        default=[100_000, 10_000],
        help="stream lengths (default 100000 10000; an empty stream is always added)",
    )
    parser.add_argument("--repeats", type=int, default=5, help="rounds (default 5)")
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="also run the command with --workers N on the longest stream (default 2; 1: no)",
    )
    parser.add_argument("--seed", type=int, default=SEED, help="seed of the request mix")
    parser.add_argument("--profile", action="store_true", help="also profile the command")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--in-process", type=Path, metavar="FILE", help=argparse.SUPPRESS
    )  # the engine's side of a round, in a child: see in_process
    args = parser.parse_args(argv)
    if args.in_process is not None:
        json.dump(in_process(args.in_process), sys.stdout)
        return 0
    if not any(size > 0 for size in args.lines):
        parser.error("--lines needs at least one length above 0")
    return emit(run(args), args.json, report)


if __name__ == "__main__":
    sys.exit(main())
