"""The corpus table: saved beside the index once per version, then mapped by every later worker."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from assistant import Assistant
from assistant.index import Index
from assistant.models import Chunk
from assistant.table import ChunkTable, Tables, open_tables

BIRDS = (
    "# Birds\n\nThe heron waits by the river for fish.\n\nHerons nest in noisy colonies. They call at dawn.\n"
)


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
    [key] = [p.name for p in saved.iterdir()]

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
    [new] = [p.name for p in saved.iterdir()]
    assert new != key, "the new version is saved, the old one pruned"


def test_sentences_quoted_in_a_text_are_found_exactly(tmp_path: Path) -> None:
    table = _birds(tmp_path).retriever.table
    texts = [s.text for s in table.sentences()]
    assert texts[1:] == [
        "The heron waits by the river for fish.",
        "Herons nest in noisy colonies.",
        "They call at dawn.",
    ]
    said = "The essay says: “The heron waits by the river for fish.” [1] They call at dawn. [2]"
    assert table.quoted_in(said) == [1, 3], "long sentences by their first words, short ones whole"
    assert table.quoted_in("The heron waits by the river") == [], "a part of a sentence is not the sentence"
    assert table.quoted_in("") == []


def test_a_version_that_changes_while_read_is_not_saved(tmp_path: Path) -> None:
    bot = _birds(tmp_path)
    tables = open_tables(tmp_path / "tables", "v1", bot.index.chunks, lambda: "v2")
    assert len(tables.table) == len(bot.index.chunks()), "it still serves this process"
    assert not (tmp_path / "tables").exists()


def test_damaged_tables_are_rebuilt(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    bot = _birds(tmp_path)
    root = tmp_path / "tables"
    open_tables(root, "v1", bot.index.chunks, lambda: "v1")
    [folder] = list(root.iterdir())
    (folder / "table" / "offsets.npy").write_bytes(b"not numpy")
    with caplog.at_level(logging.WARNING, logger="assistant.table"):
        rebuilt = open_tables(root, "v1", bot.index.chunks, lambda: "v1")
    assert "cannot be read" in caplog.text
    assert rebuilt.table.chunk(0) == bot.index.chunks()[0]
    assert Tables.load(folder) is not None, "and saved again in its place"


def test_an_unwritable_folder_still_answers(tmp_path: Path) -> None:
    bot = _birds(tmp_path)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder would go", encoding="utf-8")
    tables = open_tables(blocker / "tables", "v1", bot.index.chunks, lambda: "v1")
    assert tables.sentence_bm25.containing(["heron"]).tolist() == [1, 2]
    assert not isinstance(tables.table.texts, np.memmap)
