"""Execution judged on its own day (SQLite and PostgreSQL): an approved case is judged again
under the policy in force on the day it is drawn on, suspended when that policy would not
permit it, and drawn on in parts up to the approved quantity."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clearance.core.actors import ADMIN
from clearance.core.chain import EventType
from clearance.core.event_words import words_of
from clearance.core.events import ApprovalGiven, CaseExecuted, CaseSuspended
from clearance.errors import ClearanceError, ExecutionSuspended, IllegalTransition, InputError
from clearance.policy.engine import Screener
from clearance.policy.history import BundleHistory
from clearance.policy.pack import bundle_from_texts, read_bundle_texts
from clearance.service import audit
from clearance.service.cases import CaseService
from clearance.service.decision_proof import prove
from clearance.service.inbox import inbox
from clearance.store.repository import Store
from tests.worlds import G2, G5, World

APRIL = dt.datetime(2025, 4, 10, 9, 0, tzinfo=dt.UTC)
"""Under the 2024-11-17 bundle: ATACMS may strike inside Russia without review."""
ATACMS_APRIL = {**G2, "date": "2025-04-10"}
ON_30_APRIL = dt.datetime(2025, 4, 30, 12, 0, tzinfo=dt.UTC)
ON_10_MAY = dt.datetime(2025, 5, 10, 12, 0, tzinfo=dt.UTC)
"""Under the 2025-05-01 bundle: the review mechanism gates strikes inside Russia on us.secdef."""


def _events(store: Store, case_id: str) -> list[object]:
    with store.reading() as tx:
        return [e.event.payload for e in tx.ledger.of_case(case_id)]


def test_executed_before_the_review_mechanism_it_proceeds(world: World) -> None:
    case, _ = world.cases.submit(ATACMS_APRIL, actor="ua.liaison", now=APRIL)
    assert case.state == "approved"
    done = world.cases.execute(case.id, actor="ua.liaison", quantity=None, now=ON_30_APRIL)
    assert done.case.state == "executed"
    drawn = [p for p in _events(world.store, case.id) if isinstance(p, CaseExecuted)]
    assert drawn == [CaseExecuted(2, 2, 2)]


def test_executed_under_the_review_mechanism_it_is_suspended_for_secdef(world: World) -> None:
    case, _ = world.cases.submit(ATACMS_APRIL, actor="ua.liaison", now=APRIL)
    with pytest.raises(
        ExecutionSuspended, match=r"was not executed and is suspended: .*us\.secdef"
    ) as refused:
        world.cases.execute(case.id, actor="ua.liaison", quantity=None, now=ON_10_MAY)
    assert refused.value.http_status == 409
    assert "2025-05-10" in refused.value.message
    # The suspension committed; the execution did not.
    view = world.cases.view(case.id, actor=ADMIN)
    assert view.case.state == "suspended"
    assert view.case.outcome == "review_required"
    payloads = _events(world.store, case.id)
    assert not any(isinstance(p, CaseExecuted) for p in payloads)
    suspended = [p for p in payloads if isinstance(p, CaseSuspended)]
    assert len(suspended) == 1
    assert suspended[0].offices == ("us.secdef",)
    assert suspended[0].cause == "execution"
    assert suspended[0].as_of == dt.date(2025, 5, 10)
    assert suspended[0].quantity == 2
    assert "US" in suspended[0].decision["bundles"]
    events = view.as_dict(ON_10_MAY)["events"]
    words = [words_of(e) for e in events if e["type"] == "case_suspended"]
    assert "us.secdef" in words[0]
    assert "US bundle sha256:" in words[0]
    # Still suspended: executing again is refused, whatever the day, until secdef approves.
    with pytest.raises(IllegalTransition, match="is suspended"):
        world.cases.execute(case.id, actor="ua.liaison", quantity=None, now=ON_10_MAY)
    # The office the policy names finds it in their inbox and answers it, signed.
    items = inbox(world.store, actor="hegseth", now=ON_10_MAY, clocks=world.cases.clocks)
    assert [(i.kind, i.office, i.case.id if i.case else None) for i in items] == [
        ("decide", "us.secdef", case.id)
    ]
    resumed = world.cases.answer(
        case.id,
        actor="hegseth",
        approve=True,
        reason="Reviewed under the mechanism",
        signer=world.keys["hegseth"],
        now=ON_10_MAY + dt.timedelta(hours=2),
    )
    assert resumed.case.state == "approved"
    assert inbox(world.store, actor="hegseth", now=ON_10_MAY, clocks=world.cases.clocks) == []
    done = world.cases.execute(
        case.id, actor="ua.liaison", quantity=None, now=ON_10_MAY + dt.timedelta(hours=3)
    )
    assert done.case.state == "executed"
    assert audit.verify(world.store).ok


def test_a_denial_of_a_suspended_case_ends_it(world: World) -> None:
    case, _ = world.cases.submit(ATACMS_APRIL, actor="ua.liaison", now=APRIL)
    with pytest.raises(ExecutionSuspended):
        world.cases.execute(case.id, actor="ua.liaison", quantity=1, now=ON_10_MAY)
    denied = world.cases.answer(
        case.id,
        actor="hegseth",
        approve=False,
        reason="Not now",
        signer=world.keys["hegseth"],
        now=ON_10_MAY,
    )
    assert denied.case.state == "denied"
    with pytest.raises(IllegalTransition):
        world.cases.execute(case.id, actor="ua.liaison", quantity=None, now=ON_10_MAY)


def test_a_suspended_case_may_be_withdrawn(world: World) -> None:
    case, _ = world.cases.submit(ATACMS_APRIL, actor="ua.liaison", now=APRIL)
    with pytest.raises(ExecutionSuspended):
        world.cases.execute(case.id, actor="ua.liaison", quantity=None, now=ON_10_MAY)
    gone = world.cases.withdraw(case.id, actor="ua.liaison", reason="no longer", now=ON_10_MAY)
    assert gone.case.state == "withdrawn"


def test_partial_draws_up_to_the_approved_quantity(world: World) -> None:
    request = {**ATACMS_APRIL, "quantity": 5}
    case, _ = world.cases.submit(request, actor="ua.liaison", now=APRIL)
    first = world.cases.execute(case.id, actor="ua.liaison", quantity=2, now=APRIL)
    assert first.case.state == "partly_executed"
    assert world.cases.moves(case.id, actor="ua.liaison", now=APRIL).execute_up_to == 3
    second = world.cases.execute(case.id, actor="ua.liaison", quantity=1, now=APRIL)
    assert second.case.state == "partly_executed"
    with pytest.raises(InputError, match="the 2 that remain of the approved 5") as beyond:
        world.cases.execute(case.id, actor="ua.liaison", quantity=3, now=APRIL)
    assert beyond.value.where == "quantity"
    last = world.cases.execute(case.id, actor="ua.liaison", quantity=None, now=APRIL)
    assert last.case.state == "executed"
    drawn = [p for p in _events(world.store, case.id) if isinstance(p, CaseExecuted)]
    assert drawn == [CaseExecuted(2, 2, 5), CaseExecuted(1, 3, 5), CaseExecuted(2, 5, 5)]
    assert audit.verify(world.store).ok


def test_a_partly_executed_case_is_judged_again_on_each_draw(world: World) -> None:
    request = {**ATACMS_APRIL, "quantity": 4}
    case, _ = world.cases.submit(request, actor="ua.liaison", now=APRIL)
    world.cases.execute(case.id, actor="ua.liaison", quantity=1, now=ON_30_APRIL)
    with pytest.raises(ExecutionSuspended):
        world.cases.execute(case.id, actor="ua.liaison", quantity=1, now=ON_10_MAY)
    world.cases.answer(
        case.id,
        actor="hegseth",
        approve=True,
        reason="ok",
        signer=world.keys["hegseth"],
        now=ON_10_MAY,
    )
    assert world.cases.view(case.id, actor=ADMIN).case.state == "partly_executed"
    assert world.cases.moves(case.id, actor="ua.liaison", now=ON_10_MAY).execute_up_to == 3
    done = world.cases.execute(case.id, actor="ua.liaison", quantity=None, now=ON_10_MAY)
    assert done.case.state == "executed"


def test_partial_transfer_draws_move_stock(world: World) -> None:
    eram, _ = world.cases.submit(G5, actor="us.liaison", now=APRIL)
    world.cases.condition_met(
        eram.id,
        actor="us.liaison",
        condition="European partners fund the purchase",
        evidence="signed",
        now=APRIL,
    )
    day = dt.datetime(2025, 9, 1, tzinfo=dt.UTC)
    with world.store.reading() as tx:
        committed = tx.stock.committed_by_case(eram.id)
    first = world.cases.execute(eram.id, actor="us.liaison", quantity=1000, now=day)
    assert first.case.state == "partly_executed"
    with world.store.reading() as tx:
        assert tx.stock.committed_by_case(eram.id) == max(committed - 1000, 0)
    world.cases.execute(eram.id, actor="us.liaison", quantity=None, now=day)
    with world.store.reading() as tx:
        assert tx.stock.committed_by_case(eram.id) == 0
    assert audit.verify(world.store).ok


def test_a_bundle_taking_effect_suspends_approved_cases(store: Store, world: World) -> None:
    case, _ = world.cases.submit(ATACMS_APRIL, actor="ua.liaison", now=APRIL)
    found = world.cases.rescreen(actor=ADMIN, now=ON_30_APRIL)
    assert found.suspended == ()
    found = world.cases.rescreen(actor=ADMIN, now=ON_10_MAY)
    assert [(c.id, offices) for c, offices in found.suspended] == [(case.id, ("us.secdef",))]
    assert world.cases.view(case.id, actor=ADMIN).case.state == "suspended"
    suspended = [p for p in _events(store, case.id) if isinstance(p, CaseSuspended)]
    assert [(p.cause, p.quantity) for p in suspended] == [("activation", None)]
    # Once suspended it is not suspended again.
    assert world.cases.rescreen(actor=ADMIN, now=ON_10_MAY).suspended == ()
    assert audit.verify(store).ok


def test_a_prohibition_leaves_no_office_to_approve(world: World, store: Store) -> None:
    case, _ = world.cases.submit(ATACMS_APRIL, actor="ua.liaison", now=APRIL)
    strict = _prohibiting_screener(world.cases.screener)
    cases = CaseService(store, strict, default_sla_days=14)
    with pytest.raises(ExecutionSuspended, match="no office can approve it"):
        cases.execute(case.id, actor="ua.liaison", quantity=None, now=ON_10_MAY)
    assert cases.view(case.id, actor=ADMIN).case.state == "suspended"
    with pytest.raises(IllegalTransition, match="no office can approve it"):
        cases.answer(
            case.id,
            actor="hegseth",
            approve=True,
            reason="ok",
            signer=world.keys["hegseth"],
            now=ON_10_MAY,
        )
    assert cases.withdraw(case.id, actor="ua.liaison", reason="", now=ON_10_MAY).case.state == (
        "withdrawn"
    )
    with store.reading() as tx:
        types = [e.type for e in tx.ledger.of_case(case.id)]
    assert EventType.CASE_SUSPENDED in types


def test_an_office_added_after_approval_is_asked_and_earlier_answers_still_verify(
    world: World, store: Store
) -> None:
    """Approved by us.secdef under the review mechanism; by the day of execution a bundle
    also gates it on us.usdp: the case is suspended for us.usdp alone (secdef's approval
    still counts), resumes when us.usdp approves, and its file verifies offline, each
    answer against the decision it was signed over."""
    cases = CaseService(store, _gating_screener(world.cases.screener), default_sla_days=14)
    may = {**ATACMS_APRIL, "date": "2025-05-01"}
    first = dt.datetime(2025, 5, 1, 9, tzinfo=dt.UTC)
    case, _ = cases.submit(may, actor="ua.liaison", now=first)
    approved = cases.answer(
        case.id,
        actor="hegseth",
        approve=True,
        reason="Within the guidance",
        signer=world.keys["hegseth"],
        now=first,
    )
    assert approved.case.state == "approved"
    with pytest.raises(ExecutionSuspended, match=r"waits for us\.usdp to approve"):
        cases.execute(case.id, actor="ua.liaison", quantity=None, now=ON_10_MAY)
    resumed = cases.answer(
        case.id,
        actor="usdp",
        approve=True,
        reason="Reviewed",
        signer=world.keys["usdp"],
        now=ON_10_MAY,
    )
    assert resumed.case.state == "approved"
    done = cases.execute(case.id, actor="ua.liaison", quantity=None, now=ON_10_MAY)
    assert done.case.state == "executed"
    proof = prove(cases.view(case.id, actor=ADMIN).as_dict(ON_10_MAY), None, None)
    assert proof.problems == ()
    assert [(c.authority, c.valid) for c in proof.signatures] == [
        ("us.secdef", True),
        ("us.usdp", True),
    ]
    assert audit.verify(store).ok


def _gating_screener(screener: Screener) -> Screener:
    """The seed pack's screener with a US bundle from 2025-05-02 that also gates strikes
    inside Russia on us.usdp."""
    return _amended(
        screener,
        '\n@id("us-usdp-review")\n'
        '@description("Strikes inside Russia also need the Under Secretary.")\n'
        '@gate("us.usdp")\n'
        '@delegable("true")\n'
        'forbid (principal, action == Action::"employ", resource)\n'
        'when { context has target && context.target.territory == Party::"RU" }\n'
        'unless { context.approvals.contains(Authority::"us.usdp") };\n',
    )


def _prohibiting_screener(screener: Screener) -> Screener:
    """The seed pack's screener with a US bundle from 2025-05-02 that forbids every
    employment inside Russia outright (no gate): a prohibition."""
    return _amended(
        screener,
        '\n@id("us-forbid-russia")\n'
        '@description("No strikes inside Russia.")\n'
        'forbid (principal, action == Action::"employ", resource)\n'
        'when { context has target && context.target.territory == Party::"RU" };\n',
    )


def _amended(screener: Screener, policy: str) -> Screener:
    """The seed pack's screener with the 2025-05-01 US bundle and ``policy`` in force from
    2025-05-02."""
    pack = screener.pack
    texts = read_bundle_texts(pack.root / "bundles" / "US" / "2025-05-01")
    texts["bundle.yaml"] = texts["bundle.yaml"].replace("2025-05-01", "2025-05-02")
    texts["policies.cedar"] += policy
    amended = bundle_from_texts(texts, pack, "bundles/US/2025-05-02")
    return Screener(dataclasses.replace(pack, history=BundleHistory([*pack.history, amended])))


MECHANISM = dt.date(2025, 5, 1)
_DAYS = [dt.date(2025, 4, 20), dt.date(2025, 4, 30), dt.date(2025, 5, 10), dt.date(2025, 6, 1)]
_STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("execute"), st.integers(0, 3), st.integers(1, 3)),
        st.tuples(st.just("approve"), st.integers(0, 3), st.just(0)),
    ),
    min_size=1,
    max_size=6,
)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=_STEPS)
def test_a_suspended_case_is_never_executed_without_a_fresh_approval(
    world: World, steps: list[tuple[str, int, int]]
) -> None:
    """Whatever draws and answers are tried, on whatever days (in order): after a suspension,
    no draw is recorded until an office has approved the case since; and a refused draw
    records nothing of itself."""
    case, _ = world.cases.submit({**ATACMS_APRIL, "quantity": 5}, actor="ua.liaison", now=APRIL)
    day_of = sorted(_DAYS)
    for kind, day, quantity in sorted(steps, key=lambda s: s[1]):
        now = dt.datetime.combine(day_of[day], dt.time(12), tzinfo=dt.UTC)
        before = len(_events(world.store, case.id))
        try:
            if kind == "execute":
                world.cases.execute(case.id, actor="ua.liaison", quantity=quantity, now=now)
            else:
                world.cases.answer(
                    case.id,
                    actor="hegseth",
                    approve=True,
                    reason="ok",
                    signer=world.keys["hegseth"],
                    now=now,
                )
        except ExecutionSuspended:
            added = _events(world.store, case.id)[before:]
            assert not any(isinstance(p, CaseExecuted) for p in added)
            assert any(isinstance(p, CaseSuspended) for p in added)
        except ClearanceError:
            assert len(_events(world.store, case.id)) == before
    waiting, approved = False, False
    with world.store.reading() as tx:
        events = [e.event for e in tx.ledger.of_case(case.id)]
    for event in events:
        payload = event.payload
        if isinstance(payload, CaseSuspended):
            waiting = True
        elif isinstance(payload, ApprovalGiven):
            waiting, approved = False, True
        elif isinstance(payload, CaseExecuted):
            assert not waiting, "a draw was recorded on a suspended case"
            # Under the review mechanism (from 2025-05-01) no draw without us.secdef.
            assert approved or event.at.date() < MECHANISM, "a draw the mechanism gates"
