"""Between the web app and the question log: who asked (a pseudonym) and what was answered."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Protocol

from ..config import Settings
from ..errors import AssistantError
from ..models import Answer
from .log import Entry, QuestionLog


class Identity(Protocol):
    """What a launch's session says of its asker (``assistant.lti.session.Session`` fits)."""

    @property
    def user(self) -> str: ...

    @property
    def context(self) -> str: ...


class Recorder:
    """The web app's answer observer: each answered question becomes a queued log row.

    ``identify`` reads a session token (set when LTI is on); without one, or with a token that
    does not verify, the asker is a random id that names no one.
    """

    def __init__(self, log: QuestionLog) -> None:
        self.log = log
        self.identify: Callable[[str], Identity] | None = None

    def __call__(self, collection: str, answer: Answer, latency_ms: float, session: str | None) -> None:
        asker, course = self._who(session)
        self.log.record(Entry.of(collection, asker, course, answer, latency_ms))

    def _who(self, session: str | None) -> tuple[str, str]:
        if session and self.identify is not None:
            try:
                identity = self.identify(session)
                return identity.user, identity.context
            except AssistantError:
                pass
        return "anon-" + secrets.token_hex(8), ""


def open_recorder(settings: Settings) -> Recorder:
    """The recorder over the configured question log (migrated, not yet started)."""
    assert settings.question_log is not None
    return Recorder(QuestionLog(settings.question_log, settings.question_log_retention_days))
