"""The LTI pages: a refusal, the instructor's reading picker (Deep Linking), the form that hands
a signed message back to the platform, and the configuration an LMS administrator copies.

All are plain HTML with the project's stylesheet; the one script (posting the form back to the
platform) runs under a per-response CSP nonce.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

from fastapi.responses import HTMLResponse

STYLE = '<link rel="stylesheet" href="{root}ui-static/embed.css">'
BASE_CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'"


def page(title: str, body: str, *, root: str = "../") -> str:
    return f"""<!doctype html>
<html lang="en" data-theme="auto">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{escape(title)}</title>
{STYLE.format(root=root)}
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
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}" if rest else "'none'"
