"""The LTI pages: a refusal, the instructor's reading picker (Deep Linking), the form that hands
a signed message back to the platform, the configuration an LMS administrator copies, and the
pages that keep a login's secret in the platform's storage and read it back (``binding``).

All are plain HTML with the project's stylesheet; the post-back script runs under a per-response
CSP nonce, and the platform-storage pages load their script from ``/ui-static``.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

from fastapi.responses import HTMLResponse

from .binding import origin_of

STYLE = '<link rel="stylesheet" href="{root}ui-static/embed.css">'
STORAGE_SCRIPT = '<script src="../ui-static/lti-storage.js" defer></script>'
BASE_CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'"


def page(title: str, body: str, *, root: str = "../", head: str = "", referrer: str = "no-referrer") -> str:
    return f"""<!doctype html>
<html lang="en" data-theme="auto">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="{referrer}">
<title>{escape(title)}</title>
{STYLE.format(root=root)}
{head}
</head>
<body>
<main class="refused lti">
{body}
</main>
</body>
</html>
"""


def error_response(status: int, title: str, detail: str) -> HTMLResponse:
    """A refused LTI request: what happened and what to do, for the person who sees it in the course."""
    body = f"<h1>{escape(title)}</h1>\n<p>{escape(detail)}</p>\n<p>Error {status}.</p>"
    csp = f"{BASE_CSP}; form-action 'none'; frame-ancestors *"  # nothing to click: any LMS may show it
    return HTMLResponse(page(title, body), status_code=status, headers={"Content-Security-Policy": csp})


@dataclass(frozen=True)
class Choice:
    """A collection the instructor may pick, with its documents (doc_id, title)."""

    name: str
    title: str
    documents: Sequence[tuple[str, str]]


def picker_page(token: str, choices: Sequence[Choice], course: str) -> str:
    """The Deep Linking picker: one collection, and optionally some of its documents."""
    groups = []
    for number, choice in enumerate(choices):
        checked = " checked" if number == 0 else ""
        docs = "".join(
            f'<li><label><input type="checkbox" name="documents" value="{escape(choice.name)}/{escape(doc)}">'
            f" {escape(title)}</label></li>"
            for doc, title in choice.documents
        )
        groups.append(
            f'<fieldset><legend><label><input type="radio" name="collection" value="{escape(choice.name)}"'
            f"{checked}> {escape(choice.title)}</label></legend>"
            f'<ul class="documents" aria-label="Documents of {escape(choice.title)}">{docs}</ul></fieldset>'
        )
    where = f" to <cite>{escape(course)}</cite>" if course else ""
    body = f"""<h1>Add the reading assistant{where}</h1>
<p>Pick the reading students ask about. Tick documents to limit answers to them; tick none for the
whole collection.</p>
<form method="post" action="deep-link">
<input type="hidden" name="token" value="{escape(token, quote=True)}">
<label for="title">Title in the course</label>
<input id="title" name="title" maxlength="200" value="Ask about the reading">
{"".join(groups)}
<button type="submit" class="primary">Add to the course</button>
</form>"""
    return page("Pick a reading", body)


def picker_response(html: str) -> HTMLResponse:
    csp = f"{BASE_CSP}; form-action 'self'; frame-ancestors *"
    return HTMLResponse(html, headers={"Content-Security-Policy": csp})


def post_back_response(url: str, fields: Mapping[str, str]) -> HTMLResponse:
    """A page that posts ``fields`` to the platform's ``url`` at once (a button if scripts are off)."""
    nonce = secrets.token_urlsafe(16)
    inputs = "".join(
        f'<input type="hidden" name="{escape(k, quote=True)}" value="{escape(v, quote=True)}">'
        for k, v in fields.items()
    )
    body = f"""<h1>Returning to your course</h1>
<form id="post-back" method="post" action="{escape(url, quote=True)}">{inputs}
<button type="submit" class="primary">Continue</button></form>
<script nonce="{nonce}">document.getElementById("post-back").submit();</script>"""
    csp = f"{BASE_CSP}; script-src 'nonce-{nonce}'; form-action {_origin(url)}; frame-ancestors *"
    return HTMLResponse(page("Returning to your course", body), headers={"Content-Security-Policy": csp})


def new_window_response(url: str) -> HTMLResponse:
    """The launch could not be tied to this browser (no platform storage; the login's cookie did not
    come back, as where third-party cookies are blocked): say so, and offer the login in a window of
    its own, where the cookie is first-party."""
    title = "Open the assistant in a new window"
    body = f"""<h1>{title}</h1>
<p>Your browser did not keep the check this tool needs to know the launch started here, usually
because it blocks cookies inside course pages (third-party cookies). In a window of its own the
assistant works.</p>
{_new_window_link(url)}
<p>Error 403.</p>"""
    csp = f"{BASE_CSP}; form-action 'none'; frame-ancestors *"
    return HTMLResponse(page(title, body), status_code=403, headers={"Content-Security-Policy": csp})


def storage_response(
    *,
    mode: str,
    target: str,
    origin: str,
    key: str,
    value: str = "",
    next_url: str = "",
    form: Mapping[str, str] | None = None,
    new_window: str,
    frame_ancestors: str,
) -> HTMLResponse:
    """A page whose script asks the platform's frame (``target``, at ``origin``) to keep
    (``mode`` "put": ``value`` under ``key``, then go on to ``next_url``) or give back ("get":
    into ``form``'s secret field, then post it to ``verify``) the login's secret."""
    data = {"mode": mode, "target": target, "origin": origin, "key": key, "value": value, "next": next_url}
    attributes = " ".join(f'data-{k}="{escape(v, quote=True)}"' for k, v in data.items() if v)
    inputs = "".join(
        f'<input type="hidden" name="{escape(k, quote=True)}" value="{escape(v, quote=True)}">'
        for k, v in (form or {}).items()
    )
    post = f'<form id="lti-storage-form" method="post" action="verify">{inputs}</form>' if form else ""
    body = f"""<h1>Opening the reading assistant</h1>
<div id="lti-storage" {attributes}>
<p id="lti-storage-status" role="status">Checking this launch with your course page…</p>
<div id="lti-storage-failed" hidden>
<p>If it does not open, open it in a window of its own.</p>
{_new_window_link(new_window)}
</div>
<noscript><p>The assistant needs JavaScript here.</p>{_new_window_link(new_window)}</noscript>
</div>{post}"""
    csp = f"{BASE_CSP}; script-src 'self'; form-action 'self'; frame-ancestors {frame_ancestors}"
    # Referrer policy same-origin, not no-referrer: under no-referrer a browser sends "Origin: null"
    # with the form's POST, and /lti/verify checks that it comes from this origin.
    headers = {"Content-Security-Policy": csp, "Referrer-Policy": "same-origin", "Cache-Control": "no-store"}
    html = page("Opening the reading assistant", body, head=STORAGE_SCRIPT, referrer="same-origin")
    return HTMLResponse(html, headers=headers)


def _new_window_link(url: str) -> str:
    if not url:
        return "<p>Open the assistant again from your course, in a new tab.</p>"
    return (
        f'<p><a class="primary" href="{escape(url, quote=True)}" target="_blank" rel="noopener" '
        'id="new-window">Open the assistant in a new window</a></p>'
    )


def config_page(values: Mapping[str, str], canvas_json: dict[str, object]) -> str:
    rows = "".join(
        f"<tr><th scope='row'>{escape(k)}</th><td><code>{escape(v)}</code></td></tr>"
        for k, v in values.items()
    )
    canvas = escape(json.dumps(canvas_json, indent=2))
    body = f"""<h1>Add the reading assistant to an LMS (LTI 1.3)</h1>
<p>Register the tool with these values (Moodle: Site administration › Plugins › External tool ›
Manage tools › configure a tool manually; Open edX: an LTI Consumer component, LTI 1.3), then give
this tool the platform's issuer, client id, deployment id, key set URL and authorization URL
(its LTI configuration file or the admin API).</p>
<table class="lti-values">{rows}</table>
<h2>Canvas developer key (Admin › Developer Keys › + LTI Key › Paste JSON)</h2>
<p>Also at <a href="config/canvas.json">config/canvas.json</a>.</p>
<pre>{canvas}</pre>"""
    return page("LTI configuration", body)


def _origin(url: str) -> str:
    """``url``'s origin for a CSP source list; 'none' for a value that is not a URL."""
    return origin_of(url) if "://" in url else "'none'"
