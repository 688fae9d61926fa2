"""How a screener decides a request and what it remembers, stated on the pure code
(``policy.engine``, ``policy.history``, ``policy.memo``).

The golden, property and service tests decide the seed pack's requests; these
state each rule on its own, with small bundles built in memory: which bundle is
in force on a date, what a holder with none in force answers, what a decision
records, where the stockpile facts come from, what a legislative waiting period
attaches to, and how each memo counts and forgets.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from clearance.core.catalog import Catalog
from clearance.core.decision import Outcome
from clearance.core.digest import canonical_digest
from clearance.core.request import AnyRequest, parse_request
from clearance.core.stockpile import (
    STANDARD_THRESHOLDS,
    Balance,
    Position,
    Rating,
    Thresholds,
    assess,
)
from clearance.errors import RequestError
from clearance.policy.bundle import BundleFiles, PolicyBundle, build_bundle
from clearance.policy.engine import Screener
from clearance.policy.history import BundleHistory
from clearance.policy.memo import DEFAULT_CAPACITY, Key, Memo, MemoStats
from clearance.policy.pack import ScenarioPack, default_pack_path
from clearance.policy.stockfigures import StockFigures

SCHEMA = (default_pack_path() / "schema.cedarschema").read_text(encoding="utf-8")
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
PERMIT = '@id("permit")\npermit (principal, action, resource);'
GATE = (
    '@id("gate")\n@gate("us.secdef")\nforbid (principal, action, resource)'
    ' unless { context.approvals.contains(Authority::"us.secdef") };'
)
NEVER = '@id("never")\nforbid (principal, action, resource);'
REVIEW = {
    "legislature": "United States Congress",
    "waiver": "us.president",
    "periods": [{"days": 30, "thresholds": {"defense_articles": 1000}}],
}


@pytest.fixture(scope="module")
def catalog(seed_pack: ScenarioPack) -> Catalog:
    return seed_pack.catalog


def make_bundle(
    catalog: Catalog, holder: str, day: str, *policies: str, **meta: Any
) -> PolicyBundle:
    folder = f"bundles/{holder}/{day}"
    files = BundleFiles(
        meta_file=f"{folder}/bundle.yaml",
        meta={"holder": holder, "effective_from": day, "title": f"{holder} from {day}", **meta},
        policy_files=((f"{folder}/policies.cedar", "\n\n".join(policies) + "\n"),),
        schema_file="schema.cedarschema",
        schema_text=SCHEMA,
    )
    return build_bundle(files, catalog, folder)


def make_screener(
    catalog: Catalog, *bundles: PolicyBundle, stock: StockFigures | None = None
) -> Screener:
    pack = ScenarioPack(
        root=Path("rules"),
        name="rules",
        description="",
        catalog=catalog,
        history=BundleHistory(bundles),
        case_files=(),
        stock=stock or StockFigures(),
    )
    return Screener(pack, memo_capacity=8)


def request(**fields: Any) -> AnyRequest:
    data: dict[str, Any] = {
        "action": "employ",
        "requester": "UA",
        "system": "atacms",
        "quantity": 2,
        "target": {"territory": "RU"},
        "date": "2025-06-15",
    }
    data.update(fields)
    if data["action"] == "transfer":
        data.pop("target", None)
        data.setdefault("recipient", "UA")
    return parse_request(data)


STOCK = StockFigures(
    opened_on=dt.date(2022, 2, 24),
    positions=(Position("US", "atacms", requirement=700, production_per_month=20),),
    on_hand={("US", "atacms"): 1000},
)


# --- the bundle in force -----------------------------------------------------------------


def test_the_bundle_in_force_is_the_latest_begun_on_or_before_the_day(catalog: Catalog) -> None:
    """A bundle governs from its first day to the day before the next; before the first,
    none; a holder with no bundle, none."""
    early = make_bundle(catalog, "US", "2020-01-01", PERMIT)
    late = make_bundle(catalog, "US", "2021-01-01", NEVER)
    other = make_bundle(catalog, "GB", "2020-06-01", PERMIT)
    history = BundleHistory([late, other, early])
    assert history.bundle_in_force("US", dt.date(2019, 12, 31)) is None
    assert history.bundle_in_force("US", dt.date(2020, 1, 1)) is early
    assert history.bundle_in_force("US", dt.date(2020, 12, 31)) is early
    assert history.bundle_in_force("US", dt.date(2021, 1, 1)) is late
    assert history.bundle_in_force("US", dt.date(2030, 1, 1)) is late
    assert history.bundle_in_force("FR", dt.date(2030, 1, 1)) is None
    assert history.in_force_until(early) == dt.date(2020, 12, 31)
    assert history.in_force_until(late) is None
    assert history.in_force_until(other) is None


def test_a_bundle_between_two_governs_until_the_day_before_the_next(catalog: Catalog) -> None:
    bundles = [make_bundle(catalog, "US", f"{year}-01-01", PERMIT) for year in (2020, 2021, 2022)]
    history = BundleHistory(bundles)
    assert [history.in_force_until(b) for b in bundles] == [
        dt.date(2020, 12, 31),
        dt.date(2021, 12, 31),
        None,
    ]


def test_a_history_lists_holders_sorted_and_bundles_oldest_first(catalog: Catalog) -> None:
    early = make_bundle(catalog, "US", "2020-01-01", PERMIT)
    late = make_bundle(catalog, "US", "2021-01-01", NEVER)
    other = make_bundle(catalog, "GB", "2020-06-01", PERMIT)
    history = BundleHistory([late, other, early])
    assert history.holders == ("GB", "US")
    assert history.of("US") == (early, late)
    assert history.of("FR") == ()
    assert list(history) == [other, early, late]
    assert len(history) == 3
    assert history.by_revision(late.revision) is late
    assert history.by_revision("sha256:none") is None


def test_the_thresholds_on_a_day_are_the_bundle_s_or_the_standard(catalog: Catalog) -> None:
    plain = make_bundle(catalog, "US", "2020-01-01", PERMIT)
    strict = make_bundle(
        catalog,
        "US",
        "2021-01-01",
        PERMIT,
        stockpile_thresholds={"green_percent": 200, "yellow_percent": 150},
    )
    history = BundleHistory([plain, strict])
    assert history.thresholds_on("US", dt.date(2019, 1, 1)) is STANDARD_THRESHOLDS
    assert history.thresholds_on("US", dt.date(2020, 1, 1)) is STANDARD_THRESHOLDS
    assert history.thresholds_on("US", dt.date(2021, 1, 1)) == Thresholds(200, 150)
    assert history.thresholds_on("GB", dt.date(2021, 1, 1)) is STANDARD_THRESHOLDS


# --- deciding ----------------------------------------------------------------------------


def test_a_decision_records_its_request_date_catalog_and_judgements(catalog: Catalog) -> None:
    """Everything but the time taken is the inputs' and the pack's: the id and time given,
    the request as JSON without empty fields and its digest, the day judged, the catalog's
    revision, and the holders' judgements, sorted by party."""
    bundles = [make_bundle(catalog, h, "2020-01-01", PERMIT) for h in ("US", "UA")]
    screener = make_screener(catalog, *bundles)
    asked = request(system="demo-rocket")
    decision = screener.decide(asked, decision_id="d-1", now=NOW)
    facts = asked.model_dump(mode="json", exclude_none=True)
    assert decision.decision_id == "d-1"
    assert decision.evaluated_at == NOW
    assert decision.outcome is Outcome.PERMITTED
    assert decision.request == facts
    assert decision.request_digest == canonical_digest(facts)
    assert decision.judged_as_of == dt.date(2025, 6, 15)
    assert decision.catalog_revision == catalog.revision
    assert [j.holder.party for j in decision.judgements] == ["UA", "US"]
    assert decision.reasons == ("UA/permit", "US/permit")
    assert decision.stockpile is None
    assert decision.waiting_period is None
    assert type(decision.duration_us) is int
    assert 0 < decision.duration_us < 60_000_000  # the time the batch took: under a minute


def test_a_holder_with_no_bundle_in_force_prohibits_in_words(catalog: Catalog) -> None:
    """Judged as of a day before its first bundle, a holder prohibits, with no bundle, and
    says so with the day."""
    screener = make_screener(catalog, make_bundle(catalog, "US", "2020-01-01", PERMIT))
    decision = screener.decide(request(), decision_id="d", now=NOW, as_of=dt.date(2019, 12, 31))
    assert decision.outcome is Outcome.PROHIBITED
    assert decision.judged_as_of == dt.date(2019, 12, 31)
    (judgement,) = decision.judgements
    assert judgement.holder.party == "US"
    assert judgement.outcome is Outcome.PROHIBITED
    assert judgement.bundle is None
    assert judgement.bundle_effective_from is None
    assert judgement.notes == ("no policy of US is in force on 2019-12-31",)
    on_time = screener.decide(request(), decision_id="d", now=NOW, as_of=dt.date(2020, 1, 1))
    assert on_time.outcome is Outcome.PERMITTED


def test_approvals_given_reach_every_holder_s_judgement(catalog: Catalog) -> None:
    screener = make_screener(catalog, make_bundle(catalog, "US", "2020-01-01", PERMIT, GATE))
    asked = request()
    assert screener.decide(asked, decision_id="d", now=NOW).outcome is Outcome.REVIEW_REQUIRED
    approved = screener.decide(asked, decision_id="d", now=NOW, approvals=["us.secdef"])
    assert approved.outcome is Outcome.PERMITTED


def test_a_request_naming_what_the_catalog_lacks_is_refused(catalog: Catalog) -> None:
    screener = make_screener(catalog, make_bundle(catalog, "US", "2020-01-01", PERMIT))
    with pytest.raises(RequestError):
        screener.decide(request(requester="ZZ"), decision_id="d", now=NOW)


def test_a_batch_gives_each_decision_its_own_id_in_order(catalog: Catalog) -> None:
    screener = make_screener(catalog, make_bundle(catalog, "US", "2020-01-01", PERMIT, GATE))
    asked = [request(), request(quantity=3), request()]
    decisions = screener.decide_many(
        asked, decision_ids=["a", "b", "c"], now=NOW, approvals=["us.secdef"]
    )
    assert [d.decision_id for d in decisions] == ["a", "b", "c"]
    assert [d.request["quantity"] for d in decisions] == [2, 3, 2]
    assert all(d.outcome is Outcome.PERMITTED for d in decisions)
    assert (screener.verdicts.hits, screener.verdicts.misses) == (1, 2)


def test_a_batch_needs_one_id_and_at_most_one_set_of_facts_per_request(catalog: Catalog) -> None:
    """Ids or recorded facts that do not pair one to one with the requests are refused, not
    silently cut short."""
    screener = make_screener(catalog, make_bundle(catalog, "US", "2020-01-01", PERMIT))
    shorter = r"^zip\(\) argument 2 is shorter than argument 1$"
    with pytest.raises(ValueError, match=shorter):
        screener.decide_many([request(), request(quantity=3)], decision_ids=["a"], now=NOW)
    with pytest.raises(ValueError, match=shorter):
        screener.decide_many(
            [request(), request(quantity=3)], decision_ids=["a", "b"], now=NOW, stockpile=[None]
        )


def test_the_stockpile_facts_reach_every_holder_s_policy(catalog: Catalog) -> None:
    """A policy that reads ``context.stockpile`` judges by the facts of the transfer."""
    keep = (
        '@id("keep-stock")\nforbid (principal, action, resource)'
        ' when { context has stockpile && context.stockpile.after == "red" };'
    )
    screener = make_screener(
        catalog, make_bundle(catalog, "US", "2020-01-01", PERMIT, keep), stock=STOCK
    )
    small = request(action="transfer", requester="US", quantity=10)
    large = request(action="transfer", requester="US", quantity=400)
    assert screener.decide(small, decision_id="d", now=NOW).outcome is Outcome.PERMITTED
    refused = screener.decide(large, decision_id="d", now=NOW)
    assert refused.outcome is Outcome.PROHIBITED
    assert refused.reasons == ("US/keep-stock",)


def test_a_verdict_asked_again_is_remembered_and_the_same(catalog: Catalog) -> None:
    """The same request, day, approvals and facts are answered from memory, field for
    field; a different day or approvals is a new question."""
    screener = make_screener(catalog, make_bundle(catalog, "US", "2020-01-01", PERMIT, GATE))
    asked = request()
    first = screener.decide(asked, decision_id="a", now=NOW)
    again = screener.decide(asked, decision_id="b", now=NOW)
    assert (screener.verdicts.hits, screener.verdicts.misses) == (1, 1)
    assert again.as_dict() | {"decision_id": "a", "duration_us": 0} == first.as_dict() | {
        "duration_us": 0
    }
    screener.decide(asked, decision_id="c", now=NOW, as_of=dt.date(2024, 1, 1))
    screener.decide(asked, decision_id="d", now=NOW, approvals=["us.secdef"])
    assert (screener.verdicts.hits, screener.verdicts.misses) == (1, 3)
    (verdict,) = screener.verdicts_of([asked])
    assert verdict.outcome is Outcome.REVIEW_REQUIRED
    assert (screener.verdicts.hits, screener.verdicts.misses) == (2, 3)


def test_judging_under_a_bundle_ignores_the_date(catalog: Catalog) -> None:
    """``judge_under`` asks the bundle's own holder, whatever bundle is in force."""
    in_force = make_bundle(catalog, "US", "2020-01-01", PERMIT)
    later = make_bundle(catalog, "US", "2030-01-01", NEVER)
    screener = make_screener(catalog, in_force, later)
    judgement = screener.judge_under(request(), later)
    assert judgement.holder.party == "US"
    assert judgement.outcome is Outcome.PROHIBITED
    assert judgement.reasons == ("US/never",)
    gated = make_bundle(catalog, "US", "2031-01-01", PERMIT, GATE)
    assert screener.judge_under(request(), gated).outcome is Outcome.REVIEW_REQUIRED
    approved = screener.judge_under(request(), gated, approvals=["us.secdef"])
    assert approved.outcome is Outcome.PERMITTED


def test_judging_under_a_bundle_goes_through_the_screener_s_memo(catalog: Catalog) -> None:
    bundle = make_bundle(catalog, "US", "2030-01-01", NEVER)
    screener = make_screener(catalog, bundle)
    first = screener.judge_under(request(), bundle)
    assert (screener.judgements.hits, screener.judgements.misses) == (0, 1)
    assert screener.judge_under(request(), bundle) is first
    assert (screener.judgements.hits, screener.judgements.misses) == (1, 1)


def test_judging_under_a_bundle_sees_the_zones_of_the_request_s_day(catalog: Catalog) -> None:
    zoned = (
        '@id("zoned")\npermit (principal, action, resource) when { context has target &&'
        ' context.target has zones && context.target.zones.contains("kharkiv-border") };'
    )
    bundle = make_bundle(catalog, "US", "2020-01-01", zoned)
    screener = make_screener(catalog, bundle)
    region = catalog.zones_of("RU-BEL", dt.date(2025, 6, 15))
    asked = request(target={"territory": "RU", "region": "RU-BEL"})
    expected = Outcome.PERMITTED if "kharkiv-border" in region else Outcome.PROHIBITED
    assert screener.judge_under(asked, bundle).outcome is expected
    decided = screener.decide(asked, decision_id="d", now=NOW)
    assert decided.outcome is expected


# --- stockpile facts ---------------------------------------------------------------------


def test_the_pack_balance_is_the_opening_figure_from_the_opening_day(catalog: Catalog) -> None:
    screener = make_screener(catalog, stock=STOCK)
    assert screener.pack_balance("US", "atacms", dt.date(2022, 2, 23)) is None
    assert screener.pack_balance("US", "atacms", dt.date(2022, 2, 24)) == Balance(1000)
    assert screener.pack_balance("UA", "atacms", dt.date(2025, 1, 1)) is None


def test_a_transfer_from_a_tracked_position_carries_its_facts(catalog: Catalog) -> None:
    """Worked out from the pack's position, the balance on the day, the thresholds of the
    giver's bundle in force then, and the quantity; a use, or an untracked position, has
    none."""
    strict = make_bundle(
        catalog,
        "US",
        "2020-01-01",
        PERMIT,
        stockpile_thresholds={"green_percent": 200, "yellow_percent": 150},
    )
    screener = make_screener(catalog, strict, stock=STOCK)
    day = dt.date(2025, 6, 15)
    asked = request(action="transfer", requester="US", quantity=100)
    facts = screener.stockpile_facts(asked, day)
    position = STOCK.position("US", "atacms")
    assert position is not None
    assert facts == assess(position, Balance(1000), Thresholds(200, 150), 100, day)
    assert facts is not None
    assert (facts.now, facts.after) == (Rating.RED, Rating.RED)  # green by the standard
    assert screener.stockpile_facts(request(requester="US"), day) is None
    assert screener.stockpile_facts(request(action="transfer", requester="GB"), day) is None
    decision = screener.decide(asked, decision_id="d", now=NOW)
    assert decision.stockpile == facts


def test_the_balance_comes_from_the_lookup_given_for_the_giver_system_and_day(
    catalog: Catalog,
) -> None:
    """A lookup asked (giver, system, day) replaces the pack's figures; a position the pack
    does not list is taken with no requirement or production."""
    screener = make_screener(catalog, stock=STOCK)
    asked: list[tuple[str, str, dt.date]] = []

    def lookup(holder: str, system: str, on: dt.date) -> Balance | None:
        asked.append((holder, system, on))
        return Balance(40)

    day = dt.date(2025, 6, 15)
    facts = screener.stockpile_facts(request(action="transfer", requester="GB"), day, lookup)
    assert asked == [("GB", "atacms", day)]
    assert facts == assess(Position("GB", "atacms"), Balance(40), STANDARD_THRESHOLDS, 2, day)


def test_stockpile_facts_are_remembered_by_position_quantity_day_and_balance(
    catalog: Catalog,
) -> None:
    screener = make_screener(catalog, stock=STOCK)
    day = dt.date(2025, 6, 15)
    asked = request(action="transfer", requester="US")
    first = screener.stockpile_facts(asked, day)
    assert screener.stockpile_facts(asked, day) is first
    assert (screener._facts.hits, screener._facts.misses) == (1, 1)
    screener.stockpile_facts(asked, day, lambda *_: Balance(999))
    assert (screener._facts.hits, screener._facts.misses) == (1, 2)


def test_stockpile_facts_of_another_giver_system_quantity_or_day_are_worked_out_anew(
    catalog: Catalog,
) -> None:
    stock = StockFigures(
        opened_on=dt.date(2022, 2, 24),
        positions=(
            Position("US", "atacms", requirement=700, production_per_month=20),
            Position("US", "gmlrs", requirement=10),
            Position("GB", "atacms", requirement=10),
        ),
        on_hand={("US", "atacms"): 1000, ("US", "gmlrs"): 1000, ("GB", "atacms"): 1000},
    )
    screener = make_screener(catalog, stock=stock)
    day = dt.date(2025, 6, 15)
    base = screener.stockpile_facts(request(action="transfer", requester="US"), day)
    others = [
        screener.stockpile_facts(request(action="transfer", requester="US", quantity=3), day),
        screener.stockpile_facts(request(action="transfer", requester="US"), dt.date(2025, 6, 16)),
        screener.stockpile_facts(request(action="transfer", requester="US", system="gmlrs"), day),
        screener.stockpile_facts(request(action="transfer", requester="GB"), day),
    ]
    assert base is not None
    assert all(f is not None and f != base for f in others)
    assert (screener._facts.hits, screener._facts.misses) == (0, 5)


def test_recorded_stockpile_facts_replace_those_worked_out(catalog: Catalog) -> None:
    screener = make_screener(catalog, make_bundle(catalog, "US", "2020-01-01", PERMIT), stock=STOCK)
    day = dt.date(2025, 6, 15)
    recorded = assess(Position("US", "atacms"), Balance(1), STANDARD_THRESHOLDS, 1, day)
    asked = request(action="transfer", requester="US")
    decision = screener.decide(asked, decision_id="d", now=NOW, stockpile=recorded)
    assert decision.stockpile is recorded
    worked_out = screener.decide(asked, decision_id="e", now=NOW)
    assert worked_out.stockpile == screener.stockpile_facts(asked, day)
    assert worked_out.stockpile != recorded


# --- legislative waiting periods ---------------------------------------------------------


def test_a_transfer_the_giver_s_legislature_must_review_waits(catalog: Catalog) -> None:
    """A transfer at or above a threshold of its giver's bundle carries the waiting period;
    a use, or a prohibited transfer, carries none."""
    bundle = make_bundle(catalog, "US", "2020-01-01", PERMIT, legislative_review=REVIEW)
    screener = make_screener(catalog, bundle)
    asked = request(action="transfer", requester="US", value_usd=1000)
    decision = screener.decide(asked, decision_id="d", now=NOW)
    assert decision.waiting_period is not None
    assert decision.waiting_period.days == 30
    assert decision.waiting_period.notified_on == dt.date(2025, 6, 15)
    below = request(action="transfer", requester="US", value_usd=999)
    assert screener.decide(below, decision_id="d", now=NOW).waiting_period is None
    use = request(requester="US")
    assert screener.decide(use, decision_id="d", now=NOW).waiting_period is None
    barred = make_screener(
        catalog, make_bundle(catalog, "US", "2020-01-01", NEVER, legislative_review=REVIEW)
    )
    assert barred.decide(asked, decision_id="d", now=NOW).waiting_period is None


def test_a_waiting_period_needs_a_review_in_a_bundle_in_force(catalog: Catalog) -> None:
    plain = make_bundle(catalog, "US", "2020-01-01", PERMIT)
    reviewed = make_bundle(catalog, "US", "2026-01-01", PERMIT, legislative_review=REVIEW)
    screener = make_screener(catalog, plain, reviewed)
    asked = request(action="transfer", requester="US", value_usd=5000)
    assert screener.decide(asked, decision_id="d", now=NOW).waiting_period is None
    later = screener.decide(asked, decision_id="d", now=NOW, as_of=dt.date(2026, 1, 1))
    assert later.waiting_period is not None
    assert later.waiting_period.value_usd == 5000


# --- the memo ----------------------------------------------------------------------------


def test_a_memo_holds_at_least_one_entry() -> None:
    with pytest.raises(ValueError, match=r"^a memo holds at least one entry$"):
        Memo(0)
    memo: Memo[str] = Memo(1)
    memo.put(Key("a"), "A")
    memo.put(Key("b"), "B")
    assert len(memo) == 1
    assert memo.get(Key("a")) is None
    assert memo.get(Key("b")) == "B"


def test_a_memo_counts_its_lookups_and_says_how_it_did() -> None:
    memo: Memo[str] = Memo(3)
    assert memo.capacity == 3
    assert memo.stats() == MemoStats(0, 0, 0, 3)
    assert memo.stats().hit_rate == 0.0
    memo.put(Key("a"), "A")
    assert memo.get(Key("a")) == "A"
    assert memo.get(Key("b")) is None
    memo.reused()
    memo.reused()
    assert memo.stats() == MemoStats(hits=3, misses=1, size=1, capacity=3)
    assert memo.stats().as_dict() == {
        "hits": 3,
        "misses": 1,
        "size": 1,
        "capacity": 3,
        "hit_rate": 0.75,
    }


def test_a_value_put_again_is_the_most_recent() -> None:
    memo: Memo[str] = Memo(2)
    memo.put(Key("a"), "A")
    memo.put(Key("b"), "B")
    memo.put(Key("a"), "A2")
    memo.put(Key("c"), "C")
    assert memo.get(Key("b")) is None
    assert memo.get(Key("a")) == "A2"
    assert memo.get(Key("c")) == "C"


def test_a_memo_keeps_tens_of_thousands_unless_told() -> None:
    assert DEFAULT_CAPACITY == 32_768
    assert Memo().capacity == DEFAULT_CAPACITY
    assert Memo().stats() == MemoStats(0, 0, 0, 32_768)


def test_keys_are_equal_by_their_parts_and_only_to_keys() -> None:
    assert Key("a", 1) == Key("a", 1)
    assert hash(Key("a", 1)) == hash(("a", 1))
    assert Key("a", 1) != Key("a", 2)
    assert Key("a", 1) != ("a", 1)
    assert Key(1) != Key(True, 1)
    assert repr(Key("a", 1)) == "Key('a', 1)"
    assert Key("a", 1).parts == ("a", 1)


class _SameHash:
    """Two values with one hash that are not equal: a key compares its parts too."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __hash__(self) -> int:
        return 7

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _SameHash) and other.name == self.name


def test_keys_whose_hashes_collide_are_still_told_apart() -> None:
    a, b = Key(_SameHash("a")), Key(_SameHash("b"))
    assert hash(a) == hash(b)
    assert a != b
    memo: Memo[str] = Memo(4)
    memo.put(a, "A")
    assert memo.get(b) is None
