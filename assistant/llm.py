"""The in-process llama.cpp chat model, and the generator that verifies what a back end writes.

The back ends themselves (which exist, how each chat model is made) are registered in
:mod:`assistant.backends`.

:class:`LLMGenerator` numbers the retrieved passages [1]..[k] in the prompt, streams
the model's answer, and verifies it (:mod:`assistant.verification`): markers that
point at no passage are dropped, every sentence is checked against the passages it
cites, quotes are the corpus sentences that best support it, and unsupported
sentences are removed or flagged. When the model says the passages do not answer,
when too little survives, or when the back end fails, times out or writes nothing
usable, the extractive answer is given instead, with a notice saying why.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
)
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from .backends import INSTALL, make_chat_model, redact
from .config import Settings
from .errors import BackendError
from .generation import Draft, ExtractiveGenerator, Generator, Request
from .grounding import SupportChecker
from .lexical import content_words
from .models import Fallback, Message, Passage, VerificationCounts
from .prompts import Prompts
from .retrieval import Retriever
from .verification import LiveVerifier, Verification, Verifier

log = logging.getLogger(__name__)

MAX_ANSWER_SENTENCES = 4
_REWRITE_LABEL = re.compile(r"^\s*(?:rewritten|standalone|new)?\s*(?:question)?\s*:\s*", re.IGNORECASE)


# -- the in-process llama.cpp chat model ----------------------------------------------------


_LOADED: dict[tuple[str, int], tuple[Any, threading.Lock]] = {}  # (path, n_ctx) -> (Llama, its lock)
_LOAD_LOCK = threading.Lock()


class InProcessChat(BaseChatModel):
    """A GGUF file's chat model run in this process; subclasses stream (``_stream``), and the
    whole reply is the streamed pieces joined."""

    model_path: str
    temperature: float = 0.0
    max_tokens: int = 400
    n_ctx: int = 4096
    seed: int = 0

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "temperature": self.temperature, "max_tokens": self.max_tokens}

    @staticmethod
    def _piece(delta: str, run_manager: CallbackManagerForLLMRun | None) -> ChatGenerationChunk:
        """One streamed piece of the reply, announced to LangChain's callbacks."""
        piece = ChatGenerationChunk(message=AIMessageChunk(content=delta))
        if run_manager:
            run_manager.on_llm_new_token(delta, chunk=piece)
        return piece

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        text = "".join(message_text(c.message) for c in self._stream(messages, stop, run_manager, **kwargs))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])


class LlamaCppChat(InProcessChat):
    """A GGUF model run in-process through ``llama_cpp.Llama.create_chat_completion``.

    The chat template comes from the GGUF file. One model is loaded per (path, context
    size) and shared by every instance; calls to it are serialised, since a ``Llama`` is
    not thread-safe.
    Generation stops with ``TimeoutError`` once ``timeout`` seconds have passed.
    """

    timeout: float = 30.0
    repeat_penalty: float = 1.1

    @property
    def _llm_type(self) -> str:
        return "llamacpp-in-process"

    def load(self) -> tuple[Any, threading.Lock]:
        """The ``llama_cpp.Llama`` for this file, loaded on first use, and the lock guarding it."""
        key = (self.model_path, self.n_ctx)
        with _LOAD_LOCK:
            if key not in _LOADED:
                try:
                    from llama_cpp import Llama
                except ImportError as exc:
                    raise BackendError(
                        f"The llamacpp back end needs llama-cpp-python: {INSTALL['llamacpp']}."
                    ) from exc
                if not Path(self.model_path).is_file():
                    raise BackendError(
                        f"The GGUF file {self.model_path} does not exist; "
                        "set ASSISTANT_LLM_MODEL to a .gguf path."
                    )
                try:
                    llama = Llama(model_path=self.model_path, n_ctx=self.n_ctx, seed=self.seed, verbose=False)
                    _LOADED[key] = (llama, threading.Lock())
                except (ValueError, RuntimeError) as exc:
                    raise BackendError(f"llama.cpp cannot load {self.model_path}: {exc}") from exc
            return _LOADED[key]

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        llama, lock = self.load()
        deadline = time.monotonic() + self.timeout
        with lock:
            parts = llama.create_chat_completion(
                messages=[as_dict(m) for m in messages],
                stream=True,
                temperature=self.temperature,
                max_tokens=self.max_tokens,
                repeat_penalty=self.repeat_penalty,
                seed=self.seed,
                stop=stop,
            )
            for part in parts:
                delta = part["choices"][0].get("delta", {}).get("content")
                if delta:
                    yield self._piece(delta, run_manager)
                if time.monotonic() > deadline:
                    raise TimeoutError(f"llama.cpp did not finish within {self.timeout:g} s")


def as_dict(message: BaseMessage) -> dict[str, str]:
    role = {"system": "system", "human": "user", "ai": "assistant"}.get(message.type, "user")
    return {"role": role, "content": message_text(message)}


def message_text(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(
        part if isinstance(part, str) else str(part.get("text", ""))
        for part in content
        if isinstance(part, str) or part.get("type") == "text"
    )


# -- the verified generator -----------------------------------------------------------------


class LLMGenerator(Generator):
    """Writes the answer with a chat model, then keeps only what the cited passages support."""

    uncited_cites_all = False  # a sentence that cites nothing valid is "uncited", never supported

    def __init__(
        self,
        settings: Settings,
        extractive: ExtractiveGenerator,
        retriever: Retriever,
        checker: SupportChecker,
        chat_model: BaseChatModel,
        label: str,
        prompts: Prompts | None = None,
    ) -> None:
        self.settings = settings
        self.extractive = extractive
        self.retriever = retriever
        self.checker = checker
        self.chat_model = chat_model
        self.name = label
        self.prompts = prompts or Prompts.load(settings.prompts_dir)

    def __repr__(self) -> str:
        return f"LLMGenerator({self.name!r})"

    @property
    def fallback_name(self) -> str:
        return f"extractive (fallback from {self.name})"

    # -- answering ----------------------------------------------------------------------

    def generate(self, request: Request) -> Draft:
        draft = None
        for item in self.stream(request):
            if isinstance(item, Draft):
                draft = item
        if draft is None:  # pragma: no cover - stream always ends with a draft
            raise AssertionError("LLMGenerator.stream ended without a draft")
        return draft

    def stream(self, request: Request) -> Iterator[str | Draft]:
        """Tokens as the model writes them, each finished sentence checked (and flagged if
        unsupported) at once, then the verified draft."""
        passages = request.retrieval.passages
        if request.info.intent in ("greeting", "request") or not passages:
            yield self.extractive.generate(request)
            return
        yield from self._verified(request, passages, self._messages(request, passages))

    def _verified(
        self,
        request: Request,
        passages: Sequence[Passage],
        messages: list[BaseMessage],
        began: float | None = None,
    ) -> Iterator[str | Draft]:
        """The model's answer to ``messages`` as it streams, checked against ``passages`` (which
        its [n] markers number), then the verified draft or the extractive fallback.

        The draft's ``timings_ms`` say when, counted from ``began`` (by default now), the first
        sentence that survived verification was finished (``first_verified``) and the model
        was done (``model``).
        """
        began = time.perf_counter() if began is None else began
        verifier = self._verifier(passages)
        live = LiveVerifier(verifier.check)
        first_verified: float | None = None
        try:
            for token in self._tokens(messages):
                yield from live.feed(token)
                if first_verified is None and any(c.supported for c in live.checked):
                    first_verified = time.perf_counter()
            yield from live.close()
        except TimeoutError:
            yield self._fallback(
                request,
                "timeout",
                f"The language model ({self.name}) did not answer within {self.settings.llm_timeout:g} s",
            )
            return
        except Exception as exc:
            reason = self._describe(exc)
            log.warning("The language model %s failed: %s", self.name, reason)
            yield self._fallback(request, "model_error", f"The language model ({self.name}) failed: {reason}")
            return
        ended = time.perf_counter()
        if first_verified is None and any(c.supported for c in live.checked):
            first_verified = ended  # the last sentence, finished when the stream closed
        draft = self._decide(request, verifier.verify(live.text))
        draft.timings_ms["model"] = round((ended - began) * 1000, 2)
        if first_verified is not None and draft.generator == self.name:
            draft.timings_ms["first_verified"] = round((first_verified - began) * 1000, 2)
        yield draft

    def _verifier(self, passages: Sequence[Passage]) -> Verifier:
        return Verifier(
            passages,
            self.checker,
            min_support=self.settings.min_support,
            max_quotes=min(2, self.settings.max_quotes),
            refusal=self.prompts.refusal,
            uncited_cites_all=self.uncited_cites_all,
        )

    def _decide(self, request: Request, verification: Verification) -> Draft:
        checked = verification.checked
        if verification.refusal:
            return self._fallback(
                request, "model_refused", "The language model found no answer in the passages"
            )
        if not checked:
            return self._fallback(
                request, "no_usable_answer", f"The language model ({self.name}) returned no usable answer"
            )
        kept = len(verification.supported)
        if kept == 0 or verification.share < self.settings.min_surviving:
            return self._fallback(
                request,
                "too_few_supported",
                f"Only {kept} of {len(checked)} sentences of the language model's answer "
                "could be verified against the passages they cite",
                VerificationCounts(sentences=len(checked), supported=kept, dropped=len(checked)),
            )
        notes = []
        unsupported = len(checked) - kept
        if unsupported and self.settings.unsupported == "remove":
            notes.append(
                f"{_count(unsupported, 'sentence')} not supported by the text removed from the answer."
            )
        elif unsupported:
            notes.append(f"{_count(unsupported, 'sentence')} of the model's answer marked (unverified).")
        invalid = verification.invalid_markers
        if invalid:
            listed = ", ".join(f"[{n}]" for n in dict.fromkeys(invalid))
            notes.append(f"Citation marker(s) {listed} pointing at no passage removed.")
        shown = verification.draft_sentences(self.settings.unsupported)
        draft = Draft(
            shown,
            generator=self.name,
            notice=" ".join(notes),
            verification=VerificationCounts(
                sentences=len(checked), supported=kept, dropped=len(checked) - len(shown)
            ),
        )
        draft.caveat = self.extractive.caveat(request.info, draft.quoted())
        return draft

    def _fallback(
        self, request: Request, code: Fallback, reason: str, counts: VerificationCounts | None = None
    ) -> Draft:
        """The extractive answer instead; ``reason`` is for people, ``code`` and ``counts`` for programs."""
        draft = self.extractive.generate(request)
        return replace(
            draft,
            generator=self.fallback_name,
            notice=f"{reason}; showing the extractive answer instead.",
            verification=counts,
            fallback=code,
        )

    def _messages(self, request: Request, passages: Sequence[Passage]) -> list[BaseMessage]:
        title = self._title(passages)
        numbered = [
            {
                "n": number,
                "text": p.chunk.text,
                "doc_id": p.chunk.doc_id,
                "paragraph": p.chunk.paragraph,
                "title": self._titles.get(p.chunk.doc_id, p.chunk.doc_id),
            }
            for number, p in enumerate(passages, start=1)
        ]
        system = self.prompts.render("system.j2", title=title)
        user = self.prompts.render(
            "answer.j2",
            question=request.standalone,
            original_question=request.question,
            passages=numbered,
            title=title,
            refusal=self.prompts.refusal,
            max_sentences=MAX_ANSWER_SENTENCES,
        )
        return [SystemMessage(content=system), HumanMessage(content=user)] if system else [HumanMessage(user)]

    # -- follow-ups ---------------------------------------------------------------------

    def rewrite_followup(self, question: str, history: Sequence[Message]) -> str | None:
        """The model's standalone version of a follow-up, or None (then the rules apply).

        A rewrite that is empty, far too long, or shares no content word with the
        conversation is not trusted.
        """
        if not history:
            return None
        turns = [{"role": t.role, "content": _shorten(t.content, 600)} for t in list(history)[-4:]]
        prompt = self.prompts.render("rewrite.j2", question=question, history=turns, title=self._title([]))
        try:
            text = "".join(self._tokens([HumanMessage(content=prompt)]))
        except Exception as exc:
            log.warning(
                "The language model %s could not rewrite a follow-up: %s", self.name, self._describe(exc)
            )
            return None
        line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
        line = _REWRITE_LABEL.sub("", line).strip().strip("\"'“”‘’").strip()
        known = set(content_words(question + " " + " ".join(t["content"] for t in turns)))
        if not line or len(line) > max(300, 3 * len(question)) or not set(content_words(line)) & known:
            return None
        if not line.endswith("?"):  # a weak model answers the follow-up instead of rewriting it
            return None
        return line

    # -- talking to the model -----------------------------------------------------------

    def _tokens(self, messages: list[BaseMessage]) -> Iterator[str]:
        """The model's text as it streams, within ``llm_timeout`` seconds in all.

        The model runs in a worker thread so that a back end that hangs cannot hang
        the caller: past the deadline this raises ``TimeoutError`` and the worker is
        told to stop at its next token.
        """
        channel: queue.Queue[tuple[str, Any]] = queue.Queue()
        cancel = threading.Event()

        def work() -> None:
            try:
                stream = self.chat_model.stream(messages)
                try:
                    for chunk in stream:
                        if cancel.is_set():
                            break
                        channel.put(("text", message_text(chunk)))
                finally:
                    close = getattr(stream, "close", None)
                    if close is not None:
                        close()  # stops an in-process model at once
                channel.put(("end", None))
            except BaseException as exc:
                channel.put(("error", exc))

        threading.Thread(target=work, name=f"llm-{self.name}", daemon=True).start()
        deadline = time.monotonic() + self.settings.llm_timeout
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError
                try:
                    kind, value = channel.get(timeout=left)
                except queue.Empty:
                    raise TimeoutError from None
                if kind == "end":
                    return
                if kind == "error":
                    if _is_timeout(value):
                        raise TimeoutError from value
                    raise value
                if value:
                    yield value
        finally:
            cancel.set()

    def _describe(self, exc: BaseException) -> str:
        message = " ".join(str(exc).split()) or "no details"
        return f"{type(exc).__name__}: {redact(message, self.settings)[:200]}"

    # -- titles -------------------------------------------------------------------------

    @property
    def _titles(self) -> dict[str, str]:
        if not hasattr(self, "_title_cache"):
            titles: dict[str, str] = {}
            try:
                manifest = self.retriever.index.read_manifest() or {}
                titles = {k: str(v.get("title") or k) for k, v in manifest.get("documents", {}).items()}
            except Exception:  # titles are cosmetic
                log.debug("No document titles in the index manifest.", exc_info=True)
            self._title_cache = titles
        return self._title_cache

    def _title(self, passages: Sequence[Passage]) -> str:
        ids = list(dict.fromkeys(p.chunk.doc_id for p in passages)) or list(self._titles)
        names = [self._titles.get(i, i.replace("-", " ")) for i in ids]
        return " and ".join(names) if names else "the text"


def _is_timeout(exc: BaseException) -> bool:
    return isinstance(exc, TimeoutError) or "timeout" in type(exc).__name__.lower()


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def build_generator(
    settings: Settings,
    extractive: ExtractiveGenerator,
    retriever: Retriever,
    checker: SupportChecker,
    *,
    chat_model: BaseChatModel | None = None,
    label: str | None = None,
    prompts: Prompts | None = None,
) -> LLMGenerator:
    """The verified LLM generator for ``settings.llm``; pass ``chat_model`` to use a ready one.

    The ``local`` back end writes from the extractive answer's quotes
    (:class:`~assistant.composed.ComposedGenerator`); the others from the retrieved passages.
    """
    prompts = prompts or Prompts.load(settings.prompts_dir)
    if chat_model is None:
        chat_model, default_label = make_chat_model(settings)
    else:
        default_label = f"{settings.llm}:{settings.llm_model or type(chat_model).__name__}"
    kind = LLMGenerator
    if settings.llm == "local":
        from .composed import ComposedGenerator  # it builds on this module

        kind = ComposedGenerator
    return kind(settings, extractive, retriever, checker, chat_model, label or default_label, prompts)
