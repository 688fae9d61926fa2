"""Replay of stored cases under a candidate bundle, on SQLite and PostgreSQL.

The demo database holds the June 2025 ATACMS case, which the Secretary denies
here; replaying it under the authority of November 2024 must find it
permitted, and replaying any bundle must leave alone every case that was
decided under that very bundle.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clearance.core.decision import RecordedDecision, outcome_of
from clearance.core.request import parse_request
from clearance.core.signing import unlock
from clearance.core.stockpile import Rating
from clearance.core.workflow import CaseState
from clearance.policy.engine import Screener
from clearance.policy.pack import ScenarioPack, default_pack_path, load_pack
from clearance.service import replay as replaying
from clearance.service.accounts import Accounts
from clearance.service.anchoring import prepare, sealed_store
from clearance.service.cases import CaseService
from clearance.service.collector import collector_paused
from clearance.service.demo import DEMO_PASSWORD, seed_demo
from clearance.service.people import People
from clearance.service.replay import ReplayReport, judged_batches, replay
from clearance.service.replay_judging import Rejudger, load_candidate
from clearance.store.compared_parts import ComparedParts
from clearance.store.db import open_database
from clearance.store.repository import Store
from clearance.store.stored_cases import StoredCase, stored_cases
from tests.worlds import ATACMS

from .conftest import NOW
from .databases import Template, clone_made_once
from .test_cases_cli import Cli

US = default_pack_path() / "bundles" / "US"
AUTHORITY = US / "2024-11-17"  # strikes inside Russia authorised
REVIEW = US / "2025-05-01"  # the review mechanism


def _seed(store: Store, screener: Screener) -> None:
    """The demo users and cases, with the June 2025 ATACMS case denied by the Secretary."""
    keys: dict[str, bytes] = {}
    cases = CaseService(store, screener, default_sla_days=14)
    seed_demo(
        People(store, screener.catalog),
        Accounts(store),
        cases,
        write_key=keys.__setitem__,
        now=NOW,
    )
    signer = unlock(keys["secdef"], DEMO_PASSWORD)
    cases.answer("1", actor="secdef", approve=False, reason="Escalation", signer=signer, now=NOW)


@pytest.fixture(scope="session")
def demo_made() -> dict[str, Template]:
    return {}


@pytest.fixture
def demo_database(
    database_url: str,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
    screener: Screener,
    demo_made: dict[str, Template],
) -> str:
    """A database holding the demo world (seeded once per kind of database: its keys and
    passwords are slow to make, on purpose), copied for the test; its URL."""

    def make(url: str, data_dir: Path) -> None:
        database = open_database(url)
        key = data_dir / "keys" / "system.key"
        store = sealed_store(database, key_path=key, data_dir=data_dir)
        prepare(store, key, now=NOW)
        _seed(store, screener)
        database.dispose()

    cluster = None if database_url.startswith("sqlite") else request.getfixturevalue("pg_cluster")
    clone_made_once(
        demo_made,
        database_url,
        tmp_path / "data",
        cluster=cluster,
        scratch=tmp_path_factory,
        make=make,
    )
    return database_url


@pytest.fixture
def demo_store(demo_database: str) -> Iterator[Store]:
    database = open_database(demo_database)
    yield Store(database)
    database.dispose()


def _run(store: Store, folder: Path, **options: object) -> ReplayReport:
    args: dict[str, object] = {"first": None, "last": None, **options}
    return replay(store, None, folder, **args)  # type: ignore[arg-type]


def test_the_denied_atacms_case_would_be_permitted_under_the_november_2024_authority(
    demo_store: Store,
) -> None:
    report = _run(demo_store, AUTHORITY)
    assert report.examined == 4
    changes = {c.number: c for c in report.changes}
    atacms = changes[1]
    assert (atacms.was, atacms.state, atacms.would_be) == ("review_required", "denied", "permitted")
    assert atacms.was_reasons == ("US/us-review-mechanism",)
    assert atacms.would_be_reasons == ("US/us-strikes-in-russia-authorised",)
    assert atacms.request["system"] == "atacms"
    # Storm Shadow in June 2025 too (FR and GB permit it already); the December 2024
    # strike was decided under this very bundle, so it stays as it was.
    assert set(changes) == {1, 2, 4}
    assert changes[4].kind == "permitted → prohibited"  # no ERAM sale before August 2025
    assert report.by_kind == {"review_required → permitted": 2, "permitted → prohibited": 1}


def test_a_bundle_changes_nothing_decided_under_it(demo_store: Store) -> None:
    report = _run(demo_store, REVIEW)
    with demo_store.reading() as tx:
        decided_under = {
            c.number
            for c in tx.cases.page(limit=100)
            if c.decision.bundles["US"] == report.candidate.revision
        }
    assert decided_under == {1, 2}
    assert {c.number for c in report.changes} == {3, 4}
    assert {c.kind for c in report.changes} == {
        "permitted → review_required",
        "permitted → prohibited",
    }


def test_the_period_is_the_requests_dates_inclusive(demo_store: Store) -> None:
    report = _run(demo_store, AUTHORITY, first=dt.date(2025, 6, 15), last=dt.date(2025, 6, 15))
    assert report.examined == 2
    assert {c.number for c in report.changes} == {1, 2}
    before = _run(demo_store, AUTHORITY, last=dt.date(2024, 12, 1))
    assert (before.examined, before.changes) == (1, ())


def test_the_lean_reading_gives_the_requests_and_decisions_the_full_reading_gives(
    demo_store: Store,
) -> None:
    """Replay reads the request from its text and only what it compares of the decision
    (``store.compared_parts``); the cases' own full reading gives the same."""
    lean = [row for rows in stored_cases(demo_store, batch=3) for row in rows]
    with demo_store.reading() as tx:
        full = sorted(tx.cases.page(limit=100), key=lambda c: c.number)
    assert [r.number for r in lean] == [c.number for c in full] == [1, 2, 3, 4]
    for row, case in zip(lean, full, strict=True):
        assert (row.id, row.request, row.state) == (case.id, case.request, case.state)
        recorded = case.decision
        assert row.decision == ComparedParts(recorded.outcome, recorded.reasons, recorded.stockpile)
    assert any(row.decision.stockpile is not None for row in lean)


def test_worker_processes_find_what_one_process_finds(demo_store: Store) -> None:
    alone = _run(demo_store, AUTHORITY, batch=1)
    pooled = _run(demo_store, AUTHORITY, workers=2, batch=1)
    assert pooled.as_dict() == alone.as_dict()


@pytest.mark.parametrize("workers", [1, 2])
def test_the_collector_is_paused_while_cases_are_judged_and_left_as_it_was(
    demo_store: Store, workers: int
) -> None:
    """Paused while the parent judges and hands out ranges; afterwards on if it was on, and
    off if the caller had turned it off. (That each worker turns off its own is
    tests/test_replay_rules.py's.)"""
    seen: list[bool] = []
    _run(
        demo_store,
        AUTHORITY,
        workers=workers,
        batch=1,
        progress=lambda _: seen.append(gc.isenabled()),
    )
    assert seen == [False] * 4
    assert gc.isenabled()
    gc.disable()
    try:
        _run(demo_store, AUTHORITY, workers=workers, batch=1)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_collector_is_paused_from_the_packs_load_on(
    demo_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pack and the database layer's first query make many objects that live as long as
    the replay; a pass set off while they are made would walk them all (docs/benchmarks.md)."""
    seen: list[bool] = []

    def load(*args: object) -> ScenarioPack:
        seen.append(gc.isenabled())
        return load_pack(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(replaying, "load_pack", load)
    _run(demo_store, AUTHORITY)
    assert seen == [False]
    assert gc.isenabled()


def _cycles_of_judging(store: Store) -> tuple[int, int]:
    """How many objects in reference cycles one pass judging every stored case leaves, and
    how many cases it could not judge."""
    pack = load_pack()
    rejudger = Rejudger(pack, load_candidate(pack, AUTHORITY))
    gc.collect()
    with collector_paused():
        judged = list(judged_batches(store, rejudger, (None, None), batch=1))
        assert sum(len(changes) for _, changes, _ in judged) >= 3  # cases read whole too
        return gc.collect(), sum(len(skipped) for _, _, skipped in judged)


def test_judging_more_cases_makes_no_more_reference_cycles(
    demo_store: Store, screener: Screener, tmp_path: Path
) -> None:
    """What lets the collector be paused while cases are judged: reference counting alone
    frees all that judging a case makes (read by its columns and whole, judged, a change
    found, or its decision found damaged), so twelve cases, four of them damaged, leave
    what four whole cases do (the few objects of the pass's queries)."""
    _cycles_of_judging(demo_store)  # the queries compiled and cached
    four, none_skipped = _cycles_of_judging(demo_store)
    assert none_skipped == 0
    data = tmp_path / "data"
    sealed = sealed_store(demo_store.database, key_path=data / "keys" / "system.key", data_dir=data)
    cases = CaseService(sealed, screener, default_sla_days=14)
    for quantity in range(1, 9):
        cases.submit({**ATACMS, "quantity": quantity}, actor="us.liaison", now=NOW)
    with demo_store.database.engine.begin() as connection:
        # No shape either, so that each is read whole (else its class's outcome would do).
        damage = "UPDATE cases SET decision = '{', request_shape = NULL WHERE number > 8"
        connection.execute(sa.text(damage))
    assert _cycles_of_judging(demo_store) == (four, 4)


# Replay as a property: over any requests, judged as submission judges them.

_REQUESTS = st.fixed_dictionaries(
    {
        "action": st.just("employ"),
        "requester": st.sampled_from(["UA", "GB", "US"]),
        "system": st.sampled_from(["atacms", "storm-shadow", "eram", "demo-glide-bomb"]),
        "quantity": st.integers(1, 100),
        "target": st.fixed_dictionaries({"territory": st.sampled_from(["UA", "RU", "BY"])}),
        "date": st.dates(dt.date(2022, 1, 1), dt.date(2026, 12, 31)).map(dt.date.isoformat),
    }
) | st.fixed_dictionaries(
    {
        "action": st.just("transfer"),
        "requester": st.sampled_from(["UA", "GB", "US"]),
        "recipient": st.sampled_from(["UA", "RU"]),
        "system": st.sampled_from(["atacms", "storm-shadow", "eram"]),
        "quantity": st.integers(1, 5000),
        "funding": st.sampled_from(["european-partners", "US", "DE"]),
        "date": st.dates(dt.date(2022, 1, 1), dt.date(2026, 12, 31)).map(dt.date.isoformat),
    }
)


def _stored(screener: Screener, requests: list[dict[str, object]]) -> list[StoredCase]:
    rows = []
    for number, data in enumerate(requests, 1):
        request = parse_request(data)
        decision = screener.decide(request, decision_id=str(number), now=NOW)
        recorded = RecordedDecision.of(decision.as_dict())
        rows.append(StoredCase(str(number), number, request, recorded, CaseState.IN_REVIEW))
    return rows


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests=st.lists(_REQUESTS, min_size=1, max_size=12))
def test_replay_under_the_bundle_in_force_changes_nothing(
    seed_pack: ScenarioPack, screener: Screener, requests: list[dict[str, object]]
) -> None:
    rows = _stored(screener, requests)
    for bundle in seed_pack.history:
        examined, changes, skipped = Rejudger(seed_pack, bundle).judge(rows)
        assert (examined, skipped) == (len(rows), [])
        decided_under = {
            r.number for r in rows if r.decision.bundles.get(bundle.holder) == bundle.revision
        }
        assert not decided_under & {c.number for c in changes}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests=st.lists(_REQUESTS, min_size=1, max_size=12))
def test_replay_finds_the_judgements_and_outcome_submission_decides(
    seed_pack: ScenarioPack, requests: list[dict[str, object]]
) -> None:
    """Replay asks for judgements alone (``judgements_of``): on the facts each decision saw,
    they are the decision's, in its order, and their outcome (``outcome_of``) is its."""
    parsed = [parse_request(r) for r in requests]
    decisions = Screener(seed_pack).decide_many(
        parsed, decision_ids=[str(n) for n in range(len(parsed))], now=NOW
    )
    judged = Screener(seed_pack).judgements_of(
        parsed, stockpile=[decision.stockpile for decision in decisions]
    )
    for judgements, decision in zip(judged, decisions, strict=True):
        assert tuple(judgements) == decision.judgements
        assert outcome_of(judgements) is decision.outcome


def test_replay_judges_a_transfer_on_the_stock_facts_its_decision_recorded(
    seed_pack: ScenarioPack, screener: Screener
) -> None:
    """The stock a transfer was judged on is the stock of its day, not of the replay's: a
    case recorded as leaving the US stock red stays under review, though the stock
    worked out again today would leave it green (and permit it)."""
    request = parse_request(ATACMS)
    worked_out = screener.stockpile_facts(request, request.date)
    assert worked_out is not None
    assert worked_out.after is Rating.GREEN
    recorded_facts = dataclasses.replace(
        worked_out, committed=800, now=Rating.RED, after=Rating.RED, months_to_recover=40
    )
    assert recorded_facts != worked_out
    in_force = seed_pack.history.bundle_in_force("US", request.date)
    assert in_force is not None
    rows = []
    for number, facts in enumerate((recorded_facts, worked_out), 1):
        decision = screener.decide(request, decision_id=str(number), now=NOW, stockpile=facts)
        recorded = RecordedDecision.of(decision.as_dict())
        rows.append(StoredCase(str(number), number, request, recorded, CaseState.IN_REVIEW))
    assert [r.decision.outcome.value for r in rows] == ["review_required", "permitted"]
    examined, changes, skipped = Rejudger(seed_pack, in_force).judge(rows)
    assert (examined, changes, skipped) == (2, [], [])


def test_replay_names_only_the_candidate_holders_policies_as_deciding(
    seed_pack: ScenarioPack, screener: Screener
) -> None:
    """Storm Shadow in June 2025 has three holders (FR, GB, US); replayed under a US bundle,
    the reasons it would be decided for are that bundle's policies alone."""
    storm_shadow = {
        "action": "employ",
        "requester": "UA",
        "system": "storm-shadow",
        "quantity": 3,
        "target": {"territory": "RU"},
        "date": "2025-06-15",
    }
    rows = _stored(screener, [storm_shadow])
    assert rows[0].decision.consent_holders == ("FR", "GB", "US")
    candidate = load_candidate(seed_pack, AUTHORITY)
    _, [change], _ = Rejudger(seed_pack, candidate).judge(rows)
    assert (change.was, change.would_be) == ("review_required", "permitted")
    assert change.was_reasons == ("US/us-review-mechanism",)
    assert change.would_be_reasons == ("US/us-strikes-in-russia-authorised",)


# The command, end to end.


@pytest.fixture
def demo_cli(tmp_path: Path, demo_database: str, monkeypatch: pytest.MonkeyPatch) -> Cli:
    return Cli(tmp_path, demo_database, monkeypatch)


def test_the_command_reports_in_json_csv_and_html(demo_cli: Cli) -> None:
    csv_file, html_file = demo_cli.tmp / "changes.csv", demo_cli.tmp / "report.html"
    run = demo_cli(
        "replay", "--bundle", str(AUTHORITY), "--from", "2025-01-01", "--to", "2025-12-31",
        "--json", "--csv", str(csv_file), "--html", str(html_file), "--workers", "1",
    )  # fmt: skip
    report = json.loads(run.stdout)
    assert (report["examined"], report["changed"]) == (3, 3)
    first = report["changes"][0]
    assert (first["number"], first["state"], first["was"], first["would_be"]) == (
        1,
        "denied",
        "review_required",
        "permitted",
    )
    assert first["would_be_reasons"] == ["US/us-strikes-in-russia-authorised"]
    lines = csv_file.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("number,case_id,request,state,was,would_be")
    assert lines[1].startswith("1,")
    assert "denied,review_required,permitted" in lines[1]
    page = html_file.read_text(encoding="utf-8")
    assert "<svg" in page
    assert "review_required → permitted" in page
    for outside in ("<script", "src=", "href=", "<link", "@import", "url("):
        assert outside not in page


def test_the_table_names_the_case_and_the_policies(demo_cli: Cli) -> None:
    out = demo_cli("replay", "--bundle", str(AUTHORITY), "--workers", "2").stdout
    assert "3 of 4 cases would change" in out
    assert "us-strikes-in-russia-authorised" in out
    assert "review_required → permitted" in out


def test_a_case_whose_record_was_damaged_is_named_and_the_rest_replayed(demo_cli: Cli) -> None:
    """A decision record changed in the database (``audit verify`` names it too) stops
    neither replay nor its report: the case is named as not judged, in one line."""
    engine = sa.create_engine(demo_cli.database_url)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE cases SET decision = '[]' WHERE number = 2"))
    engine.dispose()
    for workers in ("1", "2"):
        run = demo_cli("replay", "--bundle", str(AUTHORITY), "--workers", workers)
        assert "case 2 not judged: case " in run.stdout
        assert "stored decision cannot be read: it is not a JSON object" in run.stdout
        assert "Traceback" not in run.stdout + run.stderr
        assert "2 of 4 cases would change" in run.stdout


def _edit(demo_cli: Cli, statement: str) -> None:
    engine = sa.create_engine(demo_cli.database_url)
    with engine.begin() as connection:
        connection.execute(sa.text(statement))
    engine.dispose()


def test_a_case_whose_state_column_holds_no_state_is_named_and_the_rest_replayed(
    demo_cli: Cli,
) -> None:
    _edit(demo_cli, "UPDATE cases SET state = 'bogus' WHERE number = 2")
    for workers in ("1", "2"):
        run = demo_cli("replay", "--bundle", str(AUTHORITY), "--workers", workers)
        assert "case 2 not judged: case " in run.stdout
        assert "state column holds no case state" in run.stdout
        assert "bogus" not in run.stdout
        assert "2 of 4 cases would change" in run.stdout


def test_a_case_number_sqlite_kept_as_text_stops_replay_in_one_line(demo_cli: Cli) -> None:
    """A case is known by its number: without one nothing can be said of it, so replay
    stops, naming the damage, on 1 worker and on 2 (whose split needs the numbers)."""
    if not demo_cli.database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL keeps a column's type")
    _edit(demo_cli, "UPDATE cases SET number = 'abc' WHERE number = 2")
    for workers in ("1", "2"):
        run = demo_cli("replay", "--bundle", str(AUTHORITY), "--workers", workers, ok=False)
        assert run.returncode == 1
        assert run.stderr.strip().splitlines() == [
            "error: the cases table holds a case number not stored as a whole number;"
            " 'clearance audit verify' names every record changed outside clearance"
        ]


def test_a_date_column_sqlite_hands_back_as_bytes_is_read_whole_instead(demo_cli: Cli) -> None:
    """The column cannot class the case, so the case is judged from its request, as one
    stored without the column is: the report is the same."""
    if not demo_cli.database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL keeps a column's type")
    _edit(demo_cli, "UPDATE cases SET asked_on = CAST(asked_on AS BLOB) WHERE number = 2")
    for workers in ("1", "2"):
        run = demo_cli("replay", "--bundle", str(AUTHORITY), "--workers", workers)
        assert "3 of 4 cases would change" in run.stdout
        assert "not judged" not in run.stdout


def test_the_html_report_escapes_what_it_shows(demo_cli: Cli) -> None:
    folder = demo_cli.tmp / "candidate"
    shutil.copytree(AUTHORITY, folder)
    meta = folder / "bundle.yaml"
    meta.write_text(
        meta.read_text().replace(
            "title: Authority to strike inside Russia", "title: '<script>alert(1)</script> & co'"
        )
    )
    html_file = demo_cli.tmp / "report.html"
    demo_cli("replay", "--bundle", str(folder), "--html", str(html_file), "--workers", "1")
    page = html_file.read_text(encoding="utf-8")
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in page


def _broken_bundle(tmp: Path) -> Path:
    folder = tmp / "broken"
    shutil.copytree(AUTHORITY, folder)
    (folder / "policies.cedar").write_text('@id("x")\npermit (principal, action, resource) when {')
    return folder


def _foreign_bundle(tmp: Path) -> Path:
    folder = tmp / "de"
    shutil.copytree(AUTHORITY, folder)
    meta = folder / "bundle.yaml"
    text = meta.read_text().replace("holder: US", "holder: DE")
    meta.write_text(text.split("legislative_review:")[0])  # its waiver is a US office
    return folder


@pytest.mark.parametrize(
    ("make", "extra", "message"),
    [
        (lambda tmp: tmp / "nowhere", [], "--bundle: '"),
        (lambda tmp: tmp, [], "has no bundle.yaml"),
        (_broken_bundle, [], "broken/policies.cedar"),
        (_foreign_bundle, [], "holder 'DE' has no policy history"),
        (lambda tmp: AUTHORITY, ["--from", "2025-07-01", "--to", "2025-06-01"], "--from"),
        (lambda tmp: AUTHORITY, ["--from", "2025-02-30"], "option --from"),
    ],
    ids=[
        "no-such-folder",
        "no-bundle-yaml",
        "broken-cedar",
        "foreign-holder",
        "from-after-to",
        "from-not-a-date",
    ],
)
def test_bad_input_is_refused_in_one_line(
    demo_cli: Cli, make: object, extra: list[str], message: str
) -> None:
    folder = make(demo_cli.tmp)  # type: ignore[operator]
    run = demo_cli("replay", "--bundle", str(folder), *extra, ok=False)
    assert run.returncode == 2
    assert message in run.stderr
    assert "Traceback" not in run.stderr
    assert run.stdout == ""
