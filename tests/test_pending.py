"""Rows a transaction holds back are sent many to a statement (store/pending.py), and
nothing reads around them; a decision's canonical JSON is spliced, not encoded again."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from clearance.core.chain import EventType, event_body
from clearance.core.digest import canonical_json, canonical_json_with
from clearance.errors import RequestError
from clearance.service import audit
from clearance.store.dialect import count_more
from clearance.store.models import Base, DecisionCount, User
from clearance.store.pending import Pending
from clearance.store.records import LedgerRecord
from clearance.store.repository import Store

from .worlds import G2, G5, T0, World


def _request(number: int) -> dict[str, Any]:
    return {**G2, "quantity": 1 + number, "date": f"2025-06-{1 + number:02d}"}


def _inserts(world: World) -> list[tuple[str, int]]:
    """(table, rows) of every INSERT the store's engine sends from now on."""
    sent: list[tuple[str, int]] = []

    def seen(_c: Any, _cur: Any, statement: str, params: Any, _ctx: Any, many: bool) -> None:
        words = statement.split()
        if words[0].upper() == "INSERT":
            sent.append((words[2].strip('"'), len(params) if many else 1))

    event.listen(world.store.database.engine, "before_cursor_execute", seen)
    return sent


def test_a_batch_sends_its_cases_and_events_in_one_insert_each(world: World) -> None:
    asks = [
        world.cases.prepare(_request(n), actor="ua.liaison", now=T0, idempotency_key=f"b-{n}")
        for n in range(6)
    ]
    sent = _inserts(world)
    answers = world.cases.submit_many(asks)

    assert [a[0].case.number for a in answers if not isinstance(a, BaseException)] == [*range(1, 7)]
    assert [rows for table, rows in sent if table == "cases"] == [6]
    assert [rows for table, rows in sent if table == "ledger"] == [12]
    assert audit.verify(world.store).ok


def test_a_transfer_is_judged_once_inside_the_transaction_not_before(world: World) -> None:
    verdicts = world.cases.screener.verdicts

    def asked() -> int:  # verdicts looked up, found or worked out
        return verdicts.hits + verdicts.misses

    before = asked()
    ask = world.cases.prepare(G5, actor="us.liaison", now=T0, idempotency_key="t-1")
    assert ask.decision is None  # it reads the giver's stock: decided as the stock stands
    assert asked() == before  # and nothing judged before, to be thrown away

    [answer] = world.cases.submit_many([ask])
    assert not isinstance(answer, BaseException)
    assert answer[0].case.decision.stockpile is not None  # judged with the stock
    assert asked() > before
    employ = world.cases.prepare(G2, actor="ua.liaison", now=T0)
    assert employ.decision is not None  # a use reads no stock: screened before it queues


def test_a_transfer_naming_an_unknown_system_is_refused_before_the_transaction(
    world: World,
) -> None:
    with pytest.raises(RequestError, match=r"^request field 'system': unknown system 'nope'$"):
        world.cases.prepare({**G5, "system": "nope"}, actor="us.liaison", now=T0)
    with pytest.raises(RequestError, match=r"^request field 'recipient': unknown party 'XX'"):
        world.cases.prepare({**G5, "recipient": "XX"}, actor="us.liaison", now=T0)


def test_a_transaction_reads_the_rows_it_holds_back(world: World) -> None:
    asks = [
        world.cases.prepare(_request(1), actor="ua.liaison", now=T0, idempotency_key="same"),
        world.cases.prepare(_request(1), actor="ua.liaison", now=T0, idempotency_key="same"),
    ]
    commits: list[int] = []
    event.listen(world.store.database.engine, "commit", lambda _: commits.append(1))
    first, again = world.cases.submit_many(asks)  # the retry finds the case just made

    assert commits == [1]  # in the one transaction: not refused, then each tried alone
    assert not isinstance(first, BaseException)
    assert not isinstance(again, BaseException)
    assert (first[1], again[1]) == (True, False)
    assert again[0].case.number == first[0].case.number
    assert [e.type for e in again[0].events] == [e.type for e in first[0].events]
    with world.store.reading() as tx:
        found = tx.cases.by_number(first[0].case.number)
        assert found is not None
        events: list[LedgerRecord] = tx.ledger.of_case(found.id)
    assert len(events) == len(first[0].events)


def test_a_known_member_is_spliced_as_its_canonical_text() -> None:
    decision = {"outcome": "permitted", "notes": ["é", "\u2028"], "n": 3, "z": None}
    payload = {"decision": decision, "request": {"a": 1}, "b": "x"}
    known = {"decision": canonical_json(decision).decode()}
    at = dt.datetime(2026, 1, 5, tzinfo=dt.UTC).isoformat()

    plain = event_body(
        at=at, actor="u", type=EventType.CASE_SUBMITTED, case_id="c", payload=payload
    )
    spliced = event_body(
        at=at, actor="u", type=EventType.CASE_SUBMITTED, case_id="c", payload=payload, known=known
    )

    assert spliced == plain
    # A value that holds the marker's text is encoded whole instead.
    tricky = {"within": {"decision": decision, "b": "\x00clearance-known-member\x00decision"}}
    assert canonical_json_with(tricky, "within", known) == canonical_json(tricky).decode()


def test_a_denied_submission_looks_up_no_commitment_it_cannot_hold(world: World) -> None:
    """A case denied as it is submitted has committed nothing: nothing of it is looked up
    to release (one query a denied submission used to send). Its screening still reads the
    giver's stock, which its decision states."""
    unfunded = {**G5, "funding": None}  # the same sale funded otherwise is prohibited
    ask = world.cases.prepare(unfunded, actor="us.liaison", now=T0, idempotency_key="denied")
    read: list[str] = []

    def seen(_c: Any, _cur: Any, statement: str, _p: Any, _ctx: Any, _many: bool) -> None:
        if (
            statement.lstrip().upper().startswith("SELECT")
            and "stock_movements.case_id" in statement
        ):
            read.append(statement)

    event.listen(world.store.database.engine, "before_cursor_execute", seen)
    (answer,) = world.cases.submit_many([ask])

    assert not isinstance(answer, BaseException)
    assert answer[0].case.state.value == "denied"
    assert read == []


_HELD_USER = {
    "id": "held.user",
    "name": "Held back",
    "party": "UA",
    "public_key": "not a key",
    "created_at": T0,
    "roles": "",
    "clearance": 0,
    "password_hash": None,
}
_BY_ID = select(User.id).where(User.id == "held.user")


def test_a_direct_read_sends_the_rows_held_for_the_tables_it_reads_and_no_others(
    store: Store,
) -> None:
    with store.transaction() as tx:
        tx.pending.add(Base.metadata.tables["users"], [dict(_HELD_USER)])
        # A read of other tables leaves the row held back: it is not in the database yet.
        assert tx.pending.read(_BY_ID, frozenset({"stock_totals", "cases"})).first() is None
        assert tx.pending.read(_BY_ID, frozenset({"users"})).scalar() == "held.user"


def test_a_direct_read_of_the_decision_counts_sends_the_counts_held(store: Store) -> None:
    of_month = select(DecisionCount.kind, DecisionCount.count).where(
        DecisionCount.month == "1999-01"
    )
    with store.transaction() as tx:
        tx.pending.count("1999-01", "approved", 0)
        tx.pending.count("1999-01", "approved", 0)
        assert tx.pending.read(of_month, frozenset({"users"})).all() == []
        assert tx.pending.read(of_month, frozenset({"decision_counts"})).all() == [("approved", 2)]
    with store.transaction() as tx:  # one upsert adds to the rows there and makes the rest
        for _ in range(3):
            tx.pending.count("1999-01", "approved", 0)
        tx.pending.count("1999-01", "denied", 0)
        found = tx.pending.read(
            of_month.order_by(DecisionCount.kind), frozenset({"decision_counts"})
        )
        assert found.all() == [("approved", 5), ("denied", 1)]


def test_a_direct_read_sees_what_the_session_was_given_and_had_not_yet_written(
    store: Store,
) -> None:
    is_sqlite = store.database.is_sqlite
    with Session(store.database.engine) as session:  # closed unwritten: rolled back
        pending = Pending(session, conflicts={}, count_more=count_more(is_sqlite=is_sqlite))
        session.add(User(**_HELD_USER))
        assert pending.read(_BY_ID, frozenset({"users"})).scalar() == "held.user"
