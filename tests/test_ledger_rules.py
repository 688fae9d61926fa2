"""The hash chain's rules, stated on the pure code (``core.chain``) without a database.

tests/test_ledger.py attacks a real ledger; these pin down what each verdict
says and why, the formulas an outside verifier recomputes (docs/verifying.md),
and the odd rows a database can hand back, so that a change to any of them
fails a test by name (mutation testing, docs/testing.md).
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from clearance.core.chain import (
    GENESIS,
    ChainVerifier,
    EventType,
    Link,
    Row,
    Scheme,
    Segment,
    body_hash,
    digest_link_hash,
    event_body,
    link_hash,
    stitch,
    verify_links,
)

AT = "2026-01-01T00:00:00+00:00"


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _link(
    seq: int,
    prev: str,
    *,
    case_id: str | None = "C-1",
    payload: dict[str, Any] | None = None,
    scheme: Scheme = Scheme.V2,
) -> Link:
    body = event_body(
        at=AT,
        actor="u1",
        type=EventType.CASE_SUBMITTED,
        case_id=case_id,
        payload=payload or {"n": seq},
    )
    return Link(
        seq=seq,
        type=EventType.CASE_SUBMITTED.value,
        case_id=case_id,
        prev_hash=prev,
        hash=link_hash(seq, case_id, prev, body, scheme),
        scheme=scheme,
        body=body,
    )


def _chain(n: int, scheme: Scheme = Scheme.V2) -> list[Link]:
    links: list[Link] = []
    prev = GENESIS
    for seq in range(1, n + 1):
        links.append(_link(seq, prev, scheme=scheme))
        prev = links[-1].hash
    return links


def _redacted(link: Link) -> Link:
    assert link.body is not None
    return Link(
        seq=link.seq,
        type=None,
        case_id=None,
        prev_hash=link.prev_hash,
        hash=link.hash,
        scheme=link.scheme,
        body_hash=body_hash(link.body.encode("utf-8")),
    )


def _rows(links: list[Link]) -> list[Row]:
    return [link.row() for link in links]


# The formulas an outside verifier recomputes.


def test_a_scheme_one_hash_is_of_sequence_case_link_and_body_joined_by_unit_separators() -> None:
    body = event_body(at=AT, actor="u1", type=EventType.CASE_SUBMITTED, case_id="C-7", payload={})
    message = f"12\x1fC-7\x1f{GENESIS}\x1f{body}".encode()
    assert link_hash(12, "C-7", GENESIS, body, Scheme.V1) == _sha(message)


def test_a_scheme_one_event_without_a_case_hashes_an_empty_case() -> None:
    body = event_body(at=AT, actor="u1", type=EventType.USER_ADDED, case_id=None, payload={})
    message = f"3\x1f\x1f{GENESIS}\x1f{body}".encode()
    assert link_hash(3, None, GENESIS, body, Scheme.V1) == _sha(message)


def test_a_scheme_two_hash_is_of_the_tag_sequence_link_and_body_digest() -> None:
    body = event_body(at=AT, actor="u1", type=EventType.CASE_SUBMITTED, case_id="C-7", payload={})
    digest = body_hash(body.encode())
    assert digest == _sha(body.encode())
    message = f"clearance-ledger/2\x1f12\x1f{GENESIS}\x1f{digest}".encode()
    assert link_hash(12, "C-7", GENESIS, body) == _sha(message)
    assert digest_link_hash(12, GENESIS, digest) == _sha(message)


def test_a_redacted_event_hashes_the_same_from_its_digest_alone() -> None:
    link = _chain(2)[1]
    assert link.body is not None
    digest = body_hash(link.body.encode())
    assert digest_link_hash(2, link.prev_hash, digest) == link.hash
    assert digest_link_hash(3, link.prev_hash, digest) != link.hash
    assert digest_link_hash(2, GENESIS, digest) != link.hash


# Whole chains and their reports.


@pytest.mark.parametrize("scheme", [Scheme.V1, Scheme.V2])
def test_a_whole_chain_reports_its_length_head_and_watched_hashes(scheme: Scheme) -> None:
    links = _chain(4, scheme)
    report = verify_links(links, watch={2, 4})
    assert report.ok
    assert (report.events, report.first_bad, report.problem) == (4, None, "")
    assert report.head == links[-1].hash
    assert report.seen == {2: links[1].hash, 4: links[3].hash}
    assert report.unverifiable == 0


def test_an_empty_chain_is_whole_with_the_genesis_head() -> None:
    report = verify_links([])
    assert report.ok
    assert (report.events, report.head, report.unverifiable) == (0, GENESIS, 0)


# What each break is called, and where.


def test_a_gap_is_named_as_the_missing_event() -> None:
    links = _chain(3)
    report = verify_links([links[0], links[2]])
    assert (report.first_bad, report.problem) == (2, "event 2 is missing or out of order (found 3)")
    assert report.events == 1
    assert report.head == links[0].hash


def test_a_repeated_event_is_named_as_repeated() -> None:
    links = _chain(3)
    report = verify_links([links[0], links[1], links[1]])
    assert (report.first_bad, report.problem) == (
        3,
        "event 3 is repeated or out of order (found 2)",
    )


def test_an_event_linking_elsewhere_is_named() -> None:
    links = _chain(2)
    stray = _link(2, GENESIS)
    report = verify_links([links[0], stray])
    assert (report.first_bad, report.problem) == (2, "does not link to the event before it")


@pytest.mark.parametrize("scheme", [Scheme.V1, Scheme.V2])
def test_an_edited_body_is_named_as_not_matching_its_hash(scheme: Scheme) -> None:
    links = _chain(2, scheme)
    assert links[1].body is not None
    edited = Link(**{**_fields(links[1]), "body": links[1].body.replace('"n":2', '"n":3')})
    report = verify_links([links[0], edited])
    assert (report.first_bad, report.problem) == (2, "its content does not match its hash")


def test_a_body_holding_a_lone_surrogate_matches_no_hash_and_breaks_nothing() -> None:
    link = _chain(1)[0]
    assert link.body is not None
    odd = Link(**{**_fields(link), "body": link.body.replace('"n":1', '"n":"\ud800"')})
    report = verify_links([odd])
    assert (report.first_bad, report.problem) == (1, "its content does not match its hash")


def test_an_unknown_scheme_is_named_with_its_number() -> None:
    links = _chain(1)
    odd = Link(**{**_fields(links[0]), "scheme": 9})
    report = verify_links([odd])
    assert (report.first_bad, report.problem) == (1, "its link scheme 9 is not known")


def _fields(link: Link) -> dict[str, Any]:
    return {name: getattr(link, name) for name in Link.__slots__}


# The type and case columns must be the body's.


def test_a_type_column_other_than_the_bodys_is_named() -> None:
    link = _chain(1)[0]
    report = verify_links([Link(**{**_fields(link), "type": EventType.USER_ADDED.value})])
    assert (report.first_bad, report.problem) == (
        1,
        "its type or case column does not match its body",
    )


def test_a_case_column_other_than_the_bodys_is_named() -> None:
    link = _chain(1)[0]
    report = verify_links([Link(**{**_fields(link), "case_id": "C-2"})])
    assert report.problem == "its type or case column does not match its body"
    report = verify_links([Link(**{**_fields(link), "case_id": None})])
    assert report.problem == "its type or case column does not match its body"


@pytest.mark.parametrize(
    ("type_", "case_id"),
    [(7, "C-1"), ("case_submitted", 7), (None, "C-1")],
    ids=["type a number", "case a number", "no type"],
)
def test_a_column_of_another_sqlite_type_is_a_mismatch_not_a_crash(
    type_: Any, case_id: Any
) -> None:
    seq, scheme, _, _, prev, stored, body, digest = _chain(1)[0].row()
    verifier = ChainVerifier(whole=True)
    assert not verifier.feed([(seq, scheme, type_, case_id, prev, stored, body, digest)])
    assert verifier.segment().problem == "its type or case column does not match its body"


@pytest.mark.parametrize(("type_", "case_id"), [("\ud800", "C-1"), ("case_submitted", "C-\ud800")])
def test_a_column_holding_a_lone_surrogate_is_a_mismatch_not_a_crash(
    type_: str, case_id: str
) -> None:
    seq, scheme, _, _, prev, stored, body, digest = _chain(1)[0].row()
    verifier = ChainVerifier()
    assert not verifier.feed([(seq, scheme, type_, case_id, prev, stored, body, digest)])
    assert verifier.segment().problem == "its type or case column does not match its body"


def test_a_case_id_key_inside_the_payload_is_not_taken_for_the_events_case() -> None:
    link = _link(1, GENESIS, case_id="C-1", payload={"a": 1, "case_id": "C-9"})
    assert verify_links([link]).ok
    moved = Link(**{**_fields(link), "case_id": "C-9"})
    assert verify_links([moved]).problem == "its type or case column does not match its body"


def test_a_body_without_a_case_key_matches_no_case_column() -> None:
    body = '{"actor":"u1","at":"' + AT + '","payload":{},"type":"user_added"}'
    hash_ = link_hash(1, None, GENESIS, body)
    link = Link(1, "user_added", None, GENESIS, hash_, Scheme.V2, body)
    assert verify_links([link]).problem == "its type or case column does not match its body"


# Redacted events.


def test_a_redacted_event_verifies_from_its_digest_unless_the_chain_must_be_whole() -> None:
    links = _chain(3)
    redacted = [links[0], _redacted(links[1]), links[2]]
    assert verify_links(redacted).ok
    verifier = ChainVerifier(whole=True)
    assert not verifier.feed(_rows(redacted))
    segment = verifier.segment()
    assert (segment.first_bad, segment.problem) == (
        2,
        "it has no body (only a redacted export leaves one out)",
    )


def test_a_verifier_takes_events_as_redacted_unless_told_the_chain_is_whole() -> None:
    links = _chain(2)
    verifier = ChainVerifier()
    assert verifier.feed(_rows([links[0], _redacted(links[1])]))
    assert verifier.segment().first_bad is None


def test_a_redacted_event_with_no_digest_is_named() -> None:
    links = _chain(2)
    bare = Link(**{**_fields(_redacted(links[1])), "body_hash": None})
    report = verify_links([links[0], bare])
    assert (report.first_bad, report.problem) == (2, "it has neither a body nor a body hash")


def test_a_redacted_scheme_one_event_is_counted_unverifiable_yet_linked() -> None:
    links = _chain(3, Scheme.V1)
    report = verify_links([links[0], _redacted(links[1]), links[2]])
    assert report.ok
    assert report.unverifiable == 1
    assert report.head == links[2].hash


def test_each_redacted_scheme_one_event_is_counted() -> None:
    links = _chain(3, Scheme.V1)
    report = verify_links([_redacted(links[0]), _redacted(links[1]), links[2]])
    assert report.ok
    assert report.unverifiable == 2


def test_a_redacted_digest_that_was_changed_is_caught() -> None:
    links = _chain(2)
    forged = Link(**{**_fields(_redacted(links[1])), "body_hash": _sha(b"something else")})
    assert verify_links([links[0], forged]).problem == "its content does not match its hash"


# Feeding in batches, and segments stitched together.


def test_feeding_stops_at_the_first_bad_event_and_stays_stopped() -> None:
    links = _chain(3)
    verifier = ChainVerifier()
    assert not verifier.feed(_rows([links[0], links[2]]))
    assert not verifier.feed(_rows([links[1]]))
    segment = verifier.segment()
    assert (segment.first_bad, segment.events, segment.head) == (2, 1, links[0].hash)


def test_batches_fed_in_turn_verify_as_one_chain() -> None:
    links = _chain(4)
    verifier = ChainVerifier(last_seq=4, watch={3})
    assert verifier.feed(_rows(links[:2]))
    assert verifier.feed(_rows(links[2:]))
    segment = verifier.segment()
    assert (segment.events, segment.head, segment.first_bad, segment.problem) == (
        4,
        links[3].hash,
        None,
        "",
    )
    assert (segment.first_seq, segment.last_seq) == (1, 4)
    assert segment.seen == {3: links[2].hash}


def test_a_segment_short_of_its_last_event_names_the_first_missing_one() -> None:
    links = _chain(2)
    verifier = ChainVerifier(last_seq=3)
    assert verifier.feed(_rows(links))
    segment = verifier.segment()
    assert (segment.first_bad, segment.problem) == (3, "event 3 is missing or out of order")


def test_a_segment_remembers_the_hash_it_was_told_to_follow() -> None:
    assert ChainVerifier(prev="sha256:abc").segment().start_prev == "sha256:abc"
    assert ChainVerifier().segment().start_prev == GENESIS


def test_a_segment_checked_on_trust_takes_its_first_link_for_the_joint() -> None:
    links = _chain(4)
    verifier = ChainVerifier(first_seq=3, prev=None)
    assert verifier.feed(_rows(links[2:]))
    segment = verifier.segment()
    assert segment.start_prev == links[1].hash
    assert (segment.first_seq, segment.events) == (3, 2)


def _segments(links: list[Link], cut: int) -> list[Segment]:
    first = ChainVerifier(last_seq=cut, watch={1})
    first.feed(_rows(links[:cut]))
    second = ChainVerifier(first_seq=cut + 1, prev=None, watch={cut + 1})
    second.feed(_rows(links[cut:]))
    return [first.segment(), second.segment()]


def test_stitched_segments_report_as_one_chain() -> None:
    links = _chain(5)
    report = stitch(_segments(links, 2))
    assert report.ok
    assert (report.events, report.head) == (5, links[-1].hash)
    assert report.seen == {1: links[0].hash, 3: links[2].hash}


def test_a_segment_that_does_not_join_the_one_before_is_named_at_its_first_event() -> None:
    links = _chain(4)
    tail = [_link(3, "sha256:" + "1" * 64)]
    tail.append(_link(4, tail[0].hash))
    segments = _segments(links[:2] + tail, 2)
    report = stitch(segments)
    assert (report.first_bad, report.problem) == (3, "does not link to the event before it")
    assert (report.events, report.head) == (2, links[1].hash)
    assert report.seen == {1: links[0].hash, 3: tail[0].hash}
    assert report.unverifiable == 0


def test_a_broken_segment_reports_its_break_with_the_events_before_it() -> None:
    links = _chain(5)
    segments = _segments([*links[:3], links[4]], 2)
    report = stitch(segments)
    assert (report.first_bad, report.problem) == (4, "event 4 is missing or out of order (found 5)")
    assert (report.events, report.head) == (3, links[2].hash)
    assert report.seen == {1: links[0].hash, 3: links[2].hash}
    assert report.unverifiable == 0


def test_a_break_reports_the_unverifiable_events_and_watched_hashes_before_it() -> None:
    links = _chain(5, Scheme.V1)
    hidden = [_redacted(links[0]), links[1], _redacted(links[2])]
    report = stitch(_segments([*hidden, links[4]], 2))
    assert report.first_bad == 4
    assert report.unverifiable == 2
    assert report.seen == {1: links[0].hash, 3: links[2].hash}
    tail = [_link(3, "sha256:" + "1" * 64, scheme=Scheme.V1)]
    report = stitch(_segments([*hidden[:2], *tail], 2))
    assert report.problem == "does not link to the event before it"
    assert report.unverifiable == 1


def test_a_segment_broken_at_its_first_event_reports_the_head_before_it() -> None:
    links = _chain(4)
    segments = _segments([*links[:2], links[3]], 2)
    report = stitch(segments)
    assert report.first_bad == 3
    assert (report.events, report.head) == (2, links[1].hash)


def test_unverifiable_events_are_summed_across_segments() -> None:
    links = _chain(4, Scheme.V1)
    report = stitch(_segments([_redacted(links[0]), links[1], _redacted(links[2]), links[3]], 2))
    assert report.ok
    assert report.unverifiable == 2
