"""A GGUF model run in-process by llama.cpp's own server, through the prebuilt ``xllamacpp`` wheel.

``xllamacpp.Server(params)`` loads the model and serves OpenAI-style requests from Python
(``handle_chat_completions``), with prompt caching (a fixed system message is evaluated
once) and token log-probabilities. It is thread-safe, so one server per model file is
shared by every assistant of the process. The wheel is prebuilt: no compiler, unlike
``llama-cpp-python``.

:class:`LocalChat` is the LangChain chat model of the ``local`` back end; :meth:`LocalChat.judge`
asks a yes/no question and returns the probability of "yes" from the first token's
log-probabilities (see :mod:`assistant.composed` for what it judges).
"""

from __future__ import annotations

import math
import os
import queue
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGenerationChunk
from pydantic import Field

from .errors import BackendError
from .llm import InProcessChat, as_dict
from .local_model import INSTALL

TOP_LOGPROBS = 10  # the first token's alternatives read by ``judge``

_SERVERS: dict[tuple[str, int, int], Any] = {}  # (path, n_ctx, threads) -> xllamacpp.Server
_LOAD_LOCK = threading.Lock()


def default_threads() -> int:
    """One thread per core the process may use, less one (at least one).

    llama.cpp's threads wait for each other at every step, so one that loses its core stalls
    them all: on 2 cores shared with the assistant's own work (and here with other people's),
    2 threads generated 0.8-1.3 tokens/s where 1 thread generated 4.3-5.7 (README, "The local
    model"). The core left free serves retrieval, the web server and everyone else.
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, cores - 1)


def load_server(path: Path, n_ctx: int, threads: int) -> Any:
    """The ``xllamacpp.Server`` for this file, loaded on first use (about 3 s for 1.1 GB)."""
    key = (str(path), n_ctx, threads)
    with _LOAD_LOCK:
        if key not in _SERVERS:
            try:
                import xllamacpp
            except ImportError as exc:
                raise BackendError(f"ASSISTANT_LLM=local needs xllamacpp: {INSTALL}.") from exc
            if not path.is_file():
                raise BackendError(f"The GGUF file {path} does not exist.")
            params = xllamacpp.CommonParams()
            params.model.path = str(path)
            params.n_ctx = n_ctx
            params.n_parallel = 1  # one sequence at a time: on a few cores, batching only adds latency
            params.cpuparams.n_threads = threads
            params.cpuparams_batch.n_threads = threads
            params.verbosity = -1  # llama.cpp logs every request on stderr otherwise
            params.endpoint_props = False
            try:
                _SERVERS[key] = xllamacpp.Server(params)
            except (ValueError, RuntimeError) as exc:
                raise BackendError(f"llama.cpp (xllamacpp) cannot load {path}: {exc}") from exc
        return _SERVERS[key]


class LocalChat(InProcessChat):
    """Chat completions from a GGUF file in-process (``xllamacpp``); greedy by default."""

    threads: int = Field(default_factory=default_threads)

    @property
    def _llm_type(self) -> str:
        return "xllamacpp-in-process"

    def load(self) -> Any:
        return load_server(Path(self.model_path), self.n_ctx, self.threads)

    def _request(
        self, messages: Sequence[BaseMessage], stop: list[str] | None, **extra: Any
    ) -> dict[str, Any]:
        request: dict[str, Any] = {
            "messages": [as_dict(m) for m in messages],
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "seed": self.seed,
            **extra,
        }
        if stop:
            request["stop"] = stop
        return request

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        """The server calls back with each chunk from a worker thread; closing this generator
        (the caller's deadline, or a consumer that has seen enough) stops the generation at
        the next token."""
        server = self.load()
        chunks: queue.Queue[tuple[str, Any]] = queue.Queue()
        cancel = threading.Event()

        def on_chunk(chunk: Any) -> bool:
            chunks.put(("chunk", chunk))
            return cancel.is_set()  # True stops the server's generation

        def work() -> None:
            try:
                server.handle_chat_completions(self._request(messages, stop, stream=True), on_chunk)
                chunks.put(("end", None))
            except BaseException as exc:
                chunks.put(("error", exc))

        threading.Thread(target=work, name="xllamacpp-stream", daemon=True).start()
        try:
            while True:
                kind, value = chunks.get()
                if kind == "end":
                    return
                if kind == "error":
                    raise value
                delta = _delta(value)
                if delta:
                    yield self._piece(delta, run_manager)
        finally:
            cancel.set()

    def judge(self, messages: Sequence[BaseMessage], yes: str = "yes", no: str = "no") -> float:
        """P(``yes``) against P(``no``) as the model's first answer token, from its log-probabilities.

        Tokens are compared without case or surrounding spaces ("Yes", " yes"); where neither
        word is among the top alternatives the judgement is 0.5, undecided.
        """
        result = self.load().handle_chat_completions(
            self._request(messages, None, max_tokens=1, logprobs=True, top_logprobs=TOP_LOGPROBS)
        )
        try:
            alternatives = result["choices"][0]["logprobs"]["content"][0]["top_logprobs"]
        except (KeyError, IndexError, TypeError) as exc:
            raise BackendError(f"llama.cpp returned no log-probabilities: {str(result)[:200]}") from exc
        mass = {yes: 0.0, no: 0.0}
        for option in alternatives:
            word = str(option.get("token", "")).strip().lower()
            if word in mass:
                mass[word] += math.exp(float(option["logprob"]))
        total = mass[yes] + mass[no]
        return mass[yes] / total if total > 0 else 0.5


def _delta(chunk: Any) -> str:
    try:
        content = chunk["choices"][0]["delta"].get("content")
    except (KeyError, IndexError, TypeError, AttributeError):
        return ""
    return content if isinstance(content, str) else ""
