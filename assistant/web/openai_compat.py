"""An OpenAI-compatible chat endpoint, so that any chat front end or library that speaks OpenAI's
chat-completions API can ask a collection: ``POST /v1/chat/completions`` and ``GET /v1/models``.

Each collection is a model, ``reading:NAME``. The last user message is the question and the
earlier user and assistant messages are its history (system prompts are ignored: the assistant
answers from the text, whatever it is told). The reply is the answer's text with its [n]
markers and a readable "Sources" block; the citations also come as JSON in the extension field
``citations`` (with ``refused``, ``answer_kind``, ``uncertain`` and ``caveat``). A refusal is an ordinary
assistant message.
With ``stream: true`` the reply is sent as ``chat.completion.chunk`` events as the assistant's own
event stream (``Assistant.ask_stream``) yields verified sentences.

``ASSISTANT_API_TOKEN``, when set, must be sent as ``Authorization: Bearer <token>``. Errors have
OpenAI's shape ``{"error": {"message", "type", "param", "code"}}``, with our error kind as ``code``.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..citing import answer_text, citation_data, event_text, without_sources
from ..errors import AssistantError, QuestionError
from ..models import Answer, Message, StreamEvent
from .errors import ApiError, describe_validation, status_of
from .runtime import Runtimes
from .schemas import MAX_HISTORY_MESSAGES, AskRequest, responses

log = logging.getLogger(__name__)

OPENAI_PREFIX = "/v1"
MODEL_PREFIX = "reading:"
OWNER = "reading-assistant"


# -- what the endpoint accepts ---------------------------------------------------------------


class ContentPart(BaseModel):
    """One part of a message's content; only text parts can be read."""

    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")  # name, tool_calls...: accepted, not used
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None


class ChatRequest(BaseModel):
    """OpenAI's chat-completions request; its sampling options (temperature, max_tokens...) are
    accepted and ignored, since the answer is the text's own sentences."""

    model_config = ConfigDict(extra="allow")
    model: str = Field(
        description="A collection as `reading:NAME` (GET /v1/models).", examples=["reading:default"]
    )
    messages: list[ChatMessage] = Field(
        min_length=1,
        max_length=MAX_HISTORY_MESSAGES,
        description="The conversation, oldest first; the last message is the user's question.",
    )
    stream: bool = Field(
        default=False, description="Send the reply as server-sent chat.completion.chunk events."
    )
    documents: list[str] | None = Field(
        default=None, max_length=1000, description="Extension: answer only from these doc_ids."
    )


# -- what it answers -------------------------------------------------------------------------


class OpenAIErrorDetail(BaseModel):
    message: str
    type: str = Field(
        description="invalid_request_error, server_error, or (from the rate limit) rate_limited."
    )
    param: str | None = None
    code: str | None = Field(
        default=None, description="Our error kind, e.g. invalid_api_key, model_not_found."
    )


class OpenAIError(BaseModel):
    error: OpenAIErrorDetail


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = OWNER


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str = Field(description="The answer with its [n] markers, then its Sources block.")
    refusal: None = None  # a refusal is said in `content`, as an ordinary reply


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop"] = "stop"
    logprobs: None = None


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    citations: list[dict[str, Any]] = Field(
        description="Extension: each [n] marker's citation, as in POST /api/ask, with `reading_view`, "
        "the link to the quoted sentence."
    )
    refused: bool = Field(
        description="Extension: the text does not answer the question (or it was no question)."
    )
    answer_kind: str = Field(description="Extension: answer, refusal, greeting or request.")
    uncertain: bool = Field(
        default=False, description="Extension: the quotes may not answer exactly what was asked."
    )
    caveat: str = Field(
        default="", description="Extension: why they may not, for people (also in the reply)."
    )


LIMITED = {
    401: "ASSISTANT_API_TOKEN is set and the request did not send it as `Authorization: Bearer <token>`.",
    413: "The request body is over the size limit.",
    429: "Too many requests from this client; retry after the Retry-After header's seconds.",
}
CHAT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/event-stream": {}},
        "description": "A chat.completion; with `stream: true`, server-sent `data:` lines each holding a "
        "chat.completion.chunk (the last with `finish_reason` and the extension fields), then "
        "`data: [DONE]`.",
    },
    **responses(
        {
            **LIMITED,
            400: "The body is not a valid request, its last message is not a user's text question, "
            "or the question is empty or contains control characters.",
            404: "No such model (collection) or document.",
            413: "The question is longer than the configured maximum, or the body is over the size limit.",
            500: "The collection's index could not be built.",
            503: "The collection's index is being built or checked; retry after Retry-After seconds.",
        },
        OpenAIError,
    ),
}


# -- errors in OpenAI's shape ----------------------------------------------------------------


def error_body(status: int, code: str, message: str) -> dict[str, Any]:
    kind = "server_error" if status >= 500 else "invalid_request_error"
    return OpenAIError(error=OpenAIErrorDetail(message=message, type=kind, code=code)).model_dump()


def openai_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(status, code, message), status_code=status, headers=headers)


class OpenAIRoute(APIRoute):
    """A route whose errors, the invalid request included, are answered in OpenAI's shape."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                return openai_error(400, "invalid_request", describe_validation(exc))
            except AssistantError as exc:
                status, code, headers = status_of(exc)
                if status >= 500:
                    log.error("%s: %s", type(exc).__name__, exc)
                return openai_error(status, code, str(exc), headers)
            except StarletteHTTPException as exc:
                return openai_error(
                    exc.status_code, "http_error", str(exc.detail), getattr(exc, "headers", None)
                )

        return answer


# -- the routes ------------------------------------------------------------------------------


def openai_router(runtimes: Runtimes) -> APIRouter:
    settings = runtimes.library.settings
    bearer = Depends(
        HTTPBearer(auto_error=False, description="ASSISTANT_API_TOKEN, when the server sets one.")
    )

    def authorised(credentials: HTTPAuthorizationCredentials | None = bearer) -> None:
        if not settings.is_api_token(credentials.credentials if credentials else None):
            raise ApiError(
                401,
                "invalid_api_key",
                "Send the server's API token (ASSISTANT_API_TOKEN) as `Authorization: Bearer <token>`; "
                "in an OpenAI client, as its api_key.",
                headers={"WWW-Authenticate": "Bearer"},
            )

    router = APIRouter(
        prefix=OPENAI_PREFIX,
        tags=["openai"],
        route_class=OpenAIRoute,
        dependencies=[Depends(authorised)],
        responses=responses(LIMITED, OpenAIError),
    )
    started = int(time.time())

    def cards() -> list[ModelCard]:
        return [ModelCard(id=MODEL_PREFIX + c.name, created=started) for c in runtimes.library.collections()]

    def collection_of(model: str) -> str:
        names = [c.name for c in runtimes.library.collections()]
        name = model.removeprefix(MODEL_PREFIX)
        if not model.startswith(MODEL_PREFIX) or name not in names:
            known = ", ".join(MODEL_PREFIX + n for n in names)
            raise ApiError(404, "model_not_found", f"There is no model {model!r}; choose one of: {known}.")
        return name

    @router.get("/models", response_model=ModelList)
    def models() -> ModelList:
        """The models: one per collection, `reading:NAME`."""
        return ModelList(data=cards())

    @router.get(
        "/models/{model}", response_model=ModelCard, responses=responses({404: "No such model."}, OpenAIError)
    )
    def model(model: str) -> ModelCard:
        """One model (collection)."""
        collection_of(model)
        return ModelCard(id=model, created=started)

    @router.post("/chat/completions", response_model=ChatCompletion, responses=CHAT_RESPONSES)
    async def chat_completions(body: ChatRequest, request: Request) -> Response:
        """Answer the conversation's last user message from the collection's text, with citations."""
        runtime = runtimes.get(collection_of(body.model))
        question, history = conversation(body)
        asked = AskRequest(question=question, history=history, documents=body.documents)
        reply = _Reply(body.model, runtime.collection, str(request.base_url))
        if body.stream:
            # Checked before the response begins, so a bad question still gets its status.
            events = await run_in_threadpool(runtime.stream, asked)
            return StreamingResponse(
                reply.chunks(events),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )
        answer = await run_in_threadpool(runtime.ask, asked)
        return JSONResponse(reply.completion(answer).model_dump())

    return router


def conversation(body: ChatRequest) -> tuple[str, list[Message]]:
    """The question (the last message, a user's) and the earlier user and assistant turns."""
    turns = []
    for number, message in enumerate(body.messages, start=1):
        if message.role in ("system", "developer"):
            continue  # the assistant answers from the text however it is instructed
        if message.role not in ("user", "assistant"):
            raise QuestionError(
                f"Message {number} has role {message.role!r}; this model calls no tools, "
                "so send only system, user and assistant messages."
            )
        text = _text(message, number)
        turns.append(Message(message.role, without_sources(text) if message.role == "assistant" else text))
    if not turns or turns[-1].role != "user":
        raise QuestionError("The last message must be the user's question (role 'user').")
    return turns[-1].content, turns[:-1]


def _text(message: ChatMessage, number: int) -> str:
    if message.content is None or isinstance(message.content, str):
        return message.content or ""
    other = next((part.type for part in message.content if part.type != "text"), None)
    if other is not None:
        raise QuestionError(f"Message {number} has a {other!r} part; this model reads text only.")
    return "\n".join(part.text or "" for part in message.content)


class _Reply:
    """One reply to a chat request: the completion, or its chunks."""

    def __init__(self, model: str, collection: str | None, base: str) -> None:
        self.id = f"chatcmpl-{uuid.uuid4().hex}"
        self.created = int(time.time())
        self.model = model
        self.collection = collection
        self.base = base

    def extensions(self, answer: Answer) -> dict[str, Any]:
        citations = [citation_data(c, collection=self.collection, base=self.base) for c in answer.citations]
        return {
            "citations": citations,
            "refused": answer.refused,
            "answer_kind": answer.kind,
            "uncertain": answer.uncertain,
            "caveat": answer.caveat,
        }

    def completion(self, answer: Answer) -> ChatCompletion:
        content = answer_text(answer, collection=self.collection, base=self.base)
        return ChatCompletion(
            id=self.id,
            created=self.created,
            model=self.model,
            choices=[Choice(message=AssistantMessage(content=content))],
            **self.extensions(answer),
        )

    def _chunk(self, delta: dict[str, str], finish: str | None = None, **extra: Any) -> str:
        chunk = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
            **extra,
        }
        return _data(chunk)

    def chunks(self, events: Iterator[StreamEvent]) -> Iterator[str]:
        """The reply as chat.completion.chunk events; a failure once it has begun becomes an error event."""
        yield self._chunk({"role": "assistant", "content": ""})
        try:
            for event in events:
                text = event_text(event, collection=self.collection, base=self.base)
                if text:
                    yield self._chunk({"content": text})
                if event.kind == "final" and event.answer is not None:
                    yield self._chunk({}, "stop", **self.extensions(event.answer))
        except AssistantError as exc:
            status, code, _ = status_of(exc)
            log.warning("The answer failed while streaming (%s): %s", status, exc)
            yield _data(error_body(status, code, str(exc)))
        except Exception:  # the status line is sent; the client still learns that the answer broke off
            log.exception("Unexpected error while streaming an answer.")
            yield _data(
                error_body(500, "internal_error", "The server failed to answer; the error is in its log.")
            )
        yield "data: [DONE]\n\n"


def _data(payload: dict[str, Any]) -> str:
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"
