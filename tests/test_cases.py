"""Cases on a real database (SQLite and PostgreSQL): the seed story, who may decide, concurrency."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import threading
from pathlib import Path

import pytest

from clearance.core.access import Level, Role
from clearance.core.actors import ADMIN
from clearance.core.chain import EventType
from clearance.errors import (
    ClearanceError,
    ConflictError,
    IllegalTransition,
    InputError,
    NotFoundError,
    PermissionDenied,
    SignatureError,
)
from clearance.policy.engine import Screener
from clearance.policy.pack import ScenarioPack, default_pack_path, load_pack
from clearance.service import audit
from clearance.service.accounts import Accounts
from clearance.service.cases import CaseService
from clearance.store.repository import Store
from tests.worlds import G1, G2, G3, G5, T0, World


def test_the_seed_story(world: World) -> None:
    cases = world.cases
    atacms, _ = cases.submit(G2, actor="ua.liaison", now=T0)
    assert atacms.state == "in_review"
    assert [
        a["authority"] for a in cases.view(atacms.id, actor=ADMIN).decision["required_approvals"]
    ] == ["us.secdef"]
    denied = cases.answer(
        atacms.id,
        actor="hegseth",
        approve=False,
        reason="Risk of escalation",
        signer=world.keys["hegseth"],
        now=T0 + dt.timedelta(days=90),
    )
    assert denied.case.state == "denied"
    view = cases.view(atacms.id, actor=ADMIN)
    assert view.approvals[0].reason == "Risk of escalation"
    assert view.time_in_states(T0 + dt.timedelta(days=91))["in_review"] == pytest.approx(90)

    storm, _ = cases.submit(G3, actor="ua.liaison", now=T0)
    assert storm.state == "in_review"
    assert cases.view(storm.id, actor=ADMIN).decision["consent_holders"] == ["FR", "GB", "US"]

    eram, _ = cases.submit(G5, actor="us.liaison", now=T0)
    assert eram.state == "approved_with_conditions"
    cleared = cases.condition_met(
        eram.id,
        actor="us.liaison",
        condition="European partners fund the purchase",
        evidence="Funding agreement signed",
        now=T0,
    )
    assert cleared.case.state == "cleared"
    executed = cases.execute(eram.id, actor="us.liaison", quantity=None, now=T0)
    assert executed.case.state == "executed"

    early, _ = cases.submit(G1, actor="ua.liaison", now=T0)
    assert early.state == "approved"
    assert audit.verify(world.store).ok


def test_who_may_not_decide(world: World, store: Store) -> None:
    case, _ = world.cases.submit(G2, actor="ua.liaison", now=T0)

    def answer(actor: str, signer: str | None = None, **kwargs: object) -> None:
        world.cases.answer(
            case.id,
            actor=actor,
            approve=True,
            reason="",
            signer=world.keys[signer or actor],
            now=T0,
            **kwargs,
        )  # type: ignore[arg-type]

    with pytest.raises(PermissionDenied, match=r"does not hold us\.secdef"):
        answer("usdp")
    # His term ended when the next Secretary took office: holding no office and having no
    # role beyond requester, he sees only his own cases, so this one is not found to him.
    with pytest.raises(NotFoundError, match="no case"):
        answer("austin")
    Accounts(store).set_access(
        "austin", roles=(Role.REVIEWER,), clearance=Level.UNCLASSIFIED, actor="admin", now=T0
    )
    with pytest.raises(PermissionDenied, match="no longer holds"):
        answer("austin")  # a reviewer sees the case, and still may not decide it
    with pytest.raises(PermissionDenied, match="own case"):
        answer("ua.liaison")
    with pytest.raises(SignatureError):
        answer("hegseth", signer="usdp")
    world.people.delegate(
        holder_id="hegseth",
        delegate_id="usdp",
        authority="us.secdef",
        valid_from=dt.date(2025, 6, 1),
        valid_to=dt.date(2025, 12, 31),
        now=T0,
    )
    with pytest.raises(PermissionDenied, match="personally"):
        answer("usdp")
    with pytest.raises(InputError, match="reason"):
        world.cases.answer(
            case.id,
            actor="hegseth",
            approve=False,
            reason=" ",
            signer=world.keys["hegseth"],
            now=T0,
        )
    assert world.cases.view(case.id, actor=ADMIN).case.state == "in_review"
    assert world.cases.view(case.id, actor=ADMIN).approvals == ()
    answer("hegseth")
    assert world.cases.view(case.id, actor=ADMIN).case.state == "approved"
    with pytest.raises(IllegalTransition):
        answer("hegseth")


def test_an_office_is_delegated_only_to_a_user_of_its_party(world: World) -> None:
    def delegate(to: str) -> None:
        world.people.delegate(
            holder_id="hegseth",
            delegate_id=to,
            authority="us.secdef",
            valid_from=dt.date(2025, 6, 1),
            valid_to=dt.date(2025, 12, 31),
            now=T0,
        )

    with pytest.raises(PermissionDenied) as refused:
        delegate("ua.liaison")
    assert str(refused.value) == (
        "ua.liaison acts for UA: only a user of US may be a delegate for us.secdef"
    )
    with world.store.reading() as tx:
        assert tx.people.delegations(delegate_id="ua.liaison") == []
        assert tx.ledger.of_type(EventType.DELEGATION_GRANTED) == []
    delegate("us.liaison")
    with world.store.reading() as tx:
        assert [d.holder_id for d in tx.people.delegations(delegate_id="us.liaison")] == ["hegseth"]


def test_illegal_moves_are_refused(world: World) -> None:
    case, _ = world.cases.submit(G2, actor="ua.liaison", now=T0)
    with pytest.raises(IllegalTransition, match="in_review cannot become executed"):
        world.cases.execute(case.id, actor="ua.liaison", quantity=None, now=T0)
    with pytest.raises(PermissionDenied):
        world.cases.withdraw(case.id, actor="hegseth", reason="", now=T0)
    assert (
        world.cases.withdraw(case.id, actor="ua.liaison", reason="overtaken", now=T0).case.state
        == "withdrawn"
    )


def test_overdue_cases_are_listed_oldest_first(world: World) -> None:
    old, _ = world.cases.submit(G2, actor="ua.liaison", now=T0)
    newer, _ = world.cases.submit(G3, actor="ua.liaison", now=T0 + dt.timedelta(days=10))
    world.cases.submit(G1, actor="ua.liaison", now=T0)  # approved at once: never overdue
    # The Secretary has 20 US working days: from Sunday 15 June 2025, less Juneteenth and
    # 4 July, the first case is due at the end of 15 July, the second ten days later.
    assert world.cases.overdue(T0 + dt.timedelta(days=35), actor=ADMIN) == [
        world.cases.view(old.id, actor=ADMIN).case
    ]
    assert [c.id for c in world.cases.overdue(T0 + dt.timedelta(days=120), actor=ADMIN)] == [
        old.id,
        newer.id,
    ]


def test_retries_with_one_idempotency_key_make_one_case(world: World) -> None:
    results: list[str] = []
    barrier = threading.Barrier(50)

    def submit() -> None:
        barrier.wait()
        case, _ = world.cases.submit(G2, actor="ua.liaison", now=T0, idempotency_key="retry-me")
        results.append(case.id)

    threads = [threading.Thread(target=submit) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 50
    assert len(set(results)) == 1
    _, total = world.cases.page(actor=ADMIN, states=None, limit=10, offset=0)
    assert total == 1
    assert audit.verify(world.store).ok


def test_concurrent_submissions_each_get_their_own_case(world: World) -> None:
    numbers: list[int] = []
    barrier = threading.Barrier(12)

    def submit(index: int) -> None:
        barrier.wait()
        request = {**G2, "quantity": index + 1}
        case, created = world.cases.submit(request, actor="ua.liaison", now=T0)
        assert created
        numbers.append(case.number)

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(numbers) == list(range(1, 13))
    assert audit.verify(world.store).ok


def test_twenty_approvers_at_once_give_one_outcome(world: World) -> None:
    case, _ = world.cases.submit(G2, actor="ua.liaison", now=T0)
    outcomes: list[str] = []
    refusals: list[ClearanceError] = []
    barrier = threading.Barrier(20)

    def act(index: int) -> None:
        barrier.wait()
        try:
            record = world.cases.answer(
                case.id,
                actor="hegseth",
                approve=index % 2 == 0,
                reason=f"answer {index}",
                signer=world.keys["hegseth"],
                now=T0,
            )
            outcomes.append(record.case.state)
        except (ConflictError, IllegalTransition) as exc:
            refusals.append(exc)

    threads = [threading.Thread(target=act, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(outcomes) == 1
    assert len(refusals) == 19
    view = world.cases.view(case.id, actor=ADMIN)
    assert view.case.state == outcomes[0]
    assert len(view.approvals) == 1
    assert [e for e in view.events if '"approval_' in e.body].__len__() == 1
    report = audit.verify(world.store)
    assert report.ok


def _pack_with_new_us_bundle(tmp_path: Path, effective: str) -> ScenarioPack:
    """The seed pack plus a copy of the Nov 2024 US bundle taking effect again on ``effective``."""
    root = tmp_path / "pack"
    shutil.copytree(default_pack_path(), root)
    new = root / "bundles" / "US" / effective
    shutil.copytree(root / "bundles" / "US" / "2024-11-17", new)
    meta = new / "bundle.yaml"
    meta.write_text(
        meta.read_text().replace("effective_from: 2024-11-17", f"effective_from: {effective}")
    )
    return load_pack(root)


def test_a_new_bundle_is_recorded_and_a_changed_outcome_never_applied(
    world: World, tmp_path: Path
) -> None:
    case, _ = world.cases.submit(G2, actor="ua.liaison", now=T0)
    assert case.outcome == "review_required"
    later = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    nothing = world.cases.rescreen(actor="admin", now=later)
    assert (nothing.changed, nothing.failed) == ((), ())  # same policy: nothing to say

    pack = _pack_with_new_us_bundle(tmp_path, "2026-01-15")
    service = CaseService(world.store, Screener(pack), default_sla_days=14)
    changed = service.rescreen(actor="admin", now=later).changed
    assert [(c.id, was, now) for c, was, now in changed] == [
        (case.id, "review_required", "permitted")
    ]
    view = service.view(case.id, actor=ADMIN)
    assert (view.case.state, view.case.outcome) == ("in_review", "review_required")
    bodies = [json.loads(e.body) for e in view.events]
    rescreened = [b["payload"] for b in bodies if b["type"] == "case_rescreened"]
    assert [p["would_be"] for p in rescreened] == ["permitted"]

    with world.store.transaction() as tx:
        activations = [
            json.loads(e.body)["payload"] for e in tx.ledger.of_type(EventType.BUNDLE_ACTIVATED)
        ]
    assert {(a["holder"], a["effective_from"]) for a in activations} >= {
        ("US", "2025-05-01"),
        ("US", "2026-01-15"),
    }
    assert len(activations) == len({a["revision"] for a in activations})

    # Asking again records nothing new: the same finding under the same bundles.
    assert service.rescreen(actor="admin", now=later + dt.timedelta(days=1)).changed
    with world.store.transaction() as tx:
        assert len(tx.ledger.of_type(EventType.BUNDLE_ACTIVATED)) == len(activations)
        assert len(tx.ledger.of_type(EventType.CASE_RESCREENED)) == 1
    assert audit.verify(world.store).ok


def test_lists_searches_and_summaries_count_only_what_the_reader_may_see(world: World) -> None:
    cases = world.cases
    secret, _ = cases.submit(G2, actor="ua.liaison", now=T0, classification=0)
    storm, _ = cases.submit(G3, actor="ua.liaison", now=T0 + dt.timedelta(days=10))
    early, _ = cases.submit(G1, actor="ua.liaison", now=T0 - dt.timedelta(days=100))
    eram, _ = cases.submit(G5, actor="us.liaison", now=T0)
    with (
        world.store.transaction() as tx
    ):  # classify one case SECRET, as a submitter cleared so would
        tx.cases.update(tx.cases.get(secret.id) or secret, classification=2)

    # A reviewer cleared CONFIDENTIAL sees every case up to it; the liaison, their own.
    Accounts(world.store).set_access(
        "usdp", roles=(Role.REVIEWER,), clearance=Level.CONFIDENTIAL, actor="admin", now=T0
    )

    def numbers(actor: str = ADMIN, query: str = "") -> list[int]:
        found, total = cases.page(actor=actor, states=None, limit=50, offset=0, query=query)
        assert total == len(found)
        return sorted(c.number for c in found)

    assert numbers() == [1, 2, 3, 4]
    assert numbers("usdp") == [2, 3, 4]
    assert numbers("us.liaison") == [eram.number]
    assert numbers(query="storm") == [storm.number]  # by the system's name
    # by the requester's name, and by the recipient's: the ERAM sale goes to Ukraine
    assert numbers("usdp", query="ukraine") == sorted([storm.number, early.number, eram.number])
    assert numbers(query="us.liaison") == [eram.number]  # by submitter
    assert numbers(query="nothing like it") == []

    now = T0 + dt.timedelta(days=20)
    summary = cases.open_summary(actor=ADMIN, now=now, bucket_days=(7, 30, 90, 365))
    # at now the open cases are 20 (G2, ERAM) and 10 (G3) days old: bucket 1, 7 to 30 days
    assert sorted(summary) == [("approved_with_conditions", 1, 1, 0), ("in_review", 1, 2, 2)]
    confidential = cases.open_summary(actor="usdp", now=now, bucket_days=(7, 30, 90, 365))
    assert sorted(confidential) == [("approved_with_conditions", 1, 1, 0), ("in_review", 1, 1, 0)]
    since = T0 - dt.timedelta(days=365)
    months = cases.decisions_by_month(actor=ADMIN, since=since)
    assert sorted(months) == [
        (f"{(T0 - dt.timedelta(days=100)):%Y-%m}", "approved", 1, 0),
        (f"{T0:%Y-%m}", "approved_with_conditions", 1, 0),
    ]
    Accounts(world.store).set_access(  # cleared to read the SECRET case they decide
        "hegseth", roles=(Role.REVIEWER,), clearance=Level.SECRET, actor="admin", now=T0
    )
    cases.answer(
        secret.id,
        actor="hegseth",
        approve=False,
        reason="No",
        signer=world.keys["hegseth"],
        now=T0 + dt.timedelta(days=1),
    )
    denied = [m for m in cases.decisions_by_month(actor=ADMIN, since=since) if m[1] == "denied"]
    assert denied == [(f"{T0:%Y-%m}", "denied", 1, 2)]
    seen = cases.decisions_by_month(actor="usdp", since=since)
    assert [m for m in seen if m[1] == "denied"] == []


def test_decisions_counted_as_they_happen_match_the_cases(world: World) -> None:
    """The chart's running counts equal a count over the cases themselves."""
    cases = world.cases
    for index, (request, actor) in enumerate(
        [(G1, "ua.liaison"), (G2, "ua.liaison"), (G3, "ua.liaison"), (G5, "us.liaison")] * 3
    ):
        cases.submit(request, actor=actor, now=T0 + dt.timedelta(days=40 * index))
    for case in cases.page(actor=ADMIN, states=["in_review"], limit=50, offset=0)[0][::2]:
        cases.answer(
            case.id,
            actor="hegseth",
            approve=True,
            reason="",
            signer=world.keys["hegseth"],
            now=case.created_at + dt.timedelta(days=20),
        )
    since = T0 - dt.timedelta(days=1)
    kept = sorted((m, k, n) for m, k, n, _ in cases.decisions_by_month(actor=ADMIN, since=since))
    counted: dict[tuple[str, str], int] = {}
    for submitter in ("ua.liaison", "us.liaison"):
        for month, kind, number, _ in cases.decisions_by_month(actor=submitter, since=since):
            counted[(month, kind)] = counted.get((month, kind), 0) + number
    assert kept == sorted((m, k, n) for (m, k), n in counted.items())
    assert sum(n for _, _, n in kept) == 6 + 3  # approved at once, with conditions, and answered
