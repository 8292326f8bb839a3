"""The HTTP API of collections and of document management, on a real server on 127.0.0.1."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import httpx
import pytest

from assistant.library import Library
from assistant.web import create_app

from .conftest import ESSAY
from .server_fixtures import running

pytest_plugins = ["tests.server_fixtures"]

Serve = Callable[..., AbstractContextManager[str]]
TOKEN = "s3cret-admin-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PENGUINS = (
    "---\ntitle: Penguin Notes\n---\n\nPenguins eat krill and small fish, which they catch underwater.\n"
)


@pytest.fixture(scope="module")
def course_library(tmp_path_factory: pytest.TempPathFactory) -> Library:
    """The default collection (the essay) and "course" (the essay and a note), indexed once."""
    root = tmp_path_factory.mktemp("collections")
    corpus, course = root / "corpus", root / "course"
    for folder in (corpus, course):
        folder.mkdir()
        shutil.copy(ESSAY, folder / ESSAY.name)
    (course / "penguins.md").write_text(PENGUINS, encoding="utf-8")
    library = Library(corpus_dir=corpus, index_dir=root / "idx", rate_limit_per_minute=0, admin_token=TOKEN)
    library.register("course", course)
    for info in library.collections():
        library.assistant(info.name).ensure_index()
    return library


@pytest.fixture(scope="module")
def base(course_library: Library) -> Iterator[str]:
    with running(create_app(library=course_library)) as url:
        yield url


def test_collections_are_listed_and_answer_on_their_own(base: str) -> None:
    listed = httpx.get(f"{base}/api/collections").json()
    assert [c["name"] for c in listed] == ["default", "course"] and listed[0]["default"]
    answer = _ask(base, "/api/collections/course/ask", "What do penguins eat?")
    assert answer["citations"][0]["doc_id"] == "penguins"
    assert answer["citations"][0]["title"] == "Penguin Notes" and answer["citations"][0]["page"] is None
    assert _ask(base, "/api/ask", "What do penguins eat?")["refused"], "the default collection has none"
    documents = httpx.get(f"{base}/api/collections/course/documents").json()
    assert {d["doc_id"] for d in documents} == {"penguins", ESSAY.stem}
    assert next(d for d in documents if d["doc_id"] == "penguins")["reading_view"] == (
        "/read/penguins?collection=course"
    )
    page = httpx.get(f"{base}/read/penguins?collection=course")
    assert page.status_code == 200 and "Penguin Notes" in page.text


def test_streaming_and_the_document_filter(base: str) -> None:
    body = {"question": "What do penguins eat?", "documents": [ESSAY.stem]}
    answer = _ask(base, "/api/collections/course/ask", body=body)
    assert all(c["doc_id"] == ESSAY.stem for c in answer["citations"])
    stream = httpx.post(
        f"{base}/api/collections/course/ask/stream", json={"question": "What do penguins eat?"}
    )
    assert stream.status_code == 200 and "event: final" in stream.text and "Penguin Notes" in stream.text


@pytest.mark.parametrize(
    ("path", "body", "status", "kind"),
    [
        ("/api/collections/nope/ask", {"question": "Why?"}, 404, "not_found"),
        ("/api/collections/course/ask", {"question": "Why?", "documents": ["nope"]}, 400, "invalid_question"),
        ("/api/collections/course/ask", {"question": "Why?", "generator": "openai"}, 400, "invalid_question"),
    ],
)
def test_bad_collection_requests_get_clear_errors(
    base: str, path: str, body: dict[str, object], status: int, kind: str
) -> None:
    response = _post(base, path, body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["type"] == kind and response.json()["error"]["message"]


def test_the_embed_page_asks_its_collection(base: str) -> None:
    page = httpx.get(f"{base}/embed?collection=course")
    assert page.status_code == 200 and 'data-collection="course"' in page.text
    assert httpx.get(f"{base}/embed?collection=nope").status_code == 404
    assert "data-collection" not in httpx.get(f"{base}/embed").text


# -- management ----------------------------------------------------------------------------


def test_management_needs_the_token(base: str) -> None:
    url = f"{base}/api/admin/collections/course/documents"
    missing = httpx.get(url)
    assert missing.status_code == 401 and missing.json()["error"]["type"] == "unauthorized"
    wrong = httpx.get(url, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert httpx.get(url, headers=AUTH).status_code == 200


def test_management_is_off_without_a_configured_token(course_library: Library, serve: Serve) -> None:
    settings = course_library.settings.model_copy(update={"admin_token": None})
    with serve(create_app(library=Library(settings)), wait_ready=False) as url:
        response = httpx.get(f"{url}/api/admin/collections/default/documents", headers=AUTH)
    assert response.status_code == 403 and "ASSISTANT_ADMIN_TOKEN" in response.json()["error"]["message"]


def test_upload_answer_remove(base: str, course_library: Library) -> None:
    admin = f"{base}/api/admin/collections/course"
    text = "Volcanoes erupt molten rock called lava.\n\nVolcanic ash can travel far on the wind.\n"
    uploaded = httpx.post(
        f"{admin}/documents",
        files={"file": ("volcanoes.md", text.encode(), "text/markdown")},
        headers=AUTH,
        timeout=300,
    )
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json()["added"] == ["volcanoes"]
    answer = _ask(base, "/api/collections/course/ask", "What do volcanoes erupt?")
    assert answer["citations"][0]["doc_id"] == "volcanoes"
    listed = {d["doc_id"]: d for d in httpx.get(f"{admin}/documents", headers=AUTH).json()}
    assert listed["volcanoes"]["indexed"] and listed["volcanoes"]["chunks"] == 2

    removed = httpx.delete(f"{admin}/documents/volcanoes", headers=AUTH)
    assert removed.status_code == 200 and removed.json()["removed"] == "volcanoes"
    assert str(course_library.settings.index_dir) not in removed.text, "no server paths in answers"
    again = _ask(base, "/api/collections/course/ask", "What do volcanoes erupt?")
    assert all(c["doc_id"] != "volcanoes" for c in again["citations"])
    assert httpx.delete(f"{admin}/documents/volcanoes", headers=AUTH).status_code == 404


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("tool.exe", b"MZ", "unsupported format"),
        # Over the 256 KB body limit of questions: uploads have their own limit, so this is read and refused.
        ("scan.txt", b"\x00" * 300_000, "binary"),
        ("empty.md", b"", "empty"),
    ],
)
def test_bad_uploads_are_400_and_change_nothing(
    base: str, course_library: Library, name: str, data: bytes, says: str
) -> None:
    folder = course_library.collection("course").corpus_dir
    before = sorted(p.name for p in folder.iterdir())
    response = httpx.post(
        f"{base}/api/admin/collections/course/documents", files={"file": (name, data)}, headers=AUTH
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (
        error["type"] == "invalid_document"
        and says in error["message"]
        and str(folder) not in error["message"]
    )
    assert sorted(p.name for p in folder.iterdir()) == before


def test_reindex(base: str) -> None:
    response = httpx.post(
        f"{base}/api/admin/collections/course/reindex",
        json={"documents": ["penguins"]},
        headers=AUTH,
        timeout=300,
    )
    assert response.status_code == 200 and response.json()["updated"] == ["penguins"]


def _post(base: str, path: str, body: dict[str, Any]) -> httpx.Response:
    """POST, waiting out the 503 a collection answers while its index is prepared."""
    deadline = time.monotonic() + 120
    while True:
        response = httpx.post(f"{base}{path}", json=body, timeout=120)
        if response.status_code != 503 or time.monotonic() > deadline:
            return response
        time.sleep(0.5)


def _ask(base: str, path: str, question: str = "", body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = _post(base, path, body or {"question": question})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result
