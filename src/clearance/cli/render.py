"""Rich rendering of decisions, explanations and tables: colour where status matters.

Colour is never the only signal: every outcome is also written out in words.
"""

from __future__ import annotations

import json
import sys
import unicodedata
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from clearance.core.decision import Decision, Outcome
from clearance.core.event_words import OUTCOME_WORDS
from clearance.core.holders import ConsentHolder
from clearance.core.request import describe_request
from clearance.core.stockpile import Rating, StockpileFacts
from clearance.policy.explain import Explanation


def make_console(*, stderr: bool = False) -> Console:
    """A console that prints text as written: a user's words (a name, a reason, a condition,
    a value of a file being checked) are never read as Rich markup (``[/]`` would be an error,
    ``[red]`` a colour) or emoji codes (``:smile:``). Styles are given as ``Text`` styles."""
    return Console(stderr=stderr, markup=False, emoji=False)


STYLE = {
    Outcome.PERMITTED: "bold green",
    Outcome.REVIEW_REQUIRED: "bold yellow",
    Outcome.PROHIBITED: "bold red",
}
LABEL = {outcome: words.upper() for outcome, words in OUTCOME_WORDS.items()}
RATING_STYLE = {Rating.GREEN: "green", Rating.YELLOW: "yellow", Rating.RED: "red"}


def rating_text(rating: Rating, *, meaning: bool = True) -> Text:
    """A rating in colour and in words (``RED below requirement``, or ``RED`` in tables)."""
    words = f"{rating.value.upper()} {rating.meaning}" if meaning else rating.value.upper()
    return Text(words, style=f"bold {RATING_STYLE[rating]}")


def stockpile_text(facts: StockpileFacts) -> Text:
    """The stockpile facts a decision saw, in one line."""
    line = Text(f"{facts.holder} {facts.system}: ")
    line.append(rating_text(facts.now)).append(" → ").append(rating_text(facts.after))
    line.append(
        f"  ({facts.available:,} → {facts.available_after:,} available,"
        f" {facts.requirement:,} required)"
    )
    return line


_BREAKS = frozenset({"Cc", "Zl", "Zp"})
"""Control characters and the line and paragraph separators (U+2028, U+2029): each ends a
line for some reader (``str.splitlines`` among them)."""


def one_line(text: str) -> str:
    """``text`` with its control characters and line separators written out (``\\n``,
    ``\\u2028``), so that it stays one line whatever a user typed into the name or file it
    quotes."""
    return "".join(
        repr(c)[1:-1] if unicodedata.category(c) in _BREAKS and c != "\t" else c for c in text
    )


def bullet(problem: str) -> Text:
    """One problem of a list, under its heading, marked in red."""
    return Text.assemble("  ", ("•", "red"), f" {problem}")


def outcome_text(outcome: Outcome) -> Text:
    return Text(LABEL[outcome], style=STYLE[outcome])


def progress_bar(what: str, *, in_bytes: bool = False, show: bool = True) -> Progress:
    """A bar for long work, on standard error and only on a terminal, so that what goes to
    standard output (JSON for a script, say) is never mixed with it; gone once done.

    What is printed to standard output while the bar shows is drawn above the bar only when
    standard output is a terminal too; otherwise Rich would send it to the bar's terminal
    instead of the file or pipe it was meant for (tests/test_screen_stream.py)."""
    return Progress(
        TextColumn(what),
        BarColumn(),
        DownloadColumn() if in_bytes else MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=make_console(stderr=True),
        transient=True,
        disable=not (show and sys.stderr.isatty()),
        redirect_stdout=sys.stdout is not None and sys.stdout.isatty(),
    )


def print_json(console: Console, data: Any, *, compact: bool = False) -> None:
    """JSON to stdout, unstyled, so scripts can parse it."""
    text = (
        json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        if compact
        else json.dumps(data, ensure_ascii=False, indent=2)
    )
    console.print(text, markup=False, highlight=False, emoji=False, soft_wrap=True)


def approvals_text(decision: Decision) -> str:
    return ", ".join(
        f"{a.authority}{'' if a.delegable else ' (personally)'}"
        for a in decision.required_approvals
    )


def decision_line(decision: Decision) -> Text:
    """One line per decision, for streams: outcome, request, what it needs."""
    line = Text()
    line.append_text(outcome_text(decision.outcome))
    line.append(f"  {describe_request(dict(decision.request))}")
    if decision.required_approvals:
        line.append(f"  needs {approvals_text(decision)}", style="yellow")
    if decision.conditions:
        line.append(f"  on condition: {'; '.join(decision.conditions)}", style="cyan")
    return line


def holders_tree(system: str, holders: tuple[ConsentHolder, ...]) -> Tree:
    tree = Tree(Text(f"{system}: consent holders", style="bold"))
    for holder in holders:
        branch = tree.add(Text(holder.party, style="bold cyan"))
        for path in holder.paths:
            branch.add(Text(path.text))
    return tree


def decision_panel(decision: Decision) -> Panel:
    """The decision at a glance: outcome, holders, approvals, conditions, trace ids."""
    body = Table.grid(padding=(0, 2))
    body.add_column(style="dim")
    body.add_column()
    body.add_row("request", Text(describe_request(dict(decision.request))))
    body.add_row("outcome", outcome_text(decision.outcome))
    body.add_row("consent holders", Text(", ".join(decision.consent_holders)))
    if decision.required_approvals:
        body.add_row("approval needed", Text(approvals_text(decision), style="yellow"))
    if decision.conditions:
        body.add_row("conditions", Text("\n".join(decision.conditions)))
    if decision.stockpile is not None:
        body.add_row("stockpile", stockpile_text(decision.stockpile))
    if decision.waiting_period is not None:
        body.add_row("waiting period", Text(decision.waiting_period.describe(), style="yellow"))
    body.add_row("reasons", Text("\n".join(decision.reasons) or "—"))
    notes = [n for j in decision.judgements for n in j.notes]
    if notes:
        body.add_row("notes", Text("\n".join(notes)))
    body.add_row("judged as of", decision.judged_as_of.isoformat())
    body.add_row(
        "bundles",
        "\n".join(
            f"{party}: {rev[:19] if rev else '—'}" for party, rev in decision.bundles.items()
        ),
    )
    body.add_row("decision id", decision.decision_id)
    return Panel(body, title="decision", border_style=STYLE[decision.outcome].split()[-1])


def explanation_view(explanation: Explanation) -> Group:
    decision = explanation.decision
    parts: list[Any] = [decision_panel(decision)]
    tree = Tree(Text(f"{decision.request['system']}: who must consent, and why", style="bold"))
    for h in explanation.holders:
        judgement = h.judgement
        label = Text(f"{judgement.holder.party}  ")
        label.append_text(outcome_text(judgement.outcome))
        if h.bundle is not None:
            end = h.until.isoformat() if h.until else "now"
            label.append(
                f"  under '{h.bundle.title}' ({h.bundle.effective_from} to {end})", style="dim"
            )
        branch = tree.add(label)
        for path in judgement.holder.paths:
            branch.add(Text(path.text, style="cyan"))
        for note in judgement.notes:
            branch.add(Text(note, style="italic"))
    parts.append(tree)
    for h in explanation.holders:
        for policy in h.policies:
            title = f"{h.judgement.holder.party}/{policy.id} — {policy.file}:{policy.statement.code_line}"
            parts.append(Panel(Text(policy.statement.text), title=title, title_align="left"))
    if explanation.changes:
        changes = Text("What would change it\n", style="bold")
        for change in explanation.changes:
            changes.append(f"• {change}\n")
        parts.append(changes)
    return Group(*parts)
