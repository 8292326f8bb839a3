"""``Assistant``: the one Python API that the CLI, the HTTP API and the UI sit on.

ask() = validate -> rewrite a follow-up -> retrieve -> generate a draft -> number the
quotes as [n] markers -> check each answer sentence against what it cites.

An Assistant serves one collection: a corpus folder and its index. It notices when
another process (or a rebuild) changes the index, and reloads what it read from it.
"""

from __future__ import annotations

import logging
import re
import shutil
import threading
import time
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .answer_model import AnswerModel
from .config import Settings
from .corpus import corpus_files, doc_id_for, file_sha256, load_document
from .embedding import MiniLMEmbeddings
from .errors import CorpusError, IndexBusyError, IndexStoreError, QuestionError, QuestionTooLongError
from .examples import MAX_EXAMPLES, heading_examples, name_examples
from .followups import rewrite
from .generation import Draft, ExtractiveGenerator, Generator, Quote, Request
from .grounding import DEFAULT_CHECKER, SupportChecker
from .index import Index, IngestReport, Progress
from .lexical import expand_aliases, stem, words
from .models import (
    Answer,
    AnswerSentence,
    Citation,
    Document,
    Message,
    Passage,
    Sentence,
    Source,
    StreamEvent,
)
from .profile import Profile, load_profile
from .questions import analyse
from .retrieval import Retriever

if TYPE_CHECKING:
    from .langchain_retriever import LangChainRetriever
    from .langchain_runnable import AnswerRunnable

log = logging.getLogger(__name__)

_MARKDOWN_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*$", re.MULTILINE)
HistoryInput = Iterable[Message | Mapping[str, Any]] | None
# How often (at most) an answer first checks whether the index changed under it.
INDEX_CHECK_SECONDS = 2.0


class Assistant:
    """A grounded question-answering assistant over one corpus collection.

    >>> bot = Assistant()                      # ./corpus, index in ./.assistant
    >>> bot.ask("What does the author mean by this term?").answer
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        checker: SupportChecker = DEFAULT_CHECKER,
        answer_model: AnswerModel | None = None,
        **overrides: Any,
    ) -> None:
        self.settings = settings or Settings.load(**overrides)
        self.checker = checker
        self.answer_model = answer_model  # None: the shipped fit
        self.embeddings = MiniLMEmbeddings(engine=self.settings.embedder)
        self.index = Index(self.settings, self.embeddings)
        self._lock = threading.RLock()
        self._checked = time.monotonic()
        # The example questions made from names, with the reading and document hashes they were read from.
        self._names: tuple[tuple[str, tuple[str, ...]], list[str]] | None = None

    # -- corpus and index -----------------------------------------------------------------

    def sources(self) -> list[Source]:
        """The files of the corpus folder, identified by name and content hash (not read in full)."""
        found: dict[str, Source] = {}
        for path in corpus_files(self.settings.corpus_dir):
            source = Source(doc_id_for(path), str(path), file_sha256(path))
            if source.doc_id in found:
                other = found[source.doc_id].path
                raise CorpusError(f"{path} and {other} both map to doc_id {source.doc_id!r}; rename one.")
            found[source.doc_id] = source
        return list(found.values())

    def documents(self) -> list[Document]:
        """The indexed documents: their stored text is what citations quote.

        Before the first ingest, the corpus folder's documents as they would be indexed.
        """
        try:
            indexed = self.index.documents()
        except IndexStoreError as exc:
            log.warning("Reading the corpus folder: the index cannot be read (%s).", exc)
            indexed = []
        return indexed or [load_document(Path(source.path)) for source in self.sources()]

    def ingest(
        self, *, rebuild: bool = False, force: Iterable[str] = (), progress: Progress | None = None
    ) -> IngestReport:
        """Index the corpus folder; unchanged documents are skipped unless ``rebuild`` or in ``force``."""
        sources = self.sources()
        forced = frozenset(force)
        try:
            report = self.index.ingest(sources, _load, rebuild=rebuild, force=forced, progress=progress)
        except IndexBusyError:
            raise
        except IndexStoreError:
            # Only a store that no longer reads is set aside; any other failure would fail again.
            if self.settings.chroma_host or self._store_readable():
                raise
            self._set_aside_corrupt_index()
            report = self.index.ingest(sources, _load, rebuild=True, progress=progress)
        self.reload()
        return report

    def remove(self, doc_ids: Iterable[str]) -> None:
        """Take documents out of the index now (their files are the caller's business)."""
        self.index.remove(list(doc_ids))
        self.reload()

    def ensure_index(self, progress: Progress | None = None) -> IngestReport | None:
        """Build or update the index if the corpus changed since it was built; else do nothing."""
        sources = self.sources()
        if self.index.is_healthy() and not self.index.is_stale(sources):
            return None
        log.info("Index is missing or out of date; building it.")
        return self.ingest(progress=progress)

    def _store_readable(self) -> bool:
        self.index.release()
        return self.index.is_readable()

    def _set_aside_corrupt_index(self) -> None:
        """Keep a damaged index for inspection instead of deleting it, then start afresh."""
        folder = self.settings.index_dir / "chroma"
        self.index.release()
        if folder.exists():
            target = folder.with_name(f"chroma.corrupt-{int(time.time())}")
            shutil.move(str(folder), str(target))
            log.warning("The index in %s was damaged; moved it to %s and rebuilding.", folder, target)
        self.index = Index(self.settings, self.embeddings)

    def reload(self) -> None:
        """Drop what was read from the index, so the next question reads it again."""
        for attribute in ("retriever", "generator", "extractive", "profile"):
            self.__dict__.pop(attribute, None)

    def _fresh_retriever(self) -> Retriever:
        """The retriever, rebuilt first if the index changed since it was read (checked every few seconds)."""
        now = time.monotonic()
        if "retriever" in self.__dict__ and now - self._checked >= INDEX_CHECK_SECONDS:
            self._checked = now
            with self._lock:
                version = self.index.version()
                if version is not None and version != self.retriever.version:
                    log.info("The index changed (%s); reloading it.", version)
                    self.index.release_stores()
                    self.reload()
        return self.retriever

    @cached_property
    def retriever(self) -> Retriever:
        with self._lock:
            self.ensure_index()
            return Retriever(self.index, self.embeddings, self.settings.top_k)

    def as_retriever(self, k: int | None = None) -> LangChainRetriever:
        """The hybrid retriever as a LangChain ``BaseRetriever``: ``k`` passages per query, or the
        ``k`` given to ``invoke``."""
        from .langchain_retriever import LangChainRetriever  # langchain_core costs ~1 s to import

        return LangChainRetriever(assistant=self, k=k or self.settings.top_k)

    def as_runnable(self) -> AnswerRunnable:
        """:meth:`ask` as a LangChain ``Runnable``: a question (or ``{question, history,
        documents}``) in, the :class:`Answer` out; ``.stream()`` yields :meth:`ask_stream`'s events."""
        from .langchain_runnable import AnswerRunnable

        return AnswerRunnable(assistant=self)

    def search(
        self, query: str, k: int | None = None, *, documents: Iterable[str] | None = None
    ) -> list[Passage]:
        """The ``k`` passages (``top_k`` by default) that best match ``query``, best first, as an
        answer would retrieve them; ``documents`` (doc_ids) limits the search to those documents."""
        query = self.validate_question(query)
        if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 1):
            raise QuestionError(f"The number of passages must be a whole number of at least 1, not {k!r}.")
        doc_ids = self.validate_documents(documents)
        searched = expand_aliases(query, self.profile.aliases)
        return self._fresh_retriever().retrieve(searched, k, doc_ids).passages

    def use_answer_model(self, model: AnswerModel | None) -> None:
        """Answer with this fit of the answer model from now on (None: the shipped one)."""
        self.answer_model = model
        for attribute in ("generator", "extractive"):
            self.__dict__.pop(attribute, None)

    @cached_property
    def profile(self) -> Profile:
        """The collection's profile (``profile.yaml`` in its corpus folder), or an empty one."""
        return load_profile(self.settings.corpus_dir)

    def example_questions(self) -> list[str]:
        """Questions to offer on an empty chat: the profile's, else made from the documents' headings
        and then from the names they use most."""
        if self.profile.examples:
            return list(self.profile.examples)
        documents = self.documents()
        headings = [m.group(1) for doc in documents for m in _MARKDOWN_HEADING.finditer(doc.text)]
        titles = {doc.title for doc in documents}
        reading = self.profile.reading(len(documents))
        examples = heading_examples(headings, reading, titles)
        if len(examples) < MAX_EXAMPLES:
            # Counting names reads every sentence: done again only when a document changes, not on
            # every page load.
            key = (reading, tuple(doc.sha256 for doc in documents))
            if self._names is None or self._names[0] != key:
                self._names = (key, name_examples([doc.text for doc in documents], reading, titles))
            examples += [e for e in self._names[1] if e not in examples]
        return examples[:MAX_EXAMPLES]

    def warm_up_question(self) -> str:
        """The question asked once when a server starts, so that the first reader does not wait."""
        return self.profile.warm_up or next(iter(self.example_questions()), "What is this text about?")

    @cached_property
    def extractive(self) -> ExtractiveGenerator:
        about = frozenset(
            stem(word)
            for doc in self.documents()
            for word in words(f"{doc.title} {doc.metadata.get('author', '')}")
        )
        return ExtractiveGenerator(
            self.retriever, self.settings, self.profile, self.answer_model, about, self.example_questions()
        )

    @cached_property
    def generator(self) -> Generator:
        """The configured generator: an LLM back end (verified, with extractive fallback) or extractive."""
        if self.settings.llm == "extractive":
            return self.extractive
        from .llm import build_generator  # optional back ends import their libraries lazily

        return build_generator(self.settings, self.extractive, self.retriever, self.checker)

    @property
    def generator_choices(self) -> list[str]:
        """What ``ask(generator=...)`` accepts: the configured back end first, then "extractive"."""
        return list(dict.fromkeys([self.settings.llm, "extractive"]))

    def _generator_for(self, choice: str | None) -> Generator:
        if choice is None or choice == self.settings.llm:
            return self.generator
        if choice == "extractive":
            return self.extractive
        raise QuestionError(
            f"Unknown generator {choice!r}; choose one of: {', '.join(self.generator_choices)}."
        )

    # -- asking -------------------------------------------------------------------------

    def ask(
        self,
        question: str,
        history: HistoryInput = None,
        *,
        documents: Iterable[str] | None = None,
        generator: str | None = None,
    ) -> Answer:
        """Answer ``question`` from the corpus, with ``history`` as the conversation so far.

        ``documents`` (doc_ids) limits the answer to those documents; ``generator`` picks
        one of :attr:`generator_choices` (the configured one by default).
        """
        for event in self.ask_stream(question, history, documents=documents, generator=generator):
            if event.answer is not None:
                return event.answer
        raise AssertionError("ask_stream ended without a final answer")  # pragma: no cover

    def ask_stream(
        self,
        question: str,
        history: HistoryInput = None,
        *,
        documents: Iterable[str] | None = None,
        generator: str | None = None,
    ) -> Iterator[StreamEvent]:
        """Like :meth:`ask`, as events: tokens (if the generator streams), each sentence, the answer.

        Validation errors are raised before the first event, so a caller can still
        answer with an error status.
        """
        began = time.perf_counter()
        question = self.validate_question(question)
        turns = self.validate_history(history)
        doc_ids = self.validate_documents(documents)
        chosen = self._generator_for(generator)
        return self._stream(question, turns, doc_ids, chosen, began)

    def _stream(
        self,
        question: str,
        turns: list[Message],
        doc_ids: list[str] | None,
        generator: Generator,
        began: float,
    ) -> Iterator[StreamEvent]:
        request = self.request(question, turns, doc_ids, generator)
        retrieval = request.retrieval
        retrieved = time.perf_counter()
        draft: Draft | None = None
        for item in generator.stream(request):
            if isinstance(item, Draft):
                draft = item
            else:
                yield StreamEvent("token", text=item)
        if draft is None:
            raise AssertionError(f"{generator.name} produced no draft")  # pragma: no cover
        generated = time.perf_counter()
        answer = self._assemble(question, request.standalone, draft)
        by_marker = {c.marker: c for c in answer.citations}
        introduced: set[int] = set()
        for index, sentence in enumerate(answer.sentences):
            new = [n for n in sentence.markers if n not in introduced and n in by_marker]
            introduced.update(new)
            citations = tuple(by_marker[n] for n in new)
            yield StreamEvent(
                "sentence",
                sentence.text,
                sentence,
                index=index,
                citations=citations,
                refused=answer.refused,
                answer_kind=answer.kind,
            )
        answer.timings_ms = {
            **{k: round(v, 2) for k, v in retrieval.timings_ms.items()},
            **draft.timings_ms,  # a model's own (e.g. when its first verified sentence was finished)
            "retrieve": round((retrieved - began) * 1000, 2),
            "generate": round((generated - retrieved) * 1000, 2),
            "total": round((time.perf_counter() - began) * 1000, 2),
        }
        yield StreamEvent("final", answer=answer)

    def request(
        self,
        question: str,
        turns: list[Message],
        doc_ids: list[str] | None = None,
        generator: Generator | None = None,
    ) -> Request:
        """What a generator is given for a validated question: the standalone question and its retrieval."""
        retriever = self._fresh_retriever()
        standalone, wants_more = self._standalone(question, turns, generator or self.generator)
        searched = expand_aliases(standalone, self.profile.aliases)
        follows_on = standalone != question and not wants_more  # a follow-up, rewritten to stand alone
        return Request(
            question=question,
            standalone=standalone,
            info=analyse(standalone),
            retrieval=retriever.retrieve(searched, doc_ids=doc_ids),
            exclude=self._already_quoted(turns) if wants_more else frozenset(),
            wants_more=wants_more,
            previous=self._previous_answer(turns, retriever) if follows_on else (),
        )

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
            raise QuestionError("The question is empty; type a question about the text.")
        limit = self.settings.max_question_chars
        if len(question) > limit:
            raise QuestionTooLongError(
                f"The question is {len(question):,} characters long; the limit is {limit:,}. Shorten it."
            )
        return question

    def validate_documents(self, documents: Iterable[str] | None) -> list[str] | None:
        """The doc_ids to search, each checked against the index; None for all of them."""
        if documents is None or isinstance(documents, str):
            documents = [documents] if isinstance(documents, str) else []
        wanted = list(dict.fromkeys(documents))
        if not wanted:
            return None
        known = self._fresh_retriever().doc_ids
        unknown = [doc_id for doc_id in wanted if doc_id not in known]
        if unknown:
            raise QuestionError(
                f"No document {unknown[0]!r} in collection {self.settings.collection!r}; "
                f"choose from: {', '.join(known) or 'none (the collection is empty)'}."
            )
        return wanted

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

    def _standalone(self, question: str, turns: list[Message], generator: Generator) -> tuple[str, bool]:
        """Rewrite each earlier user turn in order, so chains of follow-ups resolve too."""
        previous: str | None = None
        for position, turn in enumerate(turns):
            if turn.role == "user":
                previous = rewrite(turn.content, turns[:position], previous).question
        result = rewrite(question, turns, previous)
        if turns and not result.wants_more:
            # A language model, when there is one, reads the conversation better than the rules.
            modelled = generator.rewrite_followup(question, turns)
            if modelled:
                return modelled, False
        return result.question, result.wants_more

    def _previous_answer(self, turns: list[Message], retriever: Retriever) -> tuple[Sentence, ...]:
        """Where the last answer was in the text: the sentences it quoted, or, when it quoted none
        (another system's answer, a summary in other words), the sentence nearest it in meaning."""
        said = next((t.content for t in reversed(turns) if t.role == "assistant"), "")
        quoted = retriever.quoted_in(said)
        if quoted or not said.strip():
            return tuple(quoted)
        nearest = retriever.nearest_sentence(said)
        return (nearest,) if nearest else ()

    def _already_quoted(self, turns: list[Message]) -> frozenset[tuple[str, int]]:
        said = "\n".join(t.content for t in turns if t.role == "assistant")
        return frozenset((s.doc_id, s.start) for s in self.retriever.quoted_in(said))

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
            sources = list(dict.fromkeys(q.chunk.title or q.sentence.doc_id for q in drafted.quotes))
            sentences.append(AnswerSentence(drafted.text, numbers, round(score, 4), sources))
        several = len({c.doc_id for c in citations}) > 1
        return Answer(
            question=question,
            standalone_question=standalone,
            answer=" ".join(render_sentence(s, several) for s in sentences),
            refused=draft.refused,
            citations=citations,
            sentences=sentences,
            timings_ms={},
            generator=draft.generator,
            notice=draft.notice,
            verification=draft.verification,
            fallback=draft.fallback,
            kind=draft.kind,
            premise_corrected=draft.premise_corrected,
            uncertain=bool(draft.caveat),
            caveat=draft.caveat,
        )


def render_sentence(sentence: AnswerSentence, name_sources: bool = False) -> str:
    """One answer sentence with its markers; when the answer draws on several documents, its source too."""
    text = sentence.text + "".join(f" [{n}]" for n in sentence.markers)
    if name_sources and sentence.sources:
        text += f" ({'; '.join(sentence.sources)})"
    return text


def _citation(marker: int, quote: Quote) -> Citation:
    sentence, chunk = quote.sentence, quote.chunk
    return Citation(
        marker=marker,
        doc_id=sentence.doc_id,
        title=chunk.title or sentence.doc_id,
        page=sentence.page,
        anchor=sentence.anchor,
        chunk_id=chunk.chunk_id,
        paragraph=sentence.paragraph,
        quote=sentence.text,
        start=sentence.start,
        end=sentence.end,
        passage=chunk.text,
        score=round(float(quote.score), 4),
    )


def _load(source: Source) -> Document:
    return load_document(Path(source.path))


def _unpack(item: Mapping[str, Any], number: int) -> tuple[Any, Any]:
    if not isinstance(item, Mapping):
        raise QuestionError(f"History message {number} must be an object with 'role' and 'content'.")
    return item.get("role"), item.get("content")
