"""A grounded Q&A assistant for reading an essay closely.

from assistant import Assistant
bot = Assistant()
answer = bot.ask("What does the author mean by this term?")
print(answer.answer)          # sentences with [n] markers
answer.citations[0].quote     # the exact sentence of the essay
"""

from .config import Settings
from .errors import (
    AssistantError,
    BackendError,
    ConfigError,
    CorpusError,
    EvaluationError,
    IndexBusyError,
    IndexStoreError,
    QuestionError,
    QuestionTooLongError,
)
from .grounding import support
from .models import Answer, AnswerSentence, Citation, Document, Message, StreamEvent
from .pipeline import Assistant

__all__ = [
    "Answer",
    "AnswerSentence",
    "Assistant",
    "AssistantError",
    "BackendError",
    "Citation",
    "ConfigError",
    "CorpusError",
    "Document",
    "EvaluationError",
    "IndexBusyError",
    "IndexStoreError",
    "Message",
    "QuestionError",
    "QuestionTooLongError",
    "Settings",
    "StreamEvent",
    "support",
]
