"""A replay's findings as files: CSV for spreadsheets, HTML for people.

The HTML report is one self-contained file: no external asset, no script,
an inline SVG chart of the changes by kind, and every text escaped, since
requests and reasons come from the database and policy files.
"""

from __future__ import annotations

import csv
import html
import io
from pathlib import Path
from typing import Any

from clearance.core.request import describe_request
from clearance.errors import InputError
from clearance.service.replay import ReplayReport

__all__ = ["write_csv", "write_file", "write_html"]

CSV_COLUMNS = (
    "number",
    "case_id",
    "request",
    "state",
    "was",
    "would_be",
    "was_reasons",
    "would_be_reasons",
)

_COLOURS = {"permitted": "#2e7d32", "review_required": "#b26a00", "prohibited": "#c62828"}


def write_file(path: Path, text: str) -> None:
    """Write a report; a file that cannot be written is one line naming it."""
    try:
        path.write_text(text, encoding="utf-8", newline="")
    except IsADirectoryError:
        raise InputError(str(path), "is a folder, not a file") from None
    except OSError as exc:
        raise InputError(str(path), f"cannot be written: {exc.strerror or exc}") from None


def write_csv(report: ReplayReport, path: Path) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for c in report.changes:
        writer.writerow(
            [
                c.number,
                c.case_id,
                describe_request(c.request),
                c.state,
                c.was,
                c.would_be,
                " ".join(c.was_reasons),
                " ".join(c.would_be_reasons),
            ]
        )
    write_file(path, out.getvalue())


def _chart(by_kind: dict[str, int], what: str = "changes by kind") -> str:
    """A horizontal bar per kind of change (or zone), labelled with it and its count."""
    if not by_kind:
        return '<p class="none">No case would change.</p>'
    bar, label, row = 320, 260, 28
    most = max(by_kind.values())
    height = row * len(by_kind) + 8
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{label + bar + 70}" height="{height}"'
        f' role="img" aria-label="{what}">'
    ]
    for index, (kind, count) in enumerate(by_kind.items()):
        y = 4 + index * row
        width = max(2, round(bar * count / most))
        colour = _COLOURS.get(kind.split(" → ")[-1], "#455a64")
        parts.append(
            f'<text x="{label - 8}" y="{y + 17}" text-anchor="end">{html.escape(kind)}</text>'
            f'<rect x="{label}" y="{y + 3}" width="{width}" height="{row - 8}" fill="{colour}"/>'
            f'<text x="{label + width + 6}" y="{y + 17}">{count}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _cell(value: Any) -> str:
    return f"<td>{html.escape(str(value))}</td>"


def write_html(report: ReplayReport, path: Path) -> None:
    data = report.as_dict()
    bundle = data["bundle"]
    period = f"{data['from'] or 'the first case'} to {data['to'] or 'the last case'}"
    title = f"Replay under {bundle['holder']} '{bundle['title']}'"
    rows = "\n".join(
        "<tr>"
        + _cell(c.number)
        + _cell(describe_request(c.request))
        + _cell(f"{c.was} ({c.state})")
        + _cell(c.would_be)
        + _cell(" ".join(c.was_reasons) or "—")
        + _cell(" ".join(c.would_be_reasons) or "; ".join(c.notes) or "—")
        + "</tr>"
        for c in report.changes
    )
    skipped = "".join(f"<li>case {s.number}: {html.escape(s.problem)}</li>" for s in report.skipped)
    by_zone = (
        "<h2>Changes by zone of the target</h2>" + _chart(report.by_zone, "changes by zone")
        if report.by_zone
        else ""
    )
    document = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #1b1b1b; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border: 1px solid #ccc; padding: .3rem .5rem; text-align: left; vertical-align: top; }}
th {{ background: #f0f0f0; }}
svg text {{ font: 13px system-ui, sans-serif; }}
</style></head>
<body>
<h1>{html.escape(title)}</h1>
<p>Bundle <code>{html.escape(bundle["folder"])}</code>, revision
<code>{html.escape(bundle["revision"])}</code>, put in place of {html.escape(bundle["holder"])}'s
policy for cases dated {html.escape(period)}.</p>
<p>{data["examined"]} cases examined; {data["changed"]} would change.</p>
<h2>Changes by kind</h2>
{_chart(report.by_kind)}
{by_zone}
<h2>Cases that would change</h2>
<table><thead><tr><th>case</th><th>request</th><th>was</th><th>would be</th>
<th>reasons on record</th><th>candidate's determining policies</th></tr></thead>
<tbody>
{rows}
</tbody></table>
{f"<h2>Cases not judged</h2><ul>{skipped}</ul>" if skipped else ""}
</body></html>
"""
    write_file(path, document)
