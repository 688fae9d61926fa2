"""What a reader may do to a case next (``service.case_moves``): offered exactly when the
change itself would be accepted, rehearsed without writing anything."""

from __future__ import annotations

import datetime as dt

import pytest

from clearance.core.actors import ADMIN
from clearance.errors import (
    ClearanceError,
    IllegalTransition,
    InputError,
    NotFoundError,
    PermissionDenied,
)
from clearance.service.access import Action
from clearance.service.cases import Gate, Moves
from tests.worlds import G2, G5, T0, World

FUNDING = "European partners fund the purchase"


def _make(world: World, case: str, actor: str, action: Action, fields: dict[str, object]) -> None:
    """The change itself, as ``rehearse`` would be asked about it."""
    if action == Action.CASE_WITHDRAW:
        world.cases.withdraw(case, actor=actor, reason="", now=T0)
    elif action == Action.CASE_MEET_CONDITION:
        world.cases.condition_met(
            case,
            actor=actor,
            condition=str(fields.get("condition", "")),
            evidence=str(fields.get("evidence", "")),
            now=T0,
        )
    else:
        world.cases.execute(case, actor=actor, quantity=1, now=T0)


def _head(world: World) -> int:
    """The sequence number of the ledger's newest event."""
    with world.store.reading() as tx:
        return tx.ledger.page(max_level=None, limit=1)[0].seq


def test_each_reader_is_offered_what_the_case_allows_them(world: World) -> None:
    cases = world.cases
    atacms, _ = cases.submit(G2, actor="ua.liaison", now=T0)
    eram, _ = cases.submit(G5, actor="us.liaison", now=T0)
    day = T0 + dt.timedelta(days=1)

    # In review: the requester may withdraw, the Secretary may answer or ask the requester
    # a question, nobody else anything.
    assert cases.moves(atacms.id, actor="ua.liaison", now=day) == Moves(withdraw=True)
    assert cases.moves(str(atacms.number), actor="hegseth", now=day) == Moves(
        answer=(Gate("us.secdef", False, None),), ask=True
    )
    assert cases.moves(atacms.id, actor="usdp", now=day) == Moves()
    assert cases.moves(atacms.id, actor=ADMIN, now=day) == Moves()
    with pytest.raises(NotFoundError):  # his term ended when the next Secretary's began
        cases.moves(atacms.id, actor="austin", now=day)

    # Asked a question: the requester may answer (or withdraw); nobody may decide or ask.
    cases.ask(atacms.id, actor="hegseth", question="Which unit?", now=day)
    assert cases.moves(atacms.id, actor="ua.liaison", now=day) == Moves(withdraw=True, reply=True)
    assert cases.moves(atacms.id, actor="hegseth", now=day) == Moves()

    # Approved with a condition: its requester may record it or withdraw, not yet execute.
    assert cases.moves(eram.id, actor="us.liaison", now=day) == Moves(
        withdraw=True, conditions=(FUNDING,)
    )
    # A US office holder sees every case, and acts for a consent holder: the service lets
    # them record the condition too, though it is not their case to withdraw or execute.
    assert cases.moves(eram.id, actor="usdp", now=day) == Moves(conditions=(FUNDING,))
    with pytest.raises(NotFoundError):  # another requester's case: not theirs to see
        cases.moves(eram.id, actor="ua.liaison", now=day)

    cases.condition_met(eram.id, actor="us.liaison", condition=FUNDING, evidence="paid", now=day)
    assert cases.moves(eram.id, actor="us.liaison", now=day) == Moves(
        withdraw=True, execute_up_to=3350
    )
    cases.execute(eram.id, actor="us.liaison", quantity=3000, now=day)
    # A part drawn: the rest may still be drawn, or the case withdrawn.
    assert cases.moves(eram.id, actor="us.liaison", now=day) == Moves(
        withdraw=True, execute_up_to=350
    )
    cases.execute(eram.id, actor="us.liaison", quantity=None, now=day)
    assert cases.moves(eram.id, actor="us.liaison", now=day) == Moves()


def test_a_delegate_is_offered_no_gate_the_office_must_decide_personally(world: World) -> None:
    world.people.delegate(
        holder_id="hegseth",
        delegate_id="usdp",
        authority="us.secdef",
        valid_from=dt.date(2025, 1, 25),
        valid_to=dt.date(2199, 12, 31),
        now=T0,
    )
    atacms, _ = world.cases.submit(G2, actor="ua.liaison", now=T0)
    assert world.cases.moves(atacms.id, actor="usdp", now=T0).answer == ()


@pytest.mark.parametrize(
    ("actor", "action", "fields", "refused"),
    [
        ("usdp", Action.CASE_WITHDRAW, {}, PermissionDenied),
        (
            "ua.liaison",
            Action.CASE_MEET_CONDITION,
            {"condition": FUNDING, "evidence": "y"},
            NotFoundError,
        ),
        ("us.liaison", Action.CASE_MEET_CONDITION, {"condition": FUNDING}, InputError),
        (
            "us.liaison",
            Action.CASE_MEET_CONDITION,
            {"condition": "x", "evidence": "y"},
            NotFoundError,
        ),
        ("us.liaison", Action.CASE_EXECUTE, {"quantity": 1}, IllegalTransition),
    ],
)
def test_a_rehearsal_refuses_as_the_change_would_and_writes_nothing(
    world: World,
    actor: str,
    action: Action,
    fields: dict[str, object],
    refused: type[ClearanceError],
) -> None:
    eram, _ = world.cases.submit(G5, actor="us.liaison", now=T0)
    before = _head(world)
    with pytest.raises(ClearanceError) as rehearsed:
        world.cases.rehearse(eram.id, action, actor=actor, now=T0, **fields)
    assert type(rehearsed.value) is refused
    # The change itself refuses in the same words.
    with pytest.raises(ClearanceError) as made:
        _make(world, eram.id, actor, action, fields)
    assert type(made.value) is refused
    assert made.value.message == rehearsed.value.message
    assert _head(world) == before


def test_a_rehearsal_that_would_be_accepted_writes_nothing(world: World) -> None:
    eram, _ = world.cases.submit(G5, actor="us.liaison", now=T0)
    before = _head(world)
    world.cases.rehearse(eram.id, Action.CASE_WITHDRAW, actor="us.liaison", now=T0)
    world.cases.rehearse(
        eram.id,
        Action.CASE_MEET_CONDITION,
        actor="us.liaison",
        now=T0,
        condition=FUNDING,
        evidence="Funding agreement signed",
    )
    assert _head(world) == before
    assert world.cases.view(eram.id, actor=ADMIN).case.state == "approved_with_conditions"
    world.cases.condition_met(
        eram.id, actor="us.liaison", condition=FUNDING, evidence="signed", now=T0
    )
    with pytest.raises(InputError, match=r"^quantity: must be between 1 and the approved 3350$"):
        world.cases.rehearse(
            eram.id, Action.CASE_EXECUTE, actor="us.liaison", now=T0, quantity=3351
        )
    world.cases.rehearse(eram.id, Action.CASE_EXECUTE, actor="us.liaison", now=T0, quantity=20)
    assert world.cases.view(eram.id, actor=ADMIN).case.state == "cleared"
