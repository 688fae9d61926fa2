"""OIDC bearer tokens: the identity provider's key set, and the checks a token must pass.

The key set is kept whole, with the time it was fetched, and used for
``jwks_max_age_s`` seconds; then it is fetched again. A key the provider has
withdrawn is therefore refused from the first fetch after it left the set,
and a set that cannot be fetched again in time is not used at all: bearer
tokens are refused, with the reason, until the provider answers.

A token whose ``kid`` is not in the set makes the server fetch the set again
(the provider may have added a key), but fetches start at most once every
``jwks_refetch_s`` seconds, whether they work or not, so tokens with made-up
key ids cannot make the server hammer the provider. One fetch runs at a time;
it waits at most ``jwks_timeout_s`` for each answer of the provider, and runs
on a worker thread like the rest of signing in (web/auth.py), so a provider
that never answers holds up only the requests that need its keys, never the
event loop.

Only access tokens are taken: the JWT header's ``typ`` must be ``at+jwt``
(RFC 9068). An ID token, which the provider may well sign for the same
client with the same keys, says who signed in to an application; it is not
meant to be sent to an API, and is refused.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt

from clearance.errors import AuthenticationError
from clearance.settings import Oidc

__all__ = ["ACCESS_TOKEN_TYPES", "ALGORITHMS", "ProviderKeys", "read_access_token"]

ALGORITHMS = ["RS256", "PS256", "ES256", "EdDSA"]
ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})

log = logging.getLogger("clearance.web")


def _read_file(path: Path) -> Any:
    return json.loads(path.read_text("utf-8"))


class ProviderKeys:
    """The provider's signing keys, from a URL or a file, fetched as the module says."""

    def __init__(self, oidc: Oidc, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.oidc = oidc
        self._clock = clock
        self._fetch: Callable[[], Any]
        if oidc.jwks.startswith(("http://", "https://")):
            client = jwt.PyJWKClient(oidc.jwks, cache_jwk_set=False, timeout=oidc.jwks_timeout_s)
            self._fetch = client.fetch_data
        else:
            self._fetch = lambda: _read_file(Path(oidc.jwks))
        self._held: tuple[list[jwt.PyJWK], float] = ([], -math.inf)  # the set, when fetched
        self._tried = -math.inf  # when the last fetch started
        self._problem: str | None = None  # why the last fetch failed
        self._fetching = threading.Lock()

    def key(self, kid: str | None) -> jwt.PyJWK:
        """The key a token names (by ``kid``; with none, the set's only key)."""
        tried = self._tried
        found = _match(self._fresh(), kid)
        if found is None:
            found = _match(self._refetch(tried), kid)
        if found is not None:
            return found
        if self._problem is not None and not self._fresh():
            # Why is in the server's log: the caller need not learn where the set lives.
            raise AuthenticationError(
                "the identity provider's key set cannot be fetched now; try again later"
            )
        named = "names no key" if kid is None else f"names the key '{kid[:100]}'"
        raise AuthenticationError(
            f"the bearer token {named}, which is not in the identity provider's key set"
        )

    def _fresh(self) -> list[jwt.PyJWK]:
        keys, fetched = self._held
        return keys if self._clock() - fetched < self.oidc.jwks_max_age_s else []

    def _refetch(self, tried: float) -> list[jwt.PyJWK]:
        """Fetch the set again, unless someone did while we waited or it is too soon."""
        if not self._fetching.acquire(timeout=2 * self.oidc.jwks_timeout_s + 1):
            return self._fresh()
        try:
            started = self._clock()
            if self._tried != tried or started - self._tried < self.oidc.jwks_refetch_s:
                return self._fresh()
            self._tried = started
            try:
                data = self._fetch()
                if not isinstance(data, dict):
                    raise ValueError("the key set is not a JSON object")
                keys = [
                    k
                    for k in jwt.PyJWKSet.from_dict(data).keys
                    if k.public_key_use in (None, "sig")
                ]
            except (jwt.PyJWTError, OSError, ValueError) as exc:
                self._problem = str(exc) or type(exc).__name__
                log.warning(
                    "the identity provider's key set could not be fetched",
                    extra={"fields": {"jwks": self.oidc.jwks, "error": self._problem}},
                )
                return self._fresh()
            self._held, self._problem = (keys, started), None
            return keys
        finally:
            self._fetching.release()


def _match(keys: list[jwt.PyJWK], kid: str | None) -> jwt.PyJWK | None:
    if kid is None:
        return keys[0] if len(keys) == 1 else None
    return next((k for k in keys if k.key_id == kid), None)


def read_access_token(oidc: Oidc, keys: ProviderKeys, token: str) -> tuple[str, dt.datetime]:
    """The user a provider's access token names, and when the token expires; or 401."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise AuthenticationError(f"the bearer token is not valid: {exc}") from None
    if str(header.get("typ", "")).lower() not in ACCESS_TOKEN_TYPES:
        raise AuthenticationError(
            "the bearer token is not an access token: its header's typ must be at+jwt"
        )
    kid = header.get("kid")
    key = keys.key(kid if isinstance(kid, str) else None)
    try:
        claims = jwt.decode(
            token,
            key.key,
            algorithms=ALGORITHMS,
            issuer=oidc.issuer,
            audience=oidc.audience,
            leeway=oidc.leeway_s,
            options={"require": ["exp", "sub", "iss", "aud"]},
        )
        expires = dt.datetime.fromtimestamp(claims["exp"], dt.UTC)
    except jwt.PyJWTError as exc:
        raise AuthenticationError(f"the bearer token is not valid: {exc}") from None
    except (OverflowError, OSError, ValueError):
        raise AuthenticationError(
            "the bearer token is not valid: its exp is out of range"
        ) from None
    return str(claims.get(oidc.user_claim, "")), expires
