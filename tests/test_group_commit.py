"""Submissions made at the same time share a transaction and its one commit, each answered
only after that commit, and the ledger stays one chain (service/group_commit.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import event

from clearance.errors import ConflictError
from clearance.service import audit
from clearance.store.protocol import Transaction
from clearance.store.records import LedgerRecord

from .worlds import G2, T0, World

THREADS = 12


def _request(number: int) -> dict[str, Any]:
    return {**G2, "quantity": 1 + number, "date": f"2025-06-{1 + number:02d}"}


def test_submissions_at_the_same_time_share_commits_and_keep_one_chain(world: World) -> None:
    commits: list[int] = []
    event.listen(world.store.database.engine, "commit", lambda _: commits.append(1))
    entered, release = threading.Event(), threading.Event()
    seen: list[int] = []

    def hold_the_first(tx: Transaction, events: Sequence[LedgerRecord]) -> None:
        """Keeps the first transaction open until every other submission has queued."""
        seen.append(len(events))
        if len(seen) == 1:
            entered.set()
            release.wait(30)

    world.store.reactors.append(hold_the_first)
    answers: dict[int, Any] = {}

    def submit(number: int, request: dict[str, Any], key: str | None) -> None:
        try:
            answers[number] = world.cases.submit(
                request, actor="ua.liaison", now=T0, idempotency_key=key
            )
        except ConflictError as exc:
            answers[number] = exc

    asks = [(n, _request(n), f"k-{n}") for n in range(THREADS)]
    asks.append((THREADS, _request(3), "k-3"))  # a retry of ask 3, at the same time
    asks.append((THREADS + 1, _request(4), "k-2"))  # ask 2's key, for another request
    first = threading.Thread(target=submit, args=asks[0])
    first.start()
    assert entered.wait(30)
    rest = [threading.Thread(target=submit, args=a) for a in asks[1:]]
    for thread in rest:
        thread.start()
    time.sleep(3)  # every other thread has screened its request and queued
    release.set()
    for thread in [first, *rest]:
        thread.join(60)

    assert len(commits) == 2  # the first alone, then every other in one
    assert seen[1] == 2 * (THREADS - 1)  # one transaction's events, told to the reactor once
    # Threads queue in no set order: of two asks with one key, whichever came first made
    # the case. The retry (same request) is answered with it; the other request is refused.
    retry, original = answers[THREADS], answers[3]
    assert {retry[1], original[1]} == {True, False}
    assert retry[0].id == original[0].id
    two_of_k2 = [answers[2], answers[THREADS + 1]]
    refused = [a for a in two_of_k2 if isinstance(a, ConflictError)]
    assert len(refused) == 1
    assert "this idempotency key was used for another request" in str(refused[0])
    made = [a for a in answers.values() if not isinstance(a, ConflictError) and a[1]]
    assert len(made) == THREADS
    assert sorted(case.number for case, _ in made) == list(range(1, THREADS + 1))

    with world.store.reading() as tx:
        events = tx.ledger.page(max_level=None, limit=1000)
    assert sorted(e.seq for e in events) == list(range(1, len(events) + 1))
    assert audit.verify(world.store).ok


def test_a_batch_that_fails_is_tried_again_one_by_one(world: World) -> None:
    """A failure of the batch's transaction (here: a reactor that fails once) is not every
    ask's: each is written again alone, and only its own failure is its own."""
    failed: list[int] = []

    def fail_once(tx: Transaction, events: Sequence[LedgerRecord]) -> None:
        if not failed:
            failed.append(len(events))
            raise RuntimeError("a reactor failed")

    world.store.reactors.append(fail_once)
    submission = world.cases.prepare
    asks = [submission(_request(n), actor="ua.liaison", now=T0) for n in range(3)]
    answers = world.cases.submit_many(asks)
    assert failed == [6]
    assert [a[0].case.number for a in answers if not isinstance(a, BaseException)] == [1, 2, 3]
    assert audit.verify(world.store).ok


def test_one_batch_at_a_time_each_ask_its_own_answer_none_left_waiting() -> None:
    """Many threads asking at once: batches never overlap nor pass ``most``, every ask is
    answered with its own answer (or its own error), and every thread returns."""
    from clearance.service.group_commit import GroupCommit

    writing = threading.Lock()
    sizes: list[int] = []

    def write(asks: Sequence[int]) -> list[int | BaseException]:
        assert writing.acquire(blocking=False), "two batches written at once"
        try:
            sizes.append(len(asks))
            time.sleep(0.001)
            return [ValueError(a) if a % 7 == 0 else a * 10 for a in asks]
        finally:
            writing.release()

    group: GroupCommit[int, int] = GroupCommit(write, most=4)
    found: dict[int, object] = {}

    def ask_many(first: int) -> None:
        for number in range(first, first + 20):
            try:
                found[number] = group.run(number)
            except ValueError as exc:
                found[number] = exc.args[0]

    threads = [threading.Thread(target=ask_many, args=(20 * k,), daemon=True) for k in range(16)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    assert not any(thread.is_alive() for thread in threads)
    assert found == {n: n if n % 7 == 0 else n * 10 for n in range(320)}
    assert sum(sizes) == 320
    assert max(sizes) <= 4
    assert max(sizes) > 1  # asks made at the same time did share batches


class _Interrupted(BaseException):
    """What a signal handler raises in the thread it interrupts (as Ctrl-C does)."""


def test_a_waiter_interrupted_in_the_queue_leaves_no_one_waiting() -> None:
    """The main thread waits behind a slow leader and is interrupted by a signal: when the
    leader's commit is done, the lead it would have been handed goes to the next ask."""
    import os
    import signal

    from clearance.service.group_commit import GroupCommit

    release = threading.Event()

    def write(asks: Sequence[int]) -> list[int | BaseException]:
        if 1 in asks:
            release.wait(30)
        return [a * 10 for a in asks]

    group: GroupCommit[int, int] = GroupCommit(write, most=1)
    leader = threading.Thread(target=group.run, args=(1,), daemon=True)
    leader.start()
    time.sleep(0.1)  # the leader is writing its batch

    def interrupt(signum: int, frame: object) -> None:
        raise _Interrupted

    before = signal.signal(signal.SIGUSR1, interrupt)
    try:
        threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGUSR1)).start()
        with pytest.raises(_Interrupted):
            group.run(2)  # queued behind the leader when the signal comes
    finally:
        signal.signal(signal.SIGUSR1, before)
    found: dict[int, int] = {}

    def later(number: int) -> None:
        found[number] = group.run(number)

    others = [threading.Thread(target=later, args=(n,), daemon=True) for n in (3, 4)]
    for thread in others:
        thread.start()
    time.sleep(0.1)
    release.set()
    for thread in [leader, *others]:
        thread.join(30)
    assert found == {3: 30, 4: 40}


def test_a_write_that_answers_the_wrong_number_of_asks_fails_each_and_goes_on() -> None:
    from clearance.service.group_commit import GroupCommit

    def write(asks: Sequence[int]) -> list[int | BaseException]:
        return [a * 10 for a in asks if a != 2]

    group: GroupCommit[int, int] = GroupCommit(write)
    with pytest.raises(RuntimeError, match="0 answers to a batch of 1"):
        group.run(2)
    assert group.run(3) == 30
    with pytest.raises(ValueError, match="at least one ask"):
        GroupCommit(write, most=0)
