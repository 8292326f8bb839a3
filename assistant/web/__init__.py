"""The HTTP side of the assistant: a JSON API, the Gradio chat, the reading view and the embed page.

It sits on the core (everything else in ``assistant``), which never imports it, FastAPI or
Gradio::

    /                    the chat (Gradio)            /api/docs          OpenAPI docs
    /read/{doc_id}       the text with #p-9/#s-9-2     /api/ask           answer as JSON
    /embed               compact chat for iframes      /api/ask/stream    the answer as server-sent events
    /healthz             index ready?                  /api/documents     the corpus, with anchors
    /api/collections/{name}/...  the same API for another collection (?collection=NAME on the pages)
    /api/admin/...       document management, with the admin token (see .admin)
    /v1/chat/completions, /v1/models   OpenAI-compatible chat (see .openai_compat)
    /mcp                 the MCP server over streamable HTTP (see .mcp_http)

One module per concept: ``schemas`` (requests, responses), ``errors`` (statuses),
``runtime`` (each collection's readiness and recovery), ``security`` (origins, content
policy), ``ratelimit``, ``documents``, ``streaming`` (SSE), ``routes``, ``admin``, ``openai_compat``,
``mcp_http`` and ``app`` (the factory and ``serve``).
"""

from .app import create_app, serve
from .schemas import AskRequest

__all__ = ["AskRequest", "create_app", "serve"]
