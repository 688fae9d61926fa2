"""The policy lifecycle on a real database: propose, test, activate (signed), re-screen.

The candidate in most tests is the seed's November 2024 US bundle (strikes in
Russia authorised, no review) proposed again from a date after every golden
case, so the golden cases pass; proposed from an earlier date it contradicts
them and cannot be activated.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from clearance.core.actors import ADMIN
from clearance.core.chain import EventType
from clearance.core.request import parse_request
from clearance.core.signing import signed_bytes, verify
from clearance.errors import (
    ConflictError,
    IllegalTransition,
    PackError,
    PermissionDenied,
    PolicySourceError,
    SignatureError,
    StoreError,
)
from clearance.policy.engine import Screener
from clearance.policy.pack import default_pack_path, load_pack, read_bundle_texts
from clearance.service import replay as replaying
from clearance.service.cases import CaseService
from clearance.service.policy_in_force import policy_in_force
from clearance.service.proposals import PolicyProposals
from clearance.store.repository import Store
from tests.cli_support import Cli
from tests.worlds import G2, World

NOV_2024 = default_pack_path() / "bundles/US/2024-11-17"
LATER = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)


def candidate(
    effective: str, title: str = "Strikes inside Russia authorised again"
) -> dict[str, str]:
    texts = read_bundle_texts(NOV_2024)
    meta = texts["bundle.yaml"].replace(
        "effective_from: 2024-11-17", f"effective_from: {effective}"
    )
    old_title = next(line for line in meta.splitlines() if line.startswith("title:"))
    meta = meta.replace(old_title, f"title: {title}")
    texts["bundle.yaml"] = meta + "policy_authority: us.secdef\n"
    return texts


@pytest.fixture
def proposals(world: World) -> PolicyProposals:
    return PolicyProposals(world.store, load_pack())


def _rows(store: Store, table: str) -> list[object]:
    with store.database.engine.connect() as connection:
        return list(connection.execute(sa.text(f"SELECT * FROM {table}")))


def test_a_proposal_is_tested_and_only_the_named_authority_activates_it(
    world: World, proposals: PolicyProposals
) -> None:
    view = proposals.propose(candidate("2027-01-01"), actor="us.liaison", now=LATER)
    assert view.record.state == "proposed"
    assert view.tests["failed"] == 0
    assert view.authority == "us.secdef"  # named by the US bundle in force (2025-08-28)

    for actor, why in [
        ("usdp", "usdp does not hold us.secdef"),
        ("us.liaison", "us.liaison does not hold us.secdef"),
        ("austin", "austin no longer holds us.secdef"),
    ]:
        with pytest.raises(PermissionDenied, match=why):
            proposals.activate(1, actor=actor, signer=world.keys[actor], now=LATER)
    world.people.delegate(
        holder_id="hegseth",
        delegate_id="usdp",
        authority="us.secdef",
        valid_from=dt.date(2026, 1, 1),
        valid_to=dt.date(2027, 12, 31),
        now=LATER,
    )
    with pytest.raises(PermissionDenied, match="must activate policy personally"):
        proposals.activate(1, actor="usdp", signer=world.keys["usdp"], now=LATER)
    with pytest.raises(SignatureError, match="signature"):
        proposals.activate(1, actor="hegseth", signer=world.keys["usdp"], now=LATER)

    activated = proposals.activate(1, actor="hegseth", signer=world.keys["hegseth"], now=LATER)
    assert (activated.record.state, activated.record.activated_by) == ("activated", "hegseth")

    # The ledger says who activated what, when, from which date, and the signature holds.
    with world.store.reading() as tx:
        event = json.loads(tx.ledger.of_type(EventType.BUNDLE_ACTIVATED)[-1].body)
    payload = event["payload"]
    assert (event["actor"], payload["authority"]) == ("hegseth", "us.secdef")
    assert (payload["effective_from"], payload["revision"]) == ("2027-01-01", view.record.revision)
    assert payload["statement"]["revision"] == view.record.revision
    assert verify(payload["public_key"], signed_bytes(payload["statement"]), payload["signature"])

    # Activated means immutable: no second activation, no second bundle on that date.
    with pytest.raises(IllegalTransition, match="cannot change"):
        proposals.activate(1, actor="hegseth", signer=world.keys["hegseth"], now=LATER)
    with pytest.raises(ConflictError, match="a correction is a new bundle"):
        proposals.propose(candidate("2027-01-01", "Again"), actor="us.liaison", now=LATER)


def test_the_activated_bundle_decides_from_its_date_and_open_cases_are_rescreened(
    world: World, proposals: PolicyProposals
) -> None:
    strike = {**G2, "date": "2027-02-01"}
    case, _ = world.cases.submit(strike, actor="ua.liaison", now=LATER)
    assert case.outcome == "review_required"
    proposals.propose(candidate("2027-01-01"), actor="us.liaison", now=LATER)
    impact = proposals.impact(1, actor=ADMIN, now=LATER)
    assert [(c.number, was, now) for c, was, now in impact.open_cases] == [
        (case.number, "review_required", "permitted")
    ]
    proposals.activate(1, actor="hegseth", signer=world.keys["hegseth"], now=LATER)

    screener = Screener(policy_in_force(world.store, load_pack()))
    before = screener.decide(
        parse_request({**G2, "date": "2026-12-31"}), decision_id="a", now=LATER
    )
    after = screener.decide(parse_request(strike), decision_id="b", now=LATER)
    assert (before.outcome.value, after.outcome.value) == ("review_required", "permitted")
    assert after.bundles["US"] == impact_revision(world.store)

    cases = CaseService(world.store, screener, default_sla_days=14)
    when = dt.datetime(2027, 1, 2, tzinfo=dt.UTC)
    changed = cases.rescreen(actor="admin", now=when).changed
    assert [(c.number, was, now) for c, was, now in changed] == [
        (case.number, "review_required", "permitted")
    ]
    timeline = [json.loads(e.body)["type"] for e in cases.view(case.id, actor=ADMIN).events]
    assert timeline[-1] == "case_rescreened"


def impact_revision(store: Store) -> str:
    with store.reading() as tx:
        return tx.proposals.all(state="activated")[0].revision


def test_a_bundle_that_fails_a_golden_case_cannot_be_activated(
    world: World, proposals: PolicyProposals
) -> None:
    # From 1 June 2025 the candidate would lift the review the golden cases expect.
    view = proposals.propose(candidate("2025-06-01"), actor="us.liaison", now=LATER)
    failures = {f["id"]: f["mismatches"] for f in view.tests["failures"]}
    assert {
        "outcome": failures["G2"][0]["expected"],
        "got": failures["G2"][0]["got"],
    } == {"outcome": "review_required", "got": "permitted"}
    assert "D5" not in failures  # 30 April 2025, before the candidate's date
    with pytest.raises(IllegalTransition, match="fails golden case"):
        proposals.activate(1, actor="hegseth", signer=world.keys["hegseth"], now=LATER)


def test_a_bundle_that_fails_validation_is_not_recorded(
    world: World, proposals: PolicyProposals
) -> None:
    texts = candidate("2027-01-01")
    texts["policies.cedar"] = texts["policies.cedar"].replace("permit (", "permit [", 1)
    before = (_rows(world.store, "bundle_proposals"), _rows(world.store, "ledger"))
    with pytest.raises(PolicySourceError, match=r"proposal/policies.cedar"):
        proposals.propose(texts, actor="us.liaison", now=LATER)
    assert (_rows(world.store, "bundle_proposals"), _rows(world.store, "ledger")) == before


def test_policy_never_changes_the_past(world: World, proposals: PolicyProposals) -> None:
    proposals.propose(candidate("2027-01-01"), actor="us.liaison", now=LATER)
    late = dt.datetime(2027, 1, 5, tzinfo=dt.UTC)
    with pytest.raises(IllegalTransition, match="never changes the past"):
        proposals.activate(1, actor="hegseth", signer=world.keys["hegseth"], now=late)


def test_a_proposal_must_name_who_activates_its_successor(
    world: World, proposals: PolicyProposals
) -> None:
    texts = candidate("2027-01-01")
    texts["bundle.yaml"] = texts["bundle.yaml"].replace("policy_authority: us.secdef\n", "")
    with pytest.raises(PackError, match=r"proposal/bundle\.yaml: policy_authority: is required"):
        proposals.propose(texts, actor="us.liaison", now=LATER)


def test_only_the_holders_people_propose_its_policy(
    world: World, proposals: PolicyProposals
) -> None:
    with pytest.raises(PermissionDenied, match="acts for UA"):
        proposals.propose(candidate("2027-01-01"), actor="ua.liaison", now=LATER)
    with pytest.raises(ConflictError, match="already has a bundle in force from 2025-08-28"):
        proposals.propose(candidate("2025-08-28"), actor="us.liaison", now=LATER)


def test_a_stored_bundle_changed_after_activation_is_refused(
    world: World, proposals: PolicyProposals
) -> None:
    proposals.propose(candidate("2027-01-01"), actor="us.liaison", now=LATER)
    proposals.activate(1, actor="hegseth", signer=world.keys["hegseth"], now=LATER)
    with world.store.database.engine.begin() as connection:
        files = json.loads(
            connection.execute(sa.text("SELECT files FROM bundle_proposals")).scalar_one()
        )
        files["policies.cedar"] = files["policies.cedar"].replace("RU", "BY")
        connection.execute(
            sa.text("UPDATE bundle_proposals SET files = :f"), {"f": json.dumps(files)}
        )
    with pytest.raises(StoreError, match="proposal 1's stored files do not match"):
        policy_in_force(world.store, load_pack())


# through the command line ---------------------------------------------------------------


def _folder(tmp: Path, texts: dict[str, str]) -> str:
    folder = tmp / "candidate"
    folder.mkdir(parents=True)
    for name, text in texts.items():
        (folder / name).write_text(text)
    return str(folder)


def test_propose_list_show_and_activate_from_the_command_line(cli: Cli) -> None:
    cli("users", "add", "us.liaison", "--name", "Liaison", "--party", "US")
    folder = _folder(cli.tmp, candidate("2099-01-01"))
    proposed = cli.json("policy", "propose", folder, "--as", "us.liaison")
    assert (proposed["number"], proposed["state"], proposed["tests"]["failed"]) == (
        1,
        "proposed",
        0,
    )
    assert proposed["policy_authority"] == "us.secdef"
    assert {p["file"] for p in proposed["policies"]} == {"proposals/1/policies.cedar"}
    failing = _folder(cli.tmp / "f", candidate("2025-06-01"))
    assert cli("policy", "propose", failing, "--as", "us.liaison", ok=False).returncode == 1
    listed = cli.json("policy", "proposals")
    assert [(p["number"], p["state"], p["tests_passed"]) for p in listed] == [
        (1, "proposed", True),
        (2, "proposed", False),
    ]
    shown = cli.json("policy", "proposal", "1")
    assert shown["impact"]["open_cases"] == []
    refused = cli("policy", "activate", "1", "--as", "usdp", ok=False)
    assert refused.returncode == 2
    assert "usdp does not hold us.secdef" in refused.stderr
    activated = cli.json("policy", "activate", "1", "--as", "secdef")
    assert (activated["state"], activated["activated_by"]) == ("activated", "secdef")
    assert cli.json("audit", "verify")["ok"] is True
    again = cli("policy", "activate", "1", "--as", "secdef", ok=False)
    assert "cannot change" in again.stderr


def test_the_ledger_reads_in_the_order_policy_took_effect(cli: Cli) -> None:
    """The pack's bundles in force before an activation are on the ledger before it, not
    written after a 2099 activation by the re-screening that follows it."""
    cli("users", "add", "us.liaison", "--name", "Liaison", "--party", "US")
    cli("policy", "propose", _folder(cli.tmp, candidate("2099-01-01")), "--as", "us.liaison")
    cli("policy", "activate", "1", "--as", "secdef")
    out = cli.tmp / "ledger.jsonl"
    cli("audit", "export", "--out", str(out))
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    bodies = [json.loads(e["body"]) for e in lines if e.get("type") == "bundle_activated"]
    took_effect = [b["payload"]["effective_from"] for b in bodies]
    assert len(took_effect) > 1
    assert "proposal" in bodies[-1]["payload"]
    assert took_effect[-1] == "2099-01-01"
    assert all(day < "2099-01-01" for day in took_effect[:-1])
    assert all("proposal" not in b["payload"] for b in bodies[:-1])
    assert cli.json("audit", "verify")["ok"] is True


def test_screening_sees_the_activated_policy_when_there_is_a_database(cli: Cli) -> None:
    strike = cli.file("strike.json", {**G2, "date": "2099-02-01"})
    assert cli.json("screen", strike)["outcome"] == "review_required"
    cli("users", "add", "us.liaison", "--name", "Liaison", "--party", "US")
    cli("policy", "propose", _folder(cli.tmp, candidate("2099-01-01")), "--as", "us.liaison")
    cli("policy", "activate", "1", "--as", "secdef")
    assert cli.json("screen", strike)["outcome"] == "permitted"
    assert cli.json("explain", strike)["decision"]["outcome"] == "permitted"


def test_a_proposal_counts_its_replayed_cases_in_words(cli: Cli) -> None:
    cli("users", "add", "us.liaison", "--name", "Liaison", "--party", "US")
    cli("cases", "submit", cli.file("g2.json", G2), "--as", "ua.liaison")
    cli("policy", "propose", _folder(cli.tmp, candidate("2099-01-01")), "--as", "us.liaison")
    shown = cli("policy", "proposal", "1").stdout
    assert "(1 stored case replayed)" in " ".join(shown.split())


def test_a_proposal_shows_each_policy_s_text_under_its_id_when_asked(cli: Cli) -> None:
    cli("users", "add", "us.liaison", "--name", "Liaison", "--party", "US")
    texts = candidate("2099-01-01")
    cli("policy", "propose", _folder(cli.tmp, texts), "--as", "us.liaison")
    plain = cli("policy", "proposal", "1").stdout
    shown = cli("policy", "proposal", "1", "--text").stdout
    policy_ids = re.findall(r'@id\("([^"]+)"\)', "".join(texts.values()))
    assert policy_ids
    for policy_id in policy_ids:
        assert policy_id in shown
        assert policy_id not in plain
    assert "forbid (" in shown
    assert "forbid (" not in plain


def test_replay_judges_other_holders_by_the_policy_activated_in_the_database(cli: Cli) -> None:
    """Replaying a bundle already in force changes nothing, also where an activated proposal
    governs another holder: the case decided under it is judged by it again, not by the
    pack's older bundle, on one worker and on several."""
    cli("users", "add", "us.liaison", "--name", "Liaison", "--party", "US")
    cli("policy", "propose", _folder(cli.tmp, candidate("2099-01-01")), "--as", "us.liaison")
    cli("policy", "activate", "1", "--as", "secdef")
    strike = cli.file("strike.json", {**G2, "date": "2099-02-01"})
    assert cli.json("cases", "submit", strike, "--as", "ua.liaison")["outcome"] == "permitted"
    in_force = default_pack_path() / "bundles/GB/2024-11-17"
    for workers in ("1", "2"):
        report = cli.json("replay", "--bundle", str(in_force), "--workers", workers)
        assert (report["examined"], report["changed"], report["changes"]) == (1, 0, [])


def test_a_spawned_replay_worker_judges_by_the_policy_activated_in_the_database(
    world: World, proposals: PolicyProposals, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker that cannot inherit the parent's pack loads it from its folder and adds the
    proposals activated in the database, as the parent did."""
    proposals.propose(candidate("2027-01-01"), actor="us.liaison", now=LATER)
    proposals.activate(1, actor="hegseth", signer=world.keys["hegseth"], now=LATER)
    monkeypatch.setattr(replaying, "_worker", None)
    url = world.store.database.engine.url.render_as_string(hide_password=False)
    replaying._start_worker((None, str(default_pack_path() / "bundles/GB/2024-11-17")), url)
    assert replaying._worker is not None
    rejudger, store = replaying._worker
    try:
        in_force = rejudger.screener.history.bundle_in_force("US", dt.date(2027, 2, 1))
        assert in_force is not None
        assert in_force.revision == impact_revision(world.store)
    finally:
        gc.enable()  # the worker's collector, here the test's own process's
        store.database.dispose()


def test_replay_refuses_an_activated_proposal_whose_stored_files_were_changed(
    cli: Cli,
) -> None:
    """The policy in force is the record's: a bundle changed in the database after its
    activation stops replay with one line, not a replay by a policy nobody signed."""
    cli("users", "add", "us.liaison", "--name", "Liaison", "--party", "US")
    cli("policy", "propose", _folder(cli.tmp, candidate("2099-01-01")), "--as", "us.liaison")
    cli("policy", "activate", "1", "--as", "secdef")
    engine = sa.create_engine(cli.database_url)
    with engine.begin() as connection:
        files = json.loads(
            connection.execute(sa.text("SELECT files FROM bundle_proposals")).scalar_one()
        )
        files["policies.cedar"] = files["policies.cedar"].replace("RU", "BY")
        connection.execute(
            sa.text("UPDATE bundle_proposals SET files = :f"), {"f": json.dumps(files)}
        )
    engine.dispose()
    in_force = default_pack_path() / "bundles/GB/2024-11-17"
    refused = cli("replay", "--bundle", str(in_force), ok=False)
    assert refused.returncode == 2
    assert refused.stdout == ""
    [line] = refused.stderr.splitlines()
    assert "proposal 1's stored files do not match the revision it was activated with" in line
