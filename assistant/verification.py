"""Verifying a language model's draft against the passages it was given.

The model answers from passages numbered [1]..[k] and ends each sentence with the
number(s) of the passage(s) it rests on. Verification then, sentence by sentence:

1. reads the markers (``[2]``, ``[1, 3]``, ``[1][3]``, ``[passage 2]``, ``[1-2]``);
   a marker that points at no passage is dropped and counted;
2. scores the sentence against the sentences of the passages it cites with the
   support checker (the one the evaluation uses), picking the passage sentence(s)
   that best support it as its quotes: corpus sentences, so every quote is
   character-exact by construction;
3. classifies it as ``supported`` (score >= ``min_support``), ``unsupported`` (it cites a
   passage that does not back it) or ``uncited`` (it cites nothing valid).

Nothing here calls a model; :mod:`assistant.llm` feeds it the model's text, whole
(:func:`verify`) or token by token (:class:`LiveVerifier`, for streaming).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from .generation import DraftSentence, Quote
from .grounding import SupportChecker
from .models import Passage
from .sentences import sentence_spans

Status = Literal["supported", "unsupported", "uncited"]

FLAG = " (unverified)"  # appended to a kept-but-unsupported sentence (unsupported="flag") and to live text

_PASSAGE_WORD = r"(?:passages?|p\.?|source)\s*"
_NUMBER_LIST = rf"(?:{_PASSAGE_WORD})?\d{{1,3}}(?:\s*(?:,|;|-|–|and|&)\s*(?:{_PASSAGE_WORD})?\d{{1,3}})*"
MARKER = re.compile(rf"\[\s*{_NUMBER_LIST}\s*\]", re.IGNORECASE)
_MARKERS_AT_START = re.compile(rf"(?:\s*{MARKER.pattern})+", re.IGNORECASE)
# What a segment looks like while a marker is still being typed: "[", "[1", "[1, ".
_MARKER_PREFIX_ONLY = re.compile(r"^(?:\s*\[[^\[\]]{0,24}\]?)+\s*$")
_LIST_ITEM = re.compile(r"^\s*(?:[-*•+]|\d{1,2}[.)]|#+)\s+")
_LABEL = re.compile(r"^\s*(?:answer|response|assistant)\s*:\s*", re.IGNORECASE)
_EMPHASIS = re.compile(r"\*\*|__|(?<!\w)\*(?=\S)|(?<=\S)\*(?!\w)|`")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([.,;:!?…)\]”’])")
_SPACE_AFTER_OPENING = re.compile(r"([(\[“‘])\s+")
_EMPTY_BRACKETS = re.compile(r"\(\s*\)|\[\s*\]")
_REFUSAL_LIKE = re.compile(
    r"\b(?:passages?|texts?|essay|context|documents?|sources?|author)\b[^.!?]*?\b"
    r"(?:do(?:es)?\s*(?:not|n['’]t)|never|fails? to)\s+"
    r"(?:answer|address|mention|say|state|contain|discuss|provide|cover|specify|give|include)"
    r"|\b(?:cannot|can['’]t|can not|unable to)\s+(?:answer|find|determine|tell)"
    r"|\bno (?:information|mention|answer)\b|\bnot (?:mentioned|addressed|stated|discussed)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ParsedSentence:
    """One sentence of the model's answer: its text without markers and the numbers it cited."""

    text: str
    markers: tuple[int, ...]


@dataclass(frozen=True)
class CheckedSentence:
    """A parsed sentence after verification."""

    text: str
    cited: tuple[int, ...]  # valid passage numbers it cites
    invalid: tuple[int, ...]  # markers that point at no passage (dropped)
    quotes: tuple[Quote, ...]  # the best-supporting sentences of the cited passages
    support: float  # checker(" ".join(quote texts), text)
    status: Status
    refusal_like: bool = False

    @property
    def supported(self) -> bool:
        return self.status == "supported"


@dataclass(frozen=True)
class Verification:
    """The verdict on a whole answer."""

    checked: list[CheckedSentence]
    refusal: bool  # the model said the passages do not answer

    @property
    def supported(self) -> list[CheckedSentence]:
        return [c for c in self.checked if c.supported]

    @property
    def share(self) -> float:
        """The share of the answer's sentences that survive verification."""
        return len(self.supported) / len(self.checked) if self.checked else 0.0

    @property
    def invalid_markers(self) -> list[int]:
        return [n for c in self.checked for n in c.invalid]

    def draft_sentences(self, unsupported: Literal["remove", "flag"]) -> list[DraftSentence]:
        """Supported sentences with their quotes; with ``flag``, the rest too, visibly marked."""
        kept = []
        for checked in self.checked:
            if checked.supported:
                kept.append(DraftSentence(checked.text, list(checked.quotes)))
            elif unsupported == "flag" and not checked.refusal_like:
                kept.append(DraftSentence(flagged(checked.text), list(checked.quotes)))
        return kept


def flagged(text: str) -> str:
    return text + FLAG


# -- reading the model's text ---------------------------------------------------------------


def segments(text: str) -> list[tuple[int, int]]:
    """Sentence spans of raw model output: lines first, then sentences; markers that open a
    segment (``claim. [2] Next``) are given to the segment before them."""
    spans: list[tuple[int, int]] = []
    offset = 0
    for line in text.splitlines(keepends=True):
        spans.extend((offset + s, offset + e) for s, e in sentence_spans(line))
        offset += len(line)
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        lead = _MARKERS_AT_START.match(text, start, end)
        if lead and merged:
            previous_start, _ = merged[-1]
            merged[-1] = (previous_start, lead.end())
            rest = text[lead.end() : end]
            if rest.strip():
                merged.append((lead.end() + len(rest) - len(rest.lstrip()), end))
        else:
            merged.append((start, end))
    return merged


def parse(segment: str) -> ParsedSentence:
    """Markers out, list bullets and emphasis off, whitespace normalised."""
    numbers: list[int] = []
    for match in MARKER.finditer(segment):
        numbers.extend(_numbers(match.group(0)))
    text = _EMPTY_BRACKETS.sub(" ", MARKER.sub(" ", segment))
    text = _LIST_ITEM.sub("", text)
    text = _LABEL.sub("", text)
    text = _EMPHASIS.sub("", text)
    text = " ".join(text.split())
    text = _SPACE_AFTER_OPENING.sub(r"\1", _SPACE_BEFORE_PUNCT.sub(r"\1", text)).strip()
    return ParsedSentence(text, tuple(dict.fromkeys(numbers)))


def parse_answer(text: str) -> list[ParsedSentence]:
    """The sentences of an answer, duplicates (a looping model) and empty ones removed."""
    seen: set[str] = set()
    parsed = []
    for start, end in segments(text):
        sentence = parse(text[start:end])
        key = _normalise(sentence.text)
        if not any(ch.isalnum() for ch in sentence.text) or key in seen:
            continue
        seen.add(key)
        parsed.append(sentence)
    return parsed


def _numbers(marker: str) -> list[int]:
    inner = re.sub(_PASSAGE_WORD, "", marker[1:-1], flags=re.IGNORECASE)
    numbers: list[int] = []
    for part in re.split(r"\s*(?:,|;|and|&)\s*", inner.strip()):
        bounds = [int(n) for n in re.findall(r"\d+", part)]
        if len(bounds) == 2 and re.search(r"[-–]", part) and 0 <= bounds[1] - bounds[0] <= 10:
            numbers.extend(range(bounds[0], bounds[1] + 1))
        else:
            numbers.extend(bounds)
    return numbers


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("’", "'").lower()
    return " ".join(re.findall(r"[a-z0-9']+", text))


def is_refusal_text(text: str, refusal: str) -> bool:
    """Whether ``text`` contains the configured refusal sentence (ignoring case and punctuation)."""
    wanted = _normalise(refusal)
    return bool(wanted) and wanted in _normalise(text)


def refusal_like(sentence: str) -> bool:
    """A sentence that says the passages do not answer ("The essay does not mention ...")."""
    return bool(_REFUSAL_LIKE.search(sentence))


# -- checking --------------------------------------------------------------------------------


class Verifier:
    """Checks answer sentences against numbered passages with a support checker."""

    def __init__(
        self,
        passages: Sequence[Passage],
        checker: SupportChecker,
        *,
        min_support: float,
        max_quotes: int = 2,
        refusal: str = "",
        uncited_cites_all: bool = False,
    ) -> None:
        """``uncited_cites_all``: a sentence that cites no valid passage is checked against them
        all (for a prompt of a few single sentences, where that is as strict as a citation)."""
        self.uncited_cites_all = uncited_cites_all
        self.passages = list(passages)
        self.checker = checker
        self.min_support = min_support
        self.max_quotes = max(1, max_quotes)
        self.refusal = refusal

    def check(self, sentence: ParsedSentence) -> CheckedSentence:
        valid = tuple(n for n in sentence.markers if 1 <= n <= len(self.passages))
        invalid = tuple(n for n in sentence.markers if n not in valid)
        if not valid and self.uncited_cites_all:
            valid = tuple(range(1, len(self.passages) + 1))
        hedge = refusal_like(sentence.text) or is_refusal_text(sentence.text, self.refusal)
        if not valid:
            return CheckedSentence(sentence.text, (), invalid, (), 0.0, "uncited", hedge)
        quotes, score = self._best_quotes(sentence.text, valid)
        status: Status = "supported" if quotes and score >= self.min_support else "unsupported"
        return CheckedSentence(sentence.text, valid, invalid, tuple(quotes), score, status, hedge)

    def verify(self, text: str) -> Verification:
        checked = [self.check(sentence) for sentence in parse_answer(text)]
        said_no = is_refusal_text(text, self.refusal) or (
            any(c.refusal_like for c in checked) and not any(c.supported for c in checked)
        )
        return Verification(checked, refusal=said_no)

    def _best_quotes(self, claim: str, cited: tuple[int, ...]) -> tuple[list[Quote], float]:
        """The cited sentence that supports ``claim`` best, plus others while they add support."""
        candidates: dict[tuple[str, int], Quote] = {}
        for number in cited:
            chunk = self.passages[number - 1].chunk
            for sentence in chunk.sentences:
                key = (sentence.doc_id, sentence.start)
                if key not in candidates:
                    candidates[key] = Quote(sentence, chunk, self.checker(sentence.text, claim))
        ranked = sorted(candidates.values(), key=lambda q: (-q.score, q.sentence.start))
        if not ranked or ranked[0].score <= 0.0:
            return [], 0.0
        chosen, score = [ranked[0]], ranked[0].score
        for candidate in ranked[1:]:
            if len(chosen) >= self.max_quotes or candidate.score <= 0.0:
                break
            trial = _in_document_order([*chosen, candidate])
            trial_score = self.checker(" ".join(q.sentence.text for q in trial), claim)
            if trial_score >= score + 0.05:
                chosen, score = trial, trial_score
        return chosen, round(score, 4)


def _in_document_order(quotes: list[Quote]) -> list[Quote]:
    return sorted(quotes, key=lambda q: (q.sentence.doc_id, q.sentence.start))


def verify(
    text: str,
    passages: Sequence[Passage],
    checker: SupportChecker,
    *,
    min_support: float,
    max_quotes: int = 2,
    refusal: str = "",
) -> Verification:
    """Verify a whole answer; see :class:`Verifier`."""
    verifier = Verifier(passages, checker, min_support=min_support, max_quotes=max_quotes, refusal=refusal)
    return verifier.verify(text)


# -- streaming -------------------------------------------------------------------------------


class LiveVerifier:
    """Turns a token stream into display text, checking each sentence the moment it ends.

    Text is passed on as it arrives, except from a sentence-ending mark onwards, which
    is held until it is clear whether the sentence ended (the next sentence starts) and
    which markers belong to it; then the finished sentence is checked and, if it is not
    supported, :data:`FLAG` is shown right after it. The final answer is verified again
    as a whole; this is for display.
    """

    _TERMINAL = re.compile(r"[.!?…\n]")

    def __init__(self, check: Callable[[ParsedSentence], CheckedSentence]) -> None:
        self._check = check
        self.text = ""
        self._shown = 0  # characters of ``text`` already passed on
        self._done = 0  # characters of ``text`` in finished sentences
        self.checked: list[CheckedSentence] = []

    def feed(self, token: str) -> Iterator[str]:
        self.text += token
        spans = [(s, e) for s, e in segments(self.text) if s >= self._done]
        finished = spans[:-1]
        if finished and _MARKER_PREFIX_ONLY.match(self.text[spans[-1][0] :]):
            finished = finished[:-1]  # its markers may still be coming
        for start, end in finished:
            yield from self._finish(start, end)
        tail_from = max(self._shown, self._done)
        hold = self._TERMINAL.search(self.text, tail_from)
        upto = hold.start() if hold else len(self.text)
        if upto > self._shown:
            yield self.text[self._shown : upto]
            self._shown = upto

    def close(self) -> Iterator[str]:
        for start, end in [(s, e) for s, e in segments(self.text) if s >= self._done]:
            yield from self._finish(start, end)
        if self._shown < len(self.text):
            yield self.text[self._shown :]
            self._shown = len(self.text)

    def _finish(self, start: int, end: int) -> Iterator[str]:
        if end > self._shown:
            yield self.text[self._shown : end]
            self._shown = end
        self._done = end
        sentence = parse(self.text[start:end])
        if any(ch.isalnum() for ch in sentence.text):
            checked = self._check(sentence)
            self.checked.append(checked)
            if not checked.supported:
                yield FLAG
