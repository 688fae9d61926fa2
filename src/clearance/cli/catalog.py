"""``clearance catalog``: the systems in the pack and who holds consent over them."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from clearance.core.holders import consent_holders, holders_report, systems_report
from clearance.policy.pack import load_pack

from .options import JsonOption, ScenarioOption
from .render import holders_tree, make_console, print_json

app = typer.Typer(help="Look into the catalog: systems and consent holders.", no_args_is_help=True)


@app.command("holders")
def holders(
    system: Annotated[
        str, typer.Argument(help="System id, e.g. storm-shadow.", show_default=False)
    ],
    scenario: ScenarioOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show every party whose consent SYSTEM needs, with the paths that give it."""
    catalog = load_pack(scenario).catalog
    report = holders_report(catalog, system)
    found = consent_holders(catalog, system)
    console = make_console()
    if json_output:
        print_json(console, report)
    else:
        console.print(holders_tree(system, found))


@app.command("systems")
def systems(scenario: ScenarioOption = None, json_output: JsonOption = False) -> None:
    """List the systems of the catalog with their origin and consent holders."""
    catalog = load_pack(scenario).catalog
    rows = [(s, [h.party for h in consent_holders(catalog, s.id)]) for s in catalog.systems]
    console = make_console()
    if json_output:
        print_json(console, systems_report(catalog))
        return
    table = Table(title=f"systems (catalog {catalog.revision[:19]})")
    for column in ("id", "name", "origin", "range km", "consent holders"):
        table.add_column(column)
    for s, found in rows:
        name = Text.assemble(s.name, (" (illustrative)", "dim") if s.illustrative else "")
        table.add_row(s.id, name, s.origin, f"{s.range_km:,}", ", ".join(found))
    console.print(table)
