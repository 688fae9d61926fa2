"""The rules of changing a case behind two gates, with conditions and a delegation
(``service.case_commands``, ``service.case_moves``), stated through the service over one
small world, each with the exact words of its refusal.

The world's policy is the seed pack's with a US bundle in force from 2 May 2025 that
also gates strikes inside Russia on the Under Secretary (``us.usdp``, delegable) beside
the Secretary (``us.secdef``, personally), puts two conditions on them, and gates US
transfers of ATACMS on the Under Secretary; and one from 1 July 2025 that forbids strikes
inside Russia outright. Every test submits its own cases, so they share one world; each
builds its own service over it, so every part of a service is built in the test that
uses it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Iterator
from typing import Any

import pytest

from clearance.core.access import Role
from clearance.core.actors import ADMIN
from clearance.core.events import CaseStateChanged
from clearance.errors import ClearanceError, InputError
from clearance.policy.engine import Screener
from clearance.policy.history import BundleHistory
from clearance.policy.pack import bundle_from_texts, read_bundle_texts
from clearance.service.cases import CaseService, Gate, Moves
from clearance.store.records import CaseRecord

from .small_worlds import keys, screener, small_world, system_key
from .worlds import ATACMS, G2, G5, T0, World

DAY = T0 + dt.timedelta(days=1)
APRIL = dt.datetime(2025, 4, 10, 9, 0, tzinfo=dt.UTC)
"""Under the bundle of November 2024: strikes inside Russia and transfers need no review."""
ON_30_APRIL = dt.datetime(2025, 4, 30, 12, 0, tzinfo=dt.UTC)
ON_10_MAY = dt.datetime(2025, 5, 10, 12, 0, tzinfo=dt.UTC)
"""Under the bundle of 2 May 2025 (two gates and two conditions on a strike inside Russia)."""
ON_10_JULY = dt.datetime(2025, 7, 10, 12, 0, tzinfo=dt.UTC)
"""Under the bundle of 1 July 2025, which forbids strikes inside Russia."""
REPORTED = "The strike is reported within a day"
ASSESSED = "The damage is assessed"
STRIKE = {**G2, "quantity": 2}
"""A Ukrainian strike inside Russia with two ATACMS, on 15 June 2025: both gates, both
conditions."""
SALE = {**G5, "quantity": 5}

_RUSSIA = 'context has target && context.target.territory == Party::"RU"'
_MAY_POLICIES = f"""
@id("us-usdp-review")
@description("Strikes inside Russia also need the Under Secretary.")
@gate("us.usdp")
@delegable("true")
forbid (principal, action == Action::"employ", resource)
when {{ {_RUSSIA} }}
unless {{ context.approvals.contains(Authority::"us.usdp") }};

@id("strikes-reported")
@description("A strike inside Russia is reported.")
@condition("{REPORTED}")
permit (principal == Party::"UA", action == Action::"employ", resource)
when {{ {_RUSSIA} }};

@id("strikes-assessed")
@description("A strike inside Russia is assessed.")
@condition("{ASSESSED}")
permit (principal == Party::"UA", action == Action::"employ", resource)
when {{ {_RUSSIA} }};

@id("atacms-transfers-reviewed")
@description("A US transfer of ATACMS needs the Under Secretary.")
@gate("us.usdp")
@delegable("true")
forbid (principal == Party::"US", action == Action::"transfer", resource == System::"atacms")
unless {{ context.approvals.contains(Authority::"us.usdp") }};
"""
_JULY_POLICIES = f"""
@id("no-strikes-in-russia")
@description("No strikes inside Russia.")
forbid (principal, action == Action::"employ", resource)
when {{ {_RUSSIA} }};
"""


@functools.cache
def amended() -> Screener:
    """The seed pack's screener with the bundles of 2 May and 1 July 2025."""
    pack = screener().pack
    added = []
    for day, policies in (("2025-05-02", _MAY_POLICIES), ("2025-07-01", _JULY_POLICIES)):
        texts = read_bundle_texts(pack.root / "bundles" / "US" / "2025-05-01")
        texts["bundle.yaml"] = texts["bundle.yaml"].replace("2025-05-01", day)
        texts["policies.cedar"] += policies
        added.append(bundle_from_texts(texts, pack, f"bundles/US/{day}"))
    history = BundleHistory([*pack.history, *added])
    return Screener(dataclasses.replace(pack, history=history))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with small_world(tmp_path_factory.mktemp("case-commands")) as made:
        people = made.people
        for user, party, roles, key in (
            ("us.reviewer", "US", (Role.REVIEWER,), "us.liaison"),
            ("gb.reviewer", "GB", (Role.REVIEWER,), "us.liaison"),
            ("us.staff", "US", (), "usdp"),
            ("potus", "US", (), "austin"),
        ):
            people.add_user(
                user_id=user,
                name=user,
                party=party,
                public_key=keys()[key][0],
                actor=ADMIN,
                now=T0,
                roles=roles,
            )
        people.delegate(
            holder_id="usdp",
            delegate_id="us.staff",
            authority="us.usdp",
            valid_from=dt.date(2025, 6, 1),
            valid_to=dt.date(2025, 6, 19),
            now=T0,
        )
        people.delegate(
            holder_id="usdp",
            delegate_id="hegseth",
            authority="us.usdp",
            valid_from=dt.date(2025, 6, 20),
            valid_to=dt.date(2025, 6, 30),
            now=T0,
        )
        people.grant(
            user_id="potus",
            authority="us.president",
            valid_from=dt.date(2025, 1, 20),
            valid_to=None,
            actor=ADMIN,
            now=T0,
        )
        yield made


@pytest.fixture
def cases(world: World) -> CaseService:
    """A service over the world's store under the amended policy, built by the test."""
    return CaseService(world.store, amended(), default_sla_days=14)


def signer(user: str) -> Any:
    return keys()[user][1]


def said(error: pytest.ExceptionInfo[ClearanceError]) -> tuple[str, str]:
    """A refusal as its kind and exact words."""
    return type(error.value).__name__, error.value.message


def strike(cases: CaseService, **fields: Any) -> CaseRecord:
    case, created = cases.submit({**STRIKE, **fields}, actor="ua.liaison", now=T0)
    assert created
    return case


def approve(
    cases: CaseService,
    case: CaseRecord,
    actor: str,
    *,
    now: dt.datetime = DAY,
    key: str | None = None,
    authority: str | None = None,
    approve: bool = True,
    reason: str = "",
) -> Any:
    return cases.answer(
        case.id,
        actor=actor,
        approve=approve,
        reason=reason,
        signer=signer(key or actor),
        now=now,
        authority=authority,
    )


def moves_of(cases: CaseService, case: CaseRecord) -> list[tuple[str, str, str]]:
    """The case's state changes in the ledger: from, to, and why."""
    with cases.store.reading() as tx:
        payloads = [e.event.payload for e in tx.ledger.of_case(case.id)]
    return [(p.from_state, p.to_state, p.why) for p in payloads if isinstance(p, CaseStateChanged)]


def last_events(cases: CaseService, case: CaseRecord, count: int) -> list[tuple[str, str]]:
    """The case's last events: their type and who did it."""
    with cases.store.reading() as tx:
        return [(str(e.type), e.event.actor) for e in tx.ledger.of_case(case.id)][-count:]


def committed(cases: CaseService, case: CaseRecord) -> int:
    with cases.store.reading() as tx:
        return tx.stock.committed_by_case(case.id)


def approved_strike(cases: CaseService) -> CaseRecord:
    """A strike behind both gates, both approved: approved on its two conditions."""
    case = strike(cases)
    approve(cases, case, "hegseth")
    approve(cases, case, "usdp")
    return case


def meet(cases: CaseService, case: CaseRecord, condition: str, actor: str = "ua.liaison") -> Any:
    return cases.condition_met(case.id, actor=actor, condition=condition, evidence="seen", now=DAY)


# Two gates -------------------------------------------------------------------------


def test_a_strike_inside_russia_waits_on_both_gates_and_carries_both_conditions(
    cases: CaseService,
) -> None:
    """The world's policy, as the case records it."""
    case = strike(cases)
    gates = [(g.authority, g.delegable) for g in case.decision.required_approvals]
    assert gates == [("us.secdef", False), ("us.usdp", True)]
    assert list(case.decision.conditions) == [REPORTED, ASSESSED]


def test_each_gate_is_offered_to_whoever_may_answer_it_whatever_its_place(
    cases: CaseService,
) -> None:
    """The Under Secretary is offered his gate though he may not answer the first; the
    Secretary his, though he may not answer the second."""
    case = strike(cases)
    assert cases.moves(case.id, actor="usdp", now=DAY) == Moves(
        answer=(Gate("us.usdp", True, None),), ask=True
    )
    assert cases.moves(case.id, actor="hegseth", now=DAY) == Moves(
        answer=(Gate("us.secdef", False, None),), ask=True
    )


def test_the_first_gate_answered_leaves_the_case_in_review_as_its_actor_reads_it(
    cases: CaseService,
) -> None:
    """Approving one of two gates records the answer and moves nothing: the case stays in
    review, and the view returned is the one its actor then reads."""
    case = strike(cases)
    view = approve(cases, case, "hegseth")
    assert view.case.state == "in_review"
    assert [(a.authority, a.verdict) for a in view.approvals] == [("us.secdef", "approve")]
    assert (view.reader.id, view.system_key) == ("hegseth", system_key().public_key)
    assert view == cases.view(case.id, actor="hegseth")
    assert moves_of(cases, case) == [("submitted", "in_review", "screened: review required")]
    assert last_events(cases, case, 1) == [("approval_given", "hegseth")]


def test_an_answered_gate_is_offered_no_more_and_the_other_still_is(cases: CaseService) -> None:
    """Once the Secretary has answered, he is offered nothing (not his gate, nor a
    question, which only a holder of an open gate asks); the Under Secretary still is."""
    case = strike(cases)
    approve(cases, case, "hegseth")
    assert cases.moves(case.id, actor="hegseth", now=DAY) == Moves()
    assert cases.moves(case.id, actor="usdp", now=DAY) == Moves(
        answer=(Gate("us.usdp", True, None),), ask=True
    )
    with pytest.raises(ClearanceError) as refused:
        cases.ask(case.id, actor="hegseth", question="Which unit?", now=DAY)
    assert said(refused) == (
        "PermissionDenied",
        "only a reviewer, or a holder of an office still to answer, may ask",
    )


def test_an_answered_gate_is_not_answered_again(cases: CaseService) -> None:
    """Named, it is refused as answered; unnamed, the answerer holds no open gate."""
    case = strike(cases)
    approve(cases, case, "hegseth")
    with pytest.raises(ClearanceError) as named:
        approve(cases, case, "hegseth", authority="us.secdef")
    assert said(named) == ("IllegalTransition", "us.secdef has already answered on this case")
    with pytest.raises(ClearanceError) as unnamed:
        approve(cases, case, "hegseth")
    assert said(unnamed) == (
        "PermissionDenied",
        "hegseth does not hold us.usdp and is not its delegate",
    )


def test_who_may_answer_neither_gate_is_told_why_for_each(cases: CaseService) -> None:
    """Each gate's refusal, in the gates' order, joined."""
    case = strike(cases)
    with pytest.raises(ClearanceError) as refused:
        approve(cases, case, "us.reviewer", key="us.liaison")
    assert said(refused) == (
        "PermissionDenied",
        "us.reviewer does not hold us.secdef and is not its delegate;"
        " us.reviewer does not hold us.usdp and is not its delegate",
    )


def test_the_last_gate_approves_the_case_on_its_conditions(cases: CaseService) -> None:
    """Both gates approved, and the case has conditions: approved with conditions."""
    case = approved_strike(cases)
    assert moves_of(cases, case)[-1] == (
        "in_review",
        "approved_with_conditions",
        "us.usdp approved",
    )


def test_a_delegate_names_the_delegable_gate_and_answers_it_for_its_holder(
    cases: CaseService,
) -> None:
    """The Under Secretary's staff, his delegate, names his gate: answered on his behalf."""
    case = strike(cases)
    view = approve(cases, case, "us.staff", key="usdp", authority="us.usdp")
    assert [(a.authority, a.actor, a.on_behalf_of) for a in view.approvals] == [
        ("us.usdp", "us.staff", "usdp")
    ]


def test_who_may_answer_both_gates_must_name_one(cases: CaseService) -> None:
    """From 20 June the Secretary is also the Under Secretary's delegate: offered both, and
    an answer that names neither is refused, listing them."""
    late_june = dt.datetime(2025, 6, 25, 9, 0, tzinfo=dt.UTC)
    case, _ = cases.submit({**STRIKE, "date": "2025-06-25"}, actor="ua.liaison", now=late_june)
    assert cases.moves(case.id, actor="hegseth", now=late_june) == Moves(
        answer=(Gate("us.secdef", False, None), Gate("us.usdp", True, "usdp")), ask=True
    )
    with pytest.raises(InputError) as refused:
        approve(cases, case, "hegseth", now=late_june)
    assert (refused.value.where, refused.value.problem) == (
        "--authority",
        "hegseth can answer for several offices; name one of ['us.secdef', 'us.usdp']",
    )


def test_an_answer_signed_with_another_key_is_refused_naming_the_actor(
    cases: CaseService,
) -> None:
    """The signature must match the answerer's registered key; nothing is recorded."""
    case = strike(cases)
    with pytest.raises(ClearanceError) as refused:
        approve(cases, case, "hegseth", key="usdp")
    assert said(refused) == (
        "SignatureError",
        "the signature does not match hegseth's registered key",
    )
    assert cases.view(case.id, actor="hegseth").approvals == ()


# Conditions ------------------------------------------------------------------------


def test_the_first_of_two_conditions_met_leaves_the_case_approved_on_the_other(
    cases: CaseService,
) -> None:
    """One met, one to go: the case stays approved with conditions, and the one met is not
    met again; the second clears it."""
    case = approved_strike(cases)
    view = meet(cases, case, REPORTED)
    assert view.case.state == "approved_with_conditions"
    assert [(k.text, k.met_by) for k in view.conditions] == [
        (REPORTED, "ua.liaison"),
        (ASSESSED, None),
    ]
    with pytest.raises(ClearanceError) as again:
        meet(cases, case, REPORTED)
    assert said(again) == ("IllegalTransition", f"condition '{REPORTED}' is already met")
    assert meet(cases, case, ASSESSED).case.state == "cleared"


def test_a_consent_holder_holding_an_office_records_a_condition(cases: CaseService) -> None:
    """The Under Secretary, of the consent holder, records a condition of the Ukrainian
    strike as met, by his offices of that day."""
    case = approved_strike(cases)
    view = meet(cases, case, ASSESSED, actor="usdp")
    assert [(k.text, k.met_by) for k in view.conditions if k.met_by] == [(ASSESSED, "usdp")]


def test_a_condition_is_recorded_by_the_requester_or_a_consent_holder_named_in_order(
    cases: CaseService,
) -> None:
    """A British reviewer sees the case but acts for neither party, both named."""
    case = approved_strike(cases)
    with pytest.raises(ClearanceError) as refused:
        meet(cases, case, REPORTED, actor="gb.reviewer")
    assert said(refused) == (
        "PermissionDenied",
        "gb.reviewer acts for GB; only UA, US may record a condition of this case",
    )


# Stock an answer moves -------------------------------------------------------------


def test_approving_a_transfer_commits_its_stock(cases: CaseService) -> None:
    """A US transfer of ATACMS waits on the Under Secretary; his approval commits the ten
    it transfers, recorded against the case by his hand."""
    case, _ = cases.submit(
        {**ATACMS, "quantity": 10, "date": "2025-06-15"}, actor="us.liaison", now=T0
    )
    assert committed(cases, case) == 0
    approve(cases, case, "usdp")
    assert committed(cases, case) == 10
    assert last_events(cases, case, 2) == [("case_state_changed", "usdp"), ("stock_moved", "usdp")]


def april_transfer(cases: CaseService) -> CaseRecord:
    """Ten ATACMS transferred in April, approved at once (committed); suspended on the
    Under Secretary when drawn on 10 May."""
    case, _ = cases.submit(
        {**ATACMS, "quantity": 10, "date": "2025-04-10"}, actor="us.liaison", now=APRIL
    )
    assert committed(cases, case) == 10
    with pytest.raises(ClearanceError) as refused:
        cases.execute(case.id, actor="us.liaison", quantity=None, now=ON_10_MAY)
    assert said(refused)[0] == "ExecutionSuspended"
    return case


def test_a_suspended_transfer_denied_releases_its_stock(cases: CaseService) -> None:
    """A denial of a suspended case ends it, and what it committed is released."""
    case = april_transfer(cases)
    approve(cases, case, "usdp", now=ON_10_MAY, approve=False, reason="Stock too low")
    assert committed(cases, case) == 0
    assert moves_of(cases, case)[-1] == ("suspended", "denied", "Stock too low")
    assert last_events(cases, case, 2) == [("case_state_changed", "usdp"), ("stock_moved", "usdp")]


def test_a_suspended_transfer_approved_resumes_keeping_its_stock(cases: CaseService) -> None:
    """Approved again, it resumes to approved with what it had committed, nothing moved."""
    case = april_transfer(cases)
    approve(cases, case, "usdp", now=ON_10_MAY)
    assert committed(cases, case) == 10
    assert moves_of(cases, case)[-1] == ("suspended", "approved", "us.usdp approved")
    assert last_events(cases, case, 1) == [("case_state_changed", "usdp")]


# Suspended cases -------------------------------------------------------------------


def test_a_partly_executed_case_suspended_resumes_where_it_was_once_both_gates_approve(
    cases: CaseService,
) -> None:
    """Approved in April, drawn one of two on 30 April, suspended on both gates when drawn
    on 10 May: the first approval leaves it suspended, the second resumes it partly
    executed, and what remains may be drawn."""
    case = strike(cases, date="2025-04-10")
    assert str(case.state) == "approved"
    cases.execute(case.id, actor="ua.liaison", quantity=1, now=ON_30_APRIL)
    with pytest.raises(ClearanceError):
        cases.execute(case.id, actor="ua.liaison", quantity=1, now=ON_10_MAY)
    assert approve(cases, case, "hegseth", now=ON_10_MAY).case.state == "suspended"
    assert approve(cases, case, "usdp", now=ON_10_MAY).case.state == "partly_executed"
    assert moves_of(cases, case)[-1] == ("suspended", "partly_executed", "us.usdp approved")
    assert cases.moves(case.id, actor="ua.liaison", now=ON_10_MAY) == Moves(
        withdraw=True, execute_up_to=1
    )


def test_a_case_suspended_under_a_prohibition_is_answered_by_no_office(
    cases: CaseService,
) -> None:
    """Drawn on after strikes inside Russia were forbidden outright, the case waits on no
    office: an answer is refused in those words."""
    case = strike(cases, date="2025-04-10")
    with pytest.raises(ClearanceError):
        cases.execute(case.id, actor="ua.liaison", quantity=None, now=ON_10_JULY)
    with pytest.raises(ClearanceError) as refused:
        approve(cases, case, "hegseth", now=ON_10_JULY)
    assert said(refused) == (
        "IllegalTransition",
        f"case {case.number} is suspended under a policy that prohibits it:"
        " no office can approve it",
    )


# Draws -----------------------------------------------------------------------------


def cleared_sale(cases: CaseService) -> CaseRecord:
    """The US sale of five ERAM, its condition met: cleared."""
    case, _ = cases.submit(SALE, actor="us.liaison", now=T0)
    cases.condition_met(
        case.id,
        actor="us.liaison",
        condition="European partners fund the purchase",
        evidence="paid",
        now=DAY,
    )
    return case


def test_a_draw_beyond_what_remains_names_the_quantity_field(cases: CaseService) -> None:
    """After a draw, a draw of more than remains is refused on the field ``quantity``."""
    case = cleared_sale(cases)
    cases.execute(case.id, actor="us.liaison", quantity=3, now=DAY)
    with pytest.raises(InputError) as refused:
        cases.execute(case.id, actor="us.liaison", quantity=3, now=DAY)
    assert (refused.value.where, refused.value.problem) == (
        "quantity",
        "must be between 1 and the 2 that remain of the approved 5 (3 already executed)",
    )


def test_a_member_of_the_requesting_party_holding_an_office_records_a_draw(
    cases: CaseService,
) -> None:
    """The Under Secretary, of the US, draws on the US sale by his offices of that day."""
    case = cleared_sale(cases)
    view = cases.execute(case.id, actor="usdp", quantity=None, now=DAY)
    assert (view.case.state, last_events(cases, case, 1)) == (
        "executed",
        [("stock_moved", "usdp")],
    )


def test_a_waived_waiting_period_lets_the_sale_be_drawn_at_once(cases: CaseService) -> None:
    """A sale worth $825 million waits 30 days for Congress, unless the President waives
    it: once he has, it is drawn on the day it was notified."""
    notified = dt.datetime(2025, 8, 28, 15, 0, tzinfo=dt.UTC)
    case, _ = cases.submit({**SALE, "value_usd": 825_000_000}, actor="us.liaison", now=notified)
    cases.condition_met(
        case.id,
        actor="us.liaison",
        condition="European partners fund the purchase",
        evidence="paid",
        now=notified,
    )
    cases.waive(
        case.id, actor="potus", reason="An emergency", signer=signer("austin"), now=notified
    )
    view = cases.execute(case.id, actor="us.liaison", quantity=None, now=notified)
    assert view.case.state == "executed"
