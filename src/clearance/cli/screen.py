"""``clearance screen`` and ``clearance explain``: requests in, decisions out.

``screen -`` streams JSON lines: input is read as it arrives and decided in
batches of whatever is available (one Cedar call per bundle and batch), so
memory stays flat however long the stream, and a slow producer still gets each
answer as soon as its line is in. A bad line yields an error record in its
place and the stream goes on; the exit status is then 2. With `--json`,
`--workers N` decides it in N processes (`screen_workers`), answered in order.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from clearance.core.decision import Decision
from clearance.core.request import AnyRequest, parse_request
from clearance.errors import ClearanceError, InputError
from clearance.policy.engine import Screener
from clearance.policy.explain import explain
from clearance.service.collector import for_a_long_stream

from .context import now, screening_pack
from .json_input import open_input, read_json_file
from .options import AsOfOption, JsonOption, ScenarioOption, parse_date
from .render import (
    decision_line,
    decision_panel,
    explanation_view,
    make_console,
    one_line,
    print_json,
    progress_bar,
)
from .screen_stream import Record, new_decision_id, read_lines, screened, write_json
from .screen_workers import can_fork, output_fd, stream_json


def read_request_file(path: Path) -> AnyRequest:
    """One request from a JSON file; an error names the file, or the request's field."""
    return parse_request(read_json_file(path, "a request"))


def stream(
    screener: Screener,
    fd: int,
    console: Console,
    *,
    as_json: bool,
    as_of: dt.date | None,
    workers: int = 1,
) -> bool:
    """Screen JSON lines from ``fd`` to standard output; returns True if any line was bad.

    With ``as_json`` each batch's records go out as plain JSON text
    (``screen_stream.write_json``), decided by ``workers`` processes when more than one
    (``screen_workers``); otherwise ``console`` prints one line a record.
    Reading a file (not a pipe) with a terminal on stderr shows a progress bar there.
    """
    any_bad = False
    size = os.fstat(fd).st_size if stat.S_ISREG(os.fstat(fd).st_mode) else 0
    progress = progress_bar("screening", in_bytes=True, show=bool(size))
    task = progress.add_task("screening", total=size)
    # What start-up loaded lives as long as the process: frozen, the collector's passes no
    # longer scan it (7% of the time); made rarer, 100,000 lines take a fifth less time.
    for_a_long_stream()

    def read() -> None:
        if size:
            progress.update(task, completed=os.lseek(fd, 0, os.SEEK_CUR))

    if as_json and workers > 1 and can_fork() and (out := output_fd(sys.stdout)) is not None:
        sys.stdout.flush()
        with progress:
            return stream_json(
                screener, read_lines(fd), out, as_of=as_of, workers=workers, read=read
            )
    with progress:
        for records in screened(screener, read_lines(fd), as_of=as_of):
            any_bad |= any(isinstance(item, ClearanceError) for _, item in records)
            if as_json:
                write_json(records, sys.stdout)
            else:
                _print_lines(records, console)
            read()
    return any_bad


def _print_lines(records: list[Record], console: Console) -> None:
    """A batch of records as readable lines: the outcome in colour, an error in red."""
    for line, item in records:
        if isinstance(item, ClearanceError):
            text = Text.assemble((f"line {line}: error: ", "red"), one_line(item.message))
            console.print(text, highlight=False, soft_wrap=True)
        else:
            console.print(decision_line(item), highlight=False, soft_wrap=True)
    console.file.flush()


def _decide_file(
    screener: Screener, path: Path, as_of: dt.date | None
) -> tuple[AnyRequest, Decision]:
    """Read one request file and decide it now, with a fresh decision id."""
    parsed = read_request_file(path)
    return parsed, screener.decide(parsed, decision_id=new_decision_id(), now=now(), as_of=as_of)


RequestArgument = Annotated[
    str | None,
    typer.Argument(
        help="A request as a JSON file; a .jsonl file, or '-' for stdin, holds JSON lines"
        " (one request each). Without it, JSON lines piped to stdin.",
        show_default=False,
    ),
]

_NOTHING_GIVEN = "none given: name a JSON file, or '-' to read JSON lines from standard input"


def _source(request: str | None) -> str:
    """The request argument, where none given means standard input, unless that is a
    terminal: waiting there in silence would look like a hang, so that is refused."""
    if request is not None:
        return request
    if sys.stdin is None or sys.stdin.isatty():
        raise InputError("request", _NOTHING_GIVEN)
    return "-"


WorkersOption = Annotated[
    int,
    typer.Option(
        "--workers",
        min=1,
        max=64,
        help="Processes that decide a stream of JSON lines with --json, in input order"
        " (more use more cores).",
    ),
]


def screen(
    request: RequestArgument = None,
    scenario: ScenarioOption = None,
    as_of: AsOfOption = None,
    json_output: JsonOption = False,
    workers: WorkersOption = 1,
) -> None:
    """Decide requests: who must consent, and is it permitted, for review, or prohibited."""
    request = _source(request)
    on = parse_date(as_of)
    is_stream = request == "-" or request.endswith((".jsonl", ".ndjson"))
    if workers > 1 and not (is_stream and json_output):
        raise InputError(
            "--workers", "decides a stream of JSON lines with --json; give '-' or a .jsonl file"
        )
    screener = Screener(screening_pack(scenario))
    console = make_console()
    if is_stream:
        with ExitStack() as closing:
            fd = (
                sys.stdin.fileno()
                if request == "-"
                else closing.enter_context(open_input(Path(request))).fileno()
            )
            any_bad = stream(screener, fd, console, as_json=json_output, as_of=on, workers=workers)
        if any_bad:
            raise typer.Exit(2)
        return
    _, decision = _decide_file(screener, Path(request), on)
    if json_output:
        print_json(console, decision.as_dict())
    else:
        console.print(decision_panel(decision))


def explain_command(
    request: Annotated[Path, typer.Argument(help="A request as a JSON file.", show_default=False)],
    scenario: ScenarioOption = None,
    as_of: AsOfOption = None,
    json_output: JsonOption = False,
) -> None:
    """Explain a decision: holders and their paths, the policy text that decided, what would change it."""
    screener = Screener(screening_pack(scenario))
    parsed, decision = _decide_file(screener, request, parse_date(as_of))
    explanation = explain(screener, parsed, decision)
    console = make_console()
    if json_output:
        print_json(console, explanation.as_dict())
    else:
        console.print(explanation_view(explanation))
