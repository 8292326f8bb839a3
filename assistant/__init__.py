"""A grounded Q&A assistant for reading an essay closely.

from assistant import Assistant
bot = Assistant()
answer = bot.ask("What does the author mean by this term?")
print(answer.answer)          # sentences with [n] markers
answer.citations[0].quote     # the exact sentence of the essay
"""

import importlib
from typing import TYPE_CHECKING, Any

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
from .models import Answer, AnswerSentence, Citation, Document, Message, StreamEvent

# The assistant and its grounding pull in the embedding model's stack, Chroma and the index
# (about a second): they load on first use, so a light import (a submodule, the pytest plugin
# the package registers in every test session) does not pay for them. The settings module is
# imported above, eagerly, for its side effect: nothing phones home.
_LAZY = {"Assistant": ".pipeline", "support": ".grounding"}

if TYPE_CHECKING:
    from .grounding import support
    from .pipeline import Assistant


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
