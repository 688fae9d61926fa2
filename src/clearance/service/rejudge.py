"""Judging a stored case again, or saying in words why it cannot be judged.

A case's request is stored as JSON, valid when the case was made. A later pack
(a system removed from the catalog), a stricter rule (the range of dates), or
someone who can write to the database can leave a case whose request no
longer reads (the store hands it up as an ``UnreadableRequest``) or no longer
screens. Re-screening (``Rescreener.rescreen``,
also run by an activation) and a proposal's impact then go on with the other
cases and report the one that failed, with why, instead of stopping at it.
"""

from __future__ import annotations

from collections.abc import Callable

from clearance.core.decision import Decision
from clearance.core.request import AnyRequest, UnreadableRequest
from clearance.errors import ClearanceError, StoreError
from clearance.store.records import CaseRecord

__all__ = ["CannotJudge", "judge_again"]


_FAILURES = (ClearanceError, ValueError, ArithmeticError, LookupError, TypeError, RecursionError)
"""What a stored case that cannot be judged makes screening it raise: a name the catalog
no longer holds, a date or number the arithmetic refuses. The database failing
(``StoreError``, or anything else) is not the case's fault: it stops the work, as it
should."""


class CannotJudge(Exception):
    """One stored case cannot be judged again; ``problem`` says why, in words."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def _words(error: Exception) -> str:
    if isinstance(error, ClearanceError):
        return error.message
    return str(error) or type(error).__name__


def judge_again(
    case: CaseRecord, decide: Callable[[CaseRecord, AnyRequest], Decision]
) -> tuple[AnyRequest, Decision]:
    """The case's stored request, and ``decide``'s decision on it (given the case and the
    request); ``CannotJudge`` if either fails."""
    request = case.request
    if isinstance(request, UnreadableRequest):
        raise CannotJudge(f"its stored request cannot be read: {request.problem}")
    try:
        return request, decide(case, request)
    except StoreError:
        raise  # the database failing is not this case's fault
    except _FAILURES as exc:
        raise CannotJudge(f"screening it again failed: {_words(exc)}") from None
