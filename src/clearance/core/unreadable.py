"""Why a file cannot be read, in the words every reader of a user's files uses.

Python's own words (``[Errno 21] Is a directory: 'x'``) name the error's number
and repeat the path; a user reads ``x: is a folder, not a file``. Readers of
request files (the command line) and of a scenario pack (``policy.pack``) both
put the file's name before these words.
"""

from __future__ import annotations

__all__ = ["unreadable_file"]


def unreadable_file(error: OSError) -> str:
    """Why a file cannot be read, in words that follow its name."""
    if isinstance(error, FileNotFoundError):
        return "file not found"
    if isinstance(error, IsADirectoryError):
        return "is a folder, not a file"
    if isinstance(error, PermissionError):
        return "cannot be read: permission denied"
    return f"cannot be read: {error.strerror or error}"
