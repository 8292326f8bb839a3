"""Which other origins may frame the pages and call the API, and the pages' own content policy.

``ASSISTANT_ALLOWED_ORIGINS`` is applied through CORS and ``Content-Security-Policy:
frame-ancestors``; by default only the same origin may.
"""

from __future__ import annotations

import logging
import re

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..config import Settings

log = logging.getLogger(__name__)

# The pages of our own carry no inline script or style, so they can forbid both.
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'"
)
# The page that explains to a portal why it may not frame the chat: nothing on it to click
# but a link, so any site may frame it.
EXPLANATION_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors *"
)
_ORIGIN = re.compile(r"^(\*|https?://[A-Za-z0-9.\-]+(:\d{1,5})?|https?://\[[0-9A-Fa-f:.]+\](:\d{1,5})?)$")


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

    It is a header of its own: a page's own policy (``PAGE_CSP``) is enforced alongside it. A
    response whose own policy already says who may frame it (``EXPLANATION_CSP``) keeps that.
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
                headers = MutableHeaders(scope=message)
                if not any("frame-ancestors" in p for p in headers.getlist("content-security-policy")):
                    headers.append("Content-Security-Policy", self.policy)
            await send(message)

        await self.app(scope, receive, send_with_policy)
