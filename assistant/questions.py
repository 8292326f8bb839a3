"""What a question asks for: its intent, the kind of answer it expects, and any stance it presupposes.

These cues let the model-free answerer refuse what the essay cannot answer (a
date it never gives, a request that is not a question about the text) and
correct a question that assumes the author holds a view they reject.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from .lexical import NUMBER_WORDS, content_words, names, numbers, stems

Intent = Literal["question", "summary", "request", "greeting"]
Expects = Literal["date", "number"] | None

_REQUEST = re.compile(
    r"^\s*(please\s+)?(tell\s+me\s+a|write|compose|draft|generate|create|translate|sing|draw|"
    r"pretend|act\s+as|role-?play|ignore|forget|disregard|repeat\s+after|print|reveal|show\s+me\s+your|"
    r"give\s+me\s+(a\s+)?(joke|poem|recipe|code)|code|what('s|\s+is)\s+the\s+weather|"
    r"who\s+are\s+you|what\s+are\s+you|what\s+model)\b"
    r"|\b(joke|poem|limerick|haiku|song|recipe|system\s+prompt|your\s+instructions|"
    r"into\s+(french|spanish|german|italian|chinese|japanese|arabic|russian)|python|javascript)\b",
    re.IGNORECASE,
)
_SUMMARY = re.compile(
    r"\b(summari[sz]e|summary|sum\s+up|overview|gist|tl;?dr|main\s+(argument|point|idea|claim|thesis)|"
    r"central\s+(argument|claim|thesis)|thesis|what\s+is\s+(the|this)\s+(essay|article|text)\s+about)\b",
    re.IGNORECASE,
)
_GREETING = re.compile(
    r"^\s*(hi|hello|hey|thanks|thank\s+you|good\s+(morning|afternoon|evening)|cheers)\b[\s!.,]*(there)?[\s!.]*$",
    re.IGNORECASE,
)
_EXPECTS: list[tuple[re.Pattern[str], Expects]] = [
    (
        re.compile(
            r"^\s*(and\s+)?when\b|\b(what|which|in\s+what)\s+(year|date|month|decade|century)\b", re.I
        ),
        "date",
    ),
    (
        re.compile(
            r"\bhow\s+(many|much|long|old)\b|\b(what|which)\s+(number|percentage|amount|share)\b", re.I
        ),
        "number",
    ),
]
# "How many deployed warheads does ...": the words between "how many" and the verb.
_COUNTED = re.compile(
    r"\bhow\s+(?:many|much)\s+(?P<what>(?:(?!(?:did|does|do|is|are|was|were|has|have|had|will|would|can|could)\b)"
    r"[\w'’-]+\s+){1,5})",
    re.IGNORECASE,
)
_DATE = re.compile(
    r"\b(1[5-9]\d\d|20\d\d)s?\b|\b(january|february|march|april|may|june|july|august|september|october|"
    r"november|december)\b|\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten)\s+(years?|decades?|months?)\b|"
    r"\b(nowadays|today|at\s+present)\b",
    re.IGNORECASE,
)
_POSITIVE_ASK = re.compile(
    r"\b(praise[sd]?|support(s|ed)?|favou?r(s|ed)?|endorse[sd]?|approve[sd]?|admire[sd]?|like[sd]?|"
    r"celebrate[sd]?|champion(s|ed)?|advocate[sd]?|recommend(s|ed)?|welcome[sd]?|applaud(s|ed)?|"
    r"success(ful)?|effective|right|justified|good|best|wise)\b",
    re.IGNORECASE,
)
_NEGATIVE_ASK = re.compile(
    r"\b(criticis|criticiz|condemn|oppose|reject|dislike|attack|disapprove|blame|failure|failed|fail|"
    r"mistake|disaster|wrong|bad|misguided|counter-?productive|ineffective|weak|harmful)\w*",
    re.IGNORECASE,
)
_PRESUPPOSING = re.compile(r"^\s*(and\s+)?(why|how\s+come|for\s+what\s+reason|what\s+makes)\b", re.IGNORECASE)


@dataclass(frozen=True)
class QuestionInfo:
    """The cues read off one (standalone) question."""

    text: str
    intent: Intent
    expects: Expects
    stance: int  # +1: presupposes the author approves of something; -1: disapproves; 0: neither
    key_words: tuple[str, ...]  # content words that say what the question is about
    names: tuple[str, ...]  # capitalised words after the first: places, people, organisations
    counted: tuple[str, ...] = ()  # stems of what "how many/much ..." counts: "how many troops" -> troop


def analyse(question: str) -> QuestionInfo:
    return QuestionInfo(
        text=question,
        intent=_intent(question),
        expects=next((kind for pattern, kind in _EXPECTS if pattern.search(question)), None),
        stance=_stance(question),
        key_words=tuple(dict.fromkeys(content_words(question, drop_frame=True))),
        names=tuple(sorted(names(question))),
        counted=_counted(question),
    )


def _counted(question: str) -> tuple[str, ...]:
    match = _COUNTED.search(question)
    return tuple(dict.fromkeys(stems(match.group("what")))) if match else ()


def _intent(question: str) -> Intent:
    if _GREETING.match(question):
        return "greeting"
    if _REQUEST.search(question):
        return "request"
    if _SUMMARY.search(question):
        return "summary"
    return "question"


def _stance(question: str) -> int:
    if not _PRESUPPOSING.search(question):
        return 0
    positive = bool(_POSITIVE_ASK.search(question))
    negative = bool(_NEGATIVE_ASK.search(question))
    return int(positive) - int(negative)


def gives_expected(info: QuestionInfo, text: str) -> bool:
    """Whether ``text`` gives what the question asks for: a number of the very thing it counts."""
    if not has_expected(info.expects, text):
        return False
    return not info.counted or bool(set(info.counted) & set(stems(text)))


def has_expected(expects: Expects, text: str) -> bool:
    """Whether ``text`` contains the kind of thing the question asks for."""
    if expects == "date":
        return bool(_DATE.search(text))
    if expects == "number":
        return bool(numbers(text)) or any(w.lower() in NUMBER_WORDS for w in re.findall(r"[A-Za-z]+", text))
    return True


# Words that carry an evaluative stance in argumentative prose. A small domain list,
# kept here rather than a general sentiment lexicon, because general lexicons score
# words like "force" or "war" negative although in this genre they are neutral topics.
NEGATIVE_WORDS = frozenset(
    """contrary failed fail fails failing failure tragedy misguided unthinkable catastrophic
    misleading uncomfortable odd contradictory corrupt undermined counter-productive
    counterproductive escalatory provocative grievances old-fashioned harm wrong mistake
    difficult impossible destructive failing unrealistic""".split()
)
POSITIVE_WORDS = frozenset(
    """exemplary careful genuine legitimate realistic alternative substance credible safe
    encouraged support largest peaceful inclusive""".split()
)


def stance_of(text: str) -> int:
    """+1 when the text mainly approves, -1 when it mainly disapproves, 0 when unclear."""
    tokens = [w.lower() for w in re.findall(r"[A-Za-z-]+", text)]
    score = sum(1 for t in tokens if t in POSITIVE_WORDS) - sum(1 for t in tokens if t in NEGATIVE_WORDS)
    if re.search(r"\b(did|does|do|is|was)\s+not\s+(work|succeed|help)", text, re.IGNORECASE):
        score -= 2
    return (score > 0) - (score < 0)
