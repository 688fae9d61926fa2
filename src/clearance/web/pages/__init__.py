"""The web pages (server-rendered Jinja2 + htmx), one module per area, mirroring the API.

Signed-in pages use the same session cookie and CSRF token as the API; the
sign-in form, which comes before any session, is protected by a
double-submit cookie. Every list, count and total is of what the viewer may
see (the use cases apply ``service.access``), and every page names the
highest level of what it shows in its banner.

``ROUTERS`` is the order the application includes them in: the proposals
before the policy pages, because ``/policy/proposals`` is not a holder's
policy (``/policy/{holder}``).
"""

from __future__ import annotations

from . import (
    account,
    case_changes,
    cases,
    dashboard,
    ledger,
    notifications,
    policy,
    proposals,
    reports,
    screening,
    stockpile,
)

__all__ = ["ROUTERS"]

ROUTERS = tuple(
    area.router
    for area in (
        proposals,
        account,
        dashboard,
        cases,
        case_changes,
        screening,
        policy,
        ledger,
        stockpile,
        reports,
        notifications,
    )
)
