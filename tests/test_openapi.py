"""The OpenAPI document describes every body the API answers with, and the answers fit it.

Every response any API test receives is checked against the document by the test client
(api_support.py: ``Documented``, on every client ``Api`` makes): its status must be one the
operation declares, its body must fit that status's schema. These tests check that the
document says enough for that check to mean something (a model for every success body, the
error body for every error), that the hook is on, and that stored data the models take
loosely (a decision recorded by an older version) is shown as it was stored.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from schemathesis.openapi.checks import JsonSchemaError
from sqlalchemy import text

from clearance.web.api.models import Body, Recorded
from clearance.web.api.models.decisions import Decision, StockFacts, WaitingPeriod

from .api_support import ATACMS_JUNE, Api, Documented, open_api
from .test_api import (  # noqa: F401 (the demo world's fixtures)
    ERAM,
    postgresql_template,
    seeded,
    sqlite_template,
)

API = "/api/v1"


@pytest.fixture
def world(seeded: str, tmp_path: Path) -> Iterator[Api]:  # noqa: F811
    with open_api(tmp_path / "data", seeded) as api:
        yield api


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, operations in document["paths"].items():
        if path.startswith(API):
            for method, operation in operations.items():
                yield f"{method.upper()} {path}", operation


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _described(document: dict[str, Any], schema: dict[str, Any]) -> bool:
    """Whether a schema says what the body holds: named properties, items that have them, or
    (a body that is not JSON) a type; not ``{}``, nor an object of anything."""
    schema = _resolve(document, schema)
    if schema.get("type") == "array":
        return _described(document, schema.get("items", {}))
    if schema.get("type") == "object" or "properties" in schema:
        return bool(schema.get("properties"))
    return "type" in schema


def test_every_api_route_describes_its_success_body(world: Api) -> None:
    document = world.app.openapi()
    operations = dict(_operations(document))
    assert len(operations) >= 35, sorted(operations)
    undescribed = []
    for name, operation in operations.items():
        succeeding = {s: r for s, r in operation["responses"].items() if s.startswith("2")}
        assert succeeding, name
        for status, response in succeeding.items():
            if status == "204":
                assert "content" not in response, name
                continue
            content = response.get("content", {})
            if not content or not all(
                _described(document, media.get("schema", {})) for media in content.values()
            ):
                undescribed.append(f"{name} {status}")
    assert not undescribed, undescribed


def test_every_api_route_documents_the_error_body(world: Api) -> None:
    document = world.app.openapi()
    for name, operation in _operations(document):
        errors = {s: r for s, r in operation["responses"].items() if s[0] in "45"}
        assert {"401", "404", "422", "503"} <= set(errors), name
        for status, response in errors.items():
            schema = response["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (name, status)


def test_bodies_built_afresh_allow_no_key_the_document_does_not_name(world: Api) -> None:
    """So that a key the service adds without a model fails the tests, not passes unseen."""
    schemas = world.app.openapi()["components"]["schemas"]
    models: list[type[Any]] = [Body, Recorded]
    while models:
        model = models.pop()
        models.extend(model.__subclasses__())
        if model.__name__ in schemas:
            closed = issubclass(model, Body)
            assert schemas[model.__name__].get("additionalProperties") is (not closed), model


def test_every_response_is_checked_against_the_document(world: Api) -> None:
    """The mechanism the API tests rely on: every client validates every response."""
    client = world.client()
    hooks = client.event_hooks["response"]
    assert any(isinstance(hook, Documented) for hook in hooks)
    checker = next(hook for hook in hooks if isinstance(hook, Documented))
    # It refuses a body that does not fit: a case without its number, say.
    response = world.as_user("us.reviewer").get(f"{API}/cases/1")
    assert response.status_code == 200
    tampered = dict(response.json())
    del tampered["number"]
    response._content = json.dumps(tampered).encode()
    with pytest.raises(JsonSchemaError, match='"number" is a required property'):
        checker(response)


def test_real_bodies_fit_their_models_key_for_key(world: Api) -> None:
    """A few real answers, read by their models: a fresh decision has exactly the keys its
    model names, in its order; a recorded one is shown as recorded (canonical: sorted)."""
    reviewer, liaison = world.as_user("us.reviewer"), world.as_user("ua.liaison")
    screened = reviewer.post(f"{API}/screen", json={**ERAM, "value_usd": 825_000_000})
    assert screened.status_code == 200, screened.text
    decision = screened.json()
    Decision.model_validate(decision)
    assert list(decision) == list(Decision.model_fields)
    assert list(decision["waiting_period"]) == list(WaitingPeriod.model_fields)
    optional = {"nonce", "figures_withheld"}
    assert list(decision["stockpile"]) == [k for k in StockFacts.model_fields if k not in optional]

    withheld = liaison.post(f"{API}/screen", json=ERAM).json()["stockpile"]
    assert withheld["figures_withheld"] is True
    assert "on_hand" not in withheld

    case = reviewer.get(f"{API}/cases/4").json()
    recorded = case["decision"]
    assert list(recorded) == sorted(recorded)
    assert "nonce" in recorded["stockpile"]
    for path in ("/ledger", "/stockpile", "/bundles/US", "/catalog/systems"):
        assert world.as_user("auditor").get(API + path).status_code == 200, path
    explained = liaison.post(f"{API}/explain", json=ATACMS_JUNE)
    assert explained.status_code == 200, explained.text


def test_a_case_recorded_by_an_older_version_shows_as_recorded(world: Api) -> None:
    """A decision from before stock figures were recorded, with a key since retired: shown
    with neither a ``stockpile`` key added nor the old key lost, and no error."""
    case_id = world.case_id(4)
    reviewer = world.as_user("us.reviewer")
    before = reviewer.get(f"{API}/cases/{case_id}").json()["decision"]
    older = {k: v for k, v in before.items() if k != "stockpile"} | {"engine": "v0"}
    with world.server.database.engine.begin() as connection:
        connection.execute(
            text("UPDATE cases SET decision = :decision WHERE id = :id"),
            {"decision": json.dumps(older, sort_keys=True), "id": case_id},
        )
    response = reviewer.get(f"{API}/cases/{case_id}")
    assert response.status_code == 200, response.text
    shown = response.json()["decision"]
    assert shown == older
    assert list(shown) == sorted(older)
