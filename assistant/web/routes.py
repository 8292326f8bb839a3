"""The routes: the question API once per collection, and the pages (health, embed, reading view).

Every question route is written once and served twice: for the default collection at
``/api/...`` and for any collection at ``/api/collections/{name}/...``; a dependency
resolves which collection's runtime answers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, StreamingResponse

from ui.embed import embed_page, parse_flag, parse_theme, refused_page
from ui.reading import missing_page, reading_page
from ui.render import corpus_title

from ..models import Answer
from .documents import document_detail, document_summary, find_document
from .errors import ApiError
from .runtime import Runtime, Runtimes
from .schemas import ASK_STREAM_RESPONSES, ERROR_RESPONSES, AskRequest, responses
from .security import EXPLANATION_CSP, PAGE_CSP
from .streaming import event_stream

NOT_FOUND = responses({404: "No such collection or document."})
SESSION = Header(
    None,
    alias="X-Assistant-Session",
    description="An LTI launch's session token (the chat page sends it); the question log's asker.",
)


def api_router(runtimes: Runtimes) -> APIRouter:
    """The question API, for the default collection at /api/... and for any at /api/collections/{name}/..."""
    router = APIRouter(prefix="/api", tags=["assistant"])

    def default() -> Runtime:
        return runtimes.default

    def named(name: str) -> Runtime:
        return runtimes.get(name)

    _collection_routes(router, "", default, tags=["assistant"])
    _collection_routes(router, "/collections/{name}", named, tags=["collections"])

    @router.get("/collections", tags=["collections"])
    def collections() -> list[dict[str, Any]]:
        """The collections: each a corpus with its own index (the first is the default one)."""
        return [
            {
                "name": info.name,
                "default": info.name == runtimes.library.default,
                "api": f"/api/collections/{info.name}",
            }
            for info in runtimes.library.collections()
        ]

    # Without this, the chat mounted at "/" would answer unknown API paths with its own page or error.
    @router.api_route(
        "/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False
    )
    def unknown(path: str, request: Request) -> None:
        raise ApiError(
            404, "not_found", f"No API endpoint answers {request.method} /api/{path}; see /api/docs."
        )

    return router


def _collection_routes(
    router: APIRouter, prefix: str, runtime_of: Callable[..., Runtime], tags: list[str | Any]
) -> None:
    """Ask, ask as a stream, list the documents and read one, for the collection ``runtime_of`` gives."""
    collection = Depends(runtime_of)

    @router.post(
        f"{prefix}/ask", response_model=Answer, responses={**ERROR_RESPONSES, **NOT_FOUND}, tags=tags
    )
    def ask(request: AskRequest, runtime: Runtime = collection, session: str | None = SESSION) -> Answer:
        """Answer a question from the text: text with [n] markers, and the exact quotation behind each."""
        return runtime.ask(request, session)

    @router.post(
        f"{prefix}/ask/stream",
        responses={**ASK_STREAM_RESPONSES, **NOT_FOUND},
        response_class=StreamingResponse,
        tags=tags,
    )
    async def ask_stream(
        request: AskRequest, runtime: Runtime = collection, session: str | None = SESSION
    ) -> StreamingResponse:
        """Answer a question as server-sent events, as it is written (see the 200 response)."""
        # Checked before the response begins, so a bad question still gets its status.
        events = await run_in_threadpool(runtime.stream, request, session)
        return event_stream(events)

    @router.get(f"{prefix}/documents", responses=NOT_FOUND, tags=tags)
    def documents(runtime: Runtime = collection) -> list[dict[str, Any]]:
        """The documents of the collection."""
        return [document_summary(doc, runtime.collection) for doc in runtime.bot.documents()]

    @router.get(f"{prefix}/documents/{{doc_id}}", responses=NOT_FOUND, tags=tags)
    def document(doc_id: str, runtime: Runtime = collection) -> dict[str, Any]:
        """One document's text, with each paragraph and sentence: offsets and reading-view anchors."""
        return document_detail(find_document(runtime.bot, doc_id), runtime.collection)


def page_router(runtimes: Runtimes, origins: list[str]) -> APIRouter:
    """/healthz, the embed page and the reading view; ``origins`` may frame the pages."""
    router = APIRouter()

    def runtime_of(collection: str | None) -> Runtime:
        return runtimes.get(collection) if collection else runtimes.default

    # async: answered on the event loop, never waiting for a worker thread that questions hold.
    @router.get(
        "/healthz",
        tags=["service"],
        responses={
            503: {"description": "The index is being built, or its store cannot be reached."},
            500: {"description": "The index could not be built; `problem` says why."},
        },
    )
    async def healthz() -> JSONResponse:
        """200 once the index is ready; 503 while it is being built or unreachable, 500 if that failed."""
        runtime = runtimes.default
        status = {"ready": 200, "building": 503, "unavailable": 503, "failed": 500}[runtime.state]
        body: dict[str, Any] = {"status": runtime.state}
        if runtime.problem:
            body["problem"] = runtime.problem
        return JSONResponse(body, status_code=status)

    # HEAD too: link checkers and portals' "add a link" dialogs probe pages with it.
    @router.api_route("/embed", methods=["GET", "HEAD"], response_class=HTMLResponse, include_in_schema=False)
    def embed(
        request: Request,
        theme: str | None = Query(None),
        examples: str | None = Query(None),
        collection: str | None = Query(None),
    ) -> HTMLResponse:
        """The compact chat for iframes: ``?theme=light|dark|auto&examples=0|1&collection=NAME``."""
        bot = runtime_of(collection).bot
        title = corpus_title(bot.documents())
        refused_by = _framing_origin_refused(request, origins)
        if refused_by is not None:
            page = refused_page(title, refused_by or None, origins, str(request.url))
            return HTMLResponse(page, headers={"Content-Security-Policy": EXPLANATION_CSP})
        page = embed_page(
            title,
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

    @router.api_route(
        "/read/{doc_id}", methods=["GET", "HEAD"], response_class=HTMLResponse, include_in_schema=False
    )
    def read(doc_id: str, collection: str | None = Query(None)) -> HTMLResponse:
        documents = runtime_of(collection).bot.documents()
        found = next((doc for doc in documents if doc.doc_id == doc_id), None)
        if found is None:  # a page, not the API's JSON error: a person followed this link
            page = missing_page(doc_id, documents, collection=collection)
            return HTMLResponse(page, status_code=404, headers={"Content-Security-Policy": PAGE_CSP})
        page = reading_page(found, collection=collection)
        return HTMLResponse(page, headers={"Content-Security-Policy": PAGE_CSP})

    return router


def _framing_origin_refused(request: Request, origins: list[str]) -> str | None:
    """The origin of a page framing this one that may not, "" when the browser did not say which,
    None when the request is not a frame of another site's page or that site is allowed.

    Browsers say a request loads a frame (``Sec-Fetch-Dest``) and whether for another site
    (``Sec-Fetch-Site``); the ``Referer`` carries the framing page's origin by default.
    """
    if request.headers.get("sec-fetch-dest") != "iframe":
        return None
    if request.headers.get("sec-fetch-site") not in ("cross-site", "same-site") or "*" in origins:
        return None
    referer = urlsplit(request.headers.get("referer", ""))
    parent = f"{referer.scheme}://{referer.netloc}" if referer.scheme and referer.netloc else ""
    return None if parent in origins else parent
