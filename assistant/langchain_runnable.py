"""The grounded answer as a LangChain ``Runnable`` (``Assistant.as_runnable``), for LCEL chains.

In: a question, or a mapping ``{"question", "history"?, "documents"?, "generator"?}`` (other keys,
which LCEL chains often carry along, are left alone). Out: the :class:`~assistant.models.Answer`
contract. ``.stream()``/``.astream()`` yield :meth:`Assistant.ask_stream`'s own events, the
last of which (``kind == "final"``) carries the answer; LangChain callbacks see each run.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import TYPE_CHECKING, Any, cast

from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.runnables.config import run_in_executor

from .errors import QuestionError
from .models import Answer, StreamEvent

if TYPE_CHECKING:
    from .pipeline import Assistant

AskInput = str | Mapping[str, Any]
_KEYS = ("history", "documents", "generator")


class AnswerRunnable(Runnable[AskInput, Answer | StreamEvent]):
    """``Assistant.ask`` as a Runnable: ``invoke`` returns the Answer, ``stream`` its events."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.name = "ReadingAssistant"

    def invoke(self, input: AskInput, config: RunnableConfig | None = None, **kwargs: Any) -> Answer:
        # LangChain's helper is typed by the Runnable's output, which is Answer or StreamEvent.
        return cast(Answer, self._call_with_config(self._ask, input, config))

    def stream(
        self, input: AskInput, config: RunnableConfig | None = None, **kwargs: Any | None
    ) -> Iterator[StreamEvent]:
        events = self._transform_stream_with_config(iter([input]), self._events, config)
        yield from cast(Iterator[StreamEvent], events)

    async def astream(
        self, input: AskInput, config: RunnableConfig | None = None, **kwargs: Any | None
    ) -> AsyncIterator[StreamEvent]:
        # ask_stream is synchronous and CPU-bound: each event is computed in a worker thread.
        events = await run_in_executor(config, self._open, input)
        while (event := await run_in_executor(config, next, events, None)) is not None:
            yield event

    def _ask(self, input: AskInput) -> Answer:
        question, options = _arguments(input)
        return self.assistant.ask(question, **options)

    def _open(self, input: AskInput) -> Iterator[StreamEvent]:
        question, options = _arguments(input)
        return self.assistant.ask_stream(question, **options)

    def _events(self, inputs: Iterator[AskInput]) -> Iterator[StreamEvent]:
        last = deque(inputs, maxlen=1)  # an upstream step may stream its output; the last chunk counts
        if not last:
            raise QuestionError("No question was given to the assistant.")
        yield from self._open(last[0])


def _arguments(input: AskInput) -> tuple[str, dict[str, Any]]:
    """The question and the keyword arguments of ``Assistant.ask`` from a Runnable's input."""
    if isinstance(input, str):
        return input, {}
    if not isinstance(input, Mapping):
        raise QuestionError(
            f"The input must be a question or a mapping with a 'question', not {type(input).__name__}."
        )
    if "question" not in input:
        raise QuestionError("The input mapping has no 'question'; give one, e.g. {'question': '...'}.")
    return input["question"], {key: input[key] for key in _KEYS if key in input}
