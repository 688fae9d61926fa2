"""The rules of reading a user's JSON, stated on the pure code (``core.json_input``).

Every reader of a user's JSON (the command line's files and lines, an exported
ledger, a case file checked offline) goes through ``decode_json``: these state
what it reads, what it refuses, and the exact words of each refusal.
"""

from __future__ import annotations

import pytest

from clearance.core.json_input import MAX_DIGITS, JsonProblem, decode_json


def _refusal(text: str | bytes) -> JsonProblem:
    with pytest.raises(JsonProblem) as refused:
        decode_json(text)
    return refused.value


def test_a_problem_without_a_place_is_its_words_alone() -> None:
    problem = JsonProblem("not JSON: odd")
    assert (str(problem), problem.in_line()) == ("not JSON: odd", "not JSON: odd")
    assert (problem.problem, problem.line, problem.column) == ("not JSON: odd", None, None)
    assert isinstance(problem, ValueError)
    assert problem.args == ("not JSON: odd",)


def test_a_problem_with_a_place_gives_its_line_and_column_or_its_column_in_a_line() -> None:
    problem = JsonProblem("not JSON: odd", 2, 7)
    assert str(problem) == "not JSON: odd at line 2, column 7"
    assert problem.in_line() == "not JSON: odd at column 7"
    assert (problem.problem, problem.line, problem.column) == ("not JSON: odd", 2, 7)


def test_json_text_and_its_utf8_bytes_are_read() -> None:
    text = '{"name": "Kyjiw \u2713", "items": [1, -2, 1.5, true, null]}'
    value = {"name": "Kyjiw \u2713", "items": [1, -2, 1.5, True, None]}
    assert decode_json(text) == value
    assert decode_json(text.encode("utf-8")) == value


def test_a_whole_number_of_19_digits_is_read_either_sign() -> None:
    assert MAX_DIGITS == 19
    assert decode_json("9999999999999999999") == 9_999_999_999_999_999_999
    assert decode_json("-9999999999999999999") == -9_999_999_999_999_999_999
    assert type(decode_json("12")) is int


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("10000000000000000000", "a whole number of 20 digits is longer than any clearance reads"),
        ("-10000000000000000000", "a whole number of 20 digits is longer than any clearance reads"),
        (
            "[" + "7" * 5000 + "]",
            "a whole number of 5,000 digits is longer than any clearance reads",
        ),
    ],
    ids=["20-digits", "20-digits-negative", "5000-digits"],
)
def test_a_whole_number_of_more_than_19_digits_is_refused_with_its_length(
    text: str, words: str
) -> None:
    problem = _refusal(text)
    assert (str(problem), problem.line, problem.column) == (words, None, None)


@pytest.mark.parametrize("name", ["NaN", "Infinity", "-Infinity"])
def test_the_constants_python_reads_are_refused_as_not_json(name: str) -> None:
    assert str(_refusal(f'{{"quantity": {name}}}')) == f"not JSON: {name} is not a JSON number"


def test_bytes_that_are_not_utf8_name_the_first_byte_that_cannot_be_read() -> None:
    problem = _refusal(b'{"a": "\xff"}')
    assert (str(problem), problem.line, problem.column) == (
        "not UTF-8 text (byte 8 cannot be read)",
        None,
        None,
    )
    assert str(_refusal(b" " * 1233 + b"\xc3")) == "not UTF-8 text (byte 1,234 cannot be read)"


def test_text_that_is_not_json_says_why_and_where() -> None:
    problem = _refusal('{"a": 1,\n  "b": }')
    assert (problem.problem, problem.line, problem.column) == (
        "not JSON: Expecting value",
        2,
        8,
    )
    assert str(problem) == "not JSON: Expecting value at line 2, column 8"


def test_arrays_nested_too_deep_are_refused_in_words() -> None:
    problem = _refusal("[" * 100_000 + "]" * 100_000)
    assert (str(problem), problem.line, problem.column) == (
        "not JSON clearance reads: arrays or objects nested too deep",
        None,
        None,
    )


def test_a_byte_order_mark_before_the_json_is_named() -> None:
    """Some editors write one; JSON does not allow it, and Python's words for it name a codec."""
    for text in ('\ufeff{"a": 1}', '\ufeff{"a": 1}'.encode()):
        problem = _refusal(text)
        assert (problem.problem, problem.line, problem.column) == (
            "not JSON: it starts with a byte order mark (U+FEFF)",
            1,
            1,
        )
