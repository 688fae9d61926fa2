"""Auditing the ledger: verify the chain in the database, export it as JSON lines.

An export verifies on its own: each line carries ``seq``, ``case_id``,
``prev_hash``, ``body`` and ``hash``, and ``verify_export`` applies the same
rules (core/chain.py) as ``verify`` does to the database.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from typing import IO

from clearance.core.chain import ChainReport, verify_chain
from clearance.errors import InputError
from clearance.store.repository import Store

__all__ = ["export", "verify", "verify_export"]

Progress = Callable[[int], None]


def _counted(
    links: Iterable[tuple[int, str | None, str, str, str]], progress: Progress | None
) -> Iterator[tuple[int, str | None, str, str, str]]:
    for count, link in enumerate(links, start=1):
        if progress is not None and count % 10_000 == 0:
            progress(count)
        yield link


def verify(store: Store, progress: Progress | None = None) -> ChainReport:
    """Check the whole chain in the database; the report names the first bad event."""
    with closing(store.ledger_links()) as links:
        return verify_chain(_counted(links, progress))


def _line(link: tuple[int, str | None, str, str, str]) -> str:
    seq, case_id, prev_hash, body, digest = link
    item = {"seq": seq, "case_id": case_id, "prev_hash": prev_hash, "body": body, "hash": digest}
    return json.dumps(item, ensure_ascii=False, separators=(",", ":")) + "\n"


def export(store: Store, out: IO[str]) -> ChainReport:
    """Write every event as one JSON line; returns the chain's report (the export is checked too)."""

    def written(
        links: Iterable[tuple[int, str | None, str, str, str]],
    ) -> Iterator[tuple[int, str | None, str, str, str]]:
        for link in links:
            out.write(_line(link))
            yield link

    with closing(store.ledger_links()) as links:
        report = verify_chain(written(links))
        for link in links:  # past a break, the rest is still exported for the auditor
            out.write(_line(link))
    return report


def verify_export(lines: Iterable[str], name: str) -> ChainReport:
    """Check an exported file without any database."""

    def links() -> Iterator[tuple[int, str | None, str, str, str]]:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                yield (
                    int(item["seq"]),
                    item["case_id"],
                    str(item["prev_hash"]),
                    str(item["body"]),
                    str(item["hash"]),
                )
            except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                raise InputError(name, f"line {number} is not a ledger event") from None

    return verify_chain(links())
