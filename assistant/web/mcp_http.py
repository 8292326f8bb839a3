"""The MCP server (:mod:`assistant.mcp_server`) over streamable HTTP at ``/mcp`` on ``assistant serve``.

Stateless: each request stands alone, so nothing is lost when the server restarts and any worker
can answer. Questions go through the server's own runtimes, so a collection whose index is still
being built answers with a tool error that says so. ``ASSISTANT_API_TOKEN``, when set, must be
sent as ``Authorization: Bearer <token>``; the app's rate limit and body limit apply as to /api.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from fastapi import FastAPI
from mcp.server.transport_security import TransportSecuritySettings
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from ..config import Settings
from ..mcp_server import ReadingServer
from ..pipeline import Assistant
from .ratelimit import send_error
from .runtime import Runtimes

MCP_PATH = "/mcp"


def mount_mcp(app: FastAPI, runtimes: Runtimes) -> Callable[[], AbstractAsyncContextManager[None]]:
    """Serve MCP at ``/mcp`` (before the chat takes "/"); returns what the app's lifespan must run."""

    def assistant_of(name: str) -> Assistant:
        return runtimes.get(name).assistant()  # an error while the index is not ready

    server = ReadingServer(runtimes.library, assistant_of)
    http = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        stateless_http=True,
        # The SDK's Host/Origin check assumes a server bound to localhost; this one may be served
        # under any name, and browsers' cross-origin calls are governed by the app's CORS policy.
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    app.router.routes.append(Route(MCP_PATH, endpoint=_TokenGuard(http, runtimes.library.settings)))
    return server.session_manager.run


class _TokenGuard:
    """401 unless the request carries the API token (when one is configured)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        header = dict(scope.get("headers") or []).get(b"authorization", b"").decode("latin-1")
        scheme, _, token = header.partition(" ")
        given = token.strip() if scheme.lower() == "bearer" else None
        if scope["type"] == "http" and not self.settings.is_api_token(given):
            message = "Send the server's API token (ASSISTANT_API_TOKEN) as `Authorization: Bearer <token>`."
            await send_error(send, 401, "invalid_api_key", message, [(b"www-authenticate", b"Bearer")])
            return
        await self.app(scope, receive, send)
