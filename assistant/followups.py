"""Rewriting a follow-up into a standalone question, using the conversation so far.

"What about China?" keeps the previous question's frame with China substituted;
a pronoun ("how would that change...") is replaced by the previous topic; "Why?" or
"Say more" repeat the previous question and ask for sentences not yet quoted.
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
_ELLIPSIS = re.compile(
    r"^\s*(and\s+|but\s+)?(what|how)\s+about\s+(?P<topic>.+?)\s*[?.!]*\s*$|^\s*(and|but)\s+(?P<topic2>[^?]+?)\s*\?\s*$",
    re.IGNORECASE,
)
_TOPIC = re.compile(
    r"\b(about|by|of|on|regarding|towards?|concerning|with|for)\s+(?P<topic>(?:the\s+)?[^?,;]+?)\s*[?.!]*\s*$",
    re.IGNORECASE,
)
_PRONOUN = re.compile(r"\b(it|that|this|they|them|these|those|its|their)\b", re.IGNORECASE)
_WH_FRAME = re.compile(
    r"^\s*(what|who|how|why|when|where|which)\s+(is|are|was|were|does|do|did)\s+(the\s+)?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Rewrite:
    """A standalone question and whether the user asked for more than was already quoted."""

    question: str
    wants_more: bool = False


def previous_user_question(history: list[Message]) -> str | None:
    return next((m.content for m in reversed(history) if m.role == "user"), None)


def topic_of(question: str) -> str:
    """The noun phrase a question is about: after its last 'about/by/of/on', else its content words."""
    match = _TOPIC.search(question)
    if match and content_words(match.group("topic")):
        return match.group("topic")
    stripped = _WH_FRAME.sub("", question).rstrip(" ?.!")
    return stripped or " ".join(content_words(question))


def rewrite(question: str, history: list[Message], previous_standalone: str | None = None) -> Rewrite:
    """Make ``question`` answerable on its own; unchanged when it already is."""
    previous = previous_standalone or previous_user_question(history)
    if not previous:
        return Rewrite(question)
    if _MORE.match(question):
        return Rewrite(previous, wants_more=True)
    ellipsis = _ELLIPSIS.match(question)
    if ellipsis:
        new_topic = ellipsis.group("topic") or ellipsis.group("topic2")
        old_topic = topic_of(previous)
        if old_topic and old_topic in previous:
            return Rewrite(_replace_last(previous, old_topic, new_topic))
        return Rewrite(f"{previous.rstrip(' ?.!')} — {new_topic}?")
    if _PRONOUN.search(question) and len(content_words(question, drop_frame=True)) <= 4:
        topic = topic_of(previous)
        resolved = _PRONOUN.sub(lambda m: _possessive(topic) if m.group(1).lower() in {"its", "their"} else topic, question, count=1)
        return Rewrite(re.sub(r"^\s*(and|but|so)\s+", "", resolved, flags=re.IGNORECASE).strip())
    return Rewrite(question)


def _possessive(topic: str) -> str:
    return f"{topic}’s"


def _replace_last(text: str, old: str, new: str) -> str:
    head, _, tail = text.rpartition(old)
    return f"{head}{new}{tail}"
