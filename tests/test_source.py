"""Cedar text cut into statements that keep their lines, and syntax errors that name the line."""

from __future__ import annotations

import pytest

from clearance.errors import PolicySourceError
from clearance.policy.source import (
    MAX_CHAIN,
    MAX_NESTING,
    Statement,
    chain_problem,
    nesting_problem,
    parse_statements,
    split_statements,
)

PERMIT = "permit (principal, action, resource)"


def texts(source: str) -> list[str]:
    return [s.text for s in split_statements(source)]


def refusal(source: str) -> tuple[str, int | None, str]:
    """(file, line, problem) of the refusal of ``source`` read as ``p.cedar``."""
    with pytest.raises(PolicySourceError) as refused:
        parse_statements(source, "p.cedar")
    return refused.value.file, refused.value.line, refused.value.problem


# --- split_statements ------------------------------------------------------------------------


def test_each_top_level_semicolon_ends_a_statement() -> None:
    source = f"{PERMIT};\n{PERMIT};\n"
    assert texts(source) == [f"{PERMIT};", f"{PERMIT};"]


def test_a_semicolon_inside_a_string_does_not_end_the_statement() -> None:
    source = f'{PERMIT} when {{ context.a == "x;y" }};\n{PERMIT};'
    assert texts(source) == [f'{PERMIT} when {{ context.a == "x;y" }};', f"{PERMIT};"]


def test_an_escaped_quote_does_not_end_the_string() -> None:
    source = f'{PERMIT} when {{ context.a == "say \\"a;b\\" ;" }};\n{PERMIT};'
    assert len(split_statements(source)) == 2
    assert split_statements(source)[0].text.endswith('" };')


def test_a_double_slash_inside_a_string_is_not_a_comment() -> None:
    source = f'{PERMIT} when {{ context.a == "http://x;y" }};\n{PERMIT};'
    assert texts(source) == [f'{PERMIT} when {{ context.a == "http://x;y" }};', f"{PERMIT};"]


def test_an_empty_string_ends_at_its_second_quote() -> None:
    source = f'{PERMIT} when {{ context.a == "" }};\n{PERMIT};'
    assert texts(source) == [f'{PERMIT} when {{ context.a == "" }};', f"{PERMIT};"]


def test_an_escaped_backslash_does_not_escape_the_closing_quote() -> None:
    source = f'{PERMIT} when {{ context.a == "a\\\\" }};\n{PERMIT};'
    assert texts(source) == [f'{PERMIT} when {{ context.a == "a\\\\" }};', f"{PERMIT};"]


def test_a_string_left_open_runs_to_the_end_of_the_text() -> None:
    source = f'{PERMIT};\n{PERMIT} when {{ context.a == "x; }};'
    statements = split_statements(source)
    assert [(s.text, s.line) for s in statements] == [
        (f"{PERMIT};", 1),
        (f'{PERMIT} when {{ context.a == "x; }};', 2),
    ]


def test_a_single_slash_is_not_a_comment() -> None:
    """Only ``//`` starts a comment, also in a text that opens with one."""
    source = f"// note\n{PERMIT} when {{ 4 / 2 == 2 }}; {PERMIT};"
    statements = split_statements(source)
    assert [(s.text, s.line) for s in statements] == [
        (f"// note\n{PERMIT} when {{ 4 / 2 == 2 }};", 1),
        (f" {PERMIT};", 2),
    ]


def test_a_semicolon_or_quote_inside_a_comment_does_not_end_the_statement() -> None:
    source = f'// first; not an "end\n{PERMIT}; // trailing; comment "x\n// more;\n{PERMIT};\n'
    statements = split_statements(source)
    assert len(statements) == 2
    assert statements[0].text == f'// first; not an "end\n{PERMIT};'
    assert statements[0].line == 1
    assert statements[0].code_line == 2
    assert statements[1].text.endswith(f"// more;\n{PERMIT};")
    assert statements[1].code_line == 4


def test_a_statement_ends_at_its_semicolon_with_the_next_right_after_it() -> None:
    assert texts(f"{PERMIT};{PERMIT};") == [f"{PERMIT};", f"{PERMIT};"]


def test_statements_keep_their_first_line_and_skip_blank_lines() -> None:
    source = (
        "\n"  # 1
        "\n"  # 2
        '@id("a")\n'  # 3
        f"{PERMIT};\n"  # 4
        "\n"  # 5
        "// about b\n"  # 6
        '@id("b")\n'  # 7
        "forbid (principal, action, resource)\n"  # 8
        "when { true };\n"  # 9
        "\n"  # 10
        f'@id("c") {PERMIT};\n'  # 11
    )
    statements = split_statements(source)
    assert [(s.line, s.code_line) for s in statements] == [(3, 3), (6, 7), (11, 11)]
    assert statements[1].text == (
        '// about b\n@id("b")\nforbid (principal, action, resource)\nwhen { true };'
    )


def test_a_string_spanning_lines_counts_its_lines() -> None:
    source = f'{PERMIT} when {{ context.a == "one\ntwo;" }};\n\n@id("b")\n{PERMIT};'
    statements = split_statements(source)
    assert [s.line for s in statements] == [1, 4]


def test_two_statements_on_one_line_share_its_number() -> None:
    statements = split_statements(f"\n{PERMIT}; {PERMIT};")
    assert [s.line for s in statements] == [2, 2]


def test_a_trailing_fragment_without_semicolon_is_kept() -> None:
    statements = split_statements(f"{PERMIT};\n\n{PERMIT}\nwhen {{ true }}")
    assert [s.text for s in statements] == [f"{PERMIT};", f"{PERMIT}\nwhen {{ true }}"]
    assert statements[1].line == 3


@pytest.mark.parametrize("source", ["", "\n\n", "// only a comment; with a semicolon\n// and more"])
def test_text_without_code_has_no_statements(source: str) -> None:
    assert split_statements(source) == []


def test_code_line_skips_comments_and_blank_lines() -> None:
    statement = Statement('// one\n\n// two\n@id("x")\npermit (principal, action, resource);', 10)
    assert statement.code_line == 13


# --- parse_statements ------------------------------------------------------------------------


def test_parse_statements_parses_each_statement_alone() -> None:
    source = f'@id("a")\n{PERMIT};\n\n@id("b")\nforbid (principal, action, resource) when {{ context.x == "a;b" }};'
    parsed = parse_statements(source, "p.cedar")
    assert [s.line for s, _ in parsed] == [1, 4]
    assert all(len(policy_set.to_pst().static_policies) == 1 for _, policy_set in parsed)


def test_a_syntax_error_on_a_later_line_of_a_multi_line_policy_names_that_line() -> None:
    source = (
        '@id("a")\n'  # 1
        f"{PERMIT};\n"  # 2
        "\n"  # 3
        "// b is broken on its fourth line\n"  # 4
        '@id("b")\n'  # 5
        "forbid (principal, action, resource)\n"  # 6
        "when { context.quantity > 1 }\n"  # 7
        "unless { context.quantity <<< 3 };\n"  # 8
        f'@id("c") {PERMIT};\n'  # 9
    )
    with pytest.raises(PolicySourceError) as caught:
        parse_statements(source, "bundles/XX/policies.cedar")
    error = caught.value
    assert error.line == 8
    assert error.file == "bundles/XX/policies.cedar"
    assert str(error).startswith("bundles/XX/policies.cedar: line 8: ")


@pytest.mark.parametrize(
    ("lines", "bad"),
    [
        (['@id("x")', PERMIT, "when {", "  context.a == 1 &&", "  context.b == )", "};"], 5),
        (['@id("x")', PERMIT, "when {", "  context.a == 1", "} uless { true };"], 5),
        (['@id("x")', "permit (principal, action, resource", "when { true };"], 3),
        (['@id("x")', "permits (principal, action, resource);"], 2),
        (["permit (principal,, action, resource)", "when { true };"], 1),
    ],
)
def test_the_error_line_is_where_the_mistake_is(lines: list[str], bad: int) -> None:
    prefix = f'@id("ok")\n{PERMIT};\n\n'  # two lines of good policy, and a blank one
    with pytest.raises(PolicySourceError) as caught:
        parse_statements(prefix + "\n".join(lines), "f.cedar")
    assert caught.value.line == bad + 3


def test_a_policy_cut_short_names_its_last_line() -> None:
    source = f'{PERMIT};\n\n@id("x")\n{PERMIT}\nwhen {{ true }}\n'
    with pytest.raises(PolicySourceError) as caught:
        parse_statements(source, "f.cedar")
    assert caught.value.line == 5
    assert "f.cedar: line 5" in str(caught.value)


def test_a_good_file_after_a_multi_line_string_keeps_line_numbers_for_errors() -> None:
    source = f'{PERMIT} when {{ context.a == "one\ntwo;" }};\n\n@id("b")\n{PERMIT} when {{ ] }};'
    with pytest.raises(PolicySourceError) as caught:
        parse_statements(source, "f.cedar")
    assert caught.value.line == 5


def test_a_syntax_error_says_cedar_s_words_after_the_file_and_line() -> None:
    source = f'@id("a")\n{PERMIT};\n@id("b")\npermits (principal, action, resource);'
    with pytest.raises(PolicySourceError) as caught:
        parse_statements(source, "f.cedar")
    assert (caught.value.file, caught.value.line) == ("f.cedar", 4)
    assert caught.value.problem == "invalid policy effect: permits"
    assert str(caught.value) == "f.cedar: line 4: invalid policy effect: permits"


# --- nesting Cedar cannot parse safely -------------------------------------------------------


def _nested(depth: int, opening: str = "(", closing: str = ")") -> str:
    return f"{PERMIT} when {{\n  {opening * depth}true{closing * depth}\n}};"


@pytest.mark.parametrize(("opening", "closing"), [("(", ")"), ("[", "] == []")])
def test_brackets_nested_past_the_limit_are_refused_naming_the_line(
    opening: str, closing: str
) -> None:
    """Cedar's parser ends the whole process (a stack overflow, no exception) on brackets
    nested some hundreds deep, and a proposal's text reaches it: past ``MAX_NESTING`` the
    policy is refused before Cedar reads it. The braces of the ``when`` count too."""
    deep = opening * MAX_NESTING + "true" + closing * MAX_NESTING
    assert refusal(f"{PERMIT} when {{\n  {deep}\n}};") == (
        "p.cedar",
        2,
        f"nested more than {MAX_NESTING} brackets deep",
    )


def test_brackets_up_to_the_limit_parse_and_a_far_deeper_text_is_refused_in_words() -> None:
    ((_, policy),) = parse_statements(_nested(MAX_NESTING - 1), "p.cedar")
    assert policy is not None
    with pytest.raises(PolicySourceError, match="nested more than 64 brackets deep"):
        parse_statements(_nested(100_000), "p.cedar")


def test_brackets_in_strings_and_comments_do_not_count() -> None:
    source = f'// {"(" * 200}\n{PERMIT} when {{ context.a == "{"[" * 200}" }};'
    assert len(parse_statements(source, "p.cedar")) == 1


def test_more_if_expressions_than_the_limit_are_refused() -> None:
    """``if`` expressions nested in each other's branches overflow Cedar's parser as
    brackets do (names holding the letters: the rule below)."""
    chained = "if true then " * MAX_NESTING + "true" + " else false" * MAX_NESTING
    assert len(parse_statements(f"{PERMIT} when {{ {chained} }};", "p.cedar")) == 1
    one_more = "if true then " + chained + " else false"
    with pytest.raises(PolicySourceError) as refused:
        parse_statements(f"{PERMIT} when {{ {one_more} }};", "p.cedar")
    assert refused.value.problem == f"holds more than {MAX_NESTING} if-expressions"


@pytest.mark.parametrize("opening", ["(", "[", "{"])
def test_only_its_closing_bracket_lowers_the_depth(opening: str) -> None:
    """A name between brackets (``X`` here) closes nothing: brackets opened one inside the
    other past the limit are refused whatever stands between them; brackets side by side,
    each closed before the next opens, never go deep."""
    closing = {"(": ")", "[": "]", "{": "}"}[opening]
    with pytest.raises(PolicySourceError, match="nested more than 64 brackets deep"):
        parse_statements(f"{PERMIT} when {{ {(opening + 'X ') * MAX_NESTING} }};", "p.cedar")
    assert nesting_problem(f"{opening}X{closing} " * (MAX_NESTING * 3)) is None


def test_a_schema_s_angle_brackets_count_only_where_asked() -> None:
    """A schema's ``Set<…>`` nests as brackets do (``brackets="([{<"``); in a policy ``<``
    is a comparison and does not count."""
    deep = "<X " * (MAX_NESTING + 1)
    assert nesting_problem(deep, brackets="([{<") == (1, "nested more than 64 brackets deep")
    assert nesting_problem(deep) is None
    assert nesting_problem("Set<X> " * (MAX_NESTING * 3), brackets="([{<") is None


def test_a_deep_statement_after_others_is_refused_naming_its_own_line() -> None:
    """The line of a refusal counts from the top of the file, not of the statement."""
    deep = "(" * MAX_NESTING + "true" + ")" * MAX_NESTING
    source = f"{PERMIT};\n// the deep one\n{PERMIT} when {{\n  {deep}\n}};"
    with pytest.raises(PolicySourceError) as refused:
        parse_statements(source, "p.cedar")
    assert (refused.value.line, refused.value.problem) == (4, "nested more than 64 brackets deep")


@pytest.mark.parametrize(
    "name", ["context.gift", "context.if_x", "context.is_if", "context.xif", "context.tarif"]
)
def test_a_name_holding_if_is_never_an_if_expression(name: str) -> None:
    """Only ``if`` standing alone opens an if-expression: a name with the letters inside it,
    at its start or at its end (a letter, a digit or ``_`` beside them) is not counted,
    however often it appears."""
    names = " && ".join([name] * (MAX_NESTING * 2))
    assert len(parse_statements(f"{PERMIT} when {{ {names} }};", "p.cedar")) == 1


def test_if_at_the_edges_of_the_text_is_read_as_a_word_or_not() -> None:
    """The first character of the text can be part of a name (``xif`` there is not an
    ``if``), and an ``if`` that ends the text is counted without reading past the end."""
    chained = "if " * MAX_NESTING
    assert nesting_problem("xif " + chained) is None
    assert nesting_problem(chained + "if") == (1, "holds more than 64 if-expressions")


# --- chains Cedar cannot convert safely ------------------------------------------------------


@pytest.mark.parametrize("link", [" && true", " || false", " + 1", " - 1", " * 1", ".a", '["a"]'])
def test_a_chain_past_the_limit_is_refused_naming_the_line(link: str) -> None:
    """Each link of a chain nests Cedar's tree one level deeper, and turning the tree into
    Python (``to_pst``) overflowed the stack and ended the process at about 1,300 links,
    with no bracket in sight: past ``MAX_CHAIN`` operator characters the policy is refused
    before Cedar reads it, on the line where the count passes the limit."""
    per_link = sum(link.count(c) for c in "&|+-*.[")
    links = MAX_CHAIN // per_link + 1
    source = f"{PERMIT};\n{PERMIT} when {{\n  context.a{link * links} == 1\n}};"
    assert refusal(source) == (
        "p.cedar",
        3,
        f"chains more than {MAX_CHAIN} operators (&&, ||, +, -, *, . or [)",
    )


def test_a_chain_up_to_the_limit_reaches_cedar_and_a_far_longer_one_is_refused() -> None:
    at_limit = f"{PERMIT} when {{ context.a{' + 1' * (MAX_CHAIN - 1)} == 1 }};"
    assert chain_problem(at_limit) is None
    assert len(parse_statements(at_limit, "p.cedar")) == 1
    with pytest.raises(PolicySourceError, match=f"chains more than {MAX_CHAIN} operators"):
        parse_statements(f"{PERMIT} when {{ true{' && true' * 200_000} }};", "p.cedar")


def test_operators_in_strings_and_comments_do_not_count() -> None:
    many = "&|+-*.[" * MAX_CHAIN
    source = f'// {many}\n{PERMIT} when {{ context.a == "{many}" }};'
    assert chain_problem(source) is None
    assert len(parse_statements(source, "p.cedar")) == 1


def test_the_chain_is_counted_for_each_statement_alone() -> None:
    """Every statement may hold up to the limit: the count starts again after each ``;``."""
    statement = f"{PERMIT} when {{ context.a{' + 1' * (MAX_CHAIN - 1)} == 1 }};\n"
    assert len(parse_statements(statement * 3, "p.cedar")) == 3


def test_a_text_read_whole_counts_exactly_its_operators_in_code() -> None:
    """Operators in a comment take the text past the shortcut, so it is read character by
    character: exactly ``MAX_CHAIN`` operators in code are within the limit and one more is
    not, and no other character (a long name here) counts."""
    comment = f"// {'.' * MAX_CHAIN}\n"
    body = f"context.a{'x' * MAX_CHAIN * 2}{' + 1' * (MAX_CHAIN - 1)} == 1"
    text = f"{comment}{PERMIT} when {{ {body} }};"
    assert chain_problem(text) is None
    over = text.replace(" == 1", " + 1 == 1")
    words = f"chains more than {MAX_CHAIN} operators (&&, ||, +, -, *, . or [)"
    assert chain_problem(over) == (2, words)
    assert chain_problem(over, 10) == (11, words)
