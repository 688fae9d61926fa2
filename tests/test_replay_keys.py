"""Replay by class (service/replay_keys.py) finds exactly what replay case by case finds.

A case read by its columns is compared with the outcome kept for its class and read whole
only where its class is new or its outcome on record differs. Over generated cases dated
on and around every change of bundle and zone (a zone changing on a day no bundle does
included), with transfers whose decisions recorded no stockpile facts among them, the
changes and the cases not judged are those of reading every case whole, batch by batch.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select, text
from sqlalchemy.dialects import postgresql as postgresql_dialect

from clearance.core.case_keys import request_shape, stockpile_digest
from clearance.core.decision import RecordedDecision, outcome_of
from clearance.core.request import UnreadableRequest, parse_request
from clearance.core.workflow import CaseState
from clearance.errors import DamagedRecord
from clearance.policy.engine import Screener
from clearance.policy.memo import DEFAULT_CAPACITY, MemoStats
from clearance.policy.pack import ScenarioPack, default_pack_path, load_pack
from clearance.service import replay_keys
from clearance.service.replay import ReplayReport, Skipped, replay, stored_probes
from clearance.service.replay_judging import Rejudger, load_candidate
from clearance.store import stored_cases
from clearance.store.dialect import one_of
from clearance.store.models import Case
from clearance.store.stored_cases import KeyedCase, StoredCase
from tests.small_worlds import small_world
from tests.worlds import ATACMS, G2

from .conftest import NOW

US = default_pack_path() / "bundles" / "US"
ZONE_MOVES = dt.date(2025, 1, 10)
"""When the zone across from Kharkiv takes in Kursk region too, in the pack these tests use:
a change of zone on a day no bundle changes."""


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> ScenarioPack:
    folder = tmp_path_factory.mktemp("pack") / "seed"
    shutil.copytree(default_pack_path(), folder)
    catalog = folder / "catalog.yaml"
    old = "      - {effective_from: 2024-05-30, regions: [RU-BEL]}\n"
    added = f"      - {{effective_from: {ZONE_MOVES}, regions: [RU-BEL, RU-KRS]}}\n"
    assert old in catalog.read_text()
    catalog.write_text(catalog.read_text().replace(old, old + added))
    return load_pack(folder)


@pytest.fixture(scope="module")
def counts_quantity(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A US candidate whose policies read the quantity: more than ten is forbidden."""
    folder = tmp_path_factory.mktemp("candidate") / "2025-05-01"
    shutil.copytree(US / "2025-05-01", folder)
    with (folder / "policies.cedar").open("a") as policies:
        policies.write(
            '\n@id("no-more-than-ten")\n'
            "forbid (principal, action, resource) when { context.quantity > 10 };\n"
        )
    return folder


def _around_changes() -> list[str]:
    changes = [b.name for b in US.iterdir()] + ["2024-06-20", ZONE_MOVES.isoformat()]
    days = set()
    for change in changes:
        day = dt.date.fromisoformat(change)
        days.update(day + dt.timedelta(days=d) for d in (-1, 0, 1, 40))
    return sorted(d.isoformat() for d in days)


DATES = st.sampled_from(_around_changes())
_REQUESTS = st.fixed_dictionaries(
    {
        "action": st.just("employ"),
        "requester": st.just("UA"),
        "system": st.sampled_from(["atacms", "storm-shadow"]),
        "quantity": st.sampled_from([1, 40]),
        "target": st.sampled_from(
            [
                {"territory": "RU"},
                {"territory": "RU", "region": "RU-BEL"},
                {"territory": "RU", "region": "RU-KRS"},
            ]
        ),
        "date": DATES,
    }
) | st.fixed_dictionaries(
    {
        "action": st.just("transfer"),
        "requester": st.just("US"),
        "recipient": st.just("UA"),
        "system": st.sampled_from(["atacms", "eram"]),
        "quantity": st.sampled_from([1, 3000]),
        "funding": st.just("european-partners"),
        "date": DATES,
    }
)


class Stored:
    """Cases kept as submission keeps them, by number: read by their columns (``keyed``) or
    whole (``whole``, the ``WholeCases`` replay is handed)."""

    def __init__(self) -> None:
        self.cases: dict[int, StoredCase] = {}
        self.read_whole: list[int] = []
        self.rounds: list[list[int]] = []

    def keep(
        self, screener: Screener, number: int, data: dict[str, Any], *, forget_facts: bool = False
    ) -> KeyedCase:
        """``data`` decided by ``screener`` and kept; with ``forget_facts``, a decision that
        recorded no stockpile facts (as ones made before they were recorded)."""
        request = parse_request(data)
        decision = screener.decide(request, decision_id=str(number), now=NOW)
        record = decision.as_dict()
        if forget_facts:
            record["stockpile"] = None
        recorded = RecordedDecision.of(record)
        self.cases[number] = StoredCase(str(number), number, request, recorded, CaseState.IN_REVIEW)
        return KeyedCase(
            number,
            recorded.outcome.value,
            request.date.isoformat(),
            request.quantity,
            request_shape(request.as_dict()),
            stockpile_digest(recorded.stockpile),
        )

    def whole(self, numbers: list[int]) -> dict[int, StoredCase]:
        self.read_whole += numbers
        if numbers:
            self.rounds.append(list(numbers))
        return {n: self.cases[n] for n in numbers if n in self.cases}


def _in_batches(
    rejudger: Rejudger, rows: list[Any], size: int, stored: Stored | None = None
) -> tuple[int, list[Any], list[Any]]:
    examined, changes, skipped = 0, [], []
    for start in range(0, len(rows), size):
        batch = rows[start : start + size]
        count, changed, passed_over = (
            rejudger.judge(batch) if stored is None else rejudger.judge(batch, stored.whole)
        )
        examined += count
        changes += changed
        skipped += passed_over
    return examined, changes, skipped


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cases=st.lists(st.tuples(_REQUESTS, st.booleans()), min_size=1, max_size=40),
    size=st.integers(1, 7),
)
def test_replay_by_class_finds_what_reading_every_case_finds(
    pack: ScenarioPack,
    counts_quantity: Path,
    cases: list[tuple[dict[str, Any], bool]],
    size: int,
) -> None:
    screener, stored = Screener(pack), Stored()
    rows = [
        stored.keep(screener, number, data, forget_facts=forget)
        for number, (data, forget) in enumerate(cases, 1)
    ]
    whole_rows = list(stored.cases.values())
    for candidate in [*pack.history, load_candidate(pack, counts_quantity)]:
        whole = _in_batches(Rejudger(pack, candidate), whole_rows, size)
        by_class = Rejudger(pack, candidate)
        assert _in_batches(by_class, rows, size, stored) == whole
        assert _in_batches(by_class, rows, size, stored) == whole  # every class known now
        for row in rows:  # and what each class keeps is the outcome of every case in it
            case = stored.cases[row.number]
            assert not isinstance(case.request, UnreadableRequest)
            facts = case.decision.stockpile or by_class.screener.stockpile_facts(
                case.request, case.request.date
            )
            [judgements] = by_class.screener.judgements_of([case.request], stockpile=[facts])
            key = by_class.keys.key(row)
            assert key is not None
            assert by_class.keys.outcome(key) == outcome_of(judgements).value


def test_a_class_holds_no_change_of_bundle_or_zone(pack: ScenarioPack) -> None:
    """Cases of one shape dated either side of another holder's change of bundle, or of a
    zone's, are of different classes; on the days after, of one class until the next change.
    The candidate's holder's own changes do not count: the candidate stands on every date."""
    screener, stored = Screener(pack), Stored()
    near = {**G2, "target": {"territory": "RU", "region": "RU-KRS"}}
    rejudger = Rejudger(pack, load_candidate(pack, US / "2025-05-01"))
    rejudger.judge([stored.keep(screener, 0, near)], stored.whole)  # its shape seen whole
    changes = {b.effective_from for b in pack.history if b.holder != "US"}
    changes |= {dt.date(2024, 5, 30), dt.date(2024, 6, 20), ZONE_MOVES}  # the zones'
    assert dt.date(2025, 8, 28) not in changes
    for change in sorted(changes):
        before, on, after = (
            rejudger.keys.key(stored.keep(screener, 1, {**near, "date": day.isoformat()}))
            for day in (change - dt.timedelta(days=1), change, change + dt.timedelta(days=1))
        )
        assert before != on, change
        if change + dt.timedelta(days=1) not in changes:
            assert on == after, change
    us_only = [
        rejudger.keys.key(stored.keep(screener, 1, {**near, "date": day}))
        for day in ("2025-08-27", "2025-08-28")
    ]
    assert us_only[0] == us_only[1]


def test_a_class_holds_one_record_of_stockpile_facts_where_a_policy_reads_them(
    pack: ScenarioPack,
) -> None:
    """The US bundle of August 2025 reads them; no other holder's, nor the US bundle of
    November 2024, does."""
    screener, stored = Screener(pack), Stored()
    case = stored.keep(screener, 1, ATACMS)
    assert case.stockpile_digest is not None
    other = case._replace(stockpile_digest="sha256:other")
    for folder, apart in [(US / "2025-08-28", True), (US / "2024-11-17", False)]:
        rejudger = Rejudger(pack, load_candidate(pack, folder))
        rejudger.judge([case], stored.whole)
        assert (rejudger.keys.key(other) != rejudger.keys.key(case)) is apart


def test_a_class_holds_one_quantity_only_where_a_policy_reads_it(
    pack: ScenarioPack, counts_quantity: Path
) -> None:
    screener, stored = Screener(pack), Stored()
    few, many = stored.keep(screener, 1, G2), stored.keep(screener, 2, {**G2, "quantity": 40})
    for folder, apart in [(US / "2025-05-01", False), (counts_quantity, True)]:
        rejudger = Rejudger(pack, load_candidate(pack, folder))
        rejudger.judge([few], stored.whole)
        assert (rejudger.keys.key(few) != rejudger.keys.key(many)) is apart


def test_a_case_of_a_known_class_is_not_read_again(pack: ScenarioPack) -> None:
    """Under the bundle it was decided by, the second case asks what the first asked, on
    another day of the same period and in another quantity: its outcome is the class's, and
    it is not read whole. A third, of the same class but decided as permitted (under the
    bundle of November 2024), is read whole and reported. A case that cannot be read whole
    when its class does not tell is named as not judged."""
    screener, stored = Screener(pack), Stored()
    first = stored.keep(screener, 1, G2)
    same = stored.keep(screener, 2, {**G2, "date": "2025-06-16", "quantity": 7})
    authorised = Rejudger(pack, load_candidate(pack, US / "2024-11-17")).screener
    other = stored.keep(authorised, 3, {**G2, "date": "2025-06-17"})
    assert other.outcome == "permitted"
    rejudger = Rejudger(pack, load_candidate(pack, US / "2025-05-01"))
    assert rejudger.judge([first], stored.whole) == (1, [], [])
    assert rejudger.judge([same], stored.whole) == (1, [], [])
    assert (stored.read_whole, rejudger.keys.stats().hits) == ([1], 1)
    _, [change], _ = rejudger.judge([other], stored.whole)
    assert (change.number, change.was, change.would_be) == (3, "permitted", "review_required")
    assert stored.read_whole == [1, 3]
    fresh = Rejudger(pack, load_candidate(pack, US / "2025-05-01"))
    assert fresh.judge([same], lambda numbers: {}) == (
        1,
        [],
        [Skipped(2, "it could not be read whole")],
    )


def test_of_a_class_new_to_a_batch_only_the_first_case_is_read_whole(
    pack: ScenarioPack,
) -> None:
    screener, stored = Screener(pack), Stored()
    rows = [stored.keep(screener, n, {**G2, "date": f"2025-06-1{n}"}) for n in range(1, 5)]
    rejudger = Rejudger(pack, load_candidate(pack, US / "2024-11-17"))
    _, changes, skipped = rejudger.judge(rows, stored.whole)
    assert ([c.number for c in changes], skipped) == ([1, 2, 3, 4], [])  # each now permitted
    assert stored.read_whole == [1, 2, 3, 4]  # changed cases are read whole, each
    stored.read_whole.clear()
    rejudger = Rejudger(pack, load_candidate(pack, US / "2025-05-01"))
    assert rejudger.judge(rows, stored.whole) == (4, [], [])
    assert stored.read_whole == [1]


def test_every_case_of_a_class_whose_first_cannot_be_judged_is_named(
    pack: ScenarioPack,
) -> None:
    """Its first case taught nothing of the class, so the others are read in the next round,
    all at once, each named as not judged with its own reason."""
    screener, stored = Screener(pack), Stored()
    rows = [stored.keep(screener, n, {**G2, "date": f"2025-06-1{n}"}) for n in range(1, 5)]
    for number in (1, 2, 3):
        unreadable = UnreadableRequest({"system": number}, f"damaged {number}")
        stored.cases[number] = stored.cases[number]._replace(request=unreadable)
    rejudger = Rejudger(pack, load_candidate(pack, US / "2025-05-01"))
    assert rejudger.judge(rows, stored.whole) == (
        4,
        [],
        [Skipped(1, "damaged 1"), Skipped(2, "damaged 2"), Skipped(3, "damaged 3")],
    )
    assert stored.read_whole == [1, 2, 3, 4]


def test_a_transfer_with_no_recorded_facts_is_judged_on_its_own_date_and_quantity(
    pack: ScenarioPack,
) -> None:
    """Its stockpile facts are worked out again from the pack's figures for its day and
    quantity, so neither may be left out of its class."""
    screener, stored = Screener(pack), Stored()
    rejudger = Rejudger(pack, load_candidate(pack, US / "2025-08-28"))  # reads stockpile facts
    first = stored.keep(screener, 1, ATACMS, forget_facts=True)
    rejudger.judge([first], stored.whole)
    again = stored.keep(screener, 2, {**ATACMS, "quantity": ATACMS["quantity"] + 1})
    assert rejudger.keys.key(again) != rejudger.keys.key(first)
    assert rejudger.keys.key(again._replace(stockpile_digest=None)) != rejudger.keys.key(first)
    assert rejudger.keys.key(first._replace(number=9)) == rejudger.keys.key(first)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[Any]:
    with small_world(tmp_path) as made:
        for request, actor in [
            (G2, "ua.liaison"),
            ({**G2, "quantity": 9}, "ua.liaison"),
            ({**G2, "date": "2024-12-01"}, "ua.liaison"),
            (ATACMS, "us.liaison"),
            ({**ATACMS, "quantity": 10}, "us.liaison"),
        ]:
            made.cases.submit(request, actor=actor, now=NOW)
        yield made


def _replayed(world: Any, period: tuple[str | None, str | None]) -> ReplayReport:
    first, last = (None if day is None else dt.date.fromisoformat(day) for day in period)
    return replay(world.store, None, US / "2024-11-17", first=first, last=last, batch=2)


@pytest.mark.parametrize(
    ("period", "examined", "changed"),
    [
        ((None, None), 5, [1, 2]),
        (("2025-06-15", "2025-06-15"), 2, [1, 2]),
        ((None, "2025-01-01"), 1, []),
        (("2025-07-01", None), 2, []),
        (("2026-01-01", None), 0, []),
    ],
)
def test_stored_cases_replay_the_same_with_or_without_their_columns(
    world: Any, period: tuple[str | None, str | None], examined: int, changed: list[int]
) -> None:
    """Cases stored before the columns existed (each column empty) are read whole, as
    before, and found in a period by the date in their request's JSON; the report is the
    same."""
    by_class = _replayed(world, period)
    assert by_class.examined == examined
    assert [change.number for change in by_class.changes] == changed
    with world.store.database.engine.begin() as connection:
        connection.execute(
            text("UPDATE cases SET asked_on = NULL, request_shape = NULL, quantity = NULL")
        )
    assert _replayed(world, period).as_dict() == by_class.as_dict()


@pytest.mark.parametrize(
    "period", [(None, None), (dt.date(2025, 1, 1), None), (None, dt.date(2025, 12, 31))]
)
def test_the_columns_a_case_is_classed_by_are_read_from_an_index_alone(
    world: Any, period: tuple[dt.date | None, dt.date | None]
) -> None:
    """Read from the table, they took the cases' texts from disk with them (migration 0014);
    a case stored without its date is looked for in the small index of such cases."""
    query = stored_cases._select(world.store, stored_cases._KEYED, *period)
    sql = str(query.compile(compile_kwargs={"literal_binds": True}))
    with world.store.database.engine.connect() as connection:
        plan = [row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]
    reads = [step for step in plan if step.startswith(("SCAN", "SEARCH"))]
    undated = ["SCAN cases USING INDEX ix_cases_undated"] if period != (None, None) else []
    assert reads == ["SCAN cases USING COVERING INDEX ix_cases_replay", *undated]


def test_the_first_cases_of_every_new_class_of_a_batch_are_read_in_one_round(
    pack: ScenarioPack,
) -> None:
    """Cases of a shape seen whole but of classes not yet seen (other periods) are read
    together, not one class a round; so are cases stored without their columns."""
    screener, stored = Screener(pack), Stored()
    rejudger = Rejudger(pack, load_candidate(pack, US / "2025-05-01"))
    rejudger.judge([stored.keep(screener, 1, G2)], stored.whole)
    others = [stored.keep(screener, n, {**G2, "date": day})
              for n, day in ((2, "2024-06-01"), (3, "2022-03-01"))]  # fmt: skip
    assert len({rejudger.keys.key(case) for case in [stored.keep(screener, 1, G2), *others]}) == 3
    bare = [stored.keep(screener, n, G2)._replace(request_shape=None) for n in (4, 5)]
    stored.rounds.clear()
    rejudger.judge([*others, *bare], stored.whole)
    assert stored.rounds == [[2, 3, 4, 5]]


def test_a_case_missing_its_date_or_quantity_column_is_read_whole(pack: ScenarioPack) -> None:
    screener, stored = Screener(pack), Stored()
    rejudger = Rejudger(pack, load_candidate(pack, US / "2025-05-01"))
    case = stored.keep(screener, 1, G2)
    rejudger.judge([case], stored.whole)
    assert rejudger.keys.key(case) is not None
    for column in ("asked_on", "quantity", "request_shape"):
        assert rejudger.keys.key(case._replace(**{column: None})) is None
    # A date SQLite hands back in another type, as bytes, cannot class the case either.
    assert case.asked_on is not None
    assert rejudger.keys.key(case._replace(asked_on=case.asked_on.encode())) is None


def test_classes_found_and_not_found_are_counted_as_a_memo_counts(pack: ScenarioPack) -> None:
    """A case whose shape is not yet known asks for no class; one of a known shape does."""
    screener, stored = Screener(pack), Stored()
    rejudger = Rejudger(pack, load_candidate(pack, US / "2025-05-01"))
    rejudger.judge([stored.keep(screener, 1, G2)], stored.whole)
    assert rejudger.keys.stats() == MemoStats(0, 0, 1, DEFAULT_CAPACITY)
    same = stored.keep(screener, 2, {**G2, "date": "2025-06-16"})
    other = stored.keep(screener, 3, {**G2, "date": "2022-03-01"})
    rejudger.judge([same, other], stored.whole)
    assert rejudger.keys.stats() == MemoStats(1, 1, 2, DEFAULT_CAPACITY)
    newer = stored.keep(screener, 4, {**G2, "date": "2024-06-01"})
    rejudger.judge([same, other, newer], stored.whole)
    assert rejudger.keys.stats() == MemoStats(3, 2, 3, DEFAULT_CAPACITY)


def test_what_the_classes_keep_is_bounded_as_the_memos_are(
    pack: ScenarioPack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(replay_keys, "DEFAULT_CAPACITY", 2)
    screener, stored = Screener(pack), Stored()
    rejudger = Rejudger(pack, load_candidate(pack, US / "2025-05-01"))
    for number, quantity in enumerate((1, 2, 3), 1):  # three shapes, three classes
        case = stored.keep(screener, number, {**G2, "requester": "UA", "quantity": quantity})
        rejudger.judge([case._replace(request_shape=f"shape {number}")], stored.whole)
        assert rejudger.keys.stats().size <= 2
        assert len(rejudger.keys._transfers) <= 2  # what each shape was, seen whole


def test_a_transfer_with_no_recorded_facts_is_classed_by_its_period_where_none_are_read(
    pack: ScenarioPack,
) -> None:
    """The US bundle of November 2024 reads no stockpile facts: working them out again could
    not change its answer."""
    screener, stored = Screener(pack), Stored()
    rejudger = Rejudger(pack, load_candidate(pack, US / "2024-11-17"))
    first = stored.keep(screener, 1, ATACMS, forget_facts=True)
    rejudger.judge([first], stored.whole)
    later = stored.keep(screener, 2, {**ATACMS, "date": "2025-09-02", "quantity": 9},
                        forget_facts=True)  # fmt: skip
    assert rejudger.keys.key(later) == rejudger.keys.key(first)


def test_cases_stored_without_their_date_keep_to_number_order_and_to_a_range(
    world: Any,
) -> None:
    """A period reads them by their request's date, in a query of their own, joined to the
    others in number order; a worker's range holds them too."""
    with world.store.database.engine.begin() as connection:
        connection.execute(text("UPDATE cases SET asked_on = NULL WHERE number IN (1, 4)"))
    first, last = dt.date(2024, 1, 1), dt.date(2026, 12, 31)
    [rows] = stored_cases.keyed_cases(world.store, first=first, last=last, batch=10)
    assert [row.number for row in rows] == [1, 2, 3, 4, 5]
    between = stored_cases.keyed_cases_between(world.store, 2, 3, first=first, last=last)
    assert [row.number for row in between] == [2, 3]
    assert stored_cases.number_span(world.store, first=dt.date(2030, 1, 1), last=None) is None


def _replayed_after(world: Any, change: str) -> tuple[str, ReplayReport]:
    """Case 2's id, and a replay of every case after ``change`` was made to case 2's row
    outside clearance (``change``: what follows ``SET``)."""
    with world.store.database.engine.begin() as connection:
        connection.execute(text(f"UPDATE cases SET {change} WHERE number = 2"))
        case_id = connection.execute(text("SELECT id FROM cases WHERE number = 2")).scalar()
    return case_id, replay(world.store, None, US / "2024-11-17", first=None, last=None)


def test_a_case_whose_decision_does_not_read_is_named_not_judged(world: Any) -> None:
    """Replay, and the stored requests a policy diff compares, go on past it."""
    case_id, report = _replayed_after(world, "decision = '[]'")
    assert report.examined == 5
    assert report.skipped == (
        Skipped(2, f"case {case_id}'s stored decision cannot be read: it is not a JSON object"),
    )
    screener = Screener(load_pack())
    assert [p.label for p in stored_probes(world.store, screener)] == [
        "case 1", "case 3", "case 4", "case 5"
    ]  # fmt: skip


def test_a_case_whose_state_column_holds_no_state_is_named_not_judged(world: Any) -> None:
    case_id, report = _replayed_after(world, "state = 'bogus'")
    assert report.examined == 5
    assert report.skipped == (Skipped(2, f"case {case_id}'s state column holds no case state"),)
    assert [change.number for change in report.changes] == [1]
    assert {change.state for change in report.changes} == {CaseState.IN_REVIEW.value}


def test_a_case_number_that_is_no_whole_number_is_refused_naming_it(world: Any) -> None:
    """Only SQLite keeps one (PostgreSQL refuses it); the span of numbers a split of the work
    starts from and every case read whole refuse it alike."""
    with world.store.database.engine.begin() as connection:
        connection.execute(text("UPDATE cases SET number = '2x' WHERE number = 5"))
    words = (
        "the cases table holds a case number not stored as a whole number;"
        " 'clearance audit verify' names every record changed outside clearance"
    )
    with pytest.raises(DamagedRecord) as refused:
        stored_cases.number_span(world.store, first=None, last=None)
    assert refused.value.message == words
    # Read by its columns (SQLite orders it last): found however the stream is cut.
    for batch in (2, 5):
        streamed = stored_cases.keyed_cases(world.store, first=None, last=None, batch=batch)
        with pytest.raises(DamagedRecord):
            list(streamed)
    with stored_cases.whole_reader(world.store) as whole:
        assert sorted(whole([1, 2])) == [1, 2]
        with pytest.raises(DamagedRecord):
            whole(["2x"])  # type: ignore[list-item]


def test_every_stored_case_is_read_whole_in_number_order_a_batch_at_a_time(world: Any) -> None:
    batches = list(stored_cases.stored_cases(world.store, batch=2))
    assert [[case.number for case in rows] for rows in batches] == [[1, 2], [3, 4], [5]]


def test_the_cases_read_whole_are_read_on_one_connection_however_many_reads(world: Any) -> None:
    """Replay reads cases whole a few hundred times; taking a connection from the pool for
    each read (and checking it on PostgreSQL) cost more than the rows did. Every case is read
    whole here (no columns), in one read a batch: five reads or one, the same connections."""
    with world.store.database.engine.begin() as connection:
        connection.execute(text("UPDATE cases SET request_shape = NULL"))
    taken: list[int] = []

    def checkout(*_: object) -> None:
        taken[-1] += 1

    reader = world.store.database.reader
    event.listen(reader, "checkout", checkout)
    try:
        for batch in (1, 5):
            taken.append(0)
            report = replay(world.store, None, US / "2024-11-17", first=None, last=None,
                            batch=batch)  # fmt: skip
            assert report.examined == 5
    finally:
        event.remove(reader, "checkout", checkout)
    # The bundles activated in the database, the stream of the cases' columns, the reads.
    assert taken == [3, 3]


@pytest.mark.parametrize("count", [1, 3, 40])
def test_whole_cases_are_read_by_any_number_of_numbers_in_one_statement(
    world: Any, count: int
) -> None:
    numbers = list(range(1, count + 1))
    with stored_cases.whole_reader(world.store) as whole:
        found = whole(numbers)
        assert whole([]) == {}
    assert sorted(found) == [n for n in numbers if n <= 5]
    assert all(found[n].number == n for n in found)
    postgresql = str(
        select(Case.number)
        .where(one_of(Case.number, "numbers", is_sqlite=False))
        .compile(dialect=postgresql_dialect.dialect())
    )
    assert postgresql.endswith("WHERE cases.number = ANY (%(numbers)s::BIGINT[])")
