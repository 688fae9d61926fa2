"""The hint for a code typed in the wrong case, stated on the pure code (``core.codes``)."""

from __future__ import annotations

import pytest

from clearance.core.codes import upper_case_hint

KNOWN = {"RU", "RU-BEL", "US"}


@pytest.mark.parametrize(
    ("code", "upper"), [("ru", "RU"), ("Ru", "RU"), ("ru-bel", "RU-BEL"), ("us", "US")]
)
def test_a_known_code_typed_in_lower_case_gets_the_hint_naming_it(code: str, upper: str) -> None:
    assert (
        upper_case_hint(code, KNOWN.__contains__)
        == f"codes are upper case, did you mean '{upper}'?"
    )


def test_a_code_already_upper_case_gets_no_hint_even_if_known() -> None:
    asked: list[str] = []

    def known(code: str) -> bool:
        asked.append(code)
        return True

    assert upper_case_hint("RU", known) is None
    assert asked == []


def test_a_code_whose_upper_case_is_unknown_gets_no_hint() -> None:
    asked: list[str] = []

    def known(code: str) -> bool:
        asked.append(code)
        return code in KNOWN

    assert upper_case_hint("xx", known) is None
    assert asked == ["XX"]
