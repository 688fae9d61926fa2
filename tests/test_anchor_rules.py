"""The rules of seals, checkpoints and redaction statements, stated on the pure code
(``core.anchors``).

tests/test_ledger.py cuts and rewrites real ledgers; these state on their own the
bytes each statement signs (docs/verifying.md), why a statement is not trusted,
in its exact words, how one read back from a file is refused, and what
``check_anchors`` says of a chain that does not hold an anchor.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from clearance.core.anchors import (
    CHECKPOINT_EVERY,
    Anchor,
    Checkpoint,
    Redaction,
    check_anchors,
    seal_message,
    seal_valid,
)
from clearance.core.chain import GENESIS

SYSTEM = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
SYSTEM_PUBLIC = "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="
STRANGER = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
STRANGER_PUBLIC = "ebVWLo/mVPlAeLES6KmLp5AfhTrmlb7X4OORC60ElmQ="

HEAD = "sha256:" + "ab" * 32
OTHER_HEAD = "sha256:" + "cd" * 32
AT = dt.datetime(2026, 1, 1, 12, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))

NOT_SIGNED = "its signature does not verify against the system's public key"
NOT_JSON = "its statement is not JSON"
NOT_WHAT_IT_SAYS = "its statement does not say what its fields say"


def _sign(message: bytes) -> str:
    return base64.b64encode(SYSTEM.sign(message)).decode("ascii")


def _stranger(message: bytes) -> str:
    return base64.b64encode(STRANGER.sign(message)).decode("ascii")


def _checkpoint() -> Checkpoint:
    return Checkpoint.sign(seq=5, head=HEAD, at=AT, signer=_sign, public_key=SYSTEM_PUBLIC)


def _redaction() -> Redaction:
    return Redaction.sign(seq=9, head=HEAD, level="secret", hidden=[7, 2, 4], signer=_sign)


# Seals.


def test_a_seal_signs_the_canonical_json_of_its_kind_sequence_number_and_hash() -> None:
    assert seal_message(7, HEAD) == (
        b'{"hash":"' + HEAD.encode() + b'","kind":"clearance.seal","seq":7}'
    )


def test_a_seal_is_valid_only_for_its_event_under_the_system_key() -> None:
    seal = _sign(seal_message(7, HEAD))
    assert seal_valid(SYSTEM_PUBLIC, 7, HEAD, seal) is True
    assert seal_valid(SYSTEM_PUBLIC, 8, HEAD, seal) is False
    assert seal_valid(SYSTEM_PUBLIC, 7, OTHER_HEAD, seal) is False
    assert seal_valid(STRANGER_PUBLIC, 7, HEAD, seal) is False


@pytest.mark.parametrize("seal", [None, ""], ids=["none", "empty"])
def test_an_event_without_a_seal_has_no_valid_seal(seal: str | None) -> None:
    assert seal_valid(SYSTEM_PUBLIC, 7, HEAD, seal) is False


def test_a_checkpoint_is_written_every_thousand_events() -> None:
    assert CHECKPOINT_EVERY == 1000


# Checkpoints.


def test_a_checkpoint_signs_its_sequence_number_head_and_time_in_utc() -> None:
    checkpoint = _checkpoint()
    statement = (
        '{"at":"2026-01-01T10:30:00+00:00","head":"' + HEAD + '",'
        '"kind":"clearance.checkpoint","seq":5}'
    )
    assert checkpoint == Checkpoint(
        seq=5,
        head=HEAD,
        at="2026-01-01T10:30:00+00:00",
        statement=statement,
        signature=_sign(statement.encode("utf-8")),
        public_key=SYSTEM_PUBLIC,
    )


@pytest.fixture
def local_time_not_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The machine's local time zone five hours behind UTC, for the test only."""
    monkeypatch.setenv("TZ", "EST+05")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("local_time_not_utc")
def test_a_checkpoint_is_in_utc_whatever_the_machines_time_zone() -> None:
    assert _checkpoint().at == "2026-01-01T10:30:00+00:00"
    at = dt.datetime(2026, 1, 1, 10, 30, tzinfo=dt.UTC)
    signed = Checkpoint.sign(seq=5, head=HEAD, at=at, signer=_sign, public_key=SYSTEM_PUBLIC)
    assert signed.at == "2026-01-01T10:30:00+00:00"


def test_a_checkpoint_signed_by_the_system_is_trusted() -> None:
    assert _checkpoint().problem(SYSTEM_PUBLIC) is None


def test_a_checkpoint_under_another_key_is_not() -> None:
    assert _checkpoint().problem(STRANGER_PUBLIC) == NOT_SIGNED
    forged = Checkpoint.sign(seq=5, head=HEAD, at=AT, signer=_stranger, public_key=SYSTEM_PUBLIC)
    assert forged.problem(SYSTEM_PUBLIC) == NOT_SIGNED


@pytest.mark.parametrize(
    ("field", "value"),
    [("seq", 6), ("head", OTHER_HEAD), ("at", "2026-01-01T10:30:01+00:00")],
)
def test_a_checkpoint_whose_fields_differ_from_its_signed_statement_says_so(
    field: str, value: object
) -> None:
    changed = Checkpoint(**{**_checkpoint().as_dict(), field: value})
    assert changed.problem(SYSTEM_PUBLIC) == NOT_WHAT_IT_SAYS


def test_a_signed_statement_of_another_kind_is_not_a_checkpoint() -> None:
    """A seal is signed by the same key; given as a checkpoint's statement, it is refused."""
    statement = seal_message(5, HEAD).decode()
    checkpoint = Checkpoint(5, HEAD, "x", statement, _sign(statement.encode()), SYSTEM_PUBLIC)
    assert checkpoint.problem(SYSTEM_PUBLIC) == NOT_WHAT_IT_SAYS


def test_a_signed_statement_that_is_not_json_says_so() -> None:
    statement = "checkpoint 5"
    checkpoint = Checkpoint(5, HEAD, "x", statement, _sign(statement.encode()), SYSTEM_PUBLIC)
    assert checkpoint.problem(SYSTEM_PUBLIC) == NOT_JSON


def test_a_statement_holding_a_lone_surrogate_does_not_verify_rather_than_fail() -> None:
    checkpoint = Checkpoint(5, HEAD, "x", "\ud800", _sign(b"\xed\xa0\x80x"), SYSTEM_PUBLIC)
    assert checkpoint.problem(SYSTEM_PUBLIC) == NOT_SIGNED


def test_a_lone_surrogate_is_checked_as_its_surrogatepass_bytes() -> None:
    """What the system signed is UTF-8; a lone surrogate's bytes are checked as they are."""
    statement = '{"x":"\ud800"}'
    signature = _sign(statement.encode("utf-8", "surrogatepass"))
    checkpoint = Checkpoint(5, HEAD, "x", statement, signature, SYSTEM_PUBLIC)
    assert checkpoint.problem(SYSTEM_PUBLIC) == NOT_WHAT_IT_SAYS


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("seq", "5"),
        ("seq", None),
        ("head", None),
        ("at", 5),
        ("statement", None),
        ("signature", b"x"),
    ],
)
def test_a_checkpoint_with_a_field_of_the_wrong_type_is_damaged(field: str, value: object) -> None:
    damaged = Checkpoint(**{**_checkpoint().as_dict(), field: value})
    assert damaged.problem(SYSTEM_PUBLIC) == "it is damaged: a field is missing or not of its type"


def test_a_checkpoint_anchors_its_event_and_vouches_for_those_before() -> None:
    assert _checkpoint().anchor("kept beside the database") == Anchor(
        5, HEAD, "the checkpoint of 2026-01-01T10:30:00+00:00 (kept beside the database)", True
    )


def test_a_checkpoint_is_written_as_its_six_fields() -> None:
    checkpoint = _checkpoint()
    assert checkpoint.as_dict() == {
        "seq": 5,
        "head": HEAD,
        "at": "2026-01-01T10:30:00+00:00",
        "statement": checkpoint.statement,
        "signature": checkpoint.signature,
        "public_key": SYSTEM_PUBLIC,
    }


def test_a_checkpoint_read_back_is_the_one_written_and_other_fields_are_ignored() -> None:
    checkpoint = _checkpoint()
    assert Checkpoint.from_dict({**checkpoint.as_dict(), "note": 1}) == checkpoint


@pytest.mark.parametrize("data", [[], "checkpoint", None, 5], ids=repr)
def test_a_checkpoint_read_back_from_what_is_not_an_object_is_refused(data: object) -> None:
    with pytest.raises(ValueError, match=r"^a checkpoint must be a JSON object$"):
        Checkpoint.from_dict(data)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"seq": None}, "'seq' is missing or not a int"),
        ({"seq": "5"}, "'seq' is missing or not a int"),
        ({"seq": True}, "'seq' is missing or not a int"),
        ({"seq": 5.0}, "'seq' is missing or not a int"),
        ({"head": 5}, "'head' is missing or not a str"),
        ({"at": None}, "'at' is missing or not a str"),
        ({"statement": ["x"]}, "'statement' is missing or not a str"),
        ({"signature": True}, "'signature' is missing or not a str"),
        ({"public_key": None}, "'public_key' is missing or not a str"),
        ({"head": None, "seq": None}, "'seq' is missing or not a int"),
        ({"signature": 1, "at": 1}, "'at' is missing or not a str"),
    ],
)
def test_a_checkpoint_read_back_names_the_first_field_missing_or_of_the_wrong_type(
    changes: dict[str, Any], message: str
) -> None:
    data = {k: v for k, v in {**_checkpoint().as_dict(), **changes}.items() if v is not None}
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        Checkpoint.from_dict(data)


# Redaction statements.


def test_the_digest_of_a_set_of_sequence_numbers_is_of_its_ascending_canonical_list() -> None:
    expected = "sha256:" + hashlib.sha256(b"[2,4,7]").hexdigest()
    assert Redaction.digest([7, 2, 4]) == expected
    assert Redaction.digest({4, 7, 2}) == expected
    assert Redaction.digest([]) == "sha256:" + hashlib.sha256(b"[]").hexdigest()


def test_a_redaction_signs_its_range_level_and_the_digest_of_what_it_hides() -> None:
    digest = Redaction.digest([2, 4, 7])
    statement = (
        '{"head":"' + HEAD + '","hidden":"' + digest + '","kind":"clearance.redaction",'
        '"level":"secret","seq":9}'
    )
    assert _redaction() == Redaction(
        seq=9,
        head=HEAD,
        level="secret",
        hidden=digest,
        statement=statement,
        signature=_sign(statement.encode("utf-8")),
    )


def test_a_redaction_signed_by_the_system_is_trusted_and_not_under_another_key() -> None:
    assert _redaction().problem(SYSTEM_PUBLIC) is None
    assert _redaction().problem(STRANGER_PUBLIC) == NOT_SIGNED


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("seq", 10),
        ("head", OTHER_HEAD),
        ("level", "top secret"),
        ("hidden", Redaction.digest([2, 4])),
    ],
)
def test_a_redaction_whose_fields_differ_from_its_signed_statement_says_so(
    field: str, value: object
) -> None:
    changed = Redaction(**{**_redaction().as_dict(), field: value})
    assert changed.problem(SYSTEM_PUBLIC) == NOT_WHAT_IT_SAYS


def test_a_signed_checkpoint_is_not_a_redaction() -> None:
    checkpoint = _checkpoint()
    redaction = Redaction(
        5, HEAD, "secret", Redaction.digest([]), checkpoint.statement, checkpoint.signature
    )
    assert redaction.problem(SYSTEM_PUBLIC) == NOT_WHAT_IT_SAYS


def test_a_redaction_is_written_as_its_fields_and_read_back_the_same() -> None:
    redaction = _redaction()
    assert redaction.as_dict() == {
        "seq": 9,
        "head": HEAD,
        "level": "secret",
        "hidden": Redaction.digest([2, 4, 7]),
        "statement": redaction.statement,
        "signature": redaction.signature,
    }
    assert Redaction.from_dict(redaction.as_dict()) == redaction


def test_a_redaction_read_back_from_what_is_not_an_object_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^a redaction must be a JSON object$"):
        Redaction.from_dict(["seq", 9])


def test_a_redaction_read_back_names_the_first_field_missing_or_of_the_wrong_type() -> None:
    data = _redaction().as_dict()
    del data["level"]
    with pytest.raises(ValueError, match=r"^'level' is missing or not a str$"):
        Redaction.from_dict(data)


# Whether a chain holds its anchors.


def _checkpoint_at(seq: int, head: str = HEAD) -> Anchor:
    return Anchor(seq, head, f"the checkpoint at {seq}")


def _witness_at(seq: int, head: str = HEAD) -> Anchor:
    return Anchor(seq, head, f"the witness at {seq}", vouches=False)


def test_a_chain_with_no_anchors_is_vouched_for_by_none_and_holds_them_all() -> None:
    assert check_anchors(3, {}, []) == (0, None)


def test_a_chain_holding_every_anchor_is_vouched_for_up_to_its_last_checkpoint() -> None:
    seen = {2: HEAD, 3: OTHER_HEAD}
    assert check_anchors(3, seen, [_checkpoint_at(3, OTHER_HEAD), _checkpoint_at(2)]) == (3, None)


def test_a_witness_held_shows_its_event_is_there_but_vouches_for_none_before_it() -> None:
    seen = {2: HEAD, 3: OTHER_HEAD}
    assert check_anchors(3, seen, [_witness_at(3, OTHER_HEAD), _checkpoint_at(2)]) == (2, None)


def test_an_anchor_at_the_chains_last_event_is_held() -> None:
    assert check_anchors(3, {3: HEAD}, [_checkpoint_at(3)]) == (3, None)


def test_an_anchor_beyond_the_chain_names_the_events_cut_off() -> None:
    assert check_anchors(3, {2: HEAD}, [_checkpoint_at(2), _checkpoint_at(6)]) == (
        2,
        (
            4,
            "events 4 to 6 are missing: the checkpoint at 6 vouches for event 6,"
            " and the ledger ends at 3",
        ),
    )


def test_an_anchor_one_beyond_the_chain_names_that_event() -> None:
    assert check_anchors(0, {}, [_witness_at(1)]) == (
        0,
        (
            1,
            "events 1 to 1 are missing: the witness at 1 vouches for event 1,"
            " and the ledger ends at 0",
        ),
    )


def test_a_rewritten_event_is_named_with_the_events_since_the_last_anchor_held() -> None:
    seen = {2: HEAD, 4: HEAD, 7: HEAD}
    anchors = [_checkpoint_at(7, OTHER_HEAD), _checkpoint_at(2), _witness_at(4)]
    assert check_anchors(9, seen, anchors) == (
        2,
        (
            7,
            "event 7 is not the one the checkpoint at 7 vouches for: the ledger was"
            " rewritten between events 5 and 7",
        ),
    )


def test_the_first_anchor_not_held_is_the_one_reported_whatever_the_order_given() -> None:
    anchors = [_checkpoint_at(8, OTHER_HEAD), _checkpoint_at(5, OTHER_HEAD)]
    vouched, broken = check_anchors(9, {5: HEAD, 8: HEAD}, anchors)
    assert (vouched, broken and broken[0]) == (0, 5)


def test_an_anchor_at_an_event_the_chain_does_not_show_is_not_held() -> None:
    assert check_anchors(3, {}, [_checkpoint_at(2)]) == (
        0,
        (
            2,
            "event 2 is not the one the checkpoint at 2 vouches for: the ledger was"
            " rewritten between events 1 and 2",
        ),
    )


def test_the_empty_ledger_ends_in_the_genesis_hash() -> None:
    assert check_anchors(0, {}, [_checkpoint_at(0, GENESIS)]) == (0, None)
    assert check_anchors(0, {}, [_checkpoint_at(0, HEAD)]) == (
        0,
        (
            0,
            "event 0 is not the one the checkpoint at 0 vouches for: the ledger was"
            " rewritten between events 1 and 0",
        ),
    )


def test_only_the_empty_ledger_ends_in_the_genesis_hash() -> None:
    assert check_anchors(3, {}, [_checkpoint_at(1, GENESIS)])[1] == (
        1,
        "event 1 is not the one the checkpoint at 1 vouches for: the ledger was"
        " rewritten between events 1 and 1",
    )


def test_what_the_chain_shows_at_0_is_taken_over_the_genesis_hash() -> None:
    assert check_anchors(3, {0: HEAD}, [_checkpoint_at(0, HEAD)]) == (0, None)
