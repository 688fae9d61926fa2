"""The rules of the ledger's store side (``store.ledger``): the head, the readers, the
checkpoints kept, and the one check before the system signs a checkpoint.

``tests/test_ledger.py`` and ``tests/test_attacks.py`` attack whole ledgers; here each rule is
stated over a few events in a copied SQLite file, with every refusal in its exact words.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from clearance.core.anchors import Checkpoint, seal_valid
from clearance.core.chain import GENESIS, EventType, Scheme
from clearance.errors import LedgerBroken, StoreError
from clearance.service.anchoring import WITNESS_FILE, SystemKey
from clearance.store import ledger as store_ledger
from clearance.store.dialect import count_more
from clearance.store.ledger import CheckpointTables, LedgerTables, StoredCheckpoint
from clearance.store.pending import Pending
from clearance.store.records import LedgerRecord
from clearance.store.repository import Store

from .ledger_worlds import T0, add_case, fill, ledger_store, row, sql, v1_events


@pytest.fixture
def key() -> SystemKey:
    """A key of the test's own: what it remembers making starts empty."""
    return SystemKey(Ed25519PrivateKey.generate())


@pytest.fixture
def store(tmp_path: Path, key: SystemKey) -> Store:
    with ledger_store(tmp_path, key) as made:
        yield made


def _record(store: Store, seq: int) -> LedgerRecord:
    r = row(store, seq)
    return LedgerRecord(
        r["seq"],
        r["case_id"],
        r["prev_hash"],
        r["body"],
        r["hash"],
        r["type"],
        r["scheme"],
        r["seal"],
    )


def _sign(store: Store, *, reason: str = "on demand", unsealed: bool = False) -> Checkpoint:
    with store.transaction() as tx:
        return tx.ledger.checkpoint(T0, reason, unsealed=unsealed)


def _refused(store: Store, *, unsealed: bool = False) -> str:
    with pytest.raises(LedgerBroken) as refused:
        _sign(store, unsealed=unsealed)
    return str(refused.value)


NOT_SIGNING = "not signing a checkpoint over the ledger: "


# the head and the readers ---------------------------------------------------------------


def test_an_empty_ledger_ends_at_zero_with_the_genesis_hash(store: Store) -> None:
    with store.transaction() as tx:
        assert tx.ledger.head() == (0, GENESIS)
        assert tx.ledger.last_seq() == 0


def test_the_head_is_the_last_event_and_its_hash(store: Store) -> None:
    fill(store, 5)
    with store.reading() as tx:
        assert tx.ledger.head() == (5, row(store, 5)["hash"])
        assert tx.ledger.last_seq() == 5


def test_the_head_queues_behind_writers_once_and_is_then_moved_on_by_the_writer(
    store: Store,
) -> None:
    """``head`` serialises once and reads once; ``moved_to`` moves it; ``last_seq`` reads
    without queueing."""
    fill(store, 3)
    head = row(store, 3)["hash"]
    calls: list[str] = []
    with Session(store.database.engine) as session:
        ledger = LedgerTables(
            session,
            pending=Pending(session, conflicts={}, count_more=count_more(is_sqlite=True)),
            serialise=lambda: calls.append("serialise"),
            checkpoints=CheckpointTables(session),
            sealer=None,
            witness=None,
        )
        assert ledger.last_seq() == 3
        assert calls == []
        assert ledger.head() == (3, head)
        assert ledger.head() == (3, head)
        assert calls == ["serialise"]
        ledger.moved_to(4, "sha256:" + "4" * 64)
        assert ledger.head() == (4, "sha256:" + "4" * 64)
        assert calls == ["serialise"]


def test_events_of_a_type_and_of_a_case_are_read_oldest_first_whole(store: Store) -> None:
    fill(store, 8)
    with store.reading() as tx:
        of_type = tx.ledger.of_type(EventType.QUESTION_ANSWERED)
        of_case = tx.ledger.of_case("case-a")
        assert [r.seq for r in tx.ledger.of_case("case-b")] == [5]
    assert of_type == [_record(store, seq) for seq in (2, 4, 6, 8)]
    assert of_case == [_record(store, seq) for seq in (3, 7)]
    assert of_case[0].seal is not None
    assert of_case[0].scheme == Scheme.V2


def test_a_page_is_newest_first_cut_at_its_limit_and_before_a_number(store: Store) -> None:
    fill(store, 8)
    with store.reading() as tx:
        assert [r.seq for r in tx.ledger.page(max_level=None)] == [8, 7, 6, 5, 4, 3, 2, 1]
        assert tx.ledger.page(max_level=None, limit=2) == [_record(store, 8), _record(store, 7)]
        assert [r.seq for r in tx.ledger.page(max_level=None, before=4)] == [3, 2, 1]
        assert [r.seq for r in tx.ledger.page(max_level=None, type="case_state_changed")] == [
            7,
            5,
            3,
            1,
        ]
        assert [r.seq for r in tx.ledger.page(max_level=None, case_id="case-a")] == [7, 3]


def test_a_page_leaves_out_cases_above_the_readers_level_and_cases_not_found(
    store: Store,
) -> None:
    """Events of no case are shown; of a case at or below the level, shown; of a case above
    it, or of a case the tables do not hold, left out. With no level, all are shown."""
    fill(store, 10)  # case-a: events 3 and 7; case-b: 5; the rest, no case
    add_case(store, "case-a", 1, 1)
    add_case(store, "case-b", 2, 2)
    sql(store, "UPDATE ledger SET case_id = 'case-z' WHERE seq = 9")
    with store.reading() as tx:
        assert [r.seq for r in tx.ledger.page(max_level=1)] == [10, 8, 7, 6, 4, 3, 2, 1]
        assert [r.seq for r in tx.ledger.page(max_level=2)] == [10, 8, 7, 6, 5, 4, 3, 2, 1]
        assert [r.seq for r in tx.ledger.page(max_level=0)] == [10, 8, 6, 4, 2, 1]
        assert len(tx.ledger.page(max_level=None)) == 10


# the checkpoints kept -------------------------------------------------------------------


def test_a_checkpoint_is_signed_over_the_head_and_kept_with_its_reason(
    store: Store, key: SystemKey
) -> None:
    fill(store, 4)
    made = _sign(store, reason="interval")
    assert (made.seq, made.head, made.at) == (4, row(store, 4)["hash"], T0.isoformat())
    assert made.public_key == key.public_key
    assert made.problem(key.public_key) is None
    with store.reading() as tx:
        assert tx.checkpoints.all() == [StoredCheckpoint(made, "interval")]


def test_the_last_signed_checkpoint_passes_over_rows_another_key_signed(
    store: Store, key: SystemKey, tmp_path: Path
) -> None:
    fill(store, 4)
    first = _sign(store, reason="first")
    other = SystemKey(Ed25519PrivateKey.generate()).checkpoint(4, row(store, 4)["hash"], T0)
    with store.transaction() as tx:
        tx.checkpoints.add(other, "forged")
    with store.reading() as tx:
        assert tx.checkpoints.last_signed(key.public_key) == first
        assert tx.checkpoints.last_signed(other.public_key) == other
        assert [s.reason for s in tx.checkpoints.all()] == ["first", "forged"]


def test_no_checkpoint_is_the_last_signed_of_an_empty_table(store: Store, key: SystemKey) -> None:
    with store.reading() as tx:
        assert tx.checkpoints.last_signed(key.public_key) is None
        assert tx.checkpoints.all() == []


def test_a_store_without_a_key_signs_no_checkpoint(tmp_path: Path) -> None:
    with ledger_store(tmp_path, None) as store, pytest.raises(StoreError) as refused:
        _sign(store)
    assert refused.value.message == "there is no system key to sign with; run 'clearance init'"


def test_a_checkpoint_over_an_empty_ledger_vouches_for_the_genesis_hash(store: Store) -> None:
    made = _sign(store)
    assert (made.seq, made.head) == (0, GENESIS)


def test_a_checkpoint_over_seals_this_key_made_checks_no_signature(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(store, 4)
    checked: list[int] = []

    def counted(public_key: str, seq: int, hash: str, seal: str | None) -> bool:
        checked.append(seq)
        return seal_valid(public_key, seq, hash, seal)

    monkeypatch.setattr(store_ledger, "seal_valid", counted)
    _sign(store)
    assert checked == []


def test_seals_another_process_made_with_the_key_are_checked_by_signature(
    store: Store, key: SystemKey, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same key loaded afresh remembers nothing: every seal since the last checkpoint is
    checked by its signature, and holds."""
    fill(store, 4)
    _sign(store)
    fill(store, 3, start=4)
    store.sealer = SystemKey(key._private)
    checked: list[int] = []

    def counted(public_key: str, seq: int, hash: str, seal: str | None) -> bool:
        checked.append(seq)
        return seal_valid(public_key, seq, hash, seal)

    monkeypatch.setattr(store_ledger, "seal_valid", counted)
    assert _sign(store).seq == 7
    assert checked == [5, 6, 7]


# what stops a checkpoint ---------------------------------------------------------------


def test_no_checkpoint_over_a_ledger_cut_before_the_last_checkpoint(store: Store) -> None:
    fill(store, 6)
    _sign(store)
    sql(store, "DELETE FROM ledger WHERE seq > 4")
    assert _refused(store) == NOT_SIGNING + "the ledger ends at event 4, before its checkpoint at 6"


def test_no_checkpoint_over_an_event_its_last_checkpoint_vouches_for_rewritten(
    store: Store,
) -> None:
    fill(store, 4)
    _sign(store)
    fill(store, 2, start=4)
    sql(store, "UPDATE ledger SET hash = :h WHERE seq = 4", h="sha256:" + "4" * 64)
    assert _refused(store) == NOT_SIGNING + "event 4 is not the one its checkpoint vouches for"


def test_no_checkpoint_over_a_ledger_cut_before_the_witness(store: Store) -> None:
    fill(store, 6)
    sql(store, "DELETE FROM ledger WHERE seq > 4")
    assert _refused(store) == (
        NOT_SIGNING + "the ledger ends at event 4, before the witness file (event 6)"
    )


def test_no_checkpoint_over_the_witnessed_event_rewritten(store: Store) -> None:
    fill(store, 6)
    sql(store, "UPDATE ledger SET hash = :h WHERE seq = 6", h="sha256:" + "6" * 64)
    assert _refused(store) == (
        NOT_SIGNING + "event 6 is not the one the witness file (event 6) vouches for"
    )


def test_no_checkpoint_while_the_witness_cannot_be_trusted(store: Store, tmp_path: Path) -> None:
    fill(store, 2)
    (tmp_path / WITNESS_FILE).write_text('{"seq": "two"}', encoding="utf-8")
    assert _refused(store) == NOT_SIGNING + f"the witness file {tmp_path / WITNESS_FILE} is damaged"


def test_a_checkpoint_without_a_witness_checks_the_chain_alone(tmp_path: Path) -> None:
    key = SystemKey(Ed25519PrivateKey.generate())
    with ledger_store(tmp_path, key, witness=False) as store:
        fill(store, 3)
        assert _sign(store).seq == 3
        fill(store, 2, start=3)
        sql(store, "UPDATE ledger SET body = replace(body, 'T09:', 'T10:') WHERE seq = 4")
        assert _refused(store) == NOT_SIGNING + "event 4: its content does not match its hash"


def test_no_checkpoint_over_a_ledger_missing_an_event(store: Store) -> None:
    fill(store, 6)
    sql(store, "DELETE FROM ledger WHERE seq = 2")
    assert _refused(store) == (
        NOT_SIGNING + "the ledger holds 5 rows, but its events run from 1 to 6"
    )


def test_no_checkpoint_over_a_ledger_with_a_row_outside_the_chain(store: Store) -> None:
    fill(store, 4)
    r = row(store, 4)
    sql(
        store,
        "INSERT INTO ledger (seq, case_id, type, prev_hash, body, hash, scheme, seal)"
        " VALUES (-1, NULL, :t, :p, :b, :h, 2, :s)",
        t=r["type"],
        p=r["prev_hash"],
        b=r["body"],
        h="sha256:" + "9" * 64,
        s=r["seal"],
    )
    assert _refused(store) == (
        NOT_SIGNING + "the ledger holds 5 rows, but its events run from 1 to 4"
    )


def test_no_checkpoint_over_an_event_changed_since_the_last_checkpoint(store: Store) -> None:
    """The chain is checked from the event after the last checkpoint, linked to its head."""
    fill(store, 4)
    _sign(store)
    fill(store, 4, start=4)
    sql(store, "UPDATE ledger SET body = replace(body, 'T09:', 'T10:') WHERE seq = 5")
    assert _refused(store) == NOT_SIGNING + "event 5: its content does not match its hash"


def test_no_checkpoint_over_an_event_linked_elsewhere_after_the_last_checkpoint(
    store: Store,
) -> None:
    fill(store, 4)
    _sign(store)
    fill(store, 2, start=4)
    sql(store, "UPDATE ledger SET prev_hash = :h WHERE seq = 5", h="sha256:" + "3" * 64)
    assert _refused(store) == NOT_SIGNING + "event 5: does not link to the event before it"


def test_no_checkpoint_over_an_event_sealed_for_another(store: Store) -> None:
    fill(store, 4)
    sql(store, "UPDATE ledger SET seal = :s WHERE seq = 3", s=row(store, 2)["seal"])
    assert _refused(store) == NOT_SIGNING + "event 3 is not sealed by the system key"


def test_no_checkpoint_over_an_event_whose_seal_was_removed(store: Store) -> None:
    fill(store, 4)
    sql(store, "UPDATE ledger SET seal = NULL WHERE seq = 3")
    assert _refused(store) == NOT_SIGNING + "event 3 is not sealed by the system key"


def test_unsealed_events_are_vouched_for_only_when_asked_and_only_before_the_first_seal(
    tmp_path: Path,
) -> None:
    """A ledger from before seals: refused unless ``unsealed``; then signed, once."""
    key = SystemKey(Ed25519PrivateKey.generate())
    with ledger_store(tmp_path, key, witness=False) as store:
        v1_events(store, range(1, 3))
        with store.reading() as tx:
            assert tx.ledger.unsealed_tail() is True
        assert _refused(store) == NOT_SIGNING + "event 1 is not sealed by the system key"
        assert _sign(store, reason="upgrade", unsealed=True).seq == 2
        with store.reading() as tx:
            assert tx.ledger.unsealed_tail() is False
        fill(store, 2, start=2)
        with store.reading() as tx:
            assert tx.ledger.unsealed_tail() is False
        assert _sign(store).seq == 4


def test_an_unsealed_event_after_a_sealed_one_is_never_vouched_for(tmp_path: Path) -> None:
    key = SystemKey(Ed25519PrivateKey.generate())
    with ledger_store(tmp_path, key, witness=False) as store:
        v1_events(store, range(1, 2))
        fill(store, 1, start=1)
        v1_events(store, range(3, 4))
        assert _refused(store, unsealed=True) == (
            NOT_SIGNING + "event 3 is not sealed by the system key"
        )


def test_an_unsealed_event_after_a_checkpoint_is_never_vouched_for(tmp_path: Path) -> None:
    key = SystemKey(Ed25519PrivateKey.generate())
    with ledger_store(tmp_path, key, witness=False) as store:
        v1_events(store, range(1, 2))
        _sign(store, unsealed=True)
        v1_events(store, range(2, 3))
        with store.reading() as tx:
            assert tx.ledger.unsealed_tail() is True
        assert _refused(store, unsealed=True) == (
            NOT_SIGNING + "event 2 is not sealed by the system key"
        )


def test_a_body_is_hashed_as_the_bytes_it_was_stored_as() -> None:
    assert store_ledger._bytes(None) is None
    assert store_ledger._bytes(b"\xff") == b"\xff"
    assert store_ledger._bytes("ё\ud800") == "ё".encode() + b"\xed\xa0\x80"
    assert store_ledger._bytes(7) == b"7"


def test_a_checkpoint_at_a_later_time_is_kept_after_the_first(store: Store) -> None:
    fill(store, 2)
    first = _sign(store, reason="first")
    fill(store, 2, start=2)
    with store.transaction() as tx:
        second = tx.ledger.checkpoint(T0 + dt.timedelta(hours=1), "second")
    assert (second.seq, second.at) == (4, (T0 + dt.timedelta(hours=1)).isoformat())
    with store.reading() as tx:
        assert tx.checkpoints.all() == [
            StoredCheckpoint(first, "first"),
            StoredCheckpoint(second, "second"),
        ]


def test_a_checkpoint_vouches_for_unsealed_events_only_when_asked(tmp_path: Path) -> None:
    key = SystemKey(Ed25519PrivateKey.generate())
    with ledger_store(tmp_path, key, witness=False) as store:
        v1_events(store, range(1, 2))
        with store.reading() as tx:
            assert tx.ledger.unsealed_tail() is True
        with pytest.raises(LedgerBroken) as refused, store.transaction() as tx:
            tx.ledger.checkpoint(T0, "on demand")
        assert str(refused.value) == NOT_SIGNING + "event 1 is not sealed by the system key"


def test_a_page_holds_fifty_events_unless_told(store: Store) -> None:
    fill(store, 52)
    with store.reading() as tx:
        page = tx.ledger.page(max_level=None)
    assert [r.seq for r in page] == list(range(52, 2, -1))


def _rewritten_last(store: Store, seq: int) -> None:
    """Row ``seq`` deleted and written again as it was: the table now stores it last."""
    r = row(store, seq)
    sql(store, "DELETE FROM ledger WHERE seq = :s", s=seq)
    sql(
        store,
        "INSERT INTO ledger (seq, case_id, type, prev_hash, body, hash, scheme, seal)"
        " VALUES (:seq, :case_id, :type, :prev_hash, :body, :hash, :scheme, :seal)",
        **r,
    )


def test_events_are_read_in_sequence_order_whatever_order_their_rows_were_stored_in(
    store: Store,
) -> None:
    fill(store, 8)
    _rewritten_last(store, 3)
    _rewritten_last(store, 2)
    with store.reading() as tx:
        assert [r.seq for r in tx.ledger.of_case("case-a")] == [3, 7]
        assert [r.seq for r in tx.ledger.of_type(EventType.QUESTION_ANSWERED)] == [2, 4, 6, 8]
    assert _sign(store).seq == 8
