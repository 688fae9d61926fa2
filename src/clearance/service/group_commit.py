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


@dataclass(slots=True, eq=False)
class _Slot(Generic[Ask, Answer]):
    """One submission waiting for the commit that holds it, or for its turn to lead
    (compared by identity: two asks alike are still two slots)."""

    ask: Ask
    woken: threading.Event = field(default_factory=threading.Event)
    done: bool = False
    answer: Answer | None = None
    error: BaseException | None = None

    def settle(self, answer: Answer | BaseException) -> None:
        if isinstance(answer, BaseException):
            self.error = answer
        else:
            self.answer = answer
        self.done = True
        self.woken.set()


class GroupCommit(Generic[Ask, Answer]):
    """Runs ``write`` on batches of the asks queued at the same time.

    ``write`` takes a batch and returns, in order, an answer or the error of each ask
    (one transaction for the batch; it never answers before its commit). ``most``
    bounds a batch, so that one transaction does not hold the writers' lock for long.

    Each waiting thread is woken once, by its own event: when its answer is there, or
    when it is first in the queue and the transaction before has committed. Waking
    every waiter at each commit to look for itself cost more than the commit's work
    once many threads submit. Whatever stops a thread (an interrupt while it waits, or
    while it leads) leaves no one else waiting: its place or its lead is passed on.
    """

    def __init__(
        self,
        write: Callable[[Sequence[Ask]], Sequence[Answer | BaseException]],
        *,
        most: int = 256,
    ) -> None:
        if most < 1:
            raise ValueError("a batch holds at least one ask")
        self._write = write
        self._most = most
        self._lock = threading.Lock()
        self._queued: list[_Slot[Ask, Answer]] = []
        self._leader: _Slot[Ask, Answer] | None = None
        """The slot whose thread leads the next batch or writes this one; None: no one."""

    def run(self, ask: Ask) -> Answer:
        """``ask``'s answer once the transaction that holds it has committed (or its error)."""
        slot: _Slot[Ask, Answer] = _Slot(ask)
        with self._lock:
            self._queued.append(slot)
            if self._leader is None:
                self._leader = slot
            lead = self._leader is slot
        try:
            if not lead:
                slot.woken.wait()  # its answer, or its turn: it is first in the queue
            if not slot.done:
                self._lead()
        except BaseException:
            self._leave(slot)
            raise
        if slot.error is not None:
            raise slot.error
        return slot.answer  # type: ignore[return-value]

    def _leave(self, slot: _Slot[Ask, Answer]) -> None:
        """A thread stopped before its ask was taken: out of the queue, and the lead passed
        on if it held it."""
        with self._lock:
            if slot in self._queued:
                self._queued.remove(slot)
            if self._leader is slot:
                self._hand_on()

    def _hand_on(self) -> None:
        """The lead to the first still queued, or to whoever comes next (under the lock)."""
        self._leader = self._queued[0] if self._queued else None
        if self._leader is not None:
            self._leader.woken.set()

    def _lead(self) -> None:
        """Take a batch from the head of the queue (the leader's own ask first), write it,
        hand every ask its answer and the lead to the first still queued; any failure is
        every ask's, and an ask left unanswered by an interrupt gets an error."""
        batch: list[_Slot[Ask, Answer]] = []
        try:
            with self._lock:
                batch = self._queued[: self._most]
                del self._queued[: self._most]
            try:
                found: Sequence[Answer | BaseException] = self._write([s.ask for s in batch])
                if len(found) != len(batch):
                    raise RuntimeError(f"{len(found)} answers to a batch of {len(batch)}")
            except BaseException as exc:  # handed to each waiting thread, raised there
                found = [exc] * len(batch)
            for slot, answer in zip(batch, found, strict=True):
                slot.settle(answer)
        finally:
            for slot in batch:  # made only when needed, one each: a thread raises its own
                if not slot.done:
                    slot.settle(RuntimeError("the submission's transaction was interrupted"))
            with self._lock:
                self._hand_on()
