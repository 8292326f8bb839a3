"""``/insights``: the insight page for one collection, for the admin (``Authorization: Bearer``
with the admin token) or an instructor launched over LTI (``?session=``: their course only)."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Header, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from ui.render import corpus_title

from ..errors import AccessError
from ..web.runtime import Runtimes
from .analysis import analyse
from .log import QuestionLog
from .page import STYLE, insight_page

PAGE_CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'"


def install(app: FastAPI, log: QuestionLog, runtimes: Runtimes) -> None:
    """Add the insight page; called only when the question log is on."""
    router = APIRouter(include_in_schema=False)
    settings = runtimes.library.settings

    @router.get("/insights/insights.css")
    def style() -> Response:
        return Response(STYLE, media_type="text/css", headers={"Cache-Control": "public, max-age=300"})

    @router.get("/insights/")
    async def page(
        collection: str | None = Query(None),
        session: str | None = Query(None),
        authorization: str | None = Header(None),
    ) -> HTMLResponse:
        course: str | None = None
        given = (authorization or "").removeprefix("Bearer ").strip()
        if settings.is_admin_token(given):
            scope = "All courses (admin)"
        else:
            lti = getattr(app.state, "lti", None)
            if not session or lti is None:
                raise AccessError("The insight page needs the admin token, or an instructor's LTI launch.")
            opened = lti.signer.session(session)
            if not opened.instructor:
                raise AccessError("Only instructors see the insight page.")
            course, collection = opened.context, opened.collection
            scope = f"Your course: {opened.context_title or 'this course'}"
        runtime = runtimes.get(collection) if collection else runtimes.default
        bot = runtime.bot

        def build() -> str:
            rows = list(log.rows(collection=runtime.name, course=course))
            insights = analyse(rows, bot.embeddings.encode)
            documents = bot.documents()
            return insight_page(
                corpus_title(documents),
                insights,
                documents,
                transcripts=settings.question_log_transcripts,
                scope=scope,
            )

        html = await run_in_threadpool(build)
        return HTMLResponse(
            html, headers={"Content-Security-Policy": PAGE_CSP, "Referrer-Policy": "no-referrer"}
        )

    app.include_router(router)
