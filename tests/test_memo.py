"""Memoised decisions: a screener answers a question it has answered before from memory,
and only such a question.

Whether a remembered decision is the decision worked out afresh, over generated
requests and bundles, is a property (tests/test_properties.py); here: the memo
itself, that each thing a judgement depends on tells questions apart, and that
screening, replay and the semantic diff do not ask Cedar a question twice.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from clearance.core.decision import Outcome, RecordedDecision
from clearance.core.request import parse_request
from clearance.core.stockpile import Rating
from clearance.core.workflow import CaseState
from clearance.policy.diff import compare_bundles, golden_probes, sample_probes
from clearance.policy.engine import Screener
from clearance.policy.memo import Key, Memo
from clearance.policy.pack import ScenarioPack
from clearance.service.replay_judging import Rejudger
from clearance.store.stored_cases import StoredCase
from tests.worlds import ATACMS

from .conftest import NOW
from .test_properties import make_bundle, make_screener

PERMIT = '@id("permit")\npermit (principal, action, resource);'


def _employ(region: str | None = None, date: str = "2025-06-15") -> dict[str, object]:
    target: dict[str, object] = {"territory": "RU"}
    if region is not None:
        target["region"] = region
    return {
        "action": "employ",
        "requester": "UA",
        "system": "atacms",
        "quantity": 2,
        "target": target,
        "date": date,
    }


def _us_only(*policies: str) -> Screener:
    """The seed catalog, every holder of ATACMS permitting all, and the US bound by
    ``policies`` from 2020."""
    day = dt.date(2020, 1, 1)
    others = [make_bundle(holder, day, [PERMIT]) for holder in ("FR", "GB", "UA")]
    return make_screener([*others, make_bundle("US", day, list(policies))])


def test_a_memo_forgets_the_least_recently_used_first_and_counts() -> None:
    memo: Memo[str] = Memo(2)
    memo.put(Key("a"), "A")
    memo.put(Key("b"), "B")
    assert memo.get(Key("a")) == "A"  # now b is the least recently used
    memo.put(Key("c"), "C")
    assert memo.get(Key("b")) is None
    assert (memo.get(Key("a")), memo.get(Key("c"))) == ("A", "C")
    stats = memo.stats()
    assert (stats.hits, stats.misses, stats.size, stats.capacity) == (3, 1, 2, 2)
    assert stats.hit_rate == 0.75
    with pytest.raises(ValueError, match="at least one"):
        Memo(0)


def test_a_key_is_its_parts() -> None:
    assert Key("a", 1, frozenset({"x"})) == Key("a", 1, frozenset({"x"}))
    assert hash(Key("a", 1)) == hash(Key("a", 1))
    assert Key("a", 1) != Key("a", 2)
    assert Key("a") != ("a",)


def test_a_warm_screener_asks_cedar_nothing_and_decides_the_same(
    seed_pack: ScenarioPack,
) -> None:
    screener = Screener(seed_pack)
    requests = [parse_request(_employ(region)) for region in (None, "RU-BEL", "RU-MOW")]
    # No seed policy reads the quantity: the same questions as the first request's.
    requests.append(parse_request({**_employ(), "quantity": 3}))
    ids = [f"c{i}" for i in range(len(requests))]
    cold = screener.decide_many(requests, decision_ids=ids, now=NOW)
    asked = screener.judgements.stats().misses
    assert asked == sum(len(d.judgements) for d in cold[:3])
    later = NOW + dt.timedelta(hours=1)
    warm = screener.decide_many(requests, decision_ids=["w0", "w1", "w2", "w3"], now=later)
    assert screener.judgements.stats().misses == asked
    assert screener.verdicts.stats().hits == len(requests)
    assert [d.decision_id for d in warm] == ["w0", "w1", "w2", "w3"]
    assert {d.evaluated_at for d in warm} == {later}
    assert [dataclasses.replace(d, decision_id="x", evaluated_at=NOW) for d in warm] == [
        dataclasses.replace(d, decision_id="x", evaluated_at=NOW) for d in cold
    ]


def test_a_question_asked_twice_in_one_batch_goes_to_cedar_once(
    seed_pack: ScenarioPack,
) -> None:
    screener = Screener(seed_pack)
    request = parse_request(_employ())
    other = parse_request({**_employ(), "date": "2025-06-16"})  # the same Cedar question
    decisions = screener.decide_many(
        [request, request, other], decision_ids=["a", "b", "c"], now=NOW
    )
    holders = len(decisions[0].judgements)
    assert screener.judgements.stats().misses == holders
    assert screener.judgements.stats().hits == holders  # the other day's
    assert screener.verdicts.stats().misses == 2
    assert [d.decision_id for d in decisions] == ["a", "b", "c"]
    assert decisions[0] == dataclasses.replace(decisions[1], decision_id="a")


def test_approvals_tell_questions_apart() -> None:
    screener = _us_only(
        PERMIT,
        '@id("gate")\n@gate("us.secdef")\nforbid (principal, action, resource)\n'
        'unless { context.approvals.contains(Authority::"us.secdef") };',
    )
    request = parse_request(_employ())
    for granted, outcome in [((), "review_required"), (("us.secdef",), "permitted")] * 2:
        decision = screener.decide(request, decision_id="d", now=NOW, approvals=granted)
        assert decision.outcome.value == outcome


@pytest.mark.parametrize(
    ("policy", "questions"),
    [
        ('@id("p")\npermit (principal, action, resource);', 1),
        ('@id("p")\npermit (principal, action, resource) when { context.quantity < 5 };', 2),
        ('@id("p")\npermit (principal, action, resource) when { context["quantity"] < 5 };', 2),
        ('@id("p")\npermit (principal, action, resource) when { context has quantity };', 2),
        ('@id("p")\npermit (principal, action, resource) when { context == context };', 2),
    ],
    ids=["not read", "attribute", "index", "has", "whole context"],
)
def test_what_a_bundle_does_not_read_does_not_tell_questions_apart(
    policy: str, questions: int
) -> None:
    screener = _us_only(policy)
    for quantity in (1, 10):
        screener.decide(
            parse_request({**_employ(), "quantity": quantity}), decision_id="d", now=NOW
        )
    us = [k for k in screener.judgements._entries if k.parts[1].party == "US"]
    assert len(us) == questions


def test_the_zones_of_the_day_tell_questions_apart() -> None:
    """RU-BEL lies in the seed's kharkiv-border zone from 30 May 2024 only: the same request
    judged as of the day before and the day itself is two questions."""
    screener = _us_only(
        '@id("in-zone")\npermit (principal, action, resource) when {\n'
        "  context has target && context.target has zones &&\n"
        '  context.target.zones.contains("kharkiv-border") };'
    )
    request = parse_request(_employ("RU-BEL"))
    for as_of, outcome in [
        (dt.date(2024, 5, 29), "prohibited"),
        (dt.date(2024, 5, 30), "permitted"),
    ]:
        decision = screener.decide(request, decision_id="d", now=NOW, as_of=as_of)
        assert decision.outcome.value == outcome


def test_a_missing_region_is_its_own_question() -> None:
    screener = _us_only(
        '@id("region")\npermit (principal, action, resource) when {\n'
        "  context has target && context.target has region };"
    )
    with_region = screener.decide(parse_request(_employ("RU-BEL")), decision_id="d", now=NOW)
    without = screener.decide(parse_request(_employ()), decision_id="d", now=NOW)
    assert with_region.outcome is Outcome.PERMITTED
    assert without.outcome is Outcome.PROHIBITED
    assert any("region was not given" in n for j in without.judgements for n in j.notes)


def test_stockpile_facts_tell_questions_apart(screener: Screener) -> None:
    red = make_bundle(
        "US",
        dt.date(2020, 1, 1),
        [
            PERMIT,
            '@id("red")\nforbid (principal, action, resource) when {\n'
            '  context has stockpile && context.stockpile.after == "red" };',
        ],
    )
    request = parse_request(ATACMS)
    green = screener.stockpile_facts(request, request.date)
    assert green is not None
    short = dataclasses.replace(green, committed=800, now=Rating.RED, after=Rating.RED)
    for facts, outcome in [(short, "prohibited"), (green, "permitted")] * 2:
        judged = screener.judge_under(request, red, stockpile=facts)
        assert judged.outcome.value == outcome


def test_a_small_memo_stays_small_and_right(seed_pack: ScenarioPack) -> None:
    small = Screener(seed_pack, memo_capacity=2)
    requests = [parse_request({**_employ(), "requester": r}) for r in ("UA", "GB", "US") * 2]
    for number, request in enumerate(requests):
        found = small.decide(request, decision_id="d", now=NOW)
        assert found == Screener(seed_pack).decide(request, decision_id="d", now=NOW), number
    assert len(small.judgements) == 2
    assert len(small.verdicts) == 2


def test_replay_judges_a_case_seen_before_from_memory(seed_pack: ScenarioPack) -> None:
    screener = Screener(seed_pack)
    rows = []
    for number, data in enumerate([_employ(), _employ("RU-BEL"), _employ()], 1):
        request = parse_request(data)
        decision = screener.decide(request, decision_id=str(number), now=NOW)
        recorded = RecordedDecision.of(decision.as_dict())
        rows.append(StoredCase(str(number), number, request, recorded, CaseState.IN_REVIEW))
    candidate = seed_pack.history.bundle_in_force("US", dt.date(2024, 11, 17))
    assert candidate is not None
    rejudger = Rejudger(seed_pack, candidate)
    memo = rejudger.screener.judgements
    first = rejudger.judge(rows[:2])
    asked = memo.stats()
    assert asked.misses == asked.size  # each distinct question goes to Cedar once
    rejudger.judge(rows[2:])  # the third case is the first again
    again = memo.stats()
    assert again.misses == asked.misses
    assert again.hits > asked.hits
    assert rejudger.judge(rows[:2]) == first
    assert memo.stats().misses == asked.misses
    assert rejudger.screener.verdicts.stats().misses == 0  # replay makes no verdicts


def test_the_semantic_diff_judges_a_question_once(seed_pack: ScenarioPack) -> None:
    screener = Screener(seed_pack)
    old, new = seed_pack.history.of("US")[3:5]
    probes = [
        *golden_probes(screener),
        *sample_probes(screener, "US", [old.effective_from], count=200, seed=1),
    ]
    first = compare_bundles(screener, (old, new), probes, text=())
    judged = sum(first.judged.values())
    memo = screener.judgements.stats()
    assert memo.hits + memo.misses == 2 * judged  # each probe under each bundle
    asked = memo.misses
    again = compare_bundles(screener, (old, new), probes, text=())
    assert screener.judgements.stats().misses == asked
    assert screener.judgements.stats().hits == memo.hits + 2 * judged
    assert again == first
    # Diffing NEW against the next bundle asks only about the next one.
    after = seed_pack.history.of("US")[5]
    compare_bundles(screener, (new, after), probes, text=())
    assert screener.judgements.stats().misses - asked <= judged
