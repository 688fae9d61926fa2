"""The one exception root of clearance, and the tree below it.

Every error a user can cause is a ``ClearanceError``: it carries a stable
machine-readable ``code``, the exit status a command returns for it and the
HTTP status an API would answer with, and it renders as exactly one line that
names what is wrong and where::

    ClearanceError                 code            exit  http
    ├── RequestError               invalid_request    2   422   a request field is wrong
    ├── InputError                 invalid_input      2   400   an input file or option is wrong
    ├── PackError                  invalid_pack       2   422   a scenario pack file is wrong
    │   └── PolicySourceError      invalid_policy     2   422   a .cedar file does not parse or validate
    └── NotFoundError              not_found          2   404   an id that the catalog does not hold

Anything else that escapes is a bug, not an input problem.
"""

from __future__ import annotations

__all__ = [
    "ClearanceError",
    "InputError",
    "NotFoundError",
    "PackError",
    "PolicySourceError",
    "RequestError",
]


class ClearanceError(Exception):
    """Root of every error caused by input rather than by a bug."""

    code = "error"
    exit_code = 2
    http_status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def as_dict(self) -> dict[str, str]:
        """The error as a JSON-ready record with its stable code."""
        return {"code": self.code, "message": self.message}


class RequestError(ClearanceError):
    """A request (to screen or explain) is malformed or names something unknown."""

    code = "invalid_request"
    http_status = 422

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"request field '{field}': {problem}")

    def as_dict(self) -> dict[str, str]:
        return {**super().as_dict(), "field": self.field}


class InputError(ClearanceError):
    """A file or command-line option given by the user cannot be used."""

    code = "invalid_input"

    def __init__(self, where: str, problem: str) -> None:
        self.where = where
        super().__init__(f"{where}: {problem}")

    def as_dict(self) -> dict[str, str]:
        return {**super().as_dict(), "field": self.where}


class PackError(ClearanceError):
    """A scenario pack (catalog, bundle metadata, golden cases) is wrong."""

    code = "invalid_pack"
    http_status = 422

    def __init__(self, file: str, where: str, problem: str) -> None:
        self.file = file
        self.where = where
        self.problem = problem
        location = f"{file}: {where}" if where else file
        super().__init__(f"{location}: {problem}")


class PolicySourceError(PackError):
    """A Cedar policy, schema or entity file does not parse or validate."""

    code = "invalid_policy"

    def __init__(self, file: str, line: int | None, problem: str) -> None:
        self.line = line
        where = f"line {line}" if line is not None else ""
        super().__init__(file, where, problem)


class NotFoundError(ClearanceError):
    """An id (system, party, authority, holder) that is not in the catalog."""

    code = "not_found"
    http_status = 404
