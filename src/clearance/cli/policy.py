"""``clearance policy``: validate a pack's bundles and run its golden cases."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from clearance.policy.coverage import coverage as golden_coverage
from clearance.policy.engine import Screener
from clearance.policy.golden import run_cases
from clearance.policy.pack import load_pack

from . import proposals
from .context import now
from .coverage import print_coverage
from .options import JsonOption
from .policy_diff import diff
from .render import make_console, print_json

app = typer.Typer(
    help="Validate policy bundles and test them against golden cases.", no_args_is_help=True
)
app.command("diff")(diff)
app.command("propose")(proposals.propose)
app.command("proposals")(proposals.proposals)
app.command("proposal")(proposals.proposal)
app.command("activate")(proposals.activate)

PackArgument = Annotated[
    Path | None,
    typer.Argument(
        envvar="CLEARANCE_SCENARIO",
        help="Scenario pack folder. Default: the bundled seed pack.",
        show_default=False,
    ),
]


@app.command("validate")
def validate(directory: PackArgument = None, json_output: JsonOption = False) -> None:
    """Parse and schema-check every bundle of a pack; list the bundles and their history."""
    pack = load_pack(directory)
    history = pack.history
    rows: list[dict[str, Any]] = [
        {
            "holder": b.holder,
            "effective_from": b.effective_from.isoformat(),
            "in_force_until": (u.isoformat() if (u := history.in_force_until(b)) else None),
            "title": b.title,
            "policies": len(b.policies),
            "gates": sorted({p.gate.authority for p in b.policies if p.gate}),
            "stockpile_thresholds": b.thresholds.as_dict() if b.thresholds else None,
            "revision": b.revision,
            "folder": b.folder,
            "illustrative": b.illustrative,
        }
        for b in history
    ]
    console = make_console()
    if json_output:
        print_json(
            console,
            {
                "pack": pack.name,
                "valid": True,
                "catalog_revision": pack.catalog.revision,
                "bundles": rows,
            },
        )
        return
    table = Table(title=f"pack '{pack.name}': {len(rows)} bundles, all valid")
    for column in ("holder", "in force", "title", "policies", "gates", "revision"):
        table.add_column(column)
    for row in rows:
        span = f"{row['effective_from']} → {row['in_force_until'] or 'now'}"
        table.add_row(
            str(row["holder"]),
            span,
            str(row["title"]),
            str(row["policies"]),
            ", ".join(row["gates"]) or "—",
            str(row["revision"])[:19],
        )
    console.print(table)


CoverageOption = Annotated[
    bool,
    typer.Option(
        "--coverage",
        help="Also list the policies no golden case determined and the gates none exercised.",
    ),
]


@app.command("test")
def run_golden(
    directory: PackArgument = None,
    json_output: JsonOption = False,
    coverage: CoverageOption = False,
) -> None:
    """Run the pack's golden cases; show each failure as expected vs got. Exit 1 if any fails."""
    screener = Screener(load_pack(directory))
    results = run_cases(screener, now=now())
    failed = [r for r in results if not r.passed]
    reached = golden_coverage(screener, results, now=now()) if coverage else None
    console = make_console()
    if json_output:
        print_json(
            console,
            {
                **({"coverage": [b.as_dict() for b in reached]} if reached is not None else {}),
                "passed": len(results) - len(failed),
                "failed": len(failed),
                "cases": [
                    {
                        "id": r.case.id,
                        "file": r.file,
                        "title": r.case.title,
                        "passed": r.passed,
                        "outcome": r.decision.outcome.value if r.decision else None,
                        "mismatches": [
                            {"field": m.field, "expected": m.expected, "got": m.got}
                            for m in r.mismatches
                        ],
                    }
                    for r in results
                ],
            },
        )
    else:
        table = Table(title=f"golden cases of '{screener.pack.name}'")
        for column in ("case", "result", "outcome", "title"):
            table.add_column(column)
        for r in results:
            mark = Text("pass", style="green") if r.passed else Text("FAIL", style="bold red")
            outcome = r.decision.outcome.value if r.decision else "—"
            table.add_row(r.case.id, mark, outcome, r.case.title)
        console.print(table)
        for r in failed:
            console.print(Text.assemble((r.case.id, "bold red"), f" ({r.file})"), highlight=False)
            for m in r.mismatches:
                console.print(
                    f"  {m.field}: expected {m.expected!r}, got {m.got!r}", highlight=False
                )
        colour = "red" if failed else "green"
        console.print(Text(f"{len(results) - len(failed)} passed, {len(failed)} failed", colour))
        if reached is not None:
            print_coverage(console, reached)
    if failed:
        raise typer.Exit(1)
