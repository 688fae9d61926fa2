"""The rules of the one door (``service.access``), stated on the door itself.

The access table checks every reader against every case level through the service
and the API; these state the same rules on ``refusal``, ``may``, ``check`` and the
principal, with records made here and the offices read from a small table of
holdings and delegations, so that each rule and the exact words of each refusal
are checked in milliseconds.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any, cast

import pytest

from clearance.core.access import Level, Role
from clearance.core.actors import ADMIN
from clearance.errors import ClearanceError, NotFoundError, PermissionDenied
from clearance.service import access
from clearance.service.access import (
    OPERATOR,
    Action,
    CaseQuestion,
    CaseScope,
    Principal,
    Submission,
    check,
    may,
    refusal,
)
from clearance.store.protocol import Transaction
from clearance.store.records import CaseRecord, DelegationRecord, HoldingRecord, UserRecord

T0 = dt.datetime(2025, 6, 15, 9, 0, tzinfo=dt.UTC)
DAY = dt.date(2025, 6, 15)


def user(
    user_id: str = "ua.liaison",
    *,
    party: str = "UA",
    roles: tuple[str, ...] = ("requester",),
    clearance: Level = Level.SECRET,
) -> UserRecord:
    return UserRecord(
        id=user_id,
        name=user_id,
        party=party,
        public_key="key",
        created_at=T0,
        roles=roles,
        clearance=int(clearance),
    )


def case(*, submitted_by: str = "ua.liaison", classification: Level = Level.SECRET) -> CaseRecord:
    """A case as the door reads it: its id, submitter and level (the rest is not read)."""
    return CaseRecord(
        id="C-7",
        number=7,
        idempotency_key=None,
        submitted_by=submitted_by,
        request=cast(Any, None),
        request_digest="digest",
        stored_decision=cast(Any, None),
        outcome="requires_approval",
        stored_state=cast(Any, "in_review"),
        sla_days=14,
        version=1,
        created_at=T0,
        state_since=T0,
        classification=int(classification),
    )


@dataclass
class _People:
    """The people's table as the door reads it: users, holdings and delegations, each
    filtered as the store filters them (None: any)."""

    users: dict[str, UserRecord] = field(default_factory=dict)
    terms: list[HoldingRecord] = field(default_factory=list)
    given: list[DelegationRecord] = field(default_factory=list)

    def user(self, user_id: str) -> UserRecord | None:
        return self.users.get(user_id)

    def holdings(
        self, *, authority: str | None = None, user_id: str | None = None
    ) -> list[HoldingRecord]:
        return [
            h
            for h in self.terms
            if (authority is None or h.authority == authority)
            and (user_id is None or h.user_id == user_id)
        ]

    def delegations(
        self, *, delegate_id: str | None = None, authority: str | None = None
    ) -> list[DelegationRecord]:
        return [
            d
            for d in self.given
            if (delegate_id is None or d.delegate_id == delegate_id)
            and (authority is None or d.authority == authority)
        ]


@dataclass
class _Tx:
    people: _People


def tx(people: _People) -> Transaction:
    return cast(Transaction, _Tx(people))


def term(user_id: str, authority: str, first: dt.date, last: dt.date | None) -> HoldingRecord:
    return HoldingRecord(user_id=user_id, authority=authority, valid_from=first, valid_to=last)


def delegation(
    holder: str, delegate: str, authority: str, first: dt.date, last: dt.date | None
) -> DelegationRecord:
    return DelegationRecord(
        authority=authority,
        holder_id=holder,
        delegate_id=delegate,
        valid_from=first,
        valid_to=last,
    )


def said(error: ClearanceError | None) -> tuple[str, str] | None:
    """A refusal as its kind and exact words (None: allowed)."""
    return None if error is None else (type(error).__name__, error.message)


# The principal -------------------------------------------------------------------


def test_the_operator_is_admin_cleared_top_secret_with_every_role() -> None:
    """The local operator acts as ``admin``, is cleared TOP SECRET and holds every role."""
    assert OPERATOR.user is None
    assert OPERATOR.offices == ()
    assert OPERATOR.id == ADMIN
    assert OPERATOR.clearance is Level.TOP_SECRET
    assert all(OPERATOR.has(role) for role in Role)
    assert OPERATOR.sees_every_case
    assert OPERATOR.sees_every_party


def test_a_user_is_their_id_at_their_clearance_with_their_roles_alone() -> None:
    """A user's principal is their id and clearance; they hold only the roles they have."""
    someone = Principal(user("ua.liaison", roles=("requester",), clearance=Level.CONFIDENTIAL))
    assert someone.id == "ua.liaison"
    assert someone.clearance is Level.CONFIDENTIAL
    assert someone.has(Role.REQUESTER)
    assert not someone.has(Role.REVIEWER)
    assert not someone.has(Role.AUDITOR)
    assert not someone.has(Role.ADMIN)


def test_the_admin_role_gives_every_other_role() -> None:
    """An admin has every role, though only ``admin`` is written."""
    admin = Principal(user("root", roles=("admin",)))
    assert all(admin.has(role) for role in Role)


@pytest.mark.parametrize(
    ("roles", "offices", "every_case", "every_party"),
    [
        (("requester",), (), False, False),
        (("reviewer",), (), True, True),
        (("auditor",), (), True, True),
        (("admin",), (), True, True),
        (("requester",), ("us.secdef",), True, False),
    ],
    ids=["requester", "reviewer", "auditor", "admin", "office-holder"],
)
def test_who_sees_every_case_and_every_partys_stock(
    roles: tuple[str, ...], offices: tuple[str, ...], every_case: bool, every_party: bool
) -> None:
    """Reviewers, auditors, admins and office holders see every case; an office does not
    widen the stock a user sees to every party's; a requester alone sees neither."""
    someone = Principal(user(roles=roles), offices)
    assert someone.sees_every_case is every_case
    assert someone.sees_every_party is every_party


def test_the_scope_of_the_operator_is_every_case_at_every_level() -> None:
    """The operator's lists are not filtered at all."""
    assert CaseScope.of(OPERATOR) == CaseScope(None, None)


def test_the_scope_of_a_requester_is_their_own_cases_up_to_their_clearance() -> None:
    """A requester alone lists their own cases, up to their clearance."""
    requester = Principal(user("ua.liaison", clearance=Level.CONFIDENTIAL))
    assert CaseScope.of(requester) == CaseScope(int(Level.CONFIDENTIAL), "ua.liaison")


def test_the_scope_of_a_reviewer_is_everyones_cases_up_to_their_clearance() -> None:
    """A reviewer lists anyone's cases, up to their clearance."""
    reviewer = Principal(user("staff", roles=("reviewer",), clearance=Level.SECRET))
    assert CaseScope.of(reviewer) == CaseScope(int(Level.SECRET), None)


# Offices held and delegated ------------------------------------------------------


def _offices_world() -> _People:
    """hegseth holds us.secdef from 2025-01-25; austin held it until 2025-01-20; usdp
    holds us.usdp; the delegations to staff: us.usdp in force, us.secdef from austin (whose
    term has ended), us.usdp again, expired, and us.secdef from usdp, who never held it."""
    return _People(
        users={
            "hegseth": user("hegseth", party="US"),
            "staff": user("staff", party="US"),
            "auditor": user("auditor", party="US", roles=("auditor",)),
        },
        terms=[
            term("austin", "us.secdef", dt.date(2021, 1, 22), dt.date(2025, 1, 20)),
            term("hegseth", "us.secdef", dt.date(2025, 1, 25), None),
            term("usdp", "us.usdp", dt.date(2025, 3, 1), None),
            term("hegseth", "us.cjcs", dt.date(2025, 7, 1), None),
        ],
        given=[
            delegation("usdp", "staff", "us.usdp", dt.date(2025, 6, 1), dt.date(2025, 6, 30)),
            delegation("austin", "staff", "us.secdef", dt.date(2024, 1, 1), None),
            delegation("usdp", "staff", "us.usdp", dt.date(2025, 4, 1), dt.date(2025, 4, 30)),
            delegation("usdp", "staff", "us.secdef", dt.date(2025, 1, 1), None),
        ],
    )


def test_holding_an_office_is_a_term_of_that_office_covering_the_day() -> None:
    """A term covers its first and last day; another office's term is not this one's."""
    t = tx(_offices_world())
    assert access.holds(t, "hegseth", "us.secdef", dt.date(2025, 1, 25))
    assert not access.holds(t, "hegseth", "us.secdef", dt.date(2025, 1, 24))
    assert access.holds(t, "austin", "us.secdef", dt.date(2025, 1, 20))
    assert not access.holds(t, "austin", "us.secdef", dt.date(2025, 1, 21))
    assert not access.holds(t, "hegseth", "us.usdp", DAY)
    assert not access.holds(t, "usdp", "us.secdef", DAY)


def test_a_delegation_is_in_force_while_it_and_its_holders_term_cover_the_day() -> None:
    """A delegation ends with the office it came from, and counts only on its own days."""
    t = tx(_offices_world())
    in_force = access.delegations_in_force(t, "staff", DAY)
    assert [(d.authority, d.holder_id) for d in in_force] == [("us.usdp", "usdp")]
    assert access.delegations_in_force(t, "staff", DAY, authority="us.secdef") == []
    assert access.delegations_in_force(t, "staff", dt.date(2024, 6, 1), authority="us.secdef")
    assert access.delegations_in_force(t, "staff", dt.date(2025, 7, 1)) == []
    assert access.delegations_in_force(t, "hegseth", DAY) == []


def test_the_offices_held_are_those_whose_term_covers_the_day() -> None:
    """Offices held on a day, not those delegated, nor those whose term has not begun."""
    t = tx(_offices_world())
    assert access.held_offices(t, "hegseth", DAY) == frozenset({"us.secdef"})
    assert access.held_offices(t, "hegseth", dt.date(2025, 7, 1)) == frozenset(
        {"us.secdef", "us.cjcs"}
    )
    assert access.held_offices(t, "staff", DAY) == frozenset()


def test_the_offices_in_are_those_held_and_those_delegated_in_force_sorted() -> None:
    """A user's offices on a day: held or delegated to them, in order of name."""
    people = _offices_world()
    people.terms.append(term("staff", "ua.minister", dt.date(2025, 1, 1), None))
    t = tx(people)
    assert access.offices_in(t, "staff", DAY) == ("ua.minister", "us.usdp")
    assert access.offices_in(t, "staff", dt.date(2025, 7, 1)) == ("ua.minister",)
    assert access.offices_in(t, "hegseth", DAY) == ("us.secdef",)


def test_the_principal_of_admin_is_the_operator() -> None:
    """``admin`` is the local operator, read from nowhere."""
    assert access.principal(tx(_People()), ADMIN, DAY) is OPERATOR
    assert access.submitter(tx(_People()), ADMIN) is OPERATOR


def test_a_principal_carries_the_offices_it_holds_or_answers_for_on_the_day() -> None:
    """A user without a role that sees every case carries their offices of the day."""
    t = tx(_offices_world())
    staff = access.principal(t, "staff", DAY)
    assert staff == Principal(user("staff", party="US"), ("us.usdp",))
    assert access.principal(t, "hegseth", DAY).offices == ("us.secdef",)


@pytest.mark.parametrize("role", ["reviewer", "auditor", "admin"])
def test_a_principal_whose_role_sees_every_case_reads_no_offices(role: str) -> None:
    """Reviewers, auditors and admins see every case already: their offices are not read."""
    people = _offices_world()
    people.users["staff"] = user("staff", party="US", roles=("requester", role))
    assert access.principal(tx(people), "staff", DAY).offices == ()


def test_a_submitter_is_the_user_record_alone() -> None:
    """Submitting reads the user alone, never their offices."""
    t = tx(_offices_world())
    assert access.submitter(t, "hegseth") == Principal(user("hegseth", party="US"))


def test_an_unknown_user_is_not_found_by_name() -> None:
    """A user id nobody has is refused as not found, naming it, by either read."""
    t = tx(_People())
    with pytest.raises(NotFoundError) as refused:
        access.principal(t, "nobody", DAY)
    assert refused.value.message == "unknown user 'nobody'"
    with pytest.raises(NotFoundError) as refused:
        access.submitter(t, "nobody")
    assert refused.value.message == "unknown user 'nobody'"


@pytest.mark.parametrize("zone", ["Etc/GMT+12", "Etc/GMT-14"])
def test_today_is_the_utc_date_whatever_the_servers_zone(
    zone: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read applies the rules of the current UTC day: at any hour, one of these zones
    (twelve hours behind, fourteen ahead) is on another date than UTC."""
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        assert access.today() == dt.datetime.now(dt.UTC).date()
    finally:
        monkeypatch.undo()
        time.tzset()


# Seeing a case -------------------------------------------------------------------

REQUESTER = Principal(user("ua.liaison", clearance=Level.SECRET))
OTHER_REQUESTER = Principal(user("ua.other", clearance=Level.TOP_SECRET))
REVIEWER = Principal(user("staff", party="US", roles=("reviewer",), clearance=Level.SECRET))
HOLDER = Principal(user("hegseth", party="US", clearance=Level.SECRET), ("us.secdef",))
AUDITOR = Principal(user("aud", party="US", roles=("auditor",), clearance=Level.SECRET))
AUDITOR_TS = Principal(user("aud", party="US", roles=("auditor",), clearance=Level.TOP_SECRET))
ADMIN_USER = Principal(user("root", party="US", roles=("admin",), clearance=Level.SECRET))

NOT_FOUND = ("NotFoundError", "no case 'C-7'")


def test_the_operator_sees_every_case() -> None:
    """Nothing is hidden from the operator, at any level."""
    assert refusal(OPERATOR, Action.CASE_VIEW, case(classification=Level.TOP_SECRET)) is None


def test_a_requester_sees_their_own_case_up_to_their_clearance_and_no_other() -> None:
    """A requester alone sees the cases they submitted, at or below their clearance; any
    other is not found in the words of one that does not exist."""
    assert refusal(REQUESTER, Action.CASE_VIEW, case(classification=Level.SECRET)) is None
    mine_above = case(classification=Level.TOP_SECRET)
    assert said(refusal(REQUESTER, Action.CASE_VIEW, mine_above)) == NOT_FOUND
    theirs = case(submitted_by="ua.other", classification=Level.UNCLASSIFIED)
    assert said(refusal(REQUESTER, Action.CASE_VIEW, theirs)) == NOT_FOUND


def test_a_reviewer_or_holder_sees_anyones_case_up_to_their_clearance() -> None:
    """Who sees every case sees it at or below their clearance, never above."""
    for reader in (REVIEWER, HOLDER, AUDITOR):
        assert refusal(reader, Action.CASE_VIEW, case(classification=Level.SECRET)) is None
        above = case(classification=Level.TOP_SECRET)
        assert said(refusal(reader, Action.CASE_VIEW, above)) == NOT_FOUND


# Submitting ----------------------------------------------------------------------


def test_the_operator_cannot_submit_as_nobody() -> None:
    """A case is submitted by a user: the operator is refused as the unknown ``admin``."""
    assert said(refusal(OPERATOR, Action.CASE_SUBMIT)) == (
        "NotFoundError",
        "unknown user 'admin'",
    )


def test_submitting_needs_the_requester_role() -> None:
    """Without the requester role the form is not offered at all."""
    assert said(refusal(REVIEWER, Action.CASE_SUBMIT)) == (
        "PermissionDenied",
        "this needs the requester role",
    )
    assert refusal(REQUESTER, Action.CASE_SUBMIT) is None


def test_a_requester_submits_for_their_own_party_up_to_their_clearance() -> None:
    """A submission of one's party at or below one's clearance is allowed."""
    assert refusal(REQUESTER, Action.CASE_SUBMIT, Submission("UA", int(Level.SECRET))) is None


def test_a_submission_for_another_party_is_refused_naming_both() -> None:
    """A user acts for their own party alone."""
    refused = refusal(REQUESTER, Action.CASE_SUBMIT, Submission("US", 0))
    assert said(refused) == (
        "PermissionDenied",
        "ua.liaison acts for UA and cannot submit a request of US",
    )


def test_a_submission_above_the_clearance_is_refused_naming_both_levels() -> None:
    """Nobody submits a case above their clearance."""
    refused = refusal(REQUESTER, Action.CASE_SUBMIT, Submission("UA", int(Level.TOP_SECRET)))
    assert said(refused) == (
        "PermissionDenied",
        "ua.liaison is cleared to SECRET and cannot submit a TOP SECRET case",
    )


# Acting on a case ----------------------------------------------------------------


def test_a_case_not_seen_is_not_found_for_every_action_on_it() -> None:
    """Answering, withdrawing, replying, meeting a condition and executing a case one may
    not see are refused exactly as for a case that does not exist."""
    hidden = case(submitted_by="ua.other")
    for action in (
        Action.CASE_ANSWER,
        Action.CASE_WITHDRAW,
        Action.CASE_REPLY,
        Action.CASE_MEET_CONDITION,
        Action.CASE_EXECUTE,
    ):
        assert said(refusal(REQUESTER, action, hidden)) == NOT_FOUND, action
    asked = CaseQuestion(case(classification=Level.TOP_SECRET), "us.secdef")
    assert said(refusal(HOLDER, Action.CASE_ASK, asked)) == NOT_FOUND


def test_the_requester_never_decides_their_own_case() -> None:
    """Answering one's own case is refused; anyone else who sees it may be asked to."""
    assert said(refusal(REQUESTER, Action.CASE_ANSWER, case())) == (
        "PermissionDenied",
        "the requester can never decide their own case",
    )
    assert refusal(HOLDER, Action.CASE_ANSWER, case()) is None


def test_only_the_requester_withdraws_a_case() -> None:
    """Withdrawing is the submitter's alone."""
    assert refusal(REQUESTER, Action.CASE_WITHDRAW, case()) is None
    assert said(refusal(HOLDER, Action.CASE_WITHDRAW, case())) == (
        "PermissionDenied",
        "only the requester can withdraw a case",
    )


def test_only_the_requester_answers_a_question_on_a_case() -> None:
    """Replying is the submitter's alone."""
    assert refusal(REQUESTER, Action.CASE_REPLY, case()) is None
    assert said(refusal(REVIEWER, Action.CASE_REPLY, case())) == (
        "PermissionDenied",
        "only the requester can answer a question on a case",
    )


def test_a_reviewer_or_a_holder_of_an_open_gate_asks_a_question() -> None:
    """A reviewer asks without an office; a holder asks for the open gate they hold."""
    assert refusal(REVIEWER, Action.CASE_ASK, CaseQuestion(case(), None)) is None
    assert refusal(HOLDER, Action.CASE_ASK, CaseQuestion(case(), "us.secdef")) is None


def test_someone_else_without_an_open_gate_may_not_ask() -> None:
    """An auditor who sees the case, holding no open gate, may not ask."""
    assert said(refusal(AUDITOR, Action.CASE_ASK, CaseQuestion(case(), None))) == (
        "PermissionDenied",
        "only a reviewer, or a holder of an office still to answer, may ask",
    )


def test_the_requester_cannot_ask_their_own_case_a_question() -> None:
    """Even a requester who is also a reviewer does not ask their own case."""
    both = Principal(user("ua.liaison", roles=("requester", "reviewer")))
    assert said(refusal(both, Action.CASE_ASK, CaseQuestion(case(), None))) == (
        "PermissionDenied",
        "the requester cannot ask their own case a question",
    )


def test_the_operator_cannot_ask_as_nobody() -> None:
    """A question is asked by a user: the operator is refused as the unknown ``admin``."""
    assert said(refusal(OPERATOR, Action.CASE_ASK, CaseQuestion(case(), None))) == (
        "NotFoundError",
        "unknown user 'admin'",
    )


def test_meeting_a_condition_and_executing_need_only_seeing_the_case() -> None:
    """The party rule of these is the use case's (``acting_party``): the door asks only
    that the case is seen."""
    for action in (Action.CASE_MEET_CONDITION, Action.CASE_EXECUTE):
        assert refusal(REQUESTER, action, case()) is None
        assert refusal(REVIEWER, action, case()) is None


# Counting, proposals, stock ------------------------------------------------------


def test_counting_every_case_needs_top_secret_and_seeing_every_case() -> None:
    """A count over every level is for who sees every case, cleared TOP SECRET."""
    words = ("PermissionDenied", "counting every case needs TOP SECRET")
    assert refusal(OPERATOR, Action.CASES_COUNT_ALL) is None
    assert refusal(AUDITOR_TS, Action.CASES_COUNT_ALL) is None
    assert said(refusal(AUDITOR, Action.CASES_COUNT_ALL)) == words
    assert said(refusal(OTHER_REQUESTER, Action.CASES_COUNT_ALL)) == words


def test_a_proposal_is_seen_by_its_party_and_who_sees_every_case() -> None:
    """Another party's proposal is not found."""
    assert refusal(OPERATOR, Action.PROPOSAL_VIEW, "US") is None
    assert refusal(REQUESTER, Action.PROPOSAL_VIEW, "UA") is None
    assert refusal(HOLDER, Action.PROPOSAL_VIEW, "UA") is None
    assert said(refusal(REQUESTER, Action.PROPOSAL_VIEW, "US")) == ("NotFoundError", "not found")


def test_stock_is_seen_by_its_party_and_by_reviewers_and_auditors_not_by_holders() -> None:
    """Another party's stock is not found, unless one sees every party's."""
    assert refusal(OPERATOR, Action.STOCK_VIEW, "US") is None
    assert refusal(REQUESTER, Action.STOCK_VIEW, "UA") is None
    assert refusal(AUDITOR, Action.STOCK_VIEW, "UA") is None
    assert said(refusal(HOLDER, Action.STOCK_VIEW, "UA")) == ("NotFoundError", "not found")


# The ledger, reports, tokens, notifications ---------------------------------------


@pytest.mark.parametrize("action", [Action.LEDGER_READ, Action.REPORT_VIEW])
def test_reading_the_ledger_and_reports_needs_the_auditor_role(action: Action) -> None:
    """Auditors (and admins, and the operator) read the ledger and the report."""
    assert refusal(AUDITOR, action) is None
    assert refusal(ADMIN_USER, action) is None
    assert said(refusal(REVIEWER, action)) == ("PermissionDenied", "this needs the auditor role")


def test_verifying_the_whole_ledger_needs_an_auditor_cleared_top_secret() -> None:
    """The role first, then the clearance, each refused in its own words."""
    assert refusal(AUDITOR_TS, Action.LEDGER_VERIFY) is None
    assert refusal(OPERATOR, Action.LEDGER_VERIFY) is None
    assert said(refusal(REVIEWER, Action.LEDGER_VERIFY)) == (
        "PermissionDenied",
        "this needs the auditor role",
    )
    assert said(refusal(AUDITOR, Action.LEDGER_VERIFY)) == (
        "PermissionDenied",
        "verifying the whole ledger needs TOP SECRET clearance",
    )


@pytest.mark.parametrize("action", [Action.TOKENS_MANAGE, Action.SUBSCRIPTIONS_MANAGE])
def test_ones_own_tokens_and_subscriptions_are_ones_own_or_an_admins(action: Action) -> None:
    """A user manages their own; an admin manages anyone's."""
    assert refusal(REQUESTER, action, "ua.liaison") is None
    assert refusal(ADMIN_USER, action, "ua.liaison") is None
    assert said(refusal(REQUESTER, action, "ua.other")) == (
        "PermissionDenied",
        "this needs the admin role",
    )


def test_the_notifications_of_offices_are_an_admins() -> None:
    """Offices' subscriptions and dead letters are for admins alone."""
    assert refusal(ADMIN_USER, Action.NOTIFICATIONS_ADMIN) is None
    assert said(refusal(AUDITOR, Action.NOTIFICATIONS_ADMIN)) == (
        "PermissionDenied",
        "this needs the admin role",
    )


def test_every_action_has_a_rule() -> None:
    """No action falls through the door unanswered."""
    resources: dict[Action, access.Resource] = {
        Action.CASE_SUBMIT: None,
        Action.CASE_ASK: CaseQuestion(case(), None),
        Action.PROPOSAL_VIEW: "UA",
        Action.STOCK_VIEW: "UA",
        Action.TOKENS_MANAGE: "root",
        Action.SUBSCRIPTIONS_MANAGE: "root",
    }
    for action in Action:
        resource = resources.get(action, case())
        if action in (Action.CASES_COUNT_ALL, Action.LEDGER_READ, Action.LEDGER_VERIFY):
            resource = None
        refusal(OPERATOR, action, resource)


def test_may_is_whether_there_is_no_refusal() -> None:
    """``may`` says yes exactly when ``refusal`` has nothing to say."""
    assert may(REQUESTER, Action.CASE_VIEW, case()) is True
    assert may(REQUESTER, Action.CASE_VIEW, case(submitted_by="ua.other")) is False


def test_check_raises_the_refusal_itself() -> None:
    """``check`` raises the refusal, in its words, and returns quietly when allowed."""
    check(REQUESTER, Action.CASE_WITHDRAW, case())
    with pytest.raises(PermissionDenied) as refused:
        check(HOLDER, Action.CASE_WITHDRAW, case())
    assert refused.value.message == "only the requester can withdraw a case"
    with pytest.raises(NotFoundError) as hidden:
        check(REQUESTER, Action.CASE_VIEW, case(submitted_by="ua.other"))
    assert hidden.value.message == "no case 'C-7'"


def test_an_action_without_a_rule_fails_loudly_naming_it() -> None:
    """A value that is no action is a bug, named, never a silent yes or no."""
    with pytest.raises(AssertionError) as failed:
        refusal(OPERATOR, cast(Action, "case.fly"))
    assert str(failed.value) == "no rule for case.fly"
