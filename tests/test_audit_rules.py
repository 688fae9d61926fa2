"""The rules of auditing the ledger in the database (``service.audit``): which key is trusted,
what anchors the chain, which seals are checked, and every finding in its exact words.

``tests/test_ledger.py`` and ``tests/test_attacks.py`` attack whole ledgers; here each rule is
stated over a few events in a copied SQLite file, or on ``judge`` and ``seal_findings``
alone.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, ClassVar

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from clearance.core.actors import SYSTEM
from clearance.core.anchors import Anchor, Checkpoint
from clearance.core.chain import GENESIS, ChainReport, Scheme
from clearance.core.events import SystemKeyAdded, UserAdded
from clearance.service import audit
from clearance.service.anchoring import WITNESS_FILE, SystemKey, SystemKeyFile, Witness, checkpoint
from clearance.service.audit import (
    AuditReport,
    Finding,
    TrustedKey,
    anchors_from,
    judge,
    seal_findings,
    verify,
    verify_installation,
)
from clearance.store.repository import Store

from .ledger_worlds import T0, fill, ledger_store, row, sql, v1_events

HEAD = "sha256:" + "a" * 64
NOT_SEALED = "is not sealed by the system key: it was written or changed outside clearance"


@pytest.fixture
def key() -> SystemKey:
    return SystemKey(Ed25519PrivateKey.generate())


@pytest.fixture
def store(tmp_path: Path, key: SystemKey) -> Store:
    with ledger_store(tmp_path, key) as made:
        yield made


def _trusted(key: SystemKey) -> TrustedKey:
    return TrustedKey(key.public_key, "the auditor's copy")


def _problems(report: AuditReport) -> list[tuple[int | None, str]]:
    return [(f.seq, f.problem) for f in report.findings]


# the report ------------------------------------------------------------------------------


def test_a_report_without_findings_is_ok_and_says_so_in_full() -> None:
    key = TrustedKey("public", "the auditor's copy")
    report = AuditReport(
        5,
        HEAD,
        (),
        key,
        anchored_to=4,
        checkpoints=2,
        seals=1,
        rows=9,
        unverifiable=3,
        redacted=2,
        file_checked=True,
    )
    assert (report.ok, report.first_bad, report.problem) == (True, None, "")
    assert report.as_dict() == {
        "ok": True,
        "events": 5,
        "head": HEAD,
        "first_bad_seq": None,
        "problem": "",
        "problems": [],
        "anchored_to": 4,
        "checkpoints_checked": 2,
        "seals_checked": 1,
        "rows_checked": 9,
        "file_checked": True,
        "unverifiable": 3,
        "redacted": 2,
        "system_key": "public",
        "system_key_source": "the auditor's copy",
    }


def test_a_reports_first_bad_event_is_the_lowest_any_finding_names() -> None:
    report = AuditReport(
        5, findings=(Finding(None, "no key"), Finding(4, "four"), Finding(2, "two"))
    )
    assert (report.ok, report.first_bad, report.problem) == (False, 2, "no key")
    assert report.as_dict()["problems"] == [
        {"seq": None, "problem": "no key"},
        {"seq": 4, "problem": "four"},
        {"seq": 2, "problem": "two"},
    ]
    assert (report.as_dict()["system_key"], report.as_dict()["system_key_source"]) == (None, None)
    assert AuditReport(0, findings=(Finding(None, "no key"),)).first_bad is None
    assert AuditReport(0).head == GENESIS


# seals -----------------------------------------------------------------------------------


def test_seals_are_counted_and_the_first_bad_one_named_with_how_many_more(key: SystemKey) -> None:
    good = [(seq, Scheme.V2, f"h{seq}", key.seal(seq, f"h{seq}")) for seq in (1, 2)]
    assert seal_findings(good, key.public_key) == (2, [])
    bad = [
        *good,
        (3, Scheme.V1, "h3", None),
        (4, Scheme.V2, "h4", key.seal(5, "h4")),
        (5, Scheme.V2, "h5", None),
    ]
    assert seal_findings(bad, key.public_key) == (
        5,
        [
            Finding(
                3,
                "event 3 carries no seal and no checkpoint vouches for it (and 2 later events alike)",
            )
        ],
    )
    assert seal_findings(bad[3:4], key.public_key) == (1, [Finding(4, f"event 4 {NOT_SEALED}")])
    assert seal_findings(bad[2:4], key.public_key) == (
        2,
        [
            Finding(
                3,
                "event 3 carries no seal and no checkpoint vouches for it (and 1 later events alike)",
            )
        ],
    )


def test_the_stored_seals_say_the_scheme_by_whether_a_seal_is_there(store: Store) -> None:
    fill(store, 3)
    sql(store, "UPDATE ledger SET seal = NULL WHERE seq = 2")
    assert list(audit._stored_seals(store, 2, 3)) == [
        (2, Scheme.V1, row(store, 2)["hash"], None),
        (3, Scheme.V2, row(store, 3)["hash"], row(store, 3)["seal"]),
    ]


# anchors ---------------------------------------------------------------------------------


def test_without_a_key_nothing_is_anchored_and_that_is_a_finding(key: SystemKey) -> None:
    made = key.checkpoint(3, HEAD, T0)
    assert anchors_from([(made, "in the database")], None) == (
        [],
        [Finding(None, "no system key to check seals and checkpoints against")],
    )


def test_checkpoints_the_key_signed_are_anchors_and_others_findings(
    key: SystemKey, tmp_path: Path
) -> None:
    good = key.checkpoint(3, HEAD, T0)
    forged = SystemKey(Ed25519PrivateKey.generate()).checkpoint(5, HEAD, T0)
    damaged = Checkpoint("5", HEAD, "then", "{}", "sig", key.public_key)  # type: ignore[arg-type]
    witness = Witness(tmp_path / WITNESS_FILE)
    anchors, findings = anchors_from(
        [(good, "in the database"), (forged, "a file"), (damaged, "another file")],
        _trusted(key),
        witness,
    )
    assert anchors == [Anchor(3, HEAD, f"the checkpoint of {T0.isoformat()} (in the database)")]
    assert findings == [
        Finding(
            5,
            f"the checkpoint of {T0.isoformat()} (a file): its signature does not verify"
            " against the system's public key",
        ),
        Finding(
            None,
            "the checkpoint of then (another file): it is damaged: a field is missing or not of"
            " its type",
        ),
    ]


def test_the_witness_is_an_anchor_or_a_finding(key: SystemKey, tmp_path: Path) -> None:
    witness = Witness(tmp_path / WITNESS_FILE)
    witness([_record(7, HEAD, key.seal(7, HEAD))])
    assert anchors_from([], _trusted(key), witness) == (
        [Anchor(7, HEAD, "the witness file (event 7)", vouches=False)],
        [],
    )
    (tmp_path / WITNESS_FILE).write_text("{}", encoding="utf-8")
    assert anchors_from([], _trusted(key), witness) == (
        [],
        [Finding(None, f"the witness file {tmp_path / WITNESS_FILE} is damaged")],
    )


def _record(seq: int, hash: str, seal: str) -> object:
    from clearance.store.records import LedgerRecord

    return LedgerRecord(seq, None, GENESIS, "{}", hash, "t", 2, seal)


# judging ---------------------------------------------------------------------------------


class _Seals:
    """The seals ``judge`` asks for, from the number it starts at."""

    def __init__(self, key: SystemKey, count: int) -> None:
        self.key, self.count, self.asked = key, count, []  # type: list[int]

    def __call__(self, start: int) -> Iterable[tuple[int, int, str, str | None]]:
        self.asked.append(start)
        for seq in range(start, self.count + 1):
            yield seq, Scheme.V2, f"h{seq}", self.key.seal(seq, f"h{seq}")


def test_a_broken_chain_is_judged_by_its_first_bad_event_alone(key: SystemKey) -> None:
    chain = ChainReport(3, 4, "does not link to the event before it", HEAD)
    seals = _Seals(key, 9)
    report = judge(
        chain, [Anchor(9, HEAD, "x")], [Finding(None, "no")], _trusted(key), seals, all_seals=True
    )
    assert report == AuditReport(
        3,
        HEAD,
        (Finding(4, "does not link to the event before it"), Finding(None, "no")),
        _trusted(key),
        chain_events=3,
    )
    assert seals.asked == []


def test_seals_are_checked_from_the_last_checkpoint_that_holds(key: SystemKey) -> None:
    chain = ChainReport(6, head=HEAD, seen={4: "h4"}, unverifiable=2)
    anchors = [Anchor(4, "h4", "a checkpoint")]
    seals = _Seals(key, 6)
    report = judge(chain, anchors, [], _trusted(key), seals, all_seals=False)
    assert report == AuditReport(
        6,
        HEAD,
        (),
        _trusted(key),
        anchored_to=4,
        checkpoints=1,
        seals=2,
        unverifiable=2,
        chain_events=6,
    )
    assert seals.asked == [5]
    swept = judge(chain, anchors, [], _trusted(key), _Seals(key, 6), all_seals=True)
    assert swept.seals == 6


def test_an_anchor_the_chain_does_not_hold_is_a_finding_after_the_others(key: SystemKey) -> None:
    chain = ChainReport(6, head=HEAD, seen={2: "h2", 4: "h4"})
    anchors = [Anchor(4, "other", "two"), Anchor(2, "h2", "one")]
    report = judge(
        chain, anchors, [Finding(None, "first")], _trusted(key), _Seals(key, 6), all_seals=False
    )
    assert _problems(report) == [
        (None, "first"),
        (
            4,
            "event 4 is not the one two vouches for: the ledger was rewritten between events 3 and 4",
        ),
    ]
    assert (report.anchored_to, report.checkpoints, report.seals) == (2, 2, 4)


def test_without_a_key_no_seal_is_checked(key: SystemKey) -> None:
    seals = _Seals(key, 3)
    report = judge(ChainReport(3, head=HEAD), [], [], None, seals, all_seals=True)
    assert (report.seals, report.key, seals.asked) == (0, None, [])


# verifying the database -------------------------------------------------------------------


def test_an_empty_ledger_verifies(store: Store, key: SystemKey) -> None:
    told: list[int] = []
    report = verify(store, key=_trusted(key), progress=told.append)
    assert report == AuditReport(0, GENESIS, (), _trusted(key), file_checked=True)
    assert told == []


def test_a_ledger_of_one_event_verifies(store: Store, key: SystemKey) -> None:
    fill(store, 1)
    report = verify(store, key=_trusted(key))
    assert report == AuditReport(
        1, row(store, 1)["hash"], (), _trusted(key), seals=1, chain_events=1, file_checked=True
    )


def test_an_untouched_ledger_verifies_every_seal_since_its_last_checkpoint(
    store: Store, key: SystemKey, tmp_path: Path
) -> None:
    fill(store, 4)
    report = verify_installation(store, tmp_path, key=_trusted(key))
    assert report == AuditReport(
        4,
        row(store, 4)["hash"],
        (),
        _trusted(key),
        checkpoints=1,
        seals=4,
        chain_events=4,
        file_checked=True,
    )
    checkpoint(store, now=T0, reason="on demand")
    fill(store, 2, start=4)
    report = verify_installation(store, tmp_path, key=_trusted(key))
    assert (report.ok, report.anchored_to, report.checkpoints, report.seals) == (True, 4, 2, 2)
    assert verify(store, key=_trusted(key), all_seals=True).seals == 6


def test_the_installations_key_file_is_trusted_when_no_key_is_given(
    store: Store, key: SystemKey
) -> None:
    fill(store, 2)
    assert verify(store).key == TrustedKey(
        key.public_key, "the installation's system key file", independent=True
    )


def test_failing_that_the_last_key_the_ledger_records_is_trusted_not_independently(
    tmp_path: Path, key: SystemKey, store: Store
) -> None:
    second = SystemKey(Ed25519PrivateKey.generate())
    with store.transaction() as tx:
        tx.append(SystemKeyAdded("first"), actor=SYSTEM, at=T0)
        tx.append(SystemKeyAdded("next"), actor=SYSTEM, at=T0)
        tx.append(SystemKeyAdded(second.public_key), actor=SYSTEM, at=T0)
    store.sealer = SystemKeyFile(tmp_path / "missing.key")
    report = verify(store)
    assert report.key == TrustedKey(second.public_key, "the ledger itself", independent=False)
    assert _problems(report) == [(1, f"event 1 {NOT_SEALED} (and 2 later events alike)")]
    store.sealer = None
    assert verify(store).key == TrustedKey(
        second.public_key, "the ledger itself", independent=False
    )


def test_with_no_key_at_all_the_check_says_so(tmp_path: Path, store: Store) -> None:
    fill(store, 2)
    store.sealer = None
    report = verify(store)
    assert report.key is None
    assert _problems(report) == [(None, "no system key to check seals and checkpoints against")]
    assert report.seals == 0


def test_a_row_beside_the_chain_is_named(store: Store, key: SystemKey) -> None:
    fill(store, 4)
    sql(
        store,
        "INSERT INTO ledger (seq, case_id, type, prev_hash, body, hash, scheme, seal)"
        " VALUES (4.5, NULL, 't', 'p', 'b', 'h', 2, NULL)",
    )
    report = verify(store, key=_trusted(key))
    assert _problems(report) == [
        (
            None,
            "the ledger holds 1 row(s) that are not events of the chain (their sequence numbers"
            " are not 1 to 4): written outside clearance",
        )
    ]
    assert report.events == 4


def test_a_stray_low_number_is_caught_at_event_one(store: Store, key: SystemKey) -> None:
    fill(store, 3)
    r = row(store, 1)
    sql(
        store,
        "INSERT INTO ledger (seq, case_id, type, prev_hash, body, hash, scheme, seal)"
        " VALUES (0, NULL, :t, :p, :b, 'sha256:0', 2, NULL)",
        t=r["type"],
        p=r["prev_hash"],
        b=r["body"],
    )
    report = verify(store, key=_trusted(key))
    assert _problems(report) == [(1, "event 1 is repeated or out of order (found 0)")]
    assert report.rows == 0


def test_a_broken_chain_is_named_first_and_the_tables_are_not_checked(
    store: Store, key: SystemKey
) -> None:
    fill(store, 4)
    sql(store, "UPDATE ledger SET body = replace(body, 'T09:', 'T10:') WHERE seq = 3")
    report = verify(store, key=_trusted(key), given=[(key.checkpoint(9, HEAD, T0), "a file")])
    assert _problems(report) == [(3, "its content does not match its hash")]
    assert (report.events, report.chain_events, report.rows, report.anchored_to) == (2, 2, 0, 0)


def test_the_tables_are_checked_against_the_ledger_unless_left_out(
    store: Store, key: SystemKey
) -> None:
    """A row an event records holds; a row none records is named."""
    with store.transaction() as tx:
        tx.append(UserAdded("hegseth", "Hegseth", "US", "key"), actor=SYSTEM, at=T0)
    fill(store, 2, start=1)
    for user in ("hegseth", "mallory"):
        sql(
            store,
            "INSERT INTO users (id, name, party, public_key, created_at, roles, clearance)"
            " VALUES (:id, :name, 'US', 'key', :at, 'admin', 3)",
            id=user,
            name=user.title(),
            at=T0,
        )
    report = verify(store, key=_trusted(key))
    assert (report.rows, _problems(report)) == (
        2,
        [(None, "users: row mallory is not recorded by any event")],
    )
    assert verify(store, key=_trusted(key), tables=False) == AuditReport(
        3, row(store, 3)["hash"], (), _trusted(key), seals=3, chain_events=3
    )


def test_the_installation_check_takes_the_options_of_any_check(
    store: Store, key: SystemKey, tmp_path: Path
) -> None:
    fill(store, 4)
    checkpoint(store, now=T0, reason="on demand")
    fill(store, 2, start=4)
    assert verify_installation(store, tmp_path, key=_trusted(key)).seals == 2
    assert verify_installation(store, tmp_path, key=_trusted(key), all_seals=True).seals == 6


def test_a_checkpoint_the_auditor_holds_is_checked_with_the_stored_ones(
    store: Store, key: SystemKey
) -> None:
    fill(store, 4)
    checkpoint(store, now=T0, reason="on demand")
    kept = key.checkpoint(2, row(store, 2)["hash"], T0 + dt.timedelta(hours=1))
    report = verify(store, key=_trusted(key), given=[(kept, "the auditor's file")])
    assert (report.ok, report.anchored_to, report.checkpoints, report.seals) == (True, 4, 2, 0)
    wrong = key.checkpoint(3, HEAD, T0)
    report = verify(store, key=_trusted(key), given=[(wrong, "the auditor's file")])
    assert _problems(report) == [
        (
            3,
            f"event 3 is not the one the checkpoint of {T0.isoformat()} (the auditor's file)"
            " vouches for: the ledger was rewritten between events 1 and 3",
        ),
    ]
    assert (report.anchored_to, report.seals) == (0, 4)


def test_unsealed_events_no_checkpoint_vouches_for_are_named(
    tmp_path: Path, key: SystemKey
) -> None:
    with ledger_store(tmp_path, key, witness=False) as store:
        v1_events(store, range(1, 3))
        report = verify(store, key=_trusted(key))
        assert _problems(report) == [
            (
                1,
                "event 1 carries no seal and no checkpoint vouches for it (and 1 later events alike)",
            )
        ]


def test_the_installation_check_holds_the_ledger_to_its_witness(
    store: Store, key: SystemKey, tmp_path: Path
) -> None:
    fill(store, 4)
    sql(store, "DELETE FROM ledger WHERE seq > 2")
    assert _problems(verify_installation(store, tmp_path, key=_trusted(key))) == [
        (
            3,
            "events 3 to 4 are missing: the witness file (event 4) vouches for event 4, and the"
            " ledger ends at 2",
        )
    ]
    assert verify(store, key=_trusted(key), tables=False).ok
    assert verify_installation(store, tmp_path, key=_trusted(key), tables=False).rows == 0
    fill(store, 3, start=2)
    swept = verify_installation(store, tmp_path, key=_trusted(key), all_seals=True)
    assert (swept.ok, swept.seals) == (True, 5)


def test_a_checkpoint_in_the_database_that_does_not_hold_is_named_as_such(
    store: Store, key: SystemKey
) -> None:
    fill(store, 4)
    checkpoint(store, now=T0, reason="on demand")
    sql(store, "UPDATE checkpoints SET head = :h", h=HEAD)
    report = verify(store, key=_trusted(key), tables=False)
    assert _problems(report) == [
        (
            4,
            f"the checkpoint of {T0.isoformat()} (in the database): its statement does not say"
            " what its fields say",
        )
    ]
    assert (report.anchored_to, report.seals) == (0, 4)


# the chain, in one process or several -----------------------------------------------------


def test_the_number_of_workers_is_the_cpus_this_process_may_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(audit.os, "sched_getaffinity", lambda _: {0, 2, 5}, raising=False)
    assert audit._workers() == 3
    monkeypatch.setattr(audit.mp, "get_all_start_methods", lambda: ["spawn"])
    assert audit._workers() == 1


def test_without_cpu_affinity_the_workers_are_the_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(audit.os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(audit.os, "cpu_count", lambda: 6)
    assert audit._workers() == 6
    monkeypatch.setattr(audit.os, "cpu_count", lambda: None)
    assert audit._workers() == 1


def test_a_short_ledger_is_checked_in_this_process_and_its_progress_told_once(
    store: Store, key: SystemKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(store, 5)
    monkeypatch.setattr(audit, "_workers", lambda: 4)

    def no_pool(*_: object, **__: object) -> None:
        raise AssertionError("no process pool for a short ledger")

    monkeypatch.setattr(audit, "ProcessPoolExecutor", no_pool)
    told: list[int] = []
    assert verify(store, key=_trusted(key), progress=told.append, tables=False).ok
    assert told == [5]
    told.clear()
    assert verify(store, key=_trusted(key), progress=told.append, workers=1, tables=False).ok
    assert told == [5]


def test_a_ledger_checked_by_several_processes_is_stitched_whole(
    store: Store, key: SystemKey
) -> None:
    fill(store, 9)
    told: list[int] = []
    report = verify(store, key=_trusted(key), progress=told.append, workers=3, tables=False)
    assert report == AuditReport(
        9, row(store, 9)["hash"], (), _trusted(key), seals=9, chain_events=9
    )
    assert told[-1] == 9
    assert told == sorted(told)


def test_several_processes_name_the_first_bad_event_of_any_run(
    store: Store, key: SystemKey, pool: type[_Pool]
) -> None:
    fill(store, 9)
    checkpoint(store, now=T0, reason="on demand")
    sql(store, "UPDATE ledger SET body = replace(body, 'T09:', 'T10:') WHERE seq IN (5, 8)")
    report = verify(store, key=_trusted(key), workers=3, tables=False)
    assert _problems(report) == [(5, "its content does not match its hash")]
    sql(store, "UPDATE ledger SET body = replace(body, 'T10:', 'T09:') WHERE seq = 5")
    report = verify(store, key=_trusted(key), workers=2, tables=False)
    assert _problems(report) == [(8, "its content does not match its hash")]
    assert report.events == 7
    assert pool.made == [(3, "fork"), (2, "fork")]


class _Pool(ProcessPoolExecutor):
    """A process pool that records how it was made and the runs it was given."""

    made: ClassVar[list[tuple[int | None, str]]] = []
    runs: ClassVar[list[tuple[object, ...]]] = []

    def __init__(self, max_workers: int | None = None, **options: Any) -> None:
        _Pool.made.append((max_workers, options["mp_context"].get_start_method()))
        super().__init__(max_workers, **options)

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        _Pool.runs.append(args)
        return super().submit(fn, *args, **kwargs)


@pytest.fixture
def pool(monkeypatch: pytest.MonkeyPatch) -> type[_Pool]:
    monkeypatch.setattr(_Pool, "made", [])
    monkeypatch.setattr(_Pool, "runs", [])
    monkeypatch.setattr(audit, "ProcessPoolExecutor", _Pool)
    return _Pool


def test_the_ledger_is_cut_into_one_run_per_process_forked(
    store: Store, key: SystemKey, pool: type[_Pool]
) -> None:
    """The first run from event 1 (or below) linked to the genesis hash; the rest from their
    first event, their link taken on trust and then checked by ``stitch``."""
    fill(store, 9)
    assert verify(store, key=_trusted(key), workers=3, tables=False).ok
    assert pool.made == [(3, "fork")]
    assert pool.runs == [(1, 3, GENESIS, 1), (4, 6, None, 4), (7, 9, None, 7)]


def test_a_long_ledger_is_checked_by_as_many_processes_as_there_are_cpus(
    store: Store, key: SystemKey, pool: type[_Pool], monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(store, 4)
    monkeypatch.setattr(audit, "PARALLEL_FROM", 4)
    monkeypatch.setattr(audit, "_workers", lambda: 2)
    assert verify(store, key=_trusted(key), tables=False).ok
    assert pool.runs == [(1, 2, GENESIS, 1), (3, 4, None, 3)]
    monkeypatch.setattr(audit, "PARALLEL_FROM", 5)
    assert verify(store, key=_trusted(key), tables=False).ok
    assert len(pool.runs) == 2


def test_an_event_missing_at_the_end_of_a_run_is_named(store: Store, key: SystemKey) -> None:
    fill(store, 9)
    sql(store, "DELETE FROM ledger WHERE seq = 3")
    report = verify(store, key=_trusted(key), workers=3, tables=False)
    assert _problems(report)[0] == (3, "event 3 is missing or out of order")


def test_a_stray_low_number_is_caught_by_the_first_of_several_processes(
    store: Store, key: SystemKey
) -> None:
    fill(store, 6)
    r = row(store, 1)
    sql(
        store,
        "INSERT INTO ledger (seq, case_id, type, prev_hash, body, hash, scheme, seal)"
        " VALUES (0, NULL, :t, :p, :b, 'sha256:0', 2, NULL)",
        t=r["type"],
        p=r["prev_hash"],
        b=r["body"],
    )
    report = verify(store, key=_trusted(key), workers=2, tables=False)
    assert _problems(report) == [(1, "event 1 is repeated or out of order (found 0)")]


def test_a_run_is_read_in_batches_and_counted_as_it_goes(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(store, 5)
    monkeypatch.setattr(audit, "BATCH", 2)
    counter = mp.get_context("fork").Value("q", 0)
    segment = audit._check(store, 1, 5, GENESIS, {4}, counter)
    assert (segment.events, segment.first_bad, segment.head) == (5, None, row(store, 5)["hash"])
    assert segment.seen == {4: row(store, 4)["hash"]}
    assert counter.value == 5


def test_a_child_checks_its_run_with_what_it_was_started_with(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run here rather than in a forked process: the store, the counter and the anchors to
    watch, given once when the process starts; the run's bounds and link with each run."""
    fill(store, 6)
    monkeypatch.setattr(audit, "_child", None)
    counter = mp.get_context("fork").Value("q", 0)
    audit._start_child(store, counter, frozenset({5}))
    segment = audit._check_in_child(4, 6, None, 4)
    assert (segment.first_seq, segment.last_seq, segment.events) == (4, 6, 3)
    assert segment.start_prev == row(store, 3)["hash"]
    assert segment.seen == {5: row(store, 5)["hash"]}
    assert counter.value == 3
    first = audit._check_in_child(1, 3, GENESIS, 1)
    assert (first.events, first.first_bad, first.head) == (3, None, row(store, 3)["hash"])
    assert counter.value == 6
    r = row(store, 1)
    sql(
        store,
        "INSERT INTO ledger (seq, case_id, type, prev_hash, body, hash, scheme, seal)"
        " VALUES (0, NULL, :t, :p, :b, 'sha256:0', 2, NULL)",
        t=r["type"],
        p=r["prev_hash"],
        b=r["body"],
    )
    stray = audit._check_in_child(1, 3, GENESIS, 0)
    assert (stray.first_bad, stray.problem) == (1, "event 1 is repeated or out of order (found 0)")
