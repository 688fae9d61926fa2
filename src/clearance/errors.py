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
    ├── NotFoundError              not_found          2   404   an id that the catalog does not hold
    ├── IllegalTransition          illegal_transition 2   409   a move the case workflow does not allow
    │   └── ExecutionSuspended     execution_suspended 2  409   the policy in force on the day does not permit the draw: the case is suspended
    ├── ConflictError              conflict           2   409   someone else changed the case first; retry
    ├── LedgerBroken               ledger_broken      1   409   the ledger does not verify: nothing is signed over it
    ├── DamagedRecord              damaged_record     1   409   a stored record no longer reads: what needs it refuses
    ├── PermissionDenied           forbidden          2   403   the actor may not do this (office, delegation, own case)
    ├── SignatureError             bad_signature      2   403   a signature does not verify, or a key cannot be unlocked
    ├── AuthenticationError        unauthenticated    2   401   no valid session, token or password
    │   └── Throttled              too_many_attempts  2   429   too many failed sign-ins from one address: wait
    ├── TooLarge                   too_large          2   413   a request body larger than the server reads
    └── StoreError                 store_unavailable  2   503   the database cannot be opened or is not set up
        └── OutcomeUnknown         outcome_unknown    2   503   the database failed at COMMIT: recorded or not, unknown

Anything else that escapes is a bug, not an input problem.
"""

from __future__ import annotations

__all__ = [
    "AuthenticationError",
    "ClearanceError",
    "ConflictError",
    "DamagedRecord",
    "ExecutionSuspended",
    "IllegalTransition",
    "InputError",
    "LedgerBroken",
    "NotFoundError",
    "OutcomeUnknown",
    "PackError",
    "PermissionDenied",
    "PolicySourceError",
    "RequestError",
    "SignatureError",
    "StoreError",
    "Throttled",
    "TooLarge",
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
        self.problem = problem
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


class IllegalTransition(ClearanceError):
    """A move the case workflow does not allow (e.g. executing a denied case)."""

    code = "illegal_transition"
    http_status = 409


class ExecutionSuspended(IllegalTransition):
    """An execution refused because the policy in force on its day would not permit it: the
    case was suspended (that is recorded), and waits on the offices the message names."""

    code = "execution_suspended"
    http_status = 409


class ConflictError(ClearanceError):
    """Two actors changed the same case at once; the later one must look again."""

    code = "conflict"
    http_status = 409


class LedgerBroken(ClearanceError):
    """The ledger does not verify since its last checkpoint (or does not hold the witness), so
    the system will not sign a checkpoint over it: a signature must never vouch for a record
    that was tampered with. Also an event read for the ledger page that is not one."""

    code = "ledger_broken"
    exit_code = 1
    http_status = 409


class DamagedRecord(ClearanceError):
    """A stored record that no longer reads (changed outside clearance): what needs it
    refuses, naming it, and ``audit verify`` names every such record."""

    code = "damaged_record"
    exit_code = 1
    http_status = 409


class PermissionDenied(ClearanceError):
    """The actor does not hold the office (or delegation) this needs, or it is their own case."""

    code = "forbidden"
    http_status = 403


class SignatureError(ClearanceError):
    """A signature does not verify against the registered key, or a key cannot be unlocked."""

    code = "bad_signature"
    http_status = 403


class AuthenticationError(ClearanceError):
    """No valid session, API token or bearer token; or a wrong user name or password."""

    code = "unauthenticated"
    http_status = 401


class Throttled(AuthenticationError):
    """Too many failed sign-ins for one user name from one address: sign-in waits.

    ``retry_after`` is how many seconds to wait (the ``Retry-After`` of the answer).
    """

    code = "too_many_attempts"
    http_status = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TooLarge(ClearanceError):
    """A request body larger than the server reads (``CLEARANCE_MAX_BODY_BYTES``): refused unread."""

    code = "too_large"
    http_status = 413


class StoreError(ClearanceError):
    """The database cannot be opened, or has not been initialised (``clearance init``).

    Raised only when nothing was recorded: a change either was not begun or
    was rolled back.
    """

    code = "store_unavailable"
    http_status = 503


class OutcomeUnknown(StoreError):
    """The database failed while a change was being committed: it may have been recorded.

    Nothing can tell which from here, so the answer says so: a retry that is
    safe (the same idempotency key) is the way to find out.
    """

    code = "outcome_unknown"
