"""The corpus table: saved beside the index once per version, then mapped by every later worker."""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from assistant import Assistant
from assistant.index import Index
from assistant.models import Chunk, Document
from assistant.table import ChunkTable, Tables, open_tables

BIRDS = (
    "# Birds\n\nThe heron waits by the river for fish.\n\n"
    "Herons nest in noisy colonies. They call at dawn.\n\n"
    "The café’s owner feeds them — every morning. Ça suffit.\n"
)
STONES = "# Stones\n\nGranite forms from cooled magma.\n\nThe river polishes granite.\n"


@pytest.fixture(scope="module")
def essay_chunks(tmp_path_factory: pytest.TempPathFactory) -> list[Chunk]:
    bot = Assistant(
        corpus_dir=Path(__file__).parent.parent / "corpus", index_dir=tmp_path_factory.mktemp("i")
    )
    bot.ensure_index()
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
        assert [c.quote for c in answer.citations] == ["The heron waits by the river for fish."]
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


def test_an_ingest_moves_the_version_before_it_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = _birds(tmp_path)
    before, seen = bot.index.version(), []
    write = Index._replace

    def watched(index: Index, doc: Document, existed: bool) -> None:
        reader = Index(bot.settings, bot.embeddings)
        seen.append((reader.version(), reader.reads(reader.version())))
        write(index, doc, existed)

    monkeypatch.setattr(Index, "_replace", watched)
    (tmp_path / "corpus" / "stones.md").write_text(STONES, encoding="utf-8")
    bot.ingest()
    [(during, readable)] = seen
    assert during != before, "a reader during the writes sees a version of its own"
    assert not readable, "and would not save tables while an ingest writes"
    assert bot.index.version() not in (before, during)
    assert bot.index.reads(bot.index.version())


def test_workers_that_start_together_build_once(tmp_path: Path) -> None:
    bot = _birds(tmp_path)
    reads: list[int] = []

    def read() -> list[Chunk]:
        reads.append(1)
        time.sleep(0.3)  # long enough for the other worker to arrive while this one builds
        return bot.index.chunks()

    def worker(_: int) -> Tables:
        return open_tables(tmp_path / "tables", "v1", read, lambda: True)

    with ThreadPoolExecutor(2) as pool:
        opened = list(pool.map(worker, range(2)))
    assert len(reads) == 1 and all(len(t.table) == len(bot.index.chunks()) for t in opened)


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
