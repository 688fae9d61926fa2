"""The words every ledger event gives people, stated exactly on the pure code (``core.event_words``).

The case timeline, the ledger page and ``cases show`` print these sentences,
and every table and page shows a screening outcome's or a case state's words
in place of its token: the words are rules, so each is stated here whole, for
each kind of event and for each branch of its sentence (a reason given or
not, on behalf of an office or not, a date or none).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from clearance.core.chain import EventType
from clearance.core.decision import Outcome
from clearance.core.event_words import (
    OUTCOME_WORDS,
    STATE_WORDS,
    event_words,
    outcome_words,
    state_words,
    suspension_words,
    words_of,
)
from clearance.core.events import (
    ABSENT,
    ApiTokenIssued,
    ApiTokenRevoked,
    ApprovalDenied,
    ApprovalGiven,
    BundleActivated,
    BundleProposed,
    CaseExecuted,
    CaseRescreened,
    CaseRescreenFailed,
    CaseStateChanged,
    CaseSubmitted,
    CaseSuspended,
    ConditionMet,
    DelegationGranted,
    EscalationReached,
    Event,
    GoldenTally,
    HoldingGranted,
    Payload,
    QuestionAnswered,
    QuestionAsked,
    StockMove,
    StockMoved,
    SubscriptionAdded,
    SubscriptionEnded,
    SystemKeyAdded,
    UserAccessChanged,
    UserAdded,
    WaitingPeriodWaived,
)
from clearance.core.stockpile import MovementKind
from clearance.core.workflow import CaseState

T0 = dt.datetime(2025, 6, 15, 9, 30, tzinfo=dt.UTC)
EMPLOY = {
    "action": "employ",
    "requester": "UA",
    "system": "atacms",
    "quantity": 2,
    "target": {"territory": "RU"},
    "date": "2025-06-15",
}
BUNDLE = "sha256:0123456789abcdef0123456789abcdef"
"""A bundle's digest, longer than the 19 characters a sentence shows of it."""


def said(payload: Payload, actor: str = "ua.liaison") -> str:
    """The sentence of an event carrying ``payload``, recorded by ``actor``."""
    return event_words(Event(T0, actor, "case-1", payload))


# outcomes and states ---------------------------------------------------------------


def test_each_screening_outcome_has_its_words() -> None:
    assert {o.value: outcome_words(o.value) for o in Outcome} == {
        "permitted": "permitted",
        "review_required": "review required",
        "prohibited": "prohibited",
    }
    assert set(OUTCOME_WORDS) == set(Outcome)


def test_a_value_that_is_no_outcome_is_shown_as_it_is() -> None:
    assert outcome_words("review_optional") == "review_optional"


def test_each_case_state_has_its_words() -> None:
    assert {s.value: state_words(s.value) for s in CaseState} == {
        "submitted": "submitted",
        "in_review": "in review",
        "awaiting_answer": "awaiting answer",
        "approved": "approved",
        "approved_with_conditions": "approved with conditions",
        "cleared": "cleared",
        "denied": "denied",
        "withdrawn": "withdrawn",
        "expired": "expired",
        "executed": "executed",
        "partly_executed": "partly executed",
        "suspended": "suspended",
    }
    assert set(STATE_WORDS) == set(CaseState)


def test_a_state_of_something_else_is_shown_with_its_underscores_as_spaces() -> None:
    assert state_words("open_for_comment") == "open for comment"


# cases -----------------------------------------------------------------------------


def test_a_submission_says_its_level_its_request_and_its_screening() -> None:
    submitted = CaseSubmitted(
        EMPLOY, "sha256:00", {"outcome": "review_required"}, classification="SECRET"
    )
    assert said(submitted) == (
        "submitted as SECRET: UA employs 2 × atacms against a target in RU, 2025-06-15;"
        " screened: review required"
    )


def test_a_submission_recorded_without_a_level_is_unclassified() -> None:
    submitted = CaseSubmitted(EMPLOY, "sha256:00", {"outcome": "permitted"})
    assert said(submitted) == (
        "submitted as UNCLASSIFIED: UA employs 2 × atacms against a target in RU, 2025-06-15;"
        " screened: permitted"
    )


def test_a_submission_of_a_request_that_cannot_be_described_says_so() -> None:
    submitted = CaseSubmitted({"action": "employ"}, "sha256:00", {})
    assert said(submitted) == ("submitted as UNCLASSIFIED: a request of another shape; screened: ?")


@pytest.mark.parametrize("target", ["RU", ["RU"], None])
def test_a_submission_whose_target_is_not_an_object_says_its_request_is_of_another_shape(
    target: Any,
) -> None:
    """A body changed outside clearance is still said in words, never an error."""
    submitted = CaseSubmitted({**EMPLOY, "target": target}, "sha256:00", {"outcome": "permitted"})
    assert said(submitted) == (
        "submitted as UNCLASSIFIED: a request of another shape; screened: permitted"
    )


def test_a_move_between_states_says_both_states_and_why() -> None:
    moved = CaseStateChanged("in_review", "approved_with_conditions", "screened: permitted")
    assert said(moved) == "in review → approved with conditions: screened: permitted"


def test_a_move_without_a_reason_says_only_the_states() -> None:
    assert said(CaseStateChanged("submitted", "in_review", "")) == "submitted → in review"


def test_a_move_into_review_says_the_last_day_the_case_is_due() -> None:
    """A case due at the first moment of a day is due by the end of the day before."""
    due = dt.datetime(2025, 7, 1, tzinfo=dt.UTC)
    moved = CaseStateChanged("submitted", "in_review", "screened", due_at=due)
    assert said(moved) == ("submitted → in review: screened; due by the end of 2025-06-30 (UTC)")
    unexplained = CaseStateChanged("submitted", "in_review", "", due_at=due)
    assert said(unexplained) == "submitted → in review; due by the end of 2025-06-30 (UTC)"


def test_a_question_names_who_asked_it_and_that_the_clock_stops() -> None:
    assert said(QuestionAsked("Which unit?", None), actor="us.reviewer") == (
        "us.reviewer asked the requester: “Which unit?” (the review clock stops)"
    )


def test_a_question_asked_for_an_office_names_the_office() -> None:
    assert said(QuestionAsked("Which unit?", "us.dod"), actor="us.secdef") == (
        "us.secdef for us.dod asked the requester: “Which unit?” (the review clock stops)"
    )


def test_an_answer_says_the_clock_runs_again() -> None:
    assert said(QuestionAnswered("The 3rd brigade.")) == (
        "the requester answered: “The 3rd brigade.” (the review clock runs again)"
    )


@pytest.mark.parametrize(
    ("tell", "whom"),
    [
        ("office", "us.dod reminded"),
        ("oversight", "oversight told"),
        ("us.state", "us.state told"),
    ],
)
def test_an_escalation_says_its_step_how_long_and_whom_it_tells(tell: str, whom: str) -> None:
    reached = EscalationReached("us.dod", 2, 10, "working_days", tell)
    assert said(reached) == (
        f"escalation step 2 for us.dod: 10 working days without an answer; {whom}"
    )


def _statement(**extra: Any) -> dict[str, Any]:
    return {"authority": "us.dod", "actor": "us.secdef", **extra}


@pytest.mark.parametrize(
    ("statement", "words"),
    [
        (_statement(), "us.dod approved, signed by us.secdef"),
        (
            _statement(on_behalf_of="us.state", reason="Within the ceiling."),
            "us.dod approved, signed by us.secdef for us.state: “Within the ceiling.”",
        ),
        (_statement(on_behalf_of="", reason=""), "us.dod approved, signed by us.secdef"),
        ({}, "None approved, signed by None"),
    ],
)
def test_an_approval_names_the_office_the_signer_and_the_reason_given(
    statement: dict[str, Any], words: str
) -> None:
    assert said(ApprovalGiven(statement, "sig", "key")) == words


def test_a_denial_is_said_as_an_approval_is_with_denied() -> None:
    denied = ApprovalDenied(
        _statement(on_behalf_of="us.state", reason="Over the ceiling."), "sig", "key"
    )
    assert said(denied) == ("us.dod denied, signed by us.secdef for us.state: “Over the ceiling.”")
    assert said(ApprovalDenied(_statement(), "sig", "key")) == (
        "us.dod denied, signed by us.secdef"
    )


@pytest.mark.parametrize(
    ("statement", "words"),
    [
        (
            _statement(waiting_period={"ends_on": "2025-09-27"}, reason="An emergency."),
            "waiting period waived (it would have ended 2025-09-27) by us.dod,"
            " signed by us.secdef: “An emergency.”",
        ),
        (_statement(), "waiting period waived by us.dod, signed by us.secdef"),
        (_statement(waiting_period=None), "waiting period waived by us.dod, signed by us.secdef"),
        (
            _statement(waiting_period={"days": 30}, reason=""),
            "waiting period waived by us.dod, signed by us.secdef",
        ),
    ],
)
def test_a_waiver_says_when_the_period_would_have_ended_who_waived_it_and_why(
    statement: dict[str, Any], words: str
) -> None:
    assert said(WaitingPeriodWaived(statement, "sig", "key")) == words


def test_a_condition_met_says_the_condition_and_its_evidence() -> None:
    assert said(ConditionMet("end-use report", "report 7")) == (
        "condition met: end-use report (evidence: report 7)"
    )


def test_a_rescreening_says_the_day_and_both_outcomes() -> None:
    rescreened = CaseRescreened("permitted", "prohibited", dt.date(2025, 8, 28), {})
    assert said(rescreened) == (
        "screened again as of 2025-08-28: was permitted, would now be prohibited"
    )


def test_a_failed_rescreening_says_the_problem() -> None:
    assert said(CaseRescreenFailed("no bundle in force")) == (
        "could not be screened again: no bundle in force"
    )


@pytest.mark.parametrize(
    ("drawn", "rest"),
    [(9, "1 remain"), (10, "nothing remains"), (11, "nothing remains"), (4, "6 remain")],
)
def test_a_draw_says_what_was_drawn_of_what_and_what_remains(drawn: int, rest: str) -> None:
    assert said(CaseExecuted(2, drawn, 10)) == (
        f"executed 2: {drawn} of the approved 10 drawn, {rest}"
    )


# suspension ------------------------------------------------------------------------


def _holder(party: str, outcome: str, **extra: Any) -> dict[str, Any]:
    return {"party": party, "outcome": outcome, **extra}


def _suspended(
    decision: dict[str, Any],
    offices: tuple[str, ...] = ("us.dod", "us.state"),
    cause: str = "execution",
    quantity: int | None = 2,
) -> CaseSuspended:
    return CaseSuspended(cause, dt.date(2025, 8, 28), offices, decision, "sha256:00", quantity)


def test_a_suspension_on_a_draw_names_the_day_the_bundle_the_policies_and_the_offices() -> None:
    decision = {
        "outcome": "review_required",
        "holders": [
            _holder("UA", "permitted", bundle=BUNDLE),
            _holder(
                "US",
                "review_required",
                bundle=BUNDLE,
                bundle_effective_from="2025-08-28",
                reasons=["us-mde-review", "us-ceiling"],
            ),
        ],
    }
    assert suspension_words(_suspended(decision)) == (
        "judged again on the day of execution (2025-08-28) under"
        " US bundle sha256:0123456789ab… in force from 2025-08-28"
        " (us-mde-review, us-ceiling): review_required;"
        " it waits for us.dod, us.state to approve; the execution of 2 was refused"
    )


def test_a_suspension_when_a_bundle_took_effect_refuses_no_draw() -> None:
    decision = {"outcome": "prohibited", "holders": [_holder("US", "prohibited", bundle=BUNDLE)]}
    suspended = _suspended(decision, offices=(), cause="activation", quantity=None)
    assert suspension_words(suspended) == (
        "judged again when a bundle took effect (2025-08-28) under"
        " US bundle sha256:0123456789ab… (no policy permits it): prohibited;"
        " no office can approve it under the policy in force; it may be withdrawn"
    )


def test_a_suspended_event_is_said_as_suspended_then_why() -> None:
    suspended = _suspended({}, offices=("us.dod",), quantity=0)
    assert said(suspended) == (
        "suspended: judged again on the day of execution (2025-08-28) under the policy"
        " in force: ?; it waits for us.dod to approve; the execution of 0 was refused"
    )


@pytest.mark.parametrize(
    ("holders", "under"),
    [
        (None, "the policy in force"),
        ([], "the policy in force"),
        ([_holder("UA", "permitted")], "the policy in force"),
        (["US", _holder("US", "prohibited")], "US bundle no bundle… (no policy permits it)"),
        (
            [_holder("US", "prohibited", bundle="", reasons=[], bundle_effective_from="")],
            "US bundle no bundle… (no policy permits it)",
        ),
        (
            [
                _holder("US", "prohibited", bundle="US/1", reasons=["a"]),
                _holder("DE", "review_required", bundle="DE/2", reasons=["b", 3]),
            ],
            "US bundle US/1… (a); DE bundle DE/2… (b, 3)",
        ),
    ],
)
def test_a_suspension_names_each_holder_whose_policy_does_not_permit_it(
    holders: Any, under: str
) -> None:
    suspended = _suspended({"outcome": "prohibited", "holders": holders}, quantity=None)
    assert suspension_words(suspended) == (
        f"judged again on the day of execution (2025-08-28) under {under}: prohibited;"
        " it waits for us.dod, us.state to approve"
    )


# policy ----------------------------------------------------------------------------


def test_a_proposal_says_its_number_holder_day_title_and_golden_cases() -> None:
    proposed = BundleProposed(
        "p-1", 3, "US", dt.date(2099, 1, 1), "r", "Ceiling raised", GoldenTally(12, 1)
    )
    assert said(proposed) == (
        "proposal 3: policy of US from 2099-01-01, “Ceiling raised”; golden cases 12 pass, 1 fail"
    )


def test_a_bundle_in_force_says_its_holder_bundle_and_day() -> None:
    activated = BundleActivated("US", "US/2025-08-28", "r", dt.date(2025, 8, 28))
    assert said(activated) == "policy of US (US/2025-08-28) in force from 2025-08-28"


def test_an_activated_proposal_names_the_office_that_activated_it() -> None:
    activated = BundleActivated(
        "US", "US/2099-01-01", "r", dt.date(2099, 1, 1), proposal="p-1", authority="us.dod"
    )
    assert said(activated) == (
        "policy of US (US/2099-01-01) in force from 2099-01-01, activated as us.dod"
    )


# people ----------------------------------------------------------------------------


def test_a_system_key_shows_its_first_twelve_characters() -> None:
    assert said(SystemKeyAdded("ed25519:0123456789abcdef")) == (
        "system key ed25519:0123… recorded: it seals the ledger from here on"
    )


def test_a_user_added_says_name_and_party() -> None:
    assert said(UserAdded("ua.liaison", "Olena K.", "UA", "key")) == (
        "user ua.liaison (Olena K., UA) added"
    )


@pytest.mark.parametrize(
    ("changed", "words"),
    [
        (
            UserAccessChanged("u", roles=("requester", "reviewer"), clearance="SECRET"),
            "access of u changed: roles requester, reviewer; cleared SECRET",
        ),
        (UserAccessChanged("u", roles=()), "access of u changed: roles none"),
        (UserAccessChanged("u", password="set"), "access of u changed: password set"),
        (UserAccessChanged("u", clearance="TOP SECRET"), "access of u changed: cleared TOP SECRET"),
        (UserAccessChanged("u"), "access of u changed: no change"),
    ],
)
def test_an_access_change_lists_what_changed(changed: UserAccessChanged, words: str) -> None:
    assert said(changed) == words


def test_a_token_says_its_name_its_user_and_the_day_it_ends() -> None:
    until = dt.datetime(2026, 1, 1, 23, 0, tzinfo=dt.UTC)
    assert said(ApiTokenIssued("t", "u", "ci", expires_at=until)) == (
        "API token “ci” issued for u, until 2026-01-01"
    )
    assert said(ApiTokenIssued("t", "u", "ci")) == "API token “ci” issued for u"


@pytest.mark.parametrize(
    ("reason", "words"),
    [
        ("password_set", "API token of u revoked (password set)"),
        ("asked", "API token of u revoked"),
        (ABSENT, "API token of u revoked"),
    ],
)
def test_a_revoked_token_says_when_a_password_set_revoked_it(reason: Any, words: str) -> None:
    assert said(ApiTokenRevoked("t", "u", reason=reason)) == words


def test_a_holding_says_from_and_to_when_it_ends() -> None:
    held = HoldingGranted("us.secdef", "us.dod", dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    assert said(held) == "us.secdef holds us.dod from 2025-01-01 to 2025-12-31"
    open_ended = HoldingGranted("us.secdef", "us.dod", dt.date(2025, 1, 1), None)
    assert said(open_ended) == "us.secdef holds us.dod from 2025-01-01"


def test_a_delegation_says_who_delegates_what_to_whom_and_when() -> None:
    delegated = DelegationGranted(
        "us.dod", "us.secdef", "us.depsecdef", dt.date(2025, 7, 1), dt.date(2025, 7, 14)
    )
    assert said(delegated) == (
        "us.secdef delegates us.dod to us.depsecdef from 2025-07-01 to 2025-07-14"
    )


# stock -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "did"),
    [
        (MovementKind.RECEIPT, "received 5 × atacms into stock on hand"),
        (MovementKind.COMMIT, "committed 5 × atacms (still on hand)"),
        (MovementKind.RELEASE, "released a commitment of 5 × atacms"),
        (MovementKind.TRANSFER_OUT, "moved 5 × atacms from stock on hand to handed over"),
        (MovementKind.TRANSFER_IN, "took 5 × atacms into stock on hand"),
        (MovementKind.CONSUME, "moved 5 × atacms from stock on hand to consumed"),
    ],
)
def test_each_kind_of_movement_says_what_it_did_to_the_stock(kind: MovementKind, did: str) -> None:
    moved = StockMoved((StockMove("US", "atacms", kind, 5, dt.date(2025, 6, 15)),))
    assert said(moved) == f"US {did}, 2025-06-15"


def test_movements_are_said_in_order_and_none_says_no_stock_moved() -> None:
    moved = StockMoved(
        (
            StockMove("US", "atacms", MovementKind.TRANSFER_OUT, 5, dt.date(2025, 6, 15)),
            StockMove("UA", "atacms", MovementKind.TRANSFER_IN, 5, dt.date(2025, 6, 16)),
        )
    )
    assert said(moved) == (
        "US moved 5 × atacms from stock on hand to handed over, 2025-06-15;"
        " UA took 5 × atacms into stock on hand, 2025-06-16"
    )
    assert said(StockMoved(())) == "no stock moved"


# notifications ---------------------------------------------------------------------


def test_a_user_subscription_says_whom_what_how_where_and_its_short_id() -> None:
    added = SubscriptionAdded(
        "0123456789ab", "ua.liaison", None, "SECRET", ("decided", "question"), "email", "a@b.gov"
    )
    assert said(added) == (
        "ua.liaison subscribed to decided, question by email at a@b.gov (subscription 01234567)"
    )


def test_an_office_subscription_names_the_office_and_its_clearance() -> None:
    added = SubscriptionAdded(
        "0123456789ab", None, "us.dod", "SECRET", ("waiting",), "webhook", "https://h.gov/in"
    )
    assert said(added) == (
        "the office us.dod subscribed to waiting by webhook at https://h.gov/in"
        " (subscription 01234567), cleared SECRET"
    )
    uncleared = SubscriptionAdded("0123456789ab", None, "us.dod", None, (), "email", "a@b.gov")
    assert said(uncleared) == (
        "the office us.dod subscribed to nothing by email at a@b.gov (subscription 01234567)"
    )


def test_an_ended_subscription_names_whose_it_was() -> None:
    assert said(SubscriptionEnded("0123456789ab", "ua.liaison", None)) == (
        "subscription 01234567 of ua.liaison ended"
    )
    assert said(SubscriptionEnded("0123456789ab", "ua.liaison", "us.dod")) == (
        "subscription 01234567 of the office us.dod ended"
    )
    assert said(SubscriptionEnded("0123456789ab", None, None)) == (
        "subscription 01234567 of nobody ended"
    )


# bodies as the interfaces hold them --------------------------------------------------


def test_a_readable_body_is_said_as_its_event() -> None:
    body = {
        "at": T0.isoformat(),
        "actor": "ua.liaison",
        "case_id": "case-1",
        "type": "condition_met",
        "payload": {"condition": "end-use report", "evidence": "report 7"},
    }
    assert words_of(body) == "condition met: end-use report (evidence: report 7)"


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("stock_moved", "stock_moved"),
        (EventType.CONDITION_MET, "condition_met"),
        ("no_such_event", "ledger"),
        (None, "ledger"),
    ],
)
def test_an_unreadable_body_says_which_event_cannot_be_read(kind: Any, name: str) -> None:
    body = {"at": T0.isoformat(), "actor": "a", "type": kind, "payload": {"x": 1}}
    assert words_of(body) == (
        f"a {name} event whose details cannot be read (audit verify names why)"
    )
