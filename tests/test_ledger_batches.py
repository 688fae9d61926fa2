"""The ledger is verified batch by batch, the next batch read while this one is hashed
(``service.read_ahead``): a change is caught wherever it falls, in the first batch, one in
the middle or the last, in one process or several, on both databases, with the same words."""

from __future__ import annotations

import threading
from collections.abc import Generator
from pathlib import Path

import pytest

from clearance.service import audit
from clearance.service.anchoring import SystemKey
from clearance.service.read_ahead import read_ahead
from clearance.store.repository import Store

from .test_ledger import _fill, _own, _sql

EVENTS = 40
BATCH = 6  # 7 batches: the last one short


@pytest.fixture(params=[1, 3], ids=["one process", "three processes"])
def workers(request: pytest.FixtureRequest) -> int:
    return int(request.param)


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of a few events, so that a 40-event ledger spans several."""
    monkeypatch.setattr(audit, "BATCH", BATCH)


@pytest.mark.usefixtures("small_batches")
def test_an_untouched_ledger_read_in_batches_verifies(
    store: Store, system_key: SystemKey, tmp_path: Path, workers: int
) -> None:
    _fill(store, EVENTS)
    report = _own(store, system_key, tmp_path, workers=workers)
    assert (report.ok, report.events, report.chain_events) == (True, EVENTS, EVENTS)


@pytest.mark.usefixtures("small_batches")
@pytest.mark.parametrize("seq", [1, 6, 7, 20, 36, 37, EVENTS], ids=lambda s: f"event {s}")
def test_an_edited_event_is_caught_in_any_batch(
    store: Store, system_key: SystemKey, tmp_path: Path, workers: int, seq: int
) -> None:
    _fill(store, EVENTS)
    _sql(
        store, "UPDATE ledger SET body = replace(body, 'denied', 'approved') WHERE seq = :s", s=seq
    )
    report = _own(store, system_key, tmp_path, workers=workers)
    assert (report.ok, report.first_bad) == (False, seq)
    assert report.problem == "its content does not match its hash"
    assert report.chain_events == seq - 1


@pytest.mark.usefixtures("small_batches")
@pytest.mark.parametrize("seq", [1, 13, EVENTS], ids=lambda s: f"event {s}")
def test_a_deleted_event_is_caught_in_any_batch(
    store: Store, system_key: SystemKey, tmp_path: Path, workers: int, seq: int
) -> None:
    _fill(store, EVENTS)
    _sql(store, "DELETE FROM ledger WHERE seq = :s", s=seq)
    report = _own(store, system_key, tmp_path, workers=workers)
    assert (report.ok, report.first_bad) == (False, seq)


def _stray(store: Store, seq: float, of: int = 1, mark: str = "x") -> None:
    """A row forged at ``seq``: a copy of event ``of``, its hash followed by ``mark``."""
    _sql(
        store,
        "INSERT INTO ledger (seq, case_id, type, prev_hash, body, hash, scheme, seal)"
        " SELECT :s, case_id, type, prev_hash, body, hash || :m, scheme, seal"
        " FROM ledger WHERE seq = :of",
        s=seq,
        of=of,
        m=mark,
    )


@pytest.mark.timeout(60)
@pytest.mark.usefixtures("small_batches")
def test_a_number_forged_far_below_the_chain_is_reached_at_once(
    store: Store, system_key: SystemKey, tmp_path: Path, workers: int
) -> None:
    """Reading from the lowest number stored, batch by batch, crosses the gap up to event 1
    in one step, however wide: a reader stepping through the numbers would never end."""
    _fill(store, EVENTS)
    _stray(store, -(2**63))
    report = _own(store, system_key, tmp_path, workers=workers)
    assert (report.ok, report.first_bad) == (False, 1)
    assert report.problem == f"event 1 is repeated or out of order (found {-(2**63)})"


@pytest.mark.timeout(60)
@pytest.mark.usefixtures("small_batches")
def test_a_number_forged_at_the_top_of_the_range_is_named_without_an_overflow(
    store: Store, system_key: SystemKey, tmp_path: Path, workers: int
) -> None:
    _fill(store, EVENTS)
    _stray(store, 2**63 - 1)
    report = _own(store, system_key, tmp_path, workers=workers)
    assert (report.ok, report.first_bad, report.chain_events) == (False, EVENTS + 1, EVENTS)
    assert report.problem.startswith(f"event {EVENTS + 1} is missing or out of order")


@pytest.mark.usefixtures("small_batches")
@pytest.mark.parametrize("seq", [6, 12, 7], ids=lambda s: f"a copy of event {s}")
def test_a_copy_of_an_event_is_named_where_a_batch_ends(
    store: Store, system_key: SystemKey, tmp_path: Path, workers: int, seq: int
) -> None:
    """With the keys dropped (any SQL is the attacker's), an exact second copy of an event is
    read even where a batch ends, and named where it stands, as one cursor named it (the
    copies alike, whichever is read first). Events 6 and 12 end a batch of one process, and
    of the first of three; event 7 starts one."""
    if store.database.is_sqlite:
        pytest.skip("SQLite's ledger is read whole by one cursor, which no batch cuts")
    _fill(store, EVENTS)
    _sql(store, "ALTER TABLE ledger DROP CONSTRAINT ledger_pkey")
    _sql(store, "ALTER TABLE ledger DROP CONSTRAINT ledger_hash_key")
    _stray(store, seq, of=seq, mark="")
    report = _own(store, system_key, tmp_path, workers=workers)
    assert (report.ok, report.first_bad) == (False, seq + 1)
    assert report.problem == f"event {seq + 1} is repeated or out of order (found {seq})"


@pytest.mark.usefixtures("small_batches")
def test_a_number_between_two_events_is_named_where_a_batch_ends(
    store: Store, system_key: SystemKey, tmp_path: Path, workers: int
) -> None:
    """With ``seq`` made a decimal column, a row numbered 6.5 is read though event 6 ends a
    batch: nothing is worked out from the last number read, such as the next whole one."""
    if store.database.is_sqlite:
        pytest.skip("SQLite's ledger is read whole by one cursor, which no batch cuts")
    _fill(store, EVENTS)
    _sql(store, "ALTER TABLE ledger ALTER COLUMN seq TYPE numeric")
    _stray(store, 6.5)
    report = _own(store, system_key, tmp_path, workers=workers)
    assert (report.ok, report.first_bad) == (False, 7)
    assert report.problem == "event 7 is repeated or out of order (found 6.5)"


@pytest.mark.usefixtures("small_batches")
def test_a_broken_chain_stops_the_reading_thread(
    store: Store, system_key: SystemKey, tmp_path: Path
) -> None:
    _fill(store, EVENTS)
    _sql(store, "UPDATE ledger SET hash = 'sha256:forged' WHERE seq = 2")
    before = threading.active_count()
    report = _own(store, system_key, tmp_path, workers=1)
    assert (report.ok, report.first_bad) == (False, 2)
    assert threading.active_count() == before


def _numbers(count: int, closed: list[bool], fail_at: int | None = None) -> Generator[int]:
    try:
        for number in range(count):
            if number == fail_at:
                raise RuntimeError(f"lost the connection at {number}")
            yield number
    finally:
        closed.append(True)


def test_read_ahead_gives_every_item_in_order_and_closes_its_source() -> None:
    closed: list[bool] = []
    assert list(read_ahead(_numbers(1_000, closed))) == list(range(1_000))
    assert closed == [True]


def test_read_ahead_raises_the_readers_error_after_the_items_before_it() -> None:
    closed: list[bool] = []
    items = read_ahead(_numbers(10, closed, fail_at=5))
    seen = [next(items) for _ in range(5)]
    with pytest.raises(RuntimeError, match="lost the connection at 5"):
        next(items)
    assert (seen, closed) == ([0, 1, 2, 3, 4], [True])


def test_read_ahead_closed_early_stops_reading_and_closes_its_source() -> None:
    closed: list[bool] = []
    before = threading.active_count()
    items = read_ahead(_numbers(10**9, closed), depth=2)
    assert [next(items) for _ in range(3)] == [0, 1, 2]
    items.close()
    assert (closed, threading.active_count()) == ([True], before)
