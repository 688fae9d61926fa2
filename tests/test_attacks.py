"""Attacks on the record by someone who has the database and the files given to auditors, but
not the system key, the users' private keys or the data folder beside the database.

Each test is one attack that the checks once let through, or on which they
crashed: it now fails the way the docs say it must (named at the event it
concerns, refused, or an input error), on SQLite and on PostgreSQL where the
database matters. Attacks whose fix is larger than the code around them are
marked ``xfail`` with the fix they need.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from clearance.core.actors import ADMIN
from clearance.core.chain import GENESIS, EventType, Scheme, event_body, link_hash
from clearance.errors import InputError, LedgerBroken
from clearance.service import anchoring, audit, auditing, ledger_files
from clearance.service.anchoring import WITNESS_FILE, SystemKey, Witness
from clearance.store.repository import Store

from .cli_support import Cli
from .test_decision_proof import _check, denied  # noqa: F401 (a fixture)
from .test_ledger import _fill, _key, _row, _sql
from .worlds import G2, G5, T0, World

ANY_DATABASE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
"""Attacks the database makes no difference to (on files given to auditors, or on a check
alone): run on SQLite only."""


def _own(store: Store, system_key: SystemKey, tmp_path: Path) -> audit.AuditReport:
    """The installation's own check: its key, its checkpoints and its witness file."""
    return audit.verify(store, key=_key(system_key), witness=Witness(tmp_path / WITNESS_FILE))


def _rewrite(store: Store, first: int, edit: Any, scheme: Scheme = Scheme.V2) -> None:
    """Edit the bodies of events ``first``.. with ``edit`` and recompute every hash from there
    on with ``scheme``, leaving the seals as they were (scheme 1: none), as an attacker would."""
    with store.database.engine.begin() as connection:
        rows = connection.execute(
            text("SELECT seq, case_id, body FROM ledger WHERE seq >= :s ORDER BY seq"), {"s": first}
        ).all()
        prev = (
            connection.execute(
                text("SELECT hash FROM ledger WHERE seq = :s"), {"s": first - 1}
            ).scalar()
            or GENESIS
        )
        for seq, case_id, body in rows:
            body = edit(body)
            digest = link_hash(seq, case_id, prev, body, scheme)
            connection.execute(
                text(
                    "UPDATE ledger SET prev_hash = :p, hash = :h, body = :b, scheme = :k"
                    + (", seal = NULL" if scheme == Scheme.V1 else "")
                    + " WHERE seq = :s"
                ),
                {"p": prev, "h": digest, "b": body, "k": int(scheme), "s": seq},
            )
            prev = digest


def _approve(body: str) -> str:
    return body.replace("denied", "approved")


def _drop_not_null(store: Store, table: str, column: str, declared: str) -> None:
    """Let ``column`` hold NULL: any SQL is the attacker's, schema changes included."""
    if store.database.is_sqlite:
        with store.database.engine.begin() as connection:
            version = connection.execute(text("PRAGMA schema_version")).scalar()
            connection.execute(text("PRAGMA writable_schema = ON"))
            connection.execute(
                text("UPDATE sqlite_master SET sql = replace(sql, :was, :now) WHERE name = :t"),
                {"was": f"{column} {declared} NOT NULL", "now": f"{column} {declared}", "t": table},
            )
            connection.execute(text(f"PRAGMA schema_version = {int(version or 0) + 1}"))
            connection.execute(text("PRAGMA writable_schema = OFF"))
        store.database.engine.dispose()
        store.database.reader.dispose()
    else:
        if column == "seq":
            _sql(store, f"ALTER TABLE {table} DROP CONSTRAINT {table}_pkey")
        _sql(store, f"ALTER TABLE {table} ALTER COLUMN {column} DROP NOT NULL")


# Anchors: the witness, checkpoints and the seals after them ---------------------------


def test_a_rewrite_after_the_last_checkpoint_is_caught_after_the_next_write(
    store: Store, system_key: SystemKey, tmp_path: Path
) -> None:
    """The witness moves on with every commit, whatever the ledger it extends: a rewrite
    between the last checkpoint and the head, followed by one honest write, once passed
    as vouched for by the witness."""
    _fill(store, 20)
    anchoring.checkpoint(store, now=T0, reason="on demand")
    _fill(store, 20, start=20)
    _rewrite(store, 30, _approve)
    _fill(store, 1, start=40)  # the system extends the rewritten head; the witness follows
    report = _own(store, system_key, tmp_path)
    assert report.first_bad == 30, report.findings
    assert "not sealed by the system key" in report.problem
    with pytest.raises(LedgerBroken, match="event 30"):
        anchoring.checkpoint(store, now=T0, reason="on demand")


@pytest.mark.parametrize("witness", [True, False], ids=["with its witness", "without a witness"])
def test_no_checkpoint_is_signed_over_a_ledger_downgraded_to_scheme_1(
    store: Store, system_key: SystemKey, tmp_path: Path, witness: bool
) -> None:
    """With the checkpoints deleted and every event rewritten as scheme 1 (no seal), the
    ledger looked like one from before seals, which the system once vouched for as found."""
    _fill(store)
    anchoring.checkpoint(store, now=T0, reason="on demand")
    _sql(store, "DELETE FROM checkpoints")
    _rewrite(store, 1, _approve, Scheme.V1)
    if not witness:  # a process whose data folder never held one (another machine, say)
        (tmp_path / WITNESS_FILE).unlink()
    with pytest.raises(LedgerBroken):
        anchoring.checkpoint(store, now=T0, reason="on demand")
    with store.reading() as tx:
        assert tx.checkpoints.all() == []
    assert not _own(store, system_key, tmp_path).ok


def test_clearance_init_does_not_take_a_downgraded_ledger_for_one_from_before_seals(
    store: Store, tmp_path: Path
) -> None:
    """``clearance init`` vouches for a ledger written before seals, as found: rewritten whole
    as scheme 1, with its checkpoints deleted, a sealed ledger looks like one. The witness
    beside the database shows it was sealed, and differently."""
    key_path = tmp_path / "keys" / "system.key"
    key = SystemKey.create(key_path)
    witness = Witness(tmp_path / "init-witness.json")
    own = Store(store.database, sealer=key, observers=[witness], witness=witness)
    _fill(own)
    anchoring.checkpoint(own, now=T0, reason="on demand")
    _sql(store, "DELETE FROM checkpoints")
    _rewrite(store, 1, _approve, Scheme.V1)
    with pytest.raises(LedgerBroken, match="witness"):
        anchoring.initialise(own, key_path, now=T0)


def test_no_checkpoint_is_signed_over_a_ledger_cut_short(
    store: Store, system_key: SystemKey, tmp_path: Path
) -> None:
    """The witness shows the ledger went further than the database now says: the system
    must not sign that shorter ledger as the whole history."""
    _fill(store)
    anchoring.checkpoint(store, now=T0, reason="on demand")
    _sql(store, "DELETE FROM ledger WHERE seq > 30")
    _sql(store, "DELETE FROM checkpoints")
    with pytest.raises(LedgerBroken, match="witness"):
        anchoring.checkpoint(store, now=T0, reason="on demand")


def test_a_checkpoint_row_that_is_not_signed_does_not_stop_the_clock(
    store: Store, system_key: SystemKey
) -> None:
    """Checkpoints by the clock look at the last one kept; a row nobody signed, dated in the
    future, once kept the system from ever signing one again."""
    _fill(store, 4)
    _sql(
        store,
        "INSERT INTO checkpoints (seq, head, at, statement, signature, public_key, reason)"
        " VALUES (4, 'x', '2999-01-01T00:00:00+00:00', '{}', 'AAAA', 'AAAA', 'interval')",
    )
    made = anchoring.checkpoint_if_due(store, now=T0, minutes=60)
    assert made is not None
    assert made.problem(system_key.public_key) is None


def test_a_checkpoint_row_with_a_time_that_is_not_one_does_not_crash_the_clock(
    store: Store,
) -> None:
    _fill(store, 4)
    _sql(
        store,
        "INSERT INTO checkpoints (seq, head, at, statement, signature, public_key, reason)"
        " VALUES (4, 'x', 'yesterday', '{}', 'AAAA', 'AAAA', 'interval')",
    )
    assert anchoring.checkpoint_if_due(store, now=T0, minutes=60) is not None


# Rows the chain does not see, and rows with odd values ---------------------------------


def _forged_user(store: Store) -> str:
    """A user row that makes 'mallory' an administrator, and the event that would record it."""
    _sql(
        store,
        "INSERT INTO users (id, name, party, public_key, created_at, roles, clearance)"
        " VALUES ('mallory', 'Mallory', 'US', 'AAAA', :at, 'admin', 3)",
        at=T0,
    )
    return event_body(
        at=T0.isoformat(),
        actor="admin",
        type=EventType.USER_ADDED,
        case_id=None,
        payload={
            "user": "mallory",
            "name": "Mallory",
            "party": "US",
            "public_key": "AAAA",
            "roles": ["admin"],
            "clearance": "TOP SECRET",
        },
    )


def test_a_row_beside_the_chain_records_no_fact(
    store: Store, system_key: SystemKey, tmp_path: Path
) -> None:
    """A ledger row whose sequence number the chain never reaches (a number between two
    integers on SQLite, which keeps whatever type it is given; NULL on PostgreSQL, once its
    key is dropped) was once left out of the chain but folded into the tables' facts: a user
    row forged with it passed as recorded."""
    _fill(store)
    body = _forged_user(store)
    if store.database.is_sqlite:
        seq: float | None = 40.5
    else:
        _drop_not_null(store, "ledger", "seq", "BIGINT")
        seq = None
    _sql(
        store,
        "INSERT INTO ledger (seq, case_id, type, prev_hash, body, hash, scheme)"
        " VALUES (:seq, NULL, 'user_added', :p, :b, 'sha256:forged', 2)",
        seq=seq,
        p=str(_row(store, 40)["hash"]),
        b=body,
    )
    report = _own(store, system_key, tmp_path)
    assert not report.ok
    assert any("not events of the chain" in f.problem for f in report.findings), report.findings
    assert any("users: row mallory is not recorded" in f.problem for f in report.findings)
    with pytest.raises(LedgerBroken, match="rows"):
        anchoring.checkpoint(store, now=T0, reason="on demand")


def test_an_event_without_its_body_is_named_not_taken_for_a_redacted_one(
    store: Store, system_key: SystemKey, tmp_path: Path
) -> None:
    """A body set to NULL with the scheme set to 1 read like an event redacted for its
    reader, whose hash is taken as linked: the chain passed, then the tables' check crashed."""
    _fill(store)
    _drop_not_null(store, "ledger", "body", "TEXT")
    _sql(store, "UPDATE ledger SET body = NULL, scheme = 1 WHERE seq = 38")
    report = _own(store, system_key, tmp_path)
    assert report.first_bad == 38
    assert "has no body" in report.problem
    with pytest.raises(LedgerBroken, match="event 38"):
        anchoring.checkpoint(store, now=T0, reason="on demand")


def test_a_checkpoint_row_with_odd_values_is_named_not_a_crash(
    store: Store, system_key: SystemKey, tmp_path: Path
) -> None:
    _fill(store)
    anchoring.checkpoint(store, now=T0, reason="on demand")
    _drop_not_null(store, "checkpoints", "statement", "TEXT")
    _sql(store, "UPDATE checkpoints SET statement = NULL")
    report = _own(store, system_key, tmp_path)
    assert not report.ok
    assert "checkpoint" in report.problem
    anchoring.checkpoint(store, now=T0, reason="on demand")  # from the witness and the seals


@pytest.mark.parametrize(
    ("table", "column"),
    [
        ("ledger", "body"),
        ("ledger", "type"),
        ("ledger", "hash"),
        ("ledger", "seal"),
        ("checkpoints", "statement"),
        ("cases", "request"),
    ],
)
def test_a_value_stored_as_bytes_on_sqlite_is_not_a_crash(
    world: World, system_key: SystemKey, tmp_path: Path, table: str, column: str
) -> None:
    """SQLite keeps the type a value is given: text turned into a BLOB of the same bytes."""
    store = world.store
    if not store.database.is_sqlite:
        pytest.skip("PostgreSQL keeps a column's type")
    world.cases.submit(G2, actor="ua.liaison", now=T0)
    anchoring.checkpoint(store, now=T0, reason="on demand")
    _fill(store, 4, start=100)
    _sql(store, f"UPDATE {table} SET {column} = CAST({column} AS BLOB)")
    report = _own(store, system_key, tmp_path)
    out = io.StringIO()
    summary = ledger_files.export(store, out, now=T0)
    lines = out.getvalue().splitlines()
    again = ledger_files.verify_export(lines, "export.jsonl", key=_key(system_key))
    # The same bytes, in another type: the record is unchanged, and read as it was.
    assert report.ok, report.findings
    assert summary.refused is None
    assert again.ok, again.findings


def test_a_row_whose_type_column_says_system_key_is_not_a_crash(
    store: Store, system_key: SystemKey
) -> None:
    """Without a key of their own, an auditor's check takes the system key recorded on the
    ledger: a row whose type column was set to ``system_key_added`` crashed it."""
    _fill(store, 8)
    _sql(store, "UPDATE ledger SET type = 'system_key_added' WHERE seq = 5")
    report = audit.verify(Store(store.database))  # no key file, no --public-key
    assert report.first_bad == 5
    assert "type or case column" in report.problem


def test_an_event_whose_body_is_not_json_is_named_not_a_crash(
    store: Store, system_key: SystemKey, tmp_path: Path
) -> None:
    """The last event's body replaced by text that is not JSON, its hash recomputed: its seal
    names it, and the tables' check, which reads every body, once crashed on it."""
    _fill(store, 8)
    _rewrite(store, 8, lambda body: body.replace('"payload":{', '"payload":{{'))
    report = _own(store, system_key, tmp_path)
    said = [f.problem for f in report.findings]
    assert "event 8: its body is not a JSON object" in said, said
    with pytest.raises(LedgerBroken, match="event 8"):
        auditing.ledger_page(store, actor=ADMIN)  # as the local operator reads it


def test_a_table_value_that_is_not_of_its_type_is_named_not_a_crash(
    world: World, system_key: SystemKey, tmp_path: Path
) -> None:
    """SQLite keeps a time column's value whatever it is; reading it as a time failed."""
    if not world.store.database.is_sqlite:
        pytest.skip("PostgreSQL refuses the value")
    world.cases.submit(G2, actor="ua.liaison", now=T0)
    _sql(world.store, "UPDATE cases SET created_at = 'yesterday', is_open = 'no'")
    report = _own(world.store, system_key, tmp_path)
    said = [f.problem for f in report.findings]
    assert any("has created_at 'yesterday'" in p for p in said), said
    assert any("has is_open 'no'" in p for p in said), said


# Exports ---------------------------------------------------------------------------


def _export(store: Store, reader_level: int | None = None) -> list[str]:
    out = io.StringIO()
    ledger_files.export(store, out, now=T0, reader_level=reader_level)
    return out.getvalue().splitlines()


def _events(lines: list[str]) -> list[int]:
    return [i for i, line in enumerate(lines) if line.startswith('{"seq"')]


def _redact(line: str, scheme: Scheme) -> str:
    """An event line turned into a redacted one, as the attacker, who has its body, can."""
    item = json.loads(line)
    hidden: dict[str, Any] = {
        "seq": item["seq"],
        "redacted": True,
        "prev_hash": item["prev_hash"],
        "hash": item["hash"],
        "scheme": int(scheme),
        "seal": item["seal"],
    }
    if scheme == Scheme.V2:
        hidden["body_hash"] = "sha256:" + hashlib.sha256(item["body"].encode()).hexdigest()
    return json.dumps(hidden)


@ANY_DATABASE
@pytest.mark.parametrize("scheme", [Scheme.V2, Scheme.V1])
def test_an_event_redacted_in_a_whole_export_is_named(
    store: Store, system_key: SystemKey, scheme: Scheme
) -> None:
    """A whole export (``redacted_above`` null) once verified with events hidden in it, so
    an auditor was shown a ledger without them; as scheme 1, not even the body's digest."""
    _fill(store)
    lines = _export(store)
    at = _events(lines)[9]
    lines[at] = _redact(lines[at], scheme)
    report = ledger_files.verify_export(lines, "export.jsonl", key=_key(system_key))
    assert report.first_bad == 10, report.findings
    assert "redacted" in report.problem


@ANY_DATABASE
def test_an_event_turned_to_scheme_1_in_a_redacted_export_is_named(
    store: Store, system_key: SystemKey
) -> None:
    """A redacted line of scheme 1 is only linked, its hash not recomputed; a sealed event
    was never of scheme 1."""
    _fill(store)
    lines = _export(store, reader_level=0)
    at = next(i for i in _events(lines) if '"redacted":true' in lines[i])
    seq = json.loads(lines[at])["seq"]
    lines[at] = _redact(lines[at], Scheme.V1)
    report = ledger_files.verify_export(lines, "export.jsonl", key=_key(system_key))
    assert report.first_bad == seq, report.findings
    assert "scheme 1 but carries a seal" in report.problem


@ANY_DATABASE
def test_an_export_whose_header_names_another_key_is_named(
    store: Store, system_key: SystemKey, tmp_path: Path
) -> None:
    _fill(store, 8)
    lines = _export(store)
    header = json.loads(lines[0])
    header["system_public_key"] = SystemKey.create(tmp_path / "other.key").public_key
    lines[0] = json.dumps(header)
    report = ledger_files.verify_export(lines, "export.jsonl", key=_key(system_key))
    assert not report.ok
    assert "another system key" in report.problem


def _line_with(lines: list[str], index: int, **changes: object) -> list[str]:
    item = json.loads(lines[index])
    if "checkpoint" in item:
        item["checkpoint"].update(changes)
    else:
        item.update(changes)
    return [*lines[:index], json.dumps(item), *lines[index + 1 :]]


@ANY_DATABASE
@pytest.mark.parametrize(
    "craft",
    [
        "a redacted body_hash that is not ASCII",
        "a body with a lone surrogate",
        "a checkpoint statement with a lone surrogate",
        "a redacted hash that is not ASCII, linked to by the next event",
    ],
)
def test_a_crafted_export_line_is_named_not_a_crash(
    store: Store, system_key: SystemKey, craft: str
) -> None:
    _fill(store, 8)
    lines = _export(store, reader_level=0 if craft.startswith("a redacted") else None)
    events = _events(lines)
    hidden = [n for n, i in enumerate(events) if '"redacted":true' in lines[i]]
    if craft.startswith("a redacted body_hash"):
        lines = _line_with(lines, events[hidden[0]], body_hash="sha256:é")
    elif craft.startswith("a body"):
        lines = _line_with(lines, events[2], body="{\ud800}")
    elif craft.startswith("a checkpoint"):
        lines = _line_with(lines, 1, statement="\ud800")
    else:
        at, after = events[hidden[0]], events[hidden[0] + 1]
        lines[at] = _redact(lines[at], Scheme.V1)
        lines = _line_with(lines, at, hash="sha256:é")
        lines = _line_with(lines, after, prev_hash="sha256:é")
    try:
        report = ledger_files.verify_export(lines, "export.jsonl", key=_key(system_key))
    except InputError:
        return
    assert not report.ok


@ANY_DATABASE
def test_a_kept_checkpoint_file_with_a_lone_surrogate_is_named_not_a_crash(
    cli: Cli,
) -> None:
    made = cli.json("audit", "checkpoint")
    made["statement"] = made["statement"][:-1] + "\ud800}"
    path = cli.tmp / "kept.json"
    path.write_text(json.dumps(made))
    result = cli("audit", "verify", "--checkpoint", str(path), ok=False)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == (
        f"error: {path}: not Unicode text: \\ud800 is half of a surrogate pair"
    )


# Case files ------------------------------------------------------------------------


def _said(report: dict[str, Any]) -> list[str]:
    return [*report["problems"], *(p for s in report["signatures"] for p in s["problems"])]


def _as_scheme_1(event: dict[str, Any], **payload: object) -> None:
    """An event of the file rewritten, with a scheme-1 hash anyone can compute and no seal."""
    body = json.loads(event["body"])
    body["payload"].update(payload)
    event["body"] = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    event["payload"] = body["payload"]
    event["scheme"], event["seal"] = 1, None
    event["hash"] = link_hash(
        event["seq"], event["case_id"], event["prev_hash"], event["body"], Scheme.V1
    )


@ANY_DATABASE
def test_a_case_event_forged_as_scheme_1_is_not_vouched_for(
    cli: Cli,
    denied: tuple[dict[str, Any], str, str],  # noqa: F811 (the fixture imported above)
) -> None:
    """Scheme-1 events carry no seal, and their hash needs no key: the Secretary's denial
    turned into a withdrawal once verified."""
    case, keys, system = denied
    forged = json.loads(json.dumps(case))
    forged["events"] = [e for e in forged["events"] if e["type"] != "approval_denied"]
    _as_scheme_1(forged["events"][-1], to="withdrawn", why="Withdrawn by the requester")
    forged["approvals"], forged["state"] = [], "withdrawn"
    code, report = _check(cli, forged, keys, system)
    assert code == 1, report
    assert any("carries no seal" in p for p in _said(report)), report


@ANY_DATABASE
def test_a_whole_case_file_cannot_claim_to_be_withheld(
    cli: Cli,
    denied: tuple[dict[str, Any], str, str],  # noqa: F811 (the fixture imported above)
) -> None:
    """``figures_withheld`` is the file's own word: added to a whole file, it once turned
    off the check of the file's story against its events."""
    case, keys, system = denied
    forged = json.loads(json.dumps(case))
    forged["decision"]["stockpile"] = {"figures_withheld": True}
    forged["submitted_by"] = "usdp"
    code, report = _check(cli, forged, keys, system)
    assert code == 1, report
    assert report["complete"] is True
    assert any("submitted_by is 'usdp' in the file" in p for p in _said(report)), report


@ANY_DATABASE
def test_a_withheld_case_file_still_tells_its_state_and_conditions(
    world: World, system_key: SystemKey
) -> None:
    """A file shown to a reader who may not see another party's stock figures has its
    decision's event redacted; its other events still say what state the case is in and which
    conditions are met, and once were not compared with the file."""
    from clearance.service.decision_proof import prove

    case, _ = world.cases.submit(G5, actor="us.liaison", now=T0)
    # Ukraine's minister sees every case (an office holder), and only Ukraine's stock.
    world.people.grant(
        user_id="ua.liaison",
        authority="ua.mod",
        valid_from=T0.date(),
        valid_to=None,
        actor="admin",
        now=T0,
    )
    shown = world.cases.view(case.id, actor="ua.liaison").as_dict(T0)
    honest = prove(shown, None, system_key.public_key)
    assert (honest.valid, honest.complete) == (True, False), honest.problems
    forged = json.loads(json.dumps(shown))
    forged["state"] = "cleared"
    for condition in forged["conditions"]:
        condition["met"] = True
    proof = prove(forged, None, system_key.public_key)
    assert not proof.valid
    assert any("state is 'cleared' in the file" in p for p in proof.problems), proof.problems
    assert "the conditions in the file are not the ones its events record" in proof.problems


@ANY_DATABASE
def test_a_case_file_naming_another_system_key_is_named(
    cli: Cli,
    denied: tuple[dict[str, Any], str, str],  # noqa: F811 (the fixture imported above)
) -> None:
    case, keys, system = denied
    forged = {**case, "system_public_key": "A" * 43 + "="}
    code, report = _check(cli, forged, keys, system)
    assert code == 1, report
    assert any("another system key" in p for p in _said(report)), report


@ANY_DATABASE
@pytest.mark.parametrize("craft", ["prev_hash", "statement"])
def test_a_crafted_case_file_is_named_not_a_crash(
    cli: Cli,
    denied: tuple[dict[str, Any], str, str],  # noqa: F811 (the fixture imported above)
    craft: str,
) -> None:
    case, keys, system = denied
    forged = json.loads(json.dumps(case))
    if craft == "prev_hash":
        forged["events"][1]["prev_hash"] = "sha256:é"
    else:
        answer = forged["approvals"][0]
        answer["statement"] = answer["statement"][:-1] + ',"x":"\ud800"}'
    path = cli.file("case.json", forged)  # JSON escapes the lone surrogate: the file is text
    result = cli("verify-decision", path, "--keys", keys, "--system-key", system, ok=False)
    if craft == "prev_hash":
        assert result.returncode == 1, result.stderr
        assert "INVALID" in result.stdout
    else:  # text no UTF-8 can hold is refused as the file's, before any check reads it
        assert result.returncode == 2, result.stderr
        assert result.stderr.strip() == (
            f"error: {path}: not Unicode text: \\ud800 is half of a surrogate pair"
        )


# What the verifier reads in the events -------------------------------------------------


def test_a_statement_signed_by_one_user_recorded_under_another_is_named(
    world_keys: dict[str, tuple[str, Any]],
) -> None:
    """An answer's event names who answered (its actor); its statement names who signed. The
    key was checked to be the event's actor's, but not that the statement is theirs: the
    tables then record the statement's actor, who signed nothing. Such an event needs the
    system key to be written, as a faulty or dishonest writer holding it would."""
    from clearance.core.digest import canonical_json
    from clearance.service.state_check import LedgerFacts

    def user(name: str) -> dict[str, Any]:
        return {
            "at": T0.isoformat(),
            "actor": "admin",
            "type": "user_added",
            "case_id": None,
            "payload": {
                "user": name,
                "name": name,
                "party": "US",
                "public_key": world_keys[name][0],
                "roles": ["reviewer"],
                "clearance": "TOP SECRET",
            },
        }

    prev = "sha256:" + "1" * 64
    statement = {
        "actor": "austin",
        "at": T0.isoformat(),
        "authority": "us.secdef",
        "on_behalf_of": None,
        "prior_hash": prev,
        "prior_seq": 2,
        "reason": "Not now.",
        "verdict": "deny",
    }
    signed_by_hegseth = world_keys["hegseth"][1](canonical_json(statement))
    answer = {
        "at": T0.isoformat(),
        "actor": "hegseth",
        "type": "approval_denied",
        "case_id": "c",
        "payload": {
            "statement": statement,
            "signature": signed_by_hegseth,
            "public_key": world_keys["hegseth"][0],
        },
    }
    facts = LedgerFacts()
    facts.fold([(1, GENESIS, user("austin")), (2, GENESIS, user("hegseth")), (3, prev, answer)])
    assert [f.seq for f in facts.problems] == [3]
    assert "austin" in facts.problems[0].problem


@ANY_DATABASE
def test_a_checkpoint_of_the_empty_ledger_holds(store: Store, system_key: SystemKey) -> None:
    """A checkpoint at sequence number 0 (the empty ledger, whose head is the genesis hash)
    vouches for nothing, and is no sign of a rewrite."""
    _fill(store, 8)
    empty = system_key.checkpoint(0, GENESIS, T0)
    report = audit.verify(store, key=_key(system_key), given=[(empty, "a file")])
    assert report.ok, report.findings


# Readers below the top ---------------------------------------------------------------


def test_the_ledger_page_hides_events_of_a_case_it_cannot_find(world: World) -> None:
    """The export redacts an event whose case it cannot find (failing closed); the ledger
    page showed it to every reader."""
    from clearance.core.access import Level, Role
    from clearance.core.signing import new_key_pair
    from clearance.service.accounts import Accounts

    Accounts(world.store).set_access(
        "ua.liaison", roles=(Role.REQUESTER,), clearance=Level.TOP_SECRET, actor="admin", now=T0
    )
    case, _ = world.cases.submit(G2, actor="ua.liaison", now=T0, classification=3)
    _sql(world.store, "DELETE FROM case_terms WHERE case_id = :id", id=case.id)
    _sql(world.store, "DELETE FROM cases WHERE id = :id", id=case.id)
    public, _ = new_key_pair("an auditor's passphrase")
    world.people.add_user(
        user_id="low.auditor",
        name="An auditor",
        party="US",
        public_key=public,
        actor="admin",
        now=T0,
    )
    Accounts(world.store).set_access(
        "low.auditor", roles=(Role.AUDITOR,), clearance=Level.UNCLASSIFIED, actor="admin", now=T0
    )
    shown = auditing.ledger_page(world.store, actor="low.auditor", limit=500)
    assert not [e for e in shown if e["case_id"] == case.id]


@ANY_DATABASE
def test_figures_withheld_from_a_reader_cannot_be_recovered_from_the_digests(
    world: World,
) -> None:
    from clearance.core.digest import canonical_digest

    case, _ = world.cases.submit(G5, actor="us.liaison", now=T0)
    # Ukraine's minister sees every case (an office holder), and only Ukraine's stock.
    world.people.grant(
        user_id="ua.liaison",
        authority="ua.mod",
        valid_from=T0.date(),
        valid_to=None,
        actor="admin",
        now=T0,
    )
    shown = world.cases.view(case.id, actor="ua.liaison").as_dict(T0)
    assert shown["decision"]["stockpile"]["figures_withheld"] is True
    submitted = next(e for e in shown["events"] if e["type"] == "case_submitted")
    target = submitted["payload"]["decision_digest"]
    # The reader is granted every withheld figure but the stock on hand (from the pack, or an
    # earlier case), and tries each value of it.
    full = case.decision.as_dict()
    stock = {k: v for k, v in full["stockpile"].items() if k != "nonce"}  # never shown to them
    assert "nonce" not in shown["decision"]["stockpile"]
    found = []
    for on_hand in range(0, 20_001):
        available = on_hand - stock["committed"]
        guess = {
            **stock,
            "on_hand": on_hand,
            "available": available,
            "available_after": available - stock["quantity"],
        }
        if canonical_digest({**full, "stockpile": guess}) == target:
            found.append(on_hand)
            break
    assert found == [], f"the stock on hand, {found[0]}, was recovered"


@ANY_DATABASE
def test_an_event_the_reader_may_see_cannot_be_redacted_from_their_export(
    world: World, system_key: SystemKey
) -> None:
    case, _ = world.cases.submit(G2, actor="ua.liaison", now=T0)
    lines = _export(world.store, reader_level=1)
    visible = [i for i in _events(lines) if case.id in lines[i]]
    lines[visible[-1]] = _redact(lines[visible[-1]], Scheme.V2)
    report = ledger_files.verify_export(lines, "export.jsonl", key=_key(system_key))
    assert not report.ok


def test_a_session_written_into_the_database_does_not_sign_anyone_in(world: World) -> None:
    from clearance.service.accounts import Accounts

    _sql(
        world.store,
        "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at)"
        " VALUES (:h, 'hegseth', 'csrf', :at, :until)",
        h="sha256:" + hashlib.sha256(b"chosen by the attacker").hexdigest(),
        at=T0,
        until=T0 + dt.timedelta(days=3650),
    )
    assert Accounts(world.store).from_session("chosen by the attacker", now=T0) is None
    _sql(
        world.store,
        "INSERT INTO api_tokens (id, token_hash, user_id, name, created_at, expires_at)"
        " VALUES ('forged', :h, 'hegseth', 'mine', :at, :until)",
        h="sha256:" + hashlib.sha256(b"clr_chosen").hexdigest(),
        at=T0,
        until=T0 + dt.timedelta(days=30),
    )
    assert Accounts(world.store).from_token("clr_chosen", now=T0) is None
