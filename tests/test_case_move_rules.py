"""The rules of changing a submitted case (``service.case_commands``, ``service.case_moves``),
stated through the service over one small world, each with the exact words of its refusal.

Every test submits its own cases, so they share one world (built once for the file): the
Secretary of Defense's gate on a Ukrainian use of ATACMS (``G2``), the condition on the US
sale of ERAM (``G5``), its draws, withdrawals, questions and what each reader is offered.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from clearance.core.access import Role
from clearance.core.actors import ADMIN
from clearance.core.events import ABSENT, CaseExecuted, CaseStateChanged, CaseSuspended
from clearance.errors import (
    ClearanceError,
    IllegalTransition,
    InputError,
)
from clearance.service.access import Action
from clearance.service.cases import Gate, Moves
from clearance.store.records import CaseRecord

from .small_worlds import keys, small_world
from .worlds import ATACMS, G2, G5, T0, World

FUNDING = "European partners fund the purchase"
DAY = T0 + dt.timedelta(days=1)
ERAM = {**G5, "quantity": 5}
"""The US sale of five ERAM funded by European partners: approved at once, on that
condition, and small enough that every test's sale leaves the stock green."""


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with small_world(tmp_path_factory.mktemp("case-moves")) as world:
        world.people.add_user(
            user_id="ua.reviewer",
            name="ua.reviewer",
            party="UA",
            public_key=keys()["ua.liaison"][0],
            actor=ADMIN,
            now=T0,
            roles=(Role.REVIEWER,),
        )
        world.people.add_user(
            user_id="us.staff",
            name="us.staff",
            party="US",
            public_key=keys()["usdp"][0],
            actor=ADMIN,
            now=T0,
        )
        yield world


def signer(user: str) -> Any:
    return keys()[user][1]


def said(error: pytest.ExceptionInfo[ClearanceError]) -> tuple[str, str]:
    """A refusal as its kind and exact words."""
    return type(error.value).__name__, error.value.message


def state_of(world: World, case: CaseRecord) -> str:
    with world.store.reading() as tx:
        found = tx.cases.get(case.id)
        assert found is not None
        return str(found.state)


def moves_of(world: World, case: CaseRecord) -> list[tuple[str, str, str]]:
    """The case's state changes in the ledger: from, to, and why."""
    with world.store.reading() as tx:
        payloads = [e.event.payload for e in tx.ledger.of_case(case.id)]
    return [(p.from_state, p.to_state, p.why) for p in payloads if isinstance(p, CaseStateChanged)]


def atacms(world: World) -> CaseRecord:
    """A Ukrainian use of ATACMS, in review, waiting on the Secretary (``us.secdef``)."""
    case, created = world.cases.submit(G2, actor="ua.liaison", now=T0)
    assert created
    return case


def eram(world: World) -> CaseRecord:
    """The US sale of ERAM, approved on the condition that European partners pay."""
    case, _ = world.cases.submit(ERAM, actor="us.liaison", now=T0)
    return case


def cleared_eram(world: World) -> CaseRecord:
    """The ERAM sale with its condition met: cleared, to be drawn on."""
    case = eram(world)
    world.cases.condition_met(
        case.id, actor="us.liaison", condition=FUNDING, evidence="paid", now=DAY
    )
    return case


def answer(world: World, case: CaseRecord, actor: str, *, approve: bool, reason: str = "") -> Any:
    return world.cases.answer(
        case.id, actor=actor, approve=approve, reason=reason, signer=signer(actor), now=DAY
    )


# Answering a gate ----------------------------------------------------------------


def test_the_holder_approves_the_last_gate_and_the_case_is_approved(small: World) -> None:
    """Approving the only open gate approves the case, the move saying which office did."""
    case = atacms(small)
    answer(small, case, "hegseth", approve=True)
    assert state_of(small, case) == "approved"
    assert moves_of(small, case)[-1] == ("in_review", "approved", "us.secdef approved")


def test_a_denial_denies_the_case_giving_its_reason(small: World) -> None:
    """A denial moves the case to denied, with the reason given as why."""
    case = atacms(small)
    answer(small, case, "hegseth", approve=False, reason="Escalation risk")
    assert state_of(small, case) == "denied"
    assert moves_of(small, case)[-1] == ("in_review", "denied", "Escalation risk")


@pytest.mark.parametrize("reason", ["", "  \n"])
def test_a_denial_needs_a_reason(small: World, reason: str) -> None:
    """A denial without a word of why is refused before anything is read."""
    case = atacms(small)
    with pytest.raises(InputError) as refused:
        answer(small, case, "hegseth", approve=False, reason=reason)
    assert (refused.value.where, refused.value.problem) == ("reason", "a denial needs a reason")
    assert state_of(small, case) == "in_review"


def test_a_case_not_in_review_cannot_be_answered(small: World) -> None:
    """Once decided, a case is answered no more."""
    case = atacms(small)
    answer(small, case, "hegseth", approve=True)
    with pytest.raises(ClearanceError) as refused:
        answer(small, case, "hegseth", approve=True)
    assert said(refused) == (
        "IllegalTransition",
        f"case {case.number} is approved, not in review",
    )


def test_the_requester_never_answers_their_own_case(small: World) -> None:
    """The door's refusal, in its words."""
    case = atacms(small)
    with pytest.raises(ClearanceError) as refused:
        answer(small, case, "ua.liaison", approve=True)
    assert said(refused) == ("PermissionDenied", "the requester can never decide their own case")


def test_a_gate_the_case_does_not_need_is_refused_by_name(small: World) -> None:
    """Naming an office the case does not wait for is refused, naming it."""
    case = atacms(small)
    with pytest.raises(ClearanceError) as refused:
        small.cases.answer(
            case.id,
            actor="hegseth",
            approve=True,
            reason="",
            signer=signer("hegseth"),
            now=DAY,
            authority="us.usdp",
        )
    assert said(refused) == ("PermissionDenied", "us.usdp is not an approval this case needs")


def test_the_gate_named_is_answered_by_its_holder(small: World) -> None:
    """Naming the open gate one holds answers it."""
    case = atacms(small)
    small.cases.answer(
        case.id,
        actor="hegseth",
        approve=True,
        reason="",
        signer=signer("hegseth"),
        now=DAY,
        authority="us.secdef",
    )
    assert state_of(small, case) == "approved"


def test_who_holds_no_open_gate_is_told_why_for_each(small: World) -> None:
    """A reader holding none of the open gates is refused with each gate's reason."""
    case = atacms(small)
    with pytest.raises(ClearanceError) as refused:
        answer(small, case, "usdp", approve=True)
    assert said(refused) == (
        "PermissionDenied",
        "usdp does not hold us.secdef and is not its delegate",
    )


def test_an_office_whose_term_has_ended_gives_no_sight_of_the_case(small: World) -> None:
    """austin's term as Secretary ended when the next one's began: a requester of no office
    now, he is refused as for a case that does not exist."""
    case = atacms(small)
    with pytest.raises(ClearanceError) as refused:
        answer(small, case, "austin", approve=True)
    assert said(refused) == ("NotFoundError", f"no case '{case.id}'")


# Withdrawing ---------------------------------------------------------------------


def test_the_requester_withdraws_with_the_reason_or_the_word_withdrawn(small: World) -> None:
    """A withdrawal moves the case to withdrawn; without a reason its why is "withdrawn"."""
    first, second = atacms(small), atacms(small)
    small.cases.withdraw(first.id, actor="ua.liaison", reason="", now=DAY)
    small.cases.withdraw(second.id, actor="ua.liaison", reason="no longer needed", now=DAY)
    assert moves_of(small, first)[-1] == ("in_review", "withdrawn", "withdrawn")
    assert moves_of(small, second)[-1] == ("in_review", "withdrawn", "no longer needed")


def test_only_the_requester_withdraws(small: World) -> None:
    """The Secretary, who sees the case, may not withdraw it."""
    case = atacms(small)
    with pytest.raises(ClearanceError) as refused:
        small.cases.withdraw(case.id, actor="hegseth", reason="", now=DAY)
    assert said(refused) == ("PermissionDenied", "only the requester can withdraw a case")


def test_a_withdrawn_case_is_withdrawn_no_more(small: World) -> None:
    """A closed case does not move again."""
    case = atacms(small)
    small.cases.withdraw(case.id, actor="ua.liaison", reason="", now=DAY)
    with pytest.raises(IllegalTransition):
        small.cases.withdraw(case.id, actor="ua.liaison", reason="", now=DAY)


# Conditions ----------------------------------------------------------------------


@pytest.mark.parametrize("evidence", ["", " \t"])
def test_a_condition_is_met_only_with_evidence(small: World, evidence: str) -> None:
    """Recording a condition met needs a word of what shows it."""
    case = eram(small)
    with pytest.raises(InputError) as refused:
        small.cases.condition_met(
            case.id, actor="us.liaison", condition=FUNDING, evidence=evidence, now=DAY
        )
    assert (refused.value.where, refused.value.problem) == (
        "evidence",
        "say what shows the condition is met",
    )


def test_a_condition_the_case_does_not_have_is_not_found_naming_those_it_has(
    small: World,
) -> None:
    """An unknown condition is refused, listing the case's conditions."""
    case = eram(small)
    with pytest.raises(ClearanceError) as refused:
        small.cases.condition_met(
            case.id, actor="us.liaison", condition="x", evidence="paid", now=DAY
        )
    assert said(refused) == (
        "NotFoundError",
        f"case {case.number} has no condition 'x' (it has: ['{FUNDING}'])",
    )


def test_the_last_condition_met_clears_the_case(small: World) -> None:
    """Meeting every condition clears the case; then no condition is recorded again."""
    case = eram(small)
    small.cases.condition_met(
        case.id, actor="us.liaison", condition=FUNDING, evidence="paid", now=DAY
    )
    assert state_of(small, case) == "cleared"
    assert moves_of(small, case)[-1] == (
        "approved_with_conditions",
        "cleared",
        "every condition met",
    )
    with pytest.raises(ClearanceError) as refused:
        small.cases.condition_met(
            case.id, actor="us.liaison", condition=FUNDING, evidence="paid", now=DAY
        )
    assert said(refused) == (
        "IllegalTransition",
        f"case {case.number} is cleared; conditions are met on approved cases",
    )


def test_a_case_seen_but_not_of_ones_party_has_no_condition_of_ones_to_record(
    small: World,
) -> None:
    """Only the requesting party or a consent holder records a condition: a Ukrainian reviewer sees the US case, but acts for UA."""
    case = eram(small)
    with pytest.raises(ClearanceError) as refused:
        small.cases.condition_met(
            case.id, actor="ua.reviewer", condition=FUNDING, evidence="paid", now=DAY
        )
    assert said(refused) == (
        "PermissionDenied",
        "ua.reviewer acts for UA; only US may record a condition of this case",
    )


# Executing -----------------------------------------------------------------------


def test_a_draw_outside_the_approved_quantity_is_refused_naming_it(small: World) -> None:
    """Nothing, or more than approved, is not a draw."""
    case = cleared_eram(small)
    for quantity in (0, 6):
        with pytest.raises(InputError) as refused:
            small.cases.execute(case.id, actor="us.liaison", quantity=quantity, now=DAY)
        assert (refused.value.where, refused.value.problem) == (
            "quantity",
            "must be between 1 and the approved 5",
        )


def test_draws_execute_the_case_part_by_part_each_move_saying_how_much(small: World) -> None:
    """A part drawn leaves the case partly executed; what remains is all that may be drawn;
    the last of it executes the case."""
    case = cleared_eram(small)
    small.cases.execute(case.id, actor="us.liaison", quantity=3, now=DAY)
    assert state_of(small, case) == "partly_executed"
    with pytest.raises(InputError) as refused:
        small.cases.execute(case.id, actor="us.liaison", quantity=3, now=DAY)
    assert refused.value.problem == (
        "must be between 1 and the 2 that remain of the approved 5 (3 already executed)"
    )
    small.cases.execute(case.id, actor="us.liaison", quantity=1, now=DAY)
    assert state_of(small, case) == "partly_executed"
    small.cases.execute(case.id, actor="us.liaison", quantity=None, now=DAY)
    assert state_of(small, case) == "executed"
    assert moves_of(small, case)[-3:] == [
        ("approved_with_conditions", "cleared", "every condition met"),
        ("cleared", "partly_executed", "executed: 3 of 5"),
        ("partly_executed", "executed", "executed: 5 of 5"),
    ]


def test_only_the_requesting_party_records_a_draw(small: World) -> None:
    """usdp, of the US but not the requester's user, may draw; a user of another party may
    not."""
    case = cleared_eram(small)
    with pytest.raises(ClearanceError) as refused:
        small.cases.execute(case.id, actor=ADMIN, quantity=1, now=DAY)
    assert said(refused) == ("NotFoundError", "unknown user 'admin'")


def test_a_case_in_review_is_not_executed(small: World) -> None:
    """Execution follows approval."""
    case = atacms(small)
    with pytest.raises(IllegalTransition):
        small.cases.execute(case.id, actor="ua.liaison", quantity=None, now=DAY)


# Questions -----------------------------------------------------------------------


def test_a_question_is_asked_of_a_case_in_review_only(small: World) -> None:
    """Once decided, a case is asked nothing."""
    case = atacms(small)
    answer(small, case, "hegseth", approve=True)
    with pytest.raises(ClearanceError) as refused:
        small.cases.ask(case.id, actor="hegseth", question="Which unit?", now=DAY)
    assert said(refused) == (
        "IllegalTransition",
        f"case {case.number} is approved; questions are asked of cases in review",
    )


def test_a_reply_is_given_only_to_a_waiting_question(small: World) -> None:
    """The requester answers a question the case waits on, and nothing else."""
    case = atacms(small)
    with pytest.raises(ClearanceError) as refused:
        small.cases.reply(case.id, actor="ua.liaison", answer="The 2nd brigade.", now=DAY)
    assert said(refused) == (
        "IllegalTransition",
        f"case {case.number} is in_review; it is not waiting for an answer",
    )


# What each reader is offered -------------------------------------------------------


def test_each_reader_is_offered_what_the_case_allows_them(small: World) -> None:
    """Offered exactly what the change itself would accept."""
    case = atacms(small)
    cases = small.cases
    assert cases.moves(case.id, actor="ua.liaison", now=DAY) == Moves(withdraw=True)
    assert cases.moves(case.id, actor="hegseth", now=DAY) == Moves(
        answer=(Gate("us.secdef", False, None),), ask=True
    )
    assert cases.moves(case.id, actor="usdp", now=DAY) == Moves()
    assert cases.moves(case.id, actor=ADMIN, now=DAY) == Moves()
    cases.ask(case.id, actor="hegseth", question="Which unit?", now=DAY)
    assert cases.moves(case.id, actor="ua.liaison", now=DAY) == Moves(withdraw=True, reply=True)
    assert cases.moves(case.id, actor="hegseth", now=DAY) == Moves()


def test_a_case_with_a_condition_offers_it_then_the_draws(small: World) -> None:
    """The condition first; once met, a draw of up to what remains."""
    case = eram(small)
    cases = small.cases
    assert cases.moves(case.id, actor="us.liaison", now=DAY) == Moves(
        withdraw=True, conditions=(FUNDING,)
    )
    assert cases.moves(case.id, actor="usdp", now=DAY) == Moves(conditions=(FUNDING,))
    cases.condition_met(case.id, actor="us.liaison", condition=FUNDING, evidence="paid", now=DAY)
    assert cases.moves(case.id, actor="us.liaison", now=DAY) == Moves(
        withdraw=True, execute_up_to=5
    )
    cases.execute(case.id, actor="us.liaison", quantity=3, now=DAY)
    assert cases.moves(case.id, actor="us.liaison", now=DAY) == Moves(
        withdraw=True, execute_up_to=2
    )


@pytest.mark.parametrize(
    ("actor", "action", "fields", "refused"),
    [
        (
            "usdp",
            Action.CASE_WITHDRAW,
            {},
            ("PermissionDenied", "only the requester can withdraw a case"),
        ),
        (
            "us.liaison",
            Action.CASE_MEET_CONDITION,
            {"condition": FUNDING},
            ("InputError", "evidence: say what shows the condition is met"),
        ),
        ("us.liaison", Action.CASE_EXECUTE, {"quantity": 1}, ("IllegalTransition", "")),
    ],
    ids=["withdraw", "condition", "execute"],
)
def test_a_rehearsal_refuses_as_the_change_would_and_writes_nothing(
    small: World,
    actor: str,
    action: Action,
    fields: dict[str, Any],
    refused: tuple[str, str],
) -> None:
    """A rehearsal raises what the change would raise, and the ledger does not move."""
    case = eram(small)
    with small.store.reading() as tx:
        before = tx.ledger.head()
    with pytest.raises(ClearanceError) as rehearsed:
        small.cases.rehearse(case.id, action, actor=actor, now=DAY, **fields)
    assert type(rehearsed.value).__name__ == refused[0]
    if refused[1]:
        assert rehearsed.value.message == refused[1]
    with small.store.reading() as tx:
        assert tx.ledger.head() == before


def test_a_rehearsal_that_would_be_accepted_writes_nothing(small: World) -> None:
    """Each change rehearsed that would pass returns quietly, and writes nothing."""
    case = eram(small)
    with small.store.reading() as tx:
        before = tx.ledger.head()
    small.cases.rehearse(case.id, Action.CASE_WITHDRAW, actor="us.liaison", now=DAY)
    small.cases.rehearse(
        case.id,
        Action.CASE_MEET_CONDITION,
        actor="us.liaison",
        now=DAY,
        condition=FUNDING,
        evidence="paid",
    )
    with small.store.reading() as tx:
        assert tx.ledger.head() == before
    with pytest.raises(AssertionError):
        small.cases.rehearse(case.id, Action.CASE_ANSWER, actor="us.liaison", now=DAY)


def events_of(world: World, case: CaseRecord) -> list[tuple[str, str]]:
    """The case's events in the ledger: their type and who did it."""
    with world.store.reading() as tx:
        return [(str(e.type), e.event.actor) for e in tx.ledger.of_case(case.id)]


def test_an_approval_is_recorded_signed_and_starts_the_approvals_lifetime(small: World) -> None:
    """The answer is kept as given, with its reason as the move's why; the case is approved
    from that moment until its lifetime ends (the start of 17 July 2025)."""
    case = atacms(small)
    view = answer(small, case, "hegseth", approve=True, reason="Proportionate")
    assert (str(view.case.state), view.case.state_since, view.case.expires_at) == (
        "approved",
        DAY,
        dt.datetime(2025, 7, 17, tzinfo=dt.UTC),
    )
    with small.store.reading() as tx:
        given = [
            (a.authority, a.verdict, a.actor, a.on_behalf_of, a.reason, a.at)
            for a in tx.cases.approvals(case.id)
        ]
    assert given == [("us.secdef", "approve", "hegseth", None, "Proportionate", DAY)]
    assert events_of(small, case)[2:] == [
        ("approval_given", "hegseth"),
        ("case_state_changed", "hegseth"),
    ]
    assert moves_of(small, case)[-1] == ("in_review", "approved", "Proportionate")


def test_a_denial_is_recorded_as_such_and_has_no_lifetime(small: World) -> None:
    """A denial is an ``approval_denied`` event and a closed case, lapsing never."""
    case = atacms(small)
    view = answer(small, case, "hegseth", approve=False, reason="No")
    assert (str(view.case.state), view.case.expires_at) == ("denied", None)
    assert events_of(small, case)[2:] == [
        ("approval_denied", "hegseth"),
        ("case_state_changed", "hegseth"),
    ]


def test_a_condition_met_and_a_draw_are_recorded_by_who_made_them(small: World) -> None:
    """The condition keeps when, by whom and what showed it; a draw records what was drawn,
    the total so far and the quantity approved, and moves the stock."""
    case = cleared_eram(small)
    view = small.cases.execute(case.id, actor="us.liaison", quantity=2, now=DAY)
    assert (str(view.case.state), view.case.state_since) == ("partly_executed", DAY)
    with small.store.reading() as tx:
        met = [(k.text, k.met_at, k.met_by, k.evidence) for k in tx.cases.conditions(case.id)]
        payloads = [e.event.payload for e in tx.ledger.of_case(case.id)]
        draws = [(p.quantity, p.drawn, p.approved) for p in payloads if isinstance(p, CaseExecuted)]
    assert met == [(FUNDING, DAY, "us.liaison", "paid")]
    assert draws == [(2, 2, 5)]
    assert events_of(small, case)[3:] == [
        ("condition_met", "us.liaison"),
        ("case_state_changed", "us.liaison"),
        ("case_executed", "us.liaison"),
        ("case_state_changed", "us.liaison"),
        ("stock_moved", "us.liaison"),
    ]


def test_a_case_whose_stored_request_does_not_read_does_not_change(small: World) -> None:
    """A request changed outside clearance is named as unreadable, with why, and the case is
    offered no change until it is put right."""
    case = atacms(small)
    with small.store.database.engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE cases SET request = :bad WHERE id = :id"),
            {"bad": '{"system": 5}', "id": case.id},
        )
    with pytest.raises(ClearanceError) as refused:
        small.cases.withdraw(case.id, actor="ua.liaison", reason="", now=DAY)
    assert said(refused) == (
        "IllegalTransition",
        f"case {case.number}'s stored request cannot be read (request field 'action': is"
        " required ('employ' or 'transfer')); it cannot change until it is put right",
    )
    assert small.cases.moves(case.id, actor="ua.liaison", now=DAY) == Moves()


def test_only_the_requesting_party_records_a_draw_by_name(small: World) -> None:
    """A Ukrainian reviewer sees the US sale but acts for UA: refused, naming both."""
    case = cleared_eram(small)
    with pytest.raises(ClearanceError) as refused:
        small.cases.execute(case.id, actor="ua.reviewer", quantity=1, now=DAY)
    assert said(refused) == (
        "PermissionDenied",
        "ua.reviewer acts for UA; only US may record this case as executed",
    )


def test_an_approval_past_its_lifetime_is_not_executed(small: World) -> None:
    """From the moment the approval lapses it no longer holds, even before the expiry run:
    no draw is offered, and one asked for is refused naming the last day it held."""
    case = cleared_eram(small)
    lapsed = dt.datetime(2027, 6, 16, tzinfo=dt.UTC)
    with pytest.raises(ClearanceError) as refused:
        small.cases.execute(case.id, actor="us.liaison", quantity=1, now=lapsed)
    assert said(refused) == (
        "IllegalTransition",
        f"case {case.number}'s approval held to the end of 2027-06-15 (UTC); it has lapsed"
        " and the case expires: ask again",
    )
    assert small.cases.moves(case.id, actor="us.liaison", now=lapsed) == Moves(withdraw=True)
    just_before = lapsed - dt.timedelta(seconds=1)
    assert small.cases.moves(case.id, actor="us.liaison", now=just_before) == Moves(
        withdraw=True, execute_up_to=5
    )


def test_a_delegate_answers_a_delegable_gate_for_its_holder(small: World) -> None:
    """A US transfer of 161 ATACMS waits on the Under Secretary (a gate that may be
    delegated): his delegate is offered it on his behalf, and the answer records it; the
    Secretary's gate, not delegated, is refused to the delegate by name."""
    small.people.delegate(
        holder_id="usdp",
        delegate_id="us.staff",
        authority="us.usdp",
        valid_from=dt.date(2025, 6, 1),
        valid_to=dt.date(2025, 12, 31),
        now=T0,
    )
    transfer, _ = small.cases.submit({**ATACMS, "quantity": 161}, actor="us.liaison", now=T0)
    assert small.cases.moves(transfer.id, actor="us.staff", now=DAY) == Moves(
        answer=(Gate("us.usdp", True, "usdp"),), ask=True
    )
    small.cases.answer(
        transfer.id, actor="us.staff", approve=True, reason="", signer=signer("usdp"), now=DAY
    )
    with small.store.reading() as tx:
        [given] = tx.cases.approvals(transfer.id)
    assert (given.authority, given.actor, given.on_behalf_of) == ("us.usdp", "us.staff", "usdp")
    signed = json.loads(given.statement)
    assert (signed["actor"], signed["on_behalf_of"], signed["authority"], signed["verdict"]) == (
        "us.staff",
        "usdp",
        "us.usdp",
        "approve",
    )
    assert moves_of(small, transfer)[-1] == ("in_review", "approved", "us.usdp approved")
    strike = atacms(small)
    with pytest.raises(ClearanceError) as refused:
        small.cases.answer(
            strike.id,
            actor="us.staff",
            approve=True,
            reason="",
            signer=signer("usdp"),
            now=DAY,
            authority="us.secdef",
        )
    assert said(refused) == (
        "PermissionDenied",
        "us.staff does not hold us.secdef and is not its delegate",
    )


def test_withdrawing_a_sale_releases_its_stock_by_the_requesters_hand(small: World) -> None:
    """The stock a sale committed moves back when it is withdrawn, recorded against the case
    by whoever withdrew it."""
    case = eram(small)
    small.cases.withdraw(case.id, actor="us.liaison", reason="", now=DAY)
    assert events_of(small, case)[-2:] == [
        ("case_state_changed", "us.liaison"),
        ("stock_moved", "us.liaison"),
    ]


def test_a_rehearsed_condition_not_named_is_the_empty_one(small: World) -> None:
    """Rehearsing a condition met without naming one asks about the condition '' (none)."""
    case = eram(small)
    with pytest.raises(ClearanceError) as refused:
        small.cases.rehearse(
            case.id, Action.CASE_MEET_CONDITION, actor="us.liaison", now=DAY, evidence="paid"
        )
    assert said(refused) == (
        "NotFoundError",
        f"case {case.number} has no condition '' (it has: ['{FUNDING}'])",
    )


def test_a_sale_waits_for_the_legislature_until_its_waiting_period_ends(small: World) -> None:
    """A sale worth $825 million notified to Congress on 28 August 2025 may not be drawn on
    until its 30 days have run: on the last day the draw is refused naming the period, and
    none is offered; the day after, it may be drawn."""
    notified = dt.datetime(2025, 8, 28, 15, 0, tzinfo=dt.UTC)
    last_day = dt.datetime(2025, 9, 27, 23, 59, tzinfo=dt.UTC)
    day_after = dt.datetime(2025, 9, 28, 0, 1, tzinfo=dt.UTC)
    sale = {**ERAM, "value_usd": 825_000_000}
    case, _ = small.cases.submit(sale, actor="us.liaison", now=notified)
    small.cases.condition_met(
        case.id, actor="us.liaison", condition=FUNDING, evidence="paid", now=notified
    )
    with pytest.raises(ClearanceError) as refused:
        small.cases.execute(case.id, actor="us.liaison", quantity=None, now=last_day)
    assert said(refused) == (
        "IllegalTransition",
        f"case {case.number} may not be executed before the waiting period ends on 2025-09-27"
        " (United States Congress, notified 2025-08-28): it may be executed from 2025-09-28,"
        " or earlier if us.president waives it",
    )
    assert small.cases.moves(case.id, actor="us.liaison", now=last_day) == Moves(withdraw=True)
    assert small.cases.moves(case.id, actor="us.liaison", now=day_after) == Moves(
        withdraw=True, execute_up_to=5
    )
    small.cases.execute(case.id, actor="us.liaison", quantity=None, now=day_after)
    assert state_of(small, case) == "executed"


def test_a_draw_the_policy_of_its_day_no_longer_permits_suspends_the_case(small: World) -> None:
    """Approved in April 2025 without review, a strike drawn on 10 May is judged under the
    review mechanism in force from 1 May: the draw is refused, the case suspended by whoever
    asked for it, for the Secretary, who alone is offered it; once he approves, it resumes
    to approved, and its approval starts a new lifetime."""
    april = dt.datetime(2025, 4, 10, 9, 0, tzinfo=dt.UTC)
    may = dt.datetime(2025, 5, 10, 12, 0, tzinfo=dt.UTC)
    case, _ = small.cases.submit({**G2, "date": "2025-04-10"}, actor="ua.liaison", now=april)
    assert str(case.state) == "approved"
    with pytest.raises(ClearanceError) as refused:
        small.cases.execute(case.id, actor="ua.liaison", quantity=1, now=may)
    why = moves_of(small, case)[-1]
    assert why[:2] == ("approved", "suspended")
    assert why[2].startswith("judged again on the day of execution (2025-05-10) under US bundle")
    assert why[2].endswith(
        "in force from 2025-05-01 (US/us-review-mechanism): review_required; it waits for"
        " us.secdef to approve; the execution of 1 was refused"
    )
    assert said(refused) == (
        "ExecutionSuspended",
        f"case {case.number} was not executed and is suspended: {why[2]}",
    )
    with small.store.reading() as tx:
        payloads = [e.event.payload for e in tx.ledger.of_case(case.id)]
    suspended = [
        (p.cause, p.quantity, p.as_of, p.offices) for p in payloads if isinstance(p, CaseSuspended)
    ]
    assert suspended == [("execution", 1, dt.date(2025, 5, 10), ("us.secdef",))]
    assert events_of(small, case)[2:] == [
        ("case_suspended", "ua.liaison"),
        ("case_state_changed", "ua.liaison"),
    ]
    with pytest.raises(ClearanceError) as again:
        small.cases.execute(case.id, actor="ua.liaison", quantity=1, now=may)
    assert said(again) == (
        "IllegalTransition",
        f"case {case.number} is suspended: it may be executed only once the offices the"
        " policy in force names have approved it",
    )
    assert small.cases.moves(case.id, actor="hegseth", now=may) == Moves(
        answer=(Gate("us.secdef", False, None),)
    )
    resumed = small.cases.answer(
        case.id, actor="hegseth", approve=True, reason="", signer=signer("hegseth"), now=may
    )
    assert (str(resumed.case.state), resumed.case.expires_at) == (
        "approved",
        dt.datetime(2025, 6, 10, tzinfo=dt.UTC),
    )
    assert moves_of(small, case)[-1] == ("suspended", "approved", "us.secdef approved")


def test_an_answer_signs_the_case_its_verdict_and_the_ledger_it_follows(small: World) -> None:
    """The statement a denial signs: this request and decision at this level, the offices
    and conditions the decision needs, the office answered, the verdict and reason, by whom
    and for whom, when, after which event of the ledger."""
    case = atacms(small)
    with small.store.reading() as tx:
        [last] = tx.ledger.page(max_level=None, limit=1)
    answer(small, case, "hegseth", approve=False, reason="Escalation risk")
    with small.store.reading() as tx:
        [given] = tx.cases.approvals(case.id)
    assert json.loads(given.statement) == {
        "case_id": case.id,
        "request_digest": case.request_digest,
        "decision_id": case.decision.decision_id,
        "decision_digest": case.decision.digest,
        "outcome": "review_required",
        "bundles": dict(case.decision.bundles),
        "classification": "UNCLASSIFIED",
        "required_approvals": [{"authority": "us.secdef", "delegable": False}],
        "conditions": [],
        "authority": "us.secdef",
        "verdict": "deny",
        "reason": "Escalation risk",
        "actor": "hegseth",
        "on_behalf_of": None,
        "at": DAY.isoformat(),
        "prior_seq": last.seq,
        "prior_hash": last.hash,
    }


def test_the_operator_answers_no_gate_as_nobody(small: World) -> None:
    """The operator sees every case but is no user: an answer needs one, and is refused as
    the unknown ``admin``."""
    case = atacms(small)
    with pytest.raises(ClearanceError) as refused:
        small.cases.answer(
            case.id, actor=ADMIN, approve=True, reason="", signer=signer("hegseth"), now=DAY
        )
    assert said(refused) == ("NotFoundError", "unknown user 'admin'")


def clocks_of(world: World, case: CaseRecord) -> list[tuple[str, object, object]]:
    """Each state change of the case: where to, and the due and expiry times it carries."""
    with world.store.reading() as tx:
        payloads = [e.event.payload for e in tx.ledger.of_case(case.id)]
    return [
        (p.to_state, p.due_at, p.expires_at) for p in payloads if isinstance(p, CaseStateChanged)
    ]


def test_an_answered_question_returns_the_case_to_review_due_anew(small: World) -> None:
    """Asked on 16 June, answered on the 17th: back in review, due at the start of 17 July,
    as the move into review records; an approval's move records when it lapses."""
    case = atacms(small)
    small.cases.ask(case.id, actor="hegseth", question="Which unit?", now=DAY)
    back = small.cases.reply(
        case.id, actor="ua.liaison", answer="The 2nd brigade.", now=DAY + dt.timedelta(days=1)
    )
    due = dt.datetime(2025, 7, 17, tzinfo=dt.UTC)
    assert (str(back.case.state), back.case.due_at) == ("in_review", due)
    small.cases.answer(
        case.id,
        actor="hegseth",
        approve=True,
        reason="",
        signer=signer("hegseth"),
        now=DAY + dt.timedelta(days=2),
    )
    assert clocks_of(small, case) == [
        ("in_review", dt.datetime(2025, 7, 16, tzinfo=dt.UTC), ABSENT),
        ("awaiting_answer", ABSENT, ABSENT),
        ("in_review", due, ABSENT),
        ("approved", ABSENT, dt.datetime(2025, 7, 19, tzinfo=dt.UTC)),
    ]


def test_a_rehearsed_draw_refuses_as_the_draw_would(small: World) -> None:
    """Beyond what remains of the approved quantity, past the approval's lifetime, or a
    change that is not one to rehearse: each refused in the words of the change."""
    case = cleared_eram(small)
    rehearse = small.cases.rehearse
    with pytest.raises(InputError) as too_many:
        rehearse(case.id, Action.CASE_EXECUTE, actor="us.liaison", now=DAY, quantity=6)
    assert too_many.value.problem == "must be between 1 and the approved 5"
    small.cases.execute(case.id, actor="us.liaison", quantity=3, now=DAY)
    with pytest.raises(InputError) as beyond:
        rehearse(case.id, Action.CASE_EXECUTE, actor="us.liaison", now=DAY, quantity=3)
    assert beyond.value.problem == (
        "must be between 1 and the 2 that remain of the approved 5 (3 already executed)"
    )
    rehearse(case.id, Action.CASE_EXECUTE, actor="us.liaison", now=DAY, quantity=2)
    lapsed = dt.datetime(2027, 6, 16, tzinfo=dt.UTC)
    with pytest.raises(ClearanceError) as late:
        rehearse(case.id, Action.CASE_EXECUTE, actor="us.liaison", now=lapsed, quantity=1)
    assert said(late) == (
        "IllegalTransition",
        f"case {case.number}'s approval held to the end of 2027-06-15 (UTC); it has lapsed"
        " and the case expires: ask again",
    )
    with pytest.raises(AssertionError) as no_change:
        rehearse(case.id, Action.CASE_ANSWER, actor="us.liaison", now=DAY)
    assert str(no_change.value) == "case.answer is not a change of a case to rehearse"


def test_a_rehearsed_draw_waits_for_the_legislature_as_the_draw_does(small: World) -> None:
    """On the last day of the waiting period, a rehearsed draw is refused naming it."""
    notified = dt.datetime(2025, 8, 28, 15, 0, tzinfo=dt.UTC)
    case, _ = small.cases.submit(
        {**ERAM, "value_usd": 825_000_000}, actor="us.liaison", now=notified
    )
    small.cases.condition_met(
        case.id, actor="us.liaison", condition=FUNDING, evidence="paid", now=notified
    )
    last_day = dt.datetime(2025, 9, 27, 23, 59, tzinfo=dt.UTC)
    with pytest.raises(ClearanceError) as refused:
        small.cases.rehearse(case.id, Action.CASE_EXECUTE, actor="us.liaison", now=last_day)
    assert said(refused)[1].startswith(
        f"case {case.number} may not be executed before the waiting period ends on 2025-09-27"
    )
