"""Group commit: submissions that arrive together share one transaction and one commit.

A durable commit waits for the disk (SQLite syncs its write-ahead log,
PostgreSQL its WAL), and that wait, not the work, bounds how many commits
a second one writer can make. So a thread that submits while another
thread's transaction is being written does not open a transaction of its
own: it queues, and when that commit is done the first thread still queued
leads the next transaction with everything queued by then. One submitter
alone waits for nothing more than before (its transaction starts at once);
many at the same time share commits, each still acknowledged only after the
commit that holds it.

Within one process only: other processes queue on the database's own
writers' lock as before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

__all__ = ["GroupCommit"]

Ask = TypeVar("Ask")
Answer = TypeVar("Answer")


@dataclass(slots=True)
class _Slot(Generic[Ask, Answer]):
    """One submission waiting for the commit that holds it, or for its turn to lead."""

    ask: Ask
    woken: threading.Event = field(default_factory=threading.Event)
    done: bool = False
    answer: Answer | None = None
    error: BaseException | None = None


class GroupCommit(Generic[Ask, Answer]):
    """Runs ``write`` on batches of the asks queued at the same time.

    ``write`` takes a batch and returns, in order, an answer or the error of each ask
    (one transaction for the batch; it never answers before its commit). ``most``
    bounds a batch, so that one transaction does not hold the writers' lock for long.

    Each waiting thread is woken once, by its own event: when its answer is there, or
    when it is the first still queued and the transaction before has committed. Waking
    every waiter at each commit to look for itself cost more than the commit's work
    once many threads submit.
    """

    def __init__(
        self,
        write: Callable[[Sequence[Ask]], Sequence[Answer | BaseException]],
        *,
        most: int = 256,
    ) -> None:
        self._write = write
        self._most = most
        self._lock = threading.Lock()
        self._queued: list[_Slot[Ask, Answer]] = []
        self._leading = False

    def run(self, ask: Ask) -> Answer:
        """``ask``'s answer once the transaction that holds it has committed (or its error)."""
        slot: _Slot[Ask, Answer] = _Slot(ask)
        with self._lock:
            self._queued.append(slot)
            lead = not self._leading
            self._leading = True
        if not lead:
            slot.woken.wait()  # its answer, or its turn: it is first in the queue
        if not slot.done:
            with self._lock:
                batch = self._queued[: self._most]
                del self._queued[: self._most]
            self._lead(batch)
        if slot.error is not None:
            raise slot.error
        return slot.answer  # type: ignore[return-value]

    def _lead(self, batch: list[_Slot[Ask, Answer]]) -> None:
        """Write one batch, hand every ask its answer and the lead to the first still queued;
        any failure is every ask's."""
        try:
            found: Sequence[Answer | BaseException] = self._write([s.ask for s in batch])
        except BaseException as exc:  # handed to each waiting thread, raised there
            found = [exc] * len(batch)
        for slot, answer in zip(batch, found, strict=True):
            if isinstance(answer, BaseException):
                slot.error = answer
            else:
                slot.answer = answer
            slot.done = True
            slot.woken.set()
        with self._lock:
            if self._queued:
                self._queued[0].woken.set()
            else:
                self._leading = False
