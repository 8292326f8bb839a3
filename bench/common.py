"""What the benchmarks share: timing, percentiles, tables, JSON results, servers, the corpora.

Every benchmark writes ``bench/results/NAME.json`` (git-ignored) with its figures, the
targets it checks (each a ratio or a limit measured in the same run) and a note of
the machine: these machines are shared and noisy, so a figure is only comparable
with the baseline measured beside it.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
CACHE = RESULTS / "cache"
ESSAY_CORPUS = ROOT / "corpus"
HOST = "127.0.0.1"


class Skip(Exception):
    """A benchmark (or part of one) cannot run here; the message says why."""


# -- numbers -------------------------------------------------------------------------------


def percentiles(values: Sequence[float]) -> dict[str, float]:
    """n, p50, p95, p99, mean and max of ``values`` (milliseconds, usually), rounded."""
    if not values:
        return {"n": 0}
    data = np.asarray(values, dtype=float)
    return {
        "n": len(data),
        "p50": round(float(np.percentile(data, 50)), 3),
        "p95": round(float(np.percentile(data, 95)), 3),
        "p99": round(float(np.percentile(data, 99)), 3),
        "mean": round(float(data.mean()), 3),
        "max": round(float(data.max()), 3),
    }


def timed(function: Callable[[], Any]) -> tuple[Any, float]:
    """``function()`` and how long it took, in milliseconds."""
    began = time.perf_counter()
    result = function()
    return result, (time.perf_counter() - began) * 1000.0


def target(
    name: str, value: float | None, limit: float, unit: str = "", *, below: bool = True
) -> dict[str, Any]:
    """One checked target: ``value`` must be at most (``below``) or at least ``limit``."""
    met = value is not None and (value <= limit if below else value >= limit)
    sign = "≤" if below else "≥"
    return {"name": name, "value": value, "target": f"{sign} {limit:g}{unit}", "met": met}


# -- output --------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    """What ran the benchmark; the load average says how busy the shared machine was."""
    cpu = ""
    with suppress(OSError):
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        cpu = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "")
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def write_results(name: str, data: dict[str, Any]) -> Path:
    """Write ``bench/results/NAME.json`` (with the machine's description) and return its path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"benchmark": name, **data, "machine": machine()}, indent=2) + "\n")
    print(f"\nwrote {path.relative_to(ROOT)}")
    return path


def table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table; numbers are shown with up to 3 significant decimals."""

    def cell(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.3g}"
        if isinstance(value, bool):
            return "yes" if value else "NO"
        return "" if value is None else str(value)

    text = [[cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in text)) if text else len(h) for i, h in enumerate(headers)]
    lines = [title, "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in text]
    rendered = "\n".join(lines)
    print("\n" + rendered)
    return rendered


def targets_table(targets: Sequence[dict[str, Any]]) -> str:
    return table(
        "Targets",
        ["target", "measured", "limit", "met"],
        [[t["name"], t["value"], t["target"], t["met"]] for t in targets],
    )


def quiet() -> None:
    """Keep library chatter (Chroma, httpx, bm25s) out of the tables."""
    logging.basicConfig(level=logging.WARNING)
    for name in ("chromadb", "httpx", "bm25s", "sentence_transformers", "assistant"):
        logging.getLogger(name).setLevel(logging.WARNING)


# -- processes -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int | str = "self", field: str = "VmRSS") -> float:
    """Resident memory of a process now, in MiB (from /proc; no psutil needed).

    ``field="RssAnon"``: only the memory the process holds of its own, leaving out the
    pages of mapped files, which the page cache shares between processes.
    """
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MiB."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def in_fresh_process(function: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """``function(*args)`` in a new interpreter (spawned), so its memory and imports are its own."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 120.0, every: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(every)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


def serving(base: str, process: subprocess.Popen[bytes]) -> bool:
    """Whether the ``assistant serve`` at ``base`` answers /healthz with 200; an error once it has exited."""
    if process.poll() is not None:
        raise RuntimeError(f"assistant serve exited with {process.returncode}")
    try:
        return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for a child process: no Chroma server or index settings leak in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "CHROMA_"))}
    env.update(extra)
    return env


def assistant_command() -> list[str]:
    """How a user starts the CLI: the ``assistant`` script beside this Python, else ``-m``."""
    script = Path(sys.executable).with_name("assistant")
    return [str(script)] if script.exists() else [sys.executable, "-m", "assistant"]


def chroma_executable() -> str | None:
    beside = Path(sys.executable).with_name("chroma")
    return str(beside) if beside.exists() else shutil.which("chroma")


def _heartbeat(port: int) -> bool:
    import httpx

    try:
        return httpx.get(f"http://{HOST}:{port}/api/v2/heartbeat", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def chroma_server(path: Path, timeout: float = 120.0) -> Iterator[int]:
    """A real ``chroma run`` on 127.0.0.1 serving ``path``; yields its port, always stops it."""
    executable = chroma_executable()
    if executable is None:
        raise Skip("the `chroma` executable is not installed (pip install chromadb)")
    port = free_port()
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [executable, "run", "--path", str(path), "--host", HOST, "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=clean_env(ANONYMIZED_TELEMETRY="False"),
        )
        try:
            wait_for(lambda: process.poll() is not None or _heartbeat(port), "chroma run", timeout)
            if process.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"chroma run exited with {process.returncode}: {log.read()[-2000:]!r}")
            yield port
        finally:
            stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Ask a server process to exit; kill it if it has not within 15 s."""
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# -- data ----------------------------------------------------------------------------------


def questions() -> list[tuple[str, list[dict[str, str]]]]:
    """The development questions as (question, history) pairs."""
    from assistant.evaluation import DEFAULT_QUESTIONS, load_questions

    return [(r.question, [asdict(m) for m in r.history]) for r in load_questions(DEFAULT_QUESTIONS)]


def essay_assistant(index_dir: Path, **settings: Any) -> Any:
    """An Assistant over the project's essay with its index in ``index_dir``, built and warm."""
    from assistant import Assistant

    bot = Assistant(corpus_dir=ESSAY_CORPUS, index_dir=index_dir, **settings)
    bot.ensure_index()
    bot.ask("What is defensive deterrence?")  # loads the model and the retriever
    return bot


PYTHON_DOCS = CACHE / "python-docs"


def python_docs_corpus() -> tuple[Path, dict[str, Any]]:
    """The Python documentation's reStructuredText sources as a corpus of ``.txt`` files.

    About 1.4 million words of English prose (with code samples), PSF-licensed, from
    Debian's ``python3.X-doc`` package (``apt-get download``; no installation). Cached
    in ``bench/results/cache/python-docs``; returns the folder and where it came from.
    """
    folder, info_path = PYTHON_DOCS / "corpus", PYTHON_DOCS / "info.json"
    if info_path.exists():
        return folder, json.loads(info_path.read_text())
    if not (shutil.which("apt-get") and shutil.which("apt-cache") and shutil.which("dpkg-deb")):
        raise Skip("needs Debian's apt-get and dpkg-deb to fetch python3-doc; pass --corpus DIR instead")
    depends = subprocess.run(["apt-cache", "depends", "python3-doc"], capture_output=True, text=True)
    names = [line.split()[-1] for line in depends.stdout.splitlines() if "Depends:" in line]
    package = next((n for n in names if n.startswith("python3.") and n.endswith("-doc")), None)
    if package is None:
        raise Skip("apt-cache finds no python3.X-doc package (run `apt-get update` first)")
    with tempfile.TemporaryDirectory() as tmp:
        got = subprocess.run(["apt-get", "download", package], cwd=tmp, capture_output=True, text=True)
        debs = list(Path(tmp).glob("*.deb"))
        if got.returncode != 0 or not debs:
            raise Skip(f"apt-get download {package} failed: {got.stderr.strip()[-300:]}")
        version = subprocess.run(
            ["dpkg-deb", "-f", str(debs[0]), "Version"], capture_output=True, text=True, check=True
        ).stdout.strip()
        subprocess.run(["dpkg-deb", "-x", str(debs[0]), f"{tmp}/x"], check=True)
        sources = next(Path(f"{tmp}/x/usr/share/doc").glob("python3.*/html/_sources"))
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        words = files = size = 0
        for path in sorted(sources.rglob("*.rst.txt")):
            text = path.read_text(encoding="utf-8")
            if not text.strip():
                continue
            name = str(path.relative_to(sources)).removesuffix(".rst.txt").replace("/", "__")
            (folder / f"{name}.txt").write_text(text, encoding="utf-8")
            words, files, size = words + len(text.split()), files + 1, size + len(text.encode())
    info = {
        "name": "Python documentation (reStructuredText sources)",
        "package": f"{package} (Debian)",
        "version": version,
        "license": f"PSF-2.0 (Python Software Foundation License; see /usr/share/doc/{package}/copyright)",
        "obtained_with": f"apt-get download {package}; usr/share/doc/python3.*/html/_sources/**/*.rst.txt",
        "files": files,
        "words": words,
        "bytes": size,
    }
    info_path.write_text(json.dumps(info, indent=2))
    return folder, info
