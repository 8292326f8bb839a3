"""What the tool hands the browser after a launch: a signed, short-lived token, carried in the
page's URL and the chat's request headers rather than a cookie, so the chat works inside an
LMS's iframe where third-party cookies are blocked.

The token names the user and the course only by pseudonyms (keyed hashes of the platform's
opaque ids): it, and the question log, hold no name, email or LMS id.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

import jwt

from .launch import Launch
from .protocol import LtiError

SESSION_AUDIENCE = "assistant-session"
HEADER = "X-Assistant-Session"  # the chat page sends its token in this header


@dataclass(frozen=True)
class Session:
    user: str  # pseudonymous
    context: str  # pseudonymous course id; "" when the launch named no course
    context_title: str
    instructor: bool
    collection: str | None
    documents: tuple[str, ...]


class Signer:
    """Signs and checks the tool's own tokens (HS256 with the tool's secret), each for one purpose."""

    def __init__(self, secret: bytes, session_minutes: int) -> None:
        self._secret = secret
        self.session_seconds = session_minutes * 60

    def pseudonym(self, *parts: str) -> str:
        joined = "\x00".join(parts).encode()
        return hmac.new(self._secret, joined, hashlib.sha256).hexdigest()[:24]

    def sign(self, claims: dict[str, Any], purpose: str, seconds: int) -> str:
        now = int(time.time())
        return jwt.encode({**claims, "aud": purpose, "iat": now, "exp": now + seconds}, self._secret, "HS256")

    def read(self, token: str, purpose: str) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token, self._secret, algorithms=["HS256"], audience=purpose, options={"require": ["exp"]}
            )
        except jwt.ExpiredSignatureError:
            raise LtiError(
                401, "This session has expired", "Open the assistant again from your course to continue."
            ) from None
        except jwt.PyJWTError:
            raise LtiError(
                401, "This session is not valid", "Open the assistant again from your course."
            ) from None
        return claims

    def session_token(self, launch: Launch, collection: str | None, documents: tuple[str, ...]) -> str:
        issuer = launch.platform.issuer
        user = self.pseudonym(issuer, launch.user) if launch.user else secrets.token_hex(12)
        context = self.pseudonym(issuer, launch.context_id) if launch.context_id else ""
        claims = {
            "sub": user,
            "ctx": context,
            "ctx_title": launch.context_title,
            "teach": launch.instructor,
            "col": collection,
            "docs": list(documents),
        }
        return self.sign(claims, SESSION_AUDIENCE, self.session_seconds)

    def session(self, token: str) -> Session:
        claims = self.read(token, SESSION_AUDIENCE)
        return Session(
            user=str(claims.get("sub", "")),
            context=str(claims.get("ctx", "")),
            context_title=str(claims.get("ctx_title", "")),
            instructor=bool(claims.get("teach")),
            collection=claims.get("col"),
            documents=tuple(claims.get("docs") or ()),
        )
