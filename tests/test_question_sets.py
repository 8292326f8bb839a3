"""Every development question set is sound data: unique ids, a gold quote for every answerable
question and none for the others, each quote verbatim in its text, each key fact inside a quote."""

from __future__ import annotations

import json

import pytest

from assistant.corpus import load_corpus
from bench.generalization import QuestionSet, question_sets


@pytest.mark.parametrize("question_set", question_sets(), ids=lambda s: s.name)
def test_the_question_set_is_sound(question_set: QuestionSet) -> None:
    texts = [doc.text for doc in load_corpus(question_set.corpus)]
    lines = question_set.questions.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines if line.strip()]
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)), "duplicate ids"
    for r in records:
        assert r["answerable"] == bool(r["gold_quotes"]), r["id"]
        for quote in r["gold_quotes"]:
            assert any(quote in text for text in texts), f"{r['id']}: not in the text: {quote[:60]!r}"
        for fact in r["gold_answers"]:
            assert any(fact.lower() in q.lower() for q in r["gold_quotes"]), f"{r['id']}: {fact!r}"
