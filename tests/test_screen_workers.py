"""``cli.screen_workers``: a stream decided by worker processes, each writing its batch in its
turn, holds a bounded number of batches, and a failure is not lost.

In process, with real workers forked from this one, the seed pack's real screener and a
real pipe for the output; the command itself, with ``--workers``, is run in
tests/test_screen_stream.py.
"""

from __future__ import annotations

import errno
import fcntl
import json
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import pytest

from clearance.cli.screen_workers import stream_json
from clearance.core.decision import Decision
from clearance.core.request import AnyRequest
from clearance.policy.engine import Screener
from clearance.policy.pack import load_pack

from .worlds import G1

LINE = json.dumps(G1).encode()
_SET_PIPE_SIZE = 1031  # F_SETPIPE_SZ (Linux)


@pytest.fixture(scope="module")
def screener() -> Screener:
    return Screener(load_pack())


def _full_pipe() -> tuple[int, int, int]:
    """A pipe as small as Linux makes one, already full: the next write waits until the
    reader reads, as when the command's reader stops reading. Returns both ends and how
    many bytes of filling come before what is written next."""
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, _SET_PIPE_SIZE, 4096)
    os.set_blocking(write_end, False)
    filled = 0
    try:
        while True:
            filled += os.write(write_end, b"#" * 4096)
    except BlockingIOError:
        pass
    os.set_blocking(write_end, True)
    return read_end, write_end, filled


def _read_all(fd: int, into: bytearray) -> None:
    while chunk := os.read(fd, 1 << 16):
        into += chunk


def test_the_reader_stops_taking_batches_while_answers_wait_to_be_written(
    screener: Screener,
) -> None:
    """At most two batches per worker are handed out and unwritten: with the output held,
    the stream is read no further than that (plus the one being written and the one
    waiting to be handed out), so memory does not grow with the stream. Once the output
    is read, every record comes out, in order."""
    taken: list[int] = []

    def batches() -> Iterator[list[bytes]]:
        for number in range(40):
            taken.append(number)
            yield [LINE]

    read_end, write_end, filled = _full_pipe()
    done: list[bool] = []
    runner = threading.Thread(
        target=lambda: done.append(
            stream_json(screener, batches(), write_end, as_of=None, workers=2)
        )
    )
    runner.start()
    output = bytearray()
    reader = threading.Thread(target=_read_all, args=(read_end, output))
    try:
        deadline = time.monotonic() + 60
        while len(taken) < 2 * 2 + 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1)  # time to take more, if it would
        held = len(taken)
    finally:  # the output is read whatever was found, so that no worker is left waiting
        reader.start()
        runner.join(120)
        os.close(write_end)
        reader.join(60)
        os.close(read_end)
    assert held == 2 * 2 + 2
    assert done == [False]
    records = bytes(output[filled:]).splitlines()
    assert [json.loads(line)["line"] for line in records] == [*range(1, 41)]


def test_a_failure_to_write_is_raised_and_the_stream_stops(screener: Screener) -> None:
    """A failed write (the reader closed the pipe) is the caller's, raised once the batches
    handed out are done, and no more of the stream is read."""
    taken: list[int] = []

    def batches() -> Iterator[list[bytes]]:
        for number in range(1000):
            taken.append(number)
            yield [LINE]

    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        with pytest.raises(BrokenPipeError) as raised:
            stream_json(screener, batches(), write_end, as_of=None, workers=2)
    finally:
        os.close(write_end)
    assert raised.value.errno == errno.EPIPE
    assert len(taken) < 1000


class _BreaksOnThirteen(Screener):
    """The real screener, but the line that asks for 13 systems breaks the worker deciding
    it: as a bug would (an exception; not a bad line, which gets its error record), or, with
    ``killed``, as the kernel kills a process out of memory."""

    def __init__(self, *, killed: bool) -> None:
        super().__init__(load_pack())
        self.killed = killed

    def decide_many(self, requests: Sequence[AnyRequest], **options: Any) -> list[Decision]:
        if any(getattr(request, "quantity", None) == 13 for request in requests):
            if self.killed:
                os.kill(os.getpid(), signal.SIGKILL)
            raise RuntimeError("a bug in deciding")
        return super().decide_many(requests, **options)


def _broken_stream(killed: bool) -> tuple[list[BaseException], list[int]]:
    """Twelve batches of two lines, the sixth breaking its worker: what the stream raised
    (once it ended, within two minutes) and the line numbers of the records written."""
    breaking = json.dumps({**G1, "quantity": 13}).encode()
    batches = ([breaking if number == 5 else LINE, LINE] for number in range(12))
    read_end, write_end = os.pipe()
    output = bytearray()
    reader = threading.Thread(target=_read_all, args=(read_end, output))
    reader.start()
    raised: list[BaseException] = []

    def run() -> None:
        try:
            stream_json(_BreaksOnThirteen(killed=killed), batches, write_end, as_of=None, workers=2)
        except BaseException as exc:
            raised.append(exc)

    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    runner.join(120)
    if runner.is_alive():  # killed, so that a hang fails the test instead of waiting
        for worker in multiprocessing.active_children():
            worker.kill()
        pytest.fail("the stream waits for a batch no worker will write")
    os.close(write_end)
    reader.join(60)
    os.close(read_end)
    return raised, [json.loads(line)["line"] for line in output.splitlines()]


def test_a_batch_that_fails_passes_its_turn_and_nothing_after_it_is_written() -> None:
    """The failing batch's error is raised in the parent; the batches before it are written
    whole and in order, none after it is, and no worker is left waiting for its turn."""
    raised, lines = _broken_stream(killed=False)
    assert [str(exc) for exc in raised] == ["a bug in deciding"]
    assert lines == [*range(1, 11)]


def test_a_worker_that_dies_ends_the_stream_with_an_error_not_a_wait() -> None:
    """The batch of a dead worker is never written, so nothing after it can be: the stream
    stops with the pool's error instead of waiting for ever, and what was written is the
    stream's beginning, in order."""
    raised, lines = _broken_stream(killed=True)
    assert [type(exc) for exc in raised] == [BrokenProcessPool]
    assert lines == [*range(1, len(lines) + 1)]
    assert len(lines) <= 10


class _MindsCtrlC(Screener):
    """The real screener, which refuses to decide in a process that would take Ctrl-C."""

    def decide_many(self, requests: Sequence[AnyRequest], **options: Any) -> list[Decision]:
        if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
            raise RuntimeError("this worker would take Ctrl-C")
        return super().decide_many(requests, **options)


def test_the_workers_leave_ctrl_c_to_the_parent() -> None:
    """Interrupted while it waited for its turn, a worker would never pass the turn on and
    the stream would wait for ever (the command's own test, tests/test_screen_stream.py,
    catches that only when a worker happens to be waiting); so no worker takes Ctrl-C."""
    out = os.open(os.devnull, os.O_WRONLY)
    try:
        batches = ([LINE, LINE] for _ in range(8))
        assert not stream_json(_MindsCtrlC(load_pack()), batches, out, as_of=None, workers=2)
    finally:
        os.close(out)
    assert signal.getsignal(signal.SIGINT) is not signal.SIG_IGN  # the parent still takes it
