"""Request limits for the web app: a per-client rate limit and a cap on request bodies.

Both are plain ASGI middleware, so they work the same in front of FastAPI routes,
streaming responses and the mounted Gradio app, and they answer in the API's error
shape ``{"error": {"type", "message"}}``:

- :class:`RateLimitMiddleware` keeps a token bucket per client address (``burst``
  requests at once, refilled at ``per_minute``) for the paths it guards (``/api/``
  by default; ``/healthz`` is never limited). Over the limit: ``429`` with a
  ``Retry-After`` header saying when the next request is accepted. Behind a proxy,
  run uvicorn with ``--proxy-headers --forwarded-allow-ips=...`` so the client
  address is the reader's, not the proxy's.
- :class:`BodySizeLimitMiddleware` answers ``413`` to a body over ``max_bytes``,
  from its ``Content-Length`` before reading anything, or while reading a body
  sent without one; the app never sees the oversized body.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_TRACKED_CLIENTS = 10_000


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """Token buckets per key: ``burst`` tokens at most, ``per_minute`` added back each minute.

    Thread-safe; remembers at most ``max_clients`` keys (the least recently seen are
    forgotten first, which only ever gives a forgotten client a full bucket).
    """

    def __init__(
        self,
        per_minute: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = MAX_TRACKED_CLIENTS,
    ) -> None:
        if per_minute <= 0 or burst < 1:
            raise ValueError("per_minute must be positive and burst at least 1")
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Take one token for ``key``: 0.0 if allowed, else the seconds until one is available."""
        now = self.clock()
        with self._lock:
            bucket = self._buckets.pop(key, None) or _Bucket(self.burst, now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            self._buckets[key] = bucket
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / self.rate


def error_body(kind: str, message: str) -> bytes:
    return json.dumps({"error": {"type": kind, "message": message}}).encode()


async def send_error(
    send: Send, status: int, kind: str, message: str, headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    body = error_body(kind, message)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def client_key(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class RateLimitMiddleware:
    """429 with ``Retry-After`` once a client has used up its bucket on a guarded path."""

    def __init__(
        self,
        app: ASGIApp,
        per_minute: float,
        burst: int,
        *,
        prefixes: Sequence[str] = ("/api/",),
        exempt: Sequence[str] = ("/healthz",),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.buckets = TokenBuckets(per_minute, burst, clock=clock)
        self.prefixes = tuple(prefixes)
        self.exempt = frozenset(exempt)
        self.per_minute = per_minute

    def guards(self, path: str) -> bool:
        return path not in self.exempt and path.startswith(self.prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") == "OPTIONS" or not self.guards(scope["path"]):
            await self.app(scope, receive, send)
            return
        wait = self.buckets.take(client_key(scope))
        if wait <= 0:
            await self.app(scope, receive, send)
            return
        retry_after = max(1, math.ceil(wait))
        await send_error(
            send,
            429,
            "rate_limited",
            f"Too many requests: the limit is {self.per_minute:g} a minute per client; "
            f"retry in {retry_after} s.",
            [(b"retry-after", str(retry_after).encode())],
        )


class BodySizeLimitMiddleware:
    """413 for a request body over ``max_bytes``, whether it declares its length or not.

    ``larger`` maps path prefixes to their own limits (document uploads to the admin API).
    """

    def __init__(self, app: ASGIApp, max_bytes: int, larger: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = larger or {}

    def _limit(self, scope: Scope) -> int:
        path = str(scope.get("path", ""))
        return next(
            (limit for prefix, limit in self.larger.items() if path.startswith(prefix)), self.max_bytes
        )

    def _message(self, limit: int) -> str:
        return f"The request body is larger than {limit:,} bytes; send a shorter question and history."

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                await send_error(send, 400, "bad_request", "The Content-Length header is not a number.")
                return
            if length > limit:
                await send_error(send, 413, "request_too_large", self._message(limit))
                return
        # A body without Content-Length (chunked) is read up to the limit before the app runs,
        # then handed on as read.
        if declared is None and scope.get("method") in ("POST", "PUT", "PATCH"):
            messages: list[Message] = []
            size = 0
            while True:
                message = await receive()
                messages.append(message)
                if message["type"] != "http.request":
                    break
                size += len(message.get("body", b""))
                if size > limit:
                    await send_error(send, 413, "request_too_large", self._message(limit))
                    return
                if not message.get("more_body", False):
                    break
            replay = iter(messages)

            async def replayed() -> Message:
                try:
                    return next(replay)
                except StopIteration:
                    return await receive()

            await self.app(scope, replayed, send)
            return
        await self.app(scope, receive, send)
