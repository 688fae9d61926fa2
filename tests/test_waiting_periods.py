"""Legislative waiting periods: a transfer's value (``value_usd``), the bundle's
``legislative_review`` that turns it into a waiting period, execution refused until the
period ends, and the emergency waiver of the office the policy names.

On every database: the ERAM sale (about $825M, notified 28 Aug 2025) may not be executed
on 27 Sep 2025, the period's last day, whatever else is met; it may on 28 Sep. The
President may waive it, signed, on the ledger; nobody else may.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from clearance.core.chain import link_hash
from clearance.core.event_words import words_of
from clearance.core.request import parse_request
from clearance.core.signing import Signer, new_key_pair, signed_bytes, unlock
from clearance.core.workflow import CaseState
from clearance.errors import (
    IllegalTransition,
    InputError,
    PackError,
    PermissionDenied,
    RequestError,
    SignatureError,
)
from clearance.policy.engine import Screener
from clearance.policy.pack import default_pack_path, load_pack
from clearance.service.access import Action
from clearance.service.audit import verify
from clearance.service.cases import Moves
from clearance.service.decision_proof import prove
from clearance.service.people import registry
from tests.worlds import G5, T0, World

ERAM = {**G5, "value_usd": 825_000_000}
FUNDING = "European partners fund the purchase"
LAST_DAY = dt.datetime(2025, 9, 27, 23, 59, tzinfo=dt.UTC)
DAY_AFTER = dt.datetime(2025, 9, 28, 0, 1, tzinfo=dt.UTC)
NOTIFIED = dt.datetime(2025, 8, 28, 15, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def president_key() -> tuple[str, Signer]:
    public, content = new_key_pair("passphrase of potus")
    return public, unlock(content, "passphrase of potus")


@pytest.fixture
def eram(world: World, president_key: tuple[str, Signer]) -> tuple[World, str]:
    """The ERAM sale as a case, its funding met (cleared), and a President in office."""
    public, world.keys["potus"] = president_key
    world.people.add_user(
        user_id="potus", name="President", party="US", public_key=public, actor="admin", now=T0
    )
    world.people.grant(
        user_id="potus",
        authority="us.president",
        valid_from=dt.date(2025, 1, 20),
        valid_to=None,
        actor="admin",
        now=T0,
    )
    case, _ = world.cases.submit(ERAM, actor="us.liaison", now=NOTIFIED)
    world.cases.condition_met(
        case.id, actor="us.liaison", condition=FUNDING, evidence="paid", now=NOTIFIED
    )
    return world, case.id


def _head(world: World) -> int:
    with world.store.reading() as tx:
        return tx.ledger.page(max_level=None, limit=1)[0].seq


def test_the_eram_sale_waits_for_congress_until_the_period_ends(eram: tuple[World, str]) -> None:
    world, case_id = eram
    cases = world.cases
    view = cases.view(case_id, actor="us.liaison")
    assert view.case.state is CaseState.CLEARED
    shown = view.as_dict(LAST_DAY)
    assert shown["request"]["value_usd"] == 825_000_000
    period = shown["waiting_period"]
    assert period["legislature"] == "United States Congress"
    assert (period["days"], period["notified_on"]) == (30, "2025-08-28")
    assert (period["ends_on"], period["executable_from"]) == ("2025-09-27", "2025-09-28")
    assert (period["waiver"], period["waived"]) == ("us.president", False)
    assert shown["decision"]["waiting_period"]["ends_on"] == "2025-09-27"

    # On the last day: the funding is met and nothing else is missing, yet it is refused,
    # naming the day the period ends; nothing is written, and nothing is offered.
    before = _head(world)
    with pytest.raises(IllegalTransition, match="before the waiting period ends on 2025-09-27"):
        cases.execute(case_id, actor="us.liaison", quantity=None, now=LAST_DAY)
    with pytest.raises(IllegalTransition, match="2025-09-27"):
        cases.rehearse(case_id, Action.CASE_EXECUTE, actor="us.liaison", now=LAST_DAY)
    assert cases.moves(case_id, actor="us.liaison", now=LAST_DAY) == Moves(withdraw=True)
    assert _head(world) == before
    assert cases.view(case_id, actor="us.liaison").case.state is CaseState.CLEARED

    # The day after, it may be executed.
    assert cases.moves(case_id, actor="us.liaison", now=DAY_AFTER).execute_up_to == 3350
    cases.rehearse(case_id, Action.CASE_EXECUTE, actor="us.liaison", now=DAY_AFTER)
    done = cases.execute(case_id, actor="us.liaison", quantity=None, now=DAY_AFTER)
    assert done.case.state is CaseState.EXECUTED


def test_only_the_president_waives_the_period_personally_and_signed(
    eram: tuple[World, str],
) -> None:
    world, case_id = eram
    cases = world.cases
    day = dt.datetime(2025, 9, 2, 12, 0, tzinfo=dt.UTC)
    before = _head(world)
    with pytest.raises(PermissionDenied, match=r"only us\.president may waive"):
        cases.waive(case_id, actor="hegseth", reason="now", signer=world.keys["hegseth"], now=day)
    with pytest.raises(PermissionDenied, match="requester can never decide"):
        cases.waive(
            case_id, actor="us.liaison", reason="now", signer=world.keys["us.liaison"], now=day
        )
    with pytest.raises(InputError, match="reason"):
        cases.waive(case_id, actor="potus", reason=" ", signer=world.keys["potus"], now=day)
    with pytest.raises(SignatureError):  # someone else's key is not the President's
        cases.waive(case_id, actor="potus", reason="now", signer=world.keys["hegseth"], now=day)
    assert _head(world) == before

    view = cases.waive(
        case_id,
        actor="potus",
        reason="An emergency exists requiring the sale in the national security interest",
        signer=world.keys["potus"],
        now=day,
    )
    period = view.as_dict(day)["waiting_period"]
    assert (period["waived"], period["waived_by"]) == (True, "potus")
    waived = [e for e in view.as_dict(day)["events"] if e["type"] == "waiting_period_waived"]
    (event,) = waived
    statement = event["payload"]["statement"]
    assert (statement["authority"], statement["verdict"]) == ("us.president", "waive")
    assert statement["waiting_period"]["ends_on"] == "2025-09-27"
    assert "waiting period waived (it would have ended 2025-09-27) by us.president" in words_of(
        event
    )
    with pytest.raises(IllegalTransition, match="already waived"):
        cases.waive(case_id, actor="potus", reason="again", signer=world.keys["potus"], now=day)

    # Waived: executed well inside the period, and the record checks, signature and all.
    done = cases.execute(case_id, actor="us.liaison", quantity=None, now=day)
    assert done.case.state is CaseState.EXECUTED
    assert verify(world.store).ok


def test_a_waiver_is_refused_where_there_is_nothing_to_waive(eram: tuple[World, str]) -> None:
    world, case_id = eram
    cases = world.cases
    with pytest.raises(IllegalTransition, match="ended on 2025-09-27"):
        cases.waive(
            case_id, actor="potus", reason="late", signer=world.keys["potus"], now=DAY_AFTER
        )
    plain, _ = cases.submit(G5, actor="us.liaison", now=NOTIFIED)  # no value stated
    assert cases.view(plain.id, actor="us.liaison").as_dict(NOTIFIED)["waiting_period"] is None
    with pytest.raises(IllegalTransition, match="no waiting period"):
        cases.waive(plain.id, actor="potus", reason="x", signer=world.keys["potus"], now=NOTIFIED)


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (-1, "greater than or equal to 0"),
        ("825000000", "valid integer"),
        (825_000_000.0, "valid integer"),
        (1.5, "valid integer"),
        (True, "valid integer"),
        (10**14, "less than or equal to"),
        (10**40, "less than or equal to"),
    ],
)
def test_a_bad_value_is_refused_naming_the_field_and_nothing_is_saved(
    world: World, value: object, words: str
) -> None:
    before = _head(world)
    with pytest.raises(RequestError) as caught:
        world.cases.submit({**G5, "value_usd": value}, actor="us.liaison", now=NOTIFIED)
    message = str(caught.value)
    assert "value_usd" in message
    assert words in message
    assert "\n" not in message
    assert _head(world) == before


def test_the_value_reaches_cedar_and_only_when_stated(screener: Screener) -> None:
    from clearance.policy.entities import cedar_request

    request = parse_request(ERAM)
    assert cedar_request(request, ["origin"], [])["context"]["value_usd"] == 825_000_000
    assert "value_usd" not in cedar_request(parse_request(G5), ["origin"], [])["context"]
    decision = screener.decide(request, decision_id="t", now=T0)
    assert decision.waiting_period is not None
    assert decision.as_dict()["waiting_period"]["ends_on"] == "2025-09-27"
    # A decision with no period keeps the keys (and so the digests) decisions always had.
    assert (
        "waiting_period"
        not in screener.decide(parse_request(G5), decision_id="t", now=T0).as_dict()
    )


GOOD = """legislative_review:
  legislature: United States Congress
  waiver: us.president
  periods:
    - {recipients: aeca-favoured, days: 15, thresholds: {major_defense_equipment: 25000000}}
    - {days: 30, thresholds: {major_defense_equipment: 14000000, defense_articles: 50000000}}
"""


def _pack_with(tmp_path: Path, review: str) -> Path:
    root = tmp_path / "pack"
    shutil.copytree(default_pack_path(), root)
    bundle = root / "bundles" / "US" / "2025-08-28" / "bundle.yaml"
    text = bundle.read_text(encoding="utf-8")
    bundle.write_text(text[: text.index("legislative_review:")] + review, encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("review", "where", "words"),
    [
        ("legislative_review: 30\n", "legislative_review", "must be a mapping"),
        (
            GOOD.replace("waiver: us.president", "waiver: us.nobody"),
            "legislative_review.waiver",
            "unknown office",
        ),
        (
            GOOD.replace("waiver: us.president", "waiver: gb.sofs-defence"),
            "legislative_review.waiver",
            "an office of GB, not US",
        ),
        (
            GOOD.replace("  legislature: United States Congress\n", ""),
            "legislative_review.legislature",
            "non-empty text",
        ),
        (GOOD + "  quorum: 3\n", "legislative_review.quorum", "is not a known field"),
        (
            GOOD.split("  periods:")[0] + "  periods: []\n",
            "legislative_review.periods",
            "non-empty list",
        ),
        (
            GOOD.replace("days: 15", "days: 0"),
            "legislative_review.periods[1].days",
            "whole number of days",
        ),
        (
            GOOD.replace("days: 15", "days: fifteen"),
            "legislative_review.periods[1].days",
            "whole number of days",
        ),
        (
            GOOD.replace("recipients: aeca-favoured", "recipients: atlantis"),
            "legislative_review.periods[1].recipients",
            "party or group of the catalog",
        ),
        (
            GOOD.replace("25000000}", "-1}"),
            "legislative_review.periods[1].thresholds.major_defense_equipment",
            "whole number of US dollars",
        ),
        (
            GOOD.replace("25000000}", "2.5e7}"),
            "legislative_review.periods[1].thresholds.major_defense_equipment",
            "whole number of US dollars",
        ),
        (
            GOOD.replace("25000000}", "true}"),
            "legislative_review.periods[1].thresholds.major_defense_equipment",
            "whole number of US dollars",
        ),
        (
            GOOD.replace("major_defense_equipment: 25000000", "missiles: 1"),
            "legislative_review.periods[1].thresholds.missiles",
            "is not a known field",
        ),
        (
            GOOD.replace("thresholds: {major_defense_equipment: 25000000}", "thresholds: {}"),
            "legislative_review.periods[1].thresholds",
            "must be a mapping",
        ),
        (
            GOOD.replace("{recipients", "{weeks: 2, recipients"),
            "legislative_review.periods[1].weeks",
            "is not a known field",
        ),
    ],
)
def test_a_malformed_legislative_review_is_refused_naming_file_and_field(
    tmp_path: Path, review: str, where: str, words: str
) -> None:
    with pytest.raises(PackError) as caught:
        load_pack(_pack_with(tmp_path, review))
    message = str(caught.value)
    assert "bundles/US/2025-08-28/bundle.yaml" in message
    assert f"{where}:" in message
    assert words in message
    assert "\n" not in message


def test_a_well_formed_legislative_review_loads(tmp_path: Path) -> None:
    pack = load_pack(_pack_with(tmp_path, GOOD))
    bundle = next(b for b in pack.history.of("US") if b.folder.endswith("2025-08-28"))
    assert bundle.legislative_review is not None
    assert bundle.legislative_review.waiver == "us.president"


# the waiver checked offline, from the case file and public keys ---------------------


def _waived_file(world: World, case_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The case file once the President waived, and a registry of users as ``--keys`` takes it."""
    day = dt.datetime(2025, 9, 2, 12, 0, tzinfo=dt.UTC)
    view = world.cases.waive(
        case_id, actor="potus", reason="an emergency", signer=world.keys["potus"], now=day
    )
    users = {u["id"]: u for u in registry(world.store)}
    return view.as_dict(day), users


def _forge_waiver(case: dict[str, Any], signer: Signer, public_key: str, **changes: Any) -> None:
    """Rewrite the file's waiver as an insider could: a statement changed and signed again,
    the event's hash recomputed (seals are not checked here: an insider holds the system key)."""
    event = next(e for e in case["events"] if e["type"] == "waiting_period_waived")
    body = json.loads(event["body"])
    statement = {**body["payload"]["statement"], **changes}
    signature = signer(signed_bytes(statement))
    body["payload"] = {"statement": statement, "signature": signature, "public_key": public_key}
    event["body"] = json.dumps(body)
    event["payload"] = body["payload"]
    event["hash"] = link_hash(event["seq"], case["id"], event["prev_hash"], event["body"])


def _waiver_check(case: dict[str, Any], users: dict[str, Any] | None) -> tuple[str, ...]:
    proof = prove(case, users, None)
    (check,) = [s for s in proof.signatures if s.verdict == "waive"]
    return check.problems


def test_verify_decision_checks_the_waivers_signature_and_what_it_signs(
    eram: tuple[World, str], president_key: tuple[str, Signer]
) -> None:
    world, case_id = eram
    case, users = _waived_file(world, case_id)
    proof = prove(case, users, None)
    assert proof.valid
    assert [(s.verdict, s.actor, s.authority) for s in proof.signatures] == [
        ("waive", "potus", "us.president")
    ]

    public, potus = president_key
    other = copy.deepcopy(case)
    _forge_waiver(other, potus, public, request_digest="0" * 64)
    assert _waiver_check(other, users) == ("signed request_digest does not match the case",)

    other = copy.deepcopy(case)
    _forge_waiver(other, potus, public, waiting_period={"days": 0})
    assert _waiver_check(other, users) == ("signed waiting_period is not the decision's",)

    other = copy.deepcopy(case)
    _forge_waiver(other, potus, public, authority="us.secdef")
    assert "the decision does not name us.secdef to waive its waiting period" in _waiver_check(
        other, users
    )

    other = copy.deepcopy(case)
    _forge_waiver(other, potus, public, prior_seq=1)
    assert _waiver_check(other, users) == (
        "the signed point of the ledger is not where the waiver is recorded",
    )


def test_a_waiver_signed_with_a_key_of_the_files_choosing_fails_against_the_registry(
    eram: tuple[World, str],
) -> None:
    world, case_id = eram
    case, users = _waived_file(world, case_id)
    forger_public, forger_content = new_key_pair("forger of keys")
    _forge_waiver(case, unlock(forger_content, "forger of keys"), forger_public)
    assert _waiver_check(case, None) == ()  # the file alone vouches for its own key
    assert _waiver_check(case, users) == (
        "signature does not verify against the actor's public key",
    )


def test_a_waiver_by_someone_not_holding_the_office_that_day_fails_against_the_registry(
    eram: tuple[World, str],
) -> None:
    world, case_id = eram
    case, users = _waived_file(world, case_id)
    users["potus"]["holdings"] = [
        {"authority": "us.president", "from": "2025-01-20", "to": "2025-09-01"}
    ]
    assert _waiver_check(case, users) == ("potus did not hold us.president on 2025-09-02",)
