"""Settings are checked at start: a bad value is refused in one line naming its variable."""

from __future__ import annotations

import pytest

from clearance.errors import InputError
from clearance.settings import load_settings


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
    ],
)
def test_a_bad_sign_in_setting_is_refused_naming_it(environ: dict[str, str], message: str) -> None:
    with pytest.raises(InputError) as refused:
        load_settings(environ)
    assert str(refused.value).startswith(message), str(refused.value)


def test_the_sign_in_settings_have_their_documented_defaults() -> None:
    settings = load_settings({})
    assert (settings.token_days, settings.trusted_proxy_header) == (90, None)
    proxied = load_settings({"CLEARANCE_TRUSTED_PROXY_HEADER": "X-Real-IP"})
    assert proxied.trusted_proxy_header == "X-Real-IP"
