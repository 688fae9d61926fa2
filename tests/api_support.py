"""A real clearance server in process, for the API tests.

The demo world (``service.demo.seed_demo``: seven users with argon2 passwords
and Ed25519 keys, four cases) takes seconds to build, so it is built once per
kind of database and cloned for every test: the SQLite file is copied, the
PostgreSQL database is created from the seeded one as a template. Each test
then opens its own server over its own clone, with the real settings loader,
the real scenario pack and Cedar, and talks to it over HTTP through
``TestClient``.

The demo cases are seeded as submitted a month ago, so the two still in review
are past their review deadline and show up as overdue.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import warnings
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import schemathesis
from starlette.exceptions import StarletteDeprecationWarning

from clearance.core.actors import ADMIN
from clearance.service.anchoring import prepare
from clearance.service.demo import DEMO_PASSWORD, seed_demo
from clearance.service.runtime import Runtime
from clearance.settings import load_settings
from clearance.web.app import create_app

from .databases import Template, clone_template, database_name

with warnings.catch_warnings():
    # Starlette's test client asks for httpx2 but still works with httpx, which is installed.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

__all__ = [
    "ATACMS_JUNE",
    "DEMO_PASSWORD",
    "Api",
    "Template",
    "TestClient",
    "add_signer",
    "build_template",
    "clone_template",
    "open_api",
    "prepared_database",
]

ATACMS_JUNE: dict[str, Any] = {
    "action": "employ",
    "requester": "UA",
    "system": "atacms",
    "quantity": 2,
    "target": {"territory": "RU"},
    "date": "2025-06-15",
}
"""The seed story's request: Ukraine asks to fire two ATACMS at Russian territory in June 2025."""

SEEDED_AGO = dt.timedelta(days=45)
"""How long ago the demo world was seeded: past the Secretary's 20 US working days whatever
the holidays of the weeks before the run, so its cases in review are overdue."""


def environ(data_dir: Path, database_url: str, **extra: str) -> dict[str, str]:
    return {
        "CLEARANCE_DATA_DIR": str(data_dir),
        "CLEARANCE_DATABASE_URL": database_url,
        **extra,
    }


def _write_key(server: Runtime, user: str, pem: bytes) -> None:
    path = server.key_path(user)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)


def build_template(kind: str, data_dir: Path, database_url: str) -> Template:
    """Migrate and seed the demo world once; the database is then left untouched."""
    server = Runtime(load_settings(environ(data_dir, database_url)))
    try:
        prepare(server.store, server.settings.system_key, now=server.now() - SEEDED_AGO)
        seeded = seed_demo(
            server.people,
            server.accounts,
            server.cases,
            write_key=lambda user, pem: _write_key(server, user, pem),
            now=server.now() - SEEDED_AGO,
        )
        assert seeded
    finally:
        server.database.dispose()
    if kind == "sqlite":
        return Template(kind, data_dir, database_url.removeprefix("sqlite:///"))
    return Template(kind, data_dir, database_name(database_url))


class Documented:
    """Checks a response against the application's OpenAPI document: its status must be
    one the operation declares, and its body must fit the schema declared for that status."""

    def __init__(self, app: Any) -> None:
        document = app.openapi()
        self.document = document
        self.schema = schemathesis.openapi.from_dict(document)
        self.paths = [
            (
                re.compile("^" + "[^/]+".join(map(re.escape, re.split(r"{[^}/]+}", path))) + "$"),
                path,
            )
            for path in sorted(document["paths"], key=lambda p: p.count("{"))
        ]

    def operation(self, method: str, path: str) -> str | None:
        """The path template of the documented operation a request reached, if any."""
        for pattern, template in self.paths:
            if pattern.match(path) and method.lower() in self.document["paths"][template]:
                return template
        return None

    def __call__(self, response: httpx.Response) -> None:
        response.read()
        request = response.request
        template = self.operation(request.method, request.url.path)
        if template is None:  # /openapi.json, /docs, a route no operation declares
            return
        declared = self.document["paths"][template][request.method.lower()]["responses"]
        assert str(response.status_code) in declared, (
            f"{request.method} {template} answered {response.status_code}, which its"
            f" OpenAPI operation does not declare ({', '.join(declared)}): {response.text[:500]}"
        )
        self.schema[template][request.method].validate_response(response)


_DOCUMENTED: list[Documented] = []


def _documented(app: Any) -> Documented:
    """The checker, built once: every app of a test run publishes the same document,
    and generating it takes a noticeable fraction of a second."""
    if not _DOCUMENTED:
        _DOCUMENTED.append(Documented(app))
    return _DOCUMENTED[0]


@dataclass
class Api:
    """One server over one database, and HTTP clients talking to it.

    Every response a client receives is checked against the OpenAPI document."""

    server: Runtime
    app: Any
    _clients: ExitStack = field(default_factory=ExitStack)

    def client(self, headers: Mapping[str, str] | None = None) -> TestClient:
        """A new client with its own cookie jar (a browser of its own)."""
        client = TestClient(self.app, raise_server_exceptions=False, headers=headers)
        client.event_hooks["response"].append(_documented(self.app))
        return self._clients.enter_context(client)

    def token(self, user: str, name: str = "tests") -> str:
        """An API token for ``user``, issued by the server's own account service."""
        token, _ = self.server.accounts.issue_token(user, name, actor=user, now=self.server.now())
        return token

    def as_user(self, user: str) -> TestClient:
        """A client acting as ``user`` with an API token (no cookie, so no CSRF token)."""
        return self.client({"Authorization": f"Bearer {self.token(user)}"})

    def signed_in(self, user: str) -> tuple[TestClient, str]:
        """A client signed in as ``user`` by password: a session cookie, and its CSRF token."""
        client = self.client()
        response = client.post("/api/v1/session", json={"user": user, "password": DEMO_PASSWORD})
        assert response.status_code == 200, response.text
        return client, response.json()["csrf_token"]

    def case_id(self, number: int) -> str:
        """The id of the case with this number (read as an admin would, at any level)."""
        return self.server.cases.view(str(number), actor=ADMIN).case.id


@contextmanager
def open_api(data_dir: Path, database_url: str, **settings: str) -> Iterator[Api]:
    """A server (and app) over ``database_url``, with extra ``CLEARANCE_…`` settings."""
    server = Runtime(load_settings(environ(data_dir, database_url, **settings)))
    api = Api(server, create_app(server))
    try:
        with api._clients:
            yield api
    finally:
        server.database.dispose()


def prepared_database(root: Path) -> tuple[Path, str]:
    """A new SQLite database under ``root``, migrated and with its system key, and no users:
    its data folder and URL, for ``open_api`` (a world a test builds for itself)."""
    data_dir, url = root / "data", f"sqlite:///{root / 'clearance.db'}"
    server = Runtime(load_settings(environ(data_dir, url)))
    try:
        prepare(server.store, server.settings.system_key, now=server.now())
    finally:
        server.database.dispose()
    return data_dir, url


def add_signer(server: Runtime, user: str, pem: bytes) -> None:
    """Give ``user`` the key file ``pem`` on ``server``, as ``clearance users add`` writes it."""
    _write_key(server, user, pem)
