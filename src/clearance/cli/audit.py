"""``clearance audit`` and ``clearance verify-decision``: checking the record, online and offline."""

from __future__ import annotations

import base64
import binascii
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn
from rich.text import Text

from clearance.errors import InputError

from .context import now, runtime
from .json_input import open_input, read_json_file
from .options import JsonOption
from .render import bullet, make_console, print_json

if TYPE_CHECKING:
    from clearance.core.anchors import Checkpoint
    from clearance.service.audit import AuditReport, TrustedKey

app = typer.Typer(
    help="Verify the ledger (its chain, seals, checkpoints and the tables' facts), sign"
    " checkpoints, and export it for auditors.",
    no_args_is_help=True,
)

PublicKeyOption = Annotated[
    str | None,
    typer.Option(
        "--public-key",
        help="The system public key to trust (base64, or a file holding it), as"
        " 'clearance audit public-key' printed it. Default: this installation's key file.",
        show_default=False,
    ),
]
CheckpointOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--checkpoint",
        help="A checkpoint file you kept ('audit checkpoint --out'); the ledger must hold it."
        " Repeat for several.",
        show_default=False,
    ),
]


def _report(report: AuditReport, json_output: bool) -> None:
    if json_output:
        print_json(make_console(), report.as_dict())
    else:
        console = make_console()
        if report.ok:
            count = report.checkpoints
            anchored = (
                f"vouched for up to event {report.anchored_to} by {count} signed"
                f" anchor{'' if count == 1 else 's'}"
                if report.anchored_to
                else "no checkpoint held"
            )
            redacted = f" ({report.redacted} redacted)" if report.redacted else ""
            console.print(
                Text.assemble(
                    ("ledger verified", "green"),
                    f": {report.events} events{redacted}, head {report.head}; {anchored};"
                    f" {report.seals} seals and {report.rows} table rows checked",
                ),
                highlight=False,
            )
        else:
            console.print(
                Text.assemble(
                    ("ledger broken", "bold red"), f": {len(report.findings)} problem(s)"
                ),
                highlight=False,
            )
            for finding in report.findings:
                where = "" if finding.seq is None else f"event {finding.seq}: "
                console.print(bullet(f"{where}{finding.problem}"), highlight=False)
        if report.key is not None and not report.key.independent:
            make_console(stderr=True).print(
                Text.assemble(
                    ("note", "yellow"),
                    f": seals and checkpoints were checked against the key in {report.key.source};"
                    " give --public-key to check them against a key you keep",
                ),
                highlight=False,
            )
    if not report.ok:
        raise typer.Exit(1)


def _public_key(given: str | None, option: str = "--public-key") -> TrustedKey | None:
    """The key the auditor trusts: ``option`` (a value, or a file holding one)."""
    from clearance.service.audit import TrustedKey

    if given is None:
        return None
    value = given.strip()
    path = Path(value)
    if len(value) != 44 or path.exists():
        try:
            value = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            raise InputError(
                option, f"'{given}' is neither a public key nor a readable file"
            ) from None
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise InputError(option, "is not an Ed25519 public key in base64 (32 bytes)")
    return TrustedKey(value, option)


def _checkpoints(files: list[Path] | None) -> list[tuple[Checkpoint, str]]:
    from clearance.service.ledger_files import read_checkpoint

    return [
        (read_checkpoint(read_json_file(path), str(path)), f"the file {path.name}")
        for path in files or []
    ]


@app.command("verify")
def verify_ledger(
    export_file: Annotated[
        Path | None, typer.Option("--file", help="Verify an exported file instead of the database.")
    ] = None,
    public_key: PublicKeyOption = None,
    checkpoint: CheckpointOption = None,
    all_seals: Annotated[
        bool,
        typer.Option(
            "--all-seals",
            help="Check the seal of every event, not only of those after the last checkpoint.",
        ),
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Check the ledger: chain, checkpoints, seals and (in the database) the tables' facts.

    Names every problem with the first event it concerns. Exit 1 if any.
    """
    from clearance.service import audit, ledger_files
    from clearance.service.anchoring import SystemKey

    key = _public_key(public_key)
    given = _checkpoints(checkpoint)
    if export_file is not None:
        if key is None:
            from clearance.settings import load_settings

            local = SystemKey.load(load_settings().system_key)
            if local is not None:
                key = audit.TrustedKey(local.public_key, "the installation's system key file")
        with open_input(export_file) as lines:
            report = ledger_files.verify_export(
                lines, str(export_file), key=key, given=given, all_seals=all_seals
            )
        _report(report, json_output)
        return
    context = runtime()
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.completed:,} events checked"),
        console=make_console(stderr=True),
        transient=True,
        disable=not sys.stderr.isatty(),
    ) as progress:
        task = progress.add_task("verify", total=None)
        report = audit.verify_installation(
            context.store,
            context.settings.data_dir,
            key=key,
            given=given,
            all_seals=all_seals,
            progress=lambda n: progress.update(task, completed=n),
        )
    _report(report, json_output)


@app.command("checkpoint")
def checkpoint(
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Also write the checkpoint to this file, for others to keep."),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Sign the ledger's head now with the system key, and keep the checkpoint.

    Refused (exit 1) when the ledger does not verify since the last checkpoint.
    """
    from clearance.service import anchoring

    def written(made: Checkpoint) -> None:
        if out is not None:
            _write_file(out, json.dumps(made.as_dict(), indent=2) + "\n")

    made = anchoring.checkpoint(runtime().store, now=now(), reason="on demand", keep=written)
    if json_output:
        print_json(make_console(), made.as_dict())
    else:
        make_console().print(
            f"checkpoint: event {made.seq}, head {made.head}, signed at {made.at}"
            + (f"; written to {out}" if out is not None else ""),
            highlight=False,
        )


@app.command("public-key")
def public_key_command(json_output: JsonOption = False) -> None:
    """Print this installation's system public key, for auditors to keep."""
    from clearance.service.anchoring import SystemKey

    context = runtime()
    key = SystemKey.load(context.settings.system_key)
    if key is None:
        raise InputError(
            str(context.settings.system_key), "there is no system key yet; run 'clearance init'"
        )
    if json_output:
        print_json(make_console(), {"system_public_key": key.public_key})
    else:
        print(key.public_key)


@app.command("export")
def export(
    out: Annotated[
        Path | None, typer.Option("--out", help="File to write (default: stdout).")
    ] = None,
    reader: Annotated[
        str | None,
        typer.Option(
            "--as",
            help="Redact for this user: events of cases above their clearance carry only"
            " what checking the chain needs.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Write the ledger as JSON lines that verify on their own (audit verify --file).

    A checkpoint is signed first and carried in the file.
    """
    from clearance.service import ledger_files

    context = runtime()
    level = None if reader is None else ledger_files.clearance_of(context.store, reader)
    if out is None:
        summary = ledger_files.export(context.store, sys.stdout, now=now(), reader_level=level)
    else:
        if out.is_dir():  # refused before the export signs its checkpoint
            raise InputError(str(out), "is a folder, not a file")
        temporary = out.with_name(out.name + ".partial")
        try:
            with temporary.open("w", encoding="utf-8") as handle:
                summary = ledger_files.export(context.store, handle, now=now(), reader_level=level)
            temporary.replace(out)
        except OSError as exc:
            temporary.unlink(missing_ok=True)  # nothing half-written is left behind
            raise InputError(str(out), f"cannot be written: {exc.strerror or exc}") from None
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        redacted = f" ({summary.redacted} redacted)" if summary.redacted else ""
        make_console(stderr=True).print(
            f"exported {summary.events} events{redacted} to {out}", highlight=False
        )
    if summary.refused is not None:
        make_console(stderr=True).print(
            Text(f"warning: exported without a checkpoint of its own: {summary.refused}", "red"),
            highlight=False,
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
    system_key: Annotated[
        str | None,
        typer.Option(
            "--system-key",
            help="The system public key that seals the case's events (base64, or a file holding"
            " it), as 'clearance audit public-key' printed it. Default: the one in the file.",
            show_default=False,
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Check a case offline from public keys alone: its digests, its sealed events, its state
    against its signed answers, and every answer's signature. Exit 1 if anything fails."""
    from clearance.service import decision_proof

    case = read_json_file(case_file)
    registry: dict[str, dict[str, Any]] | None = None
    if keys is not None:
        users = read_json_file(keys)
        if not isinstance(users, list):
            raise InputError(str(keys), "must be the list 'clearance users list --json' writes")
        registry = {str(u["id"]): u for u in users if isinstance(u, dict) and "id" in u}
    if not isinstance(case, dict) or not isinstance(case.get("approvals"), list):
        raise InputError(str(case_file), "is not a case written by 'clearance cases show --json'")
    trusted = _public_key(system_key, "--system-key")
    sealing_key = trusted.public_key if trusted is not None else case.get("system_public_key")
    proof = decision_proof.prove(
        case, registry, sealing_key if isinstance(sealing_key, str) else None
    )
    if json_output:
        print_json(make_console(), proof.as_dict())
    else:
        console = make_console()
        if proof.problems:
            console.print(
                Text.assemble((f"INVALID case {case.get('number')}", "bold red"), ":"),
                highlight=False,
            )
            for problem in proof.problems:
                console.print(bullet(problem), highlight=False)
        elif proof.complete:
            sealed = "sealed " if proof.sealed else ""
            console.print(
                Text.assemble(
                    ("valid", "green"),
                    f" case {case.get('number')}: request, decision, state and"
                    f" {proof.events} {sealed}events agree",
                ),
                highlight=False,
            )
        else:
            console.print(
                Text.assemble(
                    ("valid in part", "yellow"),
                    f" case {case.get('number')}: another party's stock figures are withheld"
                    " from this file's reader, so its decision and the events that carry it"
                    " were checked by digest and seal only",
                ),
                highlight=False,
            )
        for check in proof.signatures:
            mark = ("valid", "green") if check.valid else ("INVALID", "bold red")
            console.print(
                Text.assemble(
                    mark,
                    f" {check.verdict} by {check.actor} for {check.authority}"
                    + (f": {'; '.join(check.problems)}" if check.problems else ""),
                ),
                highlight=False,
            )
        if not proof.signatures:
            console.print("no signed approvals or denials on this case")
        if trusted is None or keys is None:
            make_console(stderr=True).print(
                Text.assemble(
                    ("note", "yellow"),
                    ": keys were taken from the file itself; give --keys and --system-key to"
                    " check against keys you keep",
                ),
                highlight=False,
            )
    if not proof.valid:
        raise typer.Exit(1)


def _write_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all (a temporary file, then a rename)."""
    temporary = path.with_name(path.name + ".partial")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise InputError(str(path), f"cannot be written: {exc.strerror}") from None
