"""Screening through the API: one request, a batch, and a decision explained."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Response
from starlette.concurrency import run_in_threadpool

from clearance.core.request import parse_request
from clearance.errors import RequestError
from clearance.policy.explain import explain
from clearance.service.accounts import SignedIn
from clearance.service.runtime import Runtime
from clearance.service.stock_seen import decision_seen, explanation_seen

from ..auth import Srv, Viewer
from ..errors import ERROR_RESPONSES
from .models.decisions import Decision
from .models.screening import ExplanationBody
from .params import PREFIX, JsonObject

__all__ = ["router"]

router = APIRouter(prefix=PREFIX, responses=ERROR_RESPONSES, tags=["screening"])

MAX_BATCH = 10_000
"""The most requests one batch may hold (the body limit applies to it as well)."""
BATCH_SLICE = 250
"""Requests decided per call into Cedar while a batch is screened."""


def _encoded(data: object) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _json(data: object) -> Response:
    return Response(_encoded(data), media_type="application/json")


@router.post("/screen", response_model=Decision)
async def screen(body: JsonObject, viewer: Viewer, srv: Srv) -> Response:
    """Decide one request: consent holders, outcome, required approvals, conditions."""
    # On a worker thread: looking up the policy in force may read the database (at most
    # once a second), which must not hold up the event loop. The decision, already plain
    # JSON data, is encoded once without revalidation.
    return await run_in_threadpool(_decide, srv, viewer, body)


def _decide(srv: Runtime, viewer: SignedIn, body: dict[str, Any]) -> Response:
    decision = srv.screener.decide(
        parse_request(body), decision_id=str(uuid.uuid4()), now=srv.now()
    )
    return _json(decision_seen(decision.as_dict(), viewer.user))


@router.post("/screen/batch", response_model=list[Decision])
async def screen_batch(
    body: Annotated[list[dict[str, Any]], Body(max_length=MAX_BATCH)], viewer: Viewer, srv: Srv
) -> Response:
    """Decide up to 10,000 requests at once; a bad one fails the batch, naming its index."""
    # Seconds of CPU for a large batch: in a worker thread, so that the event loop goes on
    # answering everyone else (health checks included) while it is decided.
    return await run_in_threadpool(_decide_batch, srv, viewer, body)


def _decide_batch(srv: Runtime, viewer: SignedIn, body: list[dict[str, Any]]) -> Response:
    parsed = []
    for index, item in enumerate(body):
        try:
            parsed.append(parse_request(item))
        except RequestError as exc:
            raise RequestError(f"[{index}].{exc.field}", exc.problem) from None
    now, encoded = srv.now(), []
    # In slices, each decided and encoded on its own: a call into Cedar, or to encode JSON,
    # holds the interpreter until it returns, and a slice's are short enough for the event
    # loop's thread to run between them (one call for 10,000 held it for a second).
    for start in range(0, len(parsed), BATCH_SLICE):
        part = parsed[start : start + BATCH_SLICE]
        ids = [str(uuid.uuid4()) for _ in part]
        decisions = srv.screener.decide_many(part, decision_ids=ids, now=now)
        encoded.append(_encoded([decision_seen(d.as_dict(), viewer.user) for d in decisions])[1:-1])
    return Response(b"[" + b",".join(encoded) + b"]", media_type="application/json")


@router.post("/explain", response_model=ExplanationBody, response_model_exclude_unset=True)
async def explain_request(body: JsonObject, viewer: Viewer, srv: Srv) -> dict[str, Any]:
    """A decision with the policy text that decided it and what would change it."""
    # On a worker thread, as /screen is: the policy in force may be read from the database.
    return await run_in_threadpool(_explain, srv, viewer, body)


def _explain(srv: Runtime, viewer: SignedIn, body: dict[str, Any]) -> dict[str, Any]:
    request = parse_request(body)
    decision = srv.screener.decide(request, decision_id=str(uuid.uuid4()), now=srv.now())
    return explanation_seen(explain(srv.screener, request, decision), viewer.user)
