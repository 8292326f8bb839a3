"""``assert_grounded`` on any system's output, for test suites.

With the package installed, every test suite has the ``assert_grounded`` fixture
(:mod:`assistant.pytest_plugin`); it can also be imported
(``from assistant.grading import assert_grounded``)::

    def test_bot_cites_the_reading(assert_grounded):
        reply = my_rag_bot("What does the essay say about realism?")   # any system
        assert_grounded(reply.text, corpus="readings/", contexts=reply.chunks)
        assert_grounded({"user_input": ..., "response": ..., "retrieved_contexts": [...]}, corpus="readings/")

``answer`` is plain text (with ``[n]`` markers into ``contexts``, or none: then each sentence
is judged against the contexts, or against the nearest corpus sentences when there are none),
or one record in any format ``assistant grade`` reads. A failure names every unsupported
sentence beside the nearest source sentence, and every quote the corpus does not hold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from ..config import Settings
from .alignment import MIN_FUZZY, Aligner, Corpus
from .checkers import Checker, LexicalChecker
from .formats import read_records
from .items import Item, Source
from .judgement import ItemGrade, Judge


@lru_cache(maxsize=8)
def _corpus_at(folder: str) -> Corpus:
    return Corpus.load(Path(folder))


def _corpus(corpus: Corpus | Path | str | Mapping[str, str]) -> Corpus:
    if isinstance(corpus, Corpus):
        return corpus
    if isinstance(corpus, Mapping):
        return Corpus.of_texts(dict(corpus))
    return _corpus_at(str(Path(corpus).resolve()))


def _item(answer: str | Mapping[str, Any] | Item, contexts: Sequence[str] | None) -> Item:
    if isinstance(answer, Item):
        return answer
    if isinstance(answer, Mapping):
        return read_records([dict(answer)], where="assert_grounded")[1][0]
    return Item("answer", "", answer, [Source(c, "context") for c in contexts or []])


def assert_grounded(
    answer: str | Mapping[str, Any] | Item,
    corpus: Corpus | Path | str | Mapping[str, str],
    *,
    contexts: Sequence[str] | None = None,
    checker: Checker | None = None,
    min_fuzzy: float = MIN_FUZZY,
) -> ItemGrade:
    """Fail unless every sentence of ``answer`` is supported and every quote is in ``corpus``.

    ``corpus`` is a folder, ``{doc_id: text}`` or a :class:`Corpus`; ``checker`` defaults to
    the lexical checker at ``min_support``. Returns the grade when it passes.
    """
    __tracebackhide__ = True
    judge = Judge(Aligner(_corpus(corpus), min_fuzzy), checker or LexicalChecker(Settings.load().min_support))
    grade = judge.grade(_item(answer, contexts))
    if grade.refused:
        grade.failures.insert(0, "the answer declines to answer")
    if grade.failures:
        pytest.fail(explain(grade, judge.checker), pytrace=False)
    return grade


def explain(grade: ItemGrade, checker: Checker) -> str:
    """A failed grade for people: why, then each sentence beside its nearest source sentence."""
    lines = [f"Answer is not grounded ({checker.name} checker, threshold {checker.threshold}):"]
    lines += [f"  - {reason}" for reason in grade.failures]
    for sentence in grade.sentences:
        if sentence.verdict in ("supported", "refusal"):
            continue
        lines.append(f"  {sentence.verdict} (support {sentence.support:.2f}): {sentence.text!r}")
        if sentence.source is not None:
            where = f"{sentence.source.doc_id}#{sentence.source.anchor}"
            lines.append(f"      nearest source [{where}]: {sentence.source.text!r}")
    for source in grade.sources:
        alignment = source["alignment"]
        if alignment["status"] == "not_found" and source["kind"] == "citation":
            lines.append(
                f"  quote not in the corpus (best match {alignment['score']:.0f}/100): {source['text']!r}"
            )
        elif alignment["offsets"] == "wrong":
            lines.append(
                f"  quote at the wrong offsets: claimed {source['claimed_start']}-{source['claimed_end']}, "
                f"found at {alignment['start']}-{alignment['end']}: {source['text']!r}"
            )
    return "\n".join(lines)
