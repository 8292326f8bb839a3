"""The question log's cost: the load run (16 clients on ``POST /api/ask`` for 60 s) with the
log off and then on, against the same server command: no row may be lost, and the answers'
p95 latency may move by less than 10 %. (That nothing is written with the log off is tested:
tests/test_question_log.py.)

    python -m bench.question_log [--clients 16] [--seconds 60] [--url postgresql+psycopg://...]

``--url``: the log's database, best an empty one (default: a new SQLite file); rows already
there are not counted.
"""

from __future__ import annotations

import argparse
import tempfile
from functools import partial
from pathlib import Path
from typing import Any

from bench import load
from bench.common import questions, table, target, targets_table


def run(clients: int, seconds: float, url: str | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        url = url or f"sqlite:///{Path(tmp) / 'questions.db'}"
        before = _rows(url)
        off = load.run(clients, seconds)
        on = load.run(clients, seconds, {"ASSISTANT_QUESTION_LOG": url})
        rows = _rows(url) - before
    answered = on["outcomes"].get("ok", 0) + len(questions())  # the warm-up pass is answered and logged too
    p95_off, p95_on = off["latency_ms"]["p95"], on["latency_ms"]["p95"]
    change = (p95_on - p95_off) / p95_off
    return {
        "database": url.split(":", 1)[0],
        "clients": clients,
        "seconds": seconds,
        "off": {k: off[k] for k in ("requests", "errors", "throughput_rps", "latency_ms")},
        "on": {k: on[k] for k in ("requests", "errors", "throughput_rps", "latency_ms")},
        "answered_with_log_on": answered,
        "rows_written": rows,
        "p95_change": round(change, 4),
        "targets": [
            target("rows lost", answered - rows, 0),
            target("p95 change with the log on, either way (%)", round(abs(change) * 100, 1), 10, " %"),
        ],
    }


def report(result: dict[str, Any]) -> None:
    rows = []
    for name in ("off", "on"):
        part = result[name]
        lat = part["latency_ms"]
        rows.append(
            [f"log {name}", part["requests"], part["errors"], part["throughput_rps"], lat["p50"], lat["p95"]]
        )
    table(
        f"Question log ({result['database']}): {result['clients']} clients for {result['seconds']} s",
        ["", "requests", "errors", "answers/s", "p50 ms", "p95 ms"],
        rows,
    )
    print(
        f"answered with the log on: {result['answered_with_log_on']}, rows written: {result['rows_written']}"
    )
    targets_table(result["targets"])


def _rows(url: str) -> int:
    from assistant.insights.log import QuestionLog

    log = QuestionLog(url, retention_days=36_500)  # migrates a new database; deletes nothing old
    try:
        return log.count()
    finally:
        log.close()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--url", default=None)
    known, rest = parser.parse_known_args(argv)
    return load.command(rest, __doc__, "question_log", partial(run, url=known.url), report)


if __name__ == "__main__":
    main()
