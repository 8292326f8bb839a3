"""Run every benchmark, each in its own process, then print all targets together.

    python -m bench.run_all [--large] [--only latency,load]

Writes ``bench/results/summary.json``. Exits 1 if a benchmark crashed; a missed
target is a finding, reported, not a failure.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from typing import Any

from bench.common import RESULTS, table, write_results

BENCHMARKS = ("latency", "cold_start", "ingest", "scale", "load")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true", help="include the 1M-chunk scale point")
    parser.add_argument("--only", help="comma-separated subset of " + ",".join(BENCHMARKS))
    args = parser.parse_args(argv)
    chosen = args.only.split(",") if args.only else list(BENCHMARKS)
    began = time.perf_counter()
    runs: list[dict[str, Any]] = []
    for name in chosen:
        command = [
            sys.executable,
            "-m",
            f"bench.{name}",
            *(["--large"] if args.large and name == "scale" else []),
        ]
        print(f"\n=== {' '.join(command[1:])}", flush=True)
        start = time.perf_counter()
        code = subprocess.run(command, check=False).returncode
        runs.append({"benchmark": name, "exit_code": code, "seconds": round(time.perf_counter() - start, 1)})
    targets = []
    for run in runs:
        path = RESULTS / f"{run['benchmark']}.json"
        if run["exit_code"] == 0 and path.exists():
            for checked in json.loads(path.read_text()).get("targets", []):
                targets.append(
                    [run["benchmark"], checked["name"], checked["value"], checked["target"], checked["met"]]
                )
    total = round(time.perf_counter() - began, 1)
    table("Benchmarks", ["benchmark", "exit code", "seconds"], [list(r.values()) for r in runs])
    table("All targets", ["benchmark", "target", "measured", "limit", "met"], targets)
    print(f"\ntotal {total} s")
    write_results("summary", {"runs": runs, "seconds": total, "targets": targets})
    return 1 if any(r["exit_code"] for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
