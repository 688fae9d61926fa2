"""What the routes of several areas take: text that can be stored, and a request as JSON."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body

__all__ = ["TEXT", "JsonObject"]

TEXT = r"^[^\x00]*$"
"""Text that can be stored and looked up: no NUL character (PostgreSQL refuses it)."""

JsonObject = Annotated[
    dict[str, Any], Body(description="A request as docs/formats.md describes it.")
]
