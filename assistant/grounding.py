"""Support checking: does a premise (the cited text) back a sentence of the answer?

The checker is one pluggable callable, ``support(premise, sentence) -> float`` in
[0, 1]. The default is offline and deterministic: the share of the sentence's
content words (stemmed) found in the premise, capped low when a number or a name
of the sentence is missing from the premise, or when one negates what the other
asserts. The evaluation and verified generation use the same checker.
"""

from __future__ import annotations

import re
from typing import Protocol

from .lexical import FRAME_WORDS, STOP_WORDS, content_words, numbers, stem, words

_NEGATION = re.compile(r"\b(not|no|never|nor|neither|without|n['’]t|cannot)\b", re.IGNORECASE)
# Words an answer uses to frame a quotation ("The text takes the opposite view: ..."), not claims.
_FRAMING = FRAME_WORDS | {"takes", "opposite"}


class SupportChecker(Protocol):
    """Scores how well ``premise`` supports ``sentence``: 0 (not at all) to 1 (fully)."""

    name: str

    def __call__(self, premise: str, sentence: str) -> float: ...


class LexicalSupport:
    """Content-word coverage with stemming, plus hard checks on numbers, names and negation."""

    name = "lexical"

    def __call__(self, premise: str, sentence: str) -> float:
        claim = [w for w in content_words(sentence) if w not in _FRAMING]
        if not claim:
            return 0.0
        known = _Vocabulary(premise)
        score = sum(1 for w in claim if known.covers(w)) / len(claim)
        if not numbers(sentence) <= numbers(premise):
            score = min(score, 0.2)
        if not all(known.covers(name) for name in _capitalised(sentence)):
            score = min(score, 0.3)
        # A claim that negates what the premise asserts; the reverse (a premise with a
        # "not" somewhere) is too common in prose to count against a faithful summary.
        if _NEGATION.search(sentence) and not _NEGATION.search(premise):
            score = min(score, 0.4)
        return round(score, 4)


def _capitalised(text: str) -> set[str]:
    """Capitalised words, the first included, that are not stop or framing words: names, mostly."""
    tokens = re.findall(r"[A-Za-z][A-Za-z0-9]*", text)
    return {t.lower() for t in tokens if t[0].isupper() and t.lower() not in STOP_WORDS | _FRAMING}


class _Vocabulary:
    """The premise's words, matched by stem or, for longer words, by a shared 5-letter stem prefix."""

    def __init__(self, premise: str) -> None:
        self.stems = {stem(w) for w in words(premise)}
        self.prefixes = {s[:5] for s in self.stems if len(s) >= 5}

    def covers(self, word: str) -> bool:
        stemmed = stem(word)
        return stemmed in self.stems or (len(word) >= 6 and stemmed[:5] in self.prefixes)


DEFAULT_CHECKER: SupportChecker = LexicalSupport()


def support(premise: str, sentence: str) -> float:
    """The default checker as a plain function."""
    return DEFAULT_CHECKER(premise, sentence)
