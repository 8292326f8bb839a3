"""The retriever's word lookups: how telling a word is, and topic words that never meet."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import Assistant
from assistant.lexical import stem
from assistant.retrieval import Retriever

BIRDS = "# Birds\n\nThe heron waits by the river for fish.\n\nHerons nest in noisy colonies.\n"
FICTION = Path(__file__).parent / "data" / "texts" / "fiction" / "corpus"
STONES = "# Stones\n\nGranite forms from slowly cooled magma.\n\nThe river polishes granite pebbles.\n"


@pytest.fixture(scope="module")
def two_documents(tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    folder = tmp_path_factory.mktemp("two-documents")
    (folder / "corpus").mkdir()
    (folder / "corpus" / "birds.md").write_text(BIRDS, encoding="utf-8")
    (folder / "corpus" / "stones.md").write_text(STONES, encoding="utf-8")
    bot = Assistant(corpus_dir=folder / "corpus", index_dir=folder / "index")
    bot.ingest()
    return bot.retriever


def test_idf_knows_the_corpus_words_only(two_documents: Retriever) -> None:
    assert two_documents.idf(stem("heron")) is not None and two_documents.idf(stem("granite")) is not None
    assert two_documents.idf(stem("volcano")) is None
    # A word in both documents is less telling than one in a single sentence.
    assert two_documents.idf(stem("river")) < two_documents.idf(stem("magma"))  # type: ignore[operator]
    assert two_documents.unseen_idf() >= two_documents.idf(stem("magma"))  # type: ignore[operator]


@pytest.mark.parametrize(
    ("question", "pair"),
    [
        ("What do they say about granite herons?", "granite herons"),  # each word is used, never together
        ("What do they say about heron colonies?", None),  # one sentence ("Herons nest in … colonies")
        ("What do they say about fish colonies?", None),  # neighbouring paragraphs of one document
        ("What do they say about river pebbles?", None),  # one sentence
        ("What do they say about volcano herons?", None),  # a word never used is another check's job
    ],
)
def test_unrelated_pair_finds_words_that_never_meet(
    two_documents: Retriever, question: str, pair: str | None
) -> None:
    assert two_documents.unrelated_pair(question) == pair


@pytest.mark.parametrize(
    ("question", "pair"),
    [
        ("What does the essay say about nuclear energy?", "nuclear energy"),
        ("What does the essay say about China's economy?", "china economy"),
        ("What does the essay say about human security?", None),
    ],
)
def test_unrelated_pair_on_the_essay(bot: Assistant, question: str, pair: str | None) -> None:
    assert bot.retriever.unrelated_pair(question) == pair


def test_each_rankings_best_passage_is_read(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Poe's story: the question's rare word ("learnedly") is in one paragraph, first by BM25 but
    in neither dense ranking's top 20, so fusion alone ranks it out of the passages read."""
    folder = tmp_path_factory.mktemp("story")
    bot = Assistant(corpus_dir=FICTION, index_dir=folder / "index")
    bot.ingest()
    retrieval = bot.retriever.retrieve(
        "On what subject does the narrator believe the Minister has written learnedly?"
    )
    answer = "The Minister I believe has written learnedly on the Differential Calculus."
    assert answer not in " ".join(p.chunk.text for p in retrieval.passages)  # fusion's top k
    assert answer in [s.sentence.text for s in retrieval.sentences]  # read all the same


PLACES = ("harbour", "market", "chapel", "quay", "school", "mill", "station", "lighthouse")
INTERVIEW = (
    "# An interview\n\n"
    + "".join(
        f"The move of the {place} to the coast took a year, and people still ask which year the coast "
        f"{place} moved and what the move meant for a coast town that had grown around its {place}.\n\n"
        for place in PLACES
    )
    + (
        "Q. What year did you move to the coast?\n\n"
        "A. Nineteen fifty-two, the spring after the flood.\n\n"
        "Q. Did you like the school?\n\n"
        "A. Not at first; the teachers were strict and the walk was long.\n"
    )
)


def test_the_line_after_one_that_asks_is_read(tmp_path: Path) -> None:
    """An interview: the question's words are in the line that asks; the answer is the next line."""
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "interview.md").write_text(INTERVIEW, encoding="utf-8")
    bot = Assistant(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index")
    bot.ingest()
    retrieval = bot.retriever.retrieve("What year did you move to the coast?", k=1)
    answer = "A. Nineteen fifty-two, the spring after the flood."
    assert answer in [s.sentence.text for s in retrieval.sentences]
