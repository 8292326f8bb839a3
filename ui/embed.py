"""The embed page: a compact chat for an ``<iframe>`` in a study portal.

It is a small static page (``ui/static/embed.js`` and ``embed.css``) that talks to
``/api/ask/stream``, not a second Gradio app: it loads fast inside a course page,
needs no script from elsewhere, and lets a strict Content-Security-Policy apply.
Query parameters are applied here on the server, so the page never flashes the
wrong theme: ``theme=light|dark|auto`` and ``examples=0|1``.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Literal

Theme = Literal["light", "dark", "auto"]
THEMES: tuple[Theme, ...] = ("light", "dark", "auto")


def parse_theme(value: str | None) -> Theme:
    """An unknown theme falls back to the reader's system preference rather than failing the page."""
    for theme in THEMES:
        if value == theme:
            return theme
    return "auto"


def parse_flag(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    return value.strip().lower() not in ("0", "false", "no", "off")


def embed_page(
    title: str,
    examples: Sequence[str],
    *,
    theme: Theme,
    show_examples: bool,
    collection: str | None = None,
    root: str = "",
    session: str | None = None,
    documents: Sequence[str] = (),
    insights_url: str | None = None,
) -> str:
    """The complete HTML of ``/embed``; paths are relative so it works under any mount prefix.

    The page's heading is for screen readers only: inside a portal's frame, the portal's page
    already shows the reading's title, and the frame's height is better spent on the chat.
    The sources drawer is a ``<dialog>``: ``embed.js`` opens it as a modal where it covers the
    chat (a narrow frame), beside the chat otherwise.

    ``collection`` (already checked to exist) makes the page ask that collection's API.
    ``root`` leads the page's relative paths where it is served below the top (``../``);
    ``session`` is a launch's session token, sent with each question (LTI); ``documents``
    limits the answers to those documents; ``insights_url`` (an instructor's launch) links the
    insight page.
    """
    insights = (
        f'<a id="insights" href="{escape(insights_url, quote=True)}" target="_blank" rel="noopener">'
        "What students ask</a>"
        if insights_url
        else ""
    )
    title = escape(title)
    data = {"collection": collection, "root": root, "session": session, "documents": ",".join(documents)}
    body_data = "".join(f' data-{key}="{escape(value, quote=True)}"' for key, value in data.items() if value)
    example_items = "".join(
        f'<li><button type="button" class="example">{escape(question)}</button></li>' for question in examples
    )
    example_list = (
        f'<ul class="examples" aria-label="Example questions">{example_items}</ul>' if show_examples else ""
    )
    return f"""<!doctype html>
<html lang="en" data-theme="{theme}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Ask about {title}</title>
<link rel="stylesheet" href="{root}ui-static/embed.css">
<script src="{root}ui-static/embed.js" defer></script>
</head>
<body{body_data}>
<div class="embed">
  <main class="chat" aria-label="Questions about {title}">
    <h1 class="visually-hidden">Ask about {title}</h1>
    <div class="toolbar">
      <button type="button" id="sources-toggle" aria-expanded="false" aria-controls="drawer">Sources
        (<span id="sources-count">0</span>)</button>
      <button type="button" id="new-chat">New conversation</button>{insights}
    </div>
    <div id="log" class="log" role="log" aria-live="polite" aria-label="Conversation">
      <div id="intro" class="intro">
        <p>Ask about <cite>{title}</cite>. Every answer quotes the text: select a marker such as
        [1] to see the sentence it rests on.</p>
        {example_list}
      </div>
    </div>
    <form id="ask-form" class="ask">
      <label for="question" class="visually-hidden">Your question about the text</label>
      <textarea id="question" name="question" rows="2" required
        placeholder="Ask a question about the text"></textarea>
      <button type="submit" id="ask-button" class="primary">Ask</button>
    </form>
  </main>
  <dialog id="drawer" class="drawer" aria-labelledby="drawer-title">
    <div class="drawer-head">
      <h2 id="drawer-title">Sources</h2>
      <button type="button" id="drawer-close" aria-label="Close sources">Close</button>
    </div>
    <div id="drawer-body" class="drawer-body">
      <p class="empty">The quotations behind each answer appear here.</p>
    </div>
  </dialog>
</div>
</body>
</html>
"""


def refused_page(title: str, parent: str | None, allowed: Sequence[str], link: str) -> str:
    """What a portal whose origin may not frame ``/embed`` shows in its frame, instead of the
    browser's blank error: why, who can change it, and a link that opens the chat in a tab.

    It carries no form and no script, so letting any site frame it gives a clickjacker nothing.
    """
    site = f"<strong>{escape(parent)}</strong>" if parent else "this site"
    others = ", ".join(escape(origin) for origin in allowed if origin != "*")
    permitted = f"its own pages and {others}" if others else "its own pages only"
    wanted = [origin for origin in allowed if origin != "*"] + [parent or "https://portal.example.edu"]
    setting = escape(",".join(wanted))
    opener = f'<a href="{escape(link, quote=True)}" target="_blank" rel="noopener">'

    return f"""<!doctype html>
<html lang="en" data-theme="auto">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>This assistant cannot be shown here</title>
<link rel="stylesheet" href="ui-static/embed.css">
</head>
<body>
<main class="refused">
  <h1>The assistant for {escape(title)} cannot be shown here</h1>
  <p>The server that hosts it lets {permitted} embed it, not {site}.</p>
  <p>Its administrator can allow this site by adding it to the allowed origins:
  <code>ASSISTANT_ALLOWED_ORIGINS={setting}</code> (see “Embedding in a study portal” in the README).</p>
  <p>{opener}Open the assistant in a new tab</a></p>
</main>
</body>
</html>
"""
