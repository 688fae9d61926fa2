"""The real command on a long stream: wall time, lines per second, peak memory.

    .venv/bin/python bench/stream.py                   # 100,000 and 10,000 lines, 5 rounds
    .venv/bin/python bench/stream.py --json

It writes JSON lines to a temporary folder (the request mix of the screening
benchmark, with one bad line in every 1,000: bad JSON, not an object, an
unknown system, an impossible date, a missing field, an unknown action) and
runs ``clearance screen - --json < FILE > /dev/null`` as a child process, the
console script installed next to this Python. Each child's peak resident set
size comes from ``os.wait4``, so it is that child's own, not the largest of
all children.

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


def screen(command: Path, source: Path, output: BinaryIO | int) -> Run:
    """``clearance screen - --json < source > output``; its wall time and peak RSS."""
    with source.open("rb") as stdin, tempfile.TemporaryFile() as errors:
        started = time.perf_counter_ns()
        child = subprocess.Popen(
            [str(command), "screen", "-", "--json"], stdin=stdin, stdout=output, stderr=errors
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
        # The outermost of same-named functions (Decision.as_dict calls HolderJudgement.as_dict).
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
    output_ = cumulative("clearance/cli/render.py", "print_json")
    decide = cumulative("clearance/policy/engine.py", "decide_many")
    parse = cumulative("clearance/cli/screen.py", "_parse_line")
    as_dict = cumulative("clearance/core/decision.py", "as_dict")
    parts = [
        ("start-up: imports, loading the pack", total - stream),
        ("reading and parsing lines (json, pydantic)", parse),
        ("deciding (Screener.decide_many)", decide),
        ("Decision.as_dict", as_dict),
        ("writing records (render.print_json: json.dumps, Rich)", output_),
        ("the rest of the stream loop", stream - parse - decide - as_dict - output_),
    ]
    rows = [[name, f"{sec * 1000:,.0f}", f"{100 * sec / total:.0f}%"] for name, sec in parts]
    return (
        f"Profile: clearance screen - --json on {lines:,} lines (cProfile; "
        f"total {total * 1000:,.0f} ms, {1e6 * output_ / lines:,.0f} µs per line writing)\n\n"
        + table(["where", "ms", "share"], rows)
        + "\n"
    )


def summary(values: Sequence[float]) -> dict[str, Any]:
    return {"median": median(values), "runs": list(values)}


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
        for _ in range(args.repeats):
            for size in sizes:  # each round runs every size, so all see the same load
                runs[size].append(screen(command, files[size], subprocess.DEVNULL))

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
            *(["", r["profile"]] if "profile" in r else []),
        ]
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
    parser.add_argument("--seed", type=int, default=SEED, help="seed of the request mix")
    parser.add_argument("--profile", action="store_true", help="also profile the command")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    if not any(size > 0 for size in args.lines):
        parser.error("--lines needs at least one length above 0")
    return emit(run(args), args.json, report)


if __name__ == "__main__":
    sys.exit(main())
