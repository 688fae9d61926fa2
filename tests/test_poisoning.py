"""A case that cannot be judged again stops nothing: re-screening and activation go on.

A tester's sequence once broke re-screening for good: a transfer from tracked
stock dated 9999-12-01, then any other request; ``clearance cases rescreen``
then stopped with a traceback, and activating a policy answered 500 after it
had committed. The date is refused at submission now (test_dates.py), so here
the poison is also written straight into the store, as someone with access to
the database could: re-screening records the failure on that case's timeline,
in words, and judges the others; activation answers what happened. On SQLite
and PostgreSQL, through the services, the API and the command line.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from clearance.core.actors import ADMIN
from clearance.core.chain import EventType
from clearance.core.dates import RANGE
from clearance.errors import RequestError
from clearance.policy.engine import Screener
from clearance.policy.pack import load_pack
from clearance.service import audit
from clearance.service.cases import CaseService
from clearance.service.proposals import PolicyProposals, policy_in_force
from clearance.store.db import open_database
from clearance.store.records import CaseRecord
from clearance.store.repository import Store

from .api_support import ATACMS_JUNE, DEMO_PASSWORD, Api, open_api
from .cli_support import Cli
from .test_api import (  # noqa: F401 (the seeded demo world's fixtures)
    SECRET_CASE,
    assert_error,
    postgresql_template,
    seeded,
    sqlite_template,
)
from .test_proposals import LATER, candidate
from .worlds import G2, G5, T0, World

POISON = {**G5, "date": "9999-12-01"}
"""The tester's poison: a transfer from tracked stock (eram), dated at the calendar's end."""

UNREADABLE = {
    "date": f"its stored request cannot be read: request field 'date': 9999-12-01 is outside"
    f" the dates clearance takes ({RANGE})",
    "action": "its stored request cannot be read: request field 'action': must be 'employ' or"
    " 'transfer'",
    "system": "screening it again failed: request field 'system': unknown system 'nosuch'",
}


def poison(store: Store, case: CaseRecord, request: dict[str, Any]) -> CaseRecord:
    """Rewrite a case's stored request, as someone with access to the database could."""
    with store.transaction() as tx:
        return tx.cases.update(case, request=json.dumps(request))


def failures(store: Store) -> list[tuple[str, dict[str, Any]]]:
    with store.reading() as tx:
        events = tx.ledger.of_type(EventType.CASE_RESCREEN_FAILED)
    return [(e.case_id or "", json.loads(e.body)["payload"]) for e in events]


def test_the_poisoning_sequence_leaves_rescreening_and_activation_working(world: World) -> None:
    with pytest.raises(RequestError) as refused:
        world.cases.submit(POISON, actor="us.liaison", now=T0)
    assert refused.value.field == "date"

    transfer, _ = world.cases.submit(G5, actor="us.liaison", now=T0)
    strike, _ = world.cases.submit(G2, actor="ua.liaison", now=T0)
    launch, _ = world.cases.submit(G2, actor="ua.liaison", now=T0)
    removed, _ = world.cases.submit(G2, actor="ua.liaison", now=T0)
    assert {c.state for c in (transfer, strike, launch, removed)} <= {
        "in_review",
        "approved_with_conditions",
    }
    poison(world.store, transfer, POISON)
    poison(world.store, launch, {**G2, "action": "launch"})
    poison(world.store, removed, {**G2, "system": "nosuch"})

    found = world.cases.rescreen(actor="admin", now=LATER)
    problems = {case.id: problem for case, problem in found.failed}
    assert problems == {
        transfer.id: UNREADABLE["date"],
        launch.id: UNREADABLE["action"],
        removed.id: UNREADABLE["system"],
    }
    assert failures(world.store) == [(k, {"problem": v}) for k, v in problems.items()]
    # The others were judged: the strike is still in review and has no failure.
    assert strike.id not in problems
    assert world.cases.view(strike.id, actor=ADMIN).case.state == "in_review"

    # Again: the same failures are listed, and not recorded twice.
    again = world.cases.rescreen(actor="admin", now=LATER)
    assert {case.id for case, _ in again.failed} == set(problems)
    assert len(failures(world.store)) == 3

    # A proposal's impact leaves the poisoned cases aside, naming them, and activation works.
    proposals = PolicyProposals(world.store, load_pack())
    proposals.propose(candidate("2027-01-01"), actor="us.liaison", now=LATER)
    impact = proposals.impact(1, actor=ADMIN, now=LATER)
    assert {case.id: problem for case, problem in impact.unjudged} == problems
    assert strike.id in {case.id for case, _, _ in impact.open_cases}
    activated = proposals.activate(1, actor="hegseth", signer=world.keys["hegseth"], now=LATER)
    assert activated.record.state == "activated"
    in_force = Screener(policy_in_force(world.store, load_pack()))
    after = CaseService(world.store, in_force, default_sla_days=14).rescreen(
        actor="hegseth", now=LATER
    )
    assert {case.id for case, _ in after.failed} == set(problems)
    # The ledger is whole; what was poisoned behind its back is named, row by row.
    report = audit.verify(world.store)
    assert report.chain_events == report.events
    poisoned = {f.problem.split(" has request ")[0] for f in report.findings}
    assert poisoned == {f"cases: row {case.id}" for case in (transfer, launch, removed)}


# the API ---------------------------------------------------------------------------

PROPOSALS = "/api/v1/proposals"


@pytest.fixture
def api(seeded: str, tmp_path: Path) -> Iterator[Api]:  # noqa: F811 (test_api's fixture)
    with open_api(tmp_path / "data", seeded) as api:
        yield api


def _poison_secret_case(api: Api) -> str:
    case = api.server.cases.view(str(SECRET_CASE), actor=ADMIN).case
    poison(api.server.store, case, {**ATACMS_JUNE, "date": "9999-12-01"})
    return case.id


def test_an_activation_over_a_poisoned_store_answers_what_happened(api: Api) -> None:
    refused = api.as_user("ua.liaison").post(
        "/api/v1/cases", json={**ATACMS_JUNE, "date": "9999-12-01"}
    )
    assert_error(refused, 422, "invalid_request", "date")
    poisoned = _poison_secret_case(api)
    made = api.as_user("us.liaison").post(PROPOSALS, json={"files": candidate("2099-01-01")})
    assert made.status_code == 201, made.text
    shown = api.as_user("us.reviewer").get(f"{PROPOSALS}/1")
    assert shown.status_code == 200, shown.text
    assert [row["case_id"] for row in shown.json()["impact"]["unjudged"]] == [poisoned]

    secdef = api.as_user("secdef")
    answer = secdef.post(f"{PROPOSALS}/1/activate", json={"passphrase": DEMO_PASSWORD})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["state"] == "activated"
    assert body["rescreen_error"] is None
    [failed] = body["rescreen_failed"]
    assert (failed["case_id"], failed["problem"]) == (poisoned, UNREADABLE["date"])
    page = secdef.get("/policy/proposals/1")
    assert page.status_code == 200
    assert "cannot be judged again" in page.text
    timeline = api.server.cases.view(poisoned, actor=ADMIN).events
    assert json.loads(timeline[-1].body)["type"] == "case_rescreen_failed"


_REFUSE_RESCREENING = {
    "sqlite": [
        "CREATE TRIGGER refuse_rescreening BEFORE INSERT ON ledger"
        " WHEN NEW.body LIKE '%\"case_rescreen%'"
        " BEGIN SELECT RAISE(ABORT, 'the database refuses re-screening'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_rescreening() RETURNS trigger AS $$ BEGIN"
        " IF NEW.body LIKE '%\"case_rescreen%' THEN"
        " RAISE EXCEPTION 'the database refuses re-screening'; END IF; RETURN NEW; END"
        " $$ LANGUAGE plpgsql",
        "CREATE TRIGGER refuse_rescreening BEFORE INSERT ON ledger"
        " FOR EACH ROW EXECUTE FUNCTION refuse_rescreening()",
    ],
}


def _refuse_rescreening(api: Api, *, on: bool) -> None:
    """Make the database itself refuse what re-screening writes (a real failure, no mock)."""
    kind = "sqlite" if api.server.database.is_sqlite else "postgresql"
    statements = _REFUSE_RESCREENING[kind] if on else ["DROP TRIGGER refuse_rescreening"]
    if not on and kind == "postgresql":
        statements = ["DROP TRIGGER refuse_rescreening ON ledger"]
    with api.server.database.engine.begin() as connection:
        for statement in statements:
            connection.execute(sa.text(statement))


def test_a_rescreening_that_fails_after_activation_does_not_undo_its_answer(api: Api) -> None:
    """Activation commits first; a re-screening that then fails whole (here the database
    refuses its writes) is reported with the activation, which stands: 200, not 500."""
    poisoned = _poison_secret_case(api)
    api.as_user("us.liaison").post(PROPOSALS, json={"files": candidate("2099-01-01")})
    _refuse_rescreening(api, on=True)
    secdef = api.as_user("secdef")
    answer = secdef.post(f"{PROPOSALS}/1/activate", json={"passphrase": DEMO_PASSWORD})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["state"] == "activated"
    assert body["rescreen_error"].startswith("the open cases were not re-screened")
    assert "clearance cases rescreen" in body["rescreen_error"]
    retried = secdef.post(f"{PROPOSALS}/1/activate", json={"passphrase": DEMO_PASSWORD})
    assert_error(retried, 409, "illegal_transition")  # the truth: it is activated

    _refuse_rescreening(api, on=False)
    found = api.server.cases.rescreen(actor="admin", now=api.server.now())
    assert [case.id for case, _ in found.failed] == [poisoned]


# the command line ------------------------------------------------------------------


def test_the_command_line_reports_a_case_it_cannot_rescreen_and_goes_on(
    cli: Cli, tmp_path: Path
) -> None:
    submitted = cli("cases", "submit", cli.file("poison.json", POISON), "--as", "usdp", ok=False)
    assert (submitted.returncode, submitted.stdout) == (2, "")
    assert submitted.stderr.startswith("error: request field 'date': 9999-12-01 is outside")
    assert len(submitted.stderr.splitlines()) == 1

    strike = cli.json("cases", "submit", cli.file("g2.json", G2), "--as", "ua.liaison")
    other = cli.json("cases", "submit", cli.file("g2.json", G2), "--as", "ua.liaison")
    database = open_database(cli.database_url)
    try:
        store = Store(database)
        with store.reading() as tx:
            case = tx.cases.get(other["id"])
        assert case is not None
        poison(store, case, {**G2, "date": "9999-12-01"})
    finally:
        database.dispose()

    shown = cli("cases", "rescreen", "--as", "admin")
    assert "Traceback" not in shown.stderr
    assert f"case {other['number']} could not be re-screened: {UNREADABLE['date']}" in " ".join(
        shown.stdout.split()
    )
    rows = cli.json("cases", "rescreen", "--as", "admin")
    assert rows == [{"number": other["number"], "id": other["id"], "problem": UNREADABLE["date"]}]
    timeline = cli("cases", "show", str(other["number"])).stdout
    assert "case_rescreen_failed" in timeline
    assert strike["state"] == "in_review"

    folder = tmp_path / "candidate"
    folder.mkdir()
    for name, text in candidate("2099-01-01").items():
        (folder / name).write_text(text)
    cli("policy", "propose", str(folder), "--as", "usdp")
    activated = cli.json("policy", "activate", "1", "--as", "secdef")
    assert activated["state"] == "activated"
    assert activated["rescreen_failed"] == [
        {"number": other["number"], "problem": UNREADABLE["date"]}
    ]
    assert activated["rescreen_error"] is None
