"""Cedar policy text, split into statements that keep their lines.

cedarpy reports a parse error without a location, and names policies by
position (``policy0``, ``policy1``, …). Reviewers and authors need more: the
file and line of a mistake, and the text of the policy that decided a case,
comments included. So the text is cut into statements here (a statement ends
at a ``;`` outside a string or comment), each parsed on its own, and every
statement keeps its first line number and its own source.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import cedarpy

from clearance.errors import PolicySourceError

__all__ = [
    "MAX_CHAIN",
    "MAX_NESTING",
    "Statement",
    "chain_problem",
    "nesting_problem",
    "parse_statements",
    "split_statements",
]

_EOF = "unexpected end of input"

MAX_NESTING = 64
"""The deepest a policy may nest brackets, or ``if`` expressions inside each other (counted as
the ``if``s of a statement). Cedar's parser recurses on nesting: at a few hundred levels
deeper than this it overflows the stack and ends the process (a crash no exception reports),
and any proposal's text reaches it. No policy of the seed pack nests more than four."""


MAX_CHAIN = 500
"""The most characters of chaining operators (``&&``, ``||``, ``+``, ``-``, ``*``, ``.``, ``[``)
a policy may hold. Each link of a chain (``a && b && …``, ``x.a.b…``) nests Cedar's tree one
level deeper, and Cedar turns a tree into Python by recursion: past about 1,300 levels that
overflows the stack and ends the process, below its own limit's refusal (100 levels) could be
given. The seed pack's policies hold at most 17."""

_CHAINING = "&|+-*.["


@dataclass(frozen=True, slots=True)
class Statement:
    """One policy as written: its text (leading comments included) and first line."""

    text: str
    line: int

    @property
    def code_line(self) -> int:
        """The first line that is not blank or a comment: where the policy really starts."""
        for offset, raw in enumerate(self.text.splitlines()):
            stripped = raw.strip()
            if stripped and not stripped.startswith("//"):
                return self.line + offset
        return self.line


def _code(text: str, line: int = 1) -> Iterator[tuple[int, str, int]]:
    """Each character of Cedar text outside its strings and comments, with its index and
    its line (counted from ``line``); a string is given as its opening quote alone."""
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "/" and text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
            continue
        yield i, char, line
        if char == "\n":
            line += 1
        elif char == '"':
            i += 1
            while i < n and text[i] != '"':
                if text[i] == "\\":
                    i += 1
                elif text[i] == "\n":
                    line += 1
                i += 1
        i += 1


def split_statements(text: str) -> list[Statement]:
    """Cut Cedar text at each top-level ``;``; a trailing fragment is kept as a statement."""
    statements: list[Statement] = []
    start, start_line = 0, 1
    for i, char, line in _code(text):
        if char == ";":
            statements.append(Statement(text[start : i + 1], start_line))
            start, start_line = i + 1, line
    rest = text[start:]
    if _has_code(rest):
        statements.append(Statement(rest, start_line))
    return [_trim(s) for s in statements]


def _has_code(fragment: str) -> bool:
    return any(line.strip() and not line.strip().startswith("//") for line in fragment.splitlines())


def _trim(statement: Statement) -> Statement:
    """Drop the blank lines (and end of the previous line) before a statement."""
    lines = statement.text.split("\n")
    skipped = 0
    while lines and not lines[0].strip():
        lines.pop(0)
        skipped += 1
    return Statement("\n".join(lines).rstrip(), statement.line + skipped)


def _error_line(statement: Statement, message: str) -> int:
    """The line at which a parse error appears: the shortest prefix that shows it. A policy
    cut short is cut short at every prefix, so it is named by its last line, as is an error
    only the whole statement shows."""
    lines = statement.text.split("\n")
    if message != _EOF:
        for count in range(1, len(lines)):  # pragma: no mutate
            try:
                cedarpy.PolicySet.from_str("\n".join(lines[:count]))
            except ValueError as exc:
                if str(exc) == message:
                    return statement.line + count - 1
    return statement.line + len(lines) - 1


def nesting_problem(text: str, line: int = 1, brackets: str = "([{") -> tuple[int, str] | None:
    """The line and the words of Cedar text's nesting past ``MAX_NESTING``, if it has any:
    ``brackets`` inside each other (a schema's ``Set<…>`` adds ``<``), or more ``if``
    expressions than that. Lines are counted from ``line``."""
    most = max(text.count("if"), sum(map(text.count, brackets)))
    if most <= MAX_NESTING:  # pragma: no mutate
        return None  # too few to nest that deep, wherever they stand: no need to read it
    closing = {"(": ")", "[": "]", "{": "}", "<": ">"}
    closers = "".join(closing[b] for b in brackets)
    depth, ifs = 0, 0
    for i, char, at in _code(text, line):
        if char in brackets:
            depth += 1
            if depth > MAX_NESTING:
                return at, f"nested more than {MAX_NESTING} brackets deep"
        elif char in closers:
            depth -= 1
        elif text.startswith("if", i) and not (_word(text, i - 1) or _word(text, i + 2)):
            ifs += 1
            if ifs > MAX_NESTING:
                return at, f"holds more than {MAX_NESTING} if-expressions"
    return None


def chain_problem(text: str, line: int = 1) -> tuple[int, str] | None:
    """The line and the words of a policy's chaining operators past ``MAX_CHAIN``, if it
    has more (outside its strings and comments). Lines are counted from ``line``."""
    if sum(map(text.count, _CHAINING)) <= MAX_CHAIN:  # pragma: no mutate
        return None  # too few anywhere in the text: no need to read it
    count = 0
    for _, char, at in _code(text, line):
        if char in _CHAINING:
            count += 1
            if count > MAX_CHAIN:
                return at, f"chains more than {MAX_CHAIN} operators (&&, ||, +, -, *, . or [)"
    return None


def _word(text: str, i: int) -> bool:
    """Whether ``text[i]`` is there and can be part of a name."""
    return 0 <= i < len(text) and (text[i].isalnum() or text[i] == "_")


def parse_statements(text: str, file: str) -> list[tuple[Statement, cedarpy.PolicySet]]:
    """Parse each statement alone; a syntax error names ``file`` and its line. A statement
    nested past ``MAX_NESTING``, or chaining past ``MAX_CHAIN``, is refused before Cedar
    reads it."""
    parsed = []
    for statement in split_statements(text):
        deep = nesting_problem(statement.text, statement.line) or chain_problem(
            statement.text, statement.line
        )
        if deep is not None:
            raise PolicySourceError(file, *deep)
        try:
            policy = cedarpy.PolicySet.from_str(statement.text)
        except ValueError as exc:
            message = str(exc)
            raise PolicySourceError(file, _error_line(statement, message), message) from None
        parsed.append((statement, policy))
    return parsed
