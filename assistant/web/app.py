"""The web app: one FastAPI app serving the JSON API, the Gradio chat, the reading view and the
embed page (``assistant serve``, ``make run``).

The process serves every collection of one :class:`~assistant.library.Library` and
prepares each index in a background thread, so the server is up at once and questions
get 503 until their collection is ready.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from ui import STATIC_DIR
from ui.app import build_ui, mount_ui

from ..config import PACKAGE_DIR, Settings
from ..library import Library
from ..pipeline import Assistant
from .admin import ADMIN_PREFIX, admin_router
from .errors import add_error_handlers
from .mcp_http import MCP_PATH, mount_mcp
from .openai_compat import OPENAI_PREFIX, openai_router
from .ratelimit import BodySizeLimitMiddleware, RateLimitMiddleware
from .routes import api_router, page_router
from .runtime import Runtimes
from .schemas import ADMIN_RESPONSES, LIMITED
from .security import FrameAncestorsMiddleware, allowed_origins, frame_ancestors

log = logging.getLogger(__name__)


def create_app(
    bot: Assistant | None = None,
    *,
    settings: Settings | None = None,
    library: Library | None = None,
    limits_overrides: Mapping[str, float] | None = None,
) -> FastAPI:
    """The whole web app over ``library`` (by default built from ``settings`` or the environment).

    ``bot`` serves as the default collection when given. ``limits_overrides`` sets the settings
    of what a client may send and how much work is queued (``rate_limit_per_minute``,
    ``rate_limit_burst``, ``max_body_bytes``, ``queue_size``, ``queue_concurrency``) over the
    configured ones, e.g. ``{"rate_limit_per_minute": 5}``.
    """
    if library is None:
        library = Library.around(bot) if bot else Library(settings)
    recorder = None
    if library.settings.question_log:  # nothing is logged, or written anywhere, without it
        from ..insights.recorder import open_recorder

        recorder = open_recorder(library.settings)
    runtimes = Runtimes(library, observer=recorder)
    bot = runtimes.default.bot

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if recorder is not None:
            recorder.log.start()
        runtimes.start()
        async with mcp_sessions():
            yield
        if recorder is not None:
            recorder.log.close()

    app = FastAPI(
        title="Reading assistant",
        summary="Grounded answers about a text: every sentence cites the exact sentence it rests on.",
        version="0.1.0",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
    )
    origins = allowed_origins(bot.settings)
    limits = bot.settings.model_copy(update=dict(limits_overrides or {}))
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=limits.max_body_bytes,
        larger={ADMIN_PREFIX: library.settings.max_upload_bytes},
    )
    if limits.rate_limit_per_minute > 0:
        app.add_middleware(
            RateLimitMiddleware,
            per_minute=limits.rate_limit_per_minute,
            burst=limits.rate_limit_burst,
            prefixes=("/api/", f"{OPENAI_PREFIX}/", MCP_PATH),
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
    add_error_handlers(app)
    if library.settings.lti_config is not None:  # no LTI route exists without its configuration
        from ..lti.routes import install as install_lti

        lti = install_lti(app, library.settings, runtimes)
        if recorder is not None:
            recorder.identify = lti.signer.session
    if recorder is not None:
        from ..insights.routes import install as install_insights

        install_insights(app, recorder.log, runtimes)

    _add_docs(app)  # before the API router, whose catch-all would answer /api/docs with 404
    app.include_router(admin_router(library), responses={**LIMITED, **ADMIN_RESPONSES})
    app.include_router(api_router(runtimes), responses=LIMITED)
    app.include_router(openai_router(runtimes))
    mcp_sessions = mount_mcp(app, runtimes)
    app.include_router(page_router(runtimes, origins))
    app.mount("/ui-static", StaticFiles(directory=STATIC_DIR), name="ui-static")
    blocks = build_ui(
        library,
        collections=runtimes.get,
        queue_size=limits.queue_size,
        concurrency=limits.queue_concurrency,
    )
    app.state.blocks = blocks
    app.state.question_log = recorder.log if recorder is not None else None
    app.state.library = library
    settings = bot.settings
    private = [settings.corpus_dir, settings.index_dir, settings.prompts_dir, PACKAGE_DIR, STATIC_DIR.parent]
    private += [info.corpus_dir for info in library.collections()]
    return mount_ui(app, blocks, blocked_paths=private, max_file_size=limits.max_body_bytes)


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


def serve(settings: Settings | None = None, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Run the app with uvicorn until interrupted; the CLI's ``assistant serve``."""
    app = create_app(settings=settings)
    log.info("Chat on http://%s:%d/ · API docs /api/docs · embed page /embed", host, port)
    uvicorn.run(app, host=host, port=port, log_level="info")
