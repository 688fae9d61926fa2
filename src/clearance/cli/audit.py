"""``clearance audit`` and ``clearance verify-decision``: checking the record, online and offline."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn

from clearance.errors import InputError

from .context import App
from .options import JsonOption
from .render import print_json

if TYPE_CHECKING:
    from clearance.core.chain import ChainReport

app = typer.Typer(
    help="Verify the ledger's hash chain and export it for auditors.", no_args_is_help=True
)


def _report(report: ChainReport, json_output: bool) -> None:
    data = {
        "ok": report.ok,
        "events": report.events,
        "first_bad_seq": report.first_bad,
        "problem": report.problem,
        "head": report.head,
    }
    if json_output:
        print_json(Console(), data)
    elif report.ok:
        Console().print(
            f"[green]ledger verified[/green]: {report.events} events, head {report.head}",
            highlight=False,
        )
    else:
        Console().print(
            f"[bold red]ledger broken at event {report.first_bad}[/bold red]: {report.problem} ({report.events} events verified before it)",
            highlight=False,
        )
    if not report.ok:
        raise typer.Exit(1)


@app.command("verify")
def verify_ledger(
    export_file: Annotated[
        Path | None, typer.Option("--file", help="Verify an exported file instead of the database.")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Check the whole hash chain; name the first bad sequence number. Exit 1 if broken."""
    from clearance.service import audit

    if export_file is not None:
        try:
            with export_file.open(encoding="utf-8") as lines:
                report = audit.verify_export(lines, str(export_file))
        except FileNotFoundError:
            raise InputError(str(export_file), "file not found") from None
        _report(report, json_output)
        return
    store = App().store
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.completed:,} events checked"),
        console=Console(stderr=True),
        transient=True,
        disable=not sys.stderr.isatty(),
    ) as progress:
        task = progress.add_task("verify", total=None)
        report = audit.verify(store, progress=lambda n: progress.update(task, completed=n))
    _report(report, json_output)


@app.command("export")
def export(
    out: Annotated[
        Path | None, typer.Option("--out", help="File to write (default: stdout).")
    ] = None,
) -> None:
    """Write the ledger as JSON lines that verify on their own (audit verify --file)."""
    from clearance.service import audit

    store = App().store
    if out is None:
        report, _ = audit.export(store, sys.stdout)
    else:
        temporary = out.with_name(out.name + ".partial")
        try:
            with temporary.open("w", encoding="utf-8") as handle:
                report, written = audit.export(store, handle)
        except BaseException:
            temporary.unlink(missing_ok=True)  # nothing half-written is left behind
            raise
        temporary.replace(out)
        Console(stderr=True).print(f"exported {written} events to {out}", highlight=False)
    if not report.ok:
        Console(stderr=True).print(
            f"[red]warning: the ledger is broken at event {report.first_bad}: {report.problem}[/red]"
        )
        raise typer.Exit(1)


def verify_decision(
    case_file: Annotated[
        Path,
        typer.Argument(
            help="A case as written by 'clearance cases show N --json'.", show_default=False
        ),
    ],
    keys: Annotated[
        Path | None,
        typer.Option(
            "--keys",
            help="Public keys as written by 'clearance users list --json' (default: those in the file).",
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Check a case's signed approvals and denials offline, from public keys alone. Exit 1 if any fails."""
    from clearance.service import audit

    case = _load_json(case_file)
    registry: dict[str, dict[str, Any]] | None = None
    if keys is not None:
        users = _load_json(keys)
        if not isinstance(users, list):
            raise InputError(str(keys), "must be the list 'clearance users list --json' writes")
        registry = {str(u["id"]): u for u in users if isinstance(u, dict) and "id" in u}
    if not isinstance(case, dict) or not isinstance(case.get("approvals"), list):
        raise InputError(str(case_file), "is not a case written by 'clearance cases show --json'")
    results = [check.as_dict() for check in audit.check_signatures(case, registry)]
    valid = all(r["valid"] for r in results)
    if json_output:
        print_json(Console(), {"case": case.get("id"), "valid": valid, "signatures": results})
    else:
        console = Console()
        for r in results:
            mark = "[green]valid[/green]" if r["valid"] else "[bold red]INVALID[/bold red]"
            console.print(
                f"{mark} {r['verdict']} by {r['actor']} for {r['authority']}"
                + (f": {'; '.join(r['problems'])}" if r["problems"] else ""),
                highlight=False,
            )
        if not results:
            console.print("no signed approvals or denials on this case")
    if not valid:
        raise typer.Exit(1)


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(str(path), "file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(str(path), f"not JSON: {exc}") from None
