"""The local model's jobs: a fluent answer from the extractive evidence, and a yes/no judgement.

A 1.5B model on two CPU cores reads about 30-60 prompt tokens a second, so six retrieved
passages (~750 tokens) cost 10-20 s before it writes a word, and it then often says the
passages do not answer. Here the extractive selector does the reading: the model is given
only the few sentences it chose to quote (usually one to three), numbered, and asked to
answer from them. Every sentence it writes is verified as usual, but only against the
sentence it cites, so what survives says no more than the quotes shown with it. When the
extractive answer refuses, the model is not asked at all, and follow-ups are rewritten by
the rules, not the model (a second call per question, not measured to help).

:func:`answerability` is the second job: the model's probability that a few sentences
answer a question, read from the log-probabilities of its first token ("Yes" or "No").
It decides nothing: combined with the extractive answerability (``bench/local_answerability.py``,
every question of every development text, held out by text) it did not refuse better than
the extractive answerability alone.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from .generation import Draft, ExtractiveGenerator, Judged, Quote, Request
from .llm import LLMGenerator
from .local_llm import LocalChat
from .models import Message, Passage
from .prompts import Prompts

MAX_COMPOSED_SENTENCES = 3


def judged_for(extractive: ExtractiveGenerator, request: Request) -> Judged | None:
    """The extractive answerer's judgement of the request's candidates (None when there are none)."""
    candidates = extractive.candidates(request)
    if not candidates:
        return None
    return extractive.judge(request, candidates)


def best_candidates(judged: Judged | None, k: int = 3) -> list[Quote]:
    """The ``k`` candidates the extractive ranking model rates best (for a question it may refuse)."""
    if judged is None:
        return []
    order = [int(i) for i in np.argsort(-judged.ranks, kind="stable")[:k]]
    return [
        Quote(judged.candidates[i].sentence, judged.candidates[i].chunk, float(judged.ranks[i]))
        for i in order
    ]


def numbered(quotes: Sequence[Quote]) -> list[dict[str, Any]]:
    """The template variable ``evidence``: ``n`` (cited as [n]) and ``text``, per sentence."""
    return [{"n": n, "text": q.sentence.text} for n, q in enumerate(quotes, start=1)]


def answerability(
    chat: LocalChat, prompts: Prompts, question: str, evidence: Sequence[Quote], title: str
) -> float:
    """The model's probability that ``evidence`` answers ``question`` (0.5 when it is undecided)."""
    if not evidence:
        return 0.0
    prompt = prompts.render("answerable.j2", question=question, evidence=numbered(evidence), title=title)
    return chat.judge([HumanMessage(content=prompt)])


class ComposedGenerator(LLMGenerator):
    """Writes the answer from the sentences the extractive selector chose; see the module."""

    # A sentence that forgets its [n] is checked against the quoted sentences themselves: they
    # are all the model was given, so the verdict (and the quote it earns) is the same as cited.
    uncited_cites_all = True

    def stream(self, request: Request) -> Iterator[str | Draft]:
        began = time.perf_counter()
        extractive = self.extractive.generate(request)
        evidence = extractive.quoted()
        if extractive.refused or not evidence or request.info.intent in ("greeting", "request"):
            yield extractive
            return
        # Each [n] is one quoted sentence: verification may take its quote from that sentence only.
        passages = [Passage(replace(q.chunk, sentences=(q.sentence,)), q.score) for q in evidence]
        yield from self._verified(request, passages, self._compose(request, evidence), began)

    def _compose(self, request: Request, evidence: Sequence[Quote]) -> list[BaseMessage]:
        title = self._title([])
        system = self.prompts.render(
            "compose_system.j2",
            title=title,
            refusal=self.prompts.refusal,
            max_sentences=MAX_COMPOSED_SENTENCES,  # fixed, so the system message stays cached
        )
        user = self.prompts.render(
            "compose.j2",
            question=request.standalone,
            original_question=request.question,
            evidence=numbered(evidence),
            title=title,
        )
        return [SystemMessage(content=system), HumanMessage(content=user)]

    def rewrite_followup(self, question: str, history: Sequence[Message]) -> str | None:
        """None: the rules rewrite follow-ups. A model rewrite would cost a second model call
        (seconds on two cores) before retrieval, and it has not been measured to help."""
        return None

    def answerability(self, request: Request, judged: Judged | None = None) -> float | None:
        """The model's P(the best candidates answer ``request``), or None if it is not a local model."""
        if not isinstance(self.chat_model, LocalChat):
            return None
        evidence = best_candidates(judged or judged_for(self.extractive, request))
        return answerability(self.chat_model, self.prompts, request.standalone, evidence, self._title([]))
