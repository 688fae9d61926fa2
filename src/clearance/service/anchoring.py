"""The system key, the witness beside the database, and checkpoints (``core.anchors``).

One Ed25519 key per installation seals every event the ledger receives and
signs its checkpoints. It lives in a file beside the database, readable by
its owner only (``CLEARANCE_SYSTEM_KEY``, default ``<data dir>/keys/system.key``),
unencrypted, because the server signs without anyone at the keyboard. Every
instance of an installation uses the same key file; its public half is
recorded on the ledger (``system_key_added``) and given to auditors
(``clearance audit public-key``), who check seals and checkpoints against
the copy they keep, never against the database.

``clearance init`` creates the key, records it, and checkpoints a ledger it
finds unsealed (one written before seals existed), so that everything before
the upgrade is vouched for. After every commit, the last sealed event is
written to the *witness* file beside the database: someone who can change
the database but not that folder cannot cut events off the ledger's end, or
rewrite that event, unnoticed, and the system signs no checkpoint over a
ledger that does not hold it. The witness follows whatever ledger the system
extends, so it vouches for its own event only, not for those before it
(``core.anchors``).
"""

from __future__ import annotations

import base64
import datetime as dt
import fcntl
import json
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from clearance.core.actors import SYSTEM
from clearance.core.anchors import CHECKPOINT_EVERY, Anchor, Checkpoint, seal_message, seal_valid
from clearance.core.chain import EventType
from clearance.core.events import PayloadError, SystemKeyAdded
from clearance.errors import ConflictError, StoreError
from clearance.store.db import Database
from clearance.store.records import LedgerRecord
from clearance.store.repository import Store

__all__ = [
    "WITNESS_FILE",
    "SystemKey",
    "SystemKeyFile",
    "Witness",
    "checkpoint",
    "checkpoint_if_due",
    "initialise",
    "installation_key",
    "prepare",
    "registered_keys",
    "sealed_store",
    "stored_checkpoints",
]

WITNESS_FILE = "ledger-witness.json"


class SystemKey:
    """The installation's signing key: seals events and signs checkpoints (a ``store.ledger.Sealer``).

    It remembers the last ``REMEMBERED`` seals it made, so that a checkpoint, which checks
    every seal since the last one, compares those with what it made instead of verifying
    their signatures again (a tenth of a submission's time, docs/benchmarks.md).
    """

    REMEMBERED = 2 * CHECKPOINT_EVERY

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self._made: dict[tuple[int, str], str] = {}
        self._made_lock = threading.Lock()
        raw = private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.public_key = base64.b64encode(raw).decode()

    @classmethod
    def load(cls, path: Path) -> SystemKey | None:
        """The key in ``path``; None when there is no file."""
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"cannot read the system key {path}: {exc.strerror}") from None
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError):
            raise StoreError(
                f"{path} does not hold a system key (an unencrypted PEM key)"
            ) from None
        if not isinstance(key, Ed25519PrivateKey):
            raise StoreError(f"{path} does not hold an Ed25519 key")
        return cls(key)

    @classmethod
    def create(cls, path: Path) -> SystemKey:
        """A new key written to ``path`` (0600); an existing file is never overwritten."""
        private = Ed25519PrivateKey.generate()
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
            out.flush()
            os.fsync(out.fileno())
        return cls(private)

    def sign(self, message: bytes) -> str:
        return base64.b64encode(self._private.sign(message)).decode()

    def seal(self, seq: int, hash: str) -> str:
        seal = self.sign(seal_message(seq, hash))
        with self._made_lock:
            self._made[(seq, hash)] = seal
            if len(self._made) > self.REMEMBERED:
                del self._made[next(iter(self._made))]
        return seal

    def made(self, seq: int, hash: str, seal: str) -> bool:
        return self._made.get((seq, hash)) == seal

    def checkpoint(self, seq: int, head: str, at: dt.datetime) -> Checkpoint:
        return Checkpoint.sign(
            seq=seq, head=head, at=at, signer=self.sign, public_key=self.public_key
        )


class SystemKeyFile:
    """The installation's key, read from its file when first needed (a ``store.ledger.Sealer``).

    A process may start before ``clearance init`` made the key; it then finds
    it at its first write, and until then refuses to write, saying why.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._key: SystemKey | None = None

    def key(self) -> SystemKey:
        if self._key is None:
            self._key = SystemKey.load(self.path)
        if self._key is None:
            raise StoreError(f"there is no system key at {self.path}; run 'clearance init'")
        return self._key

    @property
    def public_key(self) -> str:
        return self.key().public_key

    def seal(self, seq: int, hash: str) -> str:
        return self.key().seal(seq, hash)

    def made(self, seq: int, hash: str, seal: str) -> bool:
        return self.key().made(seq, hash, seal)

    def checkpoint(self, seq: int, head: str, at: dt.datetime) -> Checkpoint:
        return self.key().checkpoint(seq, head, at)

    def sign(self, message: bytes) -> str:
        return self.key().sign(message)


def installation_key(store: Store) -> str | None:
    """The public half of the key the store seals with; None when there is none yet."""
    if store.sealer is None:
        return None
    try:
        return store.sealer.public_key
    except StoreError:
        return None


@dataclass(frozen=True, slots=True)
class Witness:
    """The last sealed event this installation committed, in a file beside the database.

    Written after each commit (a ``store.ledger.Observer``), replaced whole
    (a temporary file, then a rename) under a lock, and only ever moved
    forward, so concurrent workers cannot leave it behind a later event.
    """

    path: Path

    def __call__(self, events: Sequence[LedgerRecord]) -> None:
        last = max(events, key=lambda e: e.seq)
        if last.seal is None:
            return
        with open(self.path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            known = self.read() or {}
            seq = known.get("seq")
            if isinstance(seq, int) and seq >= last.seq:
                return
            temporary = self.path.with_suffix(".partial")
            temporary.write_text(
                json.dumps({"seq": last.seq, "hash": last.hash, "seal": last.seal}),
                encoding="utf-8",  # pragma: no mutate
            )
            os.replace(temporary, self.path)

    def read(self) -> dict[str, object] | None:
        """The witness as written; None when there is none yet."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))  # pragma: no mutate
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {"unreadable": True}
        return data if isinstance(data, dict) else {"unreadable": True}

    def anchor(self, public_key: str) -> Anchor | str | None:
        """The witness as an anchor; a problem (text) when it cannot be trusted; None if absent."""
        data = self.read()
        if data is None:
            return None
        seq, hash, seal = data.get("seq"), data.get("hash"), data.get("seal")
        if not (isinstance(seq, int) and isinstance(hash, str) and isinstance(seal, str)):
            return f"the witness file {self.path} is damaged"
        if not seal_valid(public_key, seq, hash, seal):
            return f"the witness file {self.path} is not sealed by the system key"
        return Anchor(seq, hash, f"the witness file (event {seq})", vouches=False)


def sealed_store(database: Database, *, key_path: Path, data_dir: Path) -> Store:
    """The store every command and server process writes through: sealed with the system key
    (when there is one yet: ``clearance init`` makes it), the witness kept after each commit."""
    witness = Witness(data_dir / WITNESS_FILE)
    return Store(database, sealer=SystemKeyFile(key_path), observers=[witness], witness=witness)


def registered_keys(store: Store) -> list[str]:
    """The system public keys recorded on the ledger, oldest first (a row that is not such an
    event, whatever its type column says, is passed over: ``audit verify`` names it)."""
    with store.reading() as tx:
        events = tx.ledger.of_type(EventType.SYSTEM_KEY_ADDED)
    keys = []
    for event in events:
        try:
            payload = event.event.payload
        except PayloadError:
            continue
        if isinstance(payload, SystemKeyAdded):
            keys.append(payload.public_key)
    return keys


def initialise(store: Store, key_path: Path, *, now: dt.datetime) -> SystemKey:
    """Make sure the installation has its system key, recorded on the ledger, and that the
    ledger is anchored: run by ``clearance init`` after the migrations.

    A ledger already sealed by another key is refused: the key file of the
    installation must be copied here, never replaced.
    """
    key = SystemKey.load(key_path)
    known = registered_keys(store)
    if key is None:
        if known:
            raise ConflictError(
                f"the ledger is sealed by the system key {known[-1]}, which is not at {key_path}:"
                " copy the installation's key file there (CLEARANCE_SYSTEM_KEY)"
            )
        key = SystemKey.create(key_path)
    elif known and key.public_key not in known:
        raise ConflictError(
            f"the key at {key_path} is not the ledger's system key ({known[-1]}):"
            " copy the installation's key file there (CLEARANCE_SYSTEM_KEY)"
        )
    store.sealer = key
    with store.transaction() as tx:
        tx.serialise()
        unsealed = tx.ledger.unsealed_tail()
        if unsealed:  # written before seals existed: vouch for them as found
            tx.ledger.checkpoint(now, "upgrade", unsealed=True)
        if key.public_key not in known:
            tx.append(SystemKeyAdded(key.public_key), actor=SYSTEM, at=now)
    return key


def prepare(store: Store, key_path: Path, *, now: dt.datetime) -> SystemKey:
    """Bring the database up to date and make sure the ledger is anchored: what
    ``clearance init`` (and ``serve --demo``) does before anything is written."""
    store.database.migrate()
    return initialise(store, key_path, now=now)


def checkpoint(
    store: Store,
    *,
    now: dt.datetime,
    reason: str,
    keep: Callable[[Checkpoint], None] | None = None,
) -> Checkpoint:
    """Sign the ledger's head now and keep the checkpoint in the database; ``keep`` (writing it
    to a file, say) runs before the commit, so if it fails nothing is kept at all."""
    with store.transaction() as tx:
        made = tx.ledger.checkpoint(now, reason)
        if keep is not None:
            keep(made)
        return made


def stored_checkpoints(store: Store, *, limit: int) -> list[dict[str, object]]:
    """The checkpoints kept in the database, newest first, each with what made it."""
    with store.reading() as tx:
        stored = tx.checkpoints.all()
    return [{**s.checkpoint.as_dict(), "reason": s.reason} for s in reversed(stored[-limit:])]


def checkpoint_if_due(store: Store, *, now: dt.datetime, minutes: int) -> Checkpoint | None:
    """A checkpoint by the clock, unless any instance signed one in the last ``minutes``.

    Serialised with every writer, so several server processes sharing a
    database sign one checkpoint per interval between them, not one each.
    Only a checkpoint the system key signed counts: a row written into the
    database by someone else cannot put the next one off.
    """
    key = installation_key(store)
    with store.transaction() as tx:
        tx.serialise()
        latest = None if key is None else tx.checkpoints.last_signed(key)
        if latest is not None:
            signed = dt.datetime.fromisoformat(latest.at)
            if now - signed < dt.timedelta(minutes=minutes):
                return None
        return tx.ledger.checkpoint(now, "interval")
