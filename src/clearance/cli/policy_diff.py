"""``clearance policy diff``: what changes between two bundles of one holder, in text and in effect."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from clearance.core.request import describe_request
from clearance.policy.diff import (
    SAMPLE,
    BundleDiff,
    Probe,
    diff_bundles,
    golden_probes,
    read_pair,
    sample_dates,
    sample_probes,
)
from clearance.policy.engine import Screener
from clearance.policy.pack import load_pack
from clearance.settings import load_settings

from .options import JsonOption, ScenarioOption
from .render import make_console, print_json

FolderArgument = Annotated[Path, typer.Argument(show_default=False)]
SampleOption = Annotated[
    int,
    typer.Option(
        "--sample",
        min=0,
        max=100_000,
        help="Generated requests to judge as well (0: none).",
        show_default=True,
    ),
]
SeedOption = Annotated[
    int,
    typer.Option("--seed", help="Seed of the generated sample: the same seed, the same sample."),
]

_LINE_STYLES = (("+++", "bold"), ("---", "bold"), ("@@", "cyan"), ("+", "green"), ("-", "red"))


def _stored(screener: Screener) -> Iterator[Probe]:
    """The stored cases, when a database is configured and exists; none otherwise."""
    from clearance.service.databases import Store, existing_database
    from clearance.service.replay import stored_probes

    database = existing_database(load_settings().database_url)
    if database is None:
        return
    try:
        yield from stored_probes(Store(database), screener)
    finally:
        database.dispose()


def _print_text(console: Console, lines: tuple[str, ...]) -> None:
    for line in lines:
        style = next((s for prefix, s in _LINE_STYLES if line.startswith(prefix)), "")
        console.print(Text(line.rstrip("\n"), style=style), soft_wrap=True, highlight=False)


def _print_effect(console: Console, diff: BundleDiff) -> None:
    judged = ", ".join(f"{n} {source}" for source, n in diff.judged.items()) or "none"
    if diff.same_outcomes:
        console.print(f"No request changes outcome (judged: {judged}).", highlight=False)
        return
    table = Table(title=f"requests whose outcome changes (judged: {judged})")
    for column in ("change", "requests", "policies: OLD → NEW", "examples"):
        table.add_column(column)
    for group in diff.groups:
        sources = ", ".join(f"{n} {s}" for s, n in group.by_source.items())
        if group.by_zone:
            sources += "\nby zone: " + ", ".join(f"{z} {n}" for z, n in group.by_zone.items())
        examples = "\n".join(
            f"{e.probe.label}: {describe_request(e.as_dict()['request'])}" for e in group.examples
        )
        table.add_row(
            group.kind,
            f"{group.count}\n({sources})",
            f"{', '.join(group.old_policies) or '—'}\n→ {', '.join(group.new_policies) or '—'}",
            examples,
        )
    console.print(table)


def diff(
    old: FolderArgument,
    new: FolderArgument,
    json_output: JsonOption = False,
    sample: SampleOption = SAMPLE,
    seed: SeedOption = 0,
    scenario: ScenarioOption = None,
) -> None:
    """Compare two bundle folders of one holder: the text diff, and the requests (golden
    cases, stored cases, a generated sample) whose outcome differs between them."""
    screener = Screener(load_pack(scenario))
    bundles = read_pair(screener.pack, old, new)
    probes = [
        *golden_probes(screener),
        *_stored(screener),
        *sample_probes(screener, bundles[0].holder, sample_dates(bundles), count=sample, seed=seed),
    ]
    result = diff_bundles(screener, (old, new), bundles, probes)
    console = make_console()
    if json_output:
        print_json(console, result.as_dict())
        return
    if result.text:
        _print_text(console, result.text)
    else:
        console.print("The two folders hold the same text.", highlight=False)
    _print_effect(console, result)
