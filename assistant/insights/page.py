"""The insight page's HTML: figures as tables, a heat map over the reading's paragraphs and an
inline SVG chart of activity; no script, nothing fetched from elsewhere."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from ..chunking import paragraph_spans
from ..models import Document
from .analysis import Group, Insights

HEAT_LEVELS = 10
SNIPPET_CHARS = 160

STYLE = """
body { font: 15px/1.5 system-ui, sans-serif; margin: 0; color: #1d2330; background: #fff; }
main { max-width: 70rem; margin: 0 auto; padding: 1rem 1.5rem 3rem; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #dde; }
.figures { display: flex; gap: 1rem; flex-wrap: wrap; padding: 0; list-style: none; }
.figures li { border: 1px solid #dde; border-radius: 6px; padding: .5rem 1rem; }
.figures strong { display: block; font-size: 1.4rem; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .3rem .5rem; }
tbody tr:nth-child(odd) { background: #f5f6fa; } td.count { text-align: right; width: 5rem; }
.examples { margin: .2rem 0 0; padding-left: 1.2rem; color: #444; font-size: .9rem; }
.heat { list-style: none; padding: 0; margin: 0; }
.heat li { border-left: 6px solid #ccd; padding: .3rem .6rem; margin: .2rem 0; font-size: .9rem; }
.heat a { color: inherit; text-decoration: none; } .heat .n { float: right; font-weight: bold; }
.note { color: #555; font-size: .9rem; }
""" + "".join(
    f".heat .h{level} {{ background: rgba(214, 69, 25, {level / (HEAT_LEVELS - 1) * 0.55:.2f}); "
    f"border-color: rgba(214, 69, 25, {0.2 + level / (HEAT_LEVELS - 1) * 0.8:.2f}); }}\n"
    for level in range(HEAT_LEVELS)
)


def insight_page(
    title: str, insights: Insights, documents: Sequence[Document], *, transcripts: bool, scope: str
) -> str:
    figures = [
        ("questions", insights.total),
        ("askers (pseudonyms; each question from outside a launch counts alone)", insights.askers),
        ("not answered by the reading", insights.refused),
        ("answered with a caveat: the quotes may not answer them", insights.uncertain),
        ("false premises corrected", insights.premises_corrected),
    ]
    cards = "".join(f"<li><strong>{n}</strong>{escape(label)}</li>" for label, n in figures)
    note = (
        "Single questions are shown (transcripts are on)."
        if transcripts
        else "Aggregates only: groups are named by their most frequent words; single questions are not "
        "shown (set ASSISTANT_QUESTION_LOG_TRANSCRIPTS=true to show them)."
    )
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>What students ask · {escape(title)}</title>
<link rel="stylesheet" href="insights.css">
</head>
<body>
<main>
<h1>What students ask about <cite>{escape(title)}</cite></h1>
<p class="note">{escape(scope)} · {escape(note)}</p>
<ul class="figures" aria-label="Totals">{cards}</ul>
<h2 id="activity">Activity over time</h2>
{_activity(insights)}
<h2 id="topics">Most asked topics</h2>
{_groups(insights.topics, transcripts, "No answered questions yet.")}
<h2 id="gaps">Gaps in the reading: questions it did not answer, or may not have</h2>
{_groups(insights.gaps, transcripts, "Every question so far found its answer in the reading.")}
<h2 id="premises">False premises corrected</h2>
{_groups(insights.corrected, transcripts, "No question rested on a premise the reading contradicts.")}
<h2 id="cited">Passages cited most</h2>
<p class="note">Each paragraph of the reading, shaded by how many answers quoted it.</p>
{_heat(insights, documents)}
</main>
</body>
</html>
"""


def _groups(groups: list[Group], transcripts: bool, empty: str) -> str:
    if not groups:
        return f'<p class="note">{escape(empty)}</p>'
    rows = []
    for group in groups:
        examples = ""
        if transcripts and group.examples:
            items = "".join(f"<li>{escape(q)}</li>" for q in group.examples)
            examples = f'<ul class="examples">{items}</ul>'
        rows.append(f'<tr><td>{escape(group.label)}{examples}</td><td class="count">{group.count}</td></tr>')
    return (
        '<table><thead><tr><th scope="col">Group</th>'
        '<th scope="col" class="count">Questions</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _heat(insights: Insights, documents: Sequence[Document]) -> str:
    most = max(insights.cited.values(), default=0)
    parts = []
    for doc in documents:
        items = []
        for number, (start, end) in enumerate(paragraph_spans(doc.text), start=1):
            count = insights.cited.get((doc.doc_id, number), 0)
            level = round(count / most * (HEAT_LEVELS - 1)) if most else 0
            text = doc.text[start:end].strip()
            snippet = text if len(text) <= SNIPPET_CHARS else text[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"
            href = escape(f"../read/{doc.doc_id}#s-{number}-1", quote=True)
            items.append(
                f'<li class="h{level}" data-paragraph="{number}" data-count="{count}">'
                f'<a href="{href}"><span class="n">{count}</span>¶{number} {escape(snippet)}</a></li>'
            )
        parts.append(f'<h3>{escape(doc.title)}</h3><ol class="heat">{"".join(items)}</ol>')
    return "".join(parts)


def _activity(insights: Insights) -> str:
    """Questions per day as an inline SVG bar chart (answered and refused stacked)."""
    days = insights.per_day
    if not days:
        return '<p class="note">No questions yet.</p>'
    width, height, pad = 800, 180, 24
    most = max(n for _, n, _ in days)
    bar = (width - 2 * pad) / len(days)
    bars = []
    for index, (day, total, refused) in enumerate(days):
        x = pad + index * bar
        full = (height - 2 * pad) * total / most
        part = (height - 2 * pad) * refused / most
        bars.append(
            f"<g><title>{day.isoformat()}: {total} questions, {refused} not answered</title>"
            f'<rect x="{x:.1f}" y="{height - pad - full:.1f}" width="{max(bar - 2, 1):.1f}" '
            f'height="{full - part:.1f}" fill="#3b63c4"/>'
            f'<rect x="{x:.1f}" y="{height - pad - part:.1f}" width="{max(bar - 2, 1):.1f}" '
            f'height="{part:.1f}" fill="#d64519"/></g>'
        )
    first, last = days[0][0].isoformat(), days[-1][0].isoformat()
    return (
        f'<svg role="img" viewBox="0 0 {width} {height}" width="100%" aria-labelledby="activity-title">'
        f'<title id="activity-title">Questions per day from {first} to {last}; at most {most} a day. '
        "Blue: answered; red: not answered by the reading.</title>"
        f"{''.join(bars)}"
        f'<text x="{pad}" y="{height - 6}" font-size="12">{first}</text>'
        f'<text x="{width - pad}" y="{height - 6}" font-size="12" text-anchor="end">{last}</text>'
        f'<text x="{pad}" y="14" font-size="12">{most} a day</text></svg>'
        '<p class="note">Blue: answered · red: not answered by the reading.</p>'
    )
