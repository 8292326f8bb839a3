"""Writing an evaluation report as JSON (for machines), CSV, Markdown and a self-contained HTML page."""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

WORST = 10  # failures shown in the Markdown and HTML reports


def write_reports(report: dict[str, Any], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "report.json", out / "results.csv", out / "report.md", out / "report.html"]
    paths[0].write_text(json.dumps(report, indent=2, ensure_ascii=False, default=nan_safe), encoding="utf-8")
    _write_csv(report, paths[1])
    paths[2].write_text(markdown(report), encoding="utf-8")
    paths[3].write_text(html_page(report), encoding="utf-8")
    return paths


def nan_safe(value: Any) -> Any:
    return None if isinstance(value, float) and math.isnan(value) else str(value)


def _write_csv(report: dict[str, Any], path: Path) -> None:
    columns = [
        "id", "kind", "answerable", "refused", "gold_quote_hit", "gold_recall", "token_f1",
        "citations", "unsupported_sentences", "total_ms", "failures", "question", "answer",
    ]  # fmt: skip
    rows = (
        [
            r["id"],
            r["kind"],
            r["answerable"],
            r["refused"],
            r["gold_quote_hit"],
            r["gold_recall"],
            r["token_f1"],
            len(r["citations"]),
            sum(1 for s in r["sentences"] if not s["supported"]),
            r["timings_ms"].get("total"),
            "; ".join(r["failures"]),
            r["question"],
            r["answer"],
        ]
        for r in report["results"]
    )
    write_csv(path, columns, rows)


def write_csv(path: Path, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """A CSV file with a header row, in UTF-8, as spreadsheets and pandas read it."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows(rows)


def fmt(value: float | None) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.3f}"


def _summary_rows(report: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    baseline = report.get("baseline", {}).get("aggregates", {})
    rows = []
    for name, stat in report["aggregates"].items():
        if name.startswith("latency.") and not name.startswith("latency.total"):
            continue
        interval = f"[{fmt(stat['ci_low'])}, {fmt(stat['ci_high'])}]"
        rows.append((name, fmt(stat["value"]), interval, str(stat["n"]), fmt(baseline.get(name))))
    return rows


def comparison_table(comparison: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """``--compare``: a row per metric, a column per generator that could be built."""
    ran = [g for g in comparison["generators"] if "error" not in g]
    names = list(dict.fromkeys(name for g in ran for name in g["metrics"]))
    rows = [
        [name, *(fmt(g["metrics"][name]["value"]) if name in g["metrics"] else "–" for g in ran)]
        for name in names
    ]
    rows.append(["seconds", *(f"{g['seconds']:.1f}" for g in ran)])
    return ["metric", *(g["label"] for g in ran)], rows


def comparison_notes(comparison: dict[str, Any]) -> list[str]:
    """A line per generator that could not be built, and per notice an LLM back end's answers gave."""
    notes = []
    for g in comparison["generators"]:
        if "error" in g:
            notes.append(f"{g['generator']}: not run: {g['error']}")
        notes += [f"{g['label']}: {count}× {notice}" for notice, count in g.get("notices", {}).items()]
    return notes


def _worst(report: dict[str, Any]) -> list[dict[str, Any]]:
    failed = [r for r in report["results"] if r["failures"]]
    return sorted(failed, key=lambda r: -len(r["failures"]))[:WORST]


def markdown(report: dict[str, Any]) -> str:
    gate = report.get("gate", {})
    lines = [
        "# Grounding evaluation",
        "",
        f"{report['questions']} questions · support checker `{report['checker']}` · commit "
        f"`{report.get('git_commit') or 'unknown'}` · config `{report['config']['hash']}` · "
        f"{report['seconds']} s",
        "",
    ]
    if gate:
        lines += [f"**Gate: {'passed' if gate['passed'] else 'FAILED'}**", ""]
        lines += [f"- {p}" for p in gate["problems"]] + ([""] if gate["problems"] else [])
    lines += ["| metric | value | 95% CI | n | naive baseline |", "|---|---|---|---|---|"]
    lines += [f"| {' | '.join(row)} |" for row in _summary_rows(report)]
    lines += ["", "## By kind of question", "", "| kind | questions | fully correct |", "|---|---|---|"]
    lines += [f"| {k} | {v['questions']} | {fmt(v['correct'])} |" for k, v in report["by_kind"].items()]
    if "comparison" in report:
        lines += ["", *_comparison_markdown(report["comparison"])]
    calibration = report.get("checker_calibration")
    if calibration:
        lines += [
            "",
            "## Support checker calibration",
            "",
            f"{calibration['pairs']} hand-labelled pairs: accuracy {fmt(calibration['accuracy'])}, "
            f"Cohen's kappa {fmt(calibration['kappa'])} at threshold {calibration['threshold']}.",
        ]
    lines += ["", f"## Worst failures (up to {WORST})", ""]
    for r in _worst(report):
        lines += [f"### {r['id']} ({r['kind']}): {r['question']}", "", f"- why: {'; '.join(r['failures'])}"]
        if r["standalone_question"] != r["question"]:
            lines.append(f"- rewritten: {r['standalone_question']}")
        lines.append(f"- answer: {r['answer']}")
        lines += [f"  - [{c['marker']}] ¶{c['paragraph']}: “{c['quote']}”" for c in r["citations"]]
        lines.append("")
    return "\n".join(lines) + "\n"


def _comparison_markdown(comparison: dict[str, Any]) -> list[str]:
    head, rows = comparison_table(comparison)
    lines = [
        "## Generators compared",
        "",
        f"The same {comparison['questions']} questions through each generator.",
        "",
        f"| {' | '.join(head)} |",
        "|---" * len(head) + "|",
    ]
    lines += [f"| {' | '.join(row)} |" for row in rows]
    notes = comparison_notes(comparison)
    return lines + ([""] + [f"- {note}" for note in notes] if notes else [])


def _comparison_html(comparison: dict[str, Any]) -> str:
    head, rows = comparison_table(comparison)
    notes = "".join(f"<li>{html.escape(note)}</li>" for note in comparison_notes(comparison))
    return (
        f"<h2>Generators compared</h2><p>The same {comparison['questions']} questions through each "
        f"generator.</p>{html_table(head, rows)}" + (f"<ul>{notes}</ul>" if notes else "")
    )


def plot_png(draw: Any) -> str:
    """Render a matplotlib figure to an inline PNG data URI (no files, no network)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 3.2), dpi=110)
    draw(axis)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _plots(report: dict[str, Any]) -> list[tuple[str, str]]:
    results = report["results"]
    support = [s["support"] for r in results for s in r["sentences"]]
    latency = [r["timings_ms"]["total"] for r in results if "total" in r["timings_ms"]]

    def support_hist(axis: Any) -> None:
        axis.hist(support, bins=20, range=(0, 1), color="#2b6cb0")
        axis.set_xlabel("support score of answer sentences")
        axis.set_ylabel("sentences")

    def latency_hist(axis: Any) -> None:
        axis.hist(latency, bins=20, color="#2f855a")
        axis.set_xlabel("total latency per question (ms)")
        axis.set_ylabel("questions")

    return [("Support scores", plot_png(support_hist)), ("Latency", plot_png(latency_hist))]


STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; max-width: 60rem;
       margin: 2rem auto; padding: 0 1rem; color: #1a202c; line-height: 1.5 }
table { border-collapse: collapse; margin: 1rem 0 }
td, th { border: 1px solid #cbd5e0; padding: .3rem .6rem; text-align: left }
th { background: #edf2f7 }
.gate { font-weight: bold; padding: .5rem } .ok { background: #c6f6d5 } .bad { background: #fed7d7 }
figure { display: inline-block; margin: 0 1rem 1rem 0 } img { max-width: 100% }
article { border-top: 1px solid #e2e8f0 }
"""


def html_table(head: list[str], rows: list[list[str]]) -> str:
    e = html.escape
    header = "".join(f"<th>{e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"


def _failure_html(r: dict[str, Any]) -> str:
    e = html.escape
    quotes = "".join(
        f"<li value='{c['marker']}'>¶{c['paragraph']}: “{e(c['quote'])}”</li>" for c in r["citations"]
    )
    return (
        f"<article><h3>{e(r['id'])} ({e(r['kind'])}): {e(r['question'])}</h3>"
        f"<p><b>Why:</b> {e('; '.join(r['failures']))}</p>"
        f"<p><b>Answer:</b> {e(r['answer'])}</p><ol>{quotes}</ol></article>"
    )


def html_page(report: dict[str, Any]) -> str:
    """The Markdown report's content as one offline HTML file with inline plots."""
    e = html.escape
    gate = report.get("gate", {})
    status = ""
    if gate:
        verdict = "passed" if gate["passed"] else "FAILED – " + "; ".join(gate["problems"])
        status = f"<p class='gate {'ok' if gate['passed'] else 'bad'}'>Gate: {e(verdict)}</p>"
    summary = html_table(
        ["metric", "value", "95% CI", "n", "naive baseline"], [list(r) for r in _summary_rows(report)]
    )
    kinds = html_table(
        ["kind", "questions", "fully correct"],
        [[k, str(v["questions"]), fmt(v["correct"])] for k, v in report["by_kind"].items()],
    )
    plots = "".join(
        f"<figure><img src='{src}' alt='{e(title)} histogram'><figcaption>{e(title)}</figcaption></figure>"
        for title, src in _plots(report)
    )
    comparison = _comparison_html(report["comparison"]) if "comparison" in report else ""
    failures = "".join(_failure_html(r) for r in _worst(report)) or "<p>None.</p>"
    meta = (
        f"{report['questions']} questions · support checker <code>{e(report['checker'])}</code> · "
        f"commit <code>{e(report.get('git_commit') or 'unknown')}</code> · "
        f"config <code>{e(report['config']['hash'])}</code> · {report['seconds']} s"
    )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Grounding evaluation</title><style>{STYLE}</style></head><body>"
        f"<h1>Grounding evaluation</h1><p>{meta}</p>{status}{summary}"
        f"<h2>By kind of question</h2>{kinds}{comparison}<h2>Distributions</h2>{plots}"
        f"<h2>Worst failures</h2>{failures}</body></html>\n"
    )
