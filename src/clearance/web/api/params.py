"""What the routes of every area share: the prefix, text that can be stored, a request as JSON."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body

__all__ = ["PREFIX", "TEXT", "JsonObject"]

PREFIX = "/api/v1"
"""Where the API is. Each area's router is made with it: a prefix given when a router is
included is left out of the path its routes' metrics and logs are labelled with."""

TEXT = r"^[^\x00]*$"
"""Text that can be stored and looked up: no NUL character (PostgreSQL refuses it)."""

JsonObject = Annotated[
    dict[str, Any], Body(description="A request as docs/formats.md describes it.")
]
