import fcntl
from pathlib import Path

import pytest

from assistant import Assistant, IndexBusyError


def test_ingest_is_incremental(corpus_copy: Path, tmp_path: Path) -> None:
    bot = Assistant(corpus_dir=corpus_copy, index_dir=tmp_path / "idx")
    first = bot.ingest()
    assert first.added == ["values-in-foreign-policy"] and first.chunks > 10

    again = bot.ingest()
    assert again.unchanged == ["values-in-foreign-policy"] and not again.changed

    (corpus_copy / "note.md").write_text("# Note\n\nDeterrence by denial is discussed.\n", encoding="utf-8")
    added = bot.ingest()
    assert added.added == ["note"] and added.unchanged == ["values-in-foreign-policy"]

    (corpus_copy / "note.md").write_text("Deterrence by denial is discussed at length.\n", encoding="utf-8")
    assert bot.ingest().updated == ["note"]

    (corpus_copy / "note.md").unlink()
    removed = bot.ingest()
    assert removed.removed == ["note"] and removed.chunks == first.chunks
    assert bot.index.chunk_store.count() == first.chunks

    assert bot.ingest(rebuild=True).added == ["values-in-foreign-policy"]


def test_a_second_ingest_fails_clearly_while_one_holds_the_lock(corpus_copy: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "idx"
    index_dir.mkdir()
    with open(index_dir / "ingest.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(IndexBusyError, match="Another ingest is running"):
            Assistant(corpus_dir=corpus_copy, index_dir=index_dir).ingest()


def test_a_corrupt_index_is_set_aside_and_rebuilt(corpus_copy: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "idx"
    Assistant(corpus_dir=corpus_copy, index_dir=index_dir).ingest()
    database = index_dir / "chroma" / "chroma.sqlite3"
    database.write_bytes(b"this is not a database" * 100)

    bot = Assistant(corpus_dir=corpus_copy, index_dir=index_dir)
    answer = bot.ask("What is defensive deterrence?")
    assert not answer.refused and answer.citations
    assert list(index_dir.glob("chroma.corrupt-*")), "the damaged index is kept for inspection"


def test_a_changed_corpus_is_reindexed_on_first_use(corpus_copy: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "idx"
    Assistant(corpus_dir=corpus_copy, index_dir=index_dir).ingest()
    (corpus_copy / "extra.txt").write_text("Penguins waddle across the Antarctic ice.\n", encoding="utf-8")
    answer = Assistant(corpus_dir=corpus_copy, index_dir=index_dir).ask("What do penguins do?")
    assert any(c.doc_id == "extra" for c in answer.citations)
