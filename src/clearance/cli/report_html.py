"""The report of waiting as one self-contained HTML file: no external asset, no script.

The file holds the table of offices, an inline SVG chart of the median and
90th-percentile working days to an answer per month (the 90th percentile
hatched, so the two differ by more than colour), and the same figures as a
table. It is marked, at its top and bottom, with the highest classification
of the cases counted; every text is escaped.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from clearance.service.oversight import MonthFigures, WaitingReport

from .replay_report import write_file
from .report import days, period_words

__all__ = ["waiting_chart", "write_html"]

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _month(key: str) -> tuple[str, str]:
    year, number = key.split("-")
    return _MONTHS[int(number) - 1], year


def _top(value: int) -> int:
    """A round axis maximum at or above ``value``: four steps of 1, 2 or 5 × 10ⁿ."""
    magnitude = 1
    while True:
        for step in (1, 2, 5):
            if step * magnitude * 4 >= value:
                return step * magnitude * 4
        magnitude *= 10


def waiting_chart(months: tuple[MonthFigures, ...]) -> str:
    """Two bars a month: the median (solid) and the 90th percentile (hatched), in working
    days, each labelled; a month without an answer says so under its name."""
    if not months:
        return "<p>No answer in the period.</p>"
    width, height = 760, 320
    left, right, top, bottom = 48, 16, 24, 84
    plot_w, plot_h = width - left - right, height - top - bottom
    axis = _top(max(m.p90_days or 0 for m in months))
    slot = plot_w / len(months)
    bar = min(28.0, slot * 0.35)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}"'
        f' height="{height}" role="img" aria-labelledby="chart-title">'
        '<title id="chart-title">Working days to an answer per month: median and 90th'
        " percentile</title>"
        '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse"'
        ' patternTransform="rotate(45)"><rect width="6" height="6" fill="#b26a00"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#fff" stroke-width="2"/></pattern></defs>'
    ]
    for step in range(5):
        y = top + plot_h - plot_h * step / 4
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{axis * step // 4}</text>'
        )
    for index, month in enumerate(months):
        centre = left + slot * index + slot / 2
        name, year = _month(month.month)
        for offset, value, fill, label in (
            (-bar, month.median_days, "#1f5fbf", "median"),
            (0.0, month.p90_days, "url(#hatch)", "90th percentile"),
        ):
            if value is None:
                continue
            h = plot_h * value / axis
            x, y = centre + offset, top + plot_h - h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{fill}">'
                f"<title>{name} {year}: {label} {days(value)} working days</title></rect>"
                f'<text x="{x + bar / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle">'
                f"{days(value)}</text>"
            )
        parts.append(
            f'<text x="{centre:.1f}" y="{top + plot_h + 18}" text-anchor="middle">{name}</text>'
            f'<text x="{centre:.1f}" y="{top + plot_h + 34}" text-anchor="middle"'
            f' class="small">{year if index == 0 or name == "Jan" else ""}</text>'
            f'<text x="{centre:.1f}" y="{top + plot_h + 50}" text-anchor="middle"'
            f' class="small">{month.decided} decided</text>'
        )
    legend = height - 10
    parts.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}"'
        ' stroke="#1b1b1b" stroke-width="1.5"/>'
        f'<rect x="{left}" y="{legend - 11}" width="14" height="14" fill="#1f5fbf"/>'
        f'<text x="{left + 20}" y="{legend}">median</text>'
        f'<rect x="{left + 100}" y="{legend - 11}" width="14" height="14" fill="url(#hatch)"/>'
        f'<text x="{left + 120}" y="{legend}">90th percentile</text></svg>'
    )
    return "".join(parts)


def _cell(value: object, numeric: bool = False) -> str:
    opening = '<td class="num">' if numeric else "<td>"
    return f"{opening}{escape(str(value))}</td>"


def write_html(report: WaitingReport, path: Path, *, seen: str) -> None:
    """Write the report to ``path``; a file that cannot be written is one line naming it."""
    level = escape(report.level.label)
    offices = "\n".join(
        "<tr>"
        + _cell(o.office)
        + _cell(o.decided, True)
        + _cell(days(o.median_days), True)
        + _cell(days(o.p90_days), True)
        + _cell(
            "—"
            if o.longest_waiting is None
            else f"case {o.longest_waiting.case_number}: {o.longest_waiting.days} days",
            True,
        )
        + f'<td class="num{" overdue" if o.overdue else ""}">{o.overdue}</td>'
        + f'<td class="num{" escalated" if o.escalated else ""}">{o.escalated}</td>'
        + "</tr>"
        for o in report.offices
    )
    months = "\n".join(
        "<tr>"
        + _cell(m.month)
        + _cell(m.decided, True)
        + _cell(days(m.median_days), True)
        + _cell(days(m.p90_days), True)
        + "</tr>"
        for m in report.months
    )
    made = report.at.strftime("%Y-%m-%d %H:%M UTC")
    document = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Time to decision per office</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #1b1b1b; max-width: 60rem; }}
.banner {{ text-align: center; font-weight: 700; padding: .3rem; border: 2px solid #1b1b1b; }}
table {{ border-collapse: collapse; margin: 1rem 0; }}
th, td {{ border: 1px solid #ccc; padding: .3rem .6rem; text-align: left; }}
th {{ background: #f0f0f0; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
td.overdue {{ color: #fff; background: #b3261e; font-weight: 700; }}
td.escalated {{ background: #ffd966; font-weight: 700; }}
svg {{ max-width: 100%; height: auto; }}
svg text {{ font: 13px system-ui, sans-serif; fill: #1b1b1b; }}
svg text.small {{ font-size: 11px; fill: #555; }}
</style></head>
<body>
<p class="banner">{level}</p>
<h1>Time to decision per office</h1>
<p>{escape(period_words(report).capitalize())}, counted in each office's working days (its
country's public holidays and the declared closures left out, and the days a question
to the requester stopped the clock); {escape(seen)}. Made {escape(made)}; what waits
now is as of then.</p>
<table>
<thead><tr><th>office</th><th>decided</th><th>median</th><th>90th percentile</th>
<th>longest waiting now</th><th>overdue now</th><th>escalated</th></tr></thead>
<tbody>
{offices or '<tr><td colspan="7">No office gates a case counted.</td></tr>'}
</tbody></table>
<p>The median of an even number of answers is the mean of the two middle ones; the 90th
percentile is the nearest rank, the smallest time that at least 90 in 100 answers took no
longer than.</p>
<h2>Working days to an answer, per month</h2>
{waiting_chart(report.months)}
<table>
<thead><tr><th>month</th><th>decided</th><th>median</th><th>90th percentile</th></tr></thead>
<tbody>
{months}
</tbody></table>
<p class="banner">{level}</p>
</body></html>
"""
    write_file(path, document)
