"""How many things wait for a user, in the navigation of every signed-in page: the length of
their inbox (``Runtime.inbox_count``), counted again only once something is recorded.

The world is the demo story (test_pages): the June 2025 ATACMS request (case 1, SECRET)
and its Storm Shadow twin (case 2, CONFIDENTIAL) wait for the Secretary; the ERAM sale's
funding condition (case 4) waits for the US liaison; nothing waits for anyone else.
"""

from __future__ import annotations

import pytest

from clearance.core.actors import ADMIN
from clearance.errors import NotFoundError
from clearance.service.demo import DEMO_PASSWORD
from clearance.service.runtime import Runtime

from .test_pages import seeded, server  # noqa: F401 (the demo world's fixtures)


def test_the_count_is_the_inbox_and_is_counted_again_only_after_an_event(
    server: Runtime,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    expected = {"secdef": 2, "us.liaison": 1, "ua.liaison": 0, "conf.reviewer": 0, "auditor": 0}
    for user, count in expected.items():
        assert server.inbox_count(actor=user) == count == len(server.inbox(actor=user)), user

    # Nothing recorded since: the counts are kept, and the inbox is not read again.
    def unread(*, actor: str) -> list[object]:
        raise AssertionError(f"the inbox of {actor} was read again")

    monkeypatch.setattr(server, "inbox", unread)
    assert server.inbox_count(actor="secdef") == 2
    monkeypatch.undo()

    # The Secretary denies case 2: an event, after which the count is taken again.
    server.cases.answer(
        "2",
        actor="secdef",
        approve=False,
        reason="Not now",
        signer=server.signer("secdef", DEMO_PASSWORD),
        now=server.now(),
    )
    assert server.inbox_count(actor="secdef") == 1


def test_an_unknown_user_has_no_count(server: Runtime) -> None:  # noqa: F811
    with pytest.raises(NotFoundError, match="unknown user 'nobody'"):
        server.inbox_count(actor="nobody")
    assert server.inbox_count(actor=ADMIN) == 0
