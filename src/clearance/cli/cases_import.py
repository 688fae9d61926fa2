"""``clearance cases import``: many requests submitted at once from a file of JSON lines.

Every line is read, screened and checked against what the user may submit
before anything is written, so a file with a line that is not a request (not
JSON, a field missing, a system the catalog does not know) or that the user
may not submit (another party's requester, a level above their clearance) is
refused whole, in one line naming the file and the line, and leaves no case
behind: fixing the line and running the import again cannot make a case
twice. The cases are then written in transactions of ``--batch`` lines, each
case screened and recorded as ``cases submit`` records it (the same events,
the same decision). A line refused only when its turn comes (an idempotency
key another request holds, which is looked up under the writers' lock) is
named and the others go on: that depends on what the database holds then,
which a check beforehand could not promise; the import ends with exit code 1.

A line is a request, as ``cases submit`` reads it, or an object holding one
as ``request`` with an ``idempotency_key`` and a ``classification``
(as the options of ``cases submit``). Lines with keys make the import
idempotent: run again, it finds the cases it made and makes no other.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from clearance.core.access import parse_level
from clearance.errors import ClearanceError, InputError, OutcomeUnknown

from .context import ActorOption, now, runtime
from .json_input import read_bytes, read_json_line
from .options import JsonOption, ScenarioOption
from .render import make_console, print_json, progress_bar

__all__ = ["import_cases"]

_ENVELOPE = frozenset({"request", "idempotency_key", "classification"})


@dataclass(frozen=True, slots=True)
class _Line:
    number: int
    request: Any
    idempotency_key: str | None
    classification: int


def _line(path: Path, number: int, raw: bytes) -> _Line:
    """One line as a request with its key and level; ``InputError`` naming the file and line."""
    where = f"{path}:{number}"
    try:
        value = read_json_line(raw)
    except ClearanceError as exc:
        raise InputError(where, exc.message) from None
    if not (isinstance(value, dict) and "request" in value):
        return _Line(number, value, None, 0)
    unknown = sorted(set(value) - _ENVELOPE)
    if unknown:
        raise InputError(where, f"unknown field '{unknown[0]}' beside 'request'")
    key, level = value.get("idempotency_key"), value.get("classification", "UNCLASSIFIED")
    if key is not None and not isinstance(key, str):
        raise InputError(where, "'idempotency_key' must be text")
    if not isinstance(level, str):
        raise InputError(where, "'classification' must be text, such as 'SECRET'")
    try:
        parsed = parse_level(level, "classification")
    except ClearanceError as exc:
        raise InputError(where, exc.message) from None
    return _Line(number, value["request"], key, int(parsed))


def import_cases(
    file: Annotated[
        Path,
        typer.Argument(help="Requests, one JSON object a line (.jsonl).", show_default=False),
    ],
    actor: ActorOption,
    batch: Annotated[
        int, typer.Option("--batch", min=1, max=10_000, help="Cases written per transaction.")
    ] = 500,
    scenario: ScenarioOption = None,
    json_output: JsonOption = False,
) -> None:
    """Submit every request of a JSON-lines file as a case: all lines checked first (read,
    screened, and allowed to the user), then written in transactions of --batch cases."""
    lines = [
        (number, raw)
        for number, raw in enumerate(read_bytes(file).split(b"\n"), start=1)
        if raw.strip()
    ]
    if not lines:
        raise InputError(str(file), "holds no request")
    service = runtime(scenario).cases
    asks = []
    with progress_bar("checking") as progress:
        task = progress.add_task("check", total=len(lines))
        for number, raw in lines:
            line = _line(file, number, raw)
            try:
                asks.append(
                    service.prepare(
                        line.request,
                        actor=actor,
                        now=now(),
                        idempotency_key=line.idempotency_key,
                        classification=line.classification,
                    )
                )
            except ClearanceError as exc:
                raise InputError(f"{file}:{number}", exc.message) from None
            progress.advance(task)
    for (number, _), refused_now in zip(lines, service.refusals(asks), strict=True):
        if refused_now is not None:  # the file is refused whole: nothing of it is written
            raise InputError(f"{file}:{number}", refused_now.message)
    cases: list[int | None] = []
    new = existing = 0
    refused: list[dict[str, Any]] = []
    with progress_bar("importing") as progress:
        task = progress.add_task("import", total=len(asks))
        for start in range(0, len(asks), batch):
            chunk = asks[start : start + batch]
            try:
                answers = service.submit_many(chunk)
            except OutcomeUnknown as exc:
                first = lines[start][0]
                raise OutcomeUnknown(
                    f"{exc.message}: the cases from line {first} on may or may not be recorded;"
                    " run the import again if its lines carry idempotency keys, else look with"
                    " 'clearance cases list' first"
                ) from None
            for (number, _), answer in zip(lines[start : start + batch], answers, strict=True):
                if isinstance(answer, BaseException):
                    if not isinstance(answer, ClearanceError):
                        raise answer
                    refused.append({"line": number, **answer.as_dict()})
                    cases.append(None)
                    continue
                view, created = answer
                cases.append(view.case.number)
                new += created
                existing += not created
            progress.advance(task, len(chunk))
    if json_output:
        print_json(
            make_console(),
            {
                "file": str(file),
                "lines": len(lines),
                "submitted": new,
                "existing": existing,
                "refused": refused,
                "cases": cases,
            },
        )
    else:
        made = [n for n in cases if n is not None]
        span = f" (cases {min(made)} to {max(made)})" if made else ""
        make_console().print(
            f"{new} cases submitted, {existing} found already made by the same keys{span}",
            highlight=False,
        )
        err = make_console(stderr=True)
        for r in refused:
            err.print(f"error: {file}:{r['line']}: {r['message']}", highlight=False, markup=False)
    if refused:
        raise typer.Exit(1)
