"""Server-sent events from the assistant's own event stream (``Assistant.ask_stream``).

Each event is sent the moment the core yields it: a language model's text as it is
written, then each verified sentence with the citations it introduces, then the answer.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from fastapi.responses import StreamingResponse

from ..errors import AssistantError
from ..models import StreamEvent
from .errors import error_body, status_of

log = logging.getLogger(__name__)


def sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def event_data(event: StreamEvent) -> dict[str, Any]:
    """The JSON of one event: ``token`` {text}; ``sentence`` {index, text, markers, support,
    sources, citations, refused, kind}; ``final`` the answer contract of POST /api/ask."""
    if event.kind == "final" and event.answer is not None:
        return event.answer.to_dict()
    if event.kind == "sentence" and event.sentence is not None:
        return {
            "index": event.index,
            **asdict(event.sentence),
            "citations": [asdict(c) for c in event.citations],
            "refused": event.refused,
            "kind": event.answer_kind,
        }
    return {"text": event.text}


def answer_events(events: Iterator[StreamEvent]) -> Iterator[str]:
    """The events as SSE text; a failure once the response has begun becomes an ``error`` event."""
    try:
        for event in events:
            yield sse(event.kind, event_data(event))
    except AssistantError as exc:
        status, kind, _ = status_of(exc)
        log.warning("The answer failed while streaming (%s): %s", status, exc)
        yield sse("error", {"status": status, **error_body(kind, str(exc)).model_dump()})
    except Exception:  # the status line is sent; the reader still learns that the answer broke off
        log.exception("Unexpected error while streaming an answer.")
        message = "The server failed to answer; the error is in its log."
        yield sse("error", {"status": 500, **error_body("internal_error", message).model_dump()})


def event_stream(events: Iterator[StreamEvent]) -> StreamingResponse:
    """A streaming response that a proxy passes on event by event (no buffering, no caching).

    Starlette iterates a plain iterator in a worker thread, so the answer is computed off the
    event loop and each event goes out as soon as the core yields it.
    """
    return StreamingResponse(
        answer_events(events),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
