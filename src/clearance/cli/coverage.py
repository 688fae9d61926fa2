"""What ``clearance policy test --coverage`` prints after the golden cases."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from clearance.policy.coverage import BundleCoverage

__all__ = ["print_coverage"]


def print_coverage(console: Console, report: list[BundleCoverage]) -> None:
    table = Table(title="coverage: what no golden case reached")
    for column in ("bundle", "policies never determining", "gates never exercised"):
        table.add_column(column)
    for item in report:
        gates = [f"{policy} ({office})" for policy, office in item.gates_never_exercised]
        table.add_row(
            f"{item.bundle.holder} {item.bundle.effective_from}",
            "\n".join(item.never_determining) or "—",
            "\n".join(gates) or "—",
        )
    console.print(table)
    untested = sum(len(i.never_determining) for i in report)
    total = sum(len(i.bundle.policies) for i in report)
    console.print(
        f"{total - untested} of {total} policies determined a golden case;"
        f" {sum(len(i.gates_never_exercised) for i in report)} gates never exercised",
        highlight=False,
    )
