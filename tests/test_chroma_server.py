"""The assistant against a real Chroma server (`chroma run` on 127.0.0.1), as scaled-out workers use it.

A module-wide server is started in a temporary folder and always stopped; each test
ingests the essay under its own collection name, selected with CHROMA_HOST and
CHROMA_PORT as a deployment would.
"""

from __future__ import annotations

import shutil
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import chromadb
import pytest

from assistant import Assistant

from .server_fixtures import HOST, free_port, subprocess_server

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
QUESTION = "What phrase does the essay quote from Otto von Bismarck?"
DEFINITION = "What is defensive deterrence?"


def _chroma() -> str | None:
    beside = Path(sys.executable).with_name("chroma")
    return str(beside) if beside.exists() else shutil.which("chroma")


def _client(port: int) -> chromadb.ClientAPI:
    settings = chromadb.config.Settings(anonymized_telemetry=False)
    return chromadb.HttpClient(host=HOST, port=port, settings=settings)


@pytest.fixture(scope="module")
def chroma_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A real `chroma run` on a free port of 127.0.0.1; yields the port once its heartbeat answers."""
    executable = _chroma()
    if executable is None:
        pytest.skip("the `chroma` executable (installed with chromadb) is not on this machine")
    folder = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    command = [executable, "run", "--path", str(folder / "data"), "--host", HOST, "--port", str(port)]
    with subprocess_server(
        command, lambda: bool(_client(port).heartbeat()), folder / "server.log", name="chroma run"
    ):
        yield port


@pytest.fixture
def server_env(chroma_port: int, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("CHROMA_HOST", HOST)
    monkeypatch.setenv("CHROMA_PORT", str(chroma_port))
    return chroma_port


def _collection() -> str:
    return f"server-{uuid.uuid4().hex[:10]}"


def _check_quotes(bot: Assistant, question: str) -> str:
    """Ask; every citation must quote the essay exactly at its offsets. Returns the answer text."""
    answer = bot.ask(question)
    texts = {doc.doc_id: doc.text for doc in bot.documents()}
    assert not answer.refused, answer.answer
    assert answer.citations
    for citation in answer.citations:
        assert texts[citation.doc_id][citation.start : citation.end] == citation.quote
    return answer.answer


def test_ingest_retrieve_and_answer_through_the_server(server_env: int, tmp_path: Path) -> None:
    name = _collection()
    bot = Assistant(corpus_dir=CORPUS, index_dir=tmp_path / "index", collection=name)
    assert bot.settings.chroma_host == HOST and bot.settings.chroma_port == server_env

    report = bot.ingest()
    assert report.chunks > 0 and report.added

    stored = {c.name: c.count() for c in _client(server_env).list_collections()}
    generation = bot.index.live_generation()
    assert stored[f"{name}.{generation}.chunks"] == report.chunks
    assert stored[f"{name}.{generation}.sentences"] > report.chunks
    assert stored[f"{name}.{generation}.documents"] == 1 and f"{name}.current" in stored
    assert not (tmp_path / "index" / "chroma").exists(), "nothing may be stored in the embedded store"

    passages = bot.retriever.retrieve(QUESTION).passages
    assert any("blood and iron" in p.chunk.text for p in passages[:3])
    assert "blood and iron" in _check_quotes(bot, QUESTION)


def test_two_workers_share_one_server(server_env: int, tmp_path: Path) -> None:
    name = _collection()
    first = Assistant(corpus_dir=CORPUS, index_dir=tmp_path / "first", collection=name)
    assert first.ensure_index() is not None  # the first worker builds the collection

    # Everything lives in the server: a worker with a folder of its own finds the index built.
    second = Assistant(corpus_dir=CORPUS, index_dir=tmp_path / "second", collection=name)
    assert second.ensure_index() is None  # nothing is embedded again
    chunks = f"{name}.{first.index.live_generation()}.chunks"
    count = _client(server_env).get_collection(chunks).count()

    # Both workers at once, each question to each: the same answers from the shared collection.
    asks = [(first, QUESTION), (second, QUESTION), (first, DEFINITION), (second, DEFINITION)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda ask: _check_quotes(*ask), asks))
    assert answers[0] == answers[1] and answers[2] == answers[3]
    assert _client(server_env).get_collection(chunks).count() == count
