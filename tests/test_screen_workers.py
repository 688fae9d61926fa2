"""``cli.screen_workers``: a stream decided by worker processes holds a bounded number of
batches, and a failure is not lost.

In process, with real workers forked from this one and the seed pack's real screener; the
command itself, with ``--workers``, is run in tests/test_screen_stream.py.
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator

import pytest

from clearance.cli.screen_workers import stream_json
from clearance.policy.engine import Screener
from clearance.policy.pack import load_pack

from .worlds import G1

LINE = json.dumps(G1).encode()


@pytest.fixture(scope="module")
def screener() -> Screener:
    return Screener(load_pack())


class _Held(io.StringIO):
    """An output whose writes wait until ``opened`` is set: a reader that does not read."""

    def __init__(self) -> None:
        super().__init__()
        self.opened = threading.Event()

    def write(self, text: str) -> int:
        assert self.opened.wait(60)
        return super().write(text)


def test_the_reader_stops_taking_batches_while_answers_wait_to_be_written(
    screener: Screener,
) -> None:
    """At most two batches per worker are handed out and unwritten: with the output held,
    the stream is read no further than that (plus the one being written and the one
    waiting to be handed out), so memory does not grow with the stream."""
    taken: list[int] = []

    def batches() -> Iterator[list[bytes]]:
        for number in range(40):
            taken.append(number)
            yield [LINE]

    out = _Held()
    done: list[bool] = []
    runner = threading.Thread(
        target=lambda: done.append(stream_json(screener, batches(), out, as_of=None, workers=2))
    )
    runner.start()
    time.sleep(2)
    assert len(taken) == 2 * 2 + 2
    out.opened.set()
    runner.join(120)
    assert done == [False]
    assert [json.loads(line)["line"] for line in out.getvalue().splitlines()] == [*range(1, 41)]


class _Broken(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError("the reader went away")


def test_a_failure_to_write_is_raised_and_the_stream_stops(screener: Screener) -> None:
    """A failed write (the reader closed the pipe) is the caller's, raised once the batches
    handed out are done, and no more of the stream is read."""
    taken: list[int] = []

    def batches() -> Iterator[list[bytes]]:
        for number in range(1000):
            taken.append(number)
            yield [LINE]

    with pytest.raises(BrokenPipeError, match="the reader went away"):
        stream_json(screener, batches(), _Broken(), as_of=None, workers=2)
    assert len(taken) < 1000
