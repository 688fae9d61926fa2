"""The rules of submitting cases (``service.submission``, through ``service.cases``): what a
submission writes and answers, and what an idempotency key promises, stated over one small
world with the exact words of each refusal.

Every test submits its own cases (with keys of its own), so they share one world, built once
for the file: the people of ``tests.worlds`` and a UA deputy cleared SECRET, a second
requester of the party, whose keys must never reach the liaison's cases.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from sqlalchemy import event

from clearance.core.access import Level, Role
from clearance.core.actors import ADMIN, SYSTEM
from clearance.core.events import ABSENT, CaseStateChanged, CaseSubmitted, StockMoved
from clearance.core.request import parse_request
from clearance.errors import (
    ClearanceError,
    ConflictError,
    InputError,
    NotFoundError,
    OutcomeUnknown,
    PermissionDenied,
    RequestError,
)
from clearance.policy.engine import Screener
from clearance.policy.history import BundleHistory
from clearance.service.accounts import Accounts
from clearance.service.cases import CaseService
from clearance.service.submission import Ask
from clearance.store.protocol import Transaction
from clearance.store.records import ConditionRecord, LedgerRecord

from .small_worlds import keys, own_service, screener, small_world, system_key
from .worlds import ATACMS, G2, G3, G5, T0, World

DEPUTY = "ua.deputy"
LOWERED = "ua.lowered"
"""A requester cleared SECRET, lowered to UNCLASSIFIED by one test."""
ERAM = {**G5, "quantity": 5}
"""The US sale of five ERAM: approved at once, on the condition that European partners pay."""
FUNDING = "European partners fund the purchase"
DAY = T0 + dt.timedelta(days=1)
KEY_USED = "this idempotency key was used for another request; use a new key"
DUE = dt.datetime(2025, 7, 16, tzinfo=dt.UTC)
"""When the Secretary's gate on a Ukrainian use of ATACMS submitted at T0 is due."""


@pytest.fixture(scope="module")
def people(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with small_world(tmp_path_factory.mktemp("submission")) as world:
        world.people.add_user(
            user_id=DEPUTY,
            name=DEPUTY,
            party="UA",
            public_key=keys()["ua.liaison"][0],
            actor=ADMIN,
            now=T0,
            clearance=Level.SECRET,
        )
        world.people.add_user(
            user_id=LOWERED,
            name=LOWERED,
            party="UA",
            public_key=keys()["ua.liaison"][0],
            actor=ADMIN,
            now=T0,
            clearance=Level.SECRET,
        )
        yield world


@pytest.fixture
def small(people: World) -> World:
    return own_service(people)


def use(request: dict[str, Any], number: int) -> dict[str, Any]:
    """A Ukrainian use of ATACMS in review, made distinct by its quantity."""
    return {**request, "quantity": number}


def ledger_of(world: World, case_id: str) -> tuple[LedgerRecord, ...]:
    with world.store.reading() as tx:
        return tuple(tx.ledger.of_case(case_id))


def case_count(world: World) -> int:
    _, total = world.cases.page(actor=ADMIN, states=None, limit=1, offset=0)
    return total


def case_keyed(world: World, key: str) -> str | None:
    """The id of the case that holds ``key``, if one does."""
    with world.store.reading() as tx:
        found = tx.cases.by_key(key)
    return None if found is None else found.id


class Reactor:
    """A reactor that fails (raises what ``fails`` gives) on the transactions it names,
    counting from 1, and records how many events each transaction it saw appended."""

    def __init__(self, fails: dict[int, Callable[[], BaseException]]) -> None:
        self.fails = fails
        self.seen: list[int] = []

    def __call__(self, tx: Transaction, events: Sequence[LedgerRecord]) -> None:
        self.seen.append(len(events))
        if (failure := self.fails.get(len(self.seen))) is not None:
            raise failure()


def reacting(world: World, reactor: Reactor, asks: list[Ask]) -> list[Any]:
    """``submit_many`` with ``reactor`` told of each transaction."""
    world.store.reactors.append(reactor)
    try:
        return world.cases.submit_many(asks)
    finally:
        world.store.reactors.remove(reactor)


def commits_of(world: World, run: Callable[[], Any]) -> tuple[Any, int]:
    """What ``run`` returns and how many transactions it committed."""
    commits: list[int] = []

    def count(_: object) -> None:
        commits.append(1)

    engine = world.store.database.engine
    event.listen(engine, "commit", count)
    try:
        return run(), len(commits)
    finally:
        event.remove(engine, "commit", count)


def failure() -> BaseException:
    return RuntimeError("a reactor failed")


def unknown() -> BaseException:
    return OutcomeUnknown("whether this was recorded is unknown")


# What a submission writes and answers ---------------------------------------------


def test_a_submission_is_answered_with_the_case_as_its_submitter_reads_it(small: World) -> None:
    """The answer is made of what was written: the same view the submitter reads back."""
    view, created = small.cases.submit_and_show(
        use(G2, 3), actor="ua.liaison", now=T0, idempotency_key="answer-1"
    )
    assert created
    assert view == small.cases.view(view.case.id, actor="ua.liaison")
    assert view.reader is not None
    assert view.reader.id == "ua.liaison"
    assert view.system_key == system_key().public_key
    assert [c.office for c in view.clocks] == ["us.secdef"]


def test_a_case_in_review_is_recorded_whole(small: World) -> None:
    """A Ukrainian use of ATACMS: in review, due when its gate is, version 1, no expiry."""
    before = case_count(small)
    view, _ = small.cases.submit_and_show(
        use(G2, 4), actor="ua.liaison", now=T0, idempotency_key="whole-1"
    )
    case = view.case
    decision = small.cases.screener.decide(case.request, decision_id=case.id, now=T0)
    assert (case.number, case.state, case.outcome) == (before + 1, "in_review", "review_required")
    assert (case.submitted_by, case.idempotency_key, case.version) == ("ua.liaison", "whole-1", 1)
    assert (case.created_at, case.state_since, case.due_at, case.expires_at) == (T0, T0, DUE, None)
    assert (case.sla_days, case.classification) == (14, 0)
    assert case.request == parse_request(use(G2, 4))
    assert case.request_digest == decision.request_digest
    assert case.decision.decision_id == case.id
    assert (view.approvals, view.conditions, view.public_keys) == ((), (), {})


def test_a_submission_appends_its_submission_and_its_screening(small: World) -> None:
    """Two events: the submission by its submitter, then the screening's move by the system."""
    case, _ = small.cases.submit(
        use(G2, 5), actor="ua.liaison", now=T0, idempotency_key="events-1", classification=0
    )
    submitted, screened = (e.event for e in ledger_of(small, case.id))
    assert (submitted.actor, submitted.at, submitted.case_id) == ("ua.liaison", T0, case.id)
    assert isinstance(submitted.payload, CaseSubmitted)
    assert submitted.payload == CaseSubmitted(
        case.request.as_dict(),
        case.request_digest,
        submitted.payload.decision,
        classification="UNCLASSIFIED",
        number=case.number,
        decision_digest=case.decision.digest,
        sla_days=14,
        idempotency_key="events-1",
    )
    assert submitted.payload.decision["outcome"] == "review_required"
    assert submitted.payload.decision["request_digest"] == case.request_digest
    assert (screened.actor, screened.at, screened.case_id) == (SYSTEM, T0, case.id)
    assert screened.payload == CaseStateChanged(
        "submitted", "in_review", "screened: review required", due_at=DUE, expires_at=ABSENT
    )


def test_a_case_without_a_key_records_none(small: World) -> None:
    """A submission without a key is a new case each time, its key recorded as None."""
    first, created_first = small.cases.submit(use(G2, 6), actor="ua.liaison", now=T0)
    again, created_again = small.cases.submit(use(G2, 6), actor="ua.liaison", now=T0)
    assert created_first
    assert created_again
    assert again.number == first.number + 1
    assert (first.idempotency_key, again.idempotency_key) == (None, None)
    submitted = ledger_of(small, again.id)[0].event.payload
    assert isinstance(submitted, CaseSubmitted)
    assert submitted.idempotency_key is None


def test_an_approval_on_a_condition_records_it_its_expiry_and_the_stock_it_moves(
    small: World,
) -> None:
    """The ERAM sale: approved with its condition, expiring in two years, its stock committed."""
    view, _ = small.cases.submit_and_show(
        ERAM, actor="us.liaison", now=T0, idempotency_key="eram-1"
    )
    case = view.case
    expiry = dt.datetime(2027, 6, 16, tzinfo=dt.UTC)
    assert (case.state, case.outcome, case.due_at, case.expires_at) == (
        "approved_with_conditions",
        "permitted",
        None,
        expiry,
    )
    assert view.conditions == (ConditionRecord(case.id, FUNDING, None, None, None),)
    assert view == small.cases.view(case.id, actor="us.liaison")
    assert view.clocks == ()
    events = [e.event for e in ledger_of(small, case.id)]
    assert [e.payload.TYPE.value for e in events] == [
        "case_submitted",
        "case_state_changed",
        "stock_moved",
    ]
    assert events[1].payload == CaseStateChanged(
        "submitted",
        "approved_with_conditions",
        "screened: permitted",
        due_at=ABSENT,
        expires_at=expiry,
    )
    moved = events[2]
    assert (moved.actor, moved.at, moved.case_id) == (SYSTEM, T0, case.id)
    assert isinstance(moved.payload, StockMoved)
    assert [
        (m.holder, m.system, m.kind.value, m.quantity, m.day) for m in moved.payload.movements
    ] == [("US", "eram", "commit", 5, T0.date())]


def test_a_transfer_from_tracked_stock_is_screened_on_the_stock_as_written_before_it(
    small: World,
) -> None:
    """A transfer reads the giver's stock, so it is screened in the transaction: the second
    of two in one batch sees the ATACMS the first committed."""
    asks = [
        small.cases.prepare({**ATACMS, "quantity": q}, actor="us.liaison", now=T0)
        for q in (100, 200)
    ]
    assert [a.decision for a in asks] == [None, None]
    answers = small.cases.submit_many(asks)
    stock = [a[0].case.decision.as_dict()["stockpile"] for a in answers]
    assert [(s["quantity"], s["available"], s["available_after"]) for s in stock] == [
        (100, stock[0]["available"], stock[0]["available"] - 100),
        (200, stock[0]["available"] - 100, stock[0]["available"] - 300),
    ]
    assert [s["committed"] - stock[0]["committed"] for s in stock] == [0, 100]
    assert [a[1] for a in answers] == [True, True]
    assert [a[0].case.id for a in answers] == [a.case_id for a in asks]
    assert [a[0].case.decision.decision_id for a in answers] == [a.case_id for a in asks]


def test_a_transfer_is_screened_on_the_stock_of_its_own_date(small: World) -> None:
    """A transfer dated 1 September is judged on the stock of that day: ATACMS committed on
    1 October, by a case submitted then, are not yet gone."""
    on = dt.date(2025, 9, 1)
    before = small.cases.stock.balance("US", "atacms", on)
    assert before is not None
    october = dt.datetime(2025, 10, 1, 9, tzinfo=dt.UTC)
    later, _ = small.cases.submit(
        {**ATACMS, "quantity": 50, "date": "2025-11-01"}, actor="us.liaison", now=october
    )
    assert later.state == "approved"
    case, _ = small.cases.submit({**ATACMS, "quantity": 60}, actor="us.liaison", now=T0)
    stock = case.decision.as_dict()["stockpile"]
    assert (stock["on"], stock["available"]) == ("2025-09-01", before.available)


def test_the_review_time_is_the_shortest_its_bundles_set_else_the_services(
    small: World,
) -> None:
    """Storm Shadow is judged by the French, British and US bundles: of 9 and 5 days (the US
    sets none), 5; the ATACMS use, judged by the US bundle alone, takes the service's 21."""
    pack = screener().pack
    days = {"FR": 9, "GB": 5}
    history = BundleHistory(
        dataclasses.replace(b, review_sla_days=days.get(b.holder)) for b in pack.history
    )
    service = CaseService(
        small.store,
        Screener(dataclasses.replace(pack, history=history)),
        default_sla_days=21,
    )
    shadow, _ = service.submit(use(G3, 7), actor="ua.liaison", now=T0)
    atacms, _ = service.submit(use(G2, 7), actor="ua.liaison", now=T0)
    assert (shadow.sla_days, atacms.sla_days) == (5, 21)


def test_a_classified_case_is_recorded_at_its_level(small: World) -> None:
    """The deputy, cleared SECRET, submits a SECRET case: recorded and submitted as SECRET."""
    case, _ = small.cases.submit(
        use(G2, 8), actor=DEPUTY, now=T0, idempotency_key="secret-1", classification=2
    )
    assert case.classification == 2
    submitted = ledger_of(small, case.id)[0].event.payload
    assert isinstance(submitted, CaseSubmitted)
    assert submitted.classification == "SECRET"


# Preparing ------------------------------------------------------------------------


def test_a_transfer_is_judged_only_in_the_transaction_its_names_checked_before(
    small: World,
) -> None:
    """A transfer reads the giver's stock, so ``prepare`` leaves its judgement to the
    writing transaction, judging nothing to throw away; an unknown name is still refused."""
    verdicts = small.cases.screener.verdicts
    asked = verdicts.hits + verdicts.misses
    ask = small.cases.prepare(ERAM, actor="us.liaison", now=T0, idempotency_key="prep-t")
    assert ask.decision is None
    assert verdicts.hits + verdicts.misses == asked
    with pytest.raises(RequestError) as unknown:
        small.cases.prepare({**ERAM, "system": "nope"}, actor="us.liaison", now=T0)
    assert str(unknown.value) == "request field 'system': unknown system 'nope'"
    with pytest.raises(RequestError) as party:
        small.cases.prepare({**ERAM, "funding": "nobody"}, actor="us.liaison", now=T0)
    assert party.value.field == "funding"


def test_a_request_that_reads_no_stock_is_screened_before_the_transaction(small: World) -> None:
    """``prepare`` reads the request and screens it, the decision named for the case to be."""
    ask = small.cases.prepare(
        use(G2, 9), actor="ua.liaison", now=T0, idempotency_key="prep-1", classification=1
    )
    other = small.cases.prepare(use(G2, 9), actor="ua.liaison", now=T0)
    assert (ask.actor, ask.now, ask.idempotency_key, ask.classification) == (
        "ua.liaison",
        T0,
        "prep-1",
        1,
    )
    assert ask.request.as_dict() == other.request.as_dict()
    assert ask.case_id != other.case_id
    assert ask.decision is not None
    assert ask.decision.decision_id == ask.case_id
    assert ask.decision == small.cases.screener.decide(ask.request, decision_id=ask.case_id, now=T0)


@pytest.mark.parametrize("key", ["", "k" * 201])
def test_a_key_must_be_1_to_200_characters(small: World, key: str) -> None:
    """An empty key, or one longer than 200 characters, is refused before anything is read."""
    with pytest.raises(InputError) as refused:
        small.cases.submit(use(G2, 10), actor="ua.liaison", now=T0, idempotency_key=key)
    assert (refused.value.where, refused.value.problem) == (
        "idempotency key",
        "must be 1 to 200 characters",
    )


@pytest.mark.parametrize("key", ["1", "k" * 200])
def test_a_key_of_1_or_200_characters_is_taken(small: World, key: str) -> None:
    """The bounds are keys: a retry with one answers the first case."""
    first, created = small.cases.submit(
        use(G2, 11), actor="ua.liaison", now=T0, idempotency_key=key
    )
    again, again_created = small.cases.submit(
        use(G2, 11), actor="ua.liaison", now=T0, idempotency_key=key
    )
    assert (created, again_created, again.id) == (True, False, first.id)
    assert first.idempotency_key == key


# Idempotency ----------------------------------------------------------------------


def test_a_retry_with_the_same_key_answers_the_first_case_and_writes_nothing(
    small: World,
) -> None:
    """Same key, same user, same request: the first case, as its submitter reads it, not new."""
    first, created = small.cases.submit_and_show(
        use(G2, 12), actor="ua.liaison", now=T0, idempotency_key="retry-1"
    )
    count, events = case_count(small), len(ledger_of(small, first.case.id))
    later = T0 + dt.timedelta(hours=1)
    again, again_created = small.cases.submit_and_show(
        use(G2, 12), actor="ua.liaison", now=later, idempotency_key="retry-1"
    )
    assert (created, again_created) == (True, False)
    assert again == first == small.cases.view(first.case.id, actor="ua.liaison")
    assert (case_count(small), len(ledger_of(small, first.case.id))) == (count, events)


def test_a_retry_is_answered_as_its_submitter_sees_the_case_now(small: World) -> None:
    """A retry after the case moved on answers the case as it stands, with its approvals."""
    first, _ = small.cases.submit(
        use(G2, 13), actor="ua.liaison", now=T0, idempotency_key="moved-1"
    )
    small.cases.answer(
        first.id,
        actor="hegseth",
        approve=True,
        reason="",
        signer=keys()["hegseth"][1],
        now=T0 + dt.timedelta(days=1),
    )
    again, created = small.cases.submit_and_show(
        use(G2, 13), actor="ua.liaison", now=T0, idempotency_key="moved-1"
    )
    assert not created
    assert again.case.state == "approved"
    assert again == small.cases.view(first.id, actor="ua.liaison")
    assert [a.actor for a in again.approvals] == ["hegseth"]
    assert again.public_keys == {"hegseth": keys()["hegseth"][0]}
    assert again.system_key == system_key().public_key


def test_a_key_used_for_another_request_is_refused(small: World) -> None:
    """The same user, the same key, another request: refused, nothing written."""
    first, _ = small.cases.submit(use(G2, 14), actor="ua.liaison", now=T0, idempotency_key="body-1")
    count = case_count(small)
    with pytest.raises(ConflictError) as refused:
        small.cases.submit(use(G2, 15), actor="ua.liaison", now=T0, idempotency_key="body-1")
    assert refused.value.message == KEY_USED
    assert case_count(small) == count
    assert case_keyed(small, "body-1") == first.id


def test_another_users_key_never_returns_their_case(small: World) -> None:
    """The deputy sends the liaison's key with the liaison's very request: refused in the
    same words as another request, so the key tells nothing of the liaison's case."""
    first, _ = small.cases.submit(
        use(G2, 16), actor="ua.liaison", now=T0, idempotency_key="theirs-1"
    )
    for request in (use(G2, 16), use(G2, 17)):
        with pytest.raises(ConflictError) as refused:
            small.cases.submit(request, actor=DEPUTY, now=T0, idempotency_key="theirs-1")
        assert refused.value.message == KEY_USED
    assert case_keyed(small, "theirs-1") == first.id


def test_a_retry_by_a_submitter_no_longer_cleared_for_the_case_finds_nothing(
    small: World,
) -> None:
    """Cleared SECRET, they submit a SECRET case; lowered to UNCLASSIFIED, their retry is
    answered as reading the case is: not found, in the same words."""
    case, _ = small.cases.submit(
        use(G2, 90), actor=LOWERED, now=T0, idempotency_key="lowered-1", classification=2
    )
    Accounts(small.store).set_access(
        LOWERED, roles=(Role.REQUESTER,), clearance=Level.UNCLASSIFIED, actor=ADMIN, now=DAY
    )
    with pytest.raises(NotFoundError) as hidden:
        small.cases.submit(use(G2, 90), actor=LOWERED, now=DAY, idempotency_key="lowered-1")
    with pytest.raises(NotFoundError) as read:
        small.cases.view(case.id, actor=LOWERED)
    assert hidden.value.message == read.value.message == f"no case '{case.id}'"


def test_a_retry_keeps_the_level_of_the_first_submission(small: World) -> None:
    """The classification is the first submission's: a retry giving another is answered
    with the case as first classified."""
    first, _ = small.cases.submit(
        use(G2, 91), actor=DEPUTY, now=T0, idempotency_key="level-1", classification=1
    )
    again, created = small.cases.submit(
        use(G2, 91), actor=DEPUTY, now=T0, idempotency_key="level-1", classification=2
    )
    assert (created, again.id, again.classification) == (False, first.id, 1)


def test_one_key_twice_in_one_batch_makes_one_case_in_one_commit(small: World) -> None:
    """The second ask finds the case the first wrote in the same transaction."""
    asks = [
        small.cases.prepare(use(G2, 18), actor="ua.liaison", now=T0, idempotency_key="batch-1")
        for _ in range(2)
    ]
    answers, commits = commits_of(small, lambda: small.cases.submit_many(asks))
    (first, created), (again, again_created) = answers
    assert (created, again_created, commits) == (True, False, 1)
    assert again == first
    assert first.case.id == asks[0].case_id
    assert case_keyed(small, "batch-1") == asks[0].case_id


def test_one_key_for_two_requests_in_one_batch_refuses_the_second(small: World) -> None:
    asks = [
        small.cases.prepare(use(G2, q), actor="ua.liaison", now=T0, idempotency_key="batch-2")
        for q in (19, 20)
    ]
    first, refused = small.cases.submit_many(asks)
    assert first[1] is True
    assert isinstance(refused, ConflictError)
    assert refused.message == KEY_USED


def test_a_key_already_used_is_found_by_a_batch_whatever_its_place(small: World) -> None:
    """A batch reads the keys of all its asks at once: a retry second in a batch, after an
    ask without a key, still finds its case."""
    first, _ = small.cases.submit(
        use(G2, 21), actor="ua.liaison", now=T0, idempotency_key="later-1"
    )
    asks = [
        small.cases.prepare(use(G2, 22), actor="ua.liaison", now=T0),
        small.cases.prepare(use(G2, 21), actor="ua.liaison", now=T0, idempotency_key="later-1"),
    ]
    (made, created), (again, again_created) = small.cases.submit_many(asks)
    assert (created, again_created) == (True, False)
    assert again.case.id == first.id
    assert made.case.id == asks[0].case_id


# Who may submit -------------------------------------------------------------------


REFUSED = [
    ("us.liaison", 0, PermissionDenied, "us.liaison acts for US and cannot submit a request of UA"),
    ("nobody", 0, NotFoundError, "unknown user 'nobody'"),
    (
        "ua.liaison",
        1,
        PermissionDenied,
        "ua.liaison is cleared to UNCLASSIFIED and cannot submit a CONFIDENTIAL case",
    ),
    (
        DEPUTY,
        3,
        PermissionDenied,
        "ua.deputy is cleared to SECRET and cannot submit a TOP SECRET case",
    ),
]


def asks_of(world: World, number: int) -> list[Ask]:
    """An ask the deputy may make, then each refused one, then one the liaison may make."""
    return [
        world.cases.prepare(use(G2, number), actor=DEPUTY, now=T0, classification=2),
        *(
            world.cases.prepare(use(G2, number), actor=actor, now=T0, classification=level)
            for actor, level, _, _ in REFUSED
        ),
        world.cases.prepare(use(G2, number + 1), actor="ua.liaison", now=T0),
    ]


def test_refusals_name_what_refuses_each_ask_before_anything_is_written(small: World) -> None:
    count = case_count(small)
    found = small.cases.refusals(asks_of(small, 23))
    named = [None if f is None else (type(f), f.message) for f in found]
    assert named == [None, *((kind, words) for _, _, kind, words in REFUSED), None]
    assert case_count(small) == count


def test_a_refused_ask_is_left_out_and_the_rest_of_its_batch_goes_on(small: World) -> None:
    asks = asks_of(small, 25)
    answers = small.cases.submit_many(asks)
    refused = [a for a in answers[1:-1] if isinstance(a, ClearanceError)]
    assert [(type(r), r.message) for r in refused] == [
        (kind, words) for _, _, kind, words in REFUSED
    ]
    made = [answers[0], answers[-1]]
    assert [(v.case.id, v.case.submitted_by, created) for v, created in made] == [
        (asks[0].case_id, DEPUTY, True),
        (asks[-1].case_id, "ua.liaison", True),
    ]
    assert made[1][0].case.number == made[0][0].case.number + 1


def test_the_operator_may_not_submit(small: World) -> None:
    with pytest.raises(NotFoundError) as refused:
        small.cases.submit(use(G2, 27), actor=ADMIN, now=T0)
    assert refused.value.message == f"unknown user '{ADMIN}'"


# A batch that fails ---------------------------------------------------------------


def test_a_batch_that_fails_is_tried_again_one_ask_at_a_time(small: World) -> None:
    """A failure past admission is the batch's: rolled back, each ask written again alone."""
    asks = [small.cases.prepare(use(G2, 30 + n), actor="ua.liaison", now=T0) for n in range(3)]
    reactor = Reactor({1: failure})
    answers = reacting(small, reactor, asks)
    assert reactor.seen == [6, 2, 2, 2]
    assert [(a[0].case.id, a[1]) for a in answers] == [(a.case_id, True) for a in asks]
    numbers = [a[0].case.number for a in answers]
    assert numbers == [numbers[0], numbers[0] + 1, numbers[0] + 2]


def test_an_asks_own_failure_is_its_own(small: World) -> None:
    """Tried alone, the ask that fails is answered with its failure; the others are written."""
    asks = [small.cases.prepare(use(G2, 40 + n), actor="ua.liaison", now=T0) for n in range(3)]
    reactor = Reactor({1: failure, 3: failure})
    first, failed, last = reacting(small, reactor, asks)
    assert isinstance(failed, RuntimeError)
    assert (first[0].case.id, last[0].case.id) == (asks[0].case_id, asks[2].case_id)
    with small.store.reading() as tx:
        assert tx.cases.get(asks[1].case_id) is None


def test_a_lone_ask_that_fails_is_answered_with_its_failure_and_not_tried_again(
    small: World,
) -> None:
    ask = small.cases.prepare(use(G2, 50), actor="ua.liaison", now=T0, idempotency_key="lone-1")
    reactor = Reactor({1: failure})
    (answer,) = reacting(small, reactor, [ask])
    assert isinstance(answer, RuntimeError)
    assert reactor.seen == [2]
    assert case_keyed(small, "lone-1") is None


@pytest.mark.parametrize("size", [1, 2])
def test_an_unknown_outcome_is_every_asks_and_none_is_tried_again(small: World, size: int) -> None:
    asks = [small.cases.prepare(use(G2, 60 + n), actor="ua.liaison", now=T0) for n in range(size)]
    reactor = Reactor({1: unknown})
    with pytest.raises(OutcomeUnknown):
        reacting(small, reactor, asks)
    assert reactor.seen == [2 * size]


def test_an_unknown_outcome_when_tried_alone_stops_the_rest(small: World) -> None:
    asks = [small.cases.prepare(use(G2, 70 + n), actor="ua.liaison", now=T0) for n in range(3)]
    reactor = Reactor({1: failure, 2: unknown})
    with pytest.raises(OutcomeUnknown):
        reacting(small, reactor, asks)
    assert reactor.seen == [6, 2]


def test_submit_answers_the_case_of_submit_and_show(small: World) -> None:
    case, created = small.cases.submit(
        use(G2, 80), actor="ua.liaison", now=T0, idempotency_key="plain-1"
    )
    view, again = small.cases.submit_and_show(
        use(G2, 80), actor="ua.liaison", now=T0, idempotency_key="plain-1"
    )
    assert (created, again, view.case) == (True, False, case)
