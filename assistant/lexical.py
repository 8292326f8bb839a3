"""Words, stems and stop words: the lexical side shared by BM25, support checks and question analysis."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from functools import lru_cache

import snowballstemmer

_WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?")
_PRONOUN_I = re.compile(r"I['’]")
_POSSESSIVE = ("'s", "’s")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[,.]\d+)*(?:s\b)?")

STOP_WORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is
    it its itself just let me more most my myself no nor not of off on once only or other our
    ours ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself
    yourselves s t don now ever upon may might must shall us per via yet whether within
    without""".split()
)
# Words that frame a question about the text rather than name what it is about.
FRAME_WORDS = frozenset(
    """author authors writer essay article text piece passage passages paragraph say says said
    saying tell tells think thinks thought mean means meant describe describes view views
    argue argues argued claim claims opinion according state states stated explain explains
    discuss discusses mention mentions mentioned suggest suggests believe believes position
    stance write wrote written talk talks regard regarding consider considers make makes one
    way something kind thing things please""".split()
)
NUMBER_WORDS = frozenset(
    """zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen
    fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty
    ninety hundred thousand million billion first second third fourth fifth sixth seventh eighth
    ninth tenth eleventh twelfth twentieth thirtieth hundredth last dozen""".split()
)

_stemmer = snowballstemmer.stemmer("english")


def words(text: str) -> list[str]:
    """Lower-cased word tokens, possessive endings dropped ("Anna’s" -> "anna")."""
    # A string test, not a regex per word: this runs for every word of the corpus at start-up.
    return [w[:-2] if w.endswith(_POSSESSIVE) else w for w in map(str.lower, _WORD.findall(text))]


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return str(_stemmer.stemWord(word))


def content_words(text: str, *, drop_frame: bool = False) -> list[str]:
    """Words that carry meaning: stop words (and, optionally, question-framing words) removed."""
    skip = STOP_WORDS | FRAME_WORDS if drop_frame else STOP_WORDS
    return [w for w in words(text) if w not in skip and len(w) > 1]


def stems(text: str, *, drop_frame: bool = False) -> list[str]:
    """Stems of the content words, in order, for BM25 and overlap scores."""
    return [stem(w) for w in content_words(text, drop_frame=drop_frame)]


def numbers(text: str) -> set[str]:
    """Numerals and number words in the text, normalised ("1,000" -> "1000", "1980s", "fourth")."""
    found = {n.replace(",", "") for n in _NUMBER.findall(text)}
    return found | {w for w in words(text) if w in NUMBER_WORDS}


def expand_aliases(text: str, aliases: Mapping[str, str]) -> str:
    """Name what an alias stands for beside it, from a collection's profile: "NYC" -> "NYC (New York)".

    Only capitalised occurrences count, so that an alias "us" for a country leaves the pronoun alone.
    """
    if not aliases:
        return text

    def add(match: re.Match[str]) -> str:
        word = match.group(0)
        target = aliases.get(word.lower())
        return f"{word} ({target.title()})" if target and word[0].isupper() else word

    return _WORD.sub(add, text)


def names(text: str) -> set[str]:
    """Capitalised words that are not the first word of a sentence: likely names."""
    found = set()
    # A parenthesis opens a sentence of its own too: a follow-up rewritten as
    # "Why ...? (According to X, ...)" does not make "According" a name.
    for sentence in re.split(r"(?<=[.!?])\s+|\(", text):
        tokens = _WORD.findall(sentence)
        for token in tokens[1:]:
            if _PRONOUN_I.match(token):
                continue  # "I'm", "I’ve": the pronoun, contracted
            if token[0].isupper() and len(token) > 1 and token.lower() not in STOP_WORDS:
                found.add(re.sub(r"['’]s$", "", token).lower())
    return found


class Variants:
    """Words of one root that stemming keeps apart: "Canada" and "Canadian", "Syria" and "Syrian",
    "French" and "Frenchman". Two stems are variants when they share their first five letters and
    differ after that by at most one letter of the shorter ("Johnson" and "Johnston" do not)."""

    PREFIX = 5

    def __init__(self, vocabulary: Iterable[str]) -> None:
        self._by_prefix: dict[str, list[str]] = defaultdict(list)
        for word in vocabulary:
            if len(word) >= self.PREFIX:
                self._by_prefix[word[: self.PREFIX]].append(word)

    def of(self, word: str) -> str | None:
        """The vocabulary's closest variant of ``word`` (itself, if the vocabulary has it), or None."""
        if len(word) < self.PREFIX:
            return None
        found = [
            (shared, -len(other), other)
            for other in self._by_prefix.get(word[: self.PREFIX], [])
            if (shared := _shared_prefix(word, other)) >= min(len(word), len(other)) - 1
        ]
        return max(found)[2] if found else None


def _shared_prefix(a: str, b: str) -> int:
    """How many letters ``a`` and ``b`` share from the start."""
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
