"""Who may see a case and act on it, as one table: every reader against every case level.

The rule (docs/access.md) held here:

- nobody sees a case above their clearance, not even their own;
- a requester alone sees only the cases they submitted; reviewers, auditors, admins, the
  holder of any office and a delegate whose delegation is in force on the day see every
  case up to their clearance (an expired delegation, or one not yet begun, gives nothing);
- a case the reader may not see answers every question about it, and every action on it,
  exactly as a case that does not exist (404 ``not_found``, ``no case '…'``);
- of a case they see: only the holder of the office it waits for, or its delegate on the
  day (the gate may be delegated), approves or denies it; a reviewer or such a holder asks
  its requester a question; only its requester withdraws it or answers the question; a
  user of the requesting party (or of a consent holder) records its condition as met, and
  a user of the requesting party its execution. Anything else they see is refused
  403 ``forbidden``, and changes nothing.

``READERS`` states, for each kind of reader (role, party, own case or not, office,
delegation), whether they see every case or only their own and what they may do to a case
they see. ``TABLE`` crosses it with every clearance and every case level; ``expected`` is
the first rule above, written here and not read from the code. Each row is checked through
the service (the use cases, as the acting user) and through the API (the real app over
HTTP): an allowed action on a case of its own, made for the row, and a refused one on a
case shared by every row, whose state and ledger must not move.

The cases are US transfers submitted by ``us.owner``: ATACMS that would leave the US stock
yellow, waiting in review on the Under Secretary for Policy (``us.usdp``, a gate that may
be delegated), and ERAM sold on the condition that European partners pay.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from clearance.core.access import Level, Role
from clearance.core.actors import ADMIN
from clearance.core.signing import Signer, new_key_pair, unlock
from clearance.errors import ClearanceError, NotFoundError, PermissionDenied
from clearance.service.runtime import Runtime

from .api_support import Api, TestClient, add_signer, open_api, prepared_database

pytestmark = pytest.mark.slow

PASSPHRASE = "passphrase of every reader"
FUNDING = "European partners fund the purchase"
YELLOW_ATACMS = {
    "action": "transfer",
    "requester": "US",
    "recipient": "UA",
    "system": "atacms",
    "quantity": 161,
    "date": "2025-09-01",
}
"""Leaves the US ATACMS stock yellow: in review, waiting on us.usdp (delegable)."""
FUNDED_ERAM = {
    "action": "transfer",
    "requester": "US",
    "recipient": "UA",
    "system": "eram",
    "quantity": 5,
    "funding": "european-partners",
    "date": "2025-09-01",
}
"""Approved at once with one condition, that European partners pay."""

OWNER = "us.owner"
ASKER = "staff.asker"  # a TOP SECRET reviewer who asks the questions the shared cases wait on

# The actions ----------------------------------------------------------------------

APPROVE, DENY, ASK, WITHDRAW, REPLY, MEET, EXECUTE = (
    "approve",
    "deny",
    "ask",
    "withdraw",
    "reply",
    "meet condition",
    "execute",
)
ACTIONS = (APPROVE, DENY, ASK, WITHDRAW, REPLY, MEET, EXECUTE)

WAITS_IN = {
    APPROVE: "in_review",
    DENY: "in_review",
    ASK: "in_review",
    WITHDRAW: "in_review",
    REPLY: "awaiting_answer",
    MEET: "approved_with_conditions",
    EXECUTE: "cleared",
}
"""The state of the case each action is tried on: one the workflow lets it leave by that
action, so that what refuses it is who asks."""

BECOMES = {
    APPROVE: "approved",
    DENY: "denied",
    ASK: "awaiting_answer",
    WITHDRAW: "withdrawn",
    REPLY: "in_review",
    MEET: "cleared",
    EXECUTE: "executed",
}
"""What the case is once the action is allowed."""

# The readers ----------------------------------------------------------------------


@dataclass(frozen=True)
class Reader:
    kind: str
    user: str
    party: str
    roles: tuple[Role, ...]
    office: str | None  # an office held
    delegation: str | None  # "in force", "expired", "not yet begun": of us.usdp, by its holder
    sees: str  # "every case" or "own cases"
    may: frozenset[str]  # of a case they see


def _may(*actions: str) -> frozenset[str]:
    return frozenset(actions)


REQ, REV, AUD, ADM = Role.REQUESTER, Role.REVIEWER, Role.AUDITOR, Role.ADMIN
EVERY, OWN = "every case", "own cases"

READERS = (
    # kind                                 user          party roles  office     delegation       sees   may do
    Reader("requester, own case", OWNER, "US", (REQ,), None, None, OWN,
           _may(WITHDRAW, REPLY, MEET, EXECUTE)),
    Reader("requester, own party, not own", "us.colleague", "US", (REQ,), None, None, OWN,
           _may()),
    Reader("requester, other party", "ua.requester", "UA", (REQ,), None, None, OWN, _may()),
    Reader("reviewer, own party", "us.reviewer", "US", (REV,), None, None, EVERY,
           _may(ASK, MEET, EXECUTE)),
    Reader("reviewer, other party", "ua.reviewer", "UA", (REV,), None, None, EVERY, _may(ASK)),
    Reader("auditor, own party", "us.auditor", "US", (AUD,), None, None, EVERY,
           _may(MEET, EXECUTE)),
    Reader("auditor, other party", "ua.auditor", "UA", (AUD,), None, None, EVERY, _may()),
    Reader("admin, own party", "us.admin", "US", (ADM,), None, None, EVERY,
           _may(ASK, MEET, EXECUTE)),
    Reader("holder of the office it waits for", "usdp.holder", "US", (REQ,), "us.usdp", None,
           EVERY, _may(APPROVE, DENY, ASK, MEET, EXECUTE)),
    Reader("holder of another office (Secretary)", "secdef.holder", "US", (REQ,), "us.secdef",
           None, EVERY, _may(MEET, EXECUTE)),
    Reader("delegate, in force on the day", "usdp.delegate", "US", (REQ,), None, "in force",
           EVERY, _may(APPROVE, DENY, ASK, MEET, EXECUTE)),
    Reader("delegate, expired", "usdp.lapsed", "US", (REQ,), None, "expired", OWN, _may()),
    Reader("delegate, not yet begun", "usdp.future", "US", (REQ,), None, "not yet begun", OWN,
           _may()),
)  # fmt: skip
READER = {r.user: r for r in READERS}


@dataclass(frozen=True)
class Row:
    reader: Reader
    clearance: Level
    level: Level

    @property
    def id(self) -> str:
        return f"{self.reader.kind} | cleared {self.clearance.label} | case {self.level.label}"


TABLE = [Row(r, c, lv) for r, c, lv in itertools.product(READERS, Level, Level)]


def expected(row: Row) -> tuple[bool, frozenset[str]]:
    """Whether the row's reader sees the case, and what they may do to it: nothing above
    their clearance, own cases only for a requester alone (every case is ``us.owner``'s)."""
    reader = row.reader
    sees = row.level <= row.clearance and (reader.sees == EVERY or reader.user == OWNER)
    return sees, reader.may if sees else frozenset()


# The world ------------------------------------------------------------------------

DELEGATIONS = {"in force": (-10, 10), "expired": (-30, -11), "not yet begun": (5, 30)}
"""Each delegation's first and last day, in days from today."""


@dataclass
class World:
    api: Api
    server: Runtime
    signer: Signer
    clients: dict[str, TestClient]
    shared: dict[tuple[str, Level], str]  # (the state, the level) → a case's number
    missing: str  # the number of a case that does not exist

    def now(self) -> dt.datetime:
        return self.server.now()

    def make(self, state: str, level: Level) -> str:
        """A new case of ``us.owner``'s at ``level``, brought to ``state`` by the workflow."""
        cases, now = self.server.cases, self.now()
        request = FUNDED_ERAM if state in ("approved_with_conditions", "cleared") else YELLOW_ATACMS
        case, _ = cases.submit(request, actor=OWNER, now=now, classification=int(level))
        if state == "awaiting_answer":
            cases.ask(case.id, actor=ASKER, question="Which units?", now=now)
        if state == "cleared":
            cases.condition_met(case.id, actor=OWNER, condition=FUNDING, evidence="paid", now=now)
        ref = str(case.number)
        assert self.state_and_head(ref)[0] == state, (state, self.state_and_head(ref))
        return ref

    def state_and_head(self, ref: str) -> tuple[str, int]:
        """The case's state as the store holds it, and the ledger's length."""
        with self.server.store.reading() as tx:
            case = tx.cases.by_number(int(ref), lock=False)
            assert case is not None
            return case.state.value, tx.ledger.head()[0]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    data_dir, url = prepared_database(tmp_path_factory.mktemp("access-table"))
    public, pem = new_key_pair(PASSPHRASE)
    with open_api(data_dir, url) as api:
        server = api.server
        now, today = server.now(), server.now().date()
        for user, party, roles in [(OWNER, "US", (REQ,)), (ASKER, "US", (REV,))] + [
            (r.user, r.party, r.roles) for r in READERS if r.user != OWNER
        ]:
            server.people.add_user(
                user_id=user, name=user, party=party, public_key=public, actor=ADMIN, now=now
            )
            server.accounts.set_access(
                user, roles=roles, clearance=Level.TOP_SECRET, actor=ADMIN, now=now
            )
            add_signer(server, user, pem)
        for reader in READERS:
            if reader.office is not None:
                server.people.grant(
                    user_id=reader.user,
                    authority=reader.office,
                    valid_from=dt.date(2025, 1, 1),
                    valid_to=None,
                    actor=ADMIN,
                    now=now,
                )
        for reader in READERS:
            if reader.delegation is not None:
                first, last = DELEGATIONS[reader.delegation]
                server.people.delegate(
                    holder_id="usdp.holder",
                    delegate_id=reader.user,
                    authority="us.usdp",
                    valid_from=today + dt.timedelta(days=first),
                    valid_to=today + dt.timedelta(days=last),
                    now=now,
                )
        clients = {r.user: api.as_user(r.user) for r in READERS}
        made = World(api, server, unlock(pem, PASSPHRASE), clients, {}, "")
        made.shared = {
            (state, level): made.make(state, level)
            for state in sorted(set(WAITS_IN.values()))
            for level in Level
        }
        made.missing = str(max(int(n) for n in made.shared.values()) + 100_000)
        yield made


# Acting as a reader ---------------------------------------------------------------


def by_service(world: World, user: str, action: str, ref: str) -> str:
    """``action`` on case ``ref`` as ``user`` through the use cases: the state it leaves."""
    cases, now = world.server.cases, world.now()
    calls: dict[str, Callable[[], Any]] = {
        APPROVE: lambda: cases.answer(
            ref, actor=user, approve=True, reason="", signer=world.signer, now=now
        ),
        DENY: lambda: cases.answer(
            ref, actor=user, approve=False, reason="Not now", signer=world.signer, now=now
        ),
        ASK: lambda: cases.ask(ref, actor=user, question="Which units?", now=now),
        WITHDRAW: lambda: cases.withdraw(ref, actor=user, reason="", now=now),
        REPLY: lambda: cases.reply(ref, actor=user, answer="The 3rd brigade", now=now),
        MEET: lambda: cases.condition_met(
            ref, actor=user, condition=FUNDING, evidence="paid", now=now
        ),
        EXECUTE: lambda: cases.execute(ref, actor=user, quantity=None, now=now),
    }
    return str(calls[action]().case.state.value)


ROUTES = {
    APPROVE: ("approve", {"reason": "", "passphrase": PASSPHRASE}),
    DENY: ("deny", {"reason": "Not now", "passphrase": PASSPHRASE}),
    ASK: ("questions", {"question": "Which units?"}),
    WITHDRAW: ("withdraw", {"reason": ""}),
    REPLY: ("answer", {"answer": "The 3rd brigade"}),
    MEET: ("conditions", {"condition": FUNDING, "evidence": "paid"}),
    EXECUTE: ("execute", {}),
}


def by_api(world: World, user: str, action: str, ref: str) -> Any:
    route, body = ROUTES[action]
    return world.clients[user].post(f"/api/v1/cases/{ref}/{route}", json=body)


def refused_by_service(world: World, user: str, action: str, ref: str) -> ClearanceError:
    with pytest.raises(ClearanceError) as refused:
        by_service(world, user, action, ref)
    return refused.value


def as_missing(text: str, ref: str, missing: str) -> str:
    return text.replace(f"'{ref}'", f"'{missing}'")


# The table ------------------------------------------------------------------------


@pytest.fixture
def reader_at(world: World, request: pytest.FixtureRequest) -> Iterator[Row]:
    """The row's reader at the row's clearance, for the row; TOP SECRET again after it."""
    row: Row = request.param
    server = world.server
    server.accounts.set_access(
        row.reader.user,
        roles=row.reader.roles,
        clearance=row.clearance,
        actor=ADMIN,
        now=world.now(),
    )
    yield row
    server.accounts.set_access(
        row.reader.user,
        roles=row.reader.roles,
        clearance=Level.TOP_SECRET,
        actor=ADMIN,
        now=world.now(),
    )


def test_the_table_covers_every_reader_at_every_clearance_and_every_case_level() -> None:
    assert len(TABLE) == len(READERS) * 4 * 4
    assert {r.sees for r in READERS} == {EVERY, OWN}
    assert {r.delegation for r in READERS} == {None, *DELEGATIONS}
    assert {r.office for r in READERS} == {None, "us.usdp", "us.secdef"}
    assert {r.roles for r in READERS} == {(REQ,), (REV,), (AUD,), (ADM,)}
    assert {r.party for r in READERS} == {"US", "UA"}


@pytest.mark.parametrize("reader_at", TABLE, ids=[row.id for row in TABLE], indirect=True)
def test_a_reader_sees_and_acts_on_a_case_as_the_table_says(world: World, reader_at: Row) -> None:
    row = reader_at
    user, level = row.reader.user, row.level
    sees, may = expected(row)
    client, missing = world.clients[user], world.missing

    # Seeing it: the case, or the very answer a case that does not exist gives.
    ref = world.shared[("in_review", level)]
    shown = client.get(f"/api/v1/cases/{ref}")
    absent = client.get(f"/api/v1/cases/{missing}")
    assert absent.status_code == 404
    if sees:
        assert shown.status_code == 200, shown.text
        assert shown.json()["number"] == int(ref)
        assert world.server.cases.view(ref, actor=user).case.number == int(ref)
    else:
        assert (shown.status_code, shown.text) == (404, as_missing(absent.text, missing, ref))
        with pytest.raises(NotFoundError) as refused:
            world.server.cases.view(ref, actor=user)
        with pytest.raises(NotFoundError) as nothing:
            world.server.cases.view(missing, actor=user)
        assert refused.value.message == as_missing(nothing.value.message, missing, ref)

    for action in ACTIONS:
        if action in may:
            for how in ("service", "api"):
                fresh = world.make(WAITS_IN[action], level)
                if how == "service":
                    became = by_service(world, user, action, fresh)
                else:
                    response = by_api(world, user, action, fresh)
                    assert response.status_code == 200, (action, response.text)
                    became = response.json()["state"]
                assert became == BECOMES[action], (action, how)
                assert world.state_and_head(fresh)[0] == BECOMES[action]
                if action == APPROVE:  # give back the stock its approval committed
                    world.server.cases.withdraw(fresh, actor=OWNER, reason="", now=world.now())
            continue
        shared = world.shared[(WAITS_IN[action], level)]
        before = world.state_and_head(shared)
        error = refused_by_service(world, user, action, shared)
        response = by_api(world, user, action, shared)
        if sees:
            assert type(error) is PermissionDenied, (action, error)
            assert (response.status_code, response.json()["code"]) == (403, "forbidden"), action
        else:
            assert type(error) is NotFoundError, (action, error)
            assert error.message == f"no case '{shared}'"
            gone = by_api(world, user, action, missing)
            assert (response.status_code, response.text) == (
                404,
                as_missing(gone.text, missing, shared),
            ), action
        assert world.state_and_head(shared) == before, action
