"""The corpus table: saved beside the index once per version, then mapped by every later worker."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant import Assistant
from assistant.bm25 import BM25
from assistant.index import Index
from assistant.models import Chunk
from assistant.table import ChunkTable, Tables, open_tables

BIRDS = (
    "# Birds\n\nThe heron waits by the river for fish.\n\n"
    "Herons nest in noisy colonies. They call at dawn.\n\n"
    "The café’s owner feeds them — every morning. Ça suffit.\n"
)
STONES = "# Stones\n\nGranite forms from cooled magma.\n\nThe river polishes granite.\n"


@pytest.fixture(scope="module")
def essay_chunks(bot: Assistant) -> list[Chunk]:
    """The essay's chunks, from the session's shared index (conftest.py)."""
    return bot.index.chunks()


def test_a_saved_table_gives_back_every_chunk_and_sentence(essay_chunks: list[Chunk], tmp_path: Path) -> None:
    ChunkTable.build(essay_chunks).save(tmp_path / "table")
    table = ChunkTable.load(tmp_path / "table")
    assert isinstance(table.texts, np.memmap), "mapped, not read into memory"
    assert [table.chunk(i) for i in range(len(table))] == essay_chunks
    sentences = [s for c in essay_chunks for s in c.sentences]
    assert list(table.sentences()) == sentences and table.sentence_count == len(sentences)
    for position in (0, 7, len(sentences) - 1):
        sentence = sentences[position]
        assert table.sentence(position) == sentence
        assert table.position(sentence.doc_id, sentence.start) == position
        assert sentence in table.chunk_of_sentence(position).sentences
    assert table.position(sentences[0].doc_id, sentences[0].start + 1) is None
    assert table.position("no-such-document", 0) is None
    chunk = essay_chunks[3]
    assert table.row_of(chunk.chunk_id) == 3 and table.chunk_id(3) == chunk.chunk_id
    assert table.row_of(chunk.chunk_id + "x") is None and table.row_of("") is None


def test_bm25_from_sentence_stems_equals_bm25_from_chunk_texts(essay_chunks: list[Chunk]) -> None:
    tables = Tables.build(essay_chunks)
    direct = BM25.build([c.text for c in essay_chunks])
    assert tables.chunk_bm25.idf == direct.idf
    for query in (["secur"], ["human", "secur", "armi"], ["absent"]):
        assert np.array_equal(tables.chunk_bm25.scores(query), direct.scores(query))
    sentences = BM25.build([s.text for c in essay_chunks for s in c.sentences])
    assert tables.sentence_bm25.idf == sentences.idf


def test_an_empty_corpus_makes_an_empty_table(tmp_path: Path) -> None:
    ChunkTable.build([]).save(tmp_path / "table")
    table = ChunkTable.load(tmp_path / "table")
    assert len(table) == 0 and table.sentence_count == 0 and table.row_of("a") is None
    assert table.quoted_in("Anything at all, quoted or not.") == []


def _birds(tmp_path: Path) -> Assistant:
    corpus = tmp_path / "corpus"
    corpus.mkdir(exist_ok=True)
    (corpus / "birds.md").write_text(BIRDS, encoding="utf-8")
    bot = Assistant(corpus_dir=corpus, index_dir=tmp_path / "index")
    bot.ingest()
    return bot


def test_later_workers_read_no_chunk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _birds(tmp_path)
    assert first.ask("Where does the heron wait?").citations
    saved = tmp_path / "index" / "tables" / first.index.name
    [key] = [p.name for p in saved.iterdir() if p.is_dir()]

    def no_reading(self: Index) -> list[Chunk]:
        raise AssertionError("a worker read every chunk although the tables were saved")

    with monkeypatch.context() as patched:
        patched.setattr(Index, "chunks", no_reading)
        worker = Assistant(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index")
        answer = worker.ask("Where does the heron wait?")
        assert answer.citations[0].quote == "The heron waits by the river for fish."
        assert isinstance(worker.retriever.table.texts, np.memmap)

    (tmp_path / "corpus" / "stones.md").write_text(
        "# Stones\n\nGranite forms from cooled magma.\n", encoding="utf-8"
    )
    first.ingest()
    first.reload()
    assert first.ask("How does granite form?").citations
    [new] = [p.name for p in saved.iterdir() if p.is_dir()]
    assert new != key, "the new version is saved, the old one pruned"


def test_sentences_quoted_in_a_text_are_found_exactly(tmp_path: Path) -> None:
    table = _birds(tmp_path).retriever.table
    texts = [s.text for s in table.sentences()]
    assert texts[1:] == [
        "The heron waits by the river for fish.",
        "Herons nest in noisy colonies.",
        "They call at dawn.",
        "The café’s owner feeds them — every morning.",
        "Ça suffit.",
    ]
    said = "The essay says: “The heron waits by the river for fish.” [1] They call at dawn. [2]"
    assert table.quoted_in(said) == [1, 3], "long sentences by their first words, short ones whole"
    said = "« The café’s owner feeds them — every morning. » [1] Ça suffit. [2]"
    assert table.quoted_in(said) == [4, 5], "characters, not bytes, whatever the script"
    assert table.quoted_in("The heron waits by the river") == [], "a part of a sentence is not the sentence"
    assert table.quoted_in("suffit.") == [] and table.quoted_in("") == []


def test_sentences_are_found_by_document_and_offset_across_documents(tmp_path: Path) -> None:
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "stones.md").write_text(STONES, encoding="utf-8")
    retriever = _birds(tmp_path).retriever
    table, sentences = retriever.table, retriever.all_sentences()
    assert table.doc_ids == ["birds", "stones"] and [s.doc_id for s in sentences].count("stones") == 3
    for position, sentence in enumerate(sentences):
        assert table.position(sentence.doc_id, sentence.start) == position
        assert retriever.sentence_at(sentence.doc_id, sentence.start) == sentence
        assert sentence in retriever.chunk_of(sentence).sentences
    assert retriever.neighbours(sentences[-4]) == (sentences[-5], None), "never into the next document"
    assert retriever.neighbours(sentences[-3]) == (None, None)
    assert retriever.sentence_at("stones", 10_000) is None


def test_a_version_that_changes_while_read_is_not_saved(tmp_path: Path) -> None:
    bot = _birds(tmp_path)
    calls: list[str] = []

    def read() -> list[Chunk]:
        calls.append("read")
        return bot.index.chunks()

    def unchanged() -> bool:
        calls.append("unchanged")
        return False

    tables = open_tables(tmp_path / "tables", "v1", read, unchanged)
    assert calls == ["read", "unchanged"], "the version is checked once the chunks are read"
    assert len(tables.table) == len(bot.index.chunks()), "it still serves this process"
    assert [p.name for p in (tmp_path / "tables").iterdir()] == ["build.lock"], "nothing saved"


def test_tables_are_not_saved_while_an_ingest_writes_or_after_a_swap(tmp_path: Path) -> None:
    bot = _birds(tmp_path)
    version = bot.index.version()
    with bot.index._lock():  # what an ingest holds while it writes
        assert not bot.index.reads(version)
        open_tables(tmp_path / "tables", version, bot.index.chunks, lambda: bot.index.reads(version))
    assert not [p for p in (tmp_path / "tables").iterdir() if p.is_dir()], "nothing saved meanwhile"
    assert bot.index.reads(version)
    stale = Index(bot.settings, bot.embeddings)
    stale.chunks()  # this reader has opened the live generation ...
    bot.ingest(rebuild=True)  # ... and another process swaps in a new one
    assert not stale.reads(bot.index.version()), "what it read is not the new version"
    assert bot.index.reads(bot.index.version())


BUILD = """
import sys, time
from pathlib import Path
from assistant.models import Chunk, Sentence
from assistant.table import open_tables

def read():
    with open(sys.argv[2], "a") as log:
        log.write("read\\n")
    time.sleep(1.0)  # long enough for the other worker to arrive while this one builds
    text = "The heron waits."
    return [Chunk("birds-1", "birds", 1, 0, 16, text, (Sentence("birds", 1, 1, 0, 16, text),))]

open_tables(Path(sys.argv[1]), "v1", read, lambda: True)
"""


def test_workers_that_start_together_build_once(tmp_path: Path) -> None:
    log = tmp_path / "reads.log"
    command = [sys.executable, "-c", BUILD, str(tmp_path / "tables"), str(log)]
    workers = [subprocess.Popen(command) for _ in range(2)]
    assert [w.wait(timeout=120) for w in workers] == [0, 0]
    assert log.read_text().splitlines() == ["read"], "one worker built, the other mapped its tables"
    assert [p.name for p in (tmp_path / "tables").iterdir() if p.is_dir()] != []


def test_damaged_tables_are_rebuilt(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    bot = _birds(tmp_path)
    root = tmp_path / "tables"
    open_tables(root, "v1", bot.index.chunks, lambda: True)
    [folder] = [p for p in root.iterdir() if p.is_dir()]
    (folder / "table" / "offsets.npy").write_bytes(b"not numpy")
    with caplog.at_level(logging.WARNING, logger="assistant.table"):
        rebuilt = open_tables(root, "v1", bot.index.chunks, lambda: True)
    assert "cannot be read" in caplog.text
    assert rebuilt.table.chunk(0) == bot.index.chunks()[0]
    assert Tables.load(folder) is not None, "and saved again in its place"


def test_an_unwritable_folder_still_answers(tmp_path: Path) -> None:
    bot = _birds(tmp_path)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder would go", encoding="utf-8")
    tables = open_tables(blocker / "tables", "v1", bot.index.chunks, lambda: True)
    assert tables.sentence_bm25.containing(["heron"]).tolist() == [1, 2]
    assert not isinstance(tables.table.texts, np.memmap)
