"""Who sees what: every API route and every page, as every kind of reader.

The world is the demo story (api_support) plus two TOP SECRET cases of a
requester cleared TOP SECRET: one in review and overdue, one withdrawn with a
reason nobody below TOP SECRET may read. Readers span the clearances and roles
(anonymous, requesters who see only their own cases, reviewers, auditors and an
admin from UNCLASSIFIED to TOP SECRET, an office holder).

``TABLE`` has one row per route the application serves (the routes are read
from the app itself, so a new route without a row fails
``test_every_route_has_a_row``). A row says which requests to make (path
parameters filled with real objects, hidden ones included) and, for each
reader, the status to expect. For every response the test checks that
nothing of a case the reader may not see is in it: its id, its number, words
only it holds, the name of a classification above the reader's clearance.
Listing routes also check their counts and totals against the cases the
reader may see, and a refusal about a hidden case must read exactly like one
about a case that does not exist.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from clearance.core.access import Level, Role
from clearance.core.actors import ADMIN
from clearance.core.signing import new_key_pair
from clearance.service import auditing
from clearance.service.dispatch import Dispatcher
from clearance.web.app import create_app

from .api_support import (
    DEMO_PASSWORD,
    Api,
    Template,
    TestClient,
    build_template,
    clone_template,
    open_api,
)
from .test_proposals import candidate

pytestmark = pytest.mark.slow

# The world ------------------------------------------------------------------------

TS_DATE = "2025-07-19"
"""The TOP SECRET cases' date: no other case, bundle or page holds it."""
TS_REASON = "Operation NIGHTJAR-7Q called off"
"""Why the withdrawn TOP SECRET case was withdrawn: on its timeline and in the ledger."""
TS_REQUEST = {
    "action": "employ",
    "requester": "UA",
    "system": "storm-shadow",
    "quantity": 3,
    "target": {"territory": "RU"},
    "date": TS_DATE,
}


@dataclass(frozen=True)
class Case:
    number: int
    level: Level
    submitted_by: str
    open: bool
    overdue: bool
    words: tuple[str, ...] = ()
    """Text only this case holds, which must not reach a reader who may not see it."""


CASES = (
    Case(1, Level.SECRET, "ua.liaison", open=True, overdue=True),
    Case(2, Level.CONFIDENTIAL, "ua.liaison", open=True, overdue=True),
    Case(3, Level.UNCLASSIFIED, "ua.liaison", open=False, overdue=False),
    Case(4, Level.UNCLASSIFIED, "us.liaison", open=True, overdue=False),
    Case(5, Level.TOP_SECRET, "ts.liaison", open=True, overdue=True, words=(TS_DATE,)),
    Case(6, Level.TOP_SECRET, "ts.liaison", open=False, overdue=False, words=(TS_DATE, "NIGHTJAR")),
)


@dataclass(frozen=True)
class Actor:
    name: str  # a user id, or "anonymous"
    roles: tuple[Role, ...] = ()
    clearance: Level = Level.UNCLASSIFIED
    office: bool = False

    @property
    def signed_in(self) -> bool:
        return self.name != "anonymous"

    def has(self, role: Role) -> bool:
        """An admin holds every role."""
        return role in self.roles or Role.ADMIN in self.roles

    @property
    def sees_all(self) -> bool:
        """Reviewers, auditors and office holders see every case up to their clearance;
        anyone else only the cases they submitted."""
        return self.has(Role.REVIEWER) or self.has(Role.AUDITOR) or self.office

    def sees(self, case: Case) -> bool:
        if not self.signed_in or case.level > self.clearance:
            return False
        return self.sees_all or case.submitted_by == self.name


ACTORS = (
    Actor("anonymous"),
    Actor("ua.liaison", (Role.REQUESTER,), Level.SECRET),
    Actor("us.liaison", (Role.REQUESTER,), Level.SECRET),
    Actor("unc.reviewer", (Role.REVIEWER,), Level.UNCLASSIFIED),
    Actor("conf.reviewer", (Role.REVIEWER,), Level.CONFIDENTIAL),
    Actor("conf.auditor", (Role.AUDITOR,), Level.CONFIDENTIAL),
    Actor("sec.auditor", (Role.AUDITOR,), Level.SECRET),
    Actor("sec.admin", (Role.ADMIN,), Level.SECRET),
    Actor("us.reviewer", (Role.REVIEWER,), Level.TOP_SECRET),
    Actor("secdef", (Role.REVIEWER,), Level.TOP_SECRET, office=True),
    Actor("auditor", (Role.AUDITOR,), Level.TOP_SECRET),
    Actor("admin.user", (Role.ADMIN,), Level.TOP_SECRET),
    Actor("ts.liaison", (Role.REQUESTER,), Level.TOP_SECRET),
)
ACTOR = {a.name: a for a in ACTORS}
EXTRA_USERS = ("unc.reviewer", "conf.auditor", "sec.auditor", "sec.admin", "ts.liaison")
"""Readers the demo lacks, added to it with the access ``ACTORS`` gives them."""

STORM_SHADOW = (2, 5, 6)
"""The cases that ask for Storm Shadow."""

MISSING_ID = str(uuid.uuid4())
MISSING_NUMBER = "999"


@dataclass
class World:
    api: Api
    ids: dict[int, str]
    clients: dict[str, TestClient]
    victim_token: str  # the id of an API token of the TOP SECRET auditor
    position: tuple[str, str]  # a stock position's holder and system

    def client(self, actor: Actor) -> TestClient:
        return self.clients[actor.name]


@pytest.fixture(scope="session")
def visibility_template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    root = tmp_path_factory.mktemp("visibility-template")
    return build_template("sqlite", root / "data", f"sqlite:///{root / 'clearance.db'}")


@pytest.fixture(scope="module")
def world(
    visibility_template: Template, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    root = tmp_path_factory.mktemp("visibility")
    url = f"sqlite:///{root / 'clearance.db'}"
    clone_template(visibility_template, url, root / "data", None)
    with open_api(root / "data", url) as api:
        server = api.server
        then = server.now() - dt.timedelta(days=44)  # past 20 US working days: overdue
        public, _ = new_key_pair(DEMO_PASSWORD)
        for name in EXTRA_USERS:
            actor = ACTOR[name]
            server.people.add_user(
                user_id=name, name=name, party="UA", public_key=public, actor="admin", now=then
            )
            server.accounts.set_access(
                name, roles=actor.roles, clearance=actor.clearance, actor="admin", now=then
            )
        # The Secretary's office is told of every case up to TOP SECRET that waits for it; with
        # no mail server set, the notifications of the TOP SECRET cases are given up on.
        server.subscriptions.subscribe(
            actor=ADMIN,
            kinds=["waiting"],
            email="secdef-office@example.gov",
            office="us.secdef",
            clearance="TOP SECRET",
            now=then,
        )
        for index in range(2):
            server.cases.submit(
                TS_REQUEST,
                actor="ts.liaison",
                now=then,
                idempotency_key=f"top-secret-{index}",
                classification=int(Level.TOP_SECRET),
            )
        # A proposal that would permit the open cases (test_proposals' candidate): its
        # impact lists cases, and must list none above the reader.
        server.proposals.propose(
            candidate("2099-01-01", "Strikes inside Russia authorised from 2099"),
            actor="us.liaison",
            now=then,
        )
        giving_up = Dispatcher(
            server.store, server.notify_keys, replace(server.settings.notify, max_attempts=1)
        )
        assert giving_up.run_once().dead == 3  # cases 5 and 6, and the proposal
        giving_up.close()
        ids = {c.number: api.case_id(c.number) for c in CASES}
        server.cases.withdraw(ids[6], actor="ts.liaison", reason=TS_REASON, now=then)
        # A checkpoint to read, whichever route's row runs first (the order is random).
        auditing.sign_checkpoint(server.store, actor="auditor", now=then)
        for case in CASES:  # the world is what the table says it is
            view = server.cases.view(ids[case.number], actor=ADMIN)
            assert int(view.case.classification) == case.level, case
            assert view.case.submitted_by == case.submitted_by, case
        _, victim = server.accounts.issue_token("auditor", "victim", actor="auditor", now=then)
        clients = {a.name: api.as_user(a.name) for a in ACTORS if a.signed_in}
        clients["anonymous"] = api.client()
        for client in clients.values():
            client.follow_redirects = False
        board = clients["admin.user"].get("/api/v1/stockpile").json()
        first = board["positions"][0]
        yield World(api, ids, clients, victim.id, (first["holder"], first["system"]))


# What must not leak -------------------------------------------------------------------


def hidden_cases(actor: Actor) -> list[Case]:
    return [c for c in CASES if not actor.sees(c)]


def visible_cases(actor: Actor) -> list[Case]:
    return [c for c in CASES if actor.sees(c)]


_LEVEL_WORDS = {
    Level.CONFIDENTIAL: re.compile(r"\bCONFIDENTIAL\b", re.IGNORECASE),
    Level.SECRET: re.compile(r"(?<!TOP )(?<!TOP_)(?<!TOP-)\bSECRET\b", re.IGNORECASE),
    Level.TOP_SECRET: re.compile(r"\bTOP[ _-]SECRET\b", re.IGNORECASE),
}


_USER_CLEARANCE = re.compile(r'\\?"clearance\\?":\s*\\?"[A-Z ]+\\?"|cleared [A-Z ]+<')


def _number_patterns(number: int) -> list[re.Pattern[str]]:
    return [
        re.compile(rf"\bCase {number}\b"),
        re.compile(rf"/cases/{number}(?![0-9])"),
    ]


def leaks(world: World, actor: Actor, text: str, words_allowed: tuple[str, ...] = ()) -> list[str]:
    """What of the cases ``actor`` may not see is in ``text``."""
    found = []
    # A user's clearance (the ledger's access events, /me) is no case's classification.
    text = _USER_CLEARANCE.sub("", text)
    for allowed in words_allowed:
        text = text.replace(allowed, "")
    for case in hidden_cases(actor):
        case_id = world.ids[case.number]
        if case_id[:8] in text:
            found.append(f"the id of case {case.number} ({case_id})")
        found += [
            f"case {case.number}'s {p.pattern!r}"
            for p in _number_patterns(case.number)
            if p.search(text)
        ]
        found += [f"case {case.number}'s words {w!r}" for w in case.words if w in text]
    for level, pattern in _LEVEL_WORDS.items():
        if level > actor.clearance and any(c.level == level for c in hidden_cases(actor)):
            cleaned = text
            if match := pattern.search(cleaned):
                start = max(0, match.start() - 60)
                found.append(f"the level {level.label} ({cleaned[start : match.end() + 60]!r})")
    return found


# Expectations -----------------------------------------------------------------------------

Expect = Callable[[Actor], int]


def everyone(status: int = 200) -> Expect:
    return lambda actor: status


def signed_in(status: int = 200, anonymous: int = 401) -> Expect:
    return lambda actor: status if actor.signed_in else anonymous


def role(needed: Role, status: int = 200, anonymous: int = 401) -> Expect:
    def expect(actor: Actor) -> int:
        if not actor.signed_in:
            return anonymous
        return status if actor.has(needed) else 403

    return expect


PAGE = 303
"""A page sends a visitor who is not signed in to sign in."""


def page(status: int = 200, needed: Role | None = None) -> Expect:
    return role(needed, status, PAGE) if needed else signed_in(status, PAGE)


def ts_auditor(anonymous: int = 401) -> Expect:
    def expect(actor: Actor) -> int:
        if not actor.signed_in:
            return anonymous
        if not actor.has(Role.AUDITOR):
            return 403
        return 200 if actor.clearance == Level.TOP_SECRET else 403

    return expect


def ledger_of_case(number: int) -> Expect:
    """The ledger page of one case: for auditors, 404 if the case is above them."""
    case = next(c for c in CASES if c.number == number)

    def expect(actor: Actor) -> int:
        if not actor.signed_in:
            return PAGE
        if not actor.has(Role.AUDITOR):
            return 403
        return 200 if actor.sees(case) else 404

    return expect


@dataclass(frozen=True)
class Call:
    method: str
    path: str  # {holder}, {system}, {token}: filled from the world
    expect: Expect
    json: Any = None
    data: dict[str, str] | None = None
    params: dict[str, Any] | None = None
    only: Callable[[Actor], bool] = lambda actor: True
    """Readers to make this call as (the others would change the world)."""
    allowed: tuple[str, ...] = ()
    """Phrases the reader may be shown whatever they may see: their own words (a search),
    or a level's name in a refusal or a style sheet."""
    check: Callable[[World, Actor, Any], None] | None = None


@dataclass(frozen=True)
class CaseCall:
    """A call about one case, made for every case by id and by number: 200 (or ``status``)
    if the reader may see it, else a 404 that reads exactly like one for a missing case."""

    method: str
    path: str  # with {ref}
    status: int = 200
    json: Any = None
    data: dict[str, str] | None = None
    only_hidden: bool = False
    """A change: made only as readers who may not see the case, who must be refused."""
    anonymous: int = 401


@dataclass(frozen=True)
class Row:
    calls: tuple[Call | CaseCall, ...]
    marks: tuple[Any, ...] = field(default=())


# Count checks -----------------------------------------------------------------------------


def _numbers(rows: list[dict[str, Any]]) -> list[int]:
    return [r["number"] for r in rows]


def api_all_cases(world: World, actor: Actor, response: Any) -> None:
    body = response.json()
    seen = [c.number for c in visible_cases(actor)]
    assert (body["total"], _numbers(body["cases"])) == (len(seen), seen)


def api_open_cases(world: World, actor: Actor, response: Any) -> None:
    body = response.json()
    seen = [c.number for c in visible_cases(actor) if c.open]
    assert (body["total"], _numbers(body["cases"])) == (len(seen), seen)


def api_overdue(world: World, actor: Actor, response: Any) -> None:
    assert _numbers(response.json()) == [c.number for c in visible_cases(actor) if c.overdue]


def _count_text(total: int) -> str:
    return f"{total:,} case{'' if total == 1 else 's'}"


def page_cases(which: Callable[[Case], bool]) -> Callable[[World, Actor, Any], None]:
    def check(world: World, actor: Actor, response: Any) -> None:
        seen = [c.number for c in visible_cases(actor) if which(c)]
        count = re.search(r'id="result-count"[^>]*>([^<(]*)\(', response.text)
        assert count, response.text
        assert count.group(1).split(" matching")[0].strip() == _count_text(len(seen))
        linked = sorted({int(n) for n in re.findall(r'href="/cases/(\d+)"', response.text)})
        assert linked == seen

    return check


def dashboard_counts(world: World, actor: Actor, response: Any) -> None:
    seen = visible_cases(actor)
    open_total = sum(c.open for c in seen)
    assert f"{open_total} open case{'' if open_total == 1 else 's'}, by age" in response.text
    overdue = sum(c.overdue for c in seen)
    shown = re.search(r'id="overdue-count">([^<]*)<', response.text)
    assert shown, response.text
    assert shown.group(1) == (str(overdue) if overdue else "No case you can see is overdue.")


def api_waiting_report(world: World, actor: Actor, response: Any) -> None:
    body = response.json()
    overdue = [c.number for c in visible_cases(actor) if c.overdue]
    assert sum(o["overdue"] for o in body["offices"]) == len(overdue)
    longest = {o["longest_waiting"]["case_number"] for o in body["offices"] if o["longest_waiting"]}
    assert longest <= {c.number for c in visible_cases(actor) if c.open}
    assert Level[body["classification"].replace(" ", "_")] <= actor.clearance


def page_waiting_report(world: World, actor: Actor, response: Any) -> None:
    overdue = [c.number for c in visible_cases(actor) if c.overdue]
    shown = re.findall(r'class="tag tag--overdue">(\d+) overdue<', response.text)
    assert sum(int(n) for n in shown) == len(overdue)
    linked = {int(n) for n in re.findall(r'href="/cases/(\d+)"', response.text)}
    assert linked <= {c.number for c in visible_cases(actor) if c.open}


def api_dead_letters(world: World, actor: Actor, response: Any) -> None:
    """The notifications given up on (those of the TOP SECRET cases 5 and 6, in review when
    submitted, and of the proposal): a case's listed only to an admin who may see it."""
    notifications = response.json()["notifications"]
    assert "proposal 1" in [n["about"] for n in notifications]
    listed = sorted(n["case_number"] for n in notifications if n["case_number"] is not None)
    assert listed == [c.number for c in visible_cases(actor) if c.number in (5, 6)]


# The table -----------------------------------------------------------------------------------

ANSWER = {"reason": "no", "passphrase": DEMO_PASSWORD}
FORM_ANSWER = {"decision": "deny", "reason": "no", "passphrase": DEMO_PASSWORD}
PROPOSAL = {"files": {"bundle.yaml": "holder: US\n"}}


OTHER_PARTY = ("ua.liaison", "ts.liaison")
"""Requesters of Ukraine: the US proposal and US stock are not theirs to see."""


def of_us(status: int = 200, anonymous: int = 401) -> Expect:
    """For the US's proposal and stock: 404 to a requester of another party."""

    def expect(actor: Actor) -> int:
        if not actor.signed_in:
            return anonymous
        return 404 if actor.name in OTHER_PARTY else status

    return expect


def not_the_authority(actor: Actor) -> bool:
    """Anyone but the holder of the office that may activate the proposal (who would)."""
    return actor.name != "secdef"


def _not(role_: Role) -> Callable[[Actor], bool]:
    return lambda actor: not actor.has(role_)


def change_row(change: str, fields: dict[str, str]) -> Row:
    """A change from the case page, as its form sends it: first for the confirmation page,
    then confirmed; made only as readers who may not see the case."""
    return Row(
        tuple(
            CaseCall(
                "POST",
                f"/cases/{{ref}}/{change}",
                data=fields | confirmed,
                only_hidden=True,
                anonymous=PAGE,
            )
            for confirmed in ({}, {"confirm": "yes"})
        )
    )


TABLE: dict[tuple[str, str], Row] = {
    # operations
    ("GET", "/health"): Row((Call("GET", "/health", everyone()),)),
    ("GET", "/ready"): Row((Call("GET", "/ready", everyone()),)),
    ("GET", "/metrics"): Row((Call("GET", "/metrics", everyone()),)),
    ("GET", "/openapi.json"): Row(
        (
            Call(
                "GET", "/openapi.json", everyone(), allowed=("TOP SECRET", "SECRET", "CONFIDENTIAL")
            ),
        )
    ),
    ("GET", "/docs"): Row(
        (Call("GET", "/docs", everyone(), allowed=("TOP SECRET", "SECRET", "CONFIDENTIAL")),)
    ),
    # signing in
    ("POST", "/api/v1/session"): Row(
        (
            Call(
                "POST",
                "/api/v1/session",
                everyone(),
                json={"user": "ua.liaison", "password": DEMO_PASSWORD},
            ),
        )
    ),
    ("DELETE", "/api/v1/session"): Row((Call("DELETE", "/api/v1/session", signed_in(204)),)),
    ("GET", "/api/v1/me"): Row((Call("GET", "/api/v1/me", signed_in()),)),
    ("GET", "/api/v1/inbox"): Row((Call("GET", "/api/v1/inbox", signed_in()),)),
    ("POST", "/api/v1/tokens"): Row(
        (Call("POST", "/api/v1/tokens", signed_in(201), json={"name": "another"}),)
    ),
    ("GET", "/api/v1/tokens"): Row((Call("GET", "/api/v1/tokens", signed_in()),)),
    ("DELETE", "/api/v1/tokens/{token_id}"): Row(
        (
            Call(
                "DELETE",
                "/api/v1/tokens/{token}",
                signed_in(404),
                only=lambda a: a.name != "auditor" and not a.has(Role.ADMIN),
            ),
        )
    ),
    # screening, catalog, policy
    ("POST", "/api/v1/screen"): Row(
        (Call("POST", "/api/v1/screen", signed_in(), json=TS_REQUEST | {"date": "2025-06-15"}),)
    ),
    ("POST", "/api/v1/screen/batch"): Row(
        (
            Call(
                "POST",
                "/api/v1/screen/batch",
                signed_in(),
                json=[TS_REQUEST | {"date": "2025-06-15"}],
            ),
        )
    ),
    ("POST", "/api/v1/explain"): Row(
        (Call("POST", "/api/v1/explain", signed_in(), json=TS_REQUEST | {"date": "2025-06-15"}),)
    ),
    ("GET", "/api/v1/catalog/systems"): Row((Call("GET", "/api/v1/catalog/systems", signed_in()),)),
    ("GET", "/api/v1/catalog/systems/{system}/holders"): Row(
        (Call("GET", "/api/v1/catalog/systems/{system}/holders", signed_in()),)
    ),
    ("GET", "/api/v1/bundles"): Row((Call("GET", "/api/v1/bundles", signed_in()),)),
    ("GET", "/api/v1/bundles/{holder}"): Row((Call("GET", "/api/v1/bundles/US", signed_in()),)),
    ("GET", "/api/v1/proposals"): Row((Call("GET", "/api/v1/proposals", signed_in()),)),
    ("POST", "/api/v1/proposals"): Row(
        (Call("POST", "/api/v1/proposals", signed_in(422), json=PROPOSAL),)
    ),
    ("GET", "/api/v1/proposals/{number}"): Row((Call("GET", "/api/v1/proposals/1", of_us()),)),
    ("POST", "/api/v1/proposals/{number}/activate"): Row(
        (
            Call(
                "POST",
                "/api/v1/proposals/1/activate",
                of_us(403),
                json={"passphrase": DEMO_PASSWORD},
                only=not_the_authority,
            ),
        )
    ),
    # cases
    ("GET", "/api/v1/cases"): Row(
        (
            Call("GET", "/api/v1/cases", signed_in(), params={"all": True}, check=api_all_cases),
            Call("GET", "/api/v1/cases", signed_in(), check=api_open_cases),
        )
    ),
    ("POST", "/api/v1/cases"): Row(
        (
            Call(
                "POST",
                "/api/v1/cases",
                role(Role.REQUESTER),
                json=TS_REQUEST,
                only=_not(Role.REQUESTER),
            ),
            Call(
                "POST",
                "/api/v1/cases",
                role(Role.REQUESTER, 403),
                json=TS_REQUEST,
                params={"classification": "TOP SECRET"},
                only=lambda a: a.has(Role.REQUESTER) and a.clearance < Level.TOP_SECRET,
                allowed=("TOP SECRET",),  # the reader's own refusal names the level asked for
            ),
        )
    ),
    ("GET", "/api/v1/cases/{case_id}"): Row((CaseCall("GET", "/api/v1/cases/{ref}"),)),
    ("POST", "/api/v1/cases/{case_id}/approve"): Row(
        (CaseCall("POST", "/api/v1/cases/{ref}/approve", json=ANSWER, only_hidden=True),)
    ),
    ("POST", "/api/v1/cases/{case_id}/deny"): Row(
        (CaseCall("POST", "/api/v1/cases/{ref}/deny", json=ANSWER, only_hidden=True),)
    ),
    ("POST", "/api/v1/cases/{case_id}/waiver"): Row(
        (
            CaseCall(
                "POST",
                "/api/v1/cases/{ref}/waiver",
                json={"reason": "x", "passphrase": DEMO_PASSWORD},
                only_hidden=True,
            ),
        )
    ),
    ("POST", "/api/v1/cases/{case_id}/withdraw"): Row(
        (CaseCall("POST", "/api/v1/cases/{ref}/withdraw", json={"reason": "x"}, only_hidden=True),)
    ),
    ("POST", "/api/v1/cases/{case_id}/questions"): Row(
        (
            CaseCall(
                "POST", "/api/v1/cases/{ref}/questions", json={"question": "x"}, only_hidden=True
            ),
        )
    ),
    ("POST", "/api/v1/cases/{case_id}/answer"): Row(
        (CaseCall("POST", "/api/v1/cases/{ref}/answer", json={"answer": "x"}, only_hidden=True),)
    ),
    ("POST", "/api/v1/cases/{case_id}/conditions"): Row(
        (
            CaseCall(
                "POST",
                "/api/v1/cases/{ref}/conditions",
                json={"condition": "x", "evidence": "y"},
                only_hidden=True,
            ),
        )
    ),
    ("POST", "/api/v1/cases/{case_id}/execute"): Row(
        (CaseCall("POST", "/api/v1/cases/{ref}/execute", json={}, only_hidden=True),)
    ),
    ("GET", "/api/v1/overdue"): Row(
        (Call("GET", "/api/v1/overdue", signed_in(), check=api_overdue),)
    ),
    # stockpile
    ("GET", "/api/v1/stockpile"): Row((Call("GET", "/api/v1/stockpile", signed_in()),)),
    ("GET", "/api/v1/stockpile/{holder}/{system}"): Row(
        (Call("GET", "/api/v1/stockpile/{holder}/{system}", of_us()),)
    ),
    ("GET", "/api/v1/stockpile/{holder}/{system}/projection"): Row(
        (Call("GET", "/api/v1/stockpile/{holder}/{system}/projection", of_us()),)
    ),
    # ledger
    ("GET", "/api/v1/ledger"): Row(
        (
            Call("GET", "/api/v1/ledger", role(Role.AUDITOR), params={"limit": 500}),
            Call("GET", "/api/v1/ledger", role(Role.AUDITOR), params={"case": "{id:5}"}),
            Call("GET", "/api/v1/ledger", role(Role.AUDITOR), params={"case": "{id:6}"}),
        )
    ),
    ("GET", "/api/v1/ledger/verify"): Row(
        (
            Call(
                "GET",
                "/api/v1/ledger/verify",
                ts_auditor(),
                allowed=("needs TOP SECRET clearance",),
            ),
        )
    ),
    ("GET", "/api/v1/ledger/export"): Row(
        (Call("GET", "/api/v1/ledger/export", role(Role.AUDITOR)),)
    ),
    ("GET", "/api/v1/ledger/checkpoints"): Row(
        (Call("GET", "/api/v1/ledger/checkpoints", role(Role.AUDITOR)),)
    ),
    ("POST", "/api/v1/ledger/checkpoints"): Row(
        (Call("POST", "/api/v1/ledger/checkpoints", role(Role.AUDITOR, 201)),)
    ),
    ("GET", "/api/v1/ledger/public-key"): Row(
        (Call("GET", "/api/v1/ledger/public-key", everyone()),)
    ),
    # reports
    ("GET", "/api/v1/reports/waiting"): Row(
        (
            Call("GET", "/api/v1/reports/waiting", role(Role.AUDITOR), check=api_waiting_report),
            Call(
                "GET",
                "/api/v1/reports/waiting",
                role(Role.AUDITOR),
                params={"from": "2025-01-01", "to": TS_DATE},
                allowed=(TS_DATE,),  # the reader's own period, repeated
                check=api_waiting_report,
            ),
        )
    ),
    # notifications
    ("GET", "/api/v1/subscriptions"): Row((Call("GET", "/api/v1/subscriptions", signed_in()),)),
    ("POST", "/api/v1/subscriptions"): Row(
        (
            Call(
                "POST",
                "/api/v1/subscriptions",
                signed_in(400),
                json={"kinds": ["waiting"], "email": "not an address"},
            ),
        )
    ),
    ("DELETE", "/api/v1/subscriptions/{subscription_id}"): Row(
        (Call("DELETE", f"/api/v1/subscriptions/{MISSING_ID}", signed_in(404)),)
    ),
    ("GET", "/api/v1/notifications/dead"): Row(
        (
            Call(
                "GET",
                "/api/v1/notifications/dead",
                role(Role.ADMIN),
                check=api_dead_letters,
                allowed=("secdef-office@example.gov",),
            ),
        )
    ),
    ("POST", "/api/v1/notifications/{delivery_id}/retry"): Row(
        (Call("POST", f"/api/v1/notifications/{MISSING_ID}/retry", role(Role.ADMIN, 404)),)
    ),
    ("GET", "/notifications"): Row((Call("GET", "/notifications", page()),)),
    ("POST", "/notifications"): Row(
        (
            Call(
                "POST",
                "/notifications",
                signed_in(400, PAGE),
                data={"kinds": "waiting", "channel": "email", "address": "not an address"},
            ),
        )
    ),
    ("POST", "/notifications/{subscription_id}/end"): Row(
        (Call("POST", f"/notifications/{MISSING_ID}/end", signed_in(404, PAGE)),)
    ),
    ("GET", "/notifications/dead"): Row(
        (Call("GET", "/notifications/dead", page(needed=Role.ADMIN)),)
    ),
    ("POST", "/notifications/dead/{delivery_id}/retry"): Row(
        (Call("POST", f"/notifications/dead/{MISSING_ID}/retry", role(Role.ADMIN, 404, PAGE)),)
    ),
    # pages
    ("GET", "/sign-in"): Row((Call("GET", "/sign-in", everyone()),)),
    ("POST", "/sign-in"): Row(
        (
            Call(
                "POST",
                "/sign-in",
                everyone(403),
                data={"user": "ua.liaison", "password": DEMO_PASSWORD, "csrf_token": "x"},
            ),
        )
    ),
    ("POST", "/sign-out"): Row((Call("POST", "/sign-out", signed_in(PAGE, PAGE)),)),
    ("GET", "/"): Row((Call("GET", "/", everyone(PAGE)),)),
    ("GET", "/dashboard"): Row((Call("GET", "/dashboard", page(), check=dashboard_counts),)),
    ("GET", "/cases"): Row(
        (
            Call("GET", "/cases", page(), check=page_cases(lambda c: c.open)),
            Call(
                "GET", "/cases", page(), params={"state": "all"}, check=page_cases(lambda c: True)
            ),
            Call(
                "GET",
                "/cases",
                page(),
                params={"state": "overdue"},
                check=page_cases(lambda c: c.overdue),
            ),
            Call(
                "GET",
                "/cases",
                page(),
                params={"state": "all", "q": "storm"},
                check=page_cases(lambda c: c.number in STORM_SHADOW),
            ),
            Call(
                "GET",
                "/cases",
                page(),
                params={"state": "all", "q": TS_DATE},
                allowed=(TS_DATE,),  # the reader's own search, repeated
            ),
        )
    ),
    ("GET", "/cases/{ref}"): Row((CaseCall("GET", "/cases/{ref}", anonymous=PAGE),)),
    ("POST", "/cases/{ref}/answer"): Row(
        (
            CaseCall(
                "POST", "/cases/{ref}/answer", data=FORM_ANSWER, only_hidden=True, anonymous=PAGE
            ),
        )
    ),
    ("POST", "/cases/{ref}/withdraw"): change_row("withdraw", {"reason": "x"}),
    ("POST", "/cases/{ref}/conditions"): change_row(
        "conditions", {"condition": "European partners fund the purchase", "evidence": "y"}
    ),
    ("POST", "/cases/{ref}/execute"): change_row("execute", {"quantity": "1"}),
    ("POST", "/cases/{ref}/ask"): Row(
        (
            CaseCall(
                "POST", "/cases/{ref}/ask", data={"question": "x"}, only_hidden=True, anonymous=PAGE
            ),
        )
    ),
    ("POST", "/cases/{ref}/reply"): Row(
        (
            CaseCall(
                "POST", "/cases/{ref}/reply", data={"answer": "x"}, only_hidden=True, anonymous=PAGE
            ),
        )
    ),
    ("POST", "/cases/{ref}/waiver"): Row(
        (
            CaseCall(
                "POST",
                "/cases/{ref}/waiver",
                data={"reason": "x", "passphrase": DEMO_PASSWORD},
                only_hidden=True,
                anonymous=PAGE,
            ),
        )
    ),
    ("GET", "/requests/new"): Row((Call("GET", "/requests/new", page(needed=Role.REQUESTER)),)),
    ("POST", "/requests/preview"): Row(
        (
            Call(
                "POST",
                "/requests/preview",
                signed_in(200, PAGE),
                data={
                    "action": "employ",
                    "requester": "UA",
                    "system": "atacms",
                    "quantity": "2",
                    "territory": "RU",
                    "date": "2025-06-15",
                },
            ),
        )
    ),
    ("POST", "/requests"): Row(
        (
            Call(
                "POST",
                "/requests",
                page(needed=Role.REQUESTER),
                data={
                    "action": "employ",
                    "requester": "UA",
                    "system": "atacms",
                    "quantity": "2",
                    "territory": "RU",
                    "date": "2025-06-15",
                },
                only=_not(Role.REQUESTER),
            ),
        )
    ),
    ("GET", "/catalog"): Row((Call("GET", "/catalog", page()),)),
    ("GET", "/catalog/{system}"): Row((Call("GET", "/catalog/{system}", page()),)),
    ("GET", "/policy"): Row((Call("GET", "/policy", page()),)),
    ("GET", "/policy/{holder}"): Row((Call("GET", "/policy/US", page()),)),
    ("GET", "/policy/proposals"): Row((Call("GET", "/policy/proposals", page()),)),
    ("POST", "/policy/proposals"): Row((Call("POST", "/policy/proposals", signed_in(400, PAGE)),)),
    ("GET", "/policy/proposals/{number}"): Row(
        (Call("GET", "/policy/proposals/1", of_us(200, PAGE)),)
    ),
    ("POST", "/policy/proposals/{number}/activate"): Row(
        (
            Call(
                "POST",
                "/policy/proposals/1/activate",
                of_us(403, PAGE),
                data={"passphrase": DEMO_PASSWORD},
                only=not_the_authority,
            ),
        )
    ),
    ("GET", "/ledger"): Row(
        (
            Call("GET", "/ledger", page(needed=Role.AUDITOR)),
            Call(
                "GET",
                "/ledger",
                ledger_of_case(5),
                params={"case": "{id:5}"},
                allowed=("{id:5}",),  # a refusal repeats the reference the reader sent
            ),
            Call("GET", "/ledger", ledger_of_case(5), params={"case": "5"}),
            Call("GET", "/ledger", ledger_of_case(1), params={"case": "1"}),
        )
    ),
    ("POST", "/ledger/checkpoints"): Row(
        (Call("POST", "/ledger/checkpoints", page(PAGE, needed=Role.AUDITOR)),)
    ),
    ("GET", "/ledger/checkpoint.json"): Row(
        (Call("GET", "/ledger/checkpoint.json", page(needed=Role.AUDITOR)),)
    ),
    ("GET", "/ledger/verification"): Row(
        (
            Call(
                "GET",
                "/ledger/verification",
                page(needed=Role.AUDITOR),
                allowed=("needs TOP SECRET clearance",),
            ),
        )
    ),
    ("GET", "/reports/waiting"): Row(
        (
            Call(
                "GET",
                "/reports/waiting",
                page(needed=Role.AUDITOR),
                check=page_waiting_report,
            ),
        )
    ),
    ("GET", "/stockpile"): Row((Call("GET", "/stockpile", page()),)),
    ("GET", "/stockpile/{holder}/{system}"): Row(
        (Call("GET", "/stockpile/{holder}/{system}", of_us(200, PAGE)),)
    ),
    ("GET", "/static/{path}"): Row(
        (
            Call(
                "GET",
                "/static/app.css",
                everyone(),
                allowed=("--confidential", "--secret", "--top_secret"),  # class names
            ),
        )
    ),
}


# The routes the app serves ---------------------------------------------------------------------


def _walk(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    for route in routes:
        inner = getattr(route, "original_router", None)  # an included router
        if inner is not None:
            context = getattr(route, "include_context", None)
            yield from _walk(inner.routes, prefix + getattr(context, "prefix", ""))
            continue
        path = prefix + route.path
        methods = getattr(route, "methods", None)
        if methods is None:  # a mount: static files
            yield "GET", path + "/{path}"
            continue
        for method in sorted(methods - {"HEAD"}):
            yield method, path


def served_routes(app: Any) -> list[tuple[str, str]]:
    return sorted(set(_walk(app.routes)))


def test_every_route_has_a_row(world: World) -> None:
    app = create_app(world.api.server)
    missing = [f"{m} {p}" for m, p in served_routes(app) if (m, p) not in TABLE]
    assert not missing, "\n".join(f"route {r} has no row in the visibility table" for r in missing)
    gone = [f"{m} {p}" for m, p in TABLE if (m, p) not in served_routes(app)]
    assert not gone, f"rows for routes the app no longer serves: {gone}"


# Running a row -------------------------------------------------------------------------------------


def _fill(world: World, text: str) -> str:
    holder, system = world.position
    text = text.replace("{holder}", holder).replace("{system}", system)
    text = text.replace("{token}", world.victim_token)
    return re.sub(r"\{id:(\d+)\}", lambda m: world.ids[int(m.group(1))], text)


def _send(
    world: World, actor: Actor, method: str, path: str, *, json_body: Any, data: Any, params: Any
) -> Any:
    params = {k: _fill(world, v) if isinstance(v, str) else v for k, v in (params or {}).items()}
    client = world.client(actor)
    try:
        return client.request(method, _fill(world, path), json=json_body, data=data, params=params)
    finally:
        client.cookies.clear()  # a sign-in on the way must not make the next call another's


def _what(response: Any) -> str:
    return f"{response.request.method} {response.request.url} answered {response.status_code}"


def _run_call(world: World, call: Call) -> list[str]:
    problems = []
    for actor in ACTORS:
        if not call.only(actor):
            continue
        response = _send(
            world,
            actor,
            call.method,
            call.path,
            json_body=call.json,
            data=call.data,
            params=call.params,
        )
        expected = call.expect(actor)
        where = f"as {actor.name}: {_what(response)}"
        if response.status_code != expected:
            problems.append(f"{where}, not {expected}: {response.text[:300]}")
            continue
        allowed = tuple(_fill(world, a) for a in call.allowed)
        problems += [f"{where} with {leak}" for leak in leaks(world, actor, response.text, allowed)]
        if call.check is not None and response.status_code == 200:
            try:
                call.check(world, actor, response)
            except AssertionError as exc:
                problems.append(f"{where} with counts not of what they may see: {exc}")
    return problems


def _same_as_missing(hidden: Any, missing: Any, ref: str, missing_ref: str) -> bool:
    if hidden.status_code != missing.status_code:
        return False
    if hidden.headers.get("content-type") != missing.headers.get("content-type"):
        return False
    return hidden.text == missing.text.replace(missing_ref, ref)


def _run_case_call(world: World, call: CaseCall) -> list[str]:
    problems = []
    for actor in ACTORS:
        for case in CASES:
            for ref, missing_ref in [
                (world.ids[case.number], MISSING_ID),
                (str(case.number), MISSING_NUMBER),
            ]:
                if call.only_hidden and actor.sees(case):
                    continue
                send = lambda r, actor=actor: _send(  # noqa: E731
                    world,
                    actor,
                    call.method,
                    call.path.replace("{ref}", r),
                    json_body=call.json,
                    data=call.data,
                    params=None,
                )
                response = send(ref)
                where = f"as {actor.name}: {_what(response)}"
                if not actor.signed_in:
                    expected = call.anonymous
                else:
                    expected = call.status if actor.sees(case) else 404
                if response.status_code != expected:
                    problems.append(f"{where}, not {expected}: {response.text[:300]}")
                    continue
                # A refusal may repeat the reference the reader sent, and nothing else.
                shown = response.text if actor.sees(case) else response.text.replace(ref, "")
                problems += [f"{where} with {leak}" for leak in leaks(world, actor, shown)]
                if actor.signed_in and not actor.sees(case):
                    missing = send(missing_ref)
                    if not _same_as_missing(response, missing, ref, missing_ref):
                        problems.append(
                            f"{where}, which reads unlike the answer about a case that does not"
                            f" exist: {response.text[:300]!r} against {missing.text[:300]!r}"
                        )
    return problems


@pytest.mark.parametrize(
    "route",
    [pytest.param(key, id=f"{key[0]} {key[1]}", marks=row.marks) for key, row in TABLE.items()],
)
def test_a_route_shows_nothing_above_the_reader(world: World, route: tuple[str, str]) -> None:
    problems: list[str] = []
    for call in TABLE[route].calls:
        if isinstance(call, CaseCall):
            problems += _run_case_call(world, call)
        else:
            problems += _run_call(world, call)
    assert not problems, "\n".join(problems)
