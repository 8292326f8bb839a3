"""Each collection's assistant as the server holds it: prepared in the background, recovered after
its index store fails, and reported as building, ready, unavailable or failed."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, Literal

from ..errors import IndexBusyError, IndexStoreError
from ..library import Library
from ..models import Answer, StreamEvent
from ..pipeline import Assistant
from .errors import RETRY_AFTER_SECONDS, ApiError
from .schemas import AskRequest

log = logging.getLogger(__name__)

# Told of each answered question: the collection, the answer, its latency in ms and the asker's
# session token if the page sent one (the question log, when it is on; see assistant.insights).
AnswerObserver = Callable[[str, Answer, float, str | None], None]


class Runtime:
    """One collection's Assistant, and whether its index is ready.

    ``prepare`` builds the index and loads the model in a background thread, so the
    server starts listening at once and reports 503 "building" until it is done.
    When the index store fails later (its folder damaged, a Chroma server gone), the
    question that found out gets 503 and the index is checked and, if need be,
    rebuilt in the background; a store that cannot be reached is retried until it
    can, so the server recovers on its own when the store comes back.
    """

    RETRY_SECONDS = 2.0

    def __init__(
        self, bot: Assistant, name: str, *, default: bool, observer: AnswerObserver | None = None
    ) -> None:
        self.bot = bot
        self.observer = observer
        self.name = name
        self.default = default  # served at /api/... as well as /api/collections/{name}/...
        self.state: Literal["building", "ready", "failed", "unavailable"] = "building"
        self.problem = ""
        self._recovering = threading.Lock()

    @property
    def collection(self) -> str | None:
        """The name pages and links carry (``?collection=NAME``); None for the default collection."""
        return None if self.default else self.name

    def start(self) -> None:
        threading.Thread(target=self.prepare, name="assistant-index", daemon=True).start()

    def prepare(self) -> None:
        while True:
            try:
                report = self.bot.ensure_index()
                if report is not None:
                    log.info("Index built: %s", report)
                self.bot.ask(self.bot.warm_up_question())  # loads the model, so the first reader doesn't wait
            except IndexStoreError as exc:  # busy, or a store that cannot be reached: try again
                self.problem = str(exc) or type(exc).__name__
                self.state = "building" if isinstance(exc, IndexBusyError) else "unavailable"
                log.warning("The index is not available (%s); retrying in %g s.", exc, self.RETRY_SECONDS)
                self._forget()
                time.sleep(self.RETRY_SECONDS)
                continue
            except Exception as exc:  # reported by /healthz and every question, not lost in a thread
                log.exception("The index could not be prepared.")
                self.problem = str(exc) or type(exc).__name__
                self.state = "failed"
                return
            break
        self.problem = ""
        self.state = "ready"
        log.info("The assistant is ready.")

    def recover(self, exc: IndexStoreError) -> ApiError:
        """After the store failed under a question: rebuild or reconnect in the background."""
        log.error("The index failed while answering (%s); checking and rebuilding it.", exc)
        if self._recovering.acquire(blocking=False):
            self.state = "unavailable"
            self.problem = str(exc)

            def run() -> None:
                try:
                    self._forget()
                    self.prepare()
                finally:
                    self._recovering.release()

            threading.Thread(target=run, name="assistant-recover", daemon=True).start()
        return self.unavailable()

    def _forget(self) -> None:
        """Drop what the assistant built on the old store, so it is rebuilt on the new one."""
        with contextlib.suppress(IndexBusyError):  # another process rebuilds it; prepare() waits
            self.bot.index.release()
        self.bot.reload()

    def unavailable(self) -> ApiError:
        return ApiError(
            503,
            "index_unavailable",
            f"The index is not available ({self.problem}); it is being checked and rebuilt. "
            f"Retry in {RETRY_AFTER_SECONDS} seconds.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    def ready(self) -> bool:
        return self.state == "ready"

    def assistant(self) -> Assistant:
        """The assistant, or an ApiError while the index is building or after it failed."""
        if self.state == "building":
            raise ApiError(
                503,
                "index_building",
                "The index is being built (this takes about 20 seconds on the first start); "
                f"retry in {RETRY_AFTER_SECONDS} seconds.",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        if self.state == "unavailable":
            raise self.unavailable()
        if self.state == "failed":
            raise ApiError(500, "index_failed", f"The index could not be built: {self.problem}")
        return self.bot

    def ask(self, request: AskRequest, session: str | None = None) -> Answer:
        """``Assistant.ask``, with a failing store turned into 503 and a background recovery."""
        bot = self.assistant()
        started = time.perf_counter()
        with self._store_failures():
            answer = bot.ask(request.question, **_options(request))
        self.observe(answer, (time.perf_counter() - started) * 1000, session)
        return answer

    def stream(self, request: AskRequest, session: str | None = None) -> Iterator[StreamEvent]:
        """``Assistant.ask_stream``: the request is checked now (errors raise before any event),
        and a store that fails while the answer streams is recovered as in :meth:`ask`."""
        bot = self.assistant()
        started = time.perf_counter()
        with self._store_failures():
            events = bot.ask_stream(request.question, **_options(request))
        return self._recovering_from(events, started, session)

    def _recovering_from(
        self, events: Iterator[StreamEvent], started: float, session: str | None
    ) -> Iterator[StreamEvent]:
        with self._store_failures():
            for event in events:
                if event.answer is not None:
                    self.observe(event.answer, (time.perf_counter() - started) * 1000, session)
                yield event

    def observe(self, answer: Answer, latency_ms: float, session: str | None = None) -> None:
        """Tell the observer (the question log) of a finished answer; the chat page, which streams
        answers itself, calls it with no session (its asker is anonymous)."""
        if self.observer is not None:
            self.observer(self.name, answer, latency_ms, session)

    @contextlib.contextmanager
    def _store_failures(self) -> Iterator[None]:
        """A store that fails (not one that is busy: 503 as it is) becomes 503 and a recovery."""
        try:
            yield
        except IndexBusyError:
            raise
        except IndexStoreError as exc:
            raise self.recover(exc) from None


def _options(request: AskRequest) -> dict[str, Any]:
    return {"history": request.history, "documents": request.documents, "generator": request.generator}


class Runtimes:
    """A Runtime per collection of the library, each prepared on first use (the default one at start)."""

    def __init__(self, library: Library, observer: AnswerObserver | None = None) -> None:
        self.library = library
        self.observer = observer
        self._runtimes: dict[str, Runtime] = {}
        self._lock = threading.Lock()

    @property
    def default(self) -> Runtime:
        return self.get(self.library.default)

    def start(self) -> None:
        """Prepare every collection's index in the background, the default one first."""
        self.default.start()
        for info in self.library.collections():
            self.get(info.name)

    def get(self, name: str) -> Runtime:
        """The collection's runtime; NotFoundError (404) for a collection that does not exist."""
        with self._lock:
            if name not in self._runtimes:
                default = name == self.library.default
                runtime = Runtime(self.library.assistant(name), name, default=default, observer=self.observer)
                if not default:  # the default one starts with the app
                    runtime.start()
                self._runtimes[name] = runtime
            return self._runtimes[name]
