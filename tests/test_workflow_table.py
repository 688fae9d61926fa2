"""The life of a case as one table: every state a case rests in against every action.

The rule (``core.workflow``, docs/architecture.md) held here: ``TABLE`` says, for each
state and each action, the state the action leaves the case in, or that it is refused
as an illegal transition (409 ``illegal_transition``), in which case nothing changes:
the case keeps its state and the ledger does not grow. An expiry run refuses nothing:
it expires the approvals that lapsed and leaves every other case as it was.

Approving approves a case's last outstanding gate: a case without a condition (the
strike) is then ``approved``, one with a condition (the yellow sale, a row of its own)
``approved_with_conditions``. Waiving a legislative waiting period (``WAIVE_TABLE``, the
President in person) is allowed only while a period runs on a case that may still be
executed (in review, asked, approved, with its conditions or cleared); it leaves the case
in its state and puts the waiver on the ledger, and is refused 409 otherwise.
Re-screening once a new bundle takes effect (``RESCREEN_TABLE``) suspends an approved case
not fully executed that the new policy would not permit, and leaves every other case in
its state; a new bundle that decides alike moves nothing.

Every state is reached by the workflow itself (submitted, screened, asked, answered,
drawn on, expired, suspended by a draw the policy of the day no longer permits), never by
writing the database. Each action is made by whoever may make it (the Secretary of
Defense answers and asks, the requester answers questions, withdraws, records the
condition and the execution), so that what refuses it is the state alone.

Each row is checked through the service (the use cases, as the acting user) and through
the API (the real app over HTTP), but for the expiry run, which the API does not offer
(the server's clock and ``clearance cases expire`` run it): it runs in a store of its own
for each row, as it expires every lapsed case at once. ``submitted`` is in no row: a
case is screened as it is submitted, and never rests there (``SCREENED``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from clearance.core.access import Level, Role
from clearance.core.actors import ADMIN
from clearance.core.signing import Signer, new_key_pair, unlock
from clearance.core.workflow import CaseState
from clearance.errors import ExecutionSuspended, IllegalTransition
from clearance.policy.pack import default_pack_path, read_bundle_texts
from clearance.service.runtime import Runtime

from .api_support import Api, TestClient, add_signer, open_api, prepared_database

pytestmark = pytest.mark.slow

PASSPHRASE = "passphrase of every user here"
FUNDING = "European partners fund the purchase"

STRIKE = {
    "action": "employ",
    "requester": "UA",
    "system": "atacms",
    "quantity": 2,
    "target": {"territory": "RU"},
    "date": "2025-06-15",
}
"""Waits in review on the Secretary of Defense (us.secdef)."""
APRIL_STRIKE = {**STRIKE, "date": "2025-04-10"}
"""Approved at once under the November 2024 authority; drawn on today, under the review
mechanism in force since May 2025, it is suspended for the Secretary."""
EARLY_STRIKE = {**STRIKE, "quantity": 1, "date": "2024-11-16"}
"""The day before the November 2024 authority: prohibited."""
SALE = {
    "action": "transfer",
    "requester": "US",
    "recipient": "UA",
    "system": "eram",
    "quantity": 4,
    "funding": "european-partners",
    "date": "2025-08-28",
}
"""Approved at once on the condition that European partners pay."""
YELLOW_SALE = {**SALE, "quantity": 3850}
"""Would leave the US stock of ERAM yellow: waits in review on the Under Secretary for
Policy (us.usdp), and once approved holds the same condition."""

USERS = {"ua.liaison": "UA", "us.liaison": "US", "secdef": "US", "usdp": "US", "potus": "US"}
SECDEF, USDP, POTUS = "secdef", "usdp", "potus"
OFFICES = {SECDEF: "us.secdef", USDP: "us.usdp", POTUS: "us.president"}
CONDITIONAL = "in_review, with a condition"
"""A row of its own: a case in review that has a condition (the yellow sale), so that the
approve column shows the approval of its last gate leaving it approved *with conditions*,
where the strike's leaves it approved."""

# The table ------------------------------------------------------------------------

APPROVE, DENY, ASK, REPLY, WITHDRAW, MEET, EXECUTE, DRAW_ONE, EXPIRE = (
    "approve",
    "deny",
    "ask a question",
    "answer the question",
    "withdraw",
    "meet the condition",
    "execute all",
    "execute one",
    "expiry run",
)
ACTIONS = (APPROVE, DENY, ASK, REPLY, WITHDRAW, MEET, EXECUTE, DRAW_ONE, EXPIRE)

NO = "illegal_transition"
"""Refused as a move the workflow does not allow: nothing changes."""
SAME = "unchanged"
"""The expiry run leaves the case as it was (it refuses nothing)."""

# fmt: off
TABLE: dict[str, tuple[str, ...]] = {
    #                          approve     deny      ask                answer       withdraw     meet       execute all  execute one        expiry run
    "in_review":                ("approved", "denied", "awaiting_answer", NO,          "withdrawn", NO,        NO,          NO,                SAME),
    CONDITIONAL:                ("approved_with_conditions",
                                             "denied", "awaiting_answer", NO,          "withdrawn", NO,        NO,          NO,                SAME),
    "awaiting_answer":          (NO,         NO,       NO,                "in_review", "withdrawn", NO,        NO,          NO,                SAME),
    "approved":                 (NO,         NO,       NO,                NO,          "withdrawn", NO,        "executed",  "partly_executed", "expired"),
    "approved_with_conditions": (NO,         NO,       NO,                NO,          "withdrawn", "cleared", NO,          NO,                "expired"),
    "cleared":                  (NO,         NO,       NO,                NO,          "withdrawn", NO,        "executed",  "partly_executed", "expired"),
    "partly_executed":          (NO,         NO,       NO,                NO,          "withdrawn", NO,        "executed",  "executed",        "expired"),
    "suspended":                ("approved", "denied", NO,                NO,          "withdrawn", NO,        NO,          NO,                SAME),
    "executed":                 (NO,         NO,       NO,                NO,          NO,          NO,        NO,          NO,                SAME),
    "denied":                   (NO,         NO,       NO,                NO,          NO,          NO,        NO,          NO,                SAME),
    "withdrawn":                (NO,         NO,       NO,                NO,          NO,          NO,        NO,          NO,                SAME),
    "expired":                  (NO,         NO,       NO,                NO,          NO,          NO,        NO,          NO,                SAME),
}
# fmt: on
"""Each state a case rests in, and what each action makes of it. The case drawn on is the
strike's two missiles (one drawn, in ``partly_executed``) or the sale's four. Approving
approves the case's last outstanding gate: the strike's (no condition) leaves it
``approved``, the yellow sale's (``CONDITIONAL``) ``approved_with_conditions``."""


def state_of(row: str) -> str:
    """The state a row's case rests in (a row may name a kind of case too)."""
    return row.split(",")[0]


ROWS = [(state, action, TABLE[state][i]) for state in TABLE for i, action in enumerate(ACTIONS)]

SCREENED = {
    "permitted": (APRIL_STRIKE, "approved"),
    "permitted on a condition": (SALE, "approved_with_conditions"),
    "needs review": (STRIKE, "in_review"),
    "prohibited": (EARLY_STRIKE, "denied"),
}
"""Submitting: where the screening of the request puts the new case."""


# The world ------------------------------------------------------------------------


def _owner(state: str) -> str:
    """Whose case a case in ``state`` is here: the sale's states are the US's, the rest
    the strike's, Ukraine's."""
    sales = ("approved_with_conditions", "cleared", CONDITIONAL)
    return "us.liaison" if state in sales else "ua.liaison"


def people(server: Runtime, public: str, now: dt.datetime) -> None:
    """The requesters of both parties, the Secretary of Defense, the Under Secretary for
    Policy and the President, in office since 25 January 2025, on ``server``."""
    for user, party in USERS.items():
        server.people.add_user(
            user_id=user, name=user, party=party, public_key=public, actor=ADMIN, now=now
        )
        server.accounts.set_access(
            user, roles=(Role.REQUESTER,), clearance=Level.TOP_SECRET, actor=ADMIN, now=now
        )
    for user, office in OFFICES.items():
        server.people.grant(
            user_id=user,
            authority=office,
            valid_from=dt.date(2025, 1, 25),
            valid_to=None,
            actor=ADMIN,
            now=now,
        )


def reach(server: Runtime, state: str, signer: Signer) -> str:
    """A new case brought to ``state`` by the workflow, now: its number. ``expired`` runs
    expiry, so that it expires nothing else, it comes first in a store."""
    cases, now = server.cases, server.now()

    def answer(ref: str, approve: bool, at: dt.datetime = now) -> None:
        cases.answer(ref, actor=SECDEF, approve=approve, reason="Decided", signer=signer, now=at)

    if state == "expired":  # approved forty days ago: its 30 days have lapsed
        then = now - dt.timedelta(days=40)
        case, _ = cases.submit(STRIKE, actor="ua.liaison", now=then)
        answer(case.id, True, then)
        assert [c.id for c in cases.expire(actor=ADMIN, now=now)] == [case.id]
        return str(case.number)
    if state == CONDITIONAL:
        case, _ = cases.submit(YELLOW_SALE, actor="us.liaison", now=now)
    elif state in ("approved_with_conditions", "cleared"):
        case, _ = cases.submit(SALE, actor="us.liaison", now=now)
        if state == "cleared":
            cases.condition_met(
                case.id, actor="us.liaison", condition=FUNDING, evidence="paid", now=now
            )
    elif state == "suspended":
        case, _ = cases.submit(APRIL_STRIKE, actor="ua.liaison", now=now)
        with pytest.raises(ExecutionSuspended):
            cases.execute(case.id, actor="ua.liaison", quantity=None, now=now)
    else:
        case, _ = cases.submit(STRIKE, actor="ua.liaison", now=now)
        if state == "awaiting_answer":
            cases.ask(case.id, actor=SECDEF, question="Which launchers?", now=now)
        elif state == "denied":
            answer(case.id, False)
        elif state == "withdrawn":
            cases.withdraw(case.id, actor="ua.liaison", reason="", now=now)
        elif state in ("approved", "partly_executed", "executed"):
            answer(case.id, True)
            if state != "approved":
                draw = 1 if state == "partly_executed" else None
                cases.execute(case.id, actor="ua.liaison", quantity=draw, now=now)
    ref = str(case.number)
    assert state_and_head(server, ref)[0] == state_of(state)
    return ref


def state_and_head(server: Runtime, ref: str) -> tuple[str, int]:
    """The case's state as the store holds it, and the ledger's length."""
    with server.store.reading() as tx:
        case = tx.cases.by_number(int(ref), lock=False)
        assert case is not None
        return case.state.value, tx.ledger.head()[0]


@dataclass
class World:
    api: Api
    server: Runtime
    signer: Signer
    public: str
    clients: dict[str, TestClient]
    shared: dict[str, str]  # a state → a case in it, that only refusals are tried on


@pytest.fixture(scope="module")
def keys() -> tuple[str, bytes, Signer]:
    public, pem = new_key_pair(PASSPHRASE)
    return public, pem, unlock(pem, PASSPHRASE)


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, keys: tuple[str, bytes, Signer]
) -> Iterator[World]:
    public, pem, signer = keys
    data_dir, url = prepared_database(tmp_path_factory.mktemp("workflow-table"))
    with open_api(data_dir, url) as api:
        server = api.server
        people(server, public, server.now() - dt.timedelta(days=50))
        for user in USERS:
            add_signer(server, user, pem)
        clients = {user: api.as_user(user) for user in USERS}
        shared = {"expired": reach(server, "expired", signer)}  # first: it runs expiry
        shared |= {state: reach(server, state, signer) for state in TABLE if state not in shared}
        yield World(api, server, signer, public, clients, shared)


# Acting ---------------------------------------------------------------------------


def actor_of(action: str, state: str) -> str:
    """Who makes ``action`` on a case in ``state``: the office it waits for (the Secretary,
    or the Under Secretary for the yellow sale) answers and asks; the requester does the
    rest."""
    if action in (APPROVE, DENY, ASK):
        return USDP if state == CONDITIONAL else SECDEF
    return _owner(state)


def by_service(server: Runtime, signer: Signer, action: str, state: str, ref: str) -> str:
    cases, now, user = server.cases, server.now(), actor_of(action, state)
    if action in (APPROVE, DENY):
        view = cases.answer(
            ref, actor=user, approve=action == APPROVE, reason="Decided", signer=signer, now=now
        )
    elif action == ASK:
        view = cases.ask(ref, actor=user, question="Which launchers?", now=now)
    elif action == REPLY:
        view = cases.reply(ref, actor=user, answer="Two HIMARS", now=now)
    elif action == WITHDRAW:
        view = cases.withdraw(ref, actor=user, reason="", now=now)
    elif action == MEET:
        view = cases.condition_met(ref, actor=user, condition=FUNDING, evidence="paid", now=now)
    else:
        quantity = 1 if action == DRAW_ONE else None
        view = cases.execute(ref, actor=user, quantity=quantity, now=now)
    return str(view.case.state.value)


ROUTES: dict[str, tuple[str, dict[str, Any]]] = {
    APPROVE: ("approve", {"reason": "Decided", "passphrase": PASSPHRASE}),
    DENY: ("deny", {"reason": "Decided", "passphrase": PASSPHRASE}),
    ASK: ("questions", {"question": "Which launchers?"}),
    REPLY: ("answer", {"answer": "Two HIMARS"}),
    WITHDRAW: ("withdraw", {"reason": ""}),
    MEET: ("conditions", {"condition": FUNDING, "evidence": "paid"}),
    EXECUTE: ("execute", {}),
    DRAW_ONE: ("execute", {"quantity": 1}),
}


def by_api(world: World, action: str, state: str, ref: str) -> Any:
    route, body = ROUTES[action]
    client = world.clients[actor_of(action, state)]
    return client.post(f"/api/v1/cases/{ref}/{route}", json=body)


# Waiving a waiting period --------------------------------------------------------

WAIVED = "waived"
"""Allowed: the waiver is on the ledger (one event), and the case keeps its state."""

# fmt: off
WAIVE_TABLE: dict[str, str] = {
    "in_review":                           WAIVED,
    "awaiting_answer":                     WAIVED,
    "approved":                            WAIVED,
    "approved_with_conditions":            WAIVED,
    "cleared":                             WAIVED,
    "partly_executed":                     NO,      # waived, then one drawn
    "executed":                            NO,      # waived, then all drawn
    "denied":                              NO,
    "withdrawn":                           NO,
    "suspended, no period":                NO,
    "expired, no period":                  NO,
    "approved, already waived":            NO,
    "approved, its period ended":          NO,
    "approved, no period":                 NO,
}
# fmt: on
"""Waiving a legislative waiting period, by the President in person, on a case in each
state: a US transfer of ATACMS worth $20M (a 30-day period notified today; 200 of them
wait in review on the Under Secretary, 2 are approved at once) or the ERAM sale worth
$825M. A period runs only from a request's date, and only the policy in force since
2025 both suspends and expires a case, which then carries no period: those two rows are
the table's strike, refused for that. The other refusals name the state, or the period."""

VALUED_ATACMS = {
    "action": "transfer",
    "requester": "US",
    "recipient": "UA",
    "system": "atacms",
    "quantity": 2,
    "value_usd": 20_000_000,
}
VALUED_SALE = {**SALE, "value_usd": 825_000_000}


def reach_with_period(server: Runtime, row: str, signer: Signer) -> str:
    """A new US transfer brought to ``row`` by the workflow, its period notified today
    (unless the row says otherwise): its number."""
    cases, now = server.cases, server.now()
    state = state_of(row)
    if state in ("suspended", "expired"):
        return reach(server, state, signer)
    today = {"date": now.date().isoformat()}
    if row == "approved, no period":
        request = {**VALUED_ATACMS, **today}
        del request["value_usd"]
    elif row == "approved, its period ended":
        now = now - dt.timedelta(days=40)
        request = {**VALUED_ATACMS, "date": now.date().isoformat()}
    elif state in ("in_review", "awaiting_answer", "denied"):
        request = {**VALUED_ATACMS, **today, "quantity": 200}
    elif state in ("approved_with_conditions", "cleared"):
        request = {**VALUED_SALE, **today}
    else:
        request = {**VALUED_ATACMS, **today}
    case, _ = cases.submit(request, actor="us.liaison", now=now)
    ref = str(case.number)
    if state == "awaiting_answer":
        cases.ask(ref, actor=USDP, question="Which units?", now=now)
    elif state == "denied":
        cases.answer(ref, actor=USDP, approve=False, reason="No", signer=signer, now=now)
    elif state == "cleared":
        cases.condition_met(ref, actor="us.liaison", condition=FUNDING, evidence="paid", now=now)
    elif state == "withdrawn":
        cases.withdraw(ref, actor="us.liaison", reason="", now=now)
    elif state in ("partly_executed", "executed") or row == "approved, already waived":
        cases.waive(ref, actor=POTUS, reason="An emergency", signer=signer, now=now)
        if state != "approved":
            draw = 1 if state == "partly_executed" else None
            cases.execute(ref, actor="us.liaison", quantity=draw, now=now)
    assert state_and_head(server, ref)[0] == state
    return ref


def waived(server: Runtime, ref: str) -> bool:
    """Whether the case's waiting period is waived, as the case's view says."""
    view = server.cases.view(ref, actor=ADMIN).as_dict(server.now())
    return bool(view["waiting_period"] and view["waiting_period"]["waived"])


# Re-screening under a new policy --------------------------------------------------

STRICTER, SAME_DECISIONS = "re-screen, decided otherwise", "re-screen, decided alike"
SUSPENDED = "suspended"

# fmt: off
RESCREEN_TABLE: dict[str, tuple[str, str]] = {
    #                            decided otherwise             decided alike
    "in_review":                ("in_review",                 "in_review"),
    CONDITIONAL:                ("in_review",                 "in_review"),
    "awaiting_answer":          ("awaiting_answer",           "awaiting_answer"),
    "approved":                 (SUSPENDED,                   "approved"),
    "approved_with_conditions": ("approved_with_conditions",  "approved_with_conditions"),
    "cleared":                  (SUSPENDED,                   "cleared"),
    "partly_executed":          (SUSPENDED,                   "partly_executed"),
    "suspended":                ("suspended",                 "suspended"),
    "executed":                 ("executed",                  "executed"),
    "denied":                   ("denied",                    "denied"),
    "withdrawn":                ("withdrawn",                 "withdrawn"),
    "expired":                  ("expired",                   "expired"),
}
# fmt: on
"""Re-screening once a new US bundle takes effect today: one that gates every use and
transfer on the Under Secretary for Policy (decided otherwise: an approved case not fully
executed no longer holds the approvals it needs, and is suspended; an open one keeps its
state, a changed finding going on its timeline), or one that decides as the policy in
force does (decided alike: nothing moves). It refuses nothing."""

EVERYTHING_REVIEWED = """
@id("us-everything-reviewed")
@description("Every use and transfer of a US-controlled system needs the Under Secretary's approval.")
@gate("us.usdp")
@delegable("true")
forbid (principal, action, resource)
unless { context.approvals.contains(Authority::"us.usdp") };
"""


def new_bundle(column: str, today: dt.date) -> dict[str, str]:
    """The US bundle in force, taking effect again today; stricter for ``STRICTER``."""
    texts = read_bundle_texts(default_pack_path() / "bundles/US/2025-08-28")
    meta = texts["bundle.yaml"].replace(
        "effective_from: 2025-08-28", f"effective_from: {today.isoformat()}"
    )
    texts["bundle.yaml"] = meta
    if column == STRICTER:
        texts["policies.cedar"] += EVERYTHING_REVIEWED
    return texts


def give_back(server: Runtime, state: str, action: str, ref: str) -> None:
    """Withdraw an approved yellow sale, so that the stock it committed is there again for
    the next (or the next would leave the stock red, and wait on another office)."""
    if state == CONDITIONAL and action == APPROVE:
        server.cases.withdraw(ref, actor="us.liaison", reason="", now=server.now())


# The tests ------------------------------------------------------------------------


def test_the_table_holds_every_state_a_case_rests_in_and_every_action() -> None:
    assert {state_of(row) for row in TABLE} == {s.value for s in CaseState} - {"submitted"}
    assert all(len(outcomes) == len(ACTIONS) for outcomes in TABLE.values())
    assert {s for _, s in SCREENED.values()} == {
        "approved",
        "approved_with_conditions",
        "in_review",
        "denied",
    }


@pytest.mark.parametrize(
    ("state", "action", "outcome"),
    [row for row in ROWS if row[1] != EXPIRE],
    ids=[f"{s} | {a} | {o}" for s, a, o in ROWS if a != EXPIRE],
)
def test_an_action_moves_a_case_as_the_table_says(
    world: World, state: str, action: str, outcome: str
) -> None:
    server = world.server
    if outcome != NO:
        fresh = reach(server, state, world.signer)
        assert by_service(server, world.signer, action, state, fresh) == outcome
        assert state_and_head(server, fresh)[0] == outcome
        give_back(server, state, action, fresh)
        fresh = reach(server, state, world.signer)
        response = by_api(world, action, state, fresh)
        assert response.status_code == 200, response.text
        assert response.json()["state"] == outcome
        assert state_and_head(server, fresh)[0] == outcome
        give_back(server, state, action, fresh)
        return
    ref = world.shared[state]
    before = state_and_head(server, ref)
    with pytest.raises(IllegalTransition) as refused:
        by_service(server, world.signer, action, state, ref)
    assert type(refused.value) is IllegalTransition
    assert state_and_head(server, ref) == before
    response = by_api(world, action, state, ref)
    assert (response.status_code, response.json()["code"]) == (409, NO), response.text
    assert state_and_head(server, ref) == before


@pytest.mark.parametrize(
    ("row", "outcome"),
    WAIVE_TABLE.items(),
    ids=[f"{r} | waive | {o}" for r, o in WAIVE_TABLE.items()],
)
def test_a_waiting_period_is_waived_as_the_table_says(world: World, row: str, outcome: str) -> None:
    server, state = world.server, state_of(row)
    refs = [reach_with_period(server, row, world.signer) for _ in ("service", "api")]
    for how, ref in zip(("service", "api"), refs, strict=True):
        before, was = state_and_head(server, ref), waived(server, ref)
        assert was == (row in ("approved, already waived", "partly_executed", "executed"))
        if how == "service":

            def waive(ref: str = ref) -> str:
                view = server.cases.waive(
                    ref, actor=POTUS, reason="An emergency", signer=world.signer, now=server.now()
                )
                return str(view.case.state.value)

            if outcome == NO:
                with pytest.raises(IllegalTransition) as refused:
                    waive()
                assert type(refused.value) is IllegalTransition
            else:
                assert waive() == state
        else:
            response = world.clients[POTUS].post(
                f"/api/v1/cases/{ref}/waiver",
                json={"reason": "An emergency", "passphrase": PASSPHRASE},
            )
            if outcome == NO:
                assert (response.status_code, response.json()["code"]) == (409, NO), response.text
            else:
                assert response.status_code == 200, response.text
                assert response.json()["state"] == state
                assert response.json()["waiting_period"]["waived"] is True
        if outcome == NO:
            assert state_and_head(server, ref) == before, how
            assert waived(server, ref) == was, how
        else:
            assert state_and_head(server, ref) == (state, before[1] + 1), how
            assert waived(server, ref), how


@pytest.mark.parametrize("how", ["service", "api"])
@pytest.mark.parametrize("column", [STRICTER, SAME_DECISIONS])
def test_a_rescreening_suspends_only_approved_cases_the_new_policy_would_not_permit(
    tmp_path: Path, keys: tuple[str, bytes, Signer], column: str, how: str
) -> None:
    """One store holds a case in every row's state (a case is judged again on its own), and
    one re-screening runs over them: the service's after the proposal is activated, or the
    API's activation of the proposal, which re-screens (the API has no route of its own for
    it; ``clearance cases rescreen`` and the server's clock run it otherwise)."""
    public, pem, signer = keys
    with open_api(*prepared_database(tmp_path)) as api:
        server = api.server
        people(server, public, server.now() - dt.timedelta(days=50))
        refs = {"expired": reach(server, "expired", signer)}  # first: it runs expiry
        refs |= {row: reach(server, row, signer) for row in RESCREEN_TABLE if row not in refs}
        files = new_bundle(column, server.now().date())
        if how == "service":
            now = server.now()
            proposal = server.proposals.propose(files, actor="us.liaison", now=now)
            number = proposal.record.number
            server.proposals.activate(number, actor=SECDEF, signer=signer, now=now)
            server.policy_changed()
            server.cases.rescreen(actor=SECDEF, now=server.now())
        else:
            for user in (SECDEF, "us.liaison"):
                add_signer(server, user, pem)
            made = api.as_user("us.liaison").post("/api/v1/proposals", json={"files": files})
            assert made.status_code == 201, made.text
            number = made.json()["number"]
            done = api.as_user(SECDEF).post(
                f"/api/v1/proposals/{number}/activate", json={"passphrase": PASSPHRASE}
            )
            assert done.status_code == 200, done.text
            assert done.json().get("rescreen_error") is None, done.text
        found = {row: state_and_head(server, ref)[0] for row, ref in refs.items()}
        i = (STRICTER, SAME_DECISIONS).index(column)
        assert found == {row: cells[i] for row, cells in RESCREEN_TABLE.items()}


@pytest.mark.parametrize(
    ("state", "outcome"),
    [(s, o) for s, a, o in ROWS if a == EXPIRE],
    ids=[f"{s} | {a} | {o}" for s, a, o in ROWS if a == EXPIRE],
)
def test_an_expiry_run_expires_only_lapsed_approvals(
    tmp_path: Path, keys: tuple[str, bytes, Signer], state: str, outcome: str
) -> None:
    """Run 800 days on, past every lifetime (30 days for a strike, 730 for a sale)."""
    public, _, signer = keys
    with open_api(*prepared_database(tmp_path)) as api:
        server = api.server
        people(server, public, server.now() - dt.timedelta(days=50))
        ref = reach(server, state, signer)
        before = state_and_head(server, ref)
        later = server.now() + dt.timedelta(days=800)
        expired = server.cases.expire(actor=ADMIN, now=later)
        if outcome == SAME:
            assert expired == []
            assert state_and_head(server, ref) == before
        else:
            assert [str(c.number) for c in expired] == [ref]
            assert state_and_head(server, ref)[0] == outcome


@pytest.mark.parametrize(("screened", "outcome"), SCREENED.items(), ids=list(SCREENED))
def test_a_submitted_case_is_screened_at_once_and_never_rests_as_submitted(
    world: World, screened: str, outcome: tuple[dict[str, Any], str]
) -> None:
    request, state = outcome
    user = "us.liaison" if request["requester"] == "US" else "ua.liaison"
    case, _ = world.server.cases.submit(request, actor=user, now=world.server.now())
    assert case.state.value == state
    response = world.clients[user].post("/api/v1/cases", json=request)
    assert response.status_code == 201, response.text
    assert response.json()["state"] == state
