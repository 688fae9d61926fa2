"""Answers already worked out, kept by the question that gave them: a bounded memo.

Cedar's answer is a pure function of the bundle (immutable, named by its
content's revision) and the Cedar request, so a holder's judgement of one
question never changes, and a screener asked the same question again (a long
stream, a replay of history under a candidate, a diff of two bundles over a
sample) can answer from memory instead of asking Cedar, which costs far more
than looking up a key. The memo is bounded (least recently used out first), so
a process that screens without end keeps flat memory; its hit and miss counts
say how much it saved.

What goes into a key is the memo's user's to get right (``evaluate.question_key``,
``engine.Screener``): everything that feeds the answer, and the answer is
returned as it was first made, so it must be immutable.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["DEFAULT_CAPACITY", "Key", "Memo", "MemoStats"]

V = TypeVar("V")

DEFAULT_CAPACITY = 32_768
"""Entries a memo keeps unless told otherwise: a few tens of megabytes at most, and room for
every distinct question of a day's screening on the seed pack."""


class Key:
    """The parts of a question, hashed once: a memo's lookups hash a key several times (the
    lookup, the move to the end, the batch's own bookkeeping), and hashing a request model
    again each time would cost more than the lookups themselves."""

    __slots__ = ("_hash", "parts")

    def __init__(self, *parts: Hashable) -> None:
        self.parts = parts
        self._hash = hash(parts)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Key) and self._hash == other._hash and self.parts == other.parts

    def __repr__(self) -> str:
        return f"Key{self.parts!r}"


@dataclass(frozen=True, slots=True)
class MemoStats:
    """How a memo has done so far: lookups answered, lookups not, entries held."""

    hits: int
    misses: int
    size: int
    capacity: int

    @property
    def hit_rate(self) -> float:
        asked = self.hits + self.misses
        return self.hits / asked if asked else 0.0

    def as_dict(self) -> dict[str, float]:
        return {
            "hits": self.hits,
            "misses": self.misses,
            "size": self.size,
            "capacity": self.capacity,
            "hit_rate": self.hit_rate,
        }


class Memo(Generic[V]):
    """A map of at most ``capacity`` entries that forgets the least recently used first.

    Safe to share between threads (the web server's screener is): a lookup and
    the move to the end that goes with it are one step, under a lock."""

    __slots__ = ("_entries", "_lock", "capacity", "hits", "misses")

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("a memo holds at least one entry")
        self.capacity = capacity
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[Key, V] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Key) -> V | None:
        """The answer kept for ``key`` (now the most recently used), or None, counted."""
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found

    def put(self, key: Key, value: V) -> None:
        """Keep ``value`` for ``key``, forgetting the least recently used entry if full."""
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            if len(self._entries) > self.capacity:
                self._entries.popitem(last=False)  # pragma: no mutate

    def reused(self) -> None:
        """Count a hit that needed no lookup: a question asked again within one batch."""
        with self._lock:
            self.hits += 1

    def stats(self) -> MemoStats:
        with self._lock:
            return MemoStats(self.hits, self.misses, len(self._entries), self.capacity)
