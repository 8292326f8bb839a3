"""Example questions for a collection whose profile gives none, made from its own text.

The empty chat offers them, the server asks the first one to warm up, and a refusal suggests
two. They come first from the documents' headings, as a reader would scan a table of contents,
and then, for a text with few headings (a play, a speech), from the names it uses most. Nothing
here knows any one reading's subject.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Collection, Iterator, Sequence

from .lexical import STOP_WORDS
from .profile import does
from .sentences import split_sentences

MAX_EXAMPLES = 4
# A heading's leading number: "I. ", "IV) ", "2.1 " (a Roman numeral only with its stop, so
# "I Have a Dream" keeps its first word, and not before another initial: "C. S. Lewis").
_NUMBERING = re.compile(r"^(?:[IVXLC]+[.)]\s+(?![A-Z]\.)|\d+(?:\.\d+)*[.)]?\s+)")
# "A. ", "B) ": a letter that numbers headings, read as one only where two or more headings carry
# one, and not before another initial ("J. Edgar Hoover", "C. S. Lewis" keep theirs).
_LETTER = re.compile(r"^[A-Z][.)]\s+(?![A-Z]\.)")
# The parts a document is divided into, and what numbers them: "Chapter III.", "Section. 2.",
# "First Act", "Scene". A heading made of these alone names a place in the document, no topic.
_PART = (
    r"(?:chapter|part|book|volume|section|sec|article|act|scene|canto|stave|letter|lecture|lesson|"
    r"appendix|annex|exhibit|prologue|epilogue|introduction|conclusion|contents|preface|foreword|"
    r"notes|references|bibliography|index|abstract)"
)
_ROMAN = r"(?=[ivxlcdm]+\b)m{0,3}(?:cm|cd|d?c{0,3})(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})"
_ORDINAL = (
    rf"(?:{_ROMAN}|\d+(?:\.\d+)*|[a-z]|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|"
    r"tenth|one|two|three|four|five|six|seven|eight|nine|ten)\b"
)
# The label must end at its stop: "Chapter 5.1 Sorting" is a numbered heading, not "Chapter 5.".
_PART_LABEL = re.compile(
    rf"^(?:{_ORDINAL}\s+)?{_PART}\.?(?:\s+{_ORDINAL})?(?:[.:)](?=\s|$)|\s+[–—-](?=\s))\s*", re.IGNORECASE
)
_PARTS_ONLY = re.compile(rf"^(?:(?:{_PART}|{_ORDINAL})\b[\s.,:;)–—-]*)+$", re.IGNORECASE)
_SMALL_WORDS = frozenset("a an and as at but by for from in into nor of on or the to with".split())
# A name: two to four capitalised words, "of (the)" allowed between ("House of Representatives"),
# or one or more after a title ("Mr. Darcy", "St. John's Wood"); a Roman numeral may follow
# ("World War II"), but not the pronoun I ("after the Civil War I went west").
_NAME_WORD = r"[A-Z][a-z][\w’'-]*"
_NAME = re.compile(
    rf"(?<![\w’'-])(?:(?:Mr|Mrs|Ms|Dr|St|Mt)\.\s+{_NAME_WORD}(?:\s+{_NAME_WORD}){{0,2}}|"
    rf"{_NAME_WORD}(?:\s+(?:of\s+(?:the\s+)?)?{_NAME_WORD}){{1,3}})(?:\s+(?:[IVX]{{2,}}|I(?!\s+[a-z]))\b)?"
)
# A speaker's or a questioner's label before a line: "ALGERNON: ...", "Q: ...".
_LINE_LABEL = re.compile(r"^\W*[A-Z][\w .'’-]{0,30}:\s*")


def about(topic: str, reading: str) -> str:
    """The example question for a topic: "What does the text say about “Arms control”?"."""
    return f"What {does(reading)} {reading} say about “{topic}”?"


def heading_examples(headings: Sequence[str], reading: str, titles: Collection[str] = ()) -> list[str]:
    """Example questions from the documents' own headings. A heading that is a document's title
    (``titles``) names the document; it is no topic to ask about."""
    lettered = sum(bool(_LETTER.match(h.strip(" #\t"))) for h in headings) >= 2
    examples, seen = [], set()
    for heading in (_topic(h, lettered) for h in headings):
        # A table of contents repeats a heading, sometimes as "Practice & Research".
        key = " ".join(re.findall(r"\w+", heading.replace("&", "and").lower()))
        if key in seen or heading in titles or not re.search(r"[^\W\d_]{3}", heading):
            continue  # asked already, a title, or numbering alone ("I.", "2.1"): no new topic
        seen.add(key)
        if _PARTS_ONLY.match(heading):
            continue  # a part of the document ("Act II, Scene 1")
        words = heading.split()
        if 1 <= len(words) <= 8 and not re.search(r"\d{3,}|[|:;]", heading):
            examples.append(about(heading, reading))
    return examples[:MAX_EXAMPLES]


def name_examples(texts: Sequence[str], reading: str, titles: Collection[str] = ()) -> list[str]:
    """Example questions from the names the texts use at least twice, most used first, none that a
    document's title holds or that names a part of it ("Section Two")."""
    names = [
        name
        for name in frequent_names(texts)
        if not any(name in title for title in titles) and not _PARTS_ONLY.match(name)
    ]
    return [about(name, reading) for name in names[:MAX_EXAMPLES]]


def frequent_names(texts: Sequence[str]) -> list[str]:
    """The names used at least twice, most used first."""
    counts: Counter[str] = Counter()
    for text in texts:
        for line in text.splitlines():
            if not line.lstrip().startswith("#"):  # a heading is no use of a name
                counts.update(name for sentence in split_sentences(line) for name in _names_in(sentence))
    return [name for name, count in counts.most_common() if count >= 2]


def _names_in(sentence: str) -> Iterator[str]:
    """The names in a sentence. Its first word is capitalised whatever it is, so where nothing
    comes before a match (or only a speaker's label, a dash or a bullet) the name can only start
    at its second word: "Only Doctor Brandt knows" -> "Doctor Brandt", "Lady Bracknell." -> none."""
    for match in _NAME.finditer(sentence):
        name = match.group(0)
        if not re.search(r"[^\W\d_]", _LINE_LABEL.sub("", sentence[: match.start()])):
            rest = _NAME.fullmatch(name.split(maxsplit=1)[1]) if " " in name else None
            if rest is None:
                continue
            name = rest.group(0)
        if name.split()[0].lower() not in STOP_WORDS:
            yield re.sub(r"['’]s$", "", name)


def _topic(heading: str, lettered: bool = False) -> str:
    """A heading without its markup, numbering and part labels, in title case when it is all
    capitals: "## I. A SCANDAL IN BOHEMIA" -> "A Scandal in Bohemia", "CHAPTER III. STRUGGLE FOR
    EXISTENCE." -> "Struggle for Existence", "ACT I. SCENE II. A room" -> "A room"."""
    heading = _NUMBERING.sub("", heading.strip(" #\t"))
    if lettered:
        heading = _LETTER.sub("", heading)
    while (stripped := _PART_LABEL.sub("", heading)) != heading:
        heading = stripped
    heading = heading.strip(" .—–-")
    return _title_case(heading) if heading.isupper() else heading


def _title_case(heading: str) -> str:
    """ "OF THE LIBERTY OF THOUGHT" -> "Of the Liberty of Thought": small words stay small but
    for the first and the last, and a Roman numeral stays in capitals ("World War II")."""
    words = string.capwords(heading).split(" ")
    last = len(words) - 1
    cased: list[str] = []
    for i, word in enumerate(words):
        if (re.fullmatch(_ROMAN, word.lower()) and len(word) > 1) or re.fullmatch(r"(?:[A-Za-z]\.)+", word):
            word = word.upper()  # "II", "U.S."
        elif 0 < i < last and word.lower() in _SMALL_WORDS and not cased[-1].endswith(("—", "–", "-", ":")):
            word = word.lower()
        cased.append(word)
    return " ".join(cased)
