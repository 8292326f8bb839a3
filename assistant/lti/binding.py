"""Binding a login's state to the browser that started it (login CSRF protection, per the 1EdTech
security framework): the launch must come with a secret only that browser was given at login.

Two carriers, chosen at login:

- the platform's storage (LTI Client Side postMessages, "platform storage"), when the login
  names an ``lti_storage_target``: the login page hands the secret to the platform's frame with
  ``lti.put_data``; the launch page reads it back with ``lti.get_data`` and posts it to
  ``/lti/verify``, which accepts only a post from the tool's own page (Sec-Fetch-Site / Origin),
  so another site cannot post a secret it knows;
- otherwise a cookie (``SameSite=None; Secure; HttpOnly``, path ``/lti``, minutes long).

A browser that offers neither (no platform storage, third-party cookies blocked) is told so and
offered the login again in a window of its own, where the cookie is first-party.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from fastapi import Request
from fastapi.responses import Response

COOKIE_PREFIX = "lti_state_"
COOKIE_PATH = "/lti"
STORAGE_KEY_PREFIX = "lti_state_"  # the platform keeps each tool's keys apart (by the tool's origin)
STORAGE_TARGET = "lti_storage_target"  # the login parameter naming the platform's frame
STORAGE_FIELD = "lti_storage_value"  # the form field the launch page posts the secret in
MAX_LOGIN_CHARS = 4000  # a login's parameters kept to repeat it in a new window (Canvas's hint is ~1 kB)


def cookie_name(state: str) -> str:
    return COOKIE_PREFIX + state  # one per login: two tabs opened at once do not overwrite each other


def storage_key(state: str) -> str:
    return STORAGE_KEY_PREFIX + state


def set_cookie(response: Response, state: str, secret: str, seconds: float) -> None:
    # SameSite=None: the launch is a cross-site POST from the platform. Chromium treats
    # http://localhost and 127.0.0.1 as secure, so Secure does not stop local testing.
    response.set_cookie(
        cookie_name(state),
        secret,
        max_age=int(seconds),
        path=COOKIE_PATH,
        secure=True,
        httponly=True,
        samesite="none",
    )


def clear_cookie(response: Response, state: str) -> None:
    response.delete_cookie(cookie_name(state), path=COOKIE_PATH, secure=True, httponly=True, samesite="none")


def cookie_secret(request: Request, state: str) -> str:
    return request.cookies.get(cookie_name(state), "")


def from_own_page(request: Request) -> bool:
    """Whether a POST comes from a page of this tool, by what browsers send with it: Sec-Fetch-Site
    where they send it, else Origin. A client that sends neither is no browser another site steers."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site == "same-origin"
    origin = request.headers.get("origin")
    if origin is not None:
        return origin == origin_of(str(request.base_url))
    return True


def login_to_repeat(params: dict[str, str]) -> str:
    """The login's parameters, to repeat it in a window of its own (where no storage target
    applies); "" if too long to keep."""
    query = urlencode({k: v for k, v in params.items() if k != STORAGE_TARGET})
    return query if len(query) <= MAX_LOGIN_CHARS else ""


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
