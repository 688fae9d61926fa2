"""``screen - --json --workers N``: a stream decided by N processes, answered in order.

One process streams about 16,000 decisions a second, and what it adds to
deciding (reading each line, writing each record, starting up) costs almost
as much as the deciding itself (docs/benchmarks.md, ``bench/stream.py``). With more cores,
N worker processes take whole batches each: they decide the lines and write
the records straight to the output, each batch in its turn. They are forked
once the pack is loaded, so they start at once and share its pages and its
parsed Cedar policies.

The parent only reads: it hands each batch out as it is read, numbered.
A worker that has decided batch ``k`` waits until batch ``k - 1`` is
written, writes its own and passes the turn on, so the records come out in
input order, each batch flushed as soon as it and those before it are
decided, and a slow producer still gets every answer at once. The records
never pass through the parent, which would read and write again 1.5 KiB a
record (docs/benchmarks.md). At most two batches per worker, and one more,
are handed out and not yet written, so memory stays bounded however long the
stream. The records are those one process writes, but for
their decision ids and times.

A batch that fails (a bug, or a reader that closed the pipe) still takes its
turn, writes nothing and stops every later batch from writing: its error is
raised in the parent, once the batches handed out are done. A worker that
dies (killed, out of memory) breaks the pool, which stops the others, and
the parent raises that when it next hands a batch out or the stream ends,
rather than wait for ever for the dead worker's batch; the command says so
in one line (``cli/app.py``).

Forking needs a platform that has it, and the output a file descriptor;
otherwise the stream is decided in this process, as with one worker.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import io
import multiprocessing
import os
import queue
import signal
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing.synchronize import Condition
from typing import TextIO

from clearance.errors import ClearanceError
from clearance.policy.engine import Screener

from .screen_stream import json_bytes, screened

__all__ = ["can_fork", "output_fd", "stream_json"]


@dataclass(frozen=True, slots=True)
class _Shared:
    """What the parent sets before the workers are forked; each inherits it."""

    screener: Screener
    out: int
    """The output's file descriptor, which every worker writes to in its turn."""
    turn: ctypes.c_longlong
    """The number of the next batch to be written."""
    failed: ctypes.c_bool
    """Set by a batch that failed: no later batch writes."""
    changed: Condition
    """Held while a worker writes or passes the turn on; notified when it has."""


_shared: _Shared | None = None


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def output_fd(out: TextIO) -> int | None:
    """``out``'s file descriptor, or None when it has none (a stream in memory)."""
    try:
        return out.fileno()
    except (AttributeError, ValueError, io.UnsupportedOperation):
        return None


def _start_worker() -> None:
    """Leave Ctrl-C to the parent. Interrupted while it waited for its turn, a worker would
    never pass the turn on, and the workers after it would wait for ever; the parent, once
    interrupted, lets the batches handed out finish, which takes a moment."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _write_in_turn(shared: _Shared, number: int, data: bytes | None) -> None:
    """Wait for batch ``number``'s turn, write ``data`` (None: the batch failed) unless an
    earlier batch failed, and pass the turn on, whatever happens."""
    with shared.changed:
        shared.changed.wait_for(lambda: shared.turn.value == number)
        try:
            if data is None:
                shared.failed.value = True
            elif not shared.failed.value:
                _write_all(shared.out, data)
        except BaseException:
            shared.failed.value = True
            raise
        finally:
            shared.turn.value = number + 1
            shared.changed.notify_all()


def _decide(number: int, start: int, batch: list[bytes], as_of: dt.date | None) -> bool:
    """In a worker: batch ``number``, its lines numbered from ``start + 1``, decided and
    written in its turn; returns whether any line of it was bad."""
    assert _shared is not None, "workers are forked after the shared state is set"
    data = None
    try:
        (records,) = screened(_shared.screener, [batch], as_of=as_of, start=start)
        data = json_bytes(records)
        return any(isinstance(item, ClearanceError) for _, item in records)
    finally:
        _write_in_turn(_shared, number, data)


def stream_json(
    screener: Screener,
    batches: Iterable[list[bytes]],
    out: int,
    *,
    as_of: dt.date | None,
    workers: int,
    read: Callable[[], None] = lambda: None,
) -> bool:
    """Decide ``batches`` in ``workers`` processes, which write their records to the file
    descriptor ``out`` in input order; returns True if any line was bad. ``read`` is called
    after each batch is handed out (the progress bar). A worker's failure is raised here
    once the batches handed out are done."""
    global _shared
    context = multiprocessing.get_context("fork")
    _shared = _Shared(
        screener,
        out,
        context.RawValue(ctypes.c_longlong, 0),
        context.RawValue(ctypes.c_bool, False),
        context.Condition(),
    )
    handed: queue.Queue[Future[bool] | None] = queue.Queue(maxsize=2 * workers)
    bad = False
    failures: list[BaseException] = []

    def wait() -> None:
        """Take each batch's answer in order, so that no more than ``handed`` holds are out."""
        nonlocal bad
        while (pending := handed.get()) is not None:
            try:
                bad |= pending.result()
            except BaseException as exc:  # re-raised in the caller's thread
                failures.append(exc)

    waiter = threading.Thread(target=wait, name="screen-waiter", daemon=True)
    try:
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker) as pool:
            try:
                start = 0
                for number, batch in enumerate(batches):
                    if failures:
                        break
                    handed.put(pool.submit(_decide, number, start, batch, as_of))
                    if number == 0:  # the first submission forked the workers: never fork
                        waiter.start()  # with a thread running
                    start += len(batch)
                    read()
            finally:
                handed.put(None)
                if waiter.ident is not None:
                    waiter.join()
    finally:
        _shared = None
    if failures:
        raise failures[0]
    return bad
