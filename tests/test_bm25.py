"""BM25 over chunks or sentences: saved, it loads memory-mapped with the same scores."""

from __future__ import annotations

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
    built = BM25.build(TEXTS)
    built.save(tmp_path / "bm25")
    loaded = BM25.load(tmp_path / "bm25")
    assert isinstance(loaded.model.scores["data"], np.memmap), "mapped from the saved files"
    assert loaded.idf == built.idf and loaded.size == 3
    for query in (["river"], ["granit", "heron"], ["absent"]):
        assert np.allclose(loaded.scores(query), built.scores(query))
    assert loaded.containing(["river"]).tolist() == [0, 2]
    assert not loaded.scores(["absent"]).any()


@pytest.mark.parametrize("texts", [[], ["It is what it is."], ["The", "and so on"]])
def test_texts_without_a_content_word_make_an_index_that_finds_nothing(
    texts: list[str], tmp_path: Path
) -> None:
    built = BM25.build(texts)
    built.save(tmp_path / "bm25")
    loaded = BM25.load(tmp_path / "bm25")
    assert loaded.size == built.size == len(texts) and loaded.idf == {}
    assert not loaded.scores(["heron"]).any() and loaded.containing(["heron"]).tolist() == []


def test_a_corpus_of_stop_words_is_answered_with_a_refusal(tmp_path: Path) -> None:
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "words.txt").write_text("It is what it is.\n", encoding="utf-8")
    bot = Assistant(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index")
    answer = bot.ask("What does the essay say about herons?")
    assert answer.refused and not answer.citations


def test_saves_are_identical_whatever_the_string_hashing(tmp_path: Path) -> None:
    """Two processes that build one content write the same bytes, so their saves can never mix."""
    script = "import sys; from pathlib import Path; from assistant.bm25 import BM25; "
    script += "BM25.build(sys.argv[2:]).save(Path(sys.argv[1]))"
    texts = [*TEXTS, "Magma cools into granite, basalt and obsidian near the river."]
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run([sys.executable, "-c", script, str(tmp_path / seed), *texts], env=env, check=True)
    files = sorted(p.name for p in (tmp_path / "1").iterdir())
    assert files and files == sorted(p.name for p in (tmp_path / "2").iterdir())
    for name in files:
        assert (tmp_path / "1" / name).read_bytes() == (tmp_path / "2" / name).read_bytes(), name
