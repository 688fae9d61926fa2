"""``screen - --json --workers N``: a stream decided by N processes, answered in order.

One process streams about 10,000 decisions a second, and what it adds to
deciding (reading each line, writing each record) costs about as much as the
deciding itself (docs/benchmarks.md, ``bench/stream.py``). With more cores,
N worker processes take whole batches each: they read the lines, decide them
and write the records' JSON text. They are forked once the pack is loaded,
so they start at once and share its pages and its parsed Cedar policies.

The parent only reads and writes. It hands each batch out as it is read; a
writer thread writes the answers back in input order as each is ready,
flushing each, so a slow producer still gets every answer at once. At most
two batches per worker are handed out and not yet written, so memory stays
bounded however long the stream. The records are those one process writes,
but for their decision ids and times.

Forking needs a platform that has it; elsewhere the stream is decided in
this process, as with one worker.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import queue
import threading
from collections.abc import Callable, Iterable
from multiprocessing.pool import AsyncResult
from typing import TextIO

from clearance.errors import ClearanceError
from clearance.policy.engine import Screener

from .screen_stream import json_text, screened

__all__ = ["can_fork", "stream_json"]

_screener: Screener | None = None
"""The parent's screener, set before the workers are forked: each inherits it."""

Answer = tuple[str, bool]
"""A batch's records as JSON text, and whether any line of it was bad."""


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def _decide(start: int, batch: list[bytes], as_of: dt.date | None) -> Answer:
    """In a worker: one batch, its lines numbered from ``start + 1``."""
    assert _screener is not None, "workers are forked after the screener is set"
    (records,) = screened(_screener, [batch], as_of=as_of, start=start)
    return json_text(records), any(isinstance(item, ClearanceError) for _, item in records)


def stream_json(
    screener: Screener,
    batches: Iterable[list[bytes]],
    out: TextIO,
    *,
    as_of: dt.date | None,
    workers: int,
    read: Callable[[], None] = lambda: None,
) -> bool:
    """Decide ``batches`` in ``workers`` processes and write their records to ``out`` in input
    order; returns True if any line was bad. ``read`` is called after each batch is handed
    out (the progress bar). A worker's failure, or the writer's, is raised here once the
    batches handed out are done."""
    global _screener
    _screener = screener
    handed: queue.Queue[AsyncResult[Answer] | None] = queue.Queue(maxsize=2 * workers)
    bad = False
    failures: list[BaseException] = []

    def write() -> None:
        nonlocal bad
        while (pending := handed.get()) is not None:
            if failures:
                continue  # keep taking what is handed out, so the reader never waits forever
            try:
                text, any_bad = pending.get()
                out.write(text)
                out.flush()
            except BaseException as exc:  # re-raised in the caller's thread
                failures.append(exc)
            else:
                bad |= any_bad

    context = multiprocessing.get_context("fork")
    with context.Pool(workers) as pool:
        writer = threading.Thread(target=write, name="screen-writer", daemon=True)
        writer.start()
        try:
            number = 0
            for batch in batches:
                if failures:
                    break
                handed.put(pool.apply_async(_decide, (number, batch, as_of)))
                number += len(batch)
                read()
        finally:
            handed.put(None)
            writer.join()
    if failures:
        raise failures[0]
    return bad
