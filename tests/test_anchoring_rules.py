"""The rules of the system key, the witness and checkpoints (``service.anchoring``): the key
file read, written once and recorded on the ledger; the witness moved only forward; a
checkpoint by the clock only when none is recent.

``tests/test_ledger.py`` and ``tests/test_attacks.py`` attack whole ledgers with these; here
each rule is stated over a few events in a copied SQLite file, refusals in their exact words.
"""

from __future__ import annotations

import datetime as dt
import json
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from clearance.core.actors import SYSTEM
from clearance.core.anchors import CHECKPOINT_EVERY, Anchor, Checkpoint, seal_message, seal_valid
from clearance.core.chain import EventType
from clearance.core.events import SystemKeyAdded
from clearance.core.signing import verify
from clearance.errors import ConflictError, StoreError
from clearance.service import anchoring
from clearance.service.anchoring import (
    WITNESS_FILE,
    SystemKey,
    SystemKeyFile,
    Witness,
    checkpoint,
    checkpoint_if_due,
    initialise,
    installation_key,
    registered_keys,
    sealed_store,
    stored_checkpoints,
)
from clearance.store.db import open_database
from clearance.store.records import LedgerRecord
from clearance.store.repository import Store

from .ledger_worlds import T0, fill, ledger_store, row, sql, v1_events


@pytest.fixture
def key() -> SystemKey:
    return SystemKey(Ed25519PrivateKey.generate())


@pytest.fixture
def store(tmp_path: Path, key: SystemKey) -> Store:
    with ledger_store(tmp_path, key) as made:
        yield made


def _pem(private: object) -> bytes:
    return private.private_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _event(seq: int, seal: str | None, hash: str | None = None) -> LedgerRecord:
    return LedgerRecord(seq, None, "prev", "{}", hash or f"sha256:{seq:064x}", "t", 2, seal)


# the key --------------------------------------------------------------------------------


def test_a_key_is_created_owner_only_and_loads_back_as_itself(tmp_path: Path) -> None:
    path = tmp_path / "data" / "keys" / "system.key"
    made = SystemKey.create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    loaded = SystemKey.load(path)
    assert loaded is not None
    assert loaded.public_key == made.public_key
    assert len(made.public_key) == 44


def test_a_key_file_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "system.key"
    path.write_bytes(b"kept")
    with pytest.raises(FileExistsError):
        SystemKey.create(path)
    assert path.read_bytes() == b"kept"


def test_no_key_file_is_no_key(tmp_path: Path) -> None:
    assert SystemKey.load(tmp_path / "system.key") is None


def test_a_key_file_that_cannot_be_read_says_why(tmp_path: Path) -> None:
    with pytest.raises(StoreError) as refused:
        SystemKey.load(tmp_path)
    assert refused.value.message == f"cannot read the system key {tmp_path}: Is a directory"


def test_a_file_that_is_no_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "system.key"
    path.write_bytes(b"not a key")
    with pytest.raises(StoreError) as refused:
        SystemKey.load(path)
    assert refused.value.message == f"{path} does not hold a system key (an unencrypted PEM key)"


def test_a_key_that_is_not_ed25519_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "system.key"
    path.write_bytes(_pem(ec.generate_private_key(ec.SECP256R1())))
    with pytest.raises(StoreError) as refused:
        SystemKey.load(path)
    assert refused.value.message == f"{path} does not hold an Ed25519 key"


def test_a_seal_is_the_keys_signature_over_the_events_number_and_hash(key: SystemKey) -> None:
    seal = key.seal(7, "sha256:" + "7" * 64)
    assert seal_valid(key.public_key, 7, "sha256:" + "7" * 64, seal)
    assert verify(key.public_key, seal_message(7, "sha256:" + "7" * 64), seal)
    assert key.sign(b"statement") == key.sign(b"statement")
    assert verify(key.public_key, b"statement", key.sign(b"statement"))


def test_a_key_remembers_exactly_the_seals_it_made_lately(
    key: SystemKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each seal made, by number, hash and seal; beyond ``REMEMBERED`` (here 4), the oldest
    forgotten, one at a time."""
    assert SystemKey.REMEMBERED == 2 * CHECKPOINT_EVERY
    monkeypatch.setattr(SystemKey, "REMEMBERED", 4)
    seals = [key.seal(seq, f"sha256:{seq:064x}") for seq in range(4)]
    assert all(key.made(seq, f"sha256:{seq:064x}", seals[seq]) for seq in range(4))
    seals.append(key.seal(4, f"sha256:{4:064x}"))
    assert [key.made(seq, f"sha256:{seq:064x}", seals[seq]) for seq in range(5)] == [
        False,
        True,
        True,
        True,
        True,
    ]
    assert not key.made(4, f"sha256:{4:064x}", seals[3])
    assert not key.made(4, f"sha256:{0:064x}", seals[4])


def test_a_checkpoint_is_signed_by_the_key_in_utc(key: SystemKey) -> None:
    at = dt.datetime(2025, 6, 15, 11, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    made = key.checkpoint(3, "sha256:" + "3" * 64, at)
    assert (made.seq, made.head, made.at, made.public_key) == (
        3,
        "sha256:" + "3" * 64,
        "2025-06-15T09:00:00+00:00",
        key.public_key,
    )
    assert made.problem(key.public_key) is None


def test_a_key_file_is_read_when_first_needed_and_then_kept(tmp_path: Path) -> None:
    path = tmp_path / "system.key"
    lazy = SystemKeyFile(path)
    with pytest.raises(StoreError) as refused:
        lazy.seal(1, "h")
    assert refused.value.message == f"there is no system key at {path}; run 'clearance init'"
    made = SystemKey.create(path)
    assert lazy.public_key == made.public_key
    seal = lazy.seal(1, "h")
    assert seal_valid(made.public_key, 1, "h", seal)
    assert lazy.made(1, "h", seal)
    assert not lazy.made(1, "h", made.seal(2, "h"))
    assert verify(made.public_key, b"x", lazy.sign(b"x"))
    assert lazy.checkpoint(1, "h", T0).problem(made.public_key) is None
    path.unlink()
    assert lazy.public_key == made.public_key  # kept, not read again


def test_the_installation_key_is_the_stores_sealers(tmp_path: Path, store: Store) -> None:
    assert installation_key(store) == store.sealer.public_key  # type: ignore[union-attr]
    store.sealer = None
    assert installation_key(store) is None
    store.sealer = SystemKeyFile(tmp_path / "missing.key")
    assert installation_key(store) is None


# the witness -----------------------------------------------------------------------------


def test_the_witness_keeps_the_last_sealed_event_of_a_commit(tmp_path: Path) -> None:
    witness = Witness(tmp_path / WITNESS_FILE)
    assert witness.read() is None
    witness([_event(3, "s3"), _event(5, "s5"), _event(4, "s4")])
    assert json.loads((tmp_path / WITNESS_FILE).read_text(encoding="utf-8")) == {
        "seq": 5,
        "hash": f"sha256:{5:064x}",
        "seal": "s5",
    }
    assert witness.read() == {"seq": 5, "hash": f"sha256:{5:064x}", "seal": "s5"}
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "ledger-witness.json",
        "ledger-witness.lock",
    ]


def test_the_witness_only_moves_forward(tmp_path: Path) -> None:
    witness = Witness(tmp_path / WITNESS_FILE)
    witness([_event(5, "s5")])
    witness([_event(4, "s4")])
    witness([_event(5, "other")])
    assert witness.read() == {"seq": 5, "hash": f"sha256:{5:064x}", "seal": "s5"}
    witness([_event(6, "s6")])
    assert witness.read() == {"seq": 6, "hash": f"sha256:{6:064x}", "seal": "s6"}


def test_an_unsealed_last_event_leaves_the_witness_as_it_was(tmp_path: Path) -> None:
    witness = Witness(tmp_path / WITNESS_FILE)
    witness([_event(2, "s2")])
    witness([_event(3, "s3"), _event(4, None)])
    assert witness.read() == {"seq": 2, "hash": f"sha256:{2:064x}", "seal": "s2"}


def test_a_witness_over_a_file_that_is_not_one_is_replaced_by_the_next_event(
    tmp_path: Path,
) -> None:
    (tmp_path / WITNESS_FILE).write_text("[1]", encoding="utf-8")
    witness = Witness(tmp_path / WITNESS_FILE)
    assert witness.read() == {"unreadable": True}
    witness([_event(1, "s1")])
    assert witness.read() == {"seq": 1, "hash": f"sha256:{1:064x}", "seal": "s1"}


def test_a_witness_that_cannot_be_read_is_unreadable(tmp_path: Path) -> None:
    (tmp_path / WITNESS_FILE).write_text("{not json", encoding="utf-8")
    assert Witness(tmp_path / WITNESS_FILE).read() == {"unreadable": True}
    (tmp_path / "folder.json").mkdir()
    assert Witness(tmp_path / "folder.json").read() == {"unreadable": True}


def test_the_witness_is_an_anchor_for_its_own_event_only(tmp_path: Path, key: SystemKey) -> None:
    witness = Witness(tmp_path / WITNESS_FILE)
    assert witness.anchor(key.public_key) is None
    head = "sha256:" + "7" * 64
    witness([_event(7, key.seal(7, head), head)])
    assert witness.anchor(key.public_key) == Anchor(
        7, head, "the witness file (event 7)", vouches=False
    )


@pytest.mark.parametrize(
    "content",
    [
        {"hash": "h", "seal": "s"},
        {"seq": "7", "hash": "h", "seal": "s"},
        {"seq": 7, "hash": 7, "seal": "s"},
        {"seq": 7, "hash": "h", "seal": None},
        {"unreadable": True},
    ],
    ids=["no seq", "seq text", "hash number", "no seal", "unreadable"],
)
def test_a_damaged_witness_is_named(tmp_path: Path, key: SystemKey, content: object) -> None:
    path = tmp_path / WITNESS_FILE
    path.write_text(json.dumps(content), encoding="utf-8")
    assert Witness(path).anchor(key.public_key) == f"the witness file {path} is damaged"


def test_a_witness_sealed_by_another_key_is_named(tmp_path: Path, key: SystemKey) -> None:
    path = tmp_path / WITNESS_FILE
    other = SystemKey(Ed25519PrivateKey.generate())
    Witness(path)([_event(7, other.seal(7, "h"), "h")])
    assert Witness(path).anchor(key.public_key) == (
        f"the witness file {path} is not sealed by the system key"
    )


def test_the_sealed_store_seals_with_the_key_file_and_keeps_the_witness(tmp_path: Path) -> None:
    database = open_database(f"sqlite:///{tmp_path / 'clearance.db'}")
    try:
        store = sealed_store(database, key_path=tmp_path / "system.key", data_dir=tmp_path)
        assert isinstance(store.sealer, SystemKeyFile)
        assert store.sealer.path == tmp_path / "system.key"
        assert store.observers == [Witness(tmp_path / WITNESS_FILE)]
        assert store.witness == Witness(tmp_path / WITNESS_FILE)
        assert store.database is database
    finally:
        database.dispose()


# recording the key and anchoring the ledger ----------------------------------------------


def test_init_creates_the_key_and_records_it_once(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "system.key"
    with ledger_store(tmp_path, None) as store:
        made = initialise(store, path, now=T0)
        assert store.sealer is made
        assert SystemKey.load(path).public_key == made.public_key  # type: ignore[union-attr]
        assert registered_keys(store) == [made.public_key]
        with store.reading() as tx:
            [event] = tx.ledger.of_type(EventType.SYSTEM_KEY_ADDED)
            assert tx.checkpoints.all() == []
        assert (event.seq, event.event.actor, event.event.at) == (1, SYSTEM, T0)
        again = initialise(store, path, now=T0)
        assert again.public_key == made.public_key
        assert registered_keys(store) == [made.public_key]
        with store.reading() as tx:
            assert tx.ledger.last_seq() == 1


def test_init_over_a_ledger_sealed_by_a_key_that_is_not_here_is_refused(tmp_path: Path) -> None:
    first = tmp_path / "first.key"
    with ledger_store(tmp_path, None) as store:
        made = initialise(store, first, now=T0)
        store.sealer = None
        with pytest.raises(ConflictError) as refused:
            initialise(store, tmp_path / "missing.key", now=T0)
        assert refused.value.message == (
            f"the ledger is sealed by the system key {made.public_key}, which is not at"
            f" {tmp_path / 'missing.key'}: copy the installation's key file there"
            " (CLEARANCE_SYSTEM_KEY)"
        )
        assert not (tmp_path / "missing.key").exists()
        other = tmp_path / "other.key"
        SystemKey.create(other)
        with pytest.raises(ConflictError) as refused:
            initialise(store, other, now=T0)
        assert refused.value.message == (
            f"the key at {other} is not the ledger's system key ({made.public_key}):"
            " copy the installation's key file there (CLEARANCE_SYSTEM_KEY)"
        )
        assert store.sealer is None
        assert registered_keys(store) == [made.public_key]


def test_init_accepts_any_key_the_ledger_recorded(tmp_path: Path) -> None:
    """A key recorded before the last one is still the ledger's."""
    with ledger_store(tmp_path, None) as store:
        first = initialise(store, tmp_path / "first.key", now=T0)
        second = SystemKey.create(tmp_path / "second.key")
        with store.transaction() as tx:
            tx.append(SystemKeyAdded(second.public_key), actor=SYSTEM, at=T0)
        assert registered_keys(store) == [first.public_key, second.public_key]
        assert initialise(store, tmp_path / "first.key", now=T0).public_key == first.public_key
        assert registered_keys(store) == [first.public_key, second.public_key]


def test_init_vouches_for_a_ledger_written_before_seals(tmp_path: Path) -> None:
    """The events without a seal are checkpointed once ("upgrade"), then the key recorded."""
    with ledger_store(tmp_path, None, witness=False) as store:
        v1_events(store, range(1, 3))
        made = initialise(store, tmp_path / "system.key", now=T0)
        with store.reading() as tx:
            [stored] = tx.checkpoints.all()
            assert tx.ledger.head()[0] == 3
        assert (stored.checkpoint.seq, stored.reason) == (2, "upgrade")
        assert stored.checkpoint.problem(made.public_key) is None
        initialise(store, tmp_path / "system.key", now=T0)
        with store.reading() as tx:
            assert len(tx.checkpoints.all()) == 1


def test_registered_keys_pass_over_rows_that_are_not_such_events(
    store: Store, key: SystemKey
) -> None:
    """A row of that type whose body is no event, or another event, is passed over; the keys
    after it still count."""
    with store.transaction() as tx:
        tx.append(SystemKeyAdded(key.public_key), actor=SYSTEM, at=T0)
    fill(store, 2, start=1)
    with store.transaction() as tx:
        tx.append(SystemKeyAdded("second"), actor=SYSTEM, at=T0)
    sql(store, "UPDATE ledger SET type = 'system_key_added' WHERE seq = 2")
    sql(store, "UPDATE ledger SET type = 'system_key_added', body = 'nonsense' WHERE seq = 3")
    assert registered_keys(store) == [key.public_key, "second"]


def test_prepare_migrates_then_initialises(tmp_path: Path) -> None:
    database = open_database(f"sqlite:///{tmp_path / 'clearance.db'}")
    try:
        store = Store(database)
        made = anchoring.prepare(store, tmp_path / "system.key", now=T0)
        assert registered_keys(store) == [made.public_key]
    finally:
        database.dispose()


# checkpoints ------------------------------------------------------------------------------


def test_a_checkpoint_is_kept_with_its_reason_after_what_keeps_it_elsewhere(
    store: Store, key: SystemKey
) -> None:
    fill(store, 3)
    kept: list[Checkpoint] = []
    made = checkpoint(store, now=T0, reason="on demand", keep=kept.append)
    assert kept == [made]
    assert (made.seq, made.head) == (3, row(store, 3)["hash"])
    assert stored_checkpoints(store, limit=5) == [{**made.as_dict(), "reason": "on demand"}]
    assert checkpoint(store, now=T0, reason="plain") == made


def test_a_checkpoint_whose_keeping_fails_is_not_kept(store: Store) -> None:
    fill(store, 3)

    def full(_: Checkpoint) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        checkpoint(store, now=T0, reason="on demand", keep=full)
    assert stored_checkpoints(store, limit=5) == []


def test_stored_checkpoints_are_the_latest_newest_first(store: Store) -> None:
    fill(store, 2)
    for index in range(3):
        checkpoint(store, now=T0 + dt.timedelta(minutes=index), reason=f"r{index}")
    assert [c["reason"] for c in stored_checkpoints(store, limit=2)] == ["r2", "r1"]
    assert [c["reason"] for c in stored_checkpoints(store, limit=3)] == ["r2", "r1", "r0"]


def test_a_checkpoint_by_the_clock_waits_for_the_interval(store: Store) -> None:
    fill(store, 2)
    first = checkpoint_if_due(store, now=T0, minutes=60)
    assert first is not None
    assert (first.seq, first.at) == (2, T0.isoformat())
    assert checkpoint_if_due(store, now=T0 + dt.timedelta(minutes=59), minutes=60) is None
    later = checkpoint_if_due(store, now=T0 + dt.timedelta(minutes=60), minutes=60)
    assert later is not None
    assert later.at == (T0 + dt.timedelta(minutes=60)).isoformat()
    assert [c["reason"] for c in stored_checkpoints(store, limit=5)] == ["interval", "interval"]


def test_a_checkpoint_someone_else_signed_does_not_put_off_the_next(
    store: Store, key: SystemKey
) -> None:
    fill(store, 2)
    other = SystemKey(Ed25519PrivateKey.generate()).checkpoint(2, row(store, 2)["hash"], T0)
    with store.transaction() as tx:
        tx.checkpoints.add(other, "forged")
    made = checkpoint_if_due(store, now=T0, minutes=60)
    assert made is not None
    assert made.public_key == key.public_key


def test_a_checkpoint_by_the_clock_without_a_key_is_refused(tmp_path: Path) -> None:
    with ledger_store(tmp_path, None) as store, pytest.raises(StoreError) as refused:
        checkpoint_if_due(store, now=T0, minutes=60)
    assert refused.value.message == "there is no system key to sign with; run 'clearance init'"


def test_a_witness_that_cannot_be_replaced_stays_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The new witness is written beside it (``.partial``) and only then put in its place."""
    witness = Witness(tmp_path / WITNESS_FILE)
    witness([_event(1, "s1")])

    def no_rename(source: object, target: object) -> None:
        raise OSError("read-only")

    monkeypatch.setattr(anchoring.os, "replace", no_rename)
    with pytest.raises(OSError, match="read-only"):
        witness([_event(2, "s2")])
    assert witness.read() == {"seq": 1, "hash": f"sha256:{1:064x}", "seal": "s1"}
    assert json.loads((tmp_path / "ledger-witness.partial").read_text(encoding="utf-8")) == {
        "seq": 2,
        "hash": f"sha256:{2:064x}",
        "seal": "s2",
    }


def test_checkpoints_kept_are_never_read_as_signed_without_a_key(store: Store) -> None:
    """With no key, the checkpoints kept are not consulted: the refusal is the missing key."""
    fill(store, 2)
    checkpoint(store, now=T0, reason="on demand")
    store.sealer = None
    with pytest.raises(StoreError) as refused:
        checkpoint_if_due(store, now=T0 + dt.timedelta(hours=2), minutes=60)
    assert refused.value.message == "there is no system key to sign with; run 'clearance init'"
