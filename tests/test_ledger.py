"""The ledger catches every kind of tampering, in the database and in an export.

An attacker here has the database (any SQL they like) but not the system key
or the data folder beside the database: they can edit, delete, insert and
recompute hashes, but cannot seal or sign. Each kind of change is caught and
named at the event it concerns, with the installation's own anchors (its
checkpoints and its witness file) and with only a checkpoint an auditor kept.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from clearance.core.anchors import CHECKPOINT_EVERY, Checkpoint, seal_valid
from clearance.core.chain import GENESIS, EventType, Link, Scheme, event_body, link_hash
from clearance.core.events import CaseStateChanged, ConditionMet
from clearance.errors import LedgerBroken, StoreError
from clearance.service import anchoring, audit, ledger_files
from clearance.service.anchoring import WITNESS_FILE, SystemKey, Witness
from clearance.store import ledger as store_ledger
from clearance.store.repository import Store

T0 = dt.datetime(2025, 6, 15, tzinfo=dt.UTC)


def _fill(store: Store, count: int = 40, start: int = 0) -> None:
    """``count`` events, a few per transaction, as the service writes them."""
    for first in range(start, start + count, 4):
        with store.transaction() as tx:
            for index in range(first, min(first + 4, start + count)):
                tx.append(
                    CaseStateChanged("in_review", "denied", f"{index}: Zaporizhzhia — «ё» 🛰"),
                    actor=f"user{index % 3}",
                    at=T0 + dt.timedelta(minutes=index),
                    case_id=f"case-{index % 4}" if index % 5 else None,
                )


@pytest.fixture(params=[1, 3], ids=["one process", "three processes"])
def workers(request: pytest.FixtureRequest) -> int:
    """Verification alone, and cut into runs checked in parallel and stitched together."""
    return int(request.param)


def _sql(store: Store, statement: str, **params: object) -> None:
    with store.database.engine.begin() as connection:
        connection.execute(text(statement), params)


def _row(store: Store, seq: int) -> dict[str, object]:
    with store.database.engine.connect() as connection:
        row = connection.execute(text("SELECT * FROM ledger WHERE seq = :s"), {"s": seq})
        return dict(row.mappings().one())


def _key(system_key: SystemKey) -> audit.TrustedKey:
    return audit.TrustedKey(system_key.public_key, "the auditor's copy")


def _own(
    store: Store, system_key: SystemKey, tmp_path: Path, **options: object
) -> audit.AuditReport:
    """The installation's own check: its checkpoints and its witness file."""
    return audit.verify(
        store, key=_key(system_key), witness=Witness(tmp_path / WITNESS_FILE), **options
    )


def _outside(store: Store, system_key: SystemKey, kept: Checkpoint) -> audit.AuditReport:
    """An auditor elsewhere: the database, the public key and a checkpoint they kept."""
    _sql(store, "DELETE FROM checkpoints")  # the attacker removes the stored ones too
    return audit.verify(store, key=_key(system_key), given=[(kept, "the auditor's file")])


def _recompute_from(store: Store, seq: int) -> None:
    """Rewrite every hash from ``seq`` on so the chain links again, as an attacker would."""
    with store.database.engine.begin() as connection:
        rows = connection.execute(
            text("SELECT seq, case_id, body FROM ledger WHERE seq >= :s ORDER BY seq"), {"s": seq}
        ).all()
        prev = (
            connection.execute(
                text("SELECT hash FROM ledger WHERE seq = :s"), {"s": seq - 1}
            ).scalar()
            or GENESIS
        )
        for number, case_id, body in rows:
            digest = link_hash(number, case_id, prev, body)
            connection.execute(
                text("UPDATE ledger SET prev_hash = :p, hash = :h WHERE seq = :s"),
                {"p": prev, "h": digest, "s": number},
            )
            prev = digest


def test_an_untouched_ledger_verifies(
    store: Store, system_key: SystemKey, tmp_path: Path, workers: int
) -> None:
    _fill(store)
    report = _own(store, system_key, tmp_path, workers=workers)
    assert report.ok, report.findings
    # No checkpoint yet: the witness holds, but vouches for its own event only.
    assert (report.events, report.anchored_to, report.seals) == (40, 0, 40)
    anchoring.checkpoint(store, now=T0, reason="on demand")
    report = _own(store, system_key, tmp_path, workers=workers)
    assert (report.ok, report.anchored_to, report.seals) == (True, 40, 0)


def test_every_event_is_sealed_and_the_witness_follows_the_head(
    store: Store, system_key: SystemKey, tmp_path: Path
) -> None:
    _fill(store, 6)
    witness = Witness(tmp_path / WITNESS_FILE).read()
    assert witness is not None
    assert (witness["seq"], witness["hash"]) == (6, _row(store, 6)["hash"])
    assert all(_row(store, seq)["scheme"] == Scheme.V2 for seq in range(1, 7))
    report = audit.verify(store, key=_key(system_key), all_seals=True)
    assert (report.ok, report.seals) == (True, 6)


def test_an_edited_event_is_named(
    store: Store, system_key: SystemKey, tmp_path: Path, workers: int
) -> None:
    _fill(store)
    _sql(store, "UPDATE ledger SET body = replace(body, 'denied', 'approved') WHERE seq = 4")
    report = _own(store, system_key, tmp_path, workers=workers)
    assert (report.ok, report.first_bad) == (False, 4)
    assert "does not match its hash" in report.problem


@pytest.mark.parametrize("column", ["case_id = 'case-9'", "type = 'approval_given'"])
def test_an_edited_column_is_named(
    store: Store, system_key: SystemKey, tmp_path: Path, workers: int, column: str
) -> None:
    _fill(store)
    _sql(store, f"UPDATE ledger SET {column} WHERE seq = 6")
    report = _own(store, system_key, tmp_path, workers=workers)
    assert report.first_bad == 6


@pytest.mark.parametrize("seq", [1, 3, 4, 5, 7])  # with three processes: edges and middles of runs
def test_a_deleted_event_is_named(
    store: Store, system_key: SystemKey, tmp_path: Path, workers: int, seq: int
) -> None:
    _fill(store)
    _sql(store, "DELETE FROM ledger WHERE seq = :seq", seq=seq)
    report = _own(store, system_key, tmp_path, workers=workers)
    assert report.first_bad == seq


@pytest.mark.parametrize("count", [1, 10, 35])
def test_a_cut_tail_is_caught_by_the_witness_and_by_a_kept_checkpoint(
    store: Store, system_key: SystemKey, tmp_path: Path, count: int
) -> None:
    _fill(store)
    kept = anchoring.checkpoint(store, now=T0, reason="on demand")
    _sql(store, "DELETE FROM ledger WHERE seq > :n", n=40 - count)
    _sql(store, "DELETE FROM checkpoints WHERE seq > :n", n=40 - count)
    own = _own(store, system_key, tmp_path)
    assert own.first_bad == 40 - count + 1
    assert f"events {40 - count + 1} to 40 are missing" in own.problem
    outside = _outside(store, system_key, kept)
    assert outside.first_bad == 40 - count + 1


def test_the_last_event_edited_with_its_hash_recomputed_is_caught(
    store: Store, system_key: SystemKey, tmp_path: Path
) -> None:
    _fill(store)
    kept = anchoring.checkpoint(store, now=T0, reason="on demand")
    _sql(store, "UPDATE ledger SET body = replace(body, 'denied', 'approved') WHERE seq = 40")
    _recompute_from(store, 40)
    own = _own(store, system_key, tmp_path)
    assert own.first_bad == 40
    assert _outside(store, system_key, kept).first_bad == 40


def test_a_forged_event_appended_with_a_correct_hash_is_caught(
    store: Store, system_key: SystemKey, tmp_path: Path
) -> None:
    _fill(store)
    head = str(_row(store, 40)["hash"])
    body = event_body(
        at=T0.isoformat(),
        actor="secdef",
        type=EventType.APPROVAL_GIVEN,
        case_id="case-1",
        payload={"verdict": "approve"},
    )
    _sql(
        store,
        "INSERT INTO ledger (seq, case_id, type, prev_hash, body, hash, scheme, seal)"
        " VALUES (41, 'case-1', 'approval_given', :p, :b, :h, 2, :seal)",
        p=head,
        b=body,
        h=link_hash(41, "case-1", head, body),
        seal=str(_row(store, 40)["seal"]),  # a real seal, of another event
    )
    report = _own(store, system_key, tmp_path)
    assert report.first_bad == 41
    assert "not sealed by the system key" in report.problem
    # The system will not vouch for it either: no checkpoint is signed over it.
    with pytest.raises(LedgerBroken, match="event 41"):
        anchoring.checkpoint(store, now=T0, reason="on demand")


def test_a_checkpoint_checks_no_signature_of_a_seal_its_own_process_made(
    store: Store, system_key: SystemKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seals this process made are compared with what it made: a checkpoint over its own
    writes verifies no signature again (they were a tenth of a submission's time)."""
    _fill(store, 40)
    checked: list[int] = []
    real = seal_valid

    def counted(public_key: str, seq: int, hash: str, seal: str | None) -> bool:
        checked.append(seq)
        return real(public_key, seq, hash, seal)

    monkeypatch.setattr(store_ledger, "seal_valid", counted)
    anchoring.checkpoint(store, now=T0, reason="on demand")
    assert checked == []


def test_a_seal_swapped_on_an_event_this_process_sealed_is_still_caught(
    store: Store, system_key: SystemKey
) -> None:
    """What the key remembers is the seal itself, not only that it sealed the event: another
    event's real seal put in its place is checked by signature, and refused."""
    _fill(store, 40)
    _sql(store, "UPDATE ledger SET seal = :s WHERE seq = 25", s=str(_row(store, 24)["seal"]))
    with pytest.raises(LedgerBroken, match="event 25 is not sealed by the system key"):
        anchoring.checkpoint(store, now=T0, reason="on demand")


def test_a_key_remembers_only_its_latest_seals(system_key: SystemKey) -> None:
    """Memory stays bounded: beyond ``REMEMBERED`` seals the oldest is forgotten (and would be
    checked by its signature)."""
    seals = [system_key.seal(seq, f"sha256:{seq:064x}") for seq in range(SystemKey.REMEMBERED + 1)]
    assert not system_key.made(0, f"sha256:{0:064x}", seals[0])
    last = SystemKey.REMEMBERED
    assert system_key.made(last, f"sha256:{last:064x}", seals[last])
    assert not system_key.made(last, f"sha256:{last:064x}", seals[last - 1])


def test_a_rewritten_history_is_located_at_the_first_rewritten_event(
    store: Store, system_key: SystemKey, tmp_path: Path
) -> None:
    _fill(store)
    kept = anchoring.checkpoint(store, now=T0, reason="on demand")
    _sql(store, "UPDATE ledger SET body = replace(body, 'denied', 'approved') WHERE seq = 12")
    _recompute_from(store, 12)
    own = _own(store, system_key, tmp_path)
    assert own.first_bad == 12
    assert "rewritten" in " ".join(f.problem for f in own.findings)
    outside = _outside(store, system_key, kept)
    assert outside.first_bad == 12  # the seals from the start locate it
    assert "rewritten between events 1 and 40" in " ".join(f.problem for f in outside.findings)


def test_a_whole_chain_rewritten_is_caught(
    store: Store, system_key: SystemKey, tmp_path: Path
) -> None:
    _fill(store)
    kept = anchoring.checkpoint(store, now=T0, reason="on demand")
    _sql(store, "UPDATE ledger SET body = replace(body, 'user1', 'user2')")
    _recompute_from(store, 1)
    assert _own(store, system_key, tmp_path).first_bad == 2  # event 1 is user0's: unchanged
    assert _outside(store, system_key, kept).first_bad == 2


def test_checkpoints_in_the_database_are_checked(
    store: Store, system_key: SystemKey, tmp_path: Path
) -> None:
    _fill(store)
    anchoring.checkpoint(store, now=T0, reason="on demand")
    _sql(store, "UPDATE checkpoints SET head = :h", h="sha256:" + "1" * 64)
    report = _own(store, system_key, tmp_path)
    assert not report.ok
    assert "signature" in report.problem or "does not say" in report.problem


def test_a_checkpoint_signed_by_another_key_is_not_trusted(
    store: Store, system_key: SystemKey, tmp_path: Path
) -> None:
    _fill(store)
    forger = SystemKey.create(tmp_path / "forger.key")
    fake = forger.checkpoint(40, str(_row(store, 40)["hash"]), T0)
    report = audit.verify(store, key=_key(system_key), given=[(fake, "a forged file")])
    assert "signature does not verify" in report.problem


def test_an_old_seal_changed_is_caught_by_a_full_sweep(
    store: Store, system_key: SystemKey, tmp_path: Path
) -> None:
    _fill(store)
    anchoring.checkpoint(store, now=T0, reason="on demand")
    _sql(store, "UPDATE ledger SET seal = (SELECT seal FROM ledger WHERE seq = 2) WHERE seq = 3")
    assert _own(store, system_key, tmp_path).ok  # vouched for by the checkpoint after it
    swept = _own(store, system_key, tmp_path, all_seals=True)
    assert swept.first_bad == 3


def test_a_checkpoint_is_written_every_thousand_events(
    store: Store, system_key: SystemKey, tmp_path: Path
) -> None:
    _fill(store, CHECKPOINT_EVERY + 8)
    with store.reading() as tx:
        stored = tx.checkpoints.all()
    assert [(s.checkpoint.seq, s.reason) for s in stored] == [
        (CHECKPOINT_EVERY, "every 1,000 events")
    ]
    report = _own(store, system_key, tmp_path)
    assert report.ok
    assert report.seals == 8  # the checkpoint vouches for the rest; the witness does not


def test_a_store_without_the_system_key_cannot_append(store: Store) -> None:
    unsealed = Store(store.database)
    with pytest.raises(StoreError, match="no system key"), unsealed.transaction() as tx:
        tx.append(ConditionMet("c", "e"), actor="a", at=T0)


# exports --------------------------------------------------------------------------


def _export(store: Store, reader_level: int | None = None) -> list[str]:
    out = io.StringIO()
    summary = ledger_files.export(store, out, now=T0, reader_level=reader_level)
    assert summary.refused is None
    return out.getvalue().splitlines()


def test_an_export_verifies_on_its_own_and_catches_edits(
    store: Store, system_key: SystemKey
) -> None:
    _fill(store)
    lines = _export(store)
    assert json.loads(lines[0])["format"] == ledger_files.FORMAT
    report = ledger_files.verify_export(lines, "export.jsonl", key=_key(system_key))
    assert report.ok, report.findings
    assert report.events == 40
    events = [i for i, line in enumerate(lines) if '"body"' in line]
    edited = json.loads(lines[events[2]])
    edited["body"] = edited["body"].replace("user2", "user0")
    lines[events[2]] = json.dumps(edited)
    assert ledger_files.verify_export(lines, "export.jsonl", key=_key(system_key)).first_bad == 3


def test_an_export_cut_short_is_caught_by_its_own_checkpoint(
    store: Store, system_key: SystemKey
) -> None:
    _fill(store)
    lines = _export(store)[:-5]
    report = ledger_files.verify_export(lines, "export.jsonl", key=_key(system_key))
    assert report.first_bad == 36
    assert "missing" in report.problem


def test_an_export_with_a_forged_tail_is_caught(store: Store, system_key: SystemKey) -> None:
    _fill(store)
    lines = _export(store)
    last = json.loads(lines[-1])
    body = last["body"].replace("denied", "approved")
    forged = {
        **last,
        "seq": 41,
        "prev_hash": last["hash"],
        "body": body,
        "hash": link_hash(41, last["case_id"], last["hash"], body),
    }
    report = ledger_files.verify_export(
        [*lines, json.dumps(forged)], "export.jsonl", key=_key(system_key)
    )
    assert report.first_bad == 41


def test_a_redacted_export_verifies_without_the_hidden_bodies(
    store: Store, system_key: SystemKey
) -> None:
    _fill(store)
    lines = _export(store, reader_level=0)  # no case exists: every case event is above them
    items = [json.loads(line) for line in lines]
    events = [i for i in items if "seq" in i]
    hidden = [e for e in events if e.get("redacted")]
    [signed] = [i["redaction"] for i in items if "redaction" in i]
    assert signed["level"] == "UNCLASSIFIED"
    assert hidden
    assert all(
        set(e) == {"seq", "redacted", "prev_hash", "hash", "scheme", "seal", "body_hash"}
        for e in hidden
    )
    assert all(e["case_id"] is None for e in events if not e.get("redacted"))
    report = ledger_files.verify_export(lines, "export.jsonl", key=_key(system_key))
    assert report.ok, report.findings
    tampered = list(lines)
    index = next(i for i, line in enumerate(lines) if '"redacted"' in line)
    item = json.loads(lines[index])
    item["body_hash"] = "sha256:" + "2" * 64
    tampered[index] = json.dumps(item)
    assert (
        ledger_files.verify_export(tampered, "export.jsonl", key=_key(system_key)).first_bad
        == item["seq"]
    )


def test_an_export_from_before_checkpoints_still_verifies(store: Store) -> None:
    """Exports of scheme-1 ledgers had event lines only, with no type or scheme."""
    prev, lines = GENESIS, []
    for seq in range(1, 4):
        body = json.dumps(
            {
                "actor": "a",
                "at": "2025-01-01T00:00:00+00:00",
                "case_id": None,
                "payload": {"n": seq},
                "type": "condition_met",
            },
            sort_keys=True,
            separators=(",", ":"),
        )
        digest = link_hash(seq, None, prev, body, Scheme.V1)
        lines.append(
            json.dumps(
                {"seq": seq, "case_id": None, "prev_hash": prev, "body": body, "hash": digest}
            )
        )
        prev = digest
    report = ledger_files.verify_export(lines, "old.jsonl")
    assert report.chain_events == 3
    assert [f.problem for f in report.findings] == [
        "no system key to check seals and checkpoints against"
    ]


@settings(max_examples=50, deadline=None)
@given(
    payloads=st.lists(
        st.dictionaries(
            st.text(max_size=5),
            st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=8),
            max_size=3,
        ),
        min_size=1,
        max_size=12,
    ),
    victim=st.integers(min_value=0),
    data=st.data(),
)
def test_any_single_change_to_a_chain_is_caught_at_that_event(
    system_key: SystemKey, payloads: list[dict[str, object]], victim: int, data: st.DataObject
) -> None:
    """Any one change is caught at the event changed, except an event rewritten with its
    own hash recomputed (a "rehash"): that is caught by the next event's link to the hash
    before it, and, the last event having no next one, by its seal alone."""
    from clearance.core.chain import verify_links

    links = []
    seals: dict[int, str] = {}
    prev = GENESIS
    for seq, payload in enumerate(payloads, start=1):
        body = event_body(
            at="2025-01-01T00:00:00+00:00",
            actor="a",
            type=EventType.CONDITION_MET,
            case_id=None,
            payload=payload,
        )
        digest = link_hash(seq, None, prev, body)
        links.append(Link(seq, "condition_met", None, prev, digest, Scheme.V2, body))
        seals[seq] = system_key.seal(seq, digest)
        prev = digest
    assert verify_links(links).ok
    index = victim % len(links)
    link = links[index]
    tampered = list(links)
    kind = data.draw(st.sampled_from(["body", "case", "type", "drop", "rehash"]))
    if kind == "rehash":
        assert link.body is not None
        body = link.body.replace('"actor":"a"', '"actor":"mallory"', 1)
        assert body != link.body
        digest = link_hash(link.seq, None, link.prev_hash, body)
        tampered[index] = Link(link.seq, link.type, None, link.prev_hash, digest, link.scheme, body)
        report = verify_links(tampered)
        assert not seal_valid(system_key.public_key, link.seq, digest, seals[link.seq])
        if index == len(links) - 1:
            # Whole as a chain: only the seal, which the attacker cannot remake, tells.
            assert report.ok
            assert report.head == digest != link.hash
            return
        assert (report.first_bad, report.problem) == (
            link.seq + 1,
            "does not link to the event before it",
        )
        return
    if kind == "body":
        tampered[index] = Link(
            link.seq, link.type, None, link.prev_hash, link.hash, link.scheme, str(link.body) + " "
        )
    elif kind == "case":
        tampered[index] = Link(
            link.seq, link.type, "other", link.prev_hash, link.hash, link.scheme, link.body
        )
    elif kind == "type":
        tampered[index] = Link(
            link.seq, "approval_given", None, link.prev_hash, link.hash, link.scheme, link.body
        )
    else:
        del tampered[index]
        if index == len(links) - 1:
            # A shorter chain is whole by itself: only an anchor shows it was cut.
            report = verify_links(tampered)
            assert report.ok
            assert report.head != links[-1].hash
            return
    assert verify_links(tampered).first_bad == link.seq
