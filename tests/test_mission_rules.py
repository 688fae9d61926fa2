"""Rules of the mission, each stated once in a test's name and checked where it could break.

Each test here was written against a deliberate breakage of the rule it names (the list
in issue 17): it fails on that breakage and passes without it. Where the demo world lacks
what a rule needs (a TOP SECRET case, a rehashed forgery, a second user reusing an
idempotency key, two gates naming different offices), the test builds it.
"""

from __future__ import annotations

import datetime as dt

import pytest

from clearance.core.access import Level, Role
from clearance.core.actors import ADMIN
from clearance.core.chain import (
    GENESIS,
    ChainVerifier,
    EventType,
    Link,
    Scheme,
    event_body,
    link_hash,
    stitch,
    verify_links,
)
from clearance.core.decision import Outcome
from clearance.core.request import AnyRequest, parse_request
from clearance.core.stockpile import Delivery, Position, Thresholds, months_to_recover, project
from clearance.errors import ConflictError, IllegalTransition, InputError
from clearance.service.accounts import Accounts
from tests.test_properties import make_bundle, make_screener
from tests.worlds import G2, G5, T0, World

FUNDING = "European partners fund the purchase"


# conditions before execution ---------------------------------------------------------


def test_a_case_approved_with_conditions_cannot_be_executed_before_its_conditions_are_met(
    world: World,
) -> None:
    eram, _ = world.cases.submit(G5, actor="us.liaison", now=T0)
    assert eram.state == "approved_with_conditions"
    for quantity in (None, 1):
        with pytest.raises(IllegalTransition, match="approved_with_conditions"):
            world.cases.execute(eram.id, actor="us.liaison", quantity=quantity, now=T0)
    assert world.cases.view(eram.id, actor=ADMIN).case.state == "approved_with_conditions"
    world.cases.condition_met(
        eram.id, actor="us.liaison", condition=FUNDING, evidence="Agreement signed", now=T0
    )
    done = world.cases.execute(eram.id, actor="us.liaison", quantity=None, now=T0)
    assert done.case.state == "executed"


# quantities --------------------------------------------------------------------------


def test_a_case_is_never_executed_beyond_the_quantity_approved(world: World) -> None:
    eram, _ = world.cases.submit(G5, actor="us.liaison", now=T0)
    world.cases.condition_met(
        eram.id, actor="us.liaison", condition=FUNDING, evidence="Agreement signed", now=T0
    )
    asked = G5["quantity"]
    assert isinstance(asked, int)
    with pytest.raises(InputError, match=rf"between 1 and the approved {asked}\b") as refused:
        world.cases.execute(eram.id, actor="us.liaison", quantity=asked + 1, now=T0)
    assert refused.value.where == "quantity"
    part = world.cases.execute(eram.id, actor="us.liaison", quantity=asked - 10, now=T0)
    assert part.case.state == "partly_executed"
    with pytest.raises(InputError, match=r"the 10 that remain") as refused:
        world.cases.execute(eram.id, actor="us.liaison", quantity=11, now=T0)
    assert refused.value.where == "quantity"
    last = world.cases.execute(eram.id, actor="us.liaison", quantity=10, now=T0)
    assert last.case.state == "executed"


def test_a_delivery_on_a_month_boundary_is_counted_once_in_a_projection() -> None:
    start = dt.date(2025, 9, 1)
    boundary = dt.date(2025, 10, 1)  # the last day of month 1, and so not in month 2
    lot = Position("US", "x", 700, 0, (Delivery(start, 500), Delivery(boundary, 200)))
    # A delivery on the opening day is already on hand: it is not added again.
    points = project(lot, 699, Thresholds(), start, 3)
    assert [p.available for p in points] == [699, 899, 899, 899]
    assert months_to_recover(lot, 639, Thresholds(), start) is None  # 839 < 840, for ever


# who sees what -----------------------------------------------------------------------


def test_a_secret_reader_never_finds_a_top_secret_case_in_lists_or_counts(world: World) -> None:
    accounts = Accounts(world.store)
    accounts.set_access(
        "ua.liaison", roles=(Role.REQUESTER,), clearance=Level.TOP_SECRET, actor="admin", now=T0
    )
    accounts.set_access(
        "austin", roles=(Role.REVIEWER,), clearance=Level.SECRET, actor="admin", now=T0
    )
    secret, _ = world.cases.submit(G2, actor="ua.liaison", now=T0, classification=Level.SECRET)
    top, _ = world.cases.submit(
        {**G2, "quantity": 3}, actor="ua.liaison", now=T0, classification=Level.TOP_SECRET
    )

    def seen(actor: str) -> tuple[set[str], int, int]:
        found, total = world.cases.page(actor=actor, states=None, limit=50, offset=0)
        summary = world.cases.open_summary(actor=actor, now=T0, bucket_days=(7,))
        return {c.id for c in found}, total, sum(n for _, _, n, _ in summary)

    assert seen("austin") == ({secret.id}, 1, 1)
    assert seen("ua.liaison") == ({secret.id, top.id}, 2, 2)


# idempotency -------------------------------------------------------------------------


def test_an_idempotency_key_reused_by_another_user_never_returns_the_first_users_case(
    world: World,
) -> None:
    first, created = world.cases.submit(G2, actor="ua.liaison", now=T0, idempotency_key="k-1")
    assert created
    with pytest.raises(ConflictError, match="idempotency key was used for another request"):
        world.cases.submit(G2, actor="us.liaison", now=T0, idempotency_key="k-1")
    again, created = world.cases.submit(G2, actor="ua.liaison", now=T0, idempotency_key="k-1")
    assert (again.id, created) == (first.id, False)
    total = world.cases.page(actor=ADMIN, states=None, limit=50, offset=0)[1]
    assert total == 1


# the chain ---------------------------------------------------------------------------


def _chain(count: int) -> list[Link]:
    links, prev = [], GENESIS
    for seq in range(1, count + 1):
        body = event_body(
            at="2025-01-01T00:00:00+00:00",
            actor="a",
            type=EventType.CONDITION_MET,
            case_id=None,
            payload={"condition": f"condition {seq}", "evidence": "signed"},
        )
        digest = link_hash(seq, None, prev, body)
        links.append(Link(seq, "condition_met", None, prev, digest, Scheme.V2, body))
        prev = digest
    return links


def _rehashed(links: list[Link], seq: int) -> list[Link]:
    """Event ``seq`` rewritten and its own hash recomputed: only the next event's link to
    the hash before it (or, for the last, its seal) can tell."""
    old = links[seq - 1]
    assert old.body is not None
    body = old.body.replace('"signed"', '"forged"')
    digest = link_hash(seq, None, old.prev_hash, body)
    forged = Link(seq, old.type, None, old.prev_hash, digest, old.scheme, body)
    return [*links[: seq - 1], forged, *links[seq:]]


def test_a_rewritten_event_with_its_hash_recomputed_is_caught_by_the_next_events_link() -> None:
    links = _chain(6)
    assert verify_links(links).ok
    report = verify_links(_rehashed(links, 3))
    assert (report.first_bad, report.problem) == (4, "does not link to the event before it")


def test_runs_checked_apart_are_joined_only_where_each_links_to_the_one_before() -> None:
    links = _chain(6)

    def stitched(chain: list[Link]) -> tuple[int | None, str]:
        first, second = ChainVerifier(1, 3), ChainVerifier(4, 6, prev=None)
        first.feed(link.row() for link in chain[:3])
        second.feed(link.row() for link in chain[3:])
        report = stitch([first.segment(), second.segment()])
        return report.first_bad, report.problem

    assert stitched(links) == (None, "")
    # The last event of the first run rewritten and rehashed: each run is whole by itself.
    assert stitched(_rehashed(links, 3)) == (4, "does not link to the event before it")


# the engine's second pass ------------------------------------------------------------

PERMIT = '@id("base")\npermit (principal, action, resource);'
SECDEF_GATE = (
    '@id("secdef-gate")\n@gate("us.secdef")\nforbid (principal, action, resource)\n'
    'when { context.quantity > 10 }\nunless { context.approvals.contains(Authority::"us.secdef") };'
)
USDP_GATE = (
    '@id("usdp-gate")\n@gate("us.usdp")\nforbid (principal, action, resource)\n'
    'when { context.quantity > 10 }\nunless { context.approvals.contains(Authority::"us.usdp") };'
)
COUNTERSIGN = (
    '@id("countersign")\n@gate("us.usdp")\nforbid (principal, action, resource)\n'
    'when { context.approvals.contains(Authority::"us.secdef") }\n'
    'unless { context.approvals.contains(Authority::"us.usdp") };'
)


def _strike(quantity: int) -> AnyRequest:
    return parse_request({**G2, "quantity": quantity})


def test_a_request_behind_two_gates_of_different_offices_needs_both_and_is_not_prohibited() -> None:
    screener = make_screener(
        [make_bundle("US", dt.date(2020, 1, 1), [PERMIT, SECDEF_GATE, USDP_GATE])]
    )
    for _ in range(6):  # the gates come back from Cedar in no fixed order
        decision = screener.decide(_strike(50), decision_id="d", now=T0)
        assert decision.outcome is Outcome.REVIEW_REQUIRED, decision.as_dict()
        assert {a.authority for a in decision.required_approvals} == {"us.secdef", "us.usdp"}
        assert set(decision.reasons) == {"US/secdef-gate", "US/usdp-gate"}
    both = screener.decide(
        _strike(50),
        decision_id="d",
        now=T0,
        approvals=["us.secdef", "us.usdp"],
    )
    assert both.outcome is Outcome.PERMITTED


def test_when_a_gates_approval_would_not_be_enough_the_policy_still_forbidding_is_a_reason() -> (
    None
):
    screener = make_screener(
        [make_bundle("US", dt.date(2020, 1, 1), [PERMIT, SECDEF_GATE, COUNTERSIGN])]
    )
    decision = screener.decide(_strike(50), decision_id="d", now=T0)
    assert decision.outcome is Outcome.PROHIBITED
    assert set(decision.reasons) == {"US/secdef-gate", "US/countersign"}
    assert any("another policy still forbids it" in n for j in decision.judgements for n in j.notes)
