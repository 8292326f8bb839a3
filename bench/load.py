"""Load: 16 concurrent clients on ``POST /api/ask`` for 60 s against ``assistant serve`` on 127.0.0.1.

Bounded in time and count, loopback only. Each client (a thread with its own httpx
client) asks the development questions in turn, with their histories, as fast as the
answers come; a 17th thread probes ``/healthz`` twice a second. The server's resident
memory is sampled every second from /proc. All 16 clients share one address, so the
server's per-address rate limit is turned off for the run (``ASSISTANT_RATE_LIMIT_PER_MINUTE=0``):
this measures capacity, not the limiter. The load generator runs on the same 2
cores as the server, so throughput here is a floor.

    python -m bench.load [--clients 16] [--seconds 60]
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from itertools import cycle
from pathlib import Path
from typing import Any

import httpx

from bench.common import (
    ESSAY_CORPUS,
    HOST,
    assistant_command,
    clean_env,
    free_port,
    percentiles,
    questions,
    quiet,
    rss_mb,
    serving,
    table,
    target,
    targets_table,
    wait_for,
    write_results,
)

MAX_REQUESTS = 200_000  # a hard bound besides the deadline


class Load:
    """Counts what the clients saw; threads append under one lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.outcomes: Counter[str] = Counter()
        self.health: list[tuple[float, int]] = []

    def record(self, outcome: str, ms: float | None = None) -> None:
        with self.lock:
            self.outcomes[outcome] += 1
            if ms is not None:
                self.latencies.append(ms)

    def total(self) -> int:
        return sum(self.outcomes.values())


def client(base: str, asked: list[Any], offset: int, deadline: float, load: Load) -> None:
    with httpx.Client(base_url=base, timeout=30.0) as http:
        questions_in_turn = cycle(asked[offset:] + asked[:offset])
        while time.monotonic() < deadline and load.total() < MAX_REQUESTS:
            question, history = next(questions_in_turn)
            began = time.perf_counter()
            try:
                response = http.post("/api/ask", json={"question": question, "history": history})
            except httpx.HTTPError as exc:
                load.record(type(exc).__name__)
                continue
            ms = (time.perf_counter() - began) * 1000
            ok = response.status_code == 200 and "answer" in response.json()
            load.record("ok" if ok else f"HTTP {response.status_code}", ms if ok else None)


def probe_health(base: str, deadline: float, load: Load) -> None:
    with httpx.Client(base_url=base, timeout=10.0) as http:
        while time.monotonic() < deadline:
            began = time.perf_counter()
            try:
                status = http.get("/healthz").status_code
            except httpx.HTTPError:
                status = 0
            load.health.append(((time.perf_counter() - began) * 1000, status))
            time.sleep(0.5)


def sample_memory(pid: int, deadline: float, samples: list[tuple[float, float]]) -> None:
    began = time.monotonic()
    while time.monotonic() < deadline:
        samples.append((round(time.monotonic() - began, 1), rss_mb(pid)))
        time.sleep(1.0)


def run(clients: int, seconds: float, settings: dict[str, str] | None = None) -> dict[str, Any]:
    """The load run; ``settings`` are extra ``ASSISTANT_*`` variables for the server (bench.question_log)."""
    asked = questions()
    port = free_port()
    base = f"http://{HOST}:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        command = [*assistant_command(), "serve", "--host", HOST, "--port", str(port)]
        command += ["--corpus", str(ESSAY_CORPUS), "--index", str(Path(tmp) / "index")]
        env = clean_env(ASSISTANT_RATE_LIMIT_PER_MINUTE="0", **(settings or {}))
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        try:
            wait_for(lambda: serving(base, server), "assistant serve to be ready", timeout=300)
            # One pass of the questions first, so the run measures a warm server.
            with httpx.Client(base_url=base, timeout=30.0) as http:
                for question, history in asked:
                    http.post("/api/ask", json={"question": question, "history": history})
            load, memory = Load(), [(0.0, rss_mb(server.pid))]
            deadline = time.monotonic() + seconds
            threads = [
                threading.Thread(target=client, args=(base, asked, i * 4 % len(asked), deadline, load))
                for i in range(clients)
            ]
            threads.append(threading.Thread(target=probe_health, args=(base, deadline, load)))
            threads.append(threading.Thread(target=sample_memory, args=(server.pid, deadline, memory)))
            began = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=seconds + 60)
            elapsed = time.perf_counter() - began
            memory.append((round(elapsed, 1), rss_mb(server.pid)))
        finally:
            server.terminate()
            server.wait(timeout=30)
    errors = load.total() - load.outcomes["ok"]
    latency = percentiles(load.latencies)
    health = percentiles([ms for ms, status in load.health if status == 200])
    rss = [mb for _, mb in memory]
    # Growth over the second half of the run: start-up and warm-up allocations are over by then.
    half = [mb for t, mb in memory if t >= elapsed / 2]
    return {
        "clients": clients,
        "seconds": round(elapsed, 1),
        "requests": load.total(),
        "outcomes": dict(load.outcomes),
        "errors": errors,
        "throughput_rps": round(load.outcomes["ok"] / elapsed, 2),
        "latency_ms": latency,
        "healthz_ms": health,
        "healthz_failures": sum(1 for _, status in load.health if status != 200),
        "server_rss_mb": {
            "start": rss[0],
            "end": rss[-1],
            "max": max(rss),
            "second_half_growth": half[-1] - half[0],
        },
        "server_rss_series": memory,
        "targets": [
            target("errors", errors, 0),
            target("p95 latency (ms)", latency.get("p95"), 1000, " ms"),
            target("server RSS growth, second half of the run (MB)", round(half[-1] - half[0], 1), 20, " MB"),
        ],
    }


def report(result: dict[str, Any]) -> None:
    lat, health, rss = result["latency_ms"], result["healthz_ms"], result["server_rss_mb"]
    rows = [
        ["requests (all outcomes)", result["requests"]],
        ["errors", result["errors"]],
        ["throughput, answers/s", result["throughput_rps"]],
        *([f"latency {p}, ms", lat.get(p)] for p in ("p50", "p95", "p99", "max")),
        ["/healthz p50 / p95 / max, ms", f"{health.get('p50')} / {health.get('p95')} / {health.get('max')}"],
        ["/healthz failures", result["healthz_failures"]],
        ["server RSS start / end / max, MB", f"{rss['start']} / {rss['end']} / {rss['max']}"],
    ]
    table(
        f"Load: {result['clients']} clients on POST /api/ask for {result['seconds']} s", ["", "value"], rows
    )
    targets_table(result["targets"])


def main(argv: list[str] | None = None) -> dict[str, Any]:
    return command(argv, __doc__, "load", run, report)


def command(
    argv: list[str] | None,
    doc: str,
    name: str,
    runner: Callable[[int, float], dict[str, Any]],
    reporter: Callable[[dict[str, Any]], None],
) -> dict[str, Any]:
    """The command line of a benchmark that loads the server: ``--clients`` for ``--seconds``
    (ten minutes at most); its figures are printed and written as ``name``."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args(argv)
    quiet()
    result = runner(args.clients, min(args.seconds, 600.0))
    reporter(result)
    write_results(name, result)
    return result


if __name__ == "__main__":
    main()
