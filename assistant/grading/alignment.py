"""Locating a quote, cited span or retrieved context in the corpus, to the character.

Three tries, strictest first:

1. **exact**: the text (without surrounding whitespace) occurs as is;
2. **normalized**: it occurs once case, curly quotes, dashes, ligatures and runs of
   whitespace are made alike (offsets are mapped back to the original text);
3. **fuzzy**: the best partial match (``rapidfuzz``) scores at least ``min_fuzzy`` of 100,
   e.g. a quote with one word changed; the score is reported.

Otherwise it is **not found**: a quote the corpus does not hold is a hallucinated citation.
Claimed offsets (provider citations, our contract) are checked too: a right quote at the
wrong place is reported as such, with where it really is.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rapidfuzz import fuzz

from ..chunking import document_sentences
from ..corpus import doc_id_for, load_corpus
from ..models import Document, Sentence
from .items import Source

Status = Literal["exact", "normalized", "fuzzy", "not_found"]
Offsets = Literal["none", "match", "wrong"]  # no offsets claimed; they hold the text; they do not

MIN_FUZZY = 85.0
_MIN_FUZZY_CHARS = 20  # shorter texts match something anywhere; they must match exactly or normalized
_FOLD = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "“": '"', "”": '"', "„": '"',
                       "‟": '"', "″": '"', "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-",
                       "\u00a0": " "})  # fmt: skip


@dataclass(frozen=True)
class Alignment:
    """Where a source text is in the corpus, and how closely it matches there."""

    status: Status
    score: float  # 100 for exact and normalized; the fuzzy score (the best one when not found)
    doc_id: str | None = None
    start: int | None = None
    end: int | None = None
    anchor: str | None = None  # the reading view's anchor of the sentence it starts in, e.g. s-9-2
    text: str = ""  # the corpus text at start:end
    offsets: Offsets = "none"

    @property
    def found(self) -> bool:
        return self.status != "not_found"


def normalize(text: str) -> str:
    """The comparison form of a text: NFKC, folded quotes and dashes, lower case, single spaces."""
    return _Folded(text).text.strip()


class _Folded:
    """A text in comparison form, with the original offset of every character kept."""

    def __init__(self, text: str) -> None:
        chars: list[str] = []
        origin: list[int] = []
        space = False
        for index, char in enumerate(text):
            folded = unicodedata.normalize("NFKC", char).translate(_FOLD).lower()
            if folded.isspace():
                if not space:
                    chars.append(" ")
                    origin.append(index)
                space = True
                continue
            space = False
            for piece in folded:
                chars.append(piece)
                origin.append(index)
        self.text = "".join(chars)
        self.origin = origin

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original offsets of the folded span ``start:end``."""
        return self.origin[start], self.origin[end - 1] + 1


class Corpus:
    """The documents quotes are checked against, with their sentences for anchors."""

    def __init__(self, documents: Sequence[Document]) -> None:
        self.documents = {d.doc_id: d for d in documents}
        self.sentences = {d.doc_id: document_sentences(d) for d in documents}
        self._starts = {doc_id: [s.start for s in ss] for doc_id, ss in self.sentences.items()}
        self._folded = {d.doc_id: _Folded(d.text) for d in documents}
        self._titles = {d.title.lower(): d.doc_id for d in documents}

    @classmethod
    def load(cls, folder: Path) -> Corpus:
        return cls(load_corpus(folder))

    @classmethod
    def of_texts(cls, texts: dict[str, str]) -> Corpus:
        """A corpus of ``{doc_id: text}``, for tests that hold texts rather than files."""
        return cls([Document(i, i, t, "", i) for i, t in texts.items()])

    def resolve(self, hint: str | None) -> str | None:
        """The doc_id a document hint names: a doc_id, a title or a file name."""
        if not hint:
            return None
        if hint in self.documents:
            return hint
        return self._titles.get(hint.strip().lower()) or (
            doc_id_for(Path(hint)) if doc_id_for(Path(hint)) in self.documents else None
        )

    def folded(self, doc_id: str) -> _Folded:
        return self._folded[doc_id]

    def sentence_at(self, doc_id: str, offset: int) -> Sentence | None:
        sentences = self.sentences[doc_id]
        position = bisect_right(self._starts[doc_id], offset) - 1
        return sentences[position] if position >= 0 else (sentences[0] if sentences else None)

    def sentences_in(self, doc_id: str, start: int, end: int) -> list[Sentence]:
        """The sentences that overlap ``start:end``."""
        return [s for s in self.sentences[doc_id] if s.start < end and start < s.end]

    def all_sentences(self) -> list[Sentence]:
        return [s for ss in self.sentences.values() for s in ss]


class Aligner:
    """Aligns source texts with one corpus; see the module's docstring for the order of tries."""

    def __init__(self, corpus: Corpus, min_fuzzy: float = MIN_FUZZY) -> None:
        self.corpus = corpus
        self.min_fuzzy = min_fuzzy

    def align(self, source: Source) -> Alignment:
        wanted = source.text.strip()
        if not wanted:
            return Alignment("not_found", 0.0)
        order = self._documents(self.corpus.resolve(source.doc))
        claimed = (source.start, source.end) if source.start is not None and source.end is not None else None
        for doc_id in order:
            found = self._exact(doc_id, wanted, claimed)
            if found is not None:
                return found
        folded = normalize(wanted)
        for doc_id in order:
            at = self._folded_find(doc_id, folded)
            if at is not None:
                return self._located("normalized", 100.0, doc_id, *at, claimed)
        return self._fuzzy(order, folded, claimed)

    def _documents(self, hinted: str | None) -> list[str]:
        others = [d for d in self.corpus.documents if d != hinted]
        return [hinted, *others] if hinted else others

    def _exact(self, doc_id: str, wanted: str, claimed: tuple[int, int] | None) -> Alignment | None:
        text = self.corpus.documents[doc_id].text
        hits: list[int] = []
        at = text.find(wanted)
        while at >= 0 and len(hits) < 50:
            hits.append(at)
            at = text.find(wanted, at + 1)
        if not hits:
            return None
        best = min(hits, key=lambda h: abs(h - claimed[0])) if claimed else hits[0]
        return self._located("exact", 100.0, doc_id, best, best + len(wanted), claimed)

    def _folded_find(self, doc_id: str, folded: str) -> tuple[int, int] | None:
        document = self.corpus.folded(doc_id)
        at = document.text.find(folded)
        return document.span(at, at + len(folded)) if at >= 0 else None

    def _fuzzy(self, order: list[str], folded: str, claimed: tuple[int, int] | None) -> Alignment:
        best: tuple[float, str, int, int] = (0.0, "", 0, 0)
        for doc_id in order:
            match = fuzz.partial_ratio_alignment(folded, self.corpus.folded(doc_id).text)
            if match is not None and match.score > best[0]:
                best = (match.score, doc_id, match.dest_start, match.dest_end)
        score, doc_id, start, end = best
        if score < self.min_fuzzy or len(folded) < _MIN_FUZZY_CHARS or end <= start:
            return Alignment("not_found", round(score, 1))
        start, end = self._best_window(folded, self.corpus.folded(doc_id).text, start, end)
        return self._located(
            "fuzzy", round(score, 1), doc_id, *self.corpus.folded(doc_id).span(start, end), claimed
        )

    def _holds(self, doc_id: str, claimed: tuple[int, int], start: int, end: int, *, exact: bool) -> bool:
        """Whether claimed offsets point at the located text: exactly (whitespace around it aside)
        for an exact quote; mostly (80% of the two spans together) for a normalized or fuzzy one."""
        text = self.corpus.documents[doc_id].text
        low, high = claimed
        while low < high and low < len(text) and text[low].isspace():
            low += 1
        while high > low and high <= len(text) and text[high - 1].isspace():
            high -= 1
        if exact:
            return (low, high) == (start, end)
        overlap = min(high, end) - max(low, start)
        return overlap > 0 and overlap / (max(high, end) - min(low, start)) >= 0.8

    def _best_window(self, wanted: str, text: str, start: int, end: int) -> tuple[int, int]:
        """The span of whole words near the partial match that matches ``wanted`` best as a whole.

        The partial match has the quote's length, so it may begin or end a few words off
        (taking in the end of the sentence before); each nearby word boundary is tried.
        """
        reach = max(12, len(wanted) // 5)
        starts = [
            i for i in range(max(0, start - reach), min(len(text), start + reach)) if _word_start(text, i)
        ]
        ends = [i for i in range(max(0, end - reach), min(len(text), end + reach) + 1) if _word_end(text, i)]
        best = (fuzz.ratio(wanted, text[start:end]), start, end)
        for low in starts or [start]:
            for high in ends or [end]:
                if high > low:
                    best = max(best, (fuzz.ratio(wanted, text[low:high]), low, high))
        return best[1], best[2]

    def _located(
        self, status: Status, score: float, doc_id: str, start: int, end: int, claimed: tuple[int, int] | None
    ) -> Alignment:
        sentence = self.corpus.sentence_at(doc_id, start)
        offsets: Offsets = "none"
        if claimed is not None:
            offsets = (
                "match" if self._holds(doc_id, claimed, start, end, exact=status == "exact") else "wrong"
            )
        return Alignment(
            status,
            score,
            doc_id,
            start,
            end,
            sentence.anchor if sentence else None,
            self.corpus.documents[doc_id].text[start:end],
            offsets,
        )


def _word_start(text: str, index: int) -> bool:
    return not text[index].isspace() and (index == 0 or text[index - 1].isspace())


def _word_end(text: str, index: int) -> bool:
    return index > 0 and not text[index - 1].isspace() and (index == len(text) or text[index].isspace())
