"""What the HTTP API accepts and answers, as pydantic models and OpenAPI response tables."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from ..backends import BackendName
from ..models import Message

# More than a body under the size limit can hold; the assistant keeps only its history window.
MAX_HISTORY_MESSAGES = 10_000


class AskRequest(BaseModel):
    question: str = Field(
        description="The question about the text.", examples=["What does the text say about this?"]
    )
    history: list[Message] = Field(
        default_factory=list,
        max_length=MAX_HISTORY_MESSAGES,
        description="The conversation so far, oldest first, so that follow-up questions resolve; "
        "only the most recent turns (the configured window) are used.",
    )
    documents: list[str] | None = Field(
        default=None,
        max_length=1000,
        description="Answer only from these documents (doc_ids from GET .../documents); all when omitted.",
        examples=[["my-reading"]],
    )
    generator: BackendName | None = Field(
        default=None,
        description="Who writes the answer: the configured back end by default, or 'extractive' "
        "(quotations only) when a language model is configured.",
    )


class ErrorDetail(BaseModel):
    type: str = Field(description="A stable machine-readable kind, e.g. question_too_long.")
    message: str = Field(description="What went wrong and how to fix it, for people.")


class ErrorResponse(BaseModel):
    error: ErrorDetail


def responses(
    statuses: dict[int, str], body: type[BaseModel] = ErrorResponse
) -> dict[int | str, dict[str, Any]]:
    """An OpenAPI ``responses`` table: each status answered with the error ``body`` and why."""
    return {code: {"model": body, "description": text} for code, text in statuses.items()}


# Answered by the middleware in front of every /api/ route.
LIMITED = responses(
    {
        429: "Too many requests from this client; retry after the Retry-After header's seconds.",
        413: "The request body is over the size limit.",
    }
)
ADMIN_RESPONSES = responses(
    {
        400: "The file's type is not readable, or it is not a valid document of its type.",
        401: "The admin token is missing or wrong: send `Authorization: Bearer <token>`.",
        403: "Document management over HTTP is off: no admin token is configured on the server.",
        404: "No such collection or document.",
        503: "Another process is ingesting this collection; retry later.",
    }
)

ERROR_RESPONSES = responses(
    {
        400: "The question is empty or contains control characters.",
        413: "The question is longer than the configured maximum, or the body is over the size limit.",
        429: "Too many requests from this client; retry after the Retry-After header's seconds.",
        422: "The request body is not valid JSON of the documented shape.",
        503: "The index is still being built, or another process is ingesting; retry later.",
    }
)

ASK_STREAM_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/event-stream": {}},
        "description": "Server-sent events, as the answer is written: `event: token` with display "
        'text as a language model writes it (`data: {"text"}`; a sentence its quotes do not '
        "support is followed by ` (unverified)`; none from the extractive answerer), then "
        "`event: sentence` for each verified answer sentence (its `index`, text, markers and "
        "the citations it introduces, each with its reading-view `anchor`), then `event: final` "
        "with the same JSON as POST /api/ask. A failure after the first event is sent as "
        "`event: error` with the error body.",
    },
    **ERROR_RESPONSES,
}
