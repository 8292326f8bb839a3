"""Odd corpus files, and requests that try to read files they should not.

Nothing outside the corpus folder is read or served: not by the corpus loader, not
through a document id, not through Gradio's file routes or the static folders.
"""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant import Assistant, CorpusError
from assistant.corpus import MAX_FILE_BYTES, doc_id_for, load_corpus, load_document
from assistant.web import create_app

from .helpers import CORPUS_DIR, DOC_ID, ESSAY_TEXT

pytest_plugins = ["tests.server_fixtures"]

PROJECT = CORPUS_DIR.parent
SECRET = "TOP-SECRET-OUTSIDE-THE-CORPUS"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A file beside (not inside) the corpus folder that nothing may read."""
    path = tmp_path / "outside" / "secret.txt"
    path.parent.mkdir()
    path.write_text(f"{SECRET}. Defensive deterrence means surrender.\n", encoding="utf-8")
    return path


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "essay.txt").write_text("Deterrence by denial is defensive. It avoids arms races.\n")
    return folder


# -- the corpus loader ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"\x7fELF\x02\x01\x01\x00\x00\x00\x00" + bytes(range(256)), "looks binary (it contains NUL bytes)"),
        ("Caf\xe9 cr\xe8me.".encode("latin-1"), "is not UTF-8 (bad byte at offset 3)"),
        ("Ümlaut".encode("utf-16"), "looks binary"),  # UTF-16 has NUL bytes
        (b"", "is empty"),
        (b" \n\t\n ", "is empty"),
        (b"---\ntitle: Only front matter\n---\n", "is empty"),
    ],
    ids=["binary", "latin-1", "utf-16", "zero-bytes", "whitespace", "front-matter-only"],
)
def test_unusable_file_is_a_clear_error_naming_it(corpus: Path, content: bytes, says: str) -> None:
    bad = corpus / "bad-file.md"
    bad.write_bytes(content)
    with pytest.raises(CorpusError, match=r"bad-file\.md") as info:
        load_corpus(corpus)
    assert says in str(info.value)


def test_unusable_file_is_skipped_and_leaves_the_index_as_it_was(corpus: Path, tmp_path: Path) -> None:
    bot = Assistant(corpus_dir=corpus, index_dir=tmp_path / "idx")
    bot.ingest()
    version = bot.index.version()
    (corpus / "bad.txt").write_bytes(b"\x00\x01binary")
    report = bot.ingest()
    assert (
        list(report.skipped) == [str(corpus / "bad.txt")]
        and "binary" in report.skipped[str(corpus / "bad.txt")]
    )
    assert not report.changed and bot.index.version() == version
    answer = Assistant(corpus_dir=corpus, index_dir=tmp_path / "idx").ask("What is deterrence by denial?")
    assert "denial" in answer.answer, "the readable documents are still answered from"
    (corpus / "bad.txt").unlink()
    fresh = Assistant(corpus_dir=corpus, index_dir=tmp_path / "idx")
    assert fresh.ensure_index() is None, "the index was intact: nothing to rebuild"
    assert "denial" in fresh.ask("What is deterrence by denial?").answer


def test_a_50_mb_file_is_refused_without_reading_it(corpus: Path) -> None:
    big = corpus / "huge.txt"
    with big.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # sparse: 50 MB of length, almost no disk
    assert big.stat().st_size > MAX_FILE_BYTES
    began = time.monotonic()
    with pytest.raises(CorpusError, match=r"huge\.txt is 50 MB; the limit is 20 MB"):
        load_document(big)
    assert time.monotonic() - began < 1.0


def test_a_file_just_under_the_limit_that_grows_is_read_no_further(corpus: Path) -> None:
    """Reading stops at the limit: a file cannot make the loader read more than 20 MB."""
    growing = corpus / "growing.txt"
    growing.write_bytes(b"Deterrence. " * (MAX_FILE_BYTES // 12 + 10))
    with pytest.raises(CorpusError, match="the limit is 20 MB"):
        load_document(growing)


def test_symlinks_out_of_the_corpus_are_never_read(corpus: Path, outside: Path) -> None:
    (corpus / "link.txt").symlink_to(outside)
    (corpus / "folder-link").symlink_to(outside.parent, target_is_directory=True)
    (corpus / "relative.md").symlink_to(Path("..") / "outside" / "secret.txt")
    documents = load_corpus(corpus)
    assert [doc.doc_id for doc in documents] == ["essay"]
    assert all(SECRET not in doc.text for doc in documents)


def test_a_symlink_inside_the_corpus_is_followed(corpus: Path) -> None:
    (corpus / "alias.md").symlink_to(corpus / "essay.txt")
    assert sorted(doc.doc_id for doc in load_corpus(corpus)) == ["alias", "essay"]


@pytest.mark.parametrize(
    ("name", "doc_id"),
    [
        ("..\\..\\evil.txt", "evil"),
        ("....txt", "document"),
        ("%2e%2e%2fetc%2fpasswd.txt", "2e-2e-2fetc-2fpasswd"),
        ("<script>alert(1)<%2Fscript>.md", "script-alert-1-2fscript"),
        ("..txt", "document"),
    ],
)
def test_file_names_with_dot_dot_give_safe_ids(corpus: Path, name: str, doc_id: str) -> None:
    (corpus / name).write_text("A sentence about deterrence.\n", encoding="utf-8")
    ids = {doc.doc_id for doc in load_corpus(corpus)}
    assert ids == {"essay", doc_id}
    for path in (Path(name), Path("../../etc/passwd.txt"), Path("/abs/../x.md")):
        assert doc_id_for(path).replace("-", "").isalnum() or doc_id_for(path) == "document"


# -- document ids over HTTP --------------------------------------------------------------

TRAVERSALS = [
    "..%2F..%2F..%2Fetc%2Fpasswd",
    "%2e%2e%2f%2e%2e%2fpyproject.toml",
    "..%5C..%5Cpyproject.toml",
    "%2Fetc%2Fpasswd",
    "....%2F%2F....%2F%2Fetc%2Fpasswd",
    "values-in-foreign-policy%00.txt",
    "values-in-foreign-policy.txt",
    "..",
    "%2e%2e",
    "corpus%2Fvalues-in-foreign-policy.txt",
]
LEAKS = ("root:", "[build-system]", "import ", SECRET)


@dataclass
class RawResponse:
    status_code: int
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


def _raw_get(base: str, path: str) -> RawResponse:
    """GET over a plain socket, the path sent byte for byte (no client normalises ``..``)."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    if b"transfer-encoding: chunked" in head.lower():
        body = _unchunk(body)
    return RawResponse(int(head.split(b" ", 2)[1]), body.decode("utf-8", "replace"))


def _unchunk(body: bytes) -> bytes:
    out = b""
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2 :]
    return out


@pytest.mark.parametrize("doc_id", TRAVERSALS)
@pytest.mark.parametrize("route", ["/api/documents/", "/read/"])
def test_document_ids_cannot_traverse(open_server: str, route: str, doc_id: str) -> None:
    response = _raw_get(open_server, route + doc_id)
    assert response.status_code in (400, 404), response.text[:200]
    for leak in LEAKS:
        assert leak not in response.text
    if route.startswith("/api/"):
        assert response.json()["error"]["type"] in ("document_not_found", "not_found")


def test_documents_never_include_files_outside_the_corpus(open_server: str) -> None:
    listed = httpx.get(f"{open_server}/api/documents").json()
    assert [doc["doc_id"] for doc in listed] == [DOC_ID]
    assert httpx.get(f"{open_server}/api/documents/{DOC_ID}").json()["text"] == ESSAY_TEXT


# -- Gradio's file routes and the static folders -------------------------------------------


def _served_paths() -> list[str]:
    targets = [
        "/etc/passwd",
        str(PROJECT / "pyproject.toml"),
        str(PROJECT / "assistant" / "api.py"),
        str(CORPUS_DIR / f"{DOC_ID}.txt"),
        "pyproject.toml",
        "corpus/values-in-foreign-policy.txt",
        "../../../../etc/passwd",
    ]
    paths = []
    for target in targets:
        for prefix in ("/gradio_api/file=", "/file=", "/gradio_api/file%3D"):
            paths.append(prefix + target)
    paths += [
        "/ui-static/..%2F..%2Fpyproject.toml",
        "/ui-static/%2e%2e/app.py",
        "/ui-static/../app.py",
        "/api/docs-assets/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "/gradio_api/static/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "/assets/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "/static/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "/favicon.ico/..%2F..%2Fpyproject.toml",
    ]
    return paths


@pytest.mark.parametrize("path", _served_paths())
def test_no_file_outside_the_app_is_served(open_server: str, path: str) -> None:
    response = _raw_get(open_server, path)
    text = response.text
    for leak in (*LEAKS, "Deterrence", "defensive deterrence"):
        assert leak not in text, f"{path} served {text[:120]!r}"
    assert response.status_code >= 400 or "<html" in text.lower()[:400], (path, response.status_code)


def test_gradio_serves_no_extra_folder_and_blocks_ours(server_bot: Assistant) -> None:
    app = create_app(server_bot)
    blocks = app.state.blocks
    assert blocks.allowed_paths == []
    blocked = set(blocks.blocked_paths)
    settings = server_bot.settings
    for folder in (settings.corpus_dir, settings.index_dir, PROJECT / "assistant", PROJECT / "ui"):
        assert str(folder.resolve()) in blocked
