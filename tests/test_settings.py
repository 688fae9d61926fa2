"""Settings are checked at start: a bad value is refused in one line naming its variable."""

from __future__ import annotations

import pytest

from clearance.errors import InputError
from clearance.settings import load_settings

OIDC = {
    "CLEARANCE_OIDC_JWKS": "https://id.example.gov/jwks",
    "CLEARANCE_OIDC_ISSUER": "https://id.example.gov",
    "CLEARANCE_OIDC_AUDIENCE": "clearance",
}


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"CLEARANCE_TOKEN_DAYS": "0"},
            "CLEARANCE_TOKEN_DAYS: must be a whole number of days from 1 to 3650, not '0'",
        ),
        ({"CLEARANCE_TOKEN_DAYS": ""}, "CLEARANCE_TOKEN_DAYS: must be a whole number"),
        ({"CLEARANCE_TOKEN_DAYS": "٣"}, "CLEARANCE_TOKEN_DAYS: must be a whole number"),
        (
            {"CLEARANCE_TRUSTED_PROXY_HEADER": "X-Forwarded-For: 1.2.3.4"},
            "CLEARANCE_TRUSTED_PROXY_HEADER: must be an HTTP header name",
        ),
        (
            {"CLEARANCE_TRUSTED_PROXY_HEADER": "X-Forwarded-For\n"},
            "CLEARANCE_TRUSTED_PROXY_HEADER: must be an HTTP header name",
        ),
        (
            {**OIDC, "CLEARANCE_OIDC_LEEWAY_SECONDS": "301"},
            "CLEARANCE_OIDC_LEEWAY_SECONDS: must be a whole number of seconds from 0 to 300",
        ),
        (
            {**OIDC, "CLEARANCE_OIDC_JWKS_TIMEOUT_SECONDS": "0"},
            "CLEARANCE_OIDC_JWKS_TIMEOUT_SECONDS: must be a whole number of seconds from 1 to 60",
        ),
        (
            {**OIDC, "CLEARANCE_OIDC_JWKS_MAX_AGE_SECONDS": "2.5"},
            "CLEARANCE_OIDC_JWKS_MAX_AGE_SECONDS: must be a whole number of seconds",
        ),
        (
            {**OIDC, "CLEARANCE_OIDC_JWKS_REFETCH_SECONDS": "600"},
            "CLEARANCE_OIDC_JWKS_REFETCH_SECONDS: must be at most"
            " CLEARANCE_OIDC_JWKS_MAX_AGE_SECONDS (300), not '600'",
        ),
        (
            {"CLEARANCE_OIDC_LEEWAY_SECONDS": "10"},
            "CLEARANCE_OIDC_JWKS: must be set when any other OIDC setting is",
        ),
    ],
)
def test_a_bad_sign_in_setting_is_refused_naming_it(environ: dict[str, str], message: str) -> None:
    with pytest.raises(InputError) as refused:
        load_settings(environ)
    assert str(refused.value).startswith(message), str(refused.value)


def test_the_sign_in_settings_have_their_documented_defaults() -> None:
    settings = load_settings({**OIDC, "CLEARANCE_OIDC_LEEWAY_SECONDS": ""})
    assert (settings.token_days, settings.trusted_proxy_header) == (90, None)
    assert settings.oidc is not None
    oidc = settings.oidc
    assert (oidc.leeway_s, oidc.jwks_timeout_s, oidc.jwks_max_age_s, oidc.jwks_refetch_s) == (
        30,
        5,
        300,
        30,
    )
    proxied = load_settings({"CLEARANCE_TRUSTED_PROXY_HEADER": "X-Real-IP"})
    assert proxied.trusted_proxy_header == "X-Real-IP"
