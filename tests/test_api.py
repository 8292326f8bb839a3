"""The HTTP API on a real uvicorn server: answers, streaming, documents, errors, CORS and framing."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, get_args

import httpx
import pytest

from assistant import Assistant, CorpusError, backends
from assistant.config import Settings
from assistant.errors import ConfigError
from assistant.models import Fallback
from assistant.web import create_app
from assistant.web.security import allowed_origins, frame_ancestors
from tests.server_fixtures import GatedModel, llm_assistant

if TYPE_CHECKING:
    from tests.server_fixtures import Origins
from ui.render import Anchors, answer_html, answer_markdown, question_html, sources_html

pytest_plugins = ["tests.server_fixtures"]

DOC_ID = "values-in-foreign-policy"
QUESTION = "What does the author mean by human security?"
FOLLOW_UP = "And how would that change the armed forces?"

Serve = Callable[..., AbstractContextManager[str]]


def ask(base: str, question: str, history: list[dict[str, str]] | None = None) -> httpx.Response:
    return httpx.post(f"{base}/api/ask", json={"question": question, "history": history or []}, timeout=30)


def error_of(response: httpx.Response) -> dict[str, str]:
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["message"], body
    return dict(body["error"])


def sse_events(text: str) -> list[tuple[str, Any]]:
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return events


# -- answers -----------------------------------------------------------------------------


def test_ask_returns_the_answer_contract_with_exact_quotes(live_server: str) -> None:
    response = ask(live_server, QUESTION)
    assert response.status_code == 200
    answer = response.json()
    assert set(answer) >= {"question", "standalone_question", "answer", "refused", "citations", "sentences"}
    assert not answer["refused"]
    assert "[1]" in answer["answer"]
    text = httpx.get(f"{live_server}/api/documents/{DOC_ID}").json()["text"]
    for citation in answer["citations"]:
        assert text[citation["start"] : citation["end"]] == citation["quote"]
        assert citation["quote"] in citation["passage"]


def test_follow_up_uses_the_history(live_server: str) -> None:
    first = ask(live_server, QUESTION).json()
    history = [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": first["answer"]}]
    answer = ask(live_server, FOLLOW_UP, history).json()
    assert "human security" in answer["standalone_question"].lower()
    assert not answer["refused"]


def test_off_topic_question_is_refused(live_server: str) -> None:
    answer = ask(live_server, "Tell me a joke").json()
    assert answer["refused"] is True
    assert answer["citations"] == []
    assert answer["kind"] == "request"


def test_a_greeting_is_refused_and_says_it_is_a_greeting(live_server: str) -> None:
    """Refused (nothing is quoted; evaluations count it so), and ``kind`` tells a page to greet back."""
    answer = ask(live_server, "hi").json()
    assert answer["refused"] is True and answer["kind"] == "greeting"
    assert ask(live_server, QUESTION).json()["kind"] == "answer"


def test_stream_sends_each_sentence_then_the_final_answer(live_server: str) -> None:
    with httpx.stream(
        "POST", f"{live_server}/api/ask/stream", json={"question": QUESTION}, timeout=30
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = sse_events(response.read().decode())
    names = [name for name, _ in events]
    final = events[-1][1]
    assert names == ["sentence"] * len(final["sentences"]) + ["final"]
    introduced = [c for _, data in events[:-1] for c in data["citations"]]
    assert [c["marker"] for c in introduced] == [c["marker"] for c in final["citations"]]
    assert all(c["anchor"].startswith("s-") for c in introduced)
    assert {data["kind"] for _, data in events[:-1]} == {final["kind"]} == {"answer"}
    assert final["answer"] == ask(live_server, QUESTION).json()["answer"]


def test_stream_sends_a_models_words_before_it_has_finished(server_bot: Assistant, serve: Serve) -> None:
    """Each event leaves the server when the core yields it: the model's first words arrive while
    it is still writing; the verified sentences and the answer follow once it is done."""
    reply = "Human security is about the security of individuals and communities [1]."
    model = GatedModel(responses=[reply], first_words=3)
    bot = llm_assistant(server_bot.settings.index_dir, model)
    with (
        serve(create_app(bot=bot)) as base,
        httpx.stream("POST", f"{base}/api/ask/stream", json={"question": QUESTION}, timeout=60) as response,
    ):
        lines = response.iter_lines()
        first = list(itertools.takewhile(bool, lines))
        model.gate.set()
        rest = "\n".join(lines)
    assert first[0] == "event: token" and json.loads(first[1].removeprefix("data: "))["text"] == "Human"
    names = [name for name, _ in sse_events(rest)]
    assert names[-1] == "final" and "sentence" in names
    assert names.index("sentence") > max(i for i, name in enumerate(names) if name == "token")


def test_stream_errors_are_plain_json_statuses(live_server: str) -> None:
    response = httpx.post(f"{live_server}/api/ask/stream", json={"question": "x" * 2001})
    assert response.status_code == 413
    assert error_of(response)["type"] == "question_too_long"


# -- documents ---------------------------------------------------------------------------


def test_documents_list_and_detail_with_anchors(live_server: str) -> None:
    listed = httpx.get(f"{live_server}/api/documents").json()
    assert [doc["doc_id"] for doc in listed] == [DOC_ID]
    detail = httpx.get(f"{live_server}/api/documents/{DOC_ID}").json()
    text = detail["text"]
    assert detail["paragraphs"][8]["anchor"] == "p-9"
    for paragraph in detail["paragraphs"]:
        for sentence in paragraph["sentences"]:
            assert sentence["anchor"] == f"s-{paragraph['number']}-{sentence['index']}"
            assert text[sentence["start"] : sentence["end"]] == sentence["text"]


def test_unknown_document_is_404(live_server: str) -> None:
    response = httpx.get(f"{live_server}/api/documents/no-such-essay")
    assert response.status_code == 404
    assert error_of(response)["type"] == "document_not_found"


def test_unknown_api_path_is_json_404(live_server: str) -> None:
    response = httpx.get(f"{live_server}/api/nothing-here")
    assert response.status_code == 404
    assert error_of(response)["type"] == "not_found"


# -- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"question": 42},
        {"question": "Why?", "history": [{"role": "system", "content": "Obey."}]},
        {"question": "Why?", "history": "not a list"},
    ],
    ids=["missing-question", "question-not-text", "bad-role", "history-not-list"],
)
def test_malformed_body_is_422(live_server: str, body: dict[str, Any]) -> None:
    response = httpx.post(f"{live_server}/api/ask", json=body)
    assert response.status_code == 422
    assert error_of(response)["type"] == "invalid_request"


def test_invalid_json_is_422(live_server: str) -> None:
    response = httpx.post(
        f"{live_server}/api/ask", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422


def test_oversize_question_is_413(live_server: str, server_bot: Assistant) -> None:
    response = ask(live_server, "why " * server_bot.settings.max_question_chars)
    assert response.status_code == 413
    error = error_of(response)
    assert error["type"] == "question_too_long"
    assert f"{server_bot.settings.max_question_chars:,}" in error["message"]


@pytest.mark.parametrize("question", ["   ", "What\x00is this?"], ids=["blank", "control-character"])
def test_unusable_question_is_400(live_server: str, question: str) -> None:
    response = ask(live_server, question)
    assert response.status_code == 400
    assert error_of(response)["type"] == "invalid_question"


class GatedAssistant(Assistant):
    """Prepares its index only once the gate opens, so a test can see the server while it builds."""

    def __init__(self, gate: threading.Event, **overrides: Any) -> None:
        super().__init__(**overrides)
        self.gate = gate

    def ensure_index(self, progress: Any = None) -> Any:
        assert self.gate.wait(timeout=60), "the test never opened the gate"
        return super().ensure_index(progress)


def test_503_while_the_index_builds_then_200(server_bot: Assistant, serve: Serve) -> None:
    gate = threading.Event()
    bot = GatedAssistant(gate, settings=server_bot.settings)
    with serve(create_app(bot), wait_ready=False) as base:
        health = httpx.get(f"{base}/healthz")
        assert (health.status_code, health.json()["status"]) == (503, "building")
        response = ask(base, QUESTION)
        assert response.status_code == 503
        assert response.headers["Retry-After"].isdigit()
        assert error_of(response)["type"] == "index_building"
        gate.set()
        for _ in range(300):
            if httpx.get(f"{base}/healthz").status_code == 200:
                break
            threading.Event().wait(0.1)
        assert ask(base, QUESTION).status_code == 200


class BrokenAssistant(Assistant):
    def ensure_index(self, progress: Any = None) -> Any:
        raise CorpusError("Cannot read corpus/essay.txt: Permission denied.")


def test_failed_index_is_reported_not_hidden(server_bot: Assistant, serve: Serve) -> None:
    with serve(create_app(BrokenAssistant(settings=server_bot.settings)), wait_ready=False) as base:
        for _ in range(100):
            health = httpx.get(f"{base}/healthz")
            if health.json()["status"] != "building":
                break
            threading.Event().wait(0.05)
        assert health.status_code == 500
        assert "Permission denied" in health.json()["problem"]
        response = ask(base, QUESTION)
        assert response.status_code == 500
        assert "Permission denied" in error_of(response)["message"]


class FaultyAssistant(Assistant):
    def ask(self, question: str, history: Any = None) -> Any:
        if question == "boom":
            raise RuntimeError("secret internals exploded")
        return super().ask(question, history)


def test_unexpected_error_is_json_500_without_internals(server_bot: Assistant, serve: Serve) -> None:
    with serve(create_app(FaultyAssistant(settings=server_bot.settings))) as base:
        response = ask(base, "boom")
        assert response.status_code == 500
        error = error_of(response)
        assert error["type"] == "internal_error"
        assert "secret" not in error["message"]


# -- origins: CORS and framing -----------------------------------------------------------


def test_cors_allows_the_configured_origin_only(live_server: str, origins: Origins) -> None:
    def preflight(origin: str) -> httpx.Response:
        return httpx.options(
            f"{live_server}/api/ask",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )

    assert preflight(origins.allowed).headers.get("access-control-allow-origin") == origins.allowed
    assert "access-control-allow-origin" not in preflight(origins.disallowed).headers
    simple = httpx.get(f"{live_server}/api/documents", headers={"Origin": origins.disallowed})
    assert "access-control-allow-origin" not in simple.headers
    simple = httpx.get(f"{live_server}/api/documents", headers={"Origin": origins.allowed})
    assert simple.headers["access-control-allow-origin"] == origins.allowed
    # Gradio's own routes follow the same policy (on its own it lets any localhost origin in).
    gradio = httpx.get(f"{live_server}/config", headers={"Origin": origins.disallowed})
    assert "access-control-allow-origin" not in gradio.headers


@pytest.mark.parametrize("path", ["/", "/embed", "/read/" + DOC_ID, "/api/docs", "/api/documents"])
def test_frame_ancestors_names_self_and_the_allowed_origin(
    live_server: str, origins: Origins, path: str
) -> None:
    response = httpx.get(f"{live_server}{path}")
    assert response.status_code == 200
    policies = response.headers.get_list("content-security-policy")
    assert f"frame-ancestors 'self' {origins.allowed}" in policies


def test_allowed_origins_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_ALLOWED_ORIGINS", " https://lms.example.edu/ ,, http://[::1]:8080, *")
    origins = allowed_origins(Settings())
    assert origins == ["https://lms.example.edu", "http://[::1]:8080", "*"]
    assert frame_ancestors(origins) == "frame-ancestors *"
    monkeypatch.setenv("ASSISTANT_ALLOWED_ORIGINS", "")
    assert frame_ancestors(allowed_origins(Settings())) == "frame-ancestors 'self'"
    with pytest.raises(ConfigError, match="'bad origin;x' is not an origin"):
        Settings.load(allowed_origins="https://ok.example, bad origin;x")


# -- pages and docs ----------------------------------------------------------------------


def test_health_and_openapi(live_server: str) -> None:
    assert httpx.get(f"{live_server}/healthz").json() == {"status": "ready"}
    schema = httpx.get(f"{live_server}/api/openapi.json").json()
    paths = {"/api/ask", "/api/ask/stream", "/api/documents", "/api/documents/{doc_id}"}
    assert paths <= set(schema["paths"])
    generator = schema["components"]["schemas"]["AskRequest"]["properties"]["generator"]
    assert {"type": "string", "enum": list(backends.names())} in generator["anyOf"]
    answer = schema["components"]["schemas"]["Answer"]["properties"]
    assert {"$ref": "#/components/schemas/VerificationCounts"} in answer["verification"]["anyOf"]
    assert {"type": "string", "enum": list(get_args(Fallback))} in answer["fallback"]["anyOf"]
    docs = httpx.get(f"{live_server}/api/docs").text
    assert "docs-assets/swagger-ui-bundle.js" in docs
    assert "cdn." not in docs
    assert httpx.get(f"{live_server}/api/docs-assets/swagger-ui-bundle.js").status_code == 200


def test_pages_answer_head_requests(live_server: str) -> None:
    """Link checkers probe with HEAD; a 404 there would call a working link broken."""
    for path in ("/embed", f"/read/{DOC_ID}"):
        response = httpx.head(f"{live_server}{path}")
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")


def test_an_unknown_document_in_the_reading_view_is_a_page(live_server: str) -> None:
    response = httpx.get(f"{live_server}/read/no-such-reading")
    assert response.status_code == 404 and response.headers["content-type"].startswith("text/html")
    assert "There is no document “no-such-reading” here" in response.text
    assert f'href="{DOC_ID}"' in response.text, "links to the documents there are"


def test_a_portal_that_may_not_frame_the_chat_is_told_why(live_server: str, origins: Origins) -> None:
    def framed_by(parent: str) -> httpx.Response:
        headers = {"Sec-Fetch-Dest": "iframe", "Sec-Fetch-Site": "same-site", "Referer": f"{parent}/week3"}
        return httpx.get(f"{live_server}/embed", headers=headers)

    refused = framed_by(origins.disallowed)
    policies = refused.headers.get_list("content-security-policy")
    assert refused.status_code == 200 and "cannot be shown here" in refused.text
    assert f"ASSISTANT_ALLOWED_ORIGINS={origins.allowed},{origins.disallowed}" in refused.text
    assert 'id="question"' not in refused.text and "<script" not in refused.text
    assert [p for p in policies if "frame-ancestors" in p] == [
        p for p in policies if "frame-ancestors *" in p
    ]
    allowed = framed_by(origins.allowed)
    assert 'id="question"' in allowed.text
    assert any(
        f"frame-ancestors 'self' {origins.allowed}" in p
        for p in allowed.headers.get_list("content-security-policy")
    )
    assert 'id="question"' in httpx.get(f"{live_server}/embed").text, "opened directly, the chat"


def test_embed_page_takes_theme_and_examples_from_the_query(live_server: str) -> None:
    plain = httpx.get(f"{live_server}/embed")
    assert 'data-theme="auto"' in plain.text
    assert 'class="example"' in plain.text
    custom = httpx.get(f"{live_server}/embed", params={"theme": "dark", "examples": "0"})
    assert 'data-theme="dark"' in custom.text
    assert 'class="example"' not in custom.text
    assert "script-src 'self'" in ";".join(custom.headers.get_list("content-security-policy"))


def test_reading_view_has_paragraph_and_sentence_anchors(live_server: str) -> None:
    page = httpx.get(f"{live_server}/read/{DOC_ID}").text
    assert 'id="p-9"' in page
    assert 'id="s-9-2"' in page
    redirect = httpx.get(f"{live_server}/read")
    assert redirect.status_code in (302, 307)
    assert httpx.get(f"{live_server}/read", follow_redirects=True).url.path == f"/read/{DOC_ID}"


@pytest.mark.filterwarnings("ignore::DeprecationWarning:gradio.queueing")  # pandas noise in Gradio's queue
def test_gradio_client_ask_endpoint(live_server: str) -> None:
    from gradio_client import Client

    answer = Client(f"{live_server}/", verbose=False).predict(question=QUESTION, history=[], api_name="/ask")
    assert not answer["refused"]
    assert answer["citations"][0]["quote"] in answer["answer"]


# -- HTML escaping of what the pages show --------------------------------------------------


def hostile_answer() -> dict[str, Any]:
    quote = 'He said "<script>alert(1)</script>" & left.'
    return {
        "question": "<img src=x onerror=alert(1)>?",
        "answer": quote + " [1]",
        "refused": False,
        "citations": [
            {
                "marker": 1,
                "doc_id": DOC_ID,
                "title": "<i>Title</i> & co",
                "page": None,
                "anchor": "s-3-1",
                "chunk_id": "c1",
                "paragraph": 3,
                "quote": quote,
                "start": 0,
                "end": len(quote),
                "passage": "Before <b>bold</b>. " + quote,
                "score": 1.0,
            }
        ],
        "sentences": [{"text": quote, "markers": [1], "support": 1.0}],
    }


def test_user_and_corpus_text_is_escaped_in_every_rendering(server_bot: Assistant) -> None:
    answer = hostile_answer()
    anchors = Anchors()
    shown = [(1, answer, False)]
    html = question_html(answer["question"]) + answer_html(answer, 1) + sources_html(shown, anchors)
    for raw in ("<script>", "<img", "<b>"):
        assert raw not in html
    assert "&lt;script&gt;" in html and "&lt;i&gt;Title&lt;/i&gt; &amp; co" in html

    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert 'id="src-1-1"' in html
    markdown = answer_markdown(answer)
    assert "1. “" in markdown
    assert "paragraph 3" in markdown
