"""OIDC bearer tokens from a real OpenID provider, and what the server does with its keys.

The provider is ``oidc-provider`` (npm) run by Node.js on a loopback port
(tests/oidc/provider.mjs; ``npm ci`` installs it there when it is missing). The
tests get their tokens from it the way an application would, by the
authorization code flow, and it plays what real providers do: it rotates its
signing key (the old one leaves its key set), runs its clock ahead or behind,
and counts how often its key set is fetched. A second loopback server accepts
connections and never answers, as a provider that hangs would.

Each test runs its own clearance server (so its own key cache) over one small
SQLite world; the tests about the event loop run it under uvicorn, on a real
socket, like ``clearance serve``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import logging
import secrets
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa

from clearance.core.actors import ADMIN
from clearance.core.signing import new_key_pair
from clearance.service.runtime import Runtime
from clearance.settings import load_settings

from .api_support import Api, open_api
from .parallel_support import locked

PROVIDER = Path(__file__).parent / "oidc"
AUDIENCE = "clearance"  # the provider's client id, and the audience of its access tokens


# the identity provider --------------------------------------------------------------


def _node_modules() -> None:
    """Install the provider's packages from the lock file, once (``make test`` on a new
    machine); the tests themselves need no network beyond loopback."""
    if shutil.which("node") is None:
        pytest.fail("Node.js is not installed (apt-get install nodejs npm); make test installs it")
    with locked(PROVIDER):  # parallel workers: one installs, the others wait and see it done
        if not (PROVIDER / "node_modules" / "oidc-provider").is_dir():
            if shutil.which("npm") is None:
                pytest.fail("npm is not installed (apt-get install npm); make test installs it")
            subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund"],
                cwd=PROVIDER,
                check=True,
                capture_output=True,
                timeout=600,
            )


class IdentityProvider:
    """``oidc-provider`` in a Node.js process, and a client of it that gets tokens."""

    def __init__(self, log: Path) -> None:
        self._log = log.open("w")
        self.process = subprocess.Popen(
            ["node", "provider.mjs"],
            cwd=PROVIDER,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()  # printed once it listens
        if not line:
            self.process.wait(timeout=10)
            raise RuntimeError(log.read_text())
        started: dict[str, str] = json.loads(line)
        self.issuer = started["issuer"]
        self.client, self.secret = started["client"], started["secret"]
        self.resource, self.redirect = started["resource"], started["redirect"]
        self.http = httpx.Client(base_url=self.issuer, timeout=10)

    def tokens(self, user: str) -> dict[str, Any]:
        """An access token and an ID token for ``user``, by the authorization code flow
        (in a browser of its own: no session with the provider from an earlier sign-in)."""
        with httpx.Client(base_url=self.issuer, timeout=10) as browser:
            return self._code_flow(browser, user)

    def _code_flow(self, browser: httpx.Client, user: str) -> dict[str, Any]:
        answer = browser.get(
            "/auth",
            params={
                "client_id": self.client,
                "response_type": "code",
                "scope": "openid",
                "redirect_uri": self.redirect,
                "resource": self.resource,
                "login_hint": user,
                "state": secrets.token_urlsafe(8),
                "nonce": secrets.token_urlsafe(8),
            },
        )
        for _ in range(5):  # the provider's own redirects, until it sends the browser back
            location = answer.headers["location"]
            if location.startswith(self.redirect):
                break
            answer = browser.get(location)
        code = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["code"][0]
        exchanged = browser.post(
            "/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.redirect,
                "resource": self.resource,
            },
            auth=(self.client, self.secret),
        )
        assert exchanged.status_code == 200, exchanged.text
        tokens: dict[str, Any] = exchanged.json()
        return tokens

    def access_token(self, user: str = "secdef") -> str:
        return str(self.tokens(user)["access_token"])

    def rotate(self) -> str:
        """A new signing key; the old one leaves the key set. Returns the new key's id."""
        return str(self.http.post("/_test/rotate").json()["kid"])

    def clock(self, offset_s: int) -> None:
        """Run the provider's clock ``offset_s`` seconds ahead of ours (behind, if negative)."""
        self.http.post("/_test/clock", params={"offset": offset_s})

    def jwks_fetches(self) -> int:
        return int(self.http.get("/_test/jwks-fetches").json()["count"])

    def stop(self) -> None:
        self.http.close()
        self.process.terminate()
        self.process.wait(timeout=10)
        assert self.process.stdout is not None
        self.process.stdout.close()
        self._log.close()


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IdentityProvider]:
    _node_modules()
    started = IdentityProvider(tmp_path_factory.mktemp("identity-provider") / "provider.log")
    yield started
    started.stop()


@pytest.fixture
def idp(provider: IdentityProvider) -> Iterator[IdentityProvider]:
    """The module's provider, its clock put right after each test."""
    yield provider
    provider.clock(0)


class Silent:
    """A loopback HTTP server that takes connections and never answers; it counts them."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.connections: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.socket.getsockname()[1]}/jwks"

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:  # closed: the test is over
                return
            self.connections.append(connection)

    def close(self) -> None:
        self.socket.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
        self.socket.close()
        for connection in self.connections:
            connection.close()
        self.thread.join(timeout=5)


@pytest.fixture
def silent() -> Iterator[Silent]:
    server = Silent()
    yield server
    server.close()


# clearance ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A database with one user, ``secdef``, whom the provider's tokens name by ``sub``."""
    root = tmp_path_factory.mktemp("oidc-world")
    url = f"sqlite:///{root / 'clearance.db'}"
    server = Runtime(
        load_settings({"CLEARANCE_DATA_DIR": str(root), "CLEARANCE_DATABASE_URL": url})
    )
    try:
        server.prepare()
        public, _ = new_key_pair("a key passphrase")
        server.people.add_user(
            user_id="secdef", name="S", party="US", public_key=public, actor=ADMIN, now=server.now()
        )
    finally:
        server.database.dispose()
    return root, url


def trusting(idp: IdentityProvider, **settings: str) -> dict[str, str]:
    """Settings that make a server take the provider's access tokens."""
    return {
        "CLEARANCE_OIDC_JWKS": f"{idp.issuer}/jwks",
        "CLEARANCE_OIDC_ISSUER": idp.issuer,
        "CLEARANCE_OIDC_AUDIENCE": AUDIENCE,
        "CLEARANCE_OIDC_USER_CLAIM": "sub",
        **settings,
    }


@contextmanager
def clearance(world: tuple[Path, str], **settings: str) -> Iterator[Api]:
    with open_api(*world, **settings) as api:
        yield api


def me(api: Api, token: str) -> httpx.Response:
    return api.client({"Authorization": f"Bearer {token}"}).get("/api/v1/me")


def refused(response: httpx.Response, words: str) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "unauthenticated"
    assert words in response.json()["message"], response.json()["message"]


@contextmanager
def serving(api: Api) -> Iterator[str]:
    """The app under uvicorn on a loopback socket, as ``clearance serve`` runs it."""
    listening = socket.create_server(("127.0.0.1", 0))
    config = uvicorn.Config(api.app, log_config=None, access_log=False, lifespan="off", ws="none")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{listening.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        listening.close()


@functools.cache
def _stranger() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _made_up(kid: str, issuer: str) -> str:
    """An access token of the right shape that names a key id the provider never had."""
    key = _stranger()
    now = int(time.time())
    claims = {"iss": issuer, "aud": AUDIENCE, "sub": "secdef", "iat": now, "exp": now + 300}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid, "typ": "at+jwt"})


# what is accepted and what is refused -------------------------------------------------


def test_an_access_token_from_the_provider_acts_as_the_user_it_names(
    world: tuple[Path, str], idp: IdentityProvider
) -> None:
    with clearance(world, **trusting(idp)) as api:
        answer = me(api, idp.access_token("secdef"))
        assert answer.status_code == 200, answer.text
        assert answer.json()["user"] == "secdef"
        refused(me(api, idp.access_token("nobody.here")), "names no user of clearance")


def test_an_id_token_for_the_same_client_is_refused(
    world: tuple[Path, str], idp: IdentityProvider
) -> None:
    tokens = idp.tokens("secdef")
    id_token = tokens["id_token"]
    # Same issuer, same key, and its audience is the client, which is clearance's audience too:
    # only its type tells it from an access token.
    assert jwt.decode(id_token, options={"verify_signature": False})["aud"] == AUDIENCE
    with clearance(world, **trusting(idp)) as api:
        refused(me(api, id_token), "not an access token")
        assert me(api, tokens["access_token"]).status_code == 200


@pytest.mark.parametrize(
    ("setting", "value", "words"),
    [
        ("CLEARANCE_OIDC_AUDIENCE", "another-api", "Audience doesn't match"),
        ("CLEARANCE_OIDC_ISSUER", "http://127.0.0.1:9/another-provider", "Invalid issuer"),
    ],
)
def test_a_token_for_another_audience_or_from_another_issuer_is_refused(
    world: tuple[Path, str], idp: IdentityProvider, setting: str, value: str, words: str
) -> None:
    with clearance(world, **trusting(idp, **{setting: value})) as api:
        refused(me(api, idp.access_token()), words)


def test_an_expired_token_is_refused(world: tuple[Path, str], idp: IdentityProvider) -> None:
    idp.clock(-(300 + 30 + 5))  # issued long enough ago to have expired past the 30 s leeway
    expired = idp.access_token()
    idp.clock(0)
    with clearance(world, **trusting(idp)) as api:
        refused(me(api, expired), "Signature has expired")
        assert me(api, idp.access_token()).status_code == 200


def test_a_provider_a_second_ahead_is_within_the_leeway_a_minute_is_not(
    world: tuple[Path, str], idp: IdentityProvider
) -> None:
    strict = trusting(idp, CLEARANCE_OIDC_LEEWAY_SECONDS="0")
    with clearance(world, **trusting(idp)) as api, clearance(world, **strict) as no_leeway:
        idp.clock(1)
        answer = me(api, idp.access_token())
        assert answer.status_code == 200, answer.text
        idp.clock(3)
        ahead = idp.access_token()
        refused(me(no_leeway, ahead), "not yet valid")  # issued "in 3 s", in less than 2 s
        assert me(api, ahead).status_code == 200
        idp.clock(60)
        refused(me(api, idp.access_token()), "not yet valid")


def test_a_token_issued_with_a_provider_token_expires_with_it(
    world: tuple[Path, str], idp: IdentityProvider
) -> None:
    access_token = idp.access_token()
    expires = jwt.decode(access_token, options={"verify_signature": False})["exp"]
    with clearance(world, **trusting(idp)) as api:
        machine = api.client({"Authorization": f"Bearer {access_token}"})
        issued = machine.post("/api/v1/tokens", json={"name": "nightly job", "days": 30})
        assert issued.status_code == 201, issued.text
        assert dt.datetime.fromisoformat(issued.json()["expires_at"]).timestamp() == expires
        listed = machine.get("/api/v1/tokens").json()["tokens"]
        [mine] = [t for t in listed if t["id"] == issued.json()["id"]]
        assert mine["expires_at"] == issued.json()["expires_at"]


# the provider's keys ----------------------------------------------------------------------


def test_a_key_the_provider_withdraws_is_refused_once_the_new_key_set_is_fetched(
    world: tuple[Path, str], idp: IdentityProvider
) -> None:
    settings = trusting(idp, CLEARANCE_OIDC_JWKS_REFETCH_SECONDS="1")
    with clearance(world, **settings) as api:
        old = idp.access_token()
        assert me(api, old).status_code == 200
        fetched = idp.jwks_fetches()
        new_kid = idp.rotate()
        new = idp.access_token()
        assert jwt.get_unverified_header(new)["kid"] == new_kid
        time.sleep(1.1)  # the shortest time between two fetches
        start = time.monotonic()
        assert me(api, new).status_code == 200  # an unknown key id: the set is fetched again
        assert idp.jwks_fetches() == fetched + 1
        refused(me(api, old), "not in the identity provider's key set")
        # The withdrawn key's id is unknown too: on a slow machine a second second may have
        # passed, and then the set may be fetched once more; never more often than that.
        after_refusal = idp.jwks_fetches()
        assert 0 <= after_refusal - (fetched + 1) <= int(time.monotonic() - start)
        assert me(api, new).status_code == 200
        assert idp.jwks_fetches() == after_refusal  # a known key: nothing fetched


def test_a_key_set_is_used_for_its_maximum_age_then_fetched_again(
    world: tuple[Path, str], idp: IdentityProvider
) -> None:
    settings = trusting(
        idp, CLEARANCE_OIDC_JWKS_MAX_AGE_SECONDS="1", CLEARANCE_OIDC_JWKS_REFETCH_SECONDS="1"
    )
    with clearance(world, **settings) as api:
        token = idp.access_token()
        fetched = idp.jwks_fetches()
        start = time.monotonic()
        assert me(api, token).status_code == 200
        assert me(api, token).status_code == 200
        # One fetch, and a second only if the set grew older than its maximum age meanwhile.
        used = idp.jwks_fetches()
        assert 1 <= used - fetched <= 1 + int(time.monotonic() - start)
        time.sleep(1.1)
        assert me(api, token).status_code == 200
        assert idp.jwks_fetches() == used + 1


@pytest.mark.slow
def test_made_up_key_ids_cause_at_most_one_fetch_per_interval(
    world: tuple[Path, str], idp: IdentityProvider
) -> None:
    settings = trusting(idp, CLEARANCE_OIDC_JWKS_REFETCH_SECONDS="2")
    with clearance(world, **settings) as api:
        assert me(api, idp.access_token()).status_code == 200
        fetched = idp.jwks_fetches()
        time.sleep(2.1)
        start = time.monotonic()
        for _ in range(30):
            refused(me(api, _made_up(secrets.token_hex(8), idp.issuer)), "not in the")
        elapsed = time.monotonic() - start
        fetches = idp.jwks_fetches() - fetched
        assert 1 <= fetches <= 1 + int(elapsed / 2), (fetches, elapsed)


def test_a_provider_that_does_not_answer_is_asked_once_per_interval(
    world: tuple[Path, str],
    idp: IdentityProvider,
    silent: Silent,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = trusting(
        idp,
        CLEARANCE_OIDC_JWKS=silent.url,
        CLEARANCE_OIDC_JWKS_TIMEOUT_SECONDS="1",
        CLEARANCE_OIDC_JWKS_REFETCH_SECONDS="3",
    )
    # Listen on the logger itself, as it is when the server runs, whatever another test's
    # logging set-up did to it (disabled it, or stopped its records going up to the root).
    logger = logging.getLogger("clearance.web")
    was = (logger.disabled, logger.level)
    logger.disabled = False
    logger.setLevel(logging.WARNING)
    logger.addHandler(caplog.handler)

    def warnings() -> list[logging.LogRecord]:
        found = [r for r in caplog.records if "key set could not be fetched" in r.getMessage()]
        return list({id(r): r for r in found}.values())  # heard once, or twice if it propagates

    with clearance(world, **settings) as api, contextlib.ExitStack() as cleanup:
        cleanup.callback(logger.removeHandler, caplog.handler)
        cleanup.callback(lambda: (setattr(logger, "disabled", was[0]), logger.setLevel(was[1])))
        start = time.monotonic()
        refused(me(api, _made_up("k-0", idp.issuer)), "key set cannot be fetched")
        assert 0.9 < time.monotonic() - start < 5
        for n in range(1, 10):
            refused(me(api, _made_up(f"k-{n}", idp.issuer)), "key set cannot be fetched")
        elapsed = time.monotonic() - start
        assert len(silent.connections) <= 1 + int(elapsed / 3), (silent.connections, elapsed)
        # A fetch still waiting on the silent provider says why when it gives up.
        deadline = time.monotonic() + 3
        while len(warnings()) < len(silent.connections) and time.monotonic() < deadline:
            time.sleep(0.05)
    assert len(warnings()) == len(silent.connections)  # why, in the log; not to the caller
    for warning in warnings():
        assert warning.__dict__["fields"]["jwks"] == silent.url
        assert "timed out" in warning.__dict__["fields"]["error"]


@pytest.mark.slow
def test_a_provider_that_hangs_does_not_stop_the_server(
    world: tuple[Path, str], idp: IdentityProvider, silent: Silent
) -> None:
    settings = trusting(
        idp, CLEARANCE_OIDC_JWKS=silent.url, CLEARANCE_OIDC_JWKS_TIMEOUT_SECONDS="3"
    )
    with (
        clearance(world, **settings) as api,
        serving(api) as url,
        httpx.Client(base_url=url) as http,
    ):
        waiting: list[httpx.Response] = []

        def ask(kid: str) -> Callable[[], None]:
            bearer = {"Authorization": f"Bearer {_made_up(kid, idp.issuer)}"}
            return lambda: waiting.append(http.get("/api/v1/me", headers=bearer, timeout=30))

        askers = [threading.Thread(target=ask(f"k-{n}")) for n in range(3)]
        for asker in askers:
            asker.start()
        time.sleep(0.5)  # the key set is being fetched from the provider that never answers
        for _ in range(5):
            start = time.monotonic()
            assert http.get("/health", timeout=2).status_code == 200
            assert time.monotonic() - start < 0.5
        for asker in askers:
            asker.join(timeout=30)
        assert [r.status_code for r in waiting] == [401, 401, 401]
        assert len(silent.connections) == 1
