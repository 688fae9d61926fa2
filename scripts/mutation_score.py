"""The mutation score of each area, read from the results mutmut leaves in ``mutants/``.

mutmut reports one total; the issue asks for a score per area (core, policy,
and the ledger, signature, access, idempotency, workflow, stock and replay
code of the service and store), so this script sorts the mutants of each file
into its area and prints, per area, how many were killed, survived, had no
test reaching them, timed out, or were not run yet. A timeout counts as
killed (the mutant made the tests hang), as mutmut counts it, and so does a
crash of the test process (mutmut's "segfault"); a mutant no
selected test reaches counts as surviving. ``--survivors`` lists the surviving
mutants of each area by name, for ``mutmut show NAME``; ``--files`` adds a row
per source file under its area's.

Run by ``make mutation`` after ``mutmut run``; docs/testing.md keeps the scores.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

# Each area: the source files (under src/clearance) whose mutants it counts.
# A file belongs to the first area that names it.
AREAS: dict[str, tuple[str, ...]] = {
    "core": ("core/",),
    "policy": ("policy/",),
    "ledger": ("store/ledger.py", "service/audit.py", "service/anchoring.py"),
    "signatures": ("service/keyfiles.py", "service/decision_proof.py", "service/signed_answers.py"),
    "access": ("service/access.py", "store/case_lists.py"),
    "idempotency": ("service/submission.py", "service/cases.py"),
    "workflow": ("service/case_moves.py", "service/case_commands.py"),
    "stock": ("service/stock_moves.py", "store/stock.py"),
    "replay": (
        "service/replay.py",
        "service/replay_judging.py",
        "service/replay_keys.py",
        "store/stored_cases.py",
    ),
}

# A test failed, pytest broke, the type checker refused it, or the mutant crashed the test
# process (SIGSEGV: a nesting limit of policy/source.py raised lets Cedar's parser overflow
# its stack, which is what the limit is there to prevent).
KILLED = {1, 3, 37, -11}
TIMEOUT = {36, 24, -24, 152, 255}
SURVIVED = {0}
NO_TESTS = {5, 33}


def area_of(source: str) -> str | None:
    for area, prefixes in AREAS.items():
        if any(source == p or (p.endswith("/") and source.startswith(p)) for p in prefixes):
            return area
    return None


def outcome(code: int | None) -> str:
    if code is None:
        return "not run"
    if code in KILLED:
        return "killed"
    if code in TIMEOUT:
        return "timeout"
    if code in SURVIVED:
        return "survived"
    if code in NO_TESTS:
        return "no tests"
    return "suspicious"


def _row(label: str, c: Counter[str]) -> str:
    total = sum(c.values())
    run = total - c["not run"]
    score = f"{100 * (c['killed'] + c['timeout']) / run:.1f}%" if run else "-"
    row = (label, total, c["killed"], c["timeout"], c["survived"], c["no tests"])
    return "{:<30} {:>8} {:>7} {:>8} {:>9} {:>9}".format(*row) + f" {c['not run']:>8} {score:>7}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path("mutants/src/clearance"))
    parser.add_argument("--survivors", action="store_true", help="name each surviving mutant")
    parser.add_argument("--files", action="store_true", help="a row per source file too")
    args = parser.parse_args()

    counts: dict[str, Counter[str]] = {area: Counter() for area in AREAS}
    by_file: dict[str, dict[str, Counter[str]]] = {area: {} for area in AREAS}
    survivors: dict[str, list[str]] = {area: [] for area in AREAS}
    for meta in sorted(args.root.rglob("*.py.meta")):
        source = meta.relative_to(args.root).as_posix().removesuffix(".meta")
        area = area_of(source)
        if area is None:
            continue
        codes = json.loads(meta.read_text("utf-8"))["exit_code_by_key"]
        for name, code in codes.items():
            result = outcome(code)
            counts[area][result] += 1
            by_file[area].setdefault(source, Counter())[result] += 1
            if result in ("survived", "no tests", "suspicious"):
                survivors[area].append(f"{name} ({result})")

    header = ("area", "mutants", "killed", "timeout", "survived", "no tests", "not run", "score")
    print("{:<30} {:>8} {:>7} {:>8} {:>9} {:>9} {:>8} {:>7}".format(*header))
    for area, c in counts.items():
        print(_row(area, c))
        if args.files:
            for source, fc in sorted(by_file[area].items()):
                print(_row(f"  {source}", fc))
    if args.survivors:
        for area, names in survivors.items():
            for name in names:
                print(f"{area}: {name}")


if __name__ == "__main__":
    main()
