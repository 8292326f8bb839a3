"""The HTTP side of the assistant: a JSON API, the Gradio chat, the reading view and the embed page.

One FastAPI app serves everything (``assistant serve``, ``make run``)::

    /                    the chat (Gradio)           /api/docs          OpenAPI docs
    /read/{doc_id}       the essay with #p-9/#s-9-2   /api/ask           answer as JSON
    /embed               compact chat for iframes     /api/ask/stream    the same as server-sent events
    /healthz             index ready?                 /api/documents     the corpus, with anchors
    /api/collections/{name}/...  the same API for another collection (?collection=NAME on the pages)
    /api/admin/...       document management, with the admin token (see assistant.admin)

The process serves every collection of one :class:`~assistant.library.Library` and
prepares each index in a background thread, so the server is up at once and
questions get 503 until their collection is ready. Which other origins may frame the
pages or call the API comes from ``ASSISTANT_ALLOWED_ORIGINS`` and is applied through CORS and
``Content-Security-Policy: frame-ancestors``; by default only the same origin may.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import threading
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

import uvicorn
from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ui import STATIC_DIR
from ui.app import build_ui, mount_ui
from ui.embed import embed_page, parse_flag, parse_theme
from ui.reading import reading_page
from ui.render import corpus_title

from .admin import ADMIN_PREFIX, admin_router
from .backends import BackendName
from .chunking import document_sentences, paragraph_spans
from .config import DEFAULT_QUEUE_CONCURRENCY, DEFAULT_QUEUE_SIZE, PACKAGE_DIR, Settings
from .errors import (
    AccessError,
    AssistantError,
    ConfigError,
    CorpusError,
    IndexBusyError,
    IndexStoreError,
    InvalidDocumentError,
    ManagementOffError,
    NotFoundError,
    QuestionError,
    QuestionTooLongError,
)
from .library import Library
from .models import Answer, Document
from .models import Message as HistoryMessage
from .pipeline import Assistant
from .ratelimit import (
    DEFAULT_BURST,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_PER_MINUTE,
    BodySizeLimitMiddleware,
    RateLimitMiddleware,
)

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
# More than a body under the size limit can hold; the assistant keeps only its history window.
MAX_HISTORY_MESSAGES = 10_000

# The pages of our own carry no inline script or style, so they can forbid both.
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'"
)
_ORIGIN = re.compile(r"^(\*|https?://[A-Za-z0-9.\-]+(:\d{1,5})?|https?://\[[0-9A-Fa-f:.]+\](:\d{1,5})?)$")

# Most specific first: the first class an error is an instance of decides its status.
_ERROR_STATUS: tuple[tuple[type[AssistantError], int, str], ...] = (
    (QuestionTooLongError, 413, "question_too_long"),
    (QuestionError, 400, "invalid_question"),
    (NotFoundError, 404, "not_found"),
    (InvalidDocumentError, 400, "invalid_document"),
    (ManagementOffError, 403, "management_off"),
    (AccessError, 401, "unauthorized"),
    (ConfigError, 400, "invalid_setting"),
    (IndexBusyError, 503, "index_busy"),
    (IndexStoreError, 500, "index_error"),
    (CorpusError, 500, "corpus_error"),
    (AssistantError, 500, "assistant_error"),
)


# -- request and response models ---------------------------------------------------------


class AskRequest(BaseModel):
    question: str = Field(
        description="The question about the text.", examples=["What does the text say about this?"]
    )
    history: list[HistoryMessage] = Field(
        default_factory=list,
        max_length=MAX_HISTORY_MESSAGES,
        description="The conversation so far, oldest first, so that follow-up questions resolve; "
        "only the most recent turns (the configured window) are used.",
    )
    documents: list[str] | None = Field(
        default=None,
        max_length=1000,
        description="Answer only from these documents (doc_ids from GET .../documents); all when omitted.",
        examples=[["my-reading"]],
    )
    generator: BackendName | None = Field(
        default=None,
        description="Who writes the answer: the configured back end by default, or 'extractive' "
        "(quotations only) when a language model is configured.",
    )


class ErrorDetail(BaseModel):
    type: str = Field(description="A stable machine-readable kind, e.g. question_too_long.")
    message: str = Field(description="What went wrong and how to fix it, for people.")


class ErrorResponse(BaseModel):
    error: ErrorDetail


class ApiError(Exception):
    """An error answered as ``{"error": {"type", "message"}}`` with the given status."""

    def __init__(self, status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.kind, self.message, self.headers = status, kind, message, headers


def _error(status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = ErrorResponse(error=ErrorDetail(type=kind, message=message))
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse, "description": text}
    for code, text in {
        400: "The question is empty or contains control characters.",
        413: "The question is longer than the configured maximum, or the body is over the size limit.",
        429: "Too many requests from this client; retry after the Retry-After header's seconds.",
        422: "The request body is not valid JSON of the documented shape.",
        503: "The index is still being built, or another process is ingesting; retry later.",
    }.items()
}


# -- the assistant and its index ---------------------------------------------------------


class Runtime:
    """The one Assistant of the process, and whether its index is ready.

    ``prepare`` builds the index and loads the model in a background thread, so the
    server starts listening at once and reports 503 "building" until it is done.
    When the index store fails later (its folder damaged, a Chroma server gone), the
    question that found out gets 503 and the index is checked and, if need be,
    rebuilt in the background; a store that cannot be reached is retried until it
    can, so the server recovers on its own when the store comes back.
    """

    RETRY_SECONDS = 2.0

    def __init__(self, bot: Assistant) -> None:
        self.bot = bot
        self.state: Literal["building", "ready", "failed", "unavailable"] = "building"
        self.problem = ""
        self._recovering = threading.Lock()

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

    def ask(self, request: AskRequest) -> Answer:
        """``Assistant.ask``, with a failing store turned into 503 and a background recovery."""
        bot = self.assistant()
        try:
            return bot.ask(
                request.question,
                history=request.history,
                documents=request.documents,
                generator=request.generator,
            )
        except IndexBusyError:
            raise
        except IndexStoreError as exc:
            raise self.recover(exc) from None


class Runtimes:
    """A Runtime per collection of the library, each prepared on first use (the default one at start)."""

    def __init__(self, library: Library) -> None:
        self.library = library
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
                runtime = Runtime(self.library.assistant(name))
                if name != self.library.default:  # the default one starts with the app
                    runtime.start()
                self._runtimes[name] = runtime
            return self._runtimes[name]


# -- limits ------------------------------------------------------------------------------


def setting(settings: Settings, name: str, default: float) -> float:
    """A numeric setting: the ``Settings`` field, else env ``ASSISTANT_<NAME>``, else ``default``.

    Lets the limits below be configured before ``Settings`` declares them as fields.
    """
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(f"ASSISTANT_{name.upper()}")
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        log.warning("Ignoring ASSISTANT_%s=%r: not a number; using %g.", name.upper(), value, default)
        return default
    if number < 0:
        log.warning("Ignoring ASSISTANT_%s=%r: negative; using %g.", name.upper(), value, default)
        return default
    return number


class Limits(BaseModel):
    """What one client may send, and how much work the server queues (see the README's security section)."""

    rate_limit_per_minute: float = DEFAULT_PER_MINUTE  # per client address on /api/*; 0 turns it off
    rate_limit_burst: int = DEFAULT_BURST  # requests a client may send at once before the rate applies
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES  # larger request bodies get 413
    queue_size: int = DEFAULT_QUEUE_SIZE  # Gradio events waiting at once; more get 503 "queue full"
    queue_concurrency: int = DEFAULT_QUEUE_CONCURRENCY  # Gradio events answered at once

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: float) -> Limits:
        values: dict[str, Any] = {}
        for name, field in cls.model_fields.items():
            default = float(field.default)
            value = overrides.get(name, setting(settings, name, default))
            values[name] = value if name == "rate_limit_per_minute" else max(1, int(value))
        return cls(**values)


# -- allowed origins ---------------------------------------------------------------------


def allowed_origins(settings: Settings) -> list[str]:
    """Origins besides our own that may frame the pages and call the API.

    From ``settings.allowed_origins`` (env ``ASSISTANT_ALLOWED_ORIGINS``, comma-separated, e.g.
    ``https://lms.example.edu,https://portal.example.edu``; ``*`` for any), which Settings
    validates; a malformed entry that slips past is still dropped, so none can break the headers.
    """
    entries = settings.allowed_origins.split(",")
    origins = []
    for entry in (str(item).strip().rstrip("/") for item in entries):
        if not entry:
            continue
        if _ORIGIN.match(entry):
            origins.append(entry)
        else:
            log.warning("Ignoring %r in the allowed origins: use scheme://host[:port] or *.", entry)
    return origins


def frame_ancestors(origins: list[str]) -> str:
    return "frame-ancestors " + ("*" if "*" in origins else " ".join(["'self'", *origins]))


class FrameAncestorsMiddleware:
    """Adds ``Content-Security-Policy: frame-ancestors ...`` to every response, Gradio's included.

    It is a header of its own: a page's own policy (``PAGE_CSP``) is enforced alongside it.
    """

    def __init__(self, app: ASGIApp, policy: str) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append("Content-Security-Policy", self.policy)
            await send(message)

        await self.app(scope, receive, send_with_policy)


# -- documents ---------------------------------------------------------------------------


def document_summary(doc: Document, collection: str | None = None) -> dict[str, Any]:
    query = f"?collection={collection}" if collection else ""
    return {
        "doc_id": doc.doc_id,
        "title": doc.title,
        "format": doc.metadata.get("format", ""),
        "pages": len(doc.pages) or None,
        "metadata": doc.metadata,
        "sha256": doc.sha256,
        "characters": len(doc.text),
        "reading_view": f"/read/{doc.doc_id}{query}",
    }


def document_detail(doc: Document, collection: str | None = None) -> dict[str, Any]:
    """The text with its paragraphs and sentences: offsets into ``text`` and reading-view anchors."""
    sentences = document_sentences(doc)
    paragraphs = []
    for number, (start, end) in enumerate(paragraph_spans(doc.text), start=1):
        paragraphs.append(
            {
                "number": number,
                "anchor": f"p-{number}",
                "start": start,
                "end": end,
                "sentences": [
                    {
                        "index": s.index,
                        "anchor": s.anchor,
                        "start": s.start,
                        "end": s.end,
                        "page": s.page,
                        "text": s.text,
                    }
                    for s in sentences
                    if s.paragraph == number
                ],
            }
        )
    return {**document_summary(doc, collection), "text": doc.text, "paragraphs": paragraphs}


def _find_document(bot: Assistant, doc_id: str) -> Document:
    for doc in bot.documents():
        if doc.doc_id == doc_id:
            return doc
    raise ApiError(
        404, "document_not_found", f"There is no document {doc_id!r}; GET /api/documents lists them."
    )


# -- streaming ---------------------------------------------------------------------------


def _sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def answer_events(answer: Answer) -> Iterator[str]:
    """One ``sentence`` event per answer sentence, then ``final`` with the whole answer contract.

    A sentence event carries the citations its markers introduce (each with the reading
    view's ``anchor``), so a client can show sources as the sentences arrive.
    """
    data = answer.to_dict()
    by_marker = {citation["marker"]: citation for citation in data["citations"]}
    introduced: set[int] = set()
    for index, sentence in enumerate(data["sentences"]):
        new = [n for n in sentence["markers"] if n not in introduced and n in by_marker]
        introduced.update(new)
        citations = [by_marker[n] for n in new]
        yield _sse("sentence", {"index": index, **sentence, "citations": citations})
    yield _sse("final", data)


# -- the app -----------------------------------------------------------------------------


def create_app(
    bot: Assistant | None = None,
    *,
    settings: Settings | None = None,
    library: Library | None = None,
    limits_overrides: Mapping[str, float] | None = None,
) -> FastAPI:
    """The whole web app over ``library`` (by default built from ``settings`` or the environment).

    ``bot`` serves as the default collection when given. ``limits_overrides`` sets fields of
    :class:`Limits` (e.g. ``{"rate_limit_per_minute": 5}``) over what the settings say.
    """
    if library is None:
        library = Library.around(bot) if bot else Library(settings)
    runtimes = Runtimes(library)
    runtime = runtimes.default
    bot = runtime.bot

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        runtimes.start()
        yield

    app = FastAPI(
        title="Essay assistant",
        summary="Grounded answers about an essay: every sentence cites the exact sentence it rests on.",
        version="0.1.0",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
    )
    origins = allowed_origins(bot.settings)
    limits = Limits.from_settings(bot.settings, **(limits_overrides or {}))
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=limits.max_body_bytes,
        larger={ADMIN_PREFIX: library.settings.max_upload_bytes},
    )
    if limits.rate_limit_per_minute > 0:
        app.add_middleware(
            RateLimitMiddleware, per_minute=limits.rate_limit_per_minute, burst=limits.rate_limit_burst
        )
    # CORS wraps the limits, so that an allowed portal can read a 429 or 413 too.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type", "Accept"],
        max_age=600,
    )
    app.add_middleware(FrameAncestorsMiddleware, policy=frame_ancestors(origins))
    _add_error_handlers(app)

    _add_docs(app)  # before the API router, whose catch-all would answer /api/docs with 404
    app.include_router(admin_router(library))
    app.include_router(_api_router(runtimes))
    app.include_router(_page_router(runtimes))
    app.mount("/ui-static", StaticFiles(directory=STATIC_DIR), name="ui-static")
    blocks = build_ui(
        library,
        collections=runtimes.get,
        queue_size=limits.queue_size,
        concurrency=limits.queue_concurrency,
    )
    app.state.blocks = blocks
    app.state.library = library
    settings = bot.settings
    private = [settings.corpus_dir, settings.index_dir, settings.prompts_dir, PACKAGE_DIR, STATIC_DIR.parent]
    private += [info.corpus_dir for info in library.collections()]
    return mount_ui(app, blocks, blocked_paths=private, max_file_size=limits.max_body_bytes)


ASK_STREAM_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/event-stream": {}},
        "description": "`event: sentence` per answer sentence (its text, markers and the "
        "citations it introduces, each with its reading-view `anchor`), then `event: final` "
        "with the same JSON as POST /api/ask.",
    },
    **ERROR_RESPONSES,
}


def _api_router(runtimes: Runtimes) -> APIRouter:
    """The question API, for the default collection at /api/... and for any at /api/collections/{name}/..."""
    router = APIRouter(prefix="/api", tags=["assistant"])

    @router.post("/ask", response_model=Answer, responses=ERROR_RESPONSES)
    def ask(request: AskRequest) -> Answer:
        """Answer a question from the essay: text with [n] markers, and the exact quotation behind each."""
        return runtimes.default.ask(request)

    @router.post("/ask/stream", responses=ASK_STREAM_RESPONSES, response_class=StreamingResponse)
    async def ask_stream(request: AskRequest) -> StreamingResponse:
        """Answer a question as server-sent events, sentence by sentence."""
        return await _stream(runtimes.default, request)

    @router.get("/documents")
    def documents() -> list[dict[str, Any]]:
        """The documents of the corpus."""
        return [document_summary(doc) for doc in runtimes.default.bot.documents()]

    @router.get("/documents/{doc_id}", responses={404: {"model": ErrorResponse}})
    def document(doc_id: str) -> dict[str, Any]:
        """One document's text, with each paragraph and sentence: offsets and reading-view anchors."""
        return document_detail(_find_document(runtimes.default.bot, doc_id))

    @router.get("/collections", tags=["collections"])
    def collections() -> list[dict[str, Any]]:
        """The collections: each a corpus with its own index (the first is the default one)."""
        return [
            {"name": info.name, "default": info.name == runtimes.library.default, "api": _base(info.name)}
            for info in runtimes.library.collections()
        ]

    @router.post(
        "/collections/{name}/ask", response_model=Answer, responses=ERROR_RESPONSES, tags=["collections"]
    )
    def collection_ask(name: str, request: AskRequest) -> Answer:
        """POST /api/ask, for collection ``name``."""
        return runtimes.get(name).ask(request)

    @router.post(
        "/collections/{name}/ask/stream",
        responses=ASK_STREAM_RESPONSES,
        response_class=StreamingResponse,
        tags=["collections"],
    )
    async def collection_ask_stream(name: str, request: AskRequest) -> StreamingResponse:
        """POST /api/ask/stream, for collection ``name``."""
        return await _stream(runtimes.get(name), request)

    @router.get("/collections/{name}/documents", tags=["collections"])
    def collection_documents(name: str) -> list[dict[str, Any]]:
        """GET /api/documents, for collection ``name``."""
        return [document_summary(doc, name) for doc in runtimes.get(name).bot.documents()]

    @router.get(
        "/collections/{name}/documents/{doc_id}",
        responses={404: {"model": ErrorResponse}},
        tags=["collections"],
    )
    def collection_document(name: str, doc_id: str) -> dict[str, Any]:
        """GET /api/documents/{doc_id}, for collection ``name``."""
        return document_detail(_find_document(runtimes.get(name).bot, doc_id), name)

    # Without this, the chat mounted at "/" would answer unknown API paths with its own page or error.
    @router.api_route(
        "/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False
    )
    def unknown(path: str, request: Request) -> None:
        raise ApiError(
            404, "not_found", f"No API endpoint answers {request.method} /api/{path}; see /api/docs."
        )

    return router


def _base(name: str) -> str:
    return f"/api/collections/{name}"


async def _stream(runtime: Runtime, request: AskRequest) -> StreamingResponse:
    answer = await run_in_threadpool(runtime.ask, request)
    return StreamingResponse(
        answer_events(answer),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _page_router(runtimes: Runtimes) -> APIRouter:
    router = APIRouter()

    def runtime_of(collection: str | None) -> Runtime:
        return runtimes.get(collection) if collection else runtimes.default

    # async: answered on the event loop, never waiting for a worker thread that questions hold.
    @router.get("/healthz", tags=["service"])
    async def healthz() -> JSONResponse:
        """200 once the index is ready; 503 while it is being built or unreachable, 500 if that failed."""
        runtime = runtimes.default
        status = {"ready": 200, "building": 503, "unavailable": 503, "failed": 500}[runtime.state]
        body: dict[str, Any] = {"status": runtime.state}
        if runtime.problem:
            body["problem"] = runtime.problem
        return JSONResponse(body, status_code=status)

    @router.get("/embed", response_class=HTMLResponse, include_in_schema=False)
    def embed(
        theme: str | None = Query(None),
        examples: str | None = Query(None),
        collection: str | None = Query(None),
    ) -> HTMLResponse:
        """The compact chat for iframes: ``?theme=light|dark|auto&examples=0|1&collection=NAME``."""
        bot = runtime_of(collection).bot
        page = embed_page(
            corpus_title(bot.documents()),
            bot.example_questions(),
            theme=parse_theme(theme),
            show_examples=parse_flag(examples, True),
            collection=collection,
        )
        return HTMLResponse(page, headers={"Content-Security-Policy": PAGE_CSP})

    @router.get("/read", include_in_schema=False)
    def read_first(collection: str | None = Query(None)) -> RedirectResponse:
        documents = runtime_of(collection).bot.documents()
        if not documents:
            raise ApiError(404, "document_not_found", "The corpus has no documents.")
        query = f"?collection={collection}" if collection else ""
        return RedirectResponse(f"read/{documents[0].doc_id}{query}")

    @router.get("/read/{doc_id}", response_class=HTMLResponse, include_in_schema=False)
    def read(doc_id: str, collection: str | None = Query(None)) -> HTMLResponse:
        page = reading_page(_find_document(runtime_of(collection).bot, doc_id), collection=collection)

        return HTMLResponse(page, headers={"Content-Security-Policy": PAGE_CSP})

    return router


def _add_docs(app: FastAPI) -> None:
    """Swagger UI at /api/docs from the locally installed bundle, so the docs work offline too."""
    assets = _swagger_assets()
    if assets is not None:
        app.mount("/api/docs-assets", StaticFiles(directory=assets), name="swagger-assets")

    @app.get("/api/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        title = f"{app.title} · API"
        if assets is None:
            return get_swagger_ui_html(openapi_url="openapi.json", title=title)
        return get_swagger_ui_html(
            openapi_url="openapi.json",
            title=title,
            swagger_js_url="docs-assets/swagger-ui-bundle.js",
            swagger_css_url="docs-assets/swagger-ui.css",
            swagger_favicon_url="docs-assets/favicon-32x32.png",
        )


def _swagger_assets() -> Path | None:
    try:
        import swagger_ui_bundle  # type: ignore[import-untyped]
    except ImportError:
        log.warning("swagger-ui-bundle is not installed; /api/docs will load Swagger UI from its CDN.")
        return None
    return Path(swagger_ui_bundle.swagger_ui_path)


def _add_error_handlers(app: FastAPI) -> None:
    """Every error is JSON ``{"error": {"type", "message"}}`` with a status that says what to do."""

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status, exc.kind, exc.message, exc.headers)

    @app.exception_handler(AssistantError)
    async def assistant_error(_: Request, exc: AssistantError) -> JSONResponse:
        status, kind = next((s, k) for cls, s, k in _ERROR_STATUS if isinstance(exc, cls))
        if status >= 500:
            log.error("%s: %s", type(exc).__name__, exc)
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 503 else None
        return _error(status, kind, str(exc), headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(422, "invalid_request", _describe_validation(exc))

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("Unexpected error while answering a request.", exc_info=exc)
        return _error(500, "internal_error", "The server failed to answer; the error is in its log.")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        cause = exc.__cause__
        if exc.status_code == 400 and isinstance(cause, UnicodeDecodeError):
            return _error(
                400,
                "invalid_body",
                f"The request body is not valid UTF-8 (bad byte at offset {cause.start}); "
                "send the JSON encoded as UTF-8.",
            )
        if exc.status_code == 400 and cause is not None:
            return _error(
                400, "invalid_body", "The request body is not valid JSON; see /api/docs for its shape."
            )
        kind = "not_found" if exc.status_code == 404 else "http_error"
        return _error(exc.status_code, kind, str(exc.detail), getattr(exc, "headers", None))


def _describe_validation(exc: RequestValidationError) -> str:
    """One readable line, e.g. ``body.question: Field required``."""
    problems = []
    for error in exc.errors()[:5]:
        where = ".".join(str(part) for part in error.get("loc", ())) or "body"
        problems.append(f"{where}: {error.get('msg', 'invalid')}")
    return "The request body is not valid: " + "; ".join(problems) + ". See /api/docs for its shape."


def serve(settings: Settings | None = None, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Run the app with uvicorn until interrupted; the CLI's ``assistant serve``."""
    app = create_app(settings=settings)
    log.info("Chat on http://%s:%d/ · API docs /api/docs · embed page /embed", host, port)
    uvicorn.run(app, host=host, port=port, log_level="info")
