"""``Assistant``: the one Python API that the CLI, the HTTP API and the UI sit on.

ask() = validate -> rewrite a follow-up -> retrieve -> generate a draft -> number the
quotes as [n] markers -> check each answer sentence against what it cites.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from functools import cached_property
from typing import Any

from .config import Settings
from .corpus import load_corpus
from .embedding import MiniLMEmbeddings
from .errors import IndexBusyError, IndexStoreError, QuestionError, QuestionTooLongError
from .followups import rewrite
from .generation import Draft, ExtractiveGenerator, Generator, Quote, Request
from .grounding import DEFAULT_CHECKER, SupportChecker
from .index import Index, IngestReport, Progress
from .models import Answer, AnswerSentence, Citation, Document, Message, StreamEvent
from .questions import analyse
from .retrieval import LangChainRetriever, Retriever

log = logging.getLogger(__name__)

HistoryInput = Iterable[Message | Mapping[str, Any]] | None


class Assistant:
    """A grounded question-answering assistant over one corpus collection.

    >>> bot = Assistant()                      # ./corpus, index in ./.assistant
    >>> bot.ask("What is defensive deterrence?").answer
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        checker: SupportChecker = DEFAULT_CHECKER,
        **overrides: Any,
    ) -> None:
        self.settings = settings or Settings.load(**overrides)
        self.checker = checker
        self.embeddings = MiniLMEmbeddings(engine=self.settings.embedder)
        self.index = Index(self.settings, self.embeddings)
        self._lock = threading.Lock()

    # -- corpus and index -----------------------------------------------------------------

    def documents(self) -> list[Document]:
        """The corpus documents, read from the corpus folder."""
        return load_corpus(self.settings.corpus_dir)

    def ingest(self, *, rebuild: bool = False, progress: Progress | None = None) -> IngestReport:
        """Index the corpus folder; unchanged documents are skipped unless ``rebuild``."""
        documents = self.documents()
        try:
            report = self.index.ingest(documents, rebuild=rebuild, progress=progress)
        except IndexBusyError:
            raise
        except IndexStoreError:
            if self.settings.chroma_host:
                raise
            self._set_aside_corrupt_index()
            report = self.index.ingest(documents, rebuild=True, progress=progress)
        self.__dict__.pop("retriever", None)
        self.__dict__.pop("generator", None)
        return report

    def ensure_index(self, progress: Progress | None = None) -> IngestReport | None:
        """Build or update the index if the corpus changed since it was built; else do nothing."""
        documents = self.documents()
        healthy = self._index_healthy()
        if healthy and not self.index.is_stale(documents):
            return None
        if not healthy and not self.settings.chroma_host and self.index.read_manifest() is not None:
            self._set_aside_corrupt_index()
        log.info("Index is missing or out of date; building it.")
        return self.ingest(rebuild=not healthy, progress=progress)

    def _index_healthy(self) -> bool:
        manifest = self.index.read_manifest()
        if manifest is None:
            return False
        expected = sum(len(entry["chunk_ids"]) for entry in manifest["documents"].values())
        try:
            return self.index.chunk_store.count() == expected
        except Exception as exc:
            log.warning("The index cannot be read (%s).", exc)
            return False

    def _set_aside_corrupt_index(self) -> None:
        """Keep a damaged index for inspection instead of deleting it, then start afresh."""
        folder = self.settings.index_dir / "chroma"
        self.index.release()
        if folder.exists():
            target = folder.with_name(f"chroma.corrupt-{int(time.time())}")
            shutil.move(str(folder), str(target))
            log.warning("The index in %s was damaged; moved it to %s and rebuilding.", folder, target)
        self.index.manifest_path.unlink(missing_ok=True)
        self.index = Index(self.settings, self.embeddings)

    @cached_property
    def retriever(self) -> Retriever:
        with self._lock:
            self.ensure_index()
            return Retriever(self.index, self.embeddings, self.settings.top_k)

    def as_retriever(self, k: int | None = None) -> LangChainRetriever:
        """The hybrid retriever as a LangChain ``BaseRetriever``."""
        return LangChainRetriever(retriever=self.retriever, k=k or self.settings.top_k)

    @cached_property
    def generator(self) -> Generator:
        extractive = ExtractiveGenerator(self.retriever, self.settings)
        if self.settings.llm == "extractive":
            return extractive
        from .llm import build_generator  # optional back ends import their libraries lazily

        return build_generator(self.settings, extractive, self.retriever, self.checker)

    # -- asking -------------------------------------------------------------------------

    def ask(self, question: str, history: HistoryInput = None) -> Answer:
        """Answer ``question`` from the corpus, with ``history`` as the conversation so far."""
        for event in self.ask_stream(question, history):
            if event.answer is not None:
                return event.answer
        raise AssertionError("ask_stream ended without a final answer")  # pragma: no cover

    def ask_stream(self, question: str, history: HistoryInput = None) -> Iterator[StreamEvent]:
        """Like :meth:`ask`, as events: tokens (if the generator streams), each sentence, the answer.

        Validation errors are raised before the first event, so a caller can still
        answer with an error status.
        """
        began = time.perf_counter()
        question = self.validate_question(question)
        turns = self.validate_history(history)
        return self._stream(question, turns, began)

    def _stream(self, question: str, turns: list[Message], began: float) -> Iterator[StreamEvent]:
        standalone, wants_more = self._standalone(question, turns)
        retrieval = self.retriever.retrieve(standalone)
        retrieved = time.perf_counter()
        request = Request(
            question=question,
            standalone=standalone,
            info=analyse(standalone),
            retrieval=retrieval,
            exclude=self._already_quoted(turns) if wants_more else frozenset(),
            wants_more=wants_more,
        )
        draft: Draft | None = None
        for item in self.generator.stream(request):
            if isinstance(item, Draft):
                draft = item
            else:
                yield StreamEvent("token", text=item)
        if draft is None:
            raise AssertionError(f"{self.generator.name} produced no draft")  # pragma: no cover
        generated = time.perf_counter()
        answer = self._assemble(question, standalone, draft)
        for sentence in answer.sentences:
            yield StreamEvent("sentence", text=sentence.text, sentence=sentence)
        answer.timings_ms = {
            **{k: round(v, 2) for k, v in retrieval.timings_ms.items()},
            "retrieve": round((retrieved - began) * 1000, 2),
            "generate": round((generated - retrieved) * 1000, 2),
            "total": round((time.perf_counter() - began) * 1000, 2),
        }
        yield StreamEvent("final", answer=answer)

    def validate_question(self, question: str) -> str:
        if not isinstance(question, str):
            raise QuestionError("The question must be text.")
        bad = next((c for c in question if unicodedata.category(c) == "Cc" and c not in "\t\n\r"), None)
        if bad is not None:
            raise QuestionError(
                f"The question contains a control character (U+{ord(bad):04X}); remove it and ask again."
            )
        question = " ".join(question.split())
        if not question:
            raise QuestionError("The question is empty; type a question about the essay.")
        limit = self.settings.max_question_chars
        if len(question) > limit:
            raise QuestionTooLongError(
                f"The question is {len(question):,} characters long; the limit is {limit:,}. Shorten it."
            )
        return question

    def validate_history(self, history: HistoryInput) -> list[Message]:
        """Check roles and contents; keep only the configured number of recent turns."""
        turns = []
        for number, item in enumerate(history or [], start=1):
            role, content = (item.role, item.content) if isinstance(item, Message) else _unpack(item, number)
            if role not in ("user", "assistant"):
                raise QuestionError(f"History message {number} has role {role!r}; use 'user' or 'assistant'.")
            if not isinstance(content, str):
                raise QuestionError(f"History message {number} has no text content.")
            turns.append(Message(role, content[: self.settings.max_question_chars * 4]))
        keep = self.settings.history_turns * 2
        return turns[-keep:] if keep else []

    def _standalone(self, question: str, turns: list[Message]) -> tuple[str, bool]:
        """Rewrite each earlier user turn in order, so chains of follow-ups resolve too."""
        previous: str | None = None
        for position, turn in enumerate(turns):
            if turn.role == "user":
                previous = rewrite(turn.content, turns[:position], previous).question
        result = rewrite(question, turns, previous)
        return result.question, result.wants_more

    def _already_quoted(self, turns: list[Message]) -> frozenset[tuple[str, int]]:
        said = "\n".join(t.content for t in turns if t.role == "assistant")
        return frozenset((s.doc_id, s.start) for s in self.retriever.sentences if s.text in said)

    def _assemble(self, question: str, standalone: str, draft: Draft) -> Answer:
        markers: dict[tuple[str, int], int] = {}
        citations: list[Citation] = []
        sentences: list[AnswerSentence] = []
        for drafted in draft.sentences:
            numbers = []
            for quote in drafted.quotes:
                key = (quote.sentence.doc_id, quote.sentence.start)
                if key not in markers:
                    markers[key] = len(markers) + 1
                    citations.append(_citation(markers[key], quote))
                numbers.append(markers[key])
            premise = " ".join(q.sentence.text for q in drafted.quotes)
            score = self.checker(premise, drafted.text) if drafted.quotes else 0.0
            sentences.append(AnswerSentence(drafted.text, numbers, round(score, 4)))
        text = " ".join(s.text + "".join(f" [{n}]" for n in s.markers) for s in sentences)
        return Answer(
            question=question,
            standalone_question=standalone,
            answer=text,
            refused=draft.refused,
            citations=citations,
            sentences=sentences,
            timings_ms={},
            generator=draft.generator,
            notice=draft.notice,
        )


def _citation(marker: int, quote: Quote) -> Citation:
    sentence, chunk = quote.sentence, quote.chunk
    return Citation(
        marker=marker,
        doc_id=sentence.doc_id,
        chunk_id=chunk.chunk_id,
        paragraph=sentence.paragraph,
        quote=sentence.text,
        start=sentence.start,
        end=sentence.end,
        passage=chunk.text,
        score=round(float(quote.score), 4),
    )


def _unpack(item: Mapping[str, Any], number: int) -> tuple[Any, Any]:
    if not isinstance(item, Mapping):
        raise QuestionError(f"History message {number} must be an object with 'role' and 'content'.")
    return item.get("role"), item.get("content")
