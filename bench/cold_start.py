"""Cold start: `assistant ask --json` in a fresh process, and `assistant serve` to the first 200 /healthz.

The index is built first, so both measure starting up, not indexing. When a target
is missed, ``python -X importtime`` lists the modules that cost the most to import
(as data in the JSON).

    python -m bench.cold_start [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import (
    ESSAY_CORPUS,
    HOST,
    assistant_command,
    clean_env,
    free_port,
    percentiles,
    quiet,
    serving,
    table,
    target,
    targets_table,
    wait_for,
    write_results,
)

QUESTION = "What is defensive deterrence?"
ASK_TARGET_S = 3.0
SERVE_TARGET_S = 8.0


def time_ask(index: Path) -> float:
    """Seconds for one `assistant ask --json` in a new process; checks that it answered."""
    command = [
        *assistant_command(),
        "ask",
        QUESTION,
        "--json",
        "--corpus",
        str(ESSAY_CORPUS),
        "--index",
        str(index),
    ]
    began = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=clean_env(), check=False)
    seconds = time.perf_counter() - began
    if done.returncode != 0 or not json.loads(done.stdout).get("citations"):
        raise RuntimeError(f"assistant ask failed ({done.returncode}): {done.stderr[-1000:]}")
    return seconds


def time_serve(index: Path) -> float:
    """Seconds from starting `assistant serve` to the first 200 from /healthz."""
    port = free_port()
    command = [*assistant_command(), "serve", "--host", HOST, "--port", str(port)]
    command += ["--corpus", str(ESSAY_CORPUS), "--index", str(index)]
    began = time.perf_counter()
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=clean_env())

    try:
        wait_for(
            lambda: serving(f"http://{HOST}:{port}", server),
            "assistant serve to be healthy",
            timeout=180,
            every=0.02,
        )
        return time.perf_counter() - began
    finally:
        server.terminate()
        server.wait(timeout=30)


PHASES = """
import json, sys, time
began = time.perf_counter()
import assistant.cli
from assistant import Assistant
imported = time.perf_counter()
bot = Assistant(corpus_dir=sys.argv[1], index_dir=sys.argv[2])
bot.retriever
opened = time.perf_counter()
bot.embeddings.encode(["warm"])
loaded = time.perf_counter()
bot.ask(sys.argv[3])
asked = time.perf_counter()
print(json.dumps({"import": imported - began, "open index + build retriever": opened - imported,
                  "load embedding model": loaded - opened, "first ask": asked - loaded}))
"""


def ask_phases(index: Path) -> dict[str, float]:
    """Where a fresh `assistant ask` spends its time: interpreter, imports, index, model, answer."""
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", PHASES, str(ESSAY_CORPUS), str(index), QUESTION],
        capture_output=True,
        text=True,
        env=clean_env(),
        check=True,
    )
    total = time.perf_counter() - began
    phases: dict[str, float] = json.loads(done.stdout.splitlines()[-1])
    phases["interpreter start + exit"] = total - sum(phases.values())
    return {name: round(seconds, 3) for name, seconds in phases.items()}


def import_offenders(code: str, top: int = 15) -> list[dict[str, Any]]:
    """Packages by the time their modules take to import in ``python -c code`` (``-X importtime``)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, env=clean_env()
    )
    by_package: dict[str, float] = {}
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line)
        if match:
            package = match.group(2).split(".")[0]
            by_package[package] = by_package.get(package, 0.0) + int(match.group(1)) / 1000
    ranked = sorted(by_package.items(), key=lambda item: -item[1])[:top]
    return [{"package": name, "self_ms_total": round(ms, 1)} for name, ms in ranked]


def run(runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        index = Path(tmp) / "index"
        subprocess.run(
            [*assistant_command(), "ingest", "--corpus", str(ESSAY_CORPUS), "--index", str(index)],
            check=True,
            capture_output=True,
            env=clean_env(),
        )
        time_ask(index)  # the first run also fills the OS file cache, as any user's second would
        ask = [time_ask(index) for _ in range(runs)]
        serve = [time_serve(index) for _ in range(runs)]
        phases = ask_phases(index)
    ask_s = percentiles(ask)
    serve_s = percentiles(serve)
    result: dict[str, Any] = {
        "runs": runs,
        "ask_json_s": ask_s,
        "serve_to_healthz_s": serve_s,
        "ask_phases_s": phases,
        "targets": [
            target("assistant ask --json, fresh process (s, median)", ask_s["p50"], ASK_TARGET_S, " s"),
            target("assistant serve to first 200 /healthz (s, median)", serve_s["p50"], SERVE_TARGET_S, " s"),
        ],
        "import_offenders": {},
    }
    if ask_s["p50"] > ASK_TARGET_S:
        result["import_offenders"]["assistant ask"] = import_offenders(
            "import assistant.cli, assistant.pipeline"
        )
    if serve_s["p50"] > SERVE_TARGET_S:
        result["import_offenders"]["assistant serve"] = import_offenders(
            "import assistant.cli, assistant.web"
        )
    return result


def report(result: dict[str, Any]) -> None:
    rows = [
        ["assistant ask --json", *(result["ask_json_s"][k] for k in ("p50", "mean", "max"))],
        ["serve -> 200 /healthz", *(result["serve_to_healthz_s"][k] for k in ("p50", "mean", "max"))],
    ]
    table(f"Cold start, seconds ({result['runs']} runs each)", ["what", "median", "mean", "max"], rows)
    table("Where a fresh ask spends its time (one run)", ["phase", "s"], list(result["ask_phases_s"].items()))
    for what, offenders in result["import_offenders"].items():
        table(
            f"Slowest imports for {what}",
            ["package", "import ms (own modules)"],
            [[o["package"], o["self_ms_total"]] for o in offenders],
        )
    targets_table(result["targets"])


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="fresh processes per measurement (default 3)")
    args = parser.parse_args(argv)
    quiet()
    result = run(args.runs)
    report(result)
    write_results("cold_start", result)
    return result


if __name__ == "__main__":
    main()
