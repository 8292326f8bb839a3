"""A collection's profile: what it needs beyond its text, kept as data beside the text.

The answerer knows nothing about any one reading's subject. What a collection may add
lives in ``profile.yaml`` in its corpus folder (every key optional)::

    called: the report               # how answers and notices name the reading
    examples:                        # shown on the empty chat
      - What does the report recommend?
    warm_up: What does the report recommend?   # asked once when the server starts
    aliases:                         # a name readers use -> the name the text uses
      NYC: New York
    stance:                          # words that carry a verdict in this text's genre
      positive: [sound, welcome]
      negative: [flawed, mistaken]

With no profile the behaviour is general: the reading is "the text" (one document) or
"the readings" (several), example questions come from the documents' headings and the
names they use most, and stance is read with VADER's general lexicon.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Collection, Sequence
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import CorpusError
from .lexical import STOP_WORDS
from .sentences import split_sentences

PROFILE_FILE = "profile.yaml"
MAX_EXAMPLES = 4
# A heading's leading number: "I. ", "IV) ", "2.1 " (a Roman numeral only with its stop, so
# "I Have a Dream" keeps its first word).
_NUMBERING = re.compile(r"^(?:[IVXLC]+[.)]|\d+(?:\.\d+)*[.)]?|[A-Z][.)])\s+")
# The parts a document is divided into, and what numbers them: "Chapter III.", "Section. 2.",
# "First Act", "Scene". A heading made of these alone names a place in the document, no topic.
_PART = (
    r"(?:chapter|part|book|volume|section|article|act|scene|canto|appendix|prologue|epilogue|"
    r"introduction|conclusion|contents|preface|foreword|notes|references|bibliography|index|abstract)"
)
_ORDINAL = (
    r"(?:[ivxlc]+|\d+|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|one|two|three|"
    r"four|five|six|seven|eight|nine|ten)"
)
_PART_LABEL = re.compile(rf"^(?:{_ORDINAL}\s+)?{_PART}\.?(?:\s+{_ORDINAL})?[.:)]\s*", re.IGNORECASE)
_PARTS_ONLY = re.compile(rf"^(?:(?:{_PART}|{_ORDINAL})\b[\s.,:;)–—-]*)+$", re.IGNORECASE)
_SMALL_WORDS = frozenset("a an and as at but by for from in into nor of on or the to with".split())
# A name of two to four capitalised words, "of (the)" allowed between and a Roman numeral after:
# "House of Representatives", "World War II".
_NAME_WORD = r"[A-Z][a-z][\w’'-]*"
_NAME = re.compile(
    rf"(?<![\w’'-]){_NAME_WORD}(?:\s+(?:of\s+(?:the\s+)?)?{_NAME_WORD}){{1,3}}(?:\s+[IVX]+\b)?"
)


class Stance(BaseModel):
    model_config = ConfigDict(extra="forbid")
    positive: list[str] = []
    negative: list[str] = []


class Profile(BaseModel):
    """What a collection adds to its text; see the module's docstring."""

    model_config = ConfigDict(extra="forbid")
    called: str | None = Field(default=None, min_length=3, max_length=80)
    examples: list[str] = Field(default=[], max_length=12)
    warm_up: str | None = Field(default=None, max_length=500)
    aliases: dict[str, str] = {}
    stance: Stance | None = None

    @field_validator("aliases")
    @classmethod
    def _lower_aliases(cls, value: dict[str, str]) -> dict[str, str]:
        return {k.strip().lower(): v.strip().lower() for k, v in value.items() if k.strip() and v.strip()}

    def reading(self, documents: int) -> str:
        """How answers name the reading: "the essay", "the text" or "the readings"."""
        if self.called:
            return self.called
        return "the text" if documents <= 1 else "the readings"


def load_profile(folder: Path) -> Profile:
    """The profile in ``folder``; an empty one when there is none. A bad file names its problem."""
    path = folder / PROFILE_FILE
    if not path.is_file():
        return Profile()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CorpusError(f"{path}: cannot read the profile ({exc}).") from None
    if not isinstance(data, dict):
        raise CorpusError(f"{path}: a profile is a mapping of called/examples/warm_up/aliases/stance.")
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"]) or "profile"
        raise CorpusError(f"{path}: {where}: {problem['msg']}.") from None


def does(reading: str) -> str:
    """The verb that agrees with the reading's name: "the text does", "the readings do"."""
    return "do" if reading.endswith("s") and not reading.endswith("ss") else "does"


def heading_examples(headings: Sequence[str], reading: str, titles: Collection[str] = ()) -> list[str]:
    """Example questions from the documents' own headings, when a profile gives none. A heading
    that is a document's title (``titles``) names the document; it is no topic to ask about."""
    examples = []
    for heading in dict.fromkeys(_topic(h) for h in headings):
        if heading in titles or not re.search(r"[^\W\d_]{3}", heading) or _PARTS_ONLY.match(heading):
            continue  # a title, numbering alone ("I.", "2.1") or a part ("Act II, Scene 1"): no topic
        words = heading.split()
        if 1 <= len(words) <= 8 and not re.search(r"\d{3,}|[|:;]", heading):
            examples.append(f"What {does(reading)} {reading} say about “{heading}”?")
    return examples[:MAX_EXAMPLES]


def name_examples(texts: Sequence[str], reading: str, titles: Collection[str] = ()) -> list[str]:
    """Example questions from the names a text uses most, for a text whose headings give too few
    (a play, a speech): names of two to four capitalised words ("Lady Bracknell", "House of
    Representatives") used at least twice, none a document's title holds."""
    names = [n for n in _frequent_names(tuple(texts)) if not any(n in title for title in titles)]
    return [f"What {does(reading)} {reading} say about “{name}”?" for name in names[:MAX_EXAMPLES]]


@lru_cache(maxsize=8)  # asked on every page load; the texts change only with the collection
def _frequent_names(texts: tuple[str, ...]) -> tuple[str, ...]:
    """The names used at least twice, most used first. A sentence's first word is capitalised
    whatever it is, so a name that opens a sentence (a speaker's label in a play) is not counted
    there."""
    counts: Counter[str] = Counter()
    for text in texts:
        for line in text.splitlines():
            if line.lstrip().startswith("#"):
                continue  # a heading
            for sentence in split_sentences(line):
                for match in _NAME.finditer(sentence):
                    name = re.sub(r"['’]s$", "", match.group(0))
                    opens = not sentence[: match.start()].strip(" “\"‘'([*_")
                    if not opens and name.split()[0].lower() not in STOP_WORDS:
                        counts[name] += 1
    return tuple(name for name, count in counts.most_common() if count >= 2)


def _topic(heading: str) -> str:
    """A heading without its markup, numbering and part label, in title case when it is all
    capitals: "## I. A SCANDAL IN BOHEMIA" -> "A Scandal in Bohemia", "CHAPTER III. STRUGGLE FOR
    EXISTENCE." -> "Struggle for Existence"."""
    heading = _PART_LABEL.sub("", _NUMBERING.sub("", heading.strip(" #\t"))).rstrip(" .")
    return _title_case(heading) if heading.isupper() else heading


def _title_case(heading: str) -> str:
    """ "OF THE LIBERTY OF THOUGHT" -> "Of the Liberty of Thought": small words stay small."""
    words = string.capwords(heading).split(" ")
    return " ".join([words[0]] + [w.lower() if w.lower() in _SMALL_WORDS else w for w in words[1:]])
