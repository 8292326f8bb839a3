"""Errors at the HTTP edge: every one answered as ``{"error": {"type", "message"}}`` with a status
that says what to do."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import (
    AccessError,
    AssistantError,
    ConfigError,
    CorpusError,
    IndexBusyError,
    IndexStoreError,
    InvalidDocumentError,
    ManagementOffError,
    NotFoundError,
    QuestionError,
    QuestionTooLongError,
)
from .schemas import ErrorDetail, ErrorResponse

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5

# Most specific first: the first class an error is an instance of decides its status.
ERROR_STATUS: tuple[tuple[type[AssistantError], int, str], ...] = (
    (QuestionTooLongError, 413, "question_too_long"),
    (QuestionError, 400, "invalid_question"),
    (NotFoundError, 404, "not_found"),
    (InvalidDocumentError, 400, "invalid_document"),
    (ManagementOffError, 403, "management_off"),
    (AccessError, 401, "unauthorized"),
    (ConfigError, 400, "invalid_setting"),
    (IndexBusyError, 503, "index_busy"),
    (IndexStoreError, 500, "index_error"),
    (CorpusError, 500, "corpus_error"),
    (AssistantError, 500, "assistant_error"),
)


class ApiError(AssistantError):
    """An error the web layer decides the status of (the index is building, no such document)."""

    def __init__(self, status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.kind, self.message, self.headers = status, kind, message, headers


def status_of(exc: AssistantError) -> tuple[int, str, dict[str, str] | None]:
    """The status, error type and headers an error of the core is answered with."""
    if isinstance(exc, ApiError):
        return exc.status, exc.kind, exc.headers
    status, kind = next((s, k) for cls, s, k in ERROR_STATUS if isinstance(exc, cls))
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 503 else None
    return status, kind, headers


def error_body(kind: str, message: str) -> ErrorResponse:
    return ErrorResponse(error=ErrorDetail(type=kind, message=message))


def error_response(
    status: int, kind: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(error_body(kind, message).model_dump(), status_code=status, headers=headers)


def add_error_handlers(app: FastAPI) -> None:
    """Errors of the core, invalid requests, Starlette's own and unexpected ones, all as JSON."""

    @app.exception_handler(AssistantError)
    async def assistant_error(_: Request, exc: AssistantError) -> JSONResponse:
        status, kind, headers = status_of(exc)
        if status >= 500:
            log.error("%s: %s", type(exc).__name__, exc)
        return error_response(status, kind, str(exc), headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, "invalid_request", describe_validation(exc))

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("Unexpected error while answering a request.", exc_info=exc)
        return error_response(500, "internal_error", "The server failed to answer; the error is in its log.")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        cause = exc.__cause__
        if exc.status_code == 400 and isinstance(cause, UnicodeDecodeError):
            return error_response(
                400,
                "invalid_body",
                f"The request body is not valid UTF-8 (bad byte at offset {cause.start}); "
                "send the JSON encoded as UTF-8.",
            )
        if exc.status_code == 400 and cause is not None:
            return error_response(
                400, "invalid_body", "The request body is not valid JSON; see /api/docs for its shape."
            )
        kind = "not_found" if exc.status_code == 404 else "http_error"
        return error_response(exc.status_code, kind, str(exc.detail), getattr(exc, "headers", None))


def describe_validation(exc: RequestValidationError) -> str:
    """One readable line, e.g. ``body.question: Field required``."""
    problems = []
    for error in exc.errors()[:5]:
        where = ".".join(str(part) for part in error.get("loc", ())) or "body"
        problems.append(f"{where}: {error.get('msg', 'invalid')}")
    return "The request body is not valid: " + "; ".join(problems) + ". See /api/docs for its shape."
