"""Rewriting a follow-up into a standalone question, using the conversation so far.

"What about the second one?" keeps the previous question's frame with the new topic;
a pronoun ("how would that change...") is replaced by the previous topic; "Why?" or
"Say more" repeat the previous question and ask for sentences not yet quoted. A
question about the text itself ("Who wrote this essay?") is never a follow-up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .lexical import content_words
from .models import Message

_MORE = re.compile(
    r"^\s*(and\s+)?(why(\s+is\s+that|\s+so|\s+not)?|how\s+so|say\s+more(\s+about\s+(that|this|it))?|"
    r"tell\s+me\s+more(\s+about\s+(that|this|it))?|go\s+on|elaborate|explain(\s+(that|this|it|more))?|"
    r"more|what\s+else|anything\s+else|can\s+you\s+elaborate|please\s+elaborate|expand(\s+on\s+(that|this|it))?)"
    r"\s*[?.!]*\s*$",
    re.IGNORECASE,
)
_QUESTION_WORD = (
    r"(what|how|why|who|when|where|which|is|are|was|were|does|do|did|can|could|would|should|will)\b"
)
_ELLIPSIS = re.compile(
    r"^\s*(and\s+|but\s+)?(what|how)\s+about\s+(?P<topic>.+?)\s*[?.!]*\s*$"
    rf"|^\s*(and|but)\s+(?!{_QUESTION_WORD})(?P<topic2>[^?]{{1,60}}?)\s*\?\s*$",
    re.IGNORECASE,
)
_TOPIC = re.compile(
    r"\b(about|by|of|on|regarding|towards?|concerning|with|for)\s+(?P<topic>(?:the\s+)?[^?,;]+?)\s*[?.!]*\s*$",
    re.IGNORECASE,
)
_PRONOUN = re.compile(r"\b(it|that|this|they|them|these|those|its|their)\b", re.IGNORECASE)
# A question about the reading itself (who wrote it, when, its title), whatever was asked before:
# "this" there is the text, not the last topic. The words name kinds of writing, no subject.
_ABOUT_THE_TEXT = re.compile(
    r"\b(this|that|the|your)\s+(essay|text|article|book|document|reading|chapter|passage|speech|"
    r"paper|piece|story|poem|report|letter|author|writer)\b"
    r"|\bwho\s+(wrote|is\s+the\s+author\s+of|authored)\b"
    r"|\b(written|published)\b"
    r"|\bwhat\s+is\s+(this|it)\s+(called|titled)\b"
    r"|\b(the\s+)?title\s+of\s+(this|it)\b",
    re.IGNORECASE,
)
_WH_FRAME = re.compile(
    r"^\s*(what|who|how|why|when|where|which)\s+(is|are|was|were|does|do|did|should|would|could|can|will|has|have)"
    r"\s+(the\s+)?",
    re.IGNORECASE,
)
MAX_TOPIC_WORDS = 6


@dataclass(frozen=True)
class Rewrite:
    """A standalone question and whether the user asked for more than was already quoted."""

    question: str
    wants_more: bool = False


def previous_user_question(history: list[Message]) -> str | None:
    return next((m.content for m in reversed(history) if m.role == "user"), None)


def topic_of(question: str) -> str | None:
    """The short noun phrase a question is about ("...mean by free verse?"), or None if unclear."""
    match = _TOPIC.search(question)
    if match and content_words(match.group("topic")) and len(match.group("topic").split()) <= MAX_TOPIC_WORDS:
        return match.group("topic")
    framed = _WH_FRAME.match(question)
    rest = question[framed.end() :].rstrip(" ?.!") if framed else ""
    # "What is free verse?" -> "free verse"; longer remainders hold a verb.
    return rest if rest and len(rest.split()) <= 3 else None


def rewrite(question: str, history: list[Message], previous_standalone: str | None = None) -> Rewrite:
    """Make ``question`` answerable on its own; unchanged when it already is."""
    previous = previous_standalone or previous_user_question(history)
    if not previous:
        return Rewrite(question)
    if _MORE.match(question):
        return Rewrite(previous, wants_more=True)
    if _ABOUT_THE_TEXT.search(question):
        return Rewrite(question)
    ellipsis = _ELLIPSIS.match(question)
    if ellipsis:
        new_topic = ellipsis.group("topic") or ellipsis.group("topic2")
        old_topic = topic_of(previous)
        if old_topic:
            return Rewrite(_replace_last(previous, old_topic, new_topic))
        return Rewrite(f"{previous.rstrip(' ?.!')} — {new_topic}?")
    if _PRONOUN.search(question) and len(content_words(question, drop_frame=True)) <= 4:
        return Rewrite(_resolve_pronoun(question, previous))
    return Rewrite(question)


def _resolve_pronoun(question: str, previous: str) -> str:
    """Put the previous topic in place of the first pronoun, or the previous question beside it."""
    question = re.sub(r"^\s*(and|but|so)\s+", "", question, flags=re.IGNORECASE).strip()
    question = question[:1].upper() + question[1:]
    topic = topic_of(previous)
    if topic is None:
        return f"{question.rstrip(' ?.!')} ({previous.rstrip(' ?.!')})?"

    def substitute(match: re.Match[str]) -> str:
        return f"{topic}’s" if match.group(1).lower() in {"its", "their"} else topic

    return _PRONOUN.sub(substitute, question, count=1)


def _replace_last(text: str, old: str, new: str) -> str:
    head, _, tail = text.rpartition(old)
    return f"{head}{new}{tail}"
