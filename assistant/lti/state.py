"""OIDC ``state`` and ``nonce``: issued at login, each good for one launch and a few minutes.

Kept in this process's memory (the tool runs as one server process); a launch whose state
or nonce was not issued here, was used already or expired is refused, so a captured launch
cannot be replayed.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass

STATE_SECONDS = 600.0  # from login to launch: a slow LMS page and a person's click fit easily
MAX_PENDING = 100_000  # bounded: a flood of logins cannot grow memory without end


@dataclass(frozen=True)
class Pending:
    nonce: str
    issuer: str
    expires: float


class StateStore:
    def __init__(self, seconds: float = STATE_SECONDS) -> None:
        self.seconds = seconds
        self._pending: dict[str, Pending] = {}
        self._used_nonces: dict[str, float] = {}
        self._lock = threading.Lock()

    def issue(self, issuer: str) -> tuple[str, str]:
        """A new (state, nonce) pair for a login from ``issuer``."""
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        now = time.monotonic()
        with self._lock:
            self._expire(now)
            if len(self._pending) >= MAX_PENDING:
                self._pending.pop(next(iter(self._pending)))  # the oldest
            self._pending[state] = Pending(nonce, issuer, now + self.seconds)
        return state, nonce

    def take(self, state: str) -> Pending | None:
        """The login ``state`` names, once: None if unknown, used or expired."""
        now = time.monotonic()
        with self._lock:
            self._expire(now)
            return self._pending.pop(state, None)

    def use_nonce(self, nonce: str, until: float) -> bool:
        """Record ``nonce`` as used until the wall-clock time ``until``; False if it was used already."""
        with self._lock:
            now = time.time()
            self._used_nonces = {n: t for n, t in self._used_nonces.items() if t > now}
            if nonce in self._used_nonces:
                return False
            self._used_nonces[nonce] = until
            return True

    def _expire(self, now: float) -> None:
        for state in [s for s, p in self._pending.items() if p.expires <= now]:
            del self._pending[state]
