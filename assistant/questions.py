"""What a question asks for: its intent, the kind of answer it expects, and any stance it presupposes.

These cues let the model-free answerer refuse what the text cannot answer (a
date it never gives, a request that is not a question about the text) and
correct a question that assumes the author holds a view they reject. Intent reads
the whole question, not its first word: "What are you allowed to..." is a question
about the text, "What are you?" a request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from .lexical import content_words, names, numbers, stems
from .profile import Stance

Intent = Literal["question", "summary", "request", "greeting"]
Expects = Literal["date", "number", "name"] | None

_REQUEST = re.compile(
    r"^\s*(please\s+)?(tell\s+me\s+a|write|compose|draft|generate|create|translate|sing|draw|"
    r"pretend|act\s+as|role-?play|ignore|forget|disregard|repeat\s+after|reveal|show\s+me\s+your|"
    r"give\s+me\s+(a\s+)?(joke|poem|recipe|code)|what('s|\s+is)\s+the\s+weather|"
    r"what\s+model\s+are\s+you)\b|^\s*(who|what)\s+are\s+you\s*[?.!]*\s*$"
    r"|^\s*system\s*:|</?[a-z]+>|\byou\s+are\s+now\b|\bnew\s+instructions\b"
    # Advice, plans and the time of day are asked of the assistant, not of the text.
    r"|^\s*((can|could|would|will)\s+you\s+)?(please\s+)?(recommend|suggest|plan|book|order)\b"
    r"|\bwhat\s+time\s+is\s+it\b|\bshould\s+i\s+(buy|read|watch|visit|choose|get|try)\b"
    r"|\b(a\s+(joke|poem|limerick|haiku|song|recipe)|system\s+prompt|your\s+instructions|"
    r"into\s+(french|spanish|german|italian|chinese|japanese|arabic|russian))\b",
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
# "Does the author think ... how much ...?": a yes/no question asks for no date, name or number.
_YES_NO = re.compile(
    r"^\s*(and\s+)?(do|does|did|is|are|was|were|can|could|should|would|will|has|have|had)\b", re.IGNORECASE
)
_EXPECTS: list[tuple[re.Pattern[str], Expects]] = [
    (
        # "When did...", not "When the war ended, what...": a time is asked when an auxiliary follows.
        re.compile(
            r"^\s*(and\s+)?(since\s+)?when\s+(did|does|do|was|were|is|are|will|would|had|has|have|could|can)\b"
            r"|\b(what|which|in\s+what)\s+(year|date|month|decade|century|day)\b|\bhow\s+long\s+ago\b",
            re.I,
        ),
        "date",
    ),
    (
        re.compile(
            r"^\s*(and\s+)?(who|whom|whose)\s+(?!(should|would|could|can|must|may|might)\b)"
            r"|\b(what|which)\s+(is|was|were|are)\s+(the\s+|their\s+|his\s+|her\s+|its\s+)?names?\b",
            re.I,
        ),
        "name",
    ),
    (
        re.compile(
            r"\bhow\s+(many|much|long|old)\b|\b(what|which)\s+(number|percentage|amount|share)\b", re.I
        ),
        "number",
    ),
]
_AUXILIARY = r"(?:is|was|were|are|did|does|do|has|have|had|will|would|can|could|should|must|may|might|shall)"
_WORD = r"[\w'’-]+"
# "How many steps lead up to ...": the words between "how many" and the verb.
_COUNTED = re.compile(
    rf"\bhow\s+(?:many|much)\s+(?P<what>(?:(?!{_AUXILIARY}\b){_WORD}\s+){{1,5}})", re.IGNORECASE
)
# What a "what/which" question names as the thing it wants: "which county is...", "what's the
# price of...". The words must stop at an auxiliary ("what tool does") so that a verb ("what made
# Holmes...") or a clause ("what he said was...") is never read as the thing asked for. "What kind
# of X" is not read: its answer names a kind of X, seldom X.
_OPENING = r"^\s*(?:and\s+)?(?:(?:in|at|on|from|for|to|by|with|of)\s+)?(?:what|which)"
_PRONOUN = r"(?:i|you|he|she|it|we|they|this|that|these|those|there)"
_FOCUS = [
    re.compile(
        _OPENING + rf"(?:\s+{_AUXILIARY}|['’]s)\s+(?:the|a|an)\s+(?P<focus>{_WORD})\s+of\b", re.IGNORECASE
    ),
    re.compile(
        _OPENING + rf"\s+(?!(?:{_AUXILIARY}|{_PRONOUN}|exactly|else|then)\b)"
        rf"(?P<focus>{_WORD}(?:\s+(?!{_AUXILIARY}\b){_WORD})?)\s+{_AUXILIARY}\b",
        re.IGNORECASE,
    ),
]
# Nouns for what a text does (argues, explains, gives as an example or a result) rather than for a
# thing in it: the answer to "what is the meaning of..." or "what evidence..." gives it without
# the word. "One(s)" stands for a thing named in an earlier question.
_DISCOURSE = re.compile(
    r"\b(ways?|meanings?|definitions?|purposes?|aims?|goals?|functions?|roles?|reasons?|causes?|"
    r"arguments?|evidence|points?|effects?|results?|outcomes?|consequences?|impacts?|significance|"
    r"nature|parts?|ideas?|views?|opinions?|positions?|attitudes?|verdicts?|judg(e)?ments?|"
    r"responses?|answers?|explanations?|solutions?|lessons?|messages?|themes?|aspects?|differences?|"
    r"objections?|conclusions?|problems?|examples?|kinds?|sorts?|types?|things?|ones?)\b",
    re.IGNORECASE,
)
# A name or a title is named by a word that gives one ("was called Rex"), not only by "name".
_NAMING = re.compile(r"\b(called|named|known\s+as|entitled|titled)\b", re.IGNORECASE)
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
# How, why, and what someone thinks: the answer is a verdict and the reasons that follow it.
_REASONS = re.compile(
    r"^\s*(and\s+)?(why|how\s+come|how\s+(does|do|did|is|was|would|should|could|can))\b|"
    r"\b(think|thinks|view|views|opinion|judge|judges|judged|assess|assesses|evaluate|evaluates|approve|"
    r"approves|criticis\w*|criticiz\w*|attitude|feel|feels|reason|reasons|explain|explains)\b",
    re.IGNORECASE,
)
_NOT_WORKING = re.compile(r"\b(did|does|do|is|was)\s+not\s+(work|succeed|help)", re.IGNORECASE)
VADER_NEUTRAL = 0.3  # compound scores nearer zero than this read as no clear verdict
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
    counted: tuple[str, ...] = ()  # stems of what "how many/much ..." counts: "how many steps" -> step
    asks_reasons: bool = False  # how/why/what-does-X-think: quote the reasons after the verdict
    focus: str = ""  # what "what/which X ..." names as the thing it wants: "which county is" -> "county"


def analyse(question: str) -> QuestionInfo:
    return QuestionInfo(
        text=question,
        intent=_intent(question),
        expects=None
        if _YES_NO.match(question)
        else next((k for p, k in _EXPECTS if p.search(question)), None),
        stance=_stance(question),
        key_words=tuple(dict.fromkeys(content_words(question, drop_frame=True))),
        names=tuple(sorted(names(question))),
        counted=_counted(question),
        asks_reasons=bool(_REASONS.search(question)),
        focus=_focus(question),
    )


def _counted(question: str) -> tuple[str, ...]:
    match = _COUNTED.search(question)
    return tuple(dict.fromkeys(stems(match.group("what")))) if match else ()


def _focus(question: str) -> str:
    match = next((m for m in (p.search(question) for p in _FOCUS) if m), None)
    focus = match.group("focus") if match else ""
    # A noun for what the text does, or "one(s)" for a thing named in an earlier question: nothing
    # that the quotes should name.
    return "" if _DISCOURSE.search(focus) else focus


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
    """Whether ``text`` gives what the question asks for, beyond what the question already says:
    a date, a name, or a number (of the very thing it counts)."""
    if not info.expects or not (_expected(info.expects, text) - _expected(info.expects, info.text)):
        return not info.expects
    return not info.counted or bool(set(info.counted) & set(stems(text)))


def gives_focus(info: QuestionInfo, text: str) -> bool:
    """Whether ``text`` names what a "what/which X" question asks for (True when it asks for
    nothing named): X itself, a date for "what year", a name or title for "what is the name/title
    of" when the text says what something is called. A capitalised word is not taken for a name
    (any would read as one), nor any number for "what price" (a passage on the topic gives some
    number more often than not)."""
    wanted = set(stems(info.focus))
    if not wanted or wanted & set(stems(text)):
        return True
    if info.focus.lower() in ("name", "names", "title", "titles"):
        return bool(_NAMING.search(text))
    return info.expects == "date" and gives_expected(info, text)


def _expected(expects: Expects, text: str) -> set[str]:
    """The dates or numbers in ``text``, normalised."""
    if expects == "date":
        return {m.group(0).lower() for m in _DATE.finditer(text)}
    if expects == "number":
        return numbers(text)
    if expects == "name":
        return names(text)
    return set()


def stance_of(text: str, lexicon: Stance | None = None) -> int:
    """+1 when the text mainly approves, -1 when it mainly disapproves, 0 when unclear.

    With a collection's own stance lexicon (its profile), its words decide; otherwise
    VADER's general lexicon, whose compound score must be clearly past neutral.
    """
    if lexicon is not None:
        tokens = [w.lower() for w in re.findall(r"[A-Za-z-]+", text)]
        positive, negative = set(map(str.lower, lexicon.positive)), set(map(str.lower, lexicon.negative))
        score = sum(t in positive for t in tokens) - sum(t in negative for t in tokens)
    else:
        score = _vader().polarity_scores(text)["compound"]
        score = 0 if abs(score) < VADER_NEUTRAL else score
    if _NOT_WORKING.search(text):
        score = min(score, -1)
    return (score > 0) - (score < 0)


@lru_cache(maxsize=1)
def _vader() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()
