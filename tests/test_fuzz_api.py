"""Generated requests to every route, API and pages: never a 5xx, and a refusal writes nothing.

schemathesis (test_api.py) fuzzes the API by its OpenAPI document. This goes
where a schema does not: request bodies that are valid JSON objects but
carry far dates, 20-digit and 4,400-digit numbers, ``NaN`` or nesting
100,000 deep; bodies that are not UTF-8, or larger than the server reads;
form fields for the pages (which are not in the document); path parameters
and query strings made of huge numbers, dates outside the range and odd text;
and requests with and without a credential. Against the real application
over a copy of the demo world, on SQLite and PostgreSQL, every answer must be
below 500, an API error must have the one shape ``{code, message, field?}``
(and every API answer is also checked against the OpenAPI document, as in
test_api.py), and a request answered with an error must leave every row of
every table as it was.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clearance.store.models import Base
from clearance.web.errors import ErrorBody

from .api_support import ATACMS_JUNE, Api, open_api
from .test_api import (  # noqa: F401 (the seeded demo world's fixtures)
    ERAM,
    assert_error,
    postgresql_template,
    seeded,
    sqlite_template,
)
from .test_proposals import candidate

EXAMPLES = int(os.environ.get("API_INPUT_EXAMPLES", "200"))
"""Generated requests per kind of database."""

COUNTED_ON_REFUSAL = {"sign_in_failures"}
"""Written on purpose by a refused request: a failed sign-in is counted, to throttle guessing."""


@pytest.fixture
def api(seeded: str, tmp_path: Path) -> Iterator[Api]:  # noqa: F811 (test_api's fixture)
    with open_api(tmp_path / "data", seeded) as api:
        yield api


def _routes(routes: list[Any]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):  # an included router
            yield from _routes(route.original_router.routes)


# values ------------------------------------------------------------------------------

HUGE = "9" * 4_400
DEEP = "[" * 100_000 + "]" * 100_000
FAR_DATES = st.sampled_from(
    [
        *("9999-12-31", "9999-12-01", "0001-01-01", "1899-12-31", "2200-01-01", "2025-02-30"),
        *("2025-W24-1", "20250615", "2025-06-15T10:00:00", ""),
    ]
)
DATES = st.one_of(FAR_DATES, st.dates().map(lambda d: d.isoformat()))
NUMBERS = st.one_of(
    st.integers(-5, 20),
    st.integers(-(2**70), 2**70),
    st.sampled_from([2**53 - 1, 2**53, 2**63 - 1, 2**63, -(2**63) - 1]),
)
TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", "\x00", "a\nb", "../..", "%00", "x" * 5_000, "[bold]", "²"]),
)
SCALARS = st.one_of(
    st.none(), st.booleans(), NUMBERS, st.floats(allow_nan=False, allow_infinity=False), TEXT, DATES
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
PATH_VALUES: dict[str, st.SearchStrategy[str]] = {
    "case_id": st.one_of(
        st.sampled_from(["1", "2", "3", "4", "99", "0", "9" * 18, "9" * 25]),
        st.uuids().map(str),
        TEXT,
    ),
    "ref": st.one_of(st.sampled_from(["1", "2", "9" * 25]), st.uuids().map(str), TEXT),
    "number": st.one_of(NUMBERS.map(str), TEXT),
    "holder": st.one_of(st.sampled_from(["US", "UA", "GB", "XX"]), TEXT),
    "system": st.one_of(st.sampled_from(["atacms", "eram", "storm-shadow", "nosuch"]), TEXT),
    "token_id": TEXT,
    "subscription_id": st.one_of(st.uuids().map(str), TEXT),
    "delivery_id": st.one_of(st.uuids().map(str), TEXT),
}
QUERY_VALUES = st.one_of(DATES, NUMBERS.map(str), TEXT, st.sampled_from(["true", "in_review"]))


@st.composite
def request_like(draw: st.DrawFn) -> dict[str, Any]:
    """A request of the seed story with some of its fields replaced, removed or added."""
    data: dict[str, Any] = dict(draw(st.sampled_from([ATACMS_JUNE, ERAM])))
    for key in draw(st.lists(st.sampled_from([*data, "note", "target"]), max_size=3)):
        choice = draw(st.integers(0, 3))
        if choice == 0:
            data.pop(key, None)
        elif key in ("date",) or choice == 1:
            data[key] = draw(DATES)
        else:
            data[key] = draw(JSON)
    return data


@st.composite
def raw_bodies(draw: st.DrawFn) -> bytes:
    """Bodies no JSON encoder would write: numbers too long, nesting too deep, not UTF-8."""
    request = json.dumps(draw(request_like()))
    return draw(
        st.sampled_from(
            [
                request.replace('"quantity": ', f'"quantity": {HUGE}', 1).encode(),
                request.replace('"quantity": ', '"quantity": NaN, "x": ', 1).encode(),
                DEEP.encode(),
                ('{"target": ' * 50_000 + "1" + "}" * 50_000).encode(),
                b'{"action": "employ", "system": "\xff\xfe"}',
                b"",
                b"{",
                b" " * 1_000_001,  # one byte over the body limit
            ]
        )
    )


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    params: dict[str, str]
    user: str | None
    json_body: Any = None
    content: bytes | None = None
    form: dict[str, str] | None = None
    files: dict[str, str] | None = None


@st.composite
def calls(draw: st.DrawFn, routes: list[APIRoute]) -> Call:
    route = draw(st.sampled_from(routes))
    method = draw(st.sampled_from(sorted(route.methods)))
    path = route.path
    for name in route.param_convertors:
        value = draw(PATH_VALUES[name])
        path = path.replace("{" + name + "}", quote(value, safe="") or "%20")
    names = [p.alias for p in route.dependant.query_params]
    params = draw(
        st.dictionaries(st.one_of(st.sampled_from(names or ["x"]), TEXT), QUERY_VALUES, max_size=3)
    )
    user = draw(st.sampled_from([None, "admin.user", "ua.liaison", "us.liaison", "secdef"]))
    call = Call(method, path, params, user)
    if method not in ("POST", "PUT", "PATCH"):
        return call
    fields = [p.alias for p in route.dependant.body_params] + [
        "action",
        "requester",
        "system",
        "quantity",
        "date",
        "territory",
        "passphrase",
        "csrf_token",
    ]
    kind = draw(st.sampled_from(["request", "json", "raw", "form", "files"]))
    if kind == "request":
        body: Any = draw(request_like())
        body = draw(st.sampled_from([body, [body] * draw(st.integers(0, 3)), {"files": body}]))
        return Call(method, path, params, user, json_body=body)
    if kind == "json":
        return Call(method, path, params, user, json_body=draw(JSON))
    if kind == "raw":
        return Call(method, path, params, user, content=draw(raw_bodies()))
    form = draw(st.dictionaries(st.sampled_from(fields), st.one_of(TEXT, DATES), max_size=6))
    # Files go to the pages' upload form: the API takes JSON (and the OpenAPI check that
    # every API answer gets cannot read a multipart request back).
    if kind == "form" or path.startswith("/api/"):
        return Call(method, path, params, user, form=form)
    files = {**candidate("2099-01-01"), **draw(st.dictionaries(TEXT, TEXT, max_size=2))}
    return Call(method, path, params, user, form=form, files=files)


# the check ---------------------------------------------------------------------------


def _rows(api: Api) -> dict[str, list[Any]]:
    """Every row of every table, but the ones a refusal may add to (COUNTED_ON_REFUSAL)."""
    with api.server.database.engine.connect() as connection:
        return {
            table.name: sorted(map(repr, connection.execute(sa.select(table))))
            for table in Base.metadata.sorted_tables
            if table.name not in COUNTED_ON_REFUSAL
        }


@pytest.mark.slow
def test_generated_requests_to_every_route_never_fail_the_server(api: Api) -> None:
    routes = list(_routes(api.app.routes))
    clients = {None: api.client()} | {
        user: api.as_user(user) for user in ("admin.user", "ua.liaison", "us.liaison", "secdef")
    }

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(call=calls(routes))
    def run(call: Call) -> None:
        before = _rows(api)
        answer = clients[call.user].request(
            call.method,
            call.path,
            params=call.params,
            json=call.json_body,
            content=call.content,
            data=call.form,
            files={k: (k, v.encode()) for k, v in call.files.items()} if call.files else None,
            headers={"Content-Type": "application/json"} if call.content is not None else None,
            follow_redirects=False,
        )
        assert answer.status_code < 500, (call, answer.status_code, answer.text[:1000])
        if answer.status_code < 400:
            return
        if call.path.startswith("/api/"):
            body = answer.json()
            ErrorBody.model_validate(body)
            assert set(body) <= {"code", "message", "field"}, body
        assert _rows(api) == before, (call, answer.status_code, answer.text[:500])

    run()


def test_a_sign_in_form_whose_token_is_not_ascii_is_refused(api: Api) -> None:
    """Found by the test above: comparing the form's token with the cookie's raised (500)."""
    browser = api.client()
    assert browser.get("/sign-in").status_code == 200
    form = {"user": "us.liaison", "password": "x", "csrf_token": "jeton-été"}
    answer = browser.post("/sign-in", data=form, follow_redirects=False)
    assert answer.status_code == 403


WORST: list[tuple[str, str, dict[str, Any], str, str]] = [
    # (method, path, how to send, field, words of the message)
    ("POST", "/api/v1/screen", {"content": DEEP.encode()}, "body", "nested too deep"),
    ("POST", "/api/v1/explain", {"content": DEEP.encode()}, "body", "nested too deep"),
    ("POST", "/api/v1/cases", {"content": DEEP.encode()}, "body", "nested too deep"),
    (
        "POST",
        "/api/v1/screen/batch",
        {"content": ("[" + json.dumps(ATACMS_JUNE) + "," + DEEP + "]").encode()},
        "body",
        "nested too deep",
    ),
    (
        "POST",
        "/api/v1/cases",
        {"content": json.dumps(ATACMS_JUNE).replace(": 2,", f": {HUGE},").encode()},
        "body",
        "more than 4,300 digits",
    ),
    ("POST", "/api/v1/screen", {"content": b'{"system": "\xff"}'}, "body", "not UTF-8"),
    ("POST", "/api/v1/screen", {"content": b'{"system": '}, "body", "not JSON"),
    (
        "POST",
        "/api/v1/cases",
        {"json": {**ATACMS_JUNE, "date": "9999-12-01"}},
        "date",
        "9999-12-01 is outside the dates clearance takes",
    ),
    (
        "POST",
        "/api/v1/explain",
        {"json": {**ERAM, "quantity": 2**63}},
        "quantity",
        "less than or equal to 9007199254740991",
    ),
    (
        "GET",
        "/api/v1/stockpile/US/eram?as_of=9999-12-31",
        {},
        "as_of",
        "9999-12-31 is outside the dates clearance takes",
    ),
    ("GET", "/api/v1/cases?page=99999999999999999999", {}, "page", "less than or equal to"),
]


@pytest.mark.parametrize(
    ("method", "path", "send", "field", "words"), WORST, ids=[f"{w[0]} {w[1][:40]}" for w in WORST]
)
def test_the_worst_requests_are_refused_naming_the_field_and_write_nothing(
    api: Api, method: str, path: str, send: dict[str, Any], field: str, words: str
) -> None:
    liaison = api.as_user("ua.liaison")
    before = _rows(api)
    headers = {"Content-Type": "application/json"} if "content" in send else None
    answer = liaison.request(method, path, headers=headers, **send)
    assert answer.status_code == 422, answer.text[:500]
    body = answer.json()
    assert (body["code"], body["field"]) == ("invalid_request", field), body
    assert words in body["message"], body
    assert _rows(api) == before


def test_a_csrf_token_that_is_not_ascii_is_refused(api: Api) -> None:
    client, _ = api.signed_in("ua.liaison")
    answer = client.post(
        "/api/v1/tokens", json={"name": "x"}, headers={"X-CSRF-Token": "été".encode()}
    )
    assert "CSRF token" in assert_error(answer, 403, "forbidden")["message"]
