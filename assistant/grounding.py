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

from .lexical import content_words, names, numbers, stem

_NEGATION = re.compile(r"\b(not|no|never|nor|neither|without|n['’]t|cannot)\b", re.IGNORECASE)
# Words an answer uses to frame a quotation, not claims of its own.
_FRAMING = frozenset(
    {"essay", "author", "says", "say", "takes", "opposite", "premise", "view", "argues", "text"}
)


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
        premise_stems = {stem(w) for w in content_words(premise)}
        premise_prefixes = {s[:5] for s in premise_stems if len(s) >= 5}
        covered = sum(
            1 for w in claim if stem(w) in premise_stems or (len(w) >= 6 and stem(w)[:5] in premise_prefixes)
        )
        score = covered / len(claim)
        if not numbers(sentence) <= numbers(premise):
            score = min(score, 0.2)
        if not names(sentence) - _FRAMING <= _lower_words(premise):
            score = min(score, 0.3)
        if bool(_NEGATION.search(sentence)) != bool(_NEGATION.search(premise)):
            score = min(score, 0.4)
        return round(score, 4)


def _lower_words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[A-Za-z0-9]+", text)}


DEFAULT_CHECKER: SupportChecker = LexicalSupport()


def support(premise: str, sentence: str) -> float:
    """The default checker as a plain function."""
    return DEFAULT_CHECKER(premise, sentence)
