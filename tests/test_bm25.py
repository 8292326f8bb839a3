"""BM25 saved beside the index: built once per corpus content, then loaded by every later process."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant import Assistant
from assistant.bm25 import BM25

TEXTS = ["The heron waits by the river.", "Granite forms from cooled magma.", "The river polishes granite."]


def test_a_saved_bm25_loads_with_the_same_scores(tmp_path: Path) -> None:
    built = BM25.cached(tmp_path / "bm25", TEXTS)
    loaded = BM25.cached(tmp_path / "bm25", TEXTS)
    assert isinstance(loaded.model.scores["data"], np.memmap), "mapped from the saved files"
    assert loaded.idf == built.idf and loaded.size == 3
    for query in (["river"], ["granit", "heron"], ["absent"]):
        assert np.allclose(loaded.scores(query), built.scores(query))
    assert loaded.containing(["river"]).tolist() == [0, 2]


def test_a_damaged_or_mismatched_save_is_rebuilt(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "bm25"
    BM25.cached(folder, TEXTS)
    (folder / "params.index.json").write_text("{not json", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="assistant.bm25"):
        rebuilt = BM25.cached(folder, TEXTS)
    assert "cannot be read" in caplog.text and rebuilt.size == 3
    assert BM25.cached(folder, TEXTS[:2]).size == 2, "a save of other texts is not used"
    assert isinstance(BM25.cached(folder, TEXTS[:2]).model.scores["data"], np.memmap), "and is replaced"


def test_an_unwritable_folder_still_answers(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder would go", encoding="utf-8")
    bm25 = BM25.cached(blocker / "bm25", TEXTS)
    assert bm25.containing(["heron"]).tolist() == [0]


def test_workers_load_what_the_first_one_built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "birds.md").write_text("# Birds\n\nThe heron waits by the river for fish.\n", encoding="utf-8")
    first = Assistant(corpus_dir=corpus, index_dir=tmp_path / "index")
    first.ingest()
    first.retriever  # noqa: B018 - builds and saves the BM25
    saved = tmp_path / "index" / "lexical" / first.index.name
    [key] = [p.name for p in saved.iterdir()]

    def no_building(texts: list[str]) -> BM25:
        raise AssertionError("a worker rebuilt a BM25 that was saved")

    with monkeypatch.context() as patched:
        patched.setattr(BM25, "build", staticmethod(no_building))
        worker = Assistant(corpus_dir=corpus, index_dir=tmp_path / "index")
        assert worker.ask("Where does the heron wait?").citations

    (corpus / "stones.md").write_text(
        "# Stones\n\nGranite forms from slowly cooled magma.\n", encoding="utf-8"
    )
    first.ingest()
    first.reload()
    assert first.ask("How does granite form?").citations
    assert [p.name for p in saved.iterdir()] not in ([key], []), "the new content is saved, the old pruned"
    assert len(list(saved.iterdir())) == 1


def test_workers_save_identical_files_whatever_their_string_hashing(tmp_path: Path) -> None:
    """Two processes that build one content write the same bytes, so their saves can never mix."""
    script = "import sys; from pathlib import Path; from assistant.bm25 import BM25; "
    script += "BM25.cached(Path(sys.argv[1]), sys.argv[2:])"
    texts = [*TEXTS, "Magma cools into granite, basalt and obsidian near the river."]
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run([sys.executable, "-c", script, str(tmp_path / seed), *texts], env=env, check=True)
    files = sorted(p.name for p in (tmp_path / "1").iterdir())
    assert files and files == sorted(p.name for p in (tmp_path / "2").iterdir())
    for name in files:
        assert (tmp_path / "1" / name).read_bytes() == (tmp_path / "2" / name).read_bytes(), name
