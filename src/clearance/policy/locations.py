"""Where in a pack file a validation error is, in the words every pack error uses."""

from __future__ import annotations

__all__ = ["pydantic_location"]


def pydantic_location(loc: tuple[int | str, ...]) -> str:
    """``('systems', 2, 'origin')`` → ``systems[2].origin``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
