"""The grading report in every form: JSON, CSV, Markdown, a self-contained HTML page with a
side-by-side view, JUnit XML for CI dashboards, and the graded items written back in
RAGAS and DeepEval form. Tables, plots, number formats and the page style are those of
``assistant eval``'s reports (:mod:`assistant.reports`), so both read alike."""

from __future__ import annotations

import html
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from ..reports import STYLE, fmt, html_table, nan_safe, plot_png, write_csv
from .compare import comparison_rows

SHOWN = 300  # items in the HTML side-by-side view: failures first
_VERDICT_CLASS = {
    "supported": "ok",
    "unsupported": "bad",
    "hallucinated_citation": "bad",
    "uncited": "warn",
    "refusal": "muted",
}
_GRADING_STYLE = """
.side td { vertical-align: top; width: 42% } .side td.v { width: 16% }
mark { background: #fefcbf } .ok { background: #c6f6d5 } .bad { background: #fed7d7 }
.warn { background: #feebc8 } .muted { background: #edf2f7 } .tag { padding: 0 .3rem; border-radius: .2rem }
small { color: #4a5568 } article { padding: .5rem 0 }
"""


def write_reports(report: dict[str, Any], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        name: out / name
        for name in (
            "report.json",
            "results.csv",
            "report.md",
            "report.html",
            "junit.xml",
            "graded.ragas.jsonl",
            "graded.deepeval.json",
        )
    }
    text = json.dumps(report, indent=2, ensure_ascii=False, default=nan_safe)
    paths["report.json"].write_text(text, encoding="utf-8")
    _write_csv(report, paths["results.csv"])
    paths["report.md"].write_text(markdown(report), encoding="utf-8")
    paths["report.html"].write_text(html_page(report), encoding="utf-8")
    paths["junit.xml"].write_text(junit(report), encoding="utf-8")
    paths["graded.ragas.jsonl"].write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in as_ragas(report)), encoding="utf-8"
    )
    paths["graded.deepeval.json"].write_text(
        json.dumps(as_deepeval(report), indent=2, ensure_ascii=False), encoding="utf-8"
    )
    return list(paths.values())


def _write_csv(report: dict[str, Any], path: Path) -> None:
    columns = [
        "id", "format", "expected", "refused", "passed", "citation_recall", "citation_precision",
        "uncited", "hallucinated", "misquoted", "offset_errors", "contexts_not_found", "failures",
        "question", "answer",
    ]  # fmt: skip
    rows = (
        [*(r[c] for c in columns[:12]), "; ".join(r["failures"]), r["question"], r["answer"]]
        for r in report["results"]
    )
    write_csv(path, columns, rows)


def _meta(report: dict[str, Any]) -> str:
    return (
        f"{report['questions']} answers ({report['format']}) from {report['answers']} · support checker "
        f"{report['checker']} at {report['threshold']} · {report['seconds']} s"
    )


def _summary(report: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    rows = [
        [name, fmt(s["value"]), f"[{fmt(s['ci_low'])}, {fmt(s['ci_high'])}]", str(s["n"])]
        for name, s in report["aggregates"].items()
    ]
    return ["metric", "value", "95% CI", "n"], rows


def _behaviour(report: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    rows = [
        [k, str(v["items"]), str(v["correct"]), str(v["refused"])] for k, v in report["behaviour"].items()
    ]
    return ["expected", "items", "behaved so", "refused"], rows


def _failed(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in report["results"] if r["failures"]]


def markdown(report: dict[str, Any]) -> str:
    lines = ["# Grounding of another system's answers", "", _meta(report), ""]
    for head, rows in (_summary(report), _behaviour(report)):
        if rows:
            lines += [f"| {' | '.join(head)} |", "|---" * len(head) + "|"]
            lines += [f"| {' | '.join(row)} |" for row in rows] + [""]
    lines += ["Alignment of quotes and contexts: " + _counts(report["alignment"]), ""]
    if "comparison" in report:
        head, rows = comparison_rows(report["comparison"])
        lines += ["## Compared", "", f"| {' | '.join(head)} |", "|---" * len(head) + "|"]
        lines += [f"| {' | '.join(row)} |" for row in rows] + [""]
    failed = _failed(report)
    lines += [f"## Failures ({len(failed)} of {report['questions']}; the first {SHOWN})", ""]
    for r in failed[:SHOWN]:
        lines += [f"### {r['id']}: {r['question']}", "", f"- why: {'; '.join(r['failures'])}"]
        for s in r["sentences"]:
            if s["verdict"] != "supported":
                near = s["source"]
                beside = (
                    f" — nearest source ({near['doc_id']}#{near['anchor']}): “{near['text']}”" if near else ""
                )
                lines.append(f"  - {s['verdict']} ({s['support']:.2f}): {s['text']}{beside}")
        lines.append("")
    return "\n".join(lines) + "\n"


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none given"


def _source_cell(source: dict[str, Any] | None) -> str:
    if source is None:
        return "<small>no source sentence</small>"
    e, text = html.escape, source["text"]
    if source["highlight"]:
        low, high = source["highlight"]
        body = f"{e(text[:low])}<mark>{e(text[low:high])}</mark>{e(text[high:])}"
    else:  # no source of the answer lies in it: the corpus sentence nearest to the claim
        body = f"<small>nearest:</small> {e(text)}"
    return f"{body}<br><small>{e(source['doc_id'])} · <code>#{e(source['anchor'])}</code></small>"


def _item_html(r: dict[str, Any]) -> str:
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(s['text'])}</td><td>{_source_cell(s['source'])}</td>"
        f"<td class='v {_VERDICT_CLASS[s['verdict']]}'>{e(s['verdict'].replace('_', ' '))}"
        f"<br><small>support {s['support']:.2f}</small></td></tr>"
        for s in r["sentences"]
    )
    sources = "".join(
        f"<li><span class='tag {_alignment_class(s)}'>{e(_alignment_label(s))}</span> "
        f"{e(s['kind'])}: “{e(s['text'][:240])}”</li>"
        for s in r["sources"]
    )
    verdict = "<span class='tag ok'>passed</span>" if r["passed"] else "<span class='tag bad'>failed</span>"
    why = f"<p><b>Why:</b> {e('; '.join(r['failures']))}</p>" if r["failures"] else ""
    expected = f" · expected: {e(r['expected'])}" if r["expected"] else ""
    return (
        f"<article><h3>{verdict} {e(r['id'])}: {e(r['question'])}</h3>"
        f"<p><small>{e(r['format'])}{expected}{' · refused' if r['refused'] else ''}</small></p>{why}"
        "<table class='side'><thead><tr><th>answer sentence</th>"
        "<th>source sentence (aligned part marked)</th><th>verdict</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        + (
            f"<details><summary>sources ({len(r['sources'])})</summary><ul>{sources}</ul></details>"
            if sources
            else ""
        )
        + "</article>"
    )


def _alignment_label(source: dict[str, Any]) -> str:
    a = source["alignment"]
    label = str(a["status"]).replace("_", " ") + (
        f" {a['score']:.0f}" if a["status"] in ("fuzzy", "not_found") else ""
    )
    where = f" at {a['doc_id']}:{a['start']}-{a['end']} #{a['anchor']}" if a["doc_id"] else ""
    offsets = "; claimed offsets wrong" if a["offsets"] == "wrong" else ""
    return label + where + offsets


def _alignment_class(source: dict[str, Any]) -> str:
    status = source["alignment"]["status"]
    wrong = source["alignment"]["offsets"] == "wrong"
    return "bad" if status == "not_found" else "warn" if status == "fuzzy" or wrong else "ok"


def html_page(report: dict[str, Any]) -> str:
    """One offline page: the figures, a support histogram, and every answer beside its sources."""
    e = html.escape
    summary = html_table(*_summary(report))
    behaviour = html_table(*_behaviour(report)) if report["behaviour"] else ""
    support = [s["support"] for r in report["results"] for s in r["sentences"] if s["verdict"] != "refusal"]

    def histogram(axis: Any) -> None:
        axis.hist(support, bins=20, range=(0, 1), color="#2b6cb0")
        axis.set_xlabel("support score of answer sentences")
        axis.set_ylabel("sentences")

    plot = (
        f"<figure><img src='{plot_png(histogram)}' alt='Support score histogram'></figure>" if support else ""
    )
    comparison = ""
    if "comparison" in report:
        comparison = "<h2>Compared</h2>" + html_table(*comparison_rows(report["comparison"]))
    ordered = sorted(report["results"], key=lambda r: r["passed"])
    shown = "".join(_item_html(r) for r in ordered[:SHOWN])
    more = f"<p>{len(ordered) - SHOWN} more in report.json.</p>" if len(ordered) > SHOWN else ""
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Grounding of answers</title><style>{STYLE}{_GRADING_STYLE}</style></head><body>"
        f"<h1>Grounding of another system's answers</h1><p>{e(_meta(report))}</p>{summary}{behaviour}"
        f"<p>Alignment of quotes and contexts: {e(_counts(report['alignment']))}</p>{plot}{comparison}"
        f"<h2>Answers beside their sources</h2>{shown}{more}</body></html>\n"
    )


def junit(report: dict[str, Any]) -> str:
    """One test case per question; a failed grade is a failure with its reasons and sentences."""
    failed = _failed(report)
    suite = ET.Element(
        "testsuite",
        name="grounding",
        tests=str(report["questions"]),
        failures=str(len(failed)),
        errors="0",
        time=str(report["seconds"]),
    )
    for r in report["results"]:
        case = ET.SubElement(
            suite, "testcase", classname=f"grading.{r['format']}", name=f"{r['id']}: {r['question']}"
        )
        if r["failures"]:
            failure = ET.SubElement(case, "failure", message="; ".join(r["failures"]))
            failure.text = "\n".join(
                f"{s['verdict']}: {s['text']}"
                + (f"\n  nearest source: {s['source']['text']}" if s["source"] else "")
                for s in r["sentences"]
                if s["verdict"] != "supported"
            )
    ET.indent(suite)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"


def _grounding(r: dict[str, Any]) -> dict[str, Any]:
    """The verdicts carried with a written-back item."""
    keys = (
        "passed",
        "failures",
        "refused",
        "citation_recall",
        "citation_precision",
        "uncited",
        "hallucinated",
    )
    return {k: r[k] for k in keys} | {
        "sentences": [
            {"text": s["text"], "verdict": s["verdict"], "support": s["support"]} for s in r["sentences"]
        ]
    }


def _contexts(r: dict[str, Any]) -> list[str]:
    return [s["text"] for s in r["sources"]]


def as_ragas(report: dict[str, Any]) -> list[dict[str, Any]]:
    """RAGAS ``SingleTurnSample`` fields (extra keys are ignored by RAGAS), plus ``grounding``."""
    return [
        {
            "user_input": r["question"],
            "response": r["answer"],
            "retrieved_contexts": _contexts(r),
            "reference_contexts": [s["alignment"]["text"] for s in r["sources"] if s["alignment"]["text"]],
            **({"reference": r["reference"]} if r["reference"] else {}),
            "grounding": _grounding(r),
        }
        for r in report["results"]
    ]


def as_deepeval(report: dict[str, Any]) -> list[dict[str, Any]]:
    """DeepEval ``LLMTestCase`` fields; the verdicts travel in ``additional_metadata``."""
    return [
        {
            "name": r["id"],
            "input": r["question"],
            "actual_output": r["answer"],
            "retrieval_context": _contexts(r),
            "context": [s["alignment"]["text"] for s in r["sources"] if s["alignment"]["text"]],
            **({"expected_output": r["reference"]} if r["reference"] else {}),
            "additional_metadata": {"grounding": _grounding(r)},
        }
        for r in report["results"]
    ]
