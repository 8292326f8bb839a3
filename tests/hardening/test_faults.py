"""Faults: a damaged or missing index, a killed ingest, two ingests at once, a Chroma server down.

Whatever happens, the assistant gives a clear error or rebuilds on its own, and never
a wrong answer: every answer it does give quotes the corpus exactly.
"""

from __future__ import annotations

import fcntl
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import chromadb
import httpx
import pytest
from chromadb.api import ClientAPI
from chromadb.config import Settings

from assistant import Assistant, IndexBusyError
from assistant.web import create_app

from ..server_fixtures import free_port
from .helpers import CORPUS_DIR, DOC_ID, ESSAY_TEXT, QUESTION, assert_quotes_exact, error_of

pytest_plugins = ["tests.server_fixtures"]

Serve = Callable[..., AbstractContextManager[str]]
TEXTS = {DOC_ID: ESSAY_TEXT}
NO_LIMIT = {"rate_limit_per_minute": 0}
PROJECT = CORPUS_DIR.parent
ASSISTANT_CLI = [sys.executable, "-m", "assistant"]


@pytest.fixture
def index_copy(server_bot: Assistant, server_index_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the session's built index, free to damage."""
    target = tmp_path / "index"
    shutil.copytree(server_index_dir, target)
    return target


def check_answer(answer: dict[str, object], texts: dict[str, str] = TEXTS) -> None:
    assert not answer["refused"], answer
    assert answer["citations"], answer
    assert_quotes_exact(answer, texts)  # type: ignore[arg-type]


def ask_bot(bot: Assistant, question: str = QUESTION) -> None:
    check_answer(bot.ask(question).to_dict())


# -- between runs ------------------------------------------------------------------------


def _delete(index: Path) -> None:
    shutil.rmtree(index)


def _truncate_database(index: Path) -> None:
    database = index / "chroma" / "chroma.sqlite3"
    with database.open("r+b") as handle:
        handle.truncate(database.stat().st_size // 3)


def _garbage_database(index: Path) -> None:
    (index / "chroma" / "chroma.sqlite3").write_bytes(os.urandom(64 * 1024))


def _empty_database(index: Path) -> None:
    (index / "chroma" / "chroma.sqlite3").write_bytes(b"")


def _store(index: Path) -> ClientAPI:
    return chromadb.PersistentClient(
        path=str(index / "chroma"), settings=Settings(anonymized_telemetry=False)
    )


def _wrong_pointer(index: Path) -> None:
    """The pointer names a generation that is not there."""
    pointer = _store(index).get_collection("default.current")
    pointer.modify(metadata={**(pointer.metadata or {}), "generation": "g0"})


def _missing_chunks(index: Path) -> None:
    """The documents' records count chunks that the store no longer has."""
    client = _store(index)
    generation = (client.get_collection("default.current").metadata or {})["generation"]
    chunks = client.get_collection(f"default.{generation}.chunks")
    chunks.delete(ids=chunks.get(limit=3)["ids"])


DAMAGE = [_delete, _truncate_database, _garbage_database, _empty_database, _wrong_pointer, _missing_chunks]


@pytest.mark.parametrize("damage", DAMAGE, ids=[d.__name__.strip("_") for d in DAMAGE])
def test_index_damaged_between_runs_is_rebuilt(index_copy: Path, damage: Callable[[Path], None]) -> None:
    damage(index_copy)
    bot = Assistant(corpus_dir=CORPUS_DIR, index_dir=index_copy)
    ask_bot(bot)
    assert bot.ensure_index() is None, "after the rebuild the index is healthy"
    assert bot.index.is_healthy()


# -- while the server runs ---------------------------------------------------------------


def _ask_until_answered(base: str, seconds: float = 120) -> list[int]:
    """Ask until an answer comes; every response is a correct answer or a clear 503."""
    statuses = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        response = httpx.post(f"{base}/api/ask", json={"question": QUESTION}, timeout=60)
        statuses.append(response.status_code)
        if response.status_code == 200:
            check_answer(response.json())
            return statuses
        assert response.status_code == 503, response.text
        error = error_of(response)
        assert error["type"] in ("index_unavailable", "index_building", "index_busy")
        assert response.headers["Retry-After"].isdigit()
        time.sleep(0.5)
    raise AssertionError(f"no answer within {seconds} s: {statuses}")


@pytest.mark.parametrize(
    "damage",
    [_delete, _truncate_database, _missing_chunks],
    ids=["delete", "truncate", "missing-chunks"],
)
def test_index_damaged_while_the_server_runs(
    index_copy: Path, serve: Serve, damage: Callable[[Path], None]
) -> None:
    bot = Assistant(corpus_dir=CORPUS_DIR, index_dir=index_copy)
    with serve(create_app(bot, limits_overrides=NO_LIMIT)) as base:
        _ask_until_answered(base, 5)
        damage(index_copy)
        for _ in range(3):  # still right (served from what is open), or 503 while it rebuilds
            _ask_until_answered(base)
        health = httpx.get(f"{base}/healthz")
        assert health.status_code in (200, 503)
    # The next start finds the damage and rebuilds.
    restarted = Assistant(corpus_dir=CORPUS_DIR, index_dir=index_copy)
    ask_bot(restarted)
    assert restarted.ensure_index() is None


def test_store_failing_under_a_question_gives_503_then_recovers(index_copy: Path, serve: Serve) -> None:
    """The store raises mid-question (as a damaged database does): 503, a rebuild, answers again."""
    bot = Assistant(corpus_dir=CORPUS_DIR, index_dir=index_copy)
    with serve(create_app(bot, limits_overrides=NO_LIMIT)) as base:
        _ask_until_answered(bot_base := base, 5)
        _garbage_database(index_copy)
        bot.index.release()  # the open handles are gone, as after a restart of the store
        bot.reload()
        statuses = _ask_until_answered(bot_base)
        assert httpx.get(f"{base}/healthz").status_code == 200
    assert statuses, statuses
    assert list(index_copy.glob("chroma.corrupt-*")), "the damaged store is kept for inspection"


# -- a killed ingest ---------------------------------------------------------------------

INGEST_SCRIPT = """
import sys
from pathlib import Path
from assistant import Assistant
bot = Assistant(corpus_dir=Path(sys.argv[1]), index_dir=Path(sys.argv[2]))
def progress(stage, done, total):
    print(f"progress {stage} {done}/{total}", flush=True)
print("started", flush=True)
bot.ingest(rebuild=sys.argv[3] == "rebuild", progress=progress)
print("finished", flush=True)
"""


def _start_ingest(corpus: Path, index: Path, mode: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", INGEST_SCRIPT, str(corpus), str(index), mode],
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def _wait_for_line(process: subprocess.Popen[str], word: str, timeout: float = 120) -> None:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise AssertionError(
                f"the ingest ended before {word!r}: {process.stderr.read() if process.stderr else ''}"
            )
        if line.startswith(word):
            return
    raise AssertionError(f"no {word!r} within {timeout} s")


@pytest.mark.parametrize("mode", ["update", "rebuild"])
def test_ingest_killed_at_a_random_point(index_copy: Path, tmp_path: Path, mode: str) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS_DIR / f"{DOC_ID}.txt", corpus)
    # A changed corpus, so the ingest has real work: a second, longer document.
    extra = "\n\n".join(
        f"Paragraph {n} on penguins. Penguins waddle across the ice number {n}." for n in range(200)
    )
    (corpus / "penguins.md").write_text(extra + "\n", encoding="utf-8")
    texts = {DOC_ID: ESSAY_TEXT, "penguins": extra + "\n"}
    seed = int(os.environ.get("HARDENING_SEED", random.randrange(1_000_000)))
    delay = random.Random(seed).uniform(0.0, 3.0)

    process = _start_ingest(corpus, index_copy, mode)
    try:
        _wait_for_line(process, "started")
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    note = f"seed {seed}: killed {delay:.2f} s into the ingest (exit {process.returncode})"

    # The index is usable at once: answers are right (rebuilding first if it must).
    bot = Assistant(corpus_dir=corpus, index_dir=index_copy)
    answer = bot.ask(QUESTION).to_dict()
    check_answer(answer, texts)
    assert all(c["doc_id"] == DOC_ID for c in answer["citations"]), note
    # The next ingest completes, and leaves a healthy, complete index.
    report = Assistant(corpus_dir=corpus, index_dir=index_copy).ingest()
    fresh = Assistant(corpus_dir=corpus, index_dir=index_copy)
    assert fresh.ensure_index() is None, note
    manifest = fresh.index.read_manifest()
    assert manifest is not None and set(manifest["documents"]) == {DOC_ID, "penguins"}, (note, report)
    penguins = fresh.ask("What do penguins do across the ice?").to_dict()
    check_answer(penguins, texts)


def test_the_server_answers_from_the_old_index_during_a_rebuild(index_copy: Path, serve: Serve) -> None:
    """A rebuild in another process is built beside the live index and swapped in: no 503, no wrong answer."""
    bot = Assistant(corpus_dir=CORPUS_DIR, index_dir=index_copy)
    with serve(create_app(bot, limits_overrides=NO_LIMIT)) as base:
        _ask_until_answered(base, 5)
        before = bot.index.version()
        process = _start_ingest(CORPUS_DIR, index_copy, "rebuild")
        statuses = []
        while process.poll() is None:
            response = httpx.post(f"{base}/api/ask", json={"question": QUESTION}, timeout=60)
            statuses.append(response.status_code)
            if response.status_code == 200:
                check_answer(response.json())
        assert process.returncode == 0, process.stderr.read() if process.stderr else ""
        time.sleep(2.5)  # readers look for a new generation every 2 s
        _ask_until_answered(base, 5)
        assert bot.retriever.version == bot.index.version() != before, "the server moved to the new index"
    assert statuses and set(statuses) == {200}, statuses


# -- two ingests at once -----------------------------------------------------------------


def test_second_ingest_fails_clearly_while_one_runs(index_copy: Path) -> None:
    """The lock held by a running ingest (here this process): the CLI ingest fails at once, clearly."""
    lock = index_copy / "ingest.lock"
    before = Assistant(corpus_dir=CORPUS_DIR, index_dir=index_copy).index.version()
    with lock.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = subprocess.run(
            [*ASSISTANT_CLI, "ingest", "--rebuild", "--corpus", str(CORPUS_DIR), "--index", str(index_copy)],
            cwd=PROJECT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        with pytest.raises(IndexBusyError, match="Another ingest is running"):
            Assistant(corpus_dir=CORPUS_DIR, index_dir=index_copy).ingest(rebuild=True)
    assert result.returncode == 2, result
    assert "Another ingest is running" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, "one line, no traceback"
    assert Assistant(corpus_dir=CORPUS_DIR, index_dir=index_copy).index.version() == before, "nothing changed"
    ask_bot(Assistant(corpus_dir=CORPUS_DIR, index_dir=index_copy))


def test_two_ingests_started_together(index_copy: Path) -> None:
    processes = [_start_ingest(CORPUS_DIR, index_copy, "rebuild") for _ in range(2)]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        results.append((process.returncode, out, err))
    codes = sorted(code for code, _, _ in results)
    assert codes[0] == 0, results
    for code, _, err in results:
        if code != 0:
            assert "IndexBusyError" in err and "Another ingest is running" in err
    bot = Assistant(corpus_dir=CORPUS_DIR, index_dir=index_copy)
    assert bot.ensure_index() is None, "no corruption: the index is healthy as it is"
    ask_bot(bot)


# -- a Chroma server that is down ----------------------------------------------------------


@pytest.fixture
def chroma_port() -> int:
    return free_port()


@pytest.fixture
def chroma_server(tmp_path: Path, chroma_port: int) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    chroma = Path(sys.executable).with_name("chroma")
    if not chroma.exists():
        pytest.skip("the chroma CLI is not installed")

    def start() -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [
                str(chroma),
                "run",
                "--host",
                "127.0.0.1",
                "--port",
                str(chroma_port),
                "--path",
                str(tmp_path / "cs"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
        )
        started.append(process)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if (
                    httpx.get(f"http://127.0.0.1:{chroma_port}/api/v2/heartbeat", timeout=2).status_code
                    == 200
                ):
                    return process
            except httpx.HTTPError:
                time.sleep(0.2)
        raise AssertionError("the Chroma server did not start")

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def test_chroma_server_down_gives_503_then_recovers(
    tmp_path: Path, serve: Serve, chroma_port: int, chroma_server: Callable[[], subprocess.Popen[bytes]]
) -> None:
    bot = Assistant(
        corpus_dir=CORPUS_DIR, index_dir=tmp_path / "idx", chroma_host="127.0.0.1", chroma_port=chroma_port
    )
    with serve(create_app(bot, limits_overrides=NO_LIMIT), wait_ready=False) as base:
        deadline = time.monotonic() + 30
        while httpx.get(f"{base}/healthz").json()["status"] == "building" and time.monotonic() < deadline:
            time.sleep(0.2)
        health = httpx.get(f"{base}/healthz")
        assert (health.status_code, health.json()["status"]) == (503, "unavailable")
        assert "index" in health.json()["problem"].lower()
        response = httpx.post(f"{base}/api/ask", json={"question": QUESTION}, timeout=30)
        assert response.status_code == 503
        assert error_of(response)["type"] == "index_unavailable"
        assert response.headers["Retry-After"].isdigit()

        server = chroma_server()  # the store comes back: the app recovers on its own
        _ask_until_answered(base, 180)
        assert httpx.get(f"{base}/healthz").status_code == 200

        server.kill()  # and goes away again, under a running server
        server.wait(timeout=30)
        began = time.monotonic()
        response = httpx.post(f"{base}/api/ask", json={"question": QUESTION}, timeout=60)
        assert time.monotonic() - began < 30, "a bounded wait, not a hang"
        if response.status_code == 200:
            check_answer(response.json())  # answered from what was already loaded: still right
        else:
            assert response.status_code == 503
            assert error_of(response)["type"] == "index_unavailable"

        chroma_server()
        _ask_until_answered(base, 180)
