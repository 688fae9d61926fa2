"""The ledger's hash chain catches every kind of tampering, in the database and in an export."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from clearance.core.chain import GENESIS, EventType, event_body, link_hash, verify_chain
from clearance.service import audit
from clearance.store.repository import Store

T0 = dt.datetime(2025, 6, 15, tzinfo=dt.UTC)


def _fill(store: Store, count: int = 10) -> None:
    with store.transaction() as tx:
        for index in range(count):
            tx.append(
                type=EventType.CASE_STATE_CHANGED,
                actor=f"user{index % 3}",
                at=T0 + dt.timedelta(minutes=index),
                case_id=f"case-{index % 4}" if index % 5 else None,
                payload={
                    "from": "in_review",
                    "to": "denied",
                    "index": index,
                    "note": "Zaporizhzhia — «ё» 🛰",
                },
            )


@pytest.fixture(params=[1, 3], ids=["one process", "three processes"])
def workers(request: pytest.FixtureRequest) -> int:
    """Verification alone, and cut into runs checked in parallel and stitched together."""
    return int(request.param)


def _sql(store: Store, statement: str, **params: object) -> None:
    with store.database.engine.begin() as connection:
        connection.execute(text(statement), params)


def test_an_untouched_ledger_verifies(store: Store, workers: int) -> None:
    _fill(store)
    report = audit.verify(store, workers=workers)
    assert report.ok
    assert report.events == 10


def test_an_edited_event_is_named(store: Store, workers: int) -> None:
    _fill(store)
    _sql(store, "UPDATE ledger SET body = replace(body, 'denied', 'approved') WHERE seq = 4")
    report = audit.verify(store, workers=workers)
    assert (report.ok, report.first_bad) == (False, 4)


def test_an_edited_case_column_is_named(store: Store, workers: int) -> None:
    _fill(store)
    _sql(store, "UPDATE ledger SET case_id = 'case-9' WHERE seq = 6")
    assert audit.verify(store, workers=workers).first_bad == 6


@pytest.mark.parametrize("seq", [1, 3, 4, 5, 7])  # with three processes: edges and middles of runs
def test_a_deleted_event_is_named(store: Store, workers: int, seq: int) -> None:
    _fill(store)
    _sql(store, "DELETE FROM ledger WHERE seq = :seq", seq=seq)
    report = audit.verify(store, workers=workers)
    assert (report.first_bad, report.events) == (seq, seq - 1)


def test_an_inserted_event_is_named(store: Store, workers: int) -> None:
    _fill(store)
    # Make room after event 3 and slip a plausible event in (hashes cannot be recomputed
    # for everything after it without rewriting the whole tail).
    _sql(store, "UPDATE ledger SET seq = seq + 100 WHERE seq > 3")
    _sql(store, "UPDATE ledger SET seq = seq - 99 WHERE seq > 100")
    with store.database.engine.begin() as connection:
        head = connection.execute(text("SELECT hash FROM ledger WHERE seq = 3")).scalar_one()
        body = event_body(
            at=T0.isoformat(),
            actor="intruder",
            type=EventType.APPROVAL_GIVEN,
            case_id="case-1",
            payload={},
        )
        connection.execute(
            text(
                "INSERT INTO ledger (seq, case_id, type, prev_hash, body, hash) VALUES (4, 'case-1', 'approval_given', :p, :b, :h)"
            ),
            {"p": head, "b": body, "h": link_hash(4, "case-1", head, body)},
        )
    report = audit.verify(store, workers=workers)
    assert report.first_bad == 5


def test_reordered_events_are_named(store: Store, workers: int) -> None:
    _fill(store)
    _sql(store, "UPDATE ledger SET seq = 1000 WHERE seq = 7")
    _sql(store, "UPDATE ledger SET seq = 7 WHERE seq = 8")
    _sql(store, "UPDATE ledger SET seq = 8 WHERE seq = 1000")
    assert audit.verify(store, workers=workers).first_bad == 7


def test_an_export_verifies_on_its_own_and_catches_edits(store: Store) -> None:
    _fill(store)
    out = io.StringIO()
    report, written = audit.export(store, out)
    assert (report.ok, written) == (True, 10)
    lines = out.getvalue().splitlines()
    assert len(lines) == 10
    assert audit.verify_export(lines, "export.jsonl").ok
    edited = json.loads(lines[2])
    edited["body"] = edited["body"].replace("user2", "user0")
    lines[2] = json.dumps(edited)
    assert audit.verify_export(lines, "export.jsonl").first_bad == 3


def test_a_broken_ledger_is_still_exported_whole(store: Store) -> None:
    _fill(store)
    _sql(store, "UPDATE ledger SET body = replace(body, 'denied', 'approved') WHERE seq = 4")
    out = io.StringIO()
    report, written = audit.export(store, out)
    assert (report.first_bad, report.events, written) == (4, 3, 10)
    assert audit.verify_export(out.getvalue().splitlines(), "export.jsonl").first_bad == 4


@settings(max_examples=50, deadline=None)
@given(
    payloads=st.lists(
        st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=8), max_size=3),
        min_size=1,
        max_size=12,
    ),
    victim=st.integers(min_value=0),
    data=st.data(),
)
def test_any_single_change_to_a_chain_is_caught_at_that_event(
    payloads: list[dict[str, object]], victim: int, data: st.DataObject
) -> None:
    links = []
    prev = GENESIS
    for seq, payload in enumerate(payloads, start=1):
        body = event_body(
            at="2025-01-01T00:00:00+00:00",
            actor="a",
            type=EventType.CONDITION_MET,
            case_id=None,
            payload=payload,
        )
        digest = link_hash(seq, None, prev, body)
        links.append((seq, None, prev, body, digest))
        prev = digest
    assert verify_chain(links).ok
    index = victim % len(links)
    seq, case_id, prev_hash, body, digest = links[index]
    tampered = list(links)
    kind = data.draw(st.sampled_from(["body", "case", "drop"]))
    if kind == "body":
        tampered[index] = (seq, case_id, prev_hash, body + " ", digest)
    elif kind == "case":
        tampered[index] = (seq, "other", prev_hash, body, digest)
    else:
        del tampered[index]
        if index == len(links) - 1:
            # A shorter chain is whole; only the head differs, which is what an auditor compares.
            report = verify_chain(tampered)
            assert report.ok
            assert report.head != links[-1][4]
            return
    assert verify_chain(tampered).first_bad == seq
