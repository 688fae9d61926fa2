"""The two actors that are not users, as the ledger records them."""

from __future__ import annotations

__all__ = ["ADMIN", "SYSTEM"]

ADMIN = "admin"
"""Whoever runs the command line on the server: the local administrator (no user may take
this name)."""

SYSTEM = "clearance"
"""clearance itself, for what follows from a rule rather than a person (a screened case
moving to review)."""
