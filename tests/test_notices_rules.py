"""The rules of notifications' pure part, stated on the code (``core.notices``).

The service and interface tests subscribe, queue and send; these state the
rules on their own: the kinds of event and their words, how kinds are given,
which e-mail addresses and webhook URLs are taken (and the exact words of each
refusal, which the forms and the API show under the field), how long a
sender waits after a failure, and all that a message says, which is nothing
of a case but its number.
"""

from __future__ import annotations

import pytest

from clearance.core.notices import (
    MAX_ADDRESS,
    Channel,
    Kind,
    Message,
    WebhookUrl,
    backoff,
    email_address,
    is_loopback,
    parse_kinds,
    webhook_url,
)
from clearance.errors import InputError

ALL_KINDS = "waiting, decided, condition_due, question, escalation, policy_activated"


def refusal_of_email(text: str, field: str = "email") -> str:
    with pytest.raises(InputError) as refused:
        email_address(text, field)
    assert refused.value.where == field
    return refused.value.problem


def refusal_of_webhook(text: str, field: str = "webhook") -> str:
    with pytest.raises(InputError) as refused:
        webhook_url(text, field)
    assert refused.value.where == field
    return refused.value.problem


# kinds and channels ------------------------------------------------------------------


def test_each_kind_has_its_value_its_words_and_its_meaning() -> None:
    assert [(k.value, k.words, k.meaning) for k in Kind] == [
        ("waiting", "waiting for you", "a case or a policy proposal waits for an office I hold"),
        ("decided", "decided", "my case is decided"),
        (
            "condition_due",
            "approved with a condition to meet",
            "my case is approved with a condition to meet",
        ),
        (
            "question",
            "a question asked or answered",
            "a question is asked of me, or the answer to mine comes",
        ),
        ("escalation", "escalated", "a case reaches a step of its escalation that names me"),
        ("policy_activated", "new policy in force", "a policy bundle comes into force"),
    ]


def test_a_message_goes_by_email_or_by_webhook() -> None:
    assert [c.value for c in Channel] == ["email", "webhook"]


def test_kinds_are_read_trimmed_in_any_case_without_repeats_in_the_order_of_kind() -> None:
    given = ["Question", " waiting ", "DECIDED", "question", "waiting"]
    assert parse_kinds(given) == (Kind.WAITING, Kind.DECIDED, Kind.QUESTION)
    assert parse_kinds(iter(["policy_activated"])) == (Kind.POLICY_ACTIVATED,)


def test_a_value_that_is_no_kind_is_refused_listing_the_kinds() -> None:
    with pytest.raises(InputError) as refused:
        parse_kinds(["waiting", "lunch"])
    assert (refused.value.where, refused.value.problem) == (
        "kinds",
        f"'lunch' is not a kind of event (one of {ALL_KINDS})",
    )


def test_a_refused_kind_is_shown_to_forty_characters() -> None:
    forty = "x" * 40
    with pytest.raises(InputError) as whole:
        parse_kinds([forty], "notify")
    assert (whole.value.where, whole.value.problem) == (
        "notify",
        f"'{forty}' is not a kind of event (one of {ALL_KINDS})",
    )
    with pytest.raises(InputError) as cut:
        parse_kinds([forty + "y"], "notify")
    assert cut.value.problem == f"'{forty}…' is not a kind of event (one of {ALL_KINDS})"


def test_at_least_one_kind_is_given() -> None:
    with pytest.raises(InputError) as refused:
        parse_kinds([])
    assert (refused.value.where, refused.value.problem) == (
        "kinds",
        "name at least one kind of event",
    )


# e-mail addresses --------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "secdef@example.gov",
        "a@b",
        "first.last+tag@mail-1.example.gov",
        "!#$%&'*+/=?^_`{|}~-@x9.example",
        "a" * 64 + "@example.gov",
        "a@" + ".".join(["b" * 63] * 3) + "." + "c" * 59,
        "a@" + "b" * 63,
        "a@b-c",
    ],
)
def test_a_plain_address_is_taken(address: str) -> None:
    assert email_address(address) == address


def test_an_address_is_taken_without_the_spaces_around_it() -> None:
    assert email_address("  secdef@example.gov\n") == "secdef@example.gov"


def test_an_address_of_254_characters_is_the_longest_taken() -> None:
    longest = "a@" + ".".join(["b" * 63] * 3) + "." + "c" * 60
    assert len(longest) == 254
    assert email_address(longest) == longest
    too_long = longest + "c"
    assert refusal_of_email(too_long) == (
        f"'{too_long[:60]}…' is longer than an e-mail address may be (254 characters)"
    )


def test_no_address_is_refused_with_an_example() -> None:
    assert refusal_of_email("  ", "notify_email") == (
        "give an e-mail address, such as secdef@example.gov"
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("secdef", "'secdef' is not an e-mail address (local@domain)"),
        ("@example.gov", "'@example.gov' is not an e-mail address (local@domain)"),
        ("secdef@", "'secdef@' is not an e-mail address (local@domain)"),
        (
            "a" * 65 + "@example.gov",
            f"'{'a' * 60}…' has a part before the @ that is not a plain mailbox name",
        ),
        (
            '"Sec Def" <secdef@example.gov>',
            "'\"Sec Def\" <secdef@example.gov>' has a part before the @"
            " that is not a plain mailbox name",
        ),
        (
            "sec def@example.gov",
            "'sec def@example.gov' has a part before the @ that is not a plain mailbox name",
        ),
        (
            "sec..def@example.gov",
            "'sec..def@example.gov' has a part before the @ that is not a plain mailbox name",
        ),
        (
            ".secdef@example.gov",
            "'.secdef@example.gov' has a part before the @ that is not a plain mailbox name",
        ),
        (
            "secdef.@example.gov",
            "'secdef.@example.gov' has a part before the @ that is not a plain mailbox name",
        ),
        (
            "a@b@example.gov",
            "'a@b@example.gov' has a part before the @ that is not a plain mailbox name",
        ),
        (
            "sëcdef@example.gov",
            "'s\\xebcdef@example.gov' has a part before the @ that is not a plain mailbox name",
        ),
        ("secdef@example..gov", "'secdef@example..gov' has a domain that is not a host name"),
        ("secdef@-example.gov", "'secdef@-example.gov' has a domain that is not a host name"),
        ("secdef@example-.gov", "'secdef@example-.gov' has a domain that is not a host name"),
        ("secdef@exa_mple.gov", "'secdef@exa_mple.gov' has a domain that is not a host name"),
        ("secdef@example.gov.", "'secdef@example.gov.' has a domain that is not a host name"),
        ("a@" + "b" * 64, f"'a@{'b' * 58}…' has a domain that is not a host name"),
        (
            "secdef@example.gov\r\nBcc: x@y",
            "'secdef@example.gov\\r\\nBcc: x@y' has a part before the @"
            " that is not a plain mailbox name",
        ),
        ("secdef@exa\tmple.gov", "'secdef@exa\\tmple.gov' has a domain that is not a host name"),
        # a line break at the end of a part: a pattern's "$" matches just before one
        (
            "a\n@example.gov",
            "'a\\n@example.gov' has a part before the @ that is not a plain mailbox name",
        ),
        ("a@example\n.gov", "'a@example\\n.gov' has a domain that is not a host name"),
    ],
)
def test_an_address_that_is_not_a_plain_mailbox_at_a_host_is_refused_showing_it(
    text: str, problem: str
) -> None:
    """The address is shown to 60 characters, with anything not printable ASCII escaped."""
    assert refusal_of_email(text) == problem


# webhooks ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "taken"),
    [
        (
            "https://hooks.example.gov/in",
            WebhookUrl("https://hooks.example.gov/in", "hooks.example.gov", 443),
        ),
        (
            "HTTPS://Hooks.example.gov:8443/in?x=1",
            WebhookUrl("HTTPS://Hooks.example.gov:8443/in?x=1", "hooks.example.gov", 8443),
        ),
        ("http://localhost:8080/in", WebhookUrl("http://localhost:8080/in", "localhost", 8080)),
        ("http://127.0.0.1/in", WebhookUrl("http://127.0.0.1/in", "127.0.0.1", 80)),
        ("http://[::1]:9000/", WebhookUrl("http://[::1]:9000/", "::1", 9000)),
        (" https://h.gov ", WebhookUrl("https://h.gov", "h.gov", 443)),
    ],
)
def test_an_https_url_or_an_http_one_to_this_machine_is_taken_with_its_host_and_port(
    text: str, taken: WebhookUrl
) -> None:
    assert webhook_url(text) == taken


def test_a_url_of_the_longest_length_is_taken_and_one_longer_refused() -> None:
    longest = "https://h.gov/" + "a" * (MAX_ADDRESS - 14)
    assert MAX_ADDRESS == 2000
    assert len(longest) == MAX_ADDRESS
    assert webhook_url(longest).url == longest
    assert refusal_of_webhook(longest + "a") == f"'{longest[:80]}…' is longer than 2000 characters"


def test_no_url_is_refused_with_an_example() -> None:
    assert refusal_of_webhook(" ", "notify_webhook") == (
        "give the receiver's URL, such as https://hooks.example.gov/in"
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("https://h.gov/a b", "'https://h.gov/a b' holds spaces, control or non-ASCII characters"),
        (
            "https://h.gov/a\tb",
            "'https://h.gov/a\\tb' holds spaces, control or non-ASCII characters",
        ),
        (
            "https://h.gov/\x00",
            "'https://h.gov/\\x00' holds spaces, control or non-ASCII characters",
        ),
        (
            "https://h.gov/\x1fa",
            "'https://h.gov/\\x1fa' holds spaces, control or non-ASCII characters",
        ),
        (
            "https://h.gov/\x7f",
            "'https://h.gov/\\x7f' holds spaces, control or non-ASCII characters",
        ),
        ("https://hé.gov/", "'https://h\\xe9.gov/' holds spaces, control or non-ASCII characters"),
        ("https://[::1/", "'https://[::1/' is not a URL"),
        ("https://h.gov:99999/", "'https://h.gov:99999/' is not a URL"),
        ("ftp://h.gov/", "'ftp://h.gov/' is not an https:// URL"),
        ("h.gov/in", "'h.gov/in' is not an https:// URL"),
        ("https:///in", "'https:///in' is not an https:// URL"),
        ("https://user@h.gov/", "may not carry a user name or password (it is kept in the record)"),
        (
            "https://:secret@h.gov/",
            "may not carry a user name or password (it is kept in the record)",
        ),
        ("https://h.gov/in#top", "'https://h.gov/in#top' has a fragment (#…), which is never sent"),
        ("https://h.gov/in#", "'https://h.gov/in#' has a fragment (#…), which is never sent"),
        (
            "http://h.gov/in",
            "'http://h.gov/in' is plain HTTP: use https:// (http:// is taken only to this machine)",
        ),
        (
            "http://10.0.0.1/in",
            "'http://10.0.0.1/in' is plain HTTP: use https:// (http:// is taken only to this machine)",
        ),
    ],
)
def test_a_url_that_is_not_https_or_carries_what_it_may_not_is_refused_showing_it(
    text: str, problem: str
) -> None:
    assert refusal_of_webhook(text) == problem


def test_a_refused_url_is_shown_to_eighty_characters() -> None:
    eighty = "ftp://h.gov/" + "a" * 68
    assert refusal_of_webhook(eighty) == f"'{eighty}' is not an https:// URL"
    assert refusal_of_webhook(eighty + "b") == f"'{eighty}…' is not an https:// URL"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("LocalHost", True),
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("localhost.example.gov", False),
        ("10.0.0.1", False),
        ("::2", False),
        ("h.gov", False),
    ],
)
def test_this_machine_is_localhost_or_a_loopback_address(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_a_refused_address_names_the_field_it_was_given_in_by_default() -> None:
    """The forms and the API show the refusal under the field ``email`` or ``webhook``."""
    with pytest.raises(InputError) as email:
        email_address("secdef")
    assert (email.value.where, email.value.problem) == (
        "email",
        "'secdef' is not an e-mail address (local@domain)",
    )
    with pytest.raises(InputError) as webhook:
        webhook_url("ftp://h.gov/")
    assert (webhook.value.where, webhook.value.problem) == (
        "webhook",
        "'ftp://h.gov/' is not an https:// URL",
    )


# back-off ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attempt", "wait"),
    [(0, 30.0), (1, 30.0), (2, 60.0), (3, 120.0), (4, 240.0), (5, 480.0), (6, 600.0), (50, 600.0)],
)
def test_the_wait_doubles_after_each_failure_after_the_first_up_to_the_longest(
    attempt: int, wait: float
) -> None:
    assert backoff(attempt, first=30.0, longest=600.0, draw=1.0) == wait


def test_the_doubling_stops_after_forty_failures() -> None:
    longest = float("inf")
    assert backoff(41, first=1.0, longest=longest, draw=1.0) == 2.0**40
    assert backoff(42, first=1.0, longest=longest, draw=1.0) == 2.0**40
    assert backoff(40, first=1.0, longest=longest, draw=1.0) == 2.0**39


@pytest.mark.parametrize(
    ("draw", "wait"),
    [(0.0, 60.0), (0.5, 90.0), (1.0, 120.0), (-1.0, 60.0), (2.0, 120.0)],
)
def test_the_jitter_takes_between_a_half_and_the_whole_wait(draw: float, wait: float) -> None:
    assert backoff(3, first=30.0, longest=600.0, draw=draw) == wait


# messages ----------------------------------------------------------------------------


MESSAGE = Message(Kind.WAITING, "case 12", "https://clearance.example.gov/cases/12", "d-1", 12)


def test_a_message_subject_says_the_kind_of_event_about_what() -> None:
    assert MESSAGE.subject == "clearance: case 12: waiting for you"


def test_an_email_says_what_happened_to_what_the_link_and_nothing_else() -> None:
    assert MESSAGE.text == (
        "Case 12: waiting for you.\n\n"
        "https://clearance.example.gov/cases/12\n\n"
        "Sign in to see what your clearance allows. This message carries nothing else.\n"
        "Delivery d-1\n"
    )
    policy = Message(Kind.POLICY_ACTIVATED, "the policy of US", "https://c.gov/policy", "d-2")
    assert policy.text.splitlines()[0] == "The policy of US: new policy in force."


def test_a_webhook_carries_the_delivery_the_kind_about_what_the_case_number_and_the_link() -> None:
    assert MESSAGE.data() == {
        "delivery": "d-1",
        "kind": "waiting",
        "about": "case 12",
        "case_number": 12,
        "link": "https://clearance.example.gov/cases/12",
    }
    proposal = Message(Kind.WAITING, "proposal 3", "https://c.gov/p/3", "d-3")
    assert proposal.data()["case_number"] is None


def test_a_refused_address_is_shown_to_sixty_characters_and_cut_ones_end_in_an_ellipsis() -> None:
    sixty = "a" * 48 + "@example.gov"
    assert refusal_of_email(sixty.replace("@", "#")) == (
        f"'{sixty.replace('@', '#')}' is not an e-mail address (local@domain)"
    )
    assert refusal_of_email(sixty + "_") == f"'{sixty}…' has a domain that is not a host name"
    escaped = "\\xe9" * 60
    assert refusal_of_email("é" * 61) == f"'{escaped}…' is not an e-mail address (local@domain)"
