"""Who sees what of stock, for every interface (docs/access.md#stockpile).

Stock figures are their party's business until a reviewer needs them: a
reviewer, an auditor or an admin sees every party's; anyone else sees their
own party's positions only, and of another party's stock in a decision only
its rating, now and after (``decision_seen``). The rule itself is the door's
(``Action.STOCK_VIEW`` in ``service.access``); this module shapes what a
reader is shown by it. A reader is a user, or None for the local operator at
the command line, who sees everything.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from clearance.core.decision import Decision
from clearance.policy.explain import Explanation
from clearance.service.access import Action, Principal, may
from clearance.store.records import UserRecord

__all__ = [
    "decision_recorded",
    "decision_seen",
    "explanation_seen",
    "parties_seen",
    "sees_stock_of",
    "stockpile_seen",
]


def parties_seen(reader: UserRecord | None) -> frozenset[str] | None:
    """The parties whose stock ``reader`` may see: None for every party."""
    if reader is None or Principal(reader).sees_every_party:
        return None
    return frozenset({reader.party})


def sees_stock_of(reader: UserRecord | None, holder: str) -> bool:
    """Whether ``reader`` may see ``holder``'s stock figures (None: the local operator).

    Offices do not widen it, so the reader's record alone answers (``service.access``)."""
    return may(Principal(reader), Action.STOCK_VIEW, holder)


_RATING_ONLY = ("holder", "system", "on", "quantity", "now", "after", "illustrative")
"""What a decision's stockpile facts keep for a reader who may not see the figures:
whose stock, of what, on which day and how many (all of which the request says), and
the ratings. On hand, committed, available, requirement, thresholds and months to
recover say what the party holds and plans: they are left out."""


def stockpile_seen(
    facts: Mapping[str, Any] | None, reader: UserRecord | None
) -> dict[str, Any] | None:
    """A decision's stockpile facts as ``reader`` may see them: another party's as ratings."""
    if facts is None:
        return None
    if sees_stock_of(reader, facts["holder"]):
        return dict(facts)
    return {key: facts[key] for key in _RATING_ONLY if key in facts} | {"figures_withheld": True}


def decision_recorded(decision: Decision) -> dict[str, Any]:
    """A decision as the record keeps it: its stockpile facts, when it has any, carry a random
    ``nonce``. The figures are small numbers, and the record's digests and hashes are shown to
    readers the figures are withheld from (``decision_seen`` leaves the nonce out with them):
    without the nonce, such a reader could find the figures by trying values against a digest."""
    facts = decision.as_dict()
    if facts.get("stockpile") is not None:
        facts["stockpile"] = {**facts["stockpile"], "nonce": secrets.token_hex(16)}
    return facts


def decision_seen(decision: dict[str, Any], reader: UserRecord | None) -> dict[str, Any]:
    """A decision (as ``Decision.as_dict`` writes it) as ``reader`` may see it: the same
    dict when there is nothing to leave out, a copy without it otherwise.

    The decision recorded is never changed (it is hashed and signed over): what
    a reader may not see is left out of the copy they are shown.
    """
    facts = decision.get("stockpile")
    if facts is None or sees_stock_of(reader, facts["holder"]):
        return decision
    return {**decision, "stockpile": stockpile_seen(facts, reader)}


def explanation_seen(explanation: Explanation, reader: UserRecord | None) -> dict[str, Any]:
    """An explanation (as ``Explanation.as_dict`` writes it) as ``reader`` may see it."""
    data = explanation.as_dict()
    return {**data, "decision": decision_seen(data["decision"], reader)}
