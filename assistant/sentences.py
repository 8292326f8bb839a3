"""A rule-based sentence splitter that needs no data downloads.

It splits after ``.``, ``!``, ``?`` or ``…`` (plus any closing quotes or brackets)
when whitespace and a plausible sentence start follow, and not after known
abbreviations ("e.g.", "Mr."), initials ("George W. Bush") or dotted acronyms
("U.S. President"), unless the next word is a common sentence opener ("...in the
U.S. The next..."). Spans are returned, never altered text, so offsets stay exact.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# The character that opens the next sentence is captured: an upper-case letter of any
# script ("Ça", "Über") or a digit is checked in Python, as ``re`` has no class for it.
_BOUNDARY = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?(\w))")
_NEXT_WORD = re.compile(r"\s+[\"'“‘(\[]?([^\W\d_]+)")  # letters of any script
_DOTTED_ACRONYM = re.compile(r"^(?:[A-Za-z]\.)+[A-Za-z]$")
_QUESTION_END = re.compile(r"\?[\s\"”’')\]]*$")

ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof sr jr st mt gen col lt sgt capt gov sen rep pres rev hon e.g i.e cf vs
    al etc fig no nos vol pp p ch sec art ed eds approx ca est inc ltd co corp dept univ jan
    feb mar apr jun jul aug sep sept oct nov dec""".split()
)
# "etc." and a dotted acronym often end a sentence; split after them only when the
# next word is one that usually opens a sentence.
_AMBIGUOUS = frozenset({"etc"})
SENTENCE_OPENERS = frozenset(
    """the a an this that these those it its in on at for but and or yet so however moreover
    meanwhile there here we i he she they his her their our what when where why how while
    although though if as after before since during such many most some all no one yes""".split()
)


def _is_boundary(text: str, end_of_punct: int, punct_start: int) -> bool:
    """Decide whether the punctuation ending at ``end_of_punct`` closes a sentence."""
    if text[punct_start] != ".":
        return True
    begin = punct_start  # walk back to the previous space: a regex search from 0 would be quadratic
    while begin > 0 and not text[begin - 1].isspace():
        begin -= 1
    token = text[begin:punct_start].lstrip("\"'“‘([")
    next_match = _NEXT_WORD.match(text, end_of_punct)
    next_word = next_match.group(1).lower() if next_match else ""
    bare = token.lower()
    if bare in _AMBIGUOUS or _DOTTED_ACRONYM.match(token):
        return next_word in SENTENCE_OPENERS
    if bare in ABBREVIATIONS:
        return False
    # A single capital letter is an initial ("George W. Bush").
    return not (len(token) == 1 and token.isupper())


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> Iterator[tuple[int, int]]:
    """Yield (start, end) spans of the sentences in ``text[start:end]``, whitespace trimmed."""
    stop = len(text) if end is None else end
    cursor = start
    for match in _BOUNDARY.finditer(text, start, stop):
        opener = match.group(1)
        if (opener.isupper() or opener.isdecimal()) and _is_boundary(text, match.end(), match.start()):
            yield from _trimmed(text, cursor, match.end())
            cursor = match.end()
    yield from _trimmed(text, cursor, stop)


def _trimmed(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        yield start, end


def is_question(sentence: str) -> bool:
    """Whether the sentence asks, in quotation marks or brackets too: “And Irene Adler?”"""
    return bool(_QUESTION_END.search(sentence))


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text`` as strings (a convenience over :func:`sentence_spans`)."""
    return [text[s:e] for s, e in sentence_spans(text)]
