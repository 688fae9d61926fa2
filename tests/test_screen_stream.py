"""``clearance screen - --json`` as a pipe: the same bytes as ever, each batch as it is
decided, and memory that does not grow with the stream.

Each test runs the installed console script as a real subprocess.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .test_cli import CLI, cli_env, scenario_requests

HERE = Path(__file__).parent / "screen_stream"

_VOLATILE = (
    (re.compile(rb'"decision_id":"[0-9a-f-]{36}"'), b'"decision_id":"ID"'),
    (re.compile(rb'"evaluated_at":"[^"]*"'), b'"evaluated_at":"T"'),
    (re.compile(rb'"duration_us":\d+'), b'"duration_us":0'),
)
_REASONS = re.compile(rb'"reasons":\[([^\]]*)\]')


def _fixed(output: bytes) -> bytes:
    """``output`` with what differs from run to run written as placeholders: the decision
    ids, the time of evaluation and its duration, and the order of reasons (Cedar gives
    the policies that determined a decision as a set)."""
    for pattern, placeholder in _VOLATILE:
        output = pattern.sub(placeholder, output)
    return _REASONS.sub(
        lambda m: b'"reasons":[' + b",".join(sorted(m.group(1).split(b","))) + b"]", output
    )


WORKERS = pytest.mark.parametrize("workers", [1, 2], ids=["one process", "two workers"])
"""The stream decided in the command's process, and by two worker processes
(``cli.screen_workers``): each rule of the stream holds for both."""


def _start(workers: int = 1) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(CLI), "screen", "-", "--json", "--workers", str(workers)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(200),
    )


@WORKERS
def test_the_records_are_byte_for_byte_those_of_the_previous_format(workers: int) -> None:
    """Every golden case of the seed pack, with bad lines among them (bad JSON, not an
    object, unknown names, a blank line, bytes that are not UTF-8, a last line with no
    newline): the output is the recorded one, placeholders aside."""
    done = subprocess.run(
        [str(CLI), "screen", "-", "--json", "--workers", str(workers)],
        input=(HERE / "requests.jsonl").read_bytes(),
        capture_output=True,
        env=cli_env(200),
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr == b""
    assert _fixed(done.stdout) == (HERE / "decisions.jsonl").read_bytes()


def test_a_value_is_written_as_given_never_as_an_emoji() -> None:
    """Rich read ``:smile:`` in a quoted value as an emoji code; the records are plain."""
    line = json.dumps({**scenario_requests()["G1"], "system": "x:smile:"})
    done = subprocess.run(
        [str(CLI), "screen", "-", "--json"],
        input=line.encode() + b"\n",
        capture_output=True,
        env=cli_env(200),
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert json.loads(done.stdout)["error"] == "request field 'system': unknown system 'x:smile:'"


def _read_line(stream: int, pending: bytearray, deadline: float) -> bytes:
    """The next line of the pipe ``stream``, waiting for it until ``deadline``."""
    while b"\n" not in pending:
        left = deadline - time.monotonic()
        assert left > 0, "no record came while the stream was still open"
        readable, _, _ = select.select([stream], [], [], left)
        if readable:
            chunk = os.read(stream, 1 << 16)
            assert chunk, "the command closed its output"
            pending += chunk
    line, _, rest = bytes(pending).partition(b"\n")
    pending[:] = rest
    return line


@WORKERS
def test_each_line_is_answered_before_the_stream_ends(workers: int) -> None:
    """A producer that writes a line and waits gets its record while stdin is still open:
    the command decides what has come, and does not wait for all of it."""
    requests = scenario_requests()
    pending = bytearray()
    deadline = time.monotonic() + 120
    with _start(workers) as process:
        assert process.stdin is not None
        assert process.stdout is not None
        for number, case in enumerate(["G1", "G2", "G3"], start=1):
            process.stdin.write(json.dumps(requests[case]).encode() + b"\n")
            process.stdin.flush()
            record = json.loads(_read_line(process.stdout.fileno(), pending, deadline))
            assert record["line"] == number
            assert record["request"]["system"] == requests[case]["system"]
        process.stdin.write(b"{not json\n")
        process.stdin.flush()
        assert json.loads(_read_line(process.stdout.fileno(), pending, deadline))["line"] == 4
        process.stdin.close()
        assert process.stdout.read() == b""
        process.wait(timeout=60)
    assert process.returncode == 2


def _peak_rss_mib(lines: Iterator[bytes]) -> tuple[float, int]:
    """Peak RSS of ``clearance screen - --json`` fed ``lines`` through a pipe, and how many
    records it wrote (read as they come, so that neither side holds the stream)."""
    with _start() as process:
        stdin, stdout = process.stdin, process.stdout
        assert stdin is not None
        assert stdout is not None

        def feed() -> None:
            with stdin:
                for chunk in lines:
                    stdin.write(chunk)

        writer = threading.Thread(target=feed)
        writer.start()
        records = sum(chunk.count(b"\n") for chunk in iter(lambda: stdout.read1(1 << 16), b""))
        writer.join(timeout=120)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode in (0, 2)
    return usage.ru_maxrss / 1024, records


def test_memory_stays_flat_on_a_stream_far_larger_than_it() -> None:
    """256 MiB of lines (each a long JSON string, so each gets a short error record) take
    the command about what an empty stream does: it holds a batch at a time, never the
    input or the output."""
    line = json.dumps("x" * 1022).encode() + b"\n"  # 1 KiB
    count = 256 * 1024
    empty, _ = _peak_rss_mib(iter([]))
    peak, records = _peak_rss_mib(iter([line * 1024] * (count // 1024)))
    assert records == count
    assert peak < empty + 64, (empty, peak)


_THREE_RUNS = """
import gc, io, json, os, sys
from clearance.cli.screen_stream import read_lines, screened, write_json
from clearance.policy.engine import Screener
from clearance.policy.pack import load_pack
from clearance.service.collector import YOUNG_PASS_EVERY, for_a_long_stream
screener = Screener(load_pack())
for_a_long_stream()
set_so = gc.isenabled() and gc.get_threshold()[0] == YOUNG_PASS_EVERY and gc.get_freeze_count()
left = []
for _ in range(3):
    fd = os.open(sys.argv[1], os.O_RDONLY)
    for records in screened(screener, read_lines(fd), as_of=None):
        write_json(records, io.StringIO())
    os.close(fd)
    left.append(len(gc.get_objects()))
print(json.dumps([bool(set_so), left]))
"""


def test_the_cycles_bad_lines_leave_are_still_collected(tmp_path: Path) -> None:
    """The command's collector passes less often on a long stream, but it passes
    (``service.collector.for_a_long_stream``): a line that gets an error record leaves
    objects in reference cycles now and then (about 3,000 for 20,000 such lines, with the
    collector off), and three runs of those lines leave no more objects behind than one."""
    stream = tmp_path / "bad.jsonl"
    stream.write_bytes(b'{"action": "employ"}\n' * 20_000)
    run = [sys.executable, "-c", _THREE_RUNS, str(stream)]
    done = subprocess.run(run, check=True, capture_output=True, text=True, timeout=300)
    set_so, (first, *later) = json.loads(done.stdout)
    assert set_so
    assert max(later) < first + 300, (first, later)


def test_a_line_escaping_half_a_surrogate_pair_gets_an_error_record(tmp_path: Path) -> None:
    """``"\\ud800"`` is JSON but not Unicode text: it crashed the stream (pydantic could not
    encode it); it is now a bad line like any other, and a file holding it is refused."""
    good = json.dumps(scenario_requests()["G1"])
    lone = good.replace('"atacms"', '"atacms\\ud800"').replace('"employ"', '"employ\\udfff"')
    pair = good.replace('"atacms"', '"atacms\\ud83d\\ude00"')
    done = subprocess.run(
        [str(CLI), "screen", "-", "--json"],
        input=f"{lone}\n{pair}\n{good}\n".encode(),
        capture_output=True,
        env=cli_env(200),
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["line"] for r in records] == [1, 2, 3]
    assert records[0]["error"] == (
        "request field 'request': not Unicode text: \\udfff is half of a surrogate pair"
    )
    assert records[1]["error"] == "request field 'system': unknown system 'atacms\U0001f600'"
    assert records[2]["outcome"] == "permitted"
    path = tmp_path / "lone.json"
    path.write_text(lone, encoding="utf-8")
    refused = subprocess.run(
        [str(CLI), "screen", str(path)],
        capture_output=True,
        text=True,
        env=cli_env(200),
        timeout=120,
        check=False,
    )
    assert refused.returncode != 0
    assert (
        refused.stderr == f"error: {path}: not Unicode text: \\udfff is half of a surrogate pair\n"
    )


@WORKERS
def test_many_batches_come_back_in_input_order(workers: int, tmp_path: Path) -> None:
    """Thousands of lines in many batches (a file is read 64 KiB at a time): every line is
    answered once, numbered as it came, whichever worker decided it."""
    requests = list(scenario_requests().values())
    lines = [json.dumps(requests[n % len(requests)]) for n in range(6000)]
    lines[4321] = "{not json"
    source = tmp_path / "many.jsonl"
    source.write_text("\n".join(lines) + "\n")
    done = subprocess.run(
        [str(CLI), "screen", str(source), "--json", "--workers", str(workers)],
        capture_output=True,
        env=cli_env(200),
        timeout=300,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["line"] for r in records] == list(range(1, 6001))
    assert [r["line"] for r in records if "error" in r] == [4322]
    assert [r["request"]["system"] for r in records[:5]] == [
        json.loads(line)["system"] for line in lines[:5]
    ]


def test_workers_are_for_a_stream_of_json_lines() -> None:
    """``--workers`` decides a stream with ``--json``; asked of readable output it says so."""
    done = subprocess.run(
        [str(CLI), "screen", "-", "--workers", "2"],
        input=b"",
        capture_output=True,
        env=cli_env(200),
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == b""
    assert done.stderr.decode().strip() == (
        "error: --workers: decides a stream of JSON lines with --json; give '-' or a .jsonl file"
    )


@pytest.mark.parametrize(
    "args",
    [[], ["--json"], ["--json", "--workers", "2"]],
    ids=["readable", "json", "json on two workers"],
)
def test_records_go_to_standard_output_while_a_progress_bar_shows(
    args: list[str], tmp_path: Path
) -> None:
    """A file read with a terminal on standard error shows a progress bar there; the records
    still go to standard output (here a pipe), every one, not to the bar's terminal."""
    source = _requests_file(tmp_path / "many.jsonl", 3000)
    ours, theirs = pty.openpty()
    shown = bytearray()

    def drain() -> None:  # what reaches the terminal, read so that the command never waits
        try:
            while chunk := os.read(ours, 1 << 16):
                shown.extend(chunk)
        except OSError:  # the terminal closed once the command ended
            pass

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        done = subprocess.run(
            [str(CLI), "screen", str(source), *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=theirs,
            env=cli_env(200),
            timeout=300,
            check=False,
        )
    finally:
        os.close(theirs)
        reader.join(30)
        os.close(ours)
    assert done.returncode == 0
    assert len(done.stdout.splitlines()) == 3000
    assert b"screening" in shown  # the bar showed
    assert b"permitted" not in shown.lower()
    assert b"prohibited" not in shown.lower()


def _requests_file(path: Path, lines: int) -> Path:
    """``lines`` of the scenario's requests, one after another and again, as JSON lines."""
    requests = list(scenario_requests().values())
    path.write_text("".join(json.dumps(requests[n % len(requests)]) + "\n" for n in range(lines)))
    return path


def _long_stream(tmp_path: Path, workers: int) -> subprocess.Popen[bytes]:
    """``screen - --json --workers N`` on 60,000 lines, in a session of its own (a process
    group that a signal can be sent to as a terminal sends it)."""
    source = _requests_file(tmp_path / "long.jsonl", 60_000)
    with source.open("rb") as stdin:
        return subprocess.Popen(
            [str(CLI), "screen", "-", "--json", "--workers", str(workers)],
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=cli_env(200),
            start_new_session=True,
        )


def _read_until_it_ends(process: subprocess.Popen[bytes], seconds: float) -> bytes:
    """What the command writes until it ends, or until ``seconds`` have passed; never waits
    on a read (select says something is there)."""
    assert process.stdout is not None
    output = bytearray()
    ended = time.monotonic() + seconds
    while process.poll() is None and time.monotonic() < ended:
        if select.select([process.stdout], [], [], 0.5)[0]:
            output += process.stdout.read1(1 << 16)
    return bytes(output)


def test_ctrl_c_ends_a_stream_on_many_workers(tmp_path: Path) -> None:
    """Ctrl-C (SIGINT to the whole process group, as a terminal sends it) in the middle of a
    long stream ends the command at once: the workers leave it to the parent, which lets the
    batches handed out finish; none is left waiting for a turn that never comes. (Four
    workers on two cores: most of them are waiting for their turn at any moment.)"""
    with _long_stream(tmp_path, workers=4) as process:
        assert process.stdout is not None
        try:
            assert process.stdout.read1(1 << 16), "no record came"  # the workers are at work
            os.killpg(process.pid, signal.SIGINT)
            _read_until_it_ends(process, 30)
            assert process.poll() is not None, "the stream went on or hung after Ctrl-C"
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(30)
    assert process.returncode != 0


def test_a_worker_killed_mid_stream_ends_the_command_in_one_line(tmp_path: Path) -> None:
    """A worker killed (as the kernel kills one out of memory) stops the command with status
    1 and one line saying so, not a traceback and not a wait; what came before is in order."""
    with _long_stream(tmp_path, workers=2) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        try:
            output = process.stdout.read1(1 << 16)  # the workers are at work
            children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text()
            os.kill(int(children.split()[0]), signal.SIGKILL)
            output += _read_until_it_ends(process, 60)
            assert process.poll() is not None, "the command waits for the dead worker's batch"
            output += process.stdout.read()
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(30)
        errors = process.stderr.read().decode()
    assert process.returncode == 1
    assert errors == (
        "error: a worker process ended before its work was done (killed, or out of memory);"
        " the output ends early and may end in the middle of a record\n"
    )
    whole = output[: output.rfind(b"\n") + 1].splitlines()
    assert [json.loads(line)["line"] for line in whole] == [*range(1, len(whole) + 1)]
    assert len(whole) < 60_000
