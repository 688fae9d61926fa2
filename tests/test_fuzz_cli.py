"""Generated input to every command: never a traceback, and a refusal writes nothing.

Hypothesis builds command lines for every command of the real Typer app (the
table below gives each parameter, by name, the values to draw from: real ids
and dates, far dates, huge and malformed numbers, odd text, and files that are
nested 100,000 deep, hold a 4,400-digit number or bytes that are not UTF-8,
or are folders) and runs them in this process, through ``main`` as the
``clearance`` script does, over a real SQLite database with users, cases and
a proposal. Each run must end with status 0, 1 or 2, print no traceback, say
any error in one line, and, unless it succeeded, leave every row of every
table and every key file as it was. A few of the worst inputs also go through
the installed command in a process of its own (tests/test_bad_input.py).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest
import typer.main
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clearance.cli.app import main, whole_app
from clearance.policy.pack import default_pack_path

from .cli_support import Cli
from .test_proposals import candidate
from .worlds import G2, G5

EXAMPLES = int(os.environ.get("CLI_FUZZ_EXAMPLES", "12"))
"""Command lines per command: a few seconds for each; raise it to look harder."""

SKIPPED = {
    ("serve",): "runs a server until it is stopped (tests/test_limits.py runs one)",
    ("notify", "run"): "delivers until it is stopped (tests/test_delivery.py runs it)",
}


def _leaves(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    subcommands = getattr(command, "commands", None)
    if not subcommands:
        yield path, command
        return
    for name, sub in subcommands.items():
        yield from _leaves(sub, (*path, name))


COMMANDS = {
    path: command
    for path, command in _leaves(typer.main.get_command(whole_app()))
    if path not in SKIPPED
}


# values ------------------------------------------------------------------------------

NUMBERS = st.one_of(
    st.integers(-3, 12).map(str),
    st.integers(-(10**25), 10**25).map(str),
    st.sampled_from(["x", "²", "1e3", "", "9" * 30, "9" * 5000, "0x10"]),
)
DATES = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.sampled_from(
        [
            *("9999-12-31", "9999-12-01", "0001-01-01", "1899-12-31", "2200-01-01"),
            *("2025-02-30", "2025-W24-1", "20250615", "2025-06-15T10:00", "yesterday", ""),
        ]
    ),
)
TEXT = st.one_of(
    # No NUL: a command line cannot hold one (the system passes arguments as C strings).
    st.text(st.characters(exclude_characters="\x00"), max_size=40),
    st.sampled_from(["", " ", "x" * 20_000, "a\nb", "\x1b[31m", "[bold]x[/bold]", "../../etc"]),
)
USERS = st.one_of(
    st.sampled_from(["ua.liaison", "us.liaison", "secdef", "usdp", "admin", "clearance", "nobody"]),
    TEXT,
)
PARTIES = st.one_of(st.sampled_from(["US", "UA", "GB", "XX", "european-partners"]), TEXT)
CASES = st.one_of(
    st.sampled_from(["1", "2", "3", "99", "0", "-1", "9" * 25, "²", "00000000-0000-0000-0000"]),
    TEXT,
)
# Files and folders to read, by what is in them (made once per module, below), and files
# to write: never one of those, so that a command writing its output spoils no input.
INPUTS = [
    "good.json",
    "transfer.json",
    "far-date.json",
    "deep.json",
    "deep-object.json",
    "huge-number.json",
    "long-number.json",
    "nan.json",
    "not-utf8.json",
    "not-json.json",
    "list.json",
    "empty.json",
    "lines.jsonl",
    "bad-lines.jsonl",
    "case.json",
    "users.json",
    "key.pem",
    "a-folder",
    "a-folder.jsonl",
    "missing.json",
]
FOLDERS = ["pack", "bundle", "broken-bundle", "empty-folder", "good.json", "missing-folder"]
OUTPUTS = ["out/report", "out/report.csv", "a-folder", "missing-folder/report", "out"]


def _in(work: Path, names: list[str]) -> st.SearchStrategy[str]:
    return st.sampled_from([str(work / name) for name in names])


def values(name: str, work: Path) -> st.SearchStrategy[str]:
    """What to give the parameter called ``name`` (every parameter of every command has a row)."""
    table: dict[str, st.SearchStrategy[str]] = {
        **dict.fromkeys(
            [
                "workers",
                "sample",
                "seed",
                "number",
                "limit",
                "page",
                "quantity",
                "transfer",
                "days",
            ],
            NUMBERS,
        ),
        "months": NUMBERS,
        "batch": NUMBERS,
        **dict.fromkeys(["as_of", "from_date", "to_date", "valid_from", "valid_to"], DATES),
        **dict.fromkeys(
            ["request", "case_file", "keys", "export_file", "key_file", "file"], _in(work, INPUTS)
        ),
        **dict.fromkeys(
            ["scenario", "bundle", "old", "new", "folder", "directory"], _in(work, FOLDERS)
        ),
        **dict.fromkeys(["csv_file", "html_file", "out"], _in(work, OUTPUTS)),
        **dict.fromkeys(["actor", "by", "user", "delegate_to", "reader", "as_user"], USERS),
        **dict.fromkeys(["public_key", "system_key"], st.one_of(_in(work, INPUTS), TEXT)),
        "checkpoint": _in(work, INPUTS),
        "holder": st.one_of(USERS, PARTIES),
        "party": PARTIES,
        "case": CASES,
        "system": st.one_of(st.sampled_from(["atacms", "eram", "storm-shadow", "nosuch"]), TEXT),
        "authority": st.one_of(st.sampled_from(["us.secdef", "us.usdp", "us.potus"]), TEXT),
        "role": st.one_of(st.sampled_from(["requester", "reviewer", "admin", "emperor"]), TEXT),
        **dict.fromkeys(
            ["clearance", "classification"],
            st.one_of(st.sampled_from(["SECRET", "TOP SECRET", "COSMIC"]), TEXT),
        ),
        "state": st.one_of(st.sampled_from(["in_review", "approved", "nope"]), TEXT),
        "kind": st.one_of(
            st.sampled_from(["waiting", "decided", "policy_activated", "soon"]), TEXT
        ),
        "email": st.one_of(st.sampled_from(["secdef@example.gov", "a@b@c", "a\nb@c"]), TEXT),
        # Only addresses refused before any connection, or to a closed port on loopback:
        # nothing generated here may reach past this machine.
        "webhook": st.sampled_from(
            [
                "http://127.0.0.1:9/hook",
                "http://hooks.example.org/in",
                "https://user:pw@hooks.example.org/in",
                "https://hooks.example.org/in#x",
                "ftp://hooks.example.org/in",
                "http://[::1",
                "",
                "https://" + "x" * 3000,
            ]
        ),
        "office": st.one_of(st.sampled_from(["us.secdef", "us.nobody"]), TEXT),
        "rating": st.one_of(st.sampled_from(["red", "green", "blue"]), TEXT),
        **dict.fromkeys(
            [
                "name",
                "reason",
                "condition",
                "evidence",
                "question",
                "answer",
                "idempotency_key",
                "passphrase",
                "new_password",
                "token_id",
                "subscription",
                "delivery",
                "question",
                "answer",
            ],
            TEXT,
        ),
    }
    return table[name]


@st.composite
def command_lines(draw: st.DrawFn, path: tuple[str, ...], work: Path) -> list[str]:
    """A command line for ``path``: its required parameters always, the others now and then."""
    command = COMMANDS[path]
    arguments: list[str] = []
    options: list[str] = []
    for param in command.params:
        if param.name == "help" or not (param.required or draw(st.booleans())):
            continue
        if param.param_type_name == "argument":
            arguments.append(draw(values(param.name, work)))
        elif getattr(param, "is_flag", False):
            options.append(param.opts[0])
        else:
            for _ in range(draw(st.integers(1, 2)) if param.multiple else 1):
                options += [param.opts[0], draw(values(param.name, work))]
    return [*path, *arguments, *options]


# the world ---------------------------------------------------------------------------


def _inputs(work: Path) -> None:
    """The files and folders the command lines name."""

    def write(name: str, content: str | bytes) -> None:
        path = work / name
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)

    write("good.json", json.dumps(G2))
    write("transfer.json", json.dumps(G5))
    write("far-date.json", json.dumps({**G5, "date": "9999-12-01"}))
    write("deep.json", "[" * 100_000 + "]" * 100_000)
    write("deep-object.json", '{"target": ' * 100_000 + "1" + "}" * 100_000)
    write("huge-number.json", json.dumps(G2).replace('"quantity": 2', '"quantity": ' + "9" * 4400))
    write("long-number.json", json.dumps(G2).replace('"quantity": 2', '"quantity": ' + "9" * 20))
    write("nan.json", json.dumps(G2).replace('"quantity": 2', '"quantity": NaN'))
    write("not-utf8.json", b'{"action": "employ", "system": "\xff\xfe"}')
    write("not-json.json", '{"action": "employ",\n "system": atacms}')
    write("list.json", json.dumps([G2]))
    write("empty.json", "")
    write("lines.jsonl", "\n".join(json.dumps(r) for r in (G2, G5)) + "\n")
    write(
        "bad-lines.jsonl",
        b"\n".join(
            [
                json.dumps(G2).encode(),
                b"[" * 100_000,
                json.dumps(G2).replace('"quantity": 2', '"quantity": ' + "9" * 4400).encode(),
                b"\xff\xfe",
                json.dumps({**G2, "date": "9999-12-31"}).encode(),
                b"NaN",
            ]
        ),
    )
    write("case.json", json.dumps({"id": "x", "approvals": [{"actor": ["not", "text"]}]}))
    write("users.json", json.dumps([{"id": 5, "public_key": 7}]))
    write("key.pem", "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    (work / "a-folder").mkdir()
    (work / "a-folder.jsonl").mkdir()
    shutil.copytree(default_pack_path(), work / "pack")
    for folder, texts in [
        ("bundle", candidate("2099-01-01")),
        ("broken-bundle", {**candidate("2099-01-01"), "bundle.yaml": "effective_from: [1]\n"}),
    ]:
        (work / folder).mkdir()
        for name, text in texts.items():
            (work / folder / name).write_text(text, encoding="utf-8")
    (work / "empty-folder").mkdir()
    (work / "out").mkdir()


@contextlib.contextmanager
def _stdin(file: IO[str]) -> Iterator[None]:
    saved, sys.stdin = sys.stdin, file
    try:
        yield
    finally:
        sys.stdin = saved


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str


@dataclass
class World:
    cli: Cli
    work: Path

    def run(self, argv: list[str]) -> Outcome:
        """Run one command line, with a stream of good and bad lines on its standard input."""
        out, err = io.StringIO(), io.StringIO()
        code: int | str | None = 0
        with (
            (self.work / "bad-lines.jsonl").open(encoding="utf-8") as stdin,
            _stdin(stdin),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
        ):
            try:
                main(argv)
            except SystemExit as exit_:
                code = exit_.code
        assert isinstance(code, int | None), code
        return Outcome(code or 0, out.getvalue(), err.getvalue())


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Users with keys and offices, cases in review and approved, and a proposal, on SQLite."""
    root = tmp_path_factory.mktemp("fuzz")
    work = root / "inputs"
    work.mkdir()
    _inputs(work)
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("CLEARANCE_NEW_PASSWORD", "a password long enough")
        cli = Cli(root, f"sqlite:///{root / 'clearance.db'}", monkeypatch)
        cli("init")
        cli("users", "add", "ua.liaison", "--name", "Liaison", "--party", "UA")
        cli("users", "add", "us.liaison", "--name", "Officer", "--party", "US")
        cli("users", "add", "secdef", "--name", "Secretary", "--party", "US")
        cli("users", "add", "usdp", "--name", "Under Secretary", "--party", "US")
        cli("users", "grant", "secdef", "us.secdef", "--from", "2025-01-25")
        cli("cases", "submit", str(work / "good.json"), "--as", "ua.liaison")
        cli("cases", "submit", str(work / "transfer.json"), "--as", "us.liaison")
        cli("cases", "submit", str(work / "good.json"), "--as", "ua.liaison")
        cli("cases", "approve", "3", "--as", "secdef", "--reason", "yes")
        cli("policy", "propose", str(work / "bundle"), "--as", "us.liaison")
        yield World(cli, work)


def test_every_command_and_parameter_has_values_to_draw(world: World) -> None:
    for path, command in COMMANDS.items():
        for param in command.params:
            if param.name != "help" and not getattr(param, "is_flag", False):
                assert values(param.name, world.work) is not None, (path, param.name)


@pytest.mark.slow
@pytest.mark.parametrize("path", sorted(COMMANDS), ids=" ".join)
def test_generated_command_lines_never_show_a_traceback_and_refusals_write_nothing(
    world: World, path: tuple[str, ...]
) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(argv=command_lines(path, world.work))
    def run(argv: list[str]) -> None:
        before = world.cli.snapshot()
        done = world.run(argv)
        assert "Traceback" not in done.stdout + done.stderr, (argv, done.stderr[-2000:])
        assert done.code in (0, 1, 2), (argv, done)
        if done.code == 2 and done.stderr:
            lines = done.stderr.splitlines()
            assert len(lines) == 1, (argv, done.stderr[:2000])
            assert lines[0].startswith("error: "), (argv, lines[0][:500])
        if done.code != 0:
            assert world.cli.snapshot() == before, (argv, done.stderr[:500])

    run()
