"""The hint for a code typed in the wrong case: ``ru`` for the party ``RU``, ``ru-bel`` for
the region ``RU-BEL``.

Country and region codes are upper case (ISO 3166), while the other names a user
types (systems, funders such as ``european-partners``) are lower case, so a code
in lower case is easy to write and looks right. Every check of a code that
refuses one gives this hint in the same words.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["upper_case_hint"]


def upper_case_hint(code: str, known: Callable[[str], bool]) -> str | None:
    """``codes are upper case, did you mean 'RU'?`` when ``code`` is not upper case and its
    upper-case form is ``known``; else None."""
    upper = code.upper()
    if upper != code and known(upper):
        return f"codes are upper case, did you mean '{upper}'?"
    return None
