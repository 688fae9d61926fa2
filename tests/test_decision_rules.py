"""The rules of a decision, stated on the pure code (``core.decision``).

The screening and golden tests judge real requests; these state how holders'
judgements fold into one decision, and the decision's recorded form: written,
read back and refused when it lacks what it must hold.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest

from clearance.core.decision import (
    Decision,
    HolderJudgement,
    Outcome,
    RecordedDecision,
    RequiredApproval,
    combine,
    merge_approvals,
)
from clearance.core.digest import canonical_json, sha256_hex
from clearance.core.holders import Basis, ConsentHolder, HolderPath
from clearance.core.stockpile import Rating, StockpileFacts, Thresholds
from clearance.core.waiting_periods import WaitingPeriod

US = ConsentHolder("US", (HolderPath(Basis.ORIGIN, ("eram",), "US"),))
DE = ConsentHolder("DE", (HolderPath(Basis.COMPONENT, ("eram", "seeker"), "DE", Decimal("0.3")),))
SECDEF = RequiredApproval("us.secdef", True)
STATE = RequiredApproval("us.state", False)
FACTS = StockpileFacts(
    holder="US",
    system="eram",
    on=dt.date(2025, 8, 28),
    quantity=3350,
    on_hand=10_000,
    committed=1000,
    requirement=5000,
    thresholds=Thresholds(green_percent=120, yellow_percent=100),
    now=Rating.GREEN,
    after=Rating.YELLOW,
    months_to_recover=4,
)
PERIOD = WaitingPeriod(
    holder="US",
    legislature="us.congress",
    rule="major defense equipment of $14,000,000 or more",
    value_usd=825_000_000,
    threshold_usd=14_000_000,
    days=30,
    notified_on=dt.date(2025, 8, 28),
    waiver="us.president",
)


def judgement(
    holder: ConsentHolder,
    outcome: Outcome,
    *,
    reasons: tuple[str, ...] = (),
    approvals: tuple[RequiredApproval, ...] = (),
    conditions: tuple[str, ...] = (),
) -> HolderJudgement:
    return HolderJudgement(
        holder, outcome, f"{holder.party.lower()}-2025", dt.date(2025, 1, 1),
        reasons, approvals, conditions,
    )  # fmt: skip


# --- folding judgements ---------------------------------------------------------------------


def test_outcomes_rank_from_most_to_least_permissive() -> None:
    """Permitted, then review required, then prohibited; the words are the recorded ones."""
    assert [(o.value, o.severity) for o in Outcome] == [
        ("permitted", 0),
        ("review_required", 1),
        ("prohibited", 2),
    ]


def test_no_holder_at_all_restricts_nothing() -> None:
    """Nothing to fold is a permit with nothing to do."""
    assert combine([]) == (Outcome.PERMITTED, (), (), ())


def test_the_most_severe_outcome_decides_and_only_its_holders_give_the_reasons() -> None:
    """Review beats permit; the reasons are those of the holders whose outcome it is, each
    once; the approvals and conditions are every holder's."""
    folded = combine(
        [
            judgement(US, Outcome.PERMITTED, reasons=("US/permit",), approvals=(SECDEF,), conditions=("c1",)),
            judgement(DE, Outcome.REVIEW_REQUIRED, reasons=("DE/review", "DE/review"), approvals=(STATE,), conditions=("c2", "c1")),
        ]
    )  # fmt: skip
    assert folded == (Outcome.REVIEW_REQUIRED, (SECDEF, STATE), ("c1", "c2"), ("DE/review",))


def test_a_prohibition_lists_no_approval_and_no_condition() -> None:
    """An approval would not help a prohibited request, so none is listed."""
    folded = combine(
        [
            judgement(US, Outcome.PROHIBITED, reasons=("US/never",)),
            judgement(DE, Outcome.REVIEW_REQUIRED, reasons=("DE/review",), approvals=(STATE,), conditions=("c",)),
        ]
    )  # fmt: skip
    assert folded == (Outcome.PROHIBITED, (), (), ("US/never",))


def test_permits_only_give_a_permit_with_every_holder_s_reasons() -> None:
    """Every holder permitting: the reasons of all of them, in order."""
    folded = combine(
        [
            judgement(DE, Outcome.PERMITTED, reasons=("DE/ok",), conditions=("c",)),
            judgement(US, Outcome.PERMITTED, reasons=("US/ok",)),
        ]
    )
    assert folded == (Outcome.PERMITTED, (), ("c",), ("DE/ok", "US/ok"))


def test_an_office_asked_twice_is_listed_once_and_may_delegate_only_if_every_gate_allows() -> None:
    """One entry per office, sorted; any gate saying it may not delegate wins."""
    merged = merge_approvals(
        [
            RequiredApproval("us.state", True),
            RequiredApproval("us.secdef", True),
            RequiredApproval("us.state", False),
            RequiredApproval("us.state", True),
        ]
    )
    assert merged == (RequiredApproval("us.secdef", True), RequiredApproval("us.state", False))
    assert merge_approvals([]) == ()


# --- the recorded form ----------------------------------------------------------------------


def test_a_holder_s_judgement_is_recorded_with_its_bundle_paths_and_answers() -> None:
    """Every field, the bundle's date in ISO form (null when there is no bundle)."""
    judged = judgement(
        US, Outcome.REVIEW_REQUIRED, reasons=("US/r",), approvals=(STATE,), conditions=("c",)
    )
    assert judged.as_dict() == {
        "party": "US",
        "outcome": "review_required",
        "bundle": "us-2025",
        "bundle_effective_from": "2025-01-01",
        "paths": [{"basis": "origin", "via": ["eram"], "party": "US", "share": None, "text": "eram → origin → US"}],
        "reasons": ["US/r"],
        "required_approvals": [{"authority": "us.state", "delegable": False}],
        "conditions": ["c"],
        "notes": [],
    }  # fmt: skip
    unbundled = HolderJudgement(DE, Outcome.PROHIBITED, None, None, notes=("no bundle in force",))
    assert unbundled.as_dict() == {
        "party": "DE",
        "outcome": "prohibited",
        "bundle": None,
        "bundle_effective_from": None,
        "paths": [{"basis": "component", "via": ["eram", "seeker"], "party": "DE", "share": 0.3, "text": "eram → seeker → component (30% of value) → DE"}],
        "reasons": [],
        "required_approvals": [],
        "conditions": [],
        "notes": ["no bundle in force"],
    }  # fmt: skip


def decision(**changes: Any) -> Decision:
    fields: dict[str, Any] = {
        "decision_id": "d-1",
        "outcome": Outcome.REVIEW_REQUIRED,
        "request": {"action": "transfer", "requester": "US"},
        "request_digest": "sha256:r",
        "judged_as_of": dt.date(2025, 8, 28),
        "catalog_revision": "sha256:c",
        "evaluated_at": dt.datetime(2025, 8, 28, 9, 30, tzinfo=dt.UTC),
        "judgements": (
            judgement(DE, Outcome.PERMITTED),
            HolderJudgement(US, Outcome.REVIEW_REQUIRED, None, None),
        ),
        "required_approvals": (STATE,),
        "conditions": ("c",),
        "reasons": ("US/r",),
        "duration_us": 1234,
    }
    return Decision(**{**fields, **changes})


def test_a_decision_is_recorded_in_its_documented_form() -> None:
    """The keys of docs/formats.md, with the holders' paths in words and their bundles."""
    made = decision(stockpile=FACTS)
    record = made.as_dict()
    assert record == {
        "decision_id": "d-1",
        "outcome": "review_required",
        "consent_holders": ["DE", "US"],
        "holder_paths": {
            "DE": ["eram → seeker → component (30% of value) → DE"],
            "US": ["eram → origin → US"],
        },
        "required_approvals": [{"authority": "us.state", "delegable": False}],
        "conditions": ["c"],
        "reasons": ["US/r"],
        "bundles": {"DE": "de-2025", "US": None},
        "holders": [j.as_dict() for j in made.judgements],
        "stockpile": FACTS.as_dict(),
        "request": {"action": "transfer", "requester": "US"},
        "request_digest": "sha256:r",
        "judged_as_of": "2025-08-28",
        "catalog_revision": "sha256:c",
        "evaluated_at": "2025-08-28T09:30:00+00:00",
        "duration_us": 1234,
    }
    assert made.consent_holders == ("DE", "US")
    assert made.bundles == {"DE": "de-2025", "US": None}


def test_a_decision_without_a_waiting_period_or_stock_records_none_and_no_period_key() -> None:
    """No stockpile facts: null; no waiting period: no key at all (the bytes stay as ever)."""
    record = decision().as_dict()
    assert record["stockpile"] is None
    assert "waiting_period" not in record
    assert decision(waiting_period=PERIOD).as_dict()["waiting_period"] == PERIOD.as_dict()


def test_the_time_a_decision_took_does_not_make_it_another_decision() -> None:
    """Two decisions differing only in their duration are equal."""
    assert decision(duration_us=1) == decision(duration_us=2)


def test_a_recorded_decision_reads_back_with_every_fact() -> None:
    """Read from its record: the facts the use cases act on, the record itself, its digest."""
    record = decision(stockpile=FACTS, waiting_period=PERIOD).as_dict()
    read = RecordedDecision.read(record, "sha256:d")
    assert read == RecordedDecision(
        decision_id="d-1",
        outcome=Outcome.REVIEW_REQUIRED,
        consent_holders=("DE", "US"),
        required_approvals=(STATE,),
        conditions=("c",),
        reasons=("US/r",),
        bundles={"DE": "de-2025", "US": None},
        stockpile=FACTS,
        record=record,
        digest="sha256:d",
        waiting_period=PERIOD,
    )
    assert read.text is None
    assert read.as_dict() == record
    assert read.as_dict() is not record


def test_a_record_of_old_without_reasons_stock_or_period_reads_with_none() -> None:
    """Records kept before reasons, stockpile facts or waiting periods read with none."""
    record = decision().as_dict()
    del record["reasons"], record["stockpile"]
    read = RecordedDecision.read(record, "sha256:d")
    assert (read.reasons, read.stockpile, read.waiting_period) == ((), None, None)


def test_a_delegable_flag_and_texts_are_read_as_they_are_meant() -> None:
    """Values recorded loosely are read as the types the facts hold."""
    record = {
        **decision().as_dict(),
        "consent_holders": ["US"],
        "required_approvals": [{"authority": "us.state", "delegable": 0}],
        "conditions": ["c"],
    }
    read = RecordedDecision.read(record, "sha256:d")
    assert read.required_approvals == (RequiredApproval("us.state", False),)


def test_a_record_about_to_be_kept_carries_its_canonical_text_and_that_text_s_digest() -> None:
    """Encoded once: the text kept and the digest signed answers name are of the same bytes."""
    record = decision().as_dict()
    kept = RecordedDecision.of(record)
    assert kept.text == canonical_json(record).decode()
    assert kept.digest == sha256_hex(canonical_json(record))
    assert kept == RecordedDecision.read(record, kept.digest)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"outcome": None}, "the decision record lacks or misstates 'outcome'"),
        ({"required_approvals": 5}, "the decision record lacks or misstates 'int' object is not iterable"),
        ({"required_approvals": [{"authority": "x"}]}, "the decision record lacks or misstates 'delegable'"),
        ({"stockpile": "green"}, "the decision record lacks or misstates string indices must be integers, not 'str'"),
        ({"waiting_period": []}, "the decision record lacks or misstates a waiting period is a JSON object"),
    ],
)  # fmt: skip
def test_a_record_that_lacks_or_misstates_a_fact_is_refused_naming_it(
    change: dict[str, Any], words: str
) -> None:
    """A record changed outside clearance is refused in one line, for ``audit verify`` (a fact
    changed to None is left out)."""
    record = {k: v for k, v in {**decision().as_dict(), **change}.items() if v is not None}
    with pytest.raises(ValueError, match=f"^{re.escape(words)}$"):
        RecordedDecision.read(record, "sha256:d")


def test_a_record_that_is_not_an_object_is_refused() -> None:
    """Not a mapping at all: refused in the same words."""
    words = "the decision record lacks or misstates 'list' object has no attribute 'get'"
    with pytest.raises(ValueError, match=f"^{re.escape(words)}$"):
        RecordedDecision.read([], "sha256:d")  # type: ignore[arg-type]
