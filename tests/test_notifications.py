"""Which events notify whom, queued in the event's own transaction, on SQLite and PostgreSQL.

The world (tests/worlds.py) has the Secretary of Defense (``hegseth``, in office
from 2025-01-25; ``austin`` before him), the Under Secretary (``usdp``) and the
liaisons of Ukraine and the US. Subscriptions are made through the use cases;
the outbox is read back as the dispatcher would take it. Nothing is sent here
(tests/test_delivery.py sends).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clearance.core.access import Level, Role
from clearance.core.events import BundleActivated
from clearance.core.notices import Kind, backoff, email_address, parse_kinds, webhook_url
from clearance.errors import ExecutionSuspended, InputError, NotFoundError, PermissionDenied
from clearance.policy.engine import Screener
from clearance.policy.pack import load_pack
from clearance.service.accounts import Accounts
from clearance.service.notifications import Notifier
from clearance.service.notify_keys import NotifyKeys
from clearance.service.proposals import PolicyProposals
from clearance.service.subscriptions import Subscriptions
from clearance.store.notifications import DeliveryRecord
from clearance.store.records import LedgerRecord
from clearance.store.repository import Store

from .test_proposals import LATER, candidate
from .worlds import G2, G5, T0, World


@dataclass
class Notified:
    world: World
    keys: NotifyKeys
    notifier: Notifier
    subscriptions: Subscriptions

    @property
    def store(self) -> Store:
        return self.world.store

    def email(self, user: str, *kinds: Kind) -> str:
        address = f"{user}@example.gov"
        self.subscriptions.subscribe(
            actor=user, kinds=[k.value for k in kinds], email=address, now=T0
        )
        return address

    def outbox(self) -> list[DeliveryRecord]:
        with self.store.reading() as tx:
            return list(reversed(tx.notifications.deliveries()))

    def told(self) -> set[tuple[str, str, str]]:
        """(address, kind, about) of every notification queued."""
        return {(r.address, r.kind, r.about) for r in self.outbox()}


def notified_world(world: World, screener: Screener) -> Notified:
    """The world's store with the notifier as the runtime wires it."""

    def authority_of(holder: str, day: dt.date) -> str | None:
        bundle = screener.history.bundle_in_force(holder, day)
        return None if bundle is None else bundle.policy_authority

    keys = NotifyKeys(world.store)
    notifier = Notifier(keys, authority_of=authority_of)
    world.store.reactors.append(notifier.react)
    world.store.observers.append(notifier.committed)
    subscriptions = Subscriptions(
        world.store, keys, is_office=lambda office: screener.catalog.authority(office) is not None
    )
    return Notified(world, keys, notifier, subscriptions)


@pytest.fixture
def notified(world: World, screener: Screener) -> Notified:
    return notified_world(world, screener)


def test_a_case_in_review_tells_the_office_holder_that_day_and_nobody_else(
    notified: Notified,
) -> None:
    secretary = notified.email("hegseth", Kind.WAITING)
    notified.email("austin", Kind.WAITING)  # held the office until the day before hegseth
    notified.email("usdp", Kind.WAITING)  # another office
    notified.email("ua.liaison", Kind.WAITING)  # the requester never decides their own case
    office = "secdef-office@example.gov"
    notified.subscriptions.subscribe(
        actor="admin",
        kinds=["waiting"],
        email=office,
        office="us.secdef",
        clearance="UNCLASSIFIED",
        now=T0,
    )
    assert not notified.notifier.wake.is_set()
    case, _ = notified.world.cases.submit(G2, actor="ua.liaison", now=T0)
    assert notified.told() == {
        (secretary, "waiting", "case 1"),
        (office, "waiting", "case 1"),
    }
    assert notified.notifier.wake.is_set(), "the commit wakes the dispatcher"
    rows = notified.outbox()
    assert {r.case_id for r in rows} == {case.id}
    assert all(notified.keys.sealed(r) for r in rows)
    assert {r.path for r in rows} == {"/cases/1"}
    with notified.store.reading() as tx:
        [event] = [
            e for e in tx.ledger.of_case(case.id) if e.seq == rows[0].event_seq
        ]  # the event it tells of
    assert event.type == "case_state_changed"


def test_a_case_above_a_readers_clearance_tells_them_nothing(notified: Notified) -> None:
    accounts = Accounts(notified.store)
    accounts.set_access("ua.liaison", roles=(Role.REQUESTER,), clearance=Level.SECRET, actor="admin", now=T0)  # fmt: skip
    accounts.set_access("hegseth", roles=(), clearance=Level.CONFIDENTIAL, actor="admin", now=T0)
    notified.email("hegseth", Kind.WAITING)
    notified.subscriptions.subscribe(
        actor="admin",
        kinds=["waiting"],
        email="office@example.gov",
        office="us.secdef",
        clearance="CONFIDENTIAL",
        now=T0,
    )
    notified.world.cases.submit(G2, actor="ua.liaison", now=T0, classification=int(Level.SECRET))
    assert notified.outbox() == []
    notified.world.cases.submit(
        G2, actor="ua.liaison", now=T0, classification=int(Level.CONFIDENTIAL)
    )
    assert {(r.address, r.about) for r in notified.outbox()} == {
        ("hegseth@example.gov", "case 2"),
        ("office@example.gov", "case 2"),
    }


def test_a_decision_tells_the_requester_and_a_condition_too(notified: Notified) -> None:
    liaison = notified.email("ua.liaison", Kind.DECIDED, Kind.CONDITION_DUE)
    us = notified.email("us.liaison", Kind.DECIDED, Kind.CONDITION_DUE)
    notified.email("hegseth", Kind.DECIDED)  # not theirs
    case, _ = notified.world.cases.submit(G2, actor="ua.liaison", now=T0)
    assert notified.outbox() == []
    notified.world.cases.answer(
        case.id,
        actor="hegseth",
        approve=False,
        reason="Not now.",
        signer=notified.world.keys["hegseth"],
        now=T0 + dt.timedelta(hours=1),
    )
    assert notified.told() == {(liaison, "decided", "case 1")}
    eram, _ = notified.world.cases.submit(G5, actor="us.liaison", now=T0)
    assert eram.state.value == "approved_with_conditions"
    assert notified.told() - {(liaison, "decided", "case 1")} == {
        (us, "decided", "case 2"),
        (us, "condition_due", "case 2"),
    }


def test_a_delegate_is_not_told_of_a_gate_the_office_decides_personally(
    notified: Notified,
) -> None:
    notified.world.people.delegate(
        holder_id="hegseth",
        delegate_id="usdp",
        authority="us.secdef",
        valid_from=T0.date(),
        valid_to=T0.date() + dt.timedelta(days=30),
        now=T0,
    )
    notified.email("usdp", Kind.WAITING)
    secretary = notified.email("hegseth", Kind.WAITING)
    notified.world.cases.submit(G2, actor="ua.liaison", now=T0)
    assert notified.told() == {(secretary, "waiting", "case 1")}


def test_a_proposal_waits_for_the_office_that_may_activate_it_and_its_activation_is_told(
    notified: Notified,
) -> None:
    proposals = PolicyProposals(notified.store, load_pack())
    secretary = notified.email("hegseth", Kind.WAITING, Kind.POLICY_ACTIVATED)
    watcher = notified.email("ua.liaison", Kind.POLICY_ACTIVATED, Kind.WAITING)
    proposals.propose(candidate("2027-01-01"), actor="us.liaison", now=LATER)
    assert notified.told() == {(secretary, "waiting", "proposal 1")}
    assert {r.path for r in notified.outbox()} == {"/policy/proposals/1"}
    proposals.activate(1, actor="hegseth", signer=notified.world.keys["hegseth"], now=LATER)
    assert notified.told() - {(secretary, "waiting", "proposal 1")} == {
        (secretary, "policy_activated", "the policy of US"),
        (watcher, "policy_activated", "the policy of US"),
    }


MONDAY = dt.datetime(2025, 6, 16, 9, 0, tzinfo=dt.UTC)


def test_a_question_tells_the_requester_and_its_answer_tells_whoever_asked(
    notified: Notified,
) -> None:
    liaison = notified.email("ua.liaison", Kind.QUESTION)
    secretary = notified.email("hegseth", Kind.QUESTION, Kind.WAITING)
    case, _ = notified.world.cases.submit(G2, actor="ua.liaison", now=MONDAY)
    assert notified.told() == {(secretary, "waiting", "case 1")}
    notified.world.cases.ask(case.id, actor="hegseth", question="Which unit?", now=MONDAY)
    assert notified.told() - {(secretary, "waiting", "case 1")} == {(liaison, "question", "case 1")}
    before = {r.id for r in notified.outbox()}
    notified.world.cases.reply(case.id, actor="ua.liaison", answer="Unit 3", now=MONDAY)
    after = {(r.address, r.kind, r.about) for r in notified.outbox() if r.id not in before}
    assert after == {
        (secretary, "question", "case 1"),  # the answer, to whoever asked
        (secretary, "waiting", "case 1"),  # back in review: the gate still waits
    }


def test_escalation_tells_the_office_then_another_office_then_oversight(
    notified: Notified,
) -> None:
    """The seed's US ladder for us.secdef: the office after 10 working days, the President
    after 20, oversight (the auditors) after 30."""
    accounts = Accounts(notified.store)
    accounts.set_access("us.liaison", roles=(Role.AUDITOR,), clearance=Level.SECRET, actor="admin", now=T0)  # fmt: skip
    notified.world.people.grant(
        user_id="usdp",
        authority="us.president",
        valid_from=dt.date(2025, 1, 20),
        valid_to=None,
        actor="admin",
        now=T0,
    )
    secretary = notified.email("hegseth", Kind.ESCALATION)
    president = notified.email("usdp", Kind.ESCALATION)
    auditor = notified.email("us.liaison", Kind.ESCALATION)
    notified.email("ua.liaison", Kind.ESCALATION)  # the requester is nobody's step
    notified.world.cases.submit(G2, actor="ua.liaison", now=MONDAY)
    notified.world.cases.escalate(actor="admin", now=dt.datetime(2025, 7, 1, 0, 5, tzinfo=dt.UTC))
    assert notified.told() == {(secretary, "escalation", "case 1")}
    notified.world.cases.escalate(actor="admin", now=dt.datetime(2025, 9, 1, tzinfo=dt.UTC))
    assert notified.told() == {
        (secretary, "escalation", "case 1"),
        (president, "escalation", "case 1"),
        (auditor, "escalation", "case 1"),
    }


def test_an_ended_subscription_is_told_nothing_more(notified: Notified) -> None:
    notified.email("hegseth", Kind.WAITING)
    [mine] = notified.subscriptions.listed(actor="hegseth")
    ended = notified.subscriptions.end(mine.id, actor="hegseth", now=T0)
    assert ended.ended_at is not None
    assert notified.subscriptions.listed(actor="hegseth") == []
    notified.world.cases.submit(G2, actor="ua.liaison", now=T0)
    assert notified.outbox() == []


def test_a_packs_bundle_is_news_on_the_day_it_takes_effect_and_not_when_recorded_later(
    notified: Notified,
) -> None:
    watcher = notified.email("ua.liaison", Kind.POLICY_ACTIVATED)
    on_its_day = BundleActivated("GB", "GB/2026", "sha256:1", T0.date())
    caught_up = BundleActivated("FR", "FR/2024", "sha256:2", T0.date() - dt.timedelta(days=400))
    with notified.store.transaction() as tx:
        tx.append(caught_up, actor="clearance", at=T0)
        tx.append(on_its_day, actor="clearance", at=T0)
    assert notified.told() == {(watcher, "policy_activated", "the policy of GB")}


# a change rolled back queues nothing -------------------------------------------------------


def test_a_transaction_rolled_back_after_its_event_queues_nothing(notified: Notified) -> None:
    notified.email("hegseth", Kind.POLICY_ACTIVATED, Kind.WAITING)
    activated = BundleActivated("US", "US/2099", "sha256:0", T0.date())

    def fails_after_its_event() -> None:
        with notified.store.transaction() as tx:
            tx.append(activated, actor="admin", at=T0)
            raise RuntimeError("the use case fails after writing its event")

    with pytest.raises(RuntimeError):
        fails_after_its_event()
    assert notified.outbox() == []

    def fails_after_the_outbox(tx: object, events: Sequence[LedgerRecord]) -> None:
        raise RuntimeError("a later part of the commit fails")

    notified.store.reactors.append(fails_after_the_outbox)
    with pytest.raises(RuntimeError):
        notified.world.cases.submit(G2, actor="ua.liaison", now=T0)
    notified.store.reactors.remove(fails_after_the_outbox)
    assert notified.outbox() == []
    with notified.store.reading() as tx:
        assert tx.cases.by_number(1) is None
        assert next(e.type for e in tx.ledger.page(max_level=None)) == "subscription_added"


# who may subscribe and see what ----------------------------------------------------------


def test_subscriptions_go_through_the_door(notified: Notified) -> None:
    subs = notified.subscriptions
    with pytest.raises(PermissionDenied, match="admin role"):
        subs.subscribe(
            actor="hegseth",
            kinds=["waiting"],
            email="o@example.gov",
            office="us.secdef",
            clearance="SECRET",
            now=T0,
        )
    with pytest.raises(NotFoundError, match="unknown office"):
        subs.subscribe(
            actor="admin",
            kinds=["waiting"],
            email="o@example.gov",
            office="us.nobody",
            clearance="SECRET",
            now=T0,
        )
    notified.email("hegseth", Kind.WAITING)
    [theirs] = subs.listed(actor="hegseth")
    with pytest.raises(NotFoundError, match="no subscription"):
        subs.end(theirs.id, actor="usdp", now=T0)  # another's reads as none at all
    assert subs.listed(actor="usdp") == []
    assert [s.id for s in subs.listed(actor="admin")] == [theirs.id]
    with pytest.raises(PermissionDenied, match="admin role"):
        subs.dead(actor="hegseth")
    with pytest.raises(InputError, match="e-mail subscription has no signing key"):
        subs.signing_key(theirs.id, actor="hegseth")


@pytest.mark.parametrize(
    ("given_", "field", "problem"),
    [
        ({"email": "secdef"}, "email", "is not an e-mail address"),
        ({"email": "a@b@c"}, "email", "is not a plain mailbox name"),
        ({"email": "secdef@example.gov\r\nBcc: x@evil.example"}, "email", ""),
        ({"email": "Sec Def <secdef@example.gov>"}, "email", ""),
        ({"webhook": "http://hooks.example.gov/in"}, "webhook", "is plain HTTP"),
        ({"webhook": "ftp://hooks.example.gov/in"}, "webhook", "is not an https:// URL"),
        ({"webhook": "https://user:pw@hooks.example.gov/"}, "webhook", "user name or password"),
        ({"webhook": "https://hooks.example.gov/#x"}, "webhook", "fragment"),
        ({"email": "a@example.gov", "webhook": "https://x.example"}, "email", "either"),
        ({}, "email", "either"),
    ],
)
def test_a_bad_address_is_refused_naming_its_field_and_nothing_is_saved(
    notified: Notified, given_: dict[str, str], field: str, problem: str
) -> None:
    with notified.store.reading() as tx:
        before = tx.ledger.head()
    with pytest.raises(InputError) as refused:
        notified.subscriptions.subscribe(actor="hegseth", kinds=["waiting"], now=T0, **given_)
    assert refused.value.where == field
    assert problem in refused.value.message
    assert "\n" not in refused.value.message
    assert "\r" not in refused.value.message
    with notified.store.reading() as tx:
        assert tx.ledger.head() == before
        assert tx.notifications.subscriptions() == []


def test_an_unreachable_webhook_is_refused_before_anything_is_saved(notified: Notified) -> None:
    from .notify_support import free_port

    url = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens there
    with pytest.raises(InputError) as refused:
        notified.subscriptions.subscribe(actor="hegseth", kinds=["waiting"], webhook=url, now=T0)
    assert refused.value.where == "webhook"
    assert "cannot be reached" in refused.value.message
    with notified.store.reading() as tx:
        assert tx.notifications.subscriptions() == []


# the pure checks, by property ---------------------------------------------------------------

_ATOM = st.text(st.sampled_from("abcxyz0189-_+"), min_size=1, max_size=10).filter(
    lambda s: s[0] not in "-" and s[-1] not in "-"
)
_LABEL = st.text(st.sampled_from("abcxyz0189"), min_size=1, max_size=10)


@given(_ATOM, st.lists(_LABEL, min_size=1, max_size=4))
def test_a_plain_address_is_taken_as_it_is(local: str, labels: list[str]) -> None:
    address = f"{local}@{'.'.join(labels)}"
    assert email_address(f"  {address} ") == address


@given(st.text(max_size=80))
def test_no_address_with_a_line_break_comma_space_or_angle_is_taken(text: str) -> None:
    poisoned = f"a{text}@example.gov"
    if any(c in text for c in '\r\n,<> \t"()@;:[]\\') or not text.isascii():
        with pytest.raises(InputError) as refused:
            email_address(poisoned)
        assert refused.value.where == "email"
        assert "\n" not in refused.value.message


@given(st.text(max_size=200))
def test_a_webhook_url_is_https_or_loopback_and_never_carries_credentials(text: str) -> None:
    try:
        url = webhook_url(text)
    except InputError as exc:
        refused = exc
    else:
        refused = None
    if refused is not None:
        assert refused.where == "webhook"
        assert "\n" not in refused.message
        return
    assert url.url.startswith(("https://", "http://"))
    assert "@" not in url.url.split("/")[2]
    if url.url.startswith("http://"):
        assert url.host in ("localhost", "127.0.0.1", "::1") or url.host.startswith("127.")


def test_kinds_are_named_and_back_off_doubles_up_to_its_cap() -> None:
    assert parse_kinds(["decided", "WAITING", "waiting"]) == (Kind.WAITING, Kind.DECIDED)
    with pytest.raises(InputError, match="'soon' is not a kind of event"):
        parse_kinds(["soon"])
    with pytest.raises(InputError, match="at least one"):
        parse_kinds([])
    waits = [backoff(n, first=30, longest=3600, draw=1.0) for n in range(1, 10)]
    assert waits[:4] == [30, 60, 120, 240]
    assert max(waits) == 3600
    assert backoff(3, first=30, longest=3600, draw=0.0) == 60  # jitter: half to whole


def test_a_suspension_tells_the_offices_it_waits_on_and_the_requester(
    notified: Notified,
) -> None:
    """An April 2025 strike executed on 10 May: the case is suspended for us.secdef, whose
    holder is told it waits; the requester is told of the suspension."""
    april = dt.datetime(2025, 4, 10, 9, tzinfo=dt.UTC)
    case, _ = notified.world.cases.submit(
        {**G2, "date": "2025-04-10"}, actor="ua.liaison", now=april
    )
    secretary = notified.email("hegseth", Kind.WAITING)
    requester = notified.email("ua.liaison", Kind.DECIDED)
    with pytest.raises(ExecutionSuspended):
        notified.world.cases.execute(
            case.id,
            actor="ua.liaison",
            quantity=None,
            now=dt.datetime(2025, 5, 10, 9, tzinfo=dt.UTC),
        )
    assert notified.told() == {
        (secretary, "waiting", "case 1"),
        (requester, "decided", "case 1"),
    }
