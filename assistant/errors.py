"""One small exception hierarchy; every message says how to fix the problem.

The CLI, HTTP API and UI translate these at the edge into one-line messages or
status codes. Nothing inside the library prints or exits.
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base class of every error the library raises on purpose."""


class ConfigError(AssistantError):
    """A setting has a bad value; the message names the setting and the value."""


class PromptError(ConfigError):
    """A prompt file is missing, does not parse, or uses the wrong variables."""


class QuestionError(AssistantError):
    """The question (or its history) cannot be answered as given."""


class QuestionTooLongError(QuestionError):
    """The question is longer than the configured maximum."""


class CorpusError(AssistantError):
    """The corpus folder or one of its files cannot be read."""


class InvalidDocumentError(CorpusError):
    """A file offered to a collection is not a usable document; nothing was changed."""


class NotFoundError(AssistantError):
    """A collection or document that does not exist was asked for."""


class AccessError(AssistantError):
    """Document management was asked for without the admin token (or with a wrong one)."""


class ManagementOffError(AccessError):
    """Document management over HTTP is off: no admin token is configured."""


class IndexStoreError(AssistantError):
    """The index cannot be opened, built or queried."""


class IndexBusyError(IndexStoreError):
    """Another process holds the index lock (an ingest is running)."""


class EvaluationError(AssistantError):
    """A question set, threshold or baseline report is malformed."""


class BackendError(AssistantError):
    """An optional back end (an LLM, a Chroma server) failed or is not installed."""


__all__ = [
    "AccessError",
    "AssistantError",
    "BackendError",
    "ConfigError",
    "CorpusError",
    "EvaluationError",
    "IndexBusyError",
    "IndexStoreError",
    "InvalidDocumentError",
    "ManagementOffError",
    "NotFoundError",
    "PromptError",
    "QuestionError",
    "QuestionTooLongError",
]
