"""The README's tour is true: every example is run, in order, and its output compared.

Each ```sh block of the tour (from "A short tour" to "The seed scenario") runs in
bash, in README order, in one scratch folder with one data folder, so that a later
example sees the files, users and cases of the earlier ones, as a reader's would.
The ```text block that follows it (with no other block between) is its output,
compared with what the commands printed, standard error included, at 100 columns
with no colour, as the README says; a block shown with no output must succeed,
command by command. The comparison honours the README's own
convention, stated where the tour begins:

- a line that is only ``…`` matches any run of lines, and a ``…`` inside a line
  matches any text: output trimmed, or a value that differs on every run;
- decision ids, timestamps and the dates from the day of the run on differ on every
  run, and are not compared (the README names the day its output was printed).

Everything else is compared: the digests of bundles and catalog, the counts, the
bars, the wording. The web server example runs too: ``clearance serve`` is started
in the background with ``--port`` added (a free port instead of 8000, which
another program may hold), and the address is read back as 8000 in what it prints
and in the example that calls it. The tour runs in the repository's folder, as
the README says, so the scratch folder holds a link to ``src`` for the recipe that
copies the seed pack's bundle in force.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .parallel_support import serving_port

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
TOUR = ("## A short tour", "## The seed scenario")
README_PORT = "8000"

_FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
_TIME = re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[+-]\d{2}:\d{2}|Z)?")
_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
_PRINTED_ON = re.compile(r"shown\s+as\s+printed\s+at\s+100\s+columns\s+on\s+(\d{4}-\d{2}-\d{2})")


@dataclass(frozen=True)
class Example:
    """Commands of one ```sh block, and the output the README shows for them, if any."""

    line: int
    commands: str
    output: str | None


def tour_examples(text: str) -> list[Example]:
    start, end = (text.index(heading) for heading in TOUR)
    blocks = [m for m in _FENCE.finditer(text) if start <= m.start() < end]
    examples = []
    for block, after in zip(blocks, [*blocks[1:], None], strict=True):
        if block[1] != "sh":
            continue
        output = after[2] if after is not None and after[1] == "text" else None
        line = text.count("\n", 0, block.start()) + 1
        examples.append(Example(line, block[2], output))
    return examples


def _normalised(text: str, day: dt.date) -> str:
    """Ids, times and the dates from ``day`` on as tokens; trailing blanks gone."""
    text = _UUID.sub("<id>", text)
    text = _TIME.sub("<time>", text)
    text = _DATE.sub(lambda m: "<date>" if m[0] >= day.isoformat() else m[0], text)
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def _pattern(expected: str) -> re.Pattern[str]:
    parts = []
    for line in expected.splitlines():
        if line.strip() == "…":
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            parts.append("[^\n]*".join(map(re.escape, line.split("…"))) + r"\n")
    return re.compile("".join(parts))


def shows(expected: str, printed: str, *, readme_day: dt.date, run_day: dt.date) -> bool:
    """Whether ``printed`` is what the README shows as ``expected``, by its convention."""
    pattern = _pattern(_normalised(expected, readme_day) + "\n")
    return pattern.fullmatch(_normalised(printed, run_day) + "\n") is not None


@pytest.mark.parametrize(
    ("expected", "printed", "same"),
    [
        ("a\n…\nd", "a\nb\nc\nd", True),
        ("a\n…\nd", "a\nd", True),
        ("a\n…\nd", "a\nb\nc", False),
        ("total: 1… pass", "total: 107 of 107 pass", True),
        ("total: 1… pass", "total: 7 pass", False),
        ("53 pass", "61 pass", False),
        ("bundles US: sha256:d8ebbaf424bc", "bundles US: sha256:d8ebbaf424bd", False),
        (
            "id 4793ee05-cbba-40a8-aa34-e97a8c528e75",
            "id 1d0db6c2-96cf-46b3-90fb-7adaafb7c928",
            True,
        ),
        ("at 2026-11-26T01:30:34.120858+00:00", "at 2027-01-02T11:00:00.5+00:00", True),
        ("board, 2026-11-26", "board, 2026-12-24", True),
        ("for 2025-06-15", "for 2025-06-16", False),
    ],
)
def test_the_convention_compares_what_it_should(expected: str, printed: str, same: bool) -> None:
    days = {"readme_day": dt.date(2026, 11, 26), "run_day": dt.date(2026, 12, 2)}
    assert shows(expected, printed, **days) is same


@pytest.fixture
def shell(tmp_path: Path) -> Iterator[Shell]:
    # mktemp -d makes the tour's data folder here: a path as short as a reader's
    # /tmp/tmp.XXXXXXXXXX, so that printed paths fit on a line as the README shows.
    with (
        tempfile.TemporaryDirectory(prefix="readme-") as temp,
        Shell(tmp_path, Path(temp)) as running,
    ):
        yield running


class Shell:
    """Runs the README's blocks in bash, one after another, as one reader at one prompt.

    Each block is its own bash, so that one block's output is told from the next's;
    what it exports is carried to the next, as ``export`` at a prompt would be. The
    ``clearance`` it calls is the one under test, and no variable of the environment
    the tests run in reaches it but the paths to find Python.
    """

    def __init__(self, root: Path, temp: Path) -> None:
        self.work = root / "work"
        bin_dir = root / "bin"
        for folder in (self.work, bin_dir):
            folder.mkdir()
        # The tour runs in the checkout, where the seed pack is src/clearance/scenarios/seed.
        (self.work / "src").symlink_to(ROOT / "src", target_is_directory=True)
        shim = bin_dir / "clearance"
        shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m clearance "$@"\n')
        shim.chmod(0o755)
        self.state = root / "exported.sh"
        self.state.write_text("")
        self.env = {
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "HOME": str(root),
            "TMPDIR": str(temp),
            "LANG": "C.UTF-8",
            "COLUMNS": "100",
            "TERM": "dumb",
            "NO_COLOR": "1",
            "CLEARANCE_DATA_DIR": str(root / "data"),
        }
        if "PYTHONPATH" in os.environ:
            self.env["PYTHONPATH"] = os.environ["PYTHONPATH"]
        self.port: int | None = None  # the port the README's server bound, once started
        self.servers: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> Shell:
        return self

    def __exit__(self, *_: object) -> None:
        # The server is bash's child: ending bash alone would leave it serving. Each was
        # started as the leader of a process group of its own, which is ended whole.
        for server in self.servers:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
            deadline = time.monotonic() + 30
            with contextlib.suppress(ProcessLookupError):
                while time.monotonic() < deadline:
                    os.killpg(server.pid, 0)  # raises once no process of the group is left
                    time.sleep(0.1)

    def _script(self, commands: str) -> str:
        if self.port is not None:
            commands = commands.replace(f"127.0.0.1:{README_PORT}", f"127.0.0.1:{self.port}")
        return f"source {self.state}\ntrap 'export -p > {self.state}' EXIT\n{commands}"

    def run(self, commands: str, *, strict: bool = False) -> tuple[int, str]:
        """Run one block; ``strict``: stop at its first failing command, as ``set -e``."""
        script = self._script(("set -eo pipefail\n" if strict else "") + commands)
        done = subprocess.run(
            ["bash", "-c", script],
            cwd=self.work,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=120,
            check=False,
        )
        return done.returncode, self._as_shown(done.stdout)

    def start_server(self, commands: str) -> str:
        """Start a ``clearance serve`` block; return what it printed once it answers."""
        log = self.work.parent / "server.log"
        with log.open("w") as output:
            server = subprocess.Popen(
                ["bash", "-c", self._script(f"{commands.rstrip()} --port 0")],
                cwd=self.work,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.servers.append(server)
        self.port = serving_port(server, log)
        printed = log.read_text()  # what it printed up to "serving on", not the requests it logs
        return self._as_shown(printed[: printed.index("\n", printed.index("serving on")) + 1])

    def _as_shown(self, printed: str) -> str:
        if self.port is None:
            return printed
        return printed.replace(f"127.0.0.1:{self.port}", f"127.0.0.1:{README_PORT}")


@pytest.mark.slow
def test_every_example_of_the_tour_prints_what_the_readme_shows(shell: Shell) -> None:
    text = README.read_text(encoding="utf-8")
    printed_on = _PRINTED_ON.search(text)
    assert printed_on is not None, "the README no longer says on which day its output was printed"
    readme_day = dt.date.fromisoformat(printed_on[1])
    run_day = dt.datetime.now(dt.UTC).date()
    examples = tour_examples(text)
    assert len(examples) > 20, "the tour's examples were not found"
    drifted = []
    for example in examples:
        if "clearance serve" in example.commands:
            printed = shell.start_server(example.commands)
        else:
            status, printed = shell.run(example.commands, strict=example.output is None)
            assert example.output is not None or status == 0, (
                f"README.md line {example.line} failed:\n{printed}"
            )
        expected = example.output
        if expected is None:
            continue
        if not shows(expected, printed, readme_day=readme_day, run_day=run_day):
            diff = difflib.unified_diff(
                expected.splitlines(), printed.splitlines(), "README", "printed", lineterm=""
            )
            drifted.append(f"README.md line {example.line}:\n" + "\n".join(diff))
    assert not drifted, "\n\n".join(drifted)
