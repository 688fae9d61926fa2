"""The life of a case on its web page: withdraw it, record its condition as met, record its
execution, each confirmed on a page of its own before anything is recorded.

Over the demo story (test_pages): the June 2025 ATACMS request of the Ukrainian liaison
(case 1, SECRET, in review), the ERAM sale of the US liaison (case 4, approved on the
condition that European partners fund it). Each test reads the HTML a browser would get
and checks the database and the ledger behind it: a confirmation writes nothing, a
confirmed change writes its event, a refusal writes nothing and says why in one line.
"""

from __future__ import annotations

import datetime as dt
import html as html_text
import re

import pytest

from clearance.core.access import Level, Role
from clearance.core.actors import ADMIN
from clearance.core.signing import new_key_pair
from clearance.service.demo import DEMO_PASSWORD
from clearance.service.runtime import Runtime

from .test_pages import (  # noqa: F401 (the demo world's fixtures)
    FORGED,
    Browser,
    as_user,
    not_recorded,
    refused,
    seeded,
    server,
)

FUNDING = "European partners fund the purchase"


def head(srv: Runtime) -> int:
    with srv.store.reading() as tx:
        return tx.ledger.last_seq()


def state_of(srv: Runtime, number: int) -> str:
    return srv.cases.view(str(number), actor=ADMIN).case.state.value


def events_of(srv: Runtime, number: int) -> list[tuple[str, str]]:
    """The case's events: type, and the body's text (to look for a reason or evidence in)."""
    return [(e.type, e.body) for e in srv.cases.view(str(number), actor=ADMIN).events]


def confirm_form(html: str) -> dict[str, str]:
    """The hidden fields of the confirmation page's form, and where it posts."""
    form = re.search(
        r'<form method="post" action="([^"]+)"[^>]*id="confirm-form">(.*?)</form>', html, re.S
    )
    assert form, html[:2000]
    fields = dict(
        re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.group(2))
    )
    fields = {k: html_text.unescape(v) for k, v in fields.items() if k != "csrf_token"}
    assert re.search(r'<button type="submit" name="confirm" value="yes"', form.group(2))
    return {"action": form.group(1), **fields}


def add_ukrainian_reviewer(srv: Runtime) -> Browser:
    """A reviewer acting for Ukraine: sees every case up to SECRET, acts for no US case."""
    public, _ = new_key_pair(DEMO_PASSWORD)
    srv.people.add_user(
        user_id="ua.reviewer",
        name="UA review staff",
        party="UA",
        public_key=public,
        actor=ADMIN,
        now=srv.now(),
    )
    srv.accounts.set_access(
        "ua.reviewer", roles=(Role.REVIEWER,), clearance=Level.SECRET, actor=ADMIN, now=srv.now()
    )
    srv.accounts.set_password("ua.reviewer", DEMO_PASSWORD, actor=ADMIN, now=srv.now())
    return as_user(srv, "ua.reviewer")


# withdrawing ----------------------------------------------------------------------------


def test_the_requester_withdraws_after_confirming(server: Runtime) -> None:  # noqa: F811
    liaison = as_user(server, "ua.liaison")
    page = liaison.client.get("/cases/1").text
    assert 'id="withdraw-form"' in page
    assert 'id="execute-form"' not in page
    assert "condition-form" not in page
    assert 'id="what-would-change-it"' in page  # open: what would change it, as it stands

    before = head(server)
    shown = liaison.post("/cases/1/withdraw", {"reason": "The target is no longer relevant"})
    assert shown.status_code == 200
    assert "Withdraw case 1?" in shown.text
    assert "This cannot be undone." in shown.text
    assert confirm_form(shown.text) == {
        "action": "/cases/1/withdraw",
        "reason": "The target is no longer relevant",
    }
    assert (head(server), state_of(server, 1)) == (before, "in_review"), "confirming wrote"

    done = liaison.post(
        "/cases/1/withdraw", {"reason": "The target is no longer relevant", "confirm": "yes"}
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/cases/1"
    assert state_of(server, 1) == "withdrawn"
    changed = [body for kind, body in events_of(server, 1) if kind == "case_state_changed"]
    assert '"to":"withdrawn"' in changed[-1]
    assert "The target is no longer relevant" in changed[-1]

    page = liaison.client.get(done.headers["location"]).text
    assert "The case was withdrawn" in page
    assert 'id="withdraw-form"' not in page
    # Closed: what would have changed it is history, not an offer.
    assert 'id="what-would-change-it"' not in page
    assert "What would have changed it" in page
    assert "This case is withdrawn: it is closed" in page


def test_nobody_else_may_withdraw_and_nothing_is_written(server: Runtime) -> None:  # noqa: F811
    secdef = as_user(server, "secdef")
    assert 'id="withdraw-form"' not in secdef.client.get("/cases/1").text
    before = head(server)
    for confirm in ("", "yes"):
        answer = secdef.post("/cases/1/withdraw", {"reason": "x", "confirm": confirm})
        assert answer.status_code == 403
        assert not_recorded(answer.text) == "only the requester can withdraw a case"
    other = as_user(server, "us.liaison")  # a requester sees their own cases alone
    hidden = other.post("/cases/1/withdraw", {"reason": "x", "confirm": "yes"})
    assert refused(hidden, 404) == "no case '1'"
    liaison = as_user(server, "ua.liaison")
    forged = liaison.post("/cases/1/withdraw", {"reason": "x", "confirm": "yes"}, csrf=False)
    assert refused(forged, 403) == FORGED
    assert (head(server), state_of(server, 1)) == (before, "in_review")


# recording a condition as met, then executing ---------------------------------------------


def test_the_funding_condition_is_recorded_then_the_sale_executed(
    server: Runtime,  # noqa: F811
) -> None:
    liaison = as_user(server, "us.liaison")
    page = liaison.client.get("/cases/4").text
    assert 'action="/cases/4/conditions"' in page
    assert f'<input type="hidden" name="condition" value="{FUNDING}">' in page
    assert 'id="execute-form"' not in page, "not before the condition is met"

    before = head(server)
    evidence = "Funding agreement EU-ERAM-2025-08 signed; first payment received"
    shown = liaison.post("/cases/4/conditions", {"condition": FUNDING, "evidence": evidence})
    assert shown.status_code == 200
    assert "Record a condition of case 4 as met?" in shown.text
    assert "it is the last condition still to be met" in shown.text
    assert confirm_form(shown.text) == {
        "action": "/cases/4/conditions",
        "condition": FUNDING,
        "evidence": evidence,
    }
    assert head(server) == before

    done = liaison.post(
        "/cases/4/conditions", {"condition": FUNDING, "evidence": evidence, "confirm": "yes"}
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/cases/4"
    assert state_of(server, 4) == "cleared"
    met = [body for kind, body in events_of(server, 4) if kind == "condition_met"]
    assert len(met) == 1
    assert evidence in met[0]

    page = liaison.client.get("/cases/4").text
    assert "condition-form" not in page
    assert re.search(r'<input id="quantity" name="quantity" type="number" min="1" max="3350"', page)

    before = head(server)
    shown = liaison.post("/cases/4/execute", {"quantity": "3,000"})
    assert shown.status_code == 200
    assert "Record case 4 as executed?" in shown.text
    assert "3,000 of the 3,350 approved" in shown.text
    assert confirm_form(shown.text) == {"action": "/cases/4/execute", "quantity": "3000"}
    assert head(server) == before

    done = liaison.post("/cases/4/execute", {"quantity": "3000", "confirm": "yes"})
    assert done.status_code == 303
    assert done.headers["location"] == "/cases/4"
    assert state_of(server, 4) == "partly_executed"
    page = liaison.client.get("/cases/4").text
    assert "the rest of the approved quantity may still be drawn" in page
    assert re.search(r'<input id="quantity" name="quantity" type="number" min="1" max="350"', page)

    done = liaison.post("/cases/4/execute", {"quantity": "350", "confirm": "yes"})
    assert done.headers["location"] == "/cases/4"
    assert state_of(server, 4) == "executed"
    executed = [body for kind, body in events_of(server, 4) if kind == "case_state_changed"]
    assert "executed: 3350 of 3350" in executed[-1]
    page = liaison.client.get("/cases/4").text
    assert 'id="execute-form"' not in page
    assert 'id="withdraw-form"' not in page
    assert "What would have changed it" in page


def test_an_execution_the_policy_in_force_does_not_permit_is_refused_and_suspends(
    server: Runtime,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Case 3, approved for December 2024, executed today under the review mechanism: the
    page shows the refusal naming us.secdef and the day it was judged again, the case
    suspended with why; us.secdef finds the form to answer it. The server's clock is
    stopped, so its "today" and the test's are one day, even across midnight."""
    stopped = server.now()
    monkeypatch.setattr(server, "now", lambda: stopped)
    liaison = as_user(server, "ua.liaison")
    answer = liaison.post("/cases/3/execute", {"quantity": "2", "confirm": "yes"})
    assert answer.status_code == 409
    assert re.fullmatch(
        rf"case 3 was not executed and is suspended: judged again on the day of execution"
        rf" \({stopped.date().isoformat()}\) under US bundle sha256:[0-9a-f]+… in force from"
        r" 2025-08-28 \(US/us-review-mechanism\): review_required; it waits for us\.secdef"
        r" to approve; the execution of 2 was refused",
        not_recorded(answer.text),
    ), not_recorded(answer.text)
    assert state_of(server, 3) == "suspended"
    page = liaison.client.get("/cases/3").text
    assert 'id="suspension"' in page
    assert 'id="execute-form"' not in page
    secdef = as_user(server, "secdef").client.get("/cases/3").text
    assert 'action="/cases/3/answer"' in secdef


def test_a_party_without_a_say_may_not_record_the_condition(server: Runtime) -> None:  # noqa: F811
    reviewer = add_ukrainian_reviewer(server)
    assert "condition-form" not in reviewer.client.get("/cases/4").text
    before = head(server)
    for confirm in ("", "yes"):
        answer = reviewer.post(
            "/cases/4/conditions", {"condition": FUNDING, "evidence": "x", "confirm": confirm}
        )
        assert answer.status_code == 403
        assert not_recorded(answer.text) == (
            "ua.reviewer acts for UA; only US may record a condition of this case"
        )
    assert (head(server), state_of(server, 4)) == (before, "approved_with_conditions")


def test_a_condition_needs_its_evidence(server: Runtime) -> None:  # noqa: F811
    liaison = as_user(server, "us.liaison")
    before = head(server)
    answer = liaison.post("/cases/4/conditions", {"condition": FUNDING, "evidence": "  "})
    assert answer.status_code == 400
    assert not_recorded(answer.text) == "evidence: say what shows the condition is met"
    assert re.search(
        r'<textarea id="evidence-1" name="evidence"[^>]*aria-invalid="true"', answer.text
    )
    assert head(server) == before


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("3351", "quantity: must be between 1 and the approved 3350"),
        ("0", "quantity: must be between 1 and the approved 3350"),
        ("-5", "quantity: must be a whole number, such as 20"),
        ("twenty", "quantity: must be a whole number, such as 20"),
        ("9" * 30, "quantity: must be a whole number, such as 20"),
        ("", "quantity: enter how many were used or delivered"),
    ],
)
def test_a_bad_quantity_is_one_line_naming_the_field_and_nothing_is_written(
    server: Runtime,  # noqa: F811
    quantity: str,
    message: str,
) -> None:
    server.cases.condition_met(
        "4", actor="us.liaison", condition=FUNDING, evidence="paid", now=server.now()
    )
    liaison = as_user(server, "us.liaison")
    before = head(server)
    for confirm in ("", "yes"):
        answer = liaison.post("/cases/4/execute", {"quantity": quantity, "confirm": confirm})
        assert answer.status_code == 400, answer.text[:500]
        assert not_recorded(answer.text) == message
        assert "Traceback" not in answer.text
        assert re.search(r'<input id="quantity"[^>]*aria-invalid="true"', answer.text)
        assert f'value="{quantity}"' in answer.text  # what was typed, to put right
    assert (head(server), state_of(server, 4)) == (before, "cleared")


def test_only_the_requesting_party_records_the_execution(server: Runtime) -> None:  # noqa: F811
    server.cases.condition_met(
        "4", actor="us.liaison", condition=FUNDING, evidence="paid", now=server.now()
    )
    reviewer = add_ukrainian_reviewer(server)
    assert 'id="execute-form"' not in reviewer.client.get("/cases/4").text
    before = head(server)
    answer = reviewer.post("/cases/4/execute", {"quantity": "20", "confirm": "yes"})
    assert answer.status_code == 403
    assert not_recorded(answer.text) == (
        "ua.reviewer acts for UA; only US may record this case as executed"
    )
    assert (head(server), state_of(server, 4)) == (before, "cleared")


def test_a_denied_case_tells_what_would_have_changed_it_as_history(
    server: Runtime,  # noqa: F811
) -> None:
    secdef = as_user(server, "secdef")
    denied = secdef.post(
        "/cases/1/answer", {"verdict": "deny", "reason": "Not now", "passphrase": DEMO_PASSWORD}
    )
    assert denied.status_code == 303
    page = secdef.client.get("/cases/1").text
    assert 'id="what-would-change-it"' not in page
    assert "This case is denied: it is closed, and nothing can change its outcome now." in page
    assert "Approval by us.secdef (personally; may not be delegated) would permit it." in page
    # Open cases still say what would change them.
    assert 'id="what-would-change-it"' in secdef.client.get("/cases/2").text


# waiving a legislative waiting period -------------------------------------------------------


def add_president(srv: Runtime) -> Browser:
    """The holder of us.president, the office the US policy names to waive Congress's
    waiting period, with a signing key and a password of their own."""
    public, key = new_key_pair(DEMO_PASSWORD)
    path = srv.key_path("potus")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(key)
    srv.people.add_user(
        user_id="potus", name="US President", party="US", public_key=public, actor=ADMIN,
        now=srv.now(),
    )  # fmt: skip
    srv.accounts.set_access(
        "potus", roles=(Role.REVIEWER,), clearance=Level.TOP_SECRET, actor=ADMIN, now=srv.now()
    )
    srv.accounts.set_password("potus", DEMO_PASSWORD, actor=ADMIN, now=srv.now())
    srv.people.grant(
        user_id="potus", authority="us.president", valid_from=dt.date(2025, 1, 20),
        valid_to=None, actor=ADMIN, now=srv.now(),
    )  # fmt: skip
    return as_user(srv, "potus")


def test_the_president_waives_the_waiting_period_on_the_page_signed(
    server: Runtime,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Case 4, the $825 million ERAM sale, inside Congress's 30 days: the page offers the
    waiver to the President alone. A waiver without its emergency or its passphrase is one
    line naming the field, and a wrong passphrase, another office, a hidden case, a forged
    form or a field longer than the form takes one line too, with nothing written; signed,
    it is on the ledger and the page says so."""
    period = server.cases.view("4", actor=ADMIN).waiting_period()
    assert period is not None
    notified = dt.date.fromisoformat(period["notified_on"])
    during = dt.datetime.combine(notified + dt.timedelta(days=1), dt.time(12), dt.UTC)
    monkeypatch.setattr(server, "now", lambda: during)
    president = add_president(server)
    page = president.client.get("/cases/4").text
    assert 'action="/cases/4/waiver"' in page
    for other in ("us.liaison", "secdef", "us.reviewer"):
        assert 'id="waiver-form"' not in as_user(server, other).client.get("/cases/4").text

    before = head(server)
    for fields, field, words in [
        ({"reason": "  "}, "reason", "a waiver states the emergency that calls for it"),
        ({"reason": "Emergency", "passphrase": ""}, "passphrase", "enter the passphrase"),
    ]:
        answer = president.post("/cases/4/waiver", {"passphrase": DEMO_PASSWORD, **fields})
        assert answer.status_code == 400
        assert words in not_recorded(answer.text)
        assert re.search(rf'id="waiver-{field}"[^>]*aria-invalid="true"', answer.text), field
    wrong = president.post("/cases/4/waiver", {"reason": "Emergency", "passphrase": "wrong"})
    assert (wrong.status_code, not_recorded(wrong.text)) == (
        403,
        "the key cannot be unlocked: wrong passphrase or damaged key file",
    )
    secdef = as_user(server, "secdef").post(
        "/cases/4/waiver", {"reason": "Emergency", "passphrase": DEMO_PASSWORD}
    )
    assert secdef.status_code == 403
    assert not_recorded(secdef.text).startswith("only us.president may waive")
    signed = {"reason": "Emergency", "passphrase": DEMO_PASSWORD}
    hidden = as_user(server, "ua.liaison").post("/cases/4/waiver", signed)
    assert refused(hidden, 404) == "no case '4'"
    assert refused(president.post("/cases/4/waiver", signed, csrf=False), 403) == FORGED
    for field, size in [("reason", 4001), ("passphrase", 1001)]:
        huge = president.post("/cases/4/waiver", {**signed, field: "x" * size})
        assert refused(huge, 422) == f"{field}: String should have at most {size - 1} characters"
    assert head(server) == before

    done = president.post(
        "/cases/4/waiver", {"reason": "An emergency exists", "passphrase": DEMO_PASSWORD}
    )
    assert (done.status_code, done.headers["location"]) == (303, "/cases/4")
    [waived] = [body for kind, body in events_of(server, 4) if kind == "waiting_period_waived"]
    assert "An emergency exists" in waived
    page = president.client.get("/cases/4").text
    assert "Your waiver was signed and recorded" in page
    assert "it was <strong>waived</strong> by potus" in page
    assert 'id="waiver-form"' not in page
