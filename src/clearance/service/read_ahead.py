"""Reading the next batch of a long read while the caller works on this one.

Verification reads every event and hashes it. Read a batch, then hash it, and
the database (and the socket between) waits while Python hashes, and Python
waits while the database reads. ``read_ahead`` runs the read in a thread of
its own, ahead of the caller: the drivers let other threads run while they
wait on the server or the disk (psycopg and sqlite3 both release Python's
lock for their I/O), so reading and hashing overlap. At most ``depth``
batches wait, so memory stays bounded however long the read.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator
from contextlib import suppress
from typing import TypeVar

__all__ = ["read_ahead"]

T = TypeVar("T")


class _End:
    """What the reading thread leaves last: the error it met, if any."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


def _read(source: Generator[T], into: queue.Queue[T | _End], stop: threading.Event) -> None:
    """Put ``source``'s items into ``into`` until it ends or ``stop`` is set; then close it
    (here: a generator is closed in the thread that runs it, so its cursor is too)."""
    end = _End()
    try:
        for item in source:
            while not stop.is_set():
                try:
                    into.put(item, timeout=0.05)
                    break
                except queue.Full:
                    continue
            if stop.is_set():
                break
    except BaseException as error:  # handed to the caller, who raises it
        end = _End(error)
    finally:
        source.close()
    into.put(end)


def read_ahead(source: Generator[T], depth: int = 2) -> Generator[T]:
    """``source``'s items, read by a thread of their own up to ``depth`` items ahead.

    An error in the reading is raised here. Closing this generator early (a
    caller that has seen enough) stops the thread and closes ``source``."""
    into: queue.Queue[T | _End] = queue.Queue(depth)
    stop = threading.Event()
    reader = threading.Thread(target=_read, args=(source, into, stop), daemon=True)
    reader.start()
    try:
        while not isinstance(item := into.get(), _End):
            yield item
        if item.error is not None:
            raise item.error
    finally:
        stop.set()
        while reader.is_alive():  # let it see ``stop`` even if it waits on a full queue
            with suppress(queue.Empty):
                into.get(timeout=0.05)
        reader.join()
