"""The rules of replaying stored cases under a candidate bundle (``service.replay``), stated
through ``replay`` and ``Rejudger`` over one small world, with the exact report.

The world (built once for the file) holds seven cases, numbered so that each period and
range of numbers has cases of other dates inside it: the June 2025 strike with ATACMS, in
review; the December 2024 one, permitted; the ERAM sale; the June strike again on a region
near Kharkiv; a fifth whose stored request was changed outside clearance and no longer
reads; and two US transfers of ATACMS, the second judged on the stock the first committed.
Replayed under the US bundle of 30 May 2024 (strikes near Kharkiv only), every strike and
the sale would be prohibited; the transfers stay permitted.

No test starts a process: the worker pool is replaced by one that works in the test's own
process, each piece of work when its result is asked for.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import itertools
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any, ClassVar

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import make_url

from clearance.core.decision import RecordedDecision
from clearance.core.request import parse_request
from clearance.core.stockpile import Rating
from clearance.core.workflow import CaseState
from clearance.errors import InputError
from clearance.policy.pack import default_pack_path
from clearance.service import replay as replaying
from clearance.service.replay import (
    Skipped,
    cases_in_period,
    check_period,
    default_workers,
    replay,
    stored_probes,
)
from clearance.service.replay_judging import Rejudger, load_candidate
from clearance.store.stored_cases import StoredCase

from .small_worlds import screener, small_world
from .worlds import ATACMS, G1, G2, G5, T0, World

US = default_pack_path() / "bundles" / "US"
KHARKIV = US / "2024-05-30"
AUTHORITY = US / "2024-11-17"
REVIEW = US / "2025-05-01"
NEAR_KHARKIV = {**G2, "target": {"territory": "RU", "region": "RU-BEL"}}
NO_REGION = "the target's region was not given, and the policy of US in force tests regions"
FORBIDDEN = ("US/us-no-atacms-in-russia", "US/us-no-strikes-in-russia")
UNREADABLE = "request field 'action': is required ('employ' or 'transfer')"


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with small_world(tmp_path_factory.mktemp("replay")) as world:
        for request, actor in [
            (G2, "ua.liaison"),
            (G1, "ua.liaison"),
            ({**G5, "quantity": 5}, "us.liaison"),
            (NEAR_KHARKIV, "ua.liaison"),
            (G2, "ua.liaison"),
            (ATACMS, "us.liaison"),
            ({**ATACMS, "quantity": 10}, "us.liaison"),
        ]:
            world.cases.submit(request, actor=actor, now=T0)
        with world.store.database.engine.begin() as connection:
            connection.execute(
                sa.text("UPDATE cases SET request = :bad WHERE number = 5"),
                {"bad": '{"system": 5}'},
            )
        yield world


def ids(world: World) -> dict[int, str]:
    """Case number → case id."""
    with world.store.reading() as tx:
        return {c.number: c.id for c in tx.cases.page(limit=10)}


def stored(*requests: dict[str, Any]) -> list[StoredCase]:
    """The requests as stored cases in review, each decided under the pack in force."""
    rows = []
    for number, data in enumerate(requests, 1):
        request = parse_request(data)
        decision = screener().decide(request, decision_id=str(number), now=T0)
        recorded = RecordedDecision.of(decision.as_dict())
        rows.append(StoredCase(str(number), number, request, recorded, CaseState.IN_REVIEW))
    return rows


def rejudger(folder: Path) -> Rejudger:
    pack = screener().pack
    return Rejudger(pack, load_candidate(pack, folder))


# The period and the candidate ---------------------------------------------------------


def test_a_period_that_ends_before_it_begins_is_refused() -> None:
    with pytest.raises(InputError) as refused:
        check_period(dt.date(2025, 7, 1), dt.date(2025, 6, 30))
    assert str(refused.value) == "option --from: 2025-07-01 is after --to 2025-06-30"
    check_period(dt.date(2025, 7, 1), dt.date(2025, 7, 1))
    check_period(dt.date(2025, 7, 1), None)
    check_period(None, dt.date(2025, 6, 30))


def test_a_candidate_of_a_holder_without_history_is_refused_naming_those_with(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "de"
    folder.mkdir()
    for name in ("policies.cedar", "bundle.yaml"):
        text = (AUTHORITY / name).read_text()
        if name == "bundle.yaml":
            text = text.replace("holder: US", "holder: DE").split("legislative_review:")[0]
        (folder / name).write_text(text)
    with pytest.raises(InputError) as refused:
        load_candidate(screener().pack, folder)
    assert str(refused.value) == (
        "--bundle: holder 'DE' has no policy history in pack 'seed' (holders: FR, GB, UA, US)"
    )


def test_a_candidate_folder_that_is_not_there_is_refused_as_the_bundle_option(
    tmp_path: Path,
) -> None:
    with pytest.raises(InputError) as refused:
        load_candidate(screener().pack, tmp_path / "nowhere")
    assert str(refused.value) == f"--bundle: '{tmp_path / 'nowhere'}' is not a folder"


# Judging again ------------------------------------------------------------------------


def test_the_candidate_is_in_force_for_its_holder_on_every_date() -> None:
    """The December 2024 strike, permitted then, is judged under the review mechanism of
    May 2025 as if it had been in force: it would need the Secretary."""
    examined, [change], skipped = rejudger(REVIEW).judge(stored(G1))
    assert (examined, skipped) == (1, [])
    assert (change.was, change.would_be) == ("permitted", "review_required")
    assert change.would_be_reasons == ("US/us-review-mechanism",)


def test_the_other_holders_keep_the_bundle_in_force_on_the_cases_date() -> None:
    """Storm Shadow in June 2025 has three holders; under the US bundle of May 2024 only the
    US policies decide, and only theirs are named, with the note they give."""
    storm_shadow = {**G2, "system": "storm-shadow", "quantity": 3}
    [row] = stored(storm_shadow)
    assert row.decision.consent_holders == ("FR", "GB", "US")
    _, [change], _ = rejudger(KHARKIV).judge([row])
    assert (change.was, change.would_be) == ("review_required", "prohibited")
    assert change.would_be_reasons == ("US/us-no-strikes-in-russia",)
    assert change.notes == (NO_REGION,)
    _, [permitted], _ = rejudger(AUTHORITY).judge([row])
    assert permitted.would_be == "permitted"
    assert permitted.would_be_reasons == ("US/us-strikes-in-russia-authorised",)


def test_a_change_names_the_case_its_request_the_outcomes_the_reasons_and_the_zones() -> None:
    """The transfer between the two strikes is decided as it was, and left out."""
    rows = stored(G2, ATACMS, NEAR_KHARKIV)
    examined, changes, skipped = rejudger(KHARKIV).judge(rows)
    assert (examined, skipped) == (3, [])
    assert [c.as_dict() for c in changes] == [
        {
            "number": 1,
            "case_id": "1",
            "request": rows[0].request.as_dict(),
            "state": "in_review",
            "was": "review_required",
            "would_be": "prohibited",
            "kind": "review_required → prohibited",
            "was_reasons": ["US/us-review-mechanism"],
            "would_be_reasons": list(FORBIDDEN),
            "notes": [NO_REGION],
            "zones": [],
        },
        {
            "number": 3,
            "case_id": "3",
            "request": rows[2].request.as_dict(),
            "state": "in_review",
            "was": "review_required",
            "would_be": "prohibited",
            "kind": "review_required → prohibited",
            "was_reasons": ["US/us-review-mechanism"],
            "would_be_reasons": list(FORBIDDEN),
            "notes": [],
            "zones": ["kharkiv-border", "russian-border-regions"],
        },
    ]


def test_a_case_the_pack_cannot_judge_is_skipped_saying_why() -> None:
    [row] = stored(G2)
    gone = parse_request({**G2, "system": "no-such-system"})
    rows = [row._replace(number=7, request=gone), row._replace(number=8)]
    examined, changes, skipped = rejudger(KHARKIV).judge(rows)
    assert (examined, [c.number for c in changes]) == (2, [8])
    assert skipped == [Skipped(7, "request field 'system': unknown system 'no-such-system'")]


def test_a_transfer_is_judged_on_the_stock_facts_its_decision_recorded() -> None:
    """Recorded as leaving the US red, the transfer stays under review, though its stock
    worked out again from the pack would leave it green (and permit it). A decision that
    recorded no facts is judged on those worked out: three hundred leave the US yellow."""
    request = parse_request(ATACMS)
    worked_out = screener().stockpile_facts(request, request.date)
    assert worked_out is not None
    assert worked_out.after is Rating.GREEN
    red = dataclasses.replace(
        worked_out, committed=800, now=Rating.RED, after=Rating.RED, months_to_recover=40
    )
    rows = []
    for number, facts in enumerate((red, worked_out), 1):
        decision = screener().decide(request, decision_id=str(number), now=T0, stockpile=facts)
        recorded = RecordedDecision.of(decision.as_dict())
        rows.append(StoredCase(str(number), number, request, recorded, CaseState.IN_REVIEW))
    assert [r.decision.outcome.value for r in rows] == ["review_required", "permitted"]
    [larger] = stored({**ATACMS, "quantity": 300})
    assert larger.decision.outcome.value == "review_required"
    bare = dataclasses.replace(larger.decision, stockpile=None)
    rows.append(larger._replace(number=3, decision=bare))
    assert rejudger(US / "2025-08-28").judge(rows) == (3, [], [])


# Replay over a store ------------------------------------------------------------------


class _NoPool:
    def __init__(self, *_: object, **__: object) -> None:
        raise AssertionError("one worker judges in the process that asks")


@pytest.fixture(autouse=True)
def no_process_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(replaying, "ProcessPoolExecutor", _NoPool)
    monkeypatch.setattr(replaying, "_worker", None)


@pytest.fixture(scope="module")
def moved_zone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the seed pack in which the zone across from Kharkiv is Kursk region."""
    folder = tmp_path_factory.mktemp("pack") / "seed"
    shutil.copytree(default_pack_path(), folder)
    catalog = folder / "catalog.yaml"
    text = catalog.read_text()
    old = "{effective_from: 2024-05-30, regions: [RU-BEL]}"
    assert old in text
    catalog.write_text(text.replace(old, "{effective_from: 2024-05-30, regions: [RU-KRS]}"))
    return folder


def _expected(small: World, *zones: str) -> dict[str, Any]:
    """The report of the world replayed under the bundle of May 2024, with the zones of the
    strike near Kharkiv (as the seed pack has them when none are given)."""
    zones = zones or ("kharkiv-border", "russian-border-regions")
    case = ids(small)

    def change(number: int, request: dict[str, Any], state: str, **rest: Any) -> dict[str, Any]:
        was, would_be = rest.pop("was", "review_required"), rest.pop("would_be", "prohibited")
        return {
            "number": number,
            "case_id": case[number],
            "request": parse_request(request).as_dict(),
            "state": state,
            "was": was,
            "would_be": would_be,
            "kind": f"{was} → {would_be}",
            "was_reasons": ["US/us-review-mechanism"],
            "would_be_reasons": list(FORBIDDEN),
            "notes": [NO_REGION],
            "zones": [],
            **rest,
        }

    return {
        "bundle": {
            "holder": "US",
            "folder": "bundles/US/2024-05-30",
            "title": "Cross-border fire near Kharkiv",
            "effective_from": "2024-05-30",
            "revision": load_candidate(screener().pack, KHARKIV).revision,
        },
        "from": None,
        "to": None,
        "examined": 7,
        "changed": 4,
        "by_kind": {"review_required → prohibited": 2, "permitted → prohibited": 2},
        "by_zone": dict.fromkeys(zones, 1),
        "changes": [
            change(1, G2, "in_review"),
            change(
                2,
                G1,
                "approved",
                was="permitted",
                was_reasons=["US/us-strikes-in-russia-authorised"],
            ),
            change(
                3,
                {**G5, "quantity": 5},
                "approved_with_conditions",
                was="permitted",
                was_reasons=["US/us-eram-sale-european-funded"],
                would_be_reasons=[],
                notes=["no policy of US permits this request"],
            ),
            change(4, NEAR_KHARKIV, "in_review", notes=[], zones=list(zones)),
        ],
        "skipped": [{"number": 5, "problem": UNREADABLE}],
    }


def test_replay_reports_every_stored_case_that_would_change_batch_by_batch(
    small: World,
) -> None:
    counted: list[int] = []
    report = replay(
        small.store, None, KHARKIV, first=None, last=None, batch=4, progress=counted.append
    )
    assert counted == [4, 3]
    assert report.as_dict() == _expected(small)


def test_replay_judges_under_the_pack_it_is_given(small: World, moved_zone: Path) -> None:
    report = replay(small.store, moved_zone, moved_zone / KHARKIV.relative_to(US.parent.parent),
                    first=None, last=None)  # fmt: skip
    assert report.as_dict() == _expected(small, "russian-border-regions")


def test_replay_reads_the_cases_dated_in_the_period_inclusive(small: World) -> None:
    """Case 5 is of 15 June by its ``asked_on`` column; its request's text was damaged."""
    june = dt.date(2025, 6, 15)
    report = replay(small.store, None, KHARKIV, first=june, last=june)
    assert (report.first, report.last, report.examined) == (june, june, 3)
    assert [c.number for c in report.changes] == [1, 4]
    assert (report.as_dict()["from"], report.as_dict()["to"]) == ("2025-06-15", "2025-06-15")
    assert cases_in_period(small.store, june, june) == 3
    assert cases_in_period(small.store, june, None) == 6
    assert cases_in_period(small.store, None, dt.date(2025, 6, 14)) == 1


def test_replay_refuses_a_bad_period_before_reading_anything(small: World) -> None:
    with pytest.raises(InputError) as refused:
        replay(small.store, None, Path("no such folder"), first=dt.date(2025, 7, 1),
               last=dt.date(2025, 6, 1))  # fmt: skip
    assert refused.value.where == "option --from"


class _Pool:
    """An executor that works in the test's own process, each piece of work when its result
    is asked for, counting how many are in flight."""

    made: ClassVar[list[dict[str, Any]]] = []

    def __init__(self, workers: int, *, mp_context: Any, initializer: Callable[..., None],
                 initargs: tuple[Any, ...]) -> None:  # fmt: skip
        _Pool.made.append(
            {"workers": workers, "method": mp_context.get_start_method(), "initargs": initargs}
        )
        gc.enable()  # as a spawned worker's starts: the initializer must turn it off itself
        try:
            initializer(*initargs)
            _Pool.made[-1]["collecting"] = gc.isenabled()
        finally:
            gc.disable()  # back as the parent has it while it judges
        self.in_flight = self.most = 0

    def __enter__(self) -> _Pool:
        return self

    def __exit__(self, *_: object) -> None:
        _Pool.made[-1]["most in flight"] = self.most

    def submit(self, work: Callable[..., Any], *args: Any) -> Future[Any]:
        pool = self
        pool.in_flight += 1
        pool.most = max(pool.most, pool.in_flight)

        class Later(Future[Any]):
            def result(self, timeout: float | None = None) -> Any:
                pool.in_flight -= 1
                return work(*args)

        return Later()


@pytest.fixture
def pool(monkeypatch: pytest.MonkeyPatch) -> type[_Pool]:
    monkeypatch.setattr(replaying, "ProcessPoolExecutor", _Pool)
    monkeypatch.setattr(_Pool, "made", [])
    return _Pool


def test_the_workers_are_stopped_when_the_caller_stops_listening(
    small: World, pool: type[_Pool]
) -> None:
    """A progress bar that fails (or a reader that stops) ends the replay there, and its
    pool of workers with it, not when the failure's traceback is let go."""

    shown: list[int] = []

    def fail(count: int) -> None:
        shown.append(count)
        if len(shown) == 2:  # once the workers have started
            raise RuntimeError("the progress bar broke")

    with pytest.raises(RuntimeError) as failed:  # its traceback holds replay's frame
        replay(small.store, None, KHARKIV, first=None, last=None, workers=2, batch=1,
               progress=fail)  # fmt: skip
    assert "most in flight" in pool.made[0]  # the pool was left (``_Pool.__exit__``)
    assert failed.value.args == ("the progress bar broke",)


@pytest.mark.parametrize(("batch", "pools"), [(7, 0), (4, 1)], ids=["one range", "two ranges"])
def test_a_pool_is_started_only_when_there_is_more_than_one_range(
    small: World, pool: type[_Pool], batch: int, pools: int
) -> None:
    """The seven cases in one range leave no work to share: the parent judges them and starts
    no pool. In two ranges, it hands both to the workers."""
    found = replay(small.store, None, KHARKIV, first=None, last=None, workers=2, batch=batch)
    assert found.as_dict() == _expected(small)
    assert [made["most in flight"] for made in pool.made] == [2] * pools


def test_worker_processes_find_what_one_process_finds_two_ranges_each_in_flight(
    small: World, pool: type[_Pool]
) -> None:
    """Each worker forks where it can, handed the parent's rejudger (the pack and the
    candidate already loaded) and the database; the parent hands out only ranges of case
    numbers."""
    counted: list[int] = []
    pooled = replay(small.store, None, KHARKIV, first=None, last=None, workers=2, batch=1,
                    progress=counted.append)  # fmt: skip
    assert pooled.as_dict() == _expected(small)
    assert counted == [1] * 7
    url = small.store.database.engine.url.render_as_string(hide_password=False)
    [made] = pool.made
    handed, handed_url = made.pop("initargs")
    assert made == {"workers": 2, "method": "fork", "collecting": False, "most in flight": 4}
    assert (type(handed), handed.holder, handed_url) == (Rejudger, "US", url)
    on = dt.date(2022, 3, 1)  # before the candidate took effect: it stands in on every date
    candidate = rejudger(KHARKIV).screener.history.bundle_in_force("US", on)
    assert handed.screener.history.bundle_in_force("US", on).revision == candidate.revision


@pytest.mark.parametrize("methods", [["fork", "spawn"], ["spawn"]])
def test_each_worker_judges_with_the_pack_it_is_given(
    small: World,
    pool: type[_Pool],
    moved_zone: Path,
    monkeypatch: pytest.MonkeyPatch,
    methods: list[str],
) -> None:
    """Inherited or loaded again from the folders, the worker's pack is the one replay was
    given, with its zones."""
    monkeypatch.setattr(replaying.mp, "get_all_start_methods", lambda: methods)
    folder = moved_zone / KHARKIV.relative_to(US.parent.parent)
    pooled = replay(small.store, moved_zone, folder, first=None, last=None, workers=3, batch=1)
    assert pooled.as_dict() == _expected(small, "russian-border-regions")
    assert pool.made[0]["most in flight"] >= 2  # the workers judged most of the cases


def test_each_worker_reads_only_the_cases_of_the_period_in_its_range(
    small: World, pool: type[_Pool]
) -> None:
    """Cases 1 and 4 are of 15 June 2025, and so is case 5 by its ``asked_on`` column, though
    its request's text no longer says so (it is named as not judged, not left out); case 2
    is older, case 3 newer."""
    june = dt.date(2025, 6, 15)
    counted: list[int] = []
    report = replay(small.store, None, KHARKIV, first=june, last=june, workers=3, batch=2,
                    progress=counted.append)  # fmt: skip
    assert (report.examined, counted) == (3, [1, 2])  # numbers 1..3 and 4..5
    assert [c.number for c in report.changes] == [1, 4]
    assert [s.number for s in report.skipped] == [5]


@pytest.mark.parametrize(
    ("first", "last", "examined", "counted", "skipped"),
    [
        # numbers 1..2, 3..4 and 5: case 3 is of 28 August, after the period
        (dt.date(2025, 6, 15), dt.date(2025, 6, 15), 3, [1, 1, 1], [5]),
        # numbers 3..4, 5..6 and 7: case 5 is of 15 June, before the period
        (dt.date(2025, 8, 28), None, 3, [1, 1, 1], []),
        (dt.date(2030, 1, 1), None, 0, [], []),
    ],
)
def test_each_worker_keeps_to_the_period_within_its_range(
    small: World,
    pool: type[_Pool],
    first: dt.date,
    last: dt.date | None,
    examined: int,
    counted: list[int],
    skipped: list[int],
) -> None:
    """Ranges of one case each cover the period's numbers, and cases of other dates lie
    within the workers' ranges: each worker reads only the cases of the period."""
    told: list[int] = []
    report = replay(small.store, None, KHARKIV, first=first, last=last, workers=3, batch=1,
                    progress=told.append)  # fmt: skip
    assert (report.examined, told) == (examined, counted)
    assert [s.number for s in report.skipped] == skipped
    assert cases_in_period(small.store, first, last) == examined


def test_a_worker_is_spawned_where_it_cannot_fork(
    small: World, pool: type[_Pool], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(replaying.mp, "get_all_start_methods", lambda: ["spawn"])
    replay(small.store, None, KHARKIV, first=None, last=None, workers=2, batch=1)
    url = small.store.database.engine.url.render_as_string(hide_password=False)
    assert pool.made[0]["method"] == "spawn"
    assert pool.made[0]["initargs"] == ((None, str(KHARKIV)), url)


def test_a_worker_is_handed_the_databases_password(
    small: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    handed: list[tuple[Any, ...]] = []

    class Refusing:
        def __init__(self, *_: object, initargs: tuple[Any, ...], **__: object) -> None:
            handed.append(initargs)
            raise RuntimeError

    engine = small.store.database.engine
    monkeypatch.setattr(replaying, "ProcessPoolExecutor", Refusing)
    monkeypatch.setattr(engine, "url", make_url("postgresql://clearance:secret@db/clearance"))
    with pytest.raises(RuntimeError):
        replay(small.store, None, KHARKIV, first=None, last=None, workers=2, batch=1)
    assert handed[0][1] == "postgresql://clearance:secret@db/clearance"


def test_the_workers_are_the_processors_this_process_may_run_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(replaying.os, "sched_getaffinity", lambda pid: {0, 3, 5}, raising=False)
    assert default_workers() == 3
    monkeypatch.delattr(replaying.os, "sched_getaffinity")
    monkeypatch.setattr(replaying.os, "cpu_count", lambda: 6)
    assert default_workers() == 6
    monkeypatch.setattr(replaying.os, "cpu_count", lambda: None)
    assert default_workers() == 1


def test_the_stored_probes_are_every_case_the_pack_can_judge_with_the_facts_it_saw(
    small: World,
) -> None:
    """The second transfer saw the hundred the first committed, which the pack's figures
    alone do not show."""
    probes = list(stored_probes(small.store, screener()))
    assert [(p.source, p.label) for p in probes] == [
        ("stored", f"case {n}") for n in (1, 2, 3, 4, 6, 7)
    ]
    assert probes[0].request == parse_request(G2)
    with small.store.reading() as tx:
        recorded = [tx.cases.get(ids(small)[n]).decision.stockpile for n in (3, 6, 7)]  # type: ignore[union-attr]
    assert [p.stockpile for p in probes] == [None, None, *recorded[:1], None, *recorded[1:]]
    assert recorded[2] is not None
    assert recorded[2].committed == 100


@settings(max_examples=300, deadline=None)
@given(
    low=st.integers(1, 10**6),
    width=st.integers(0, 10**5),
    data=st.data(),
    workers=st.integers(1, 64),
    batch=st.integers(1, 2_000),
)
def test_the_ranges_handed_to_workers_cover_the_numbers_once(
    low: int, width: int, data: st.DataObject, workers: int, batch: int
) -> None:
    high = low + width
    count = data.draw(st.integers(1, width + 1))
    ranges = replaying._ranges((low, high, count), workers, batch)
    assert ranges[0][0] == low
    assert ranges[-1][1] == high
    assert all(a <= b for a, b in ranges)
    assert all(b + 1 == c for (_, b), (c, _) in itertools.pairwise(ranges))
    assert len(ranges) <= -(-count // batch)  # no range asks for less than a batch's worth
    assert replaying._ranges(None, workers, batch) == []


def test_workers_get_about_eight_ranges_each_of_one_to_twenty_batches() -> None:
    assert len(replaying._ranges((1, 100_000, 100_000), 2, 500)) == 16
    assert len(replaying._ranges((1, 100_000, 100_000), 4, 500)) == 32
    assert len(replaying._ranges((1, 2_000, 2_000), 2, 500)) == 4  # each at least a batch
    assert len(replaying._ranges((1, 10**7, 10**7), 2, 500)) == 1_000  # at most twenty
