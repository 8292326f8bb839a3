import hashlib
import time
from pathlib import Path

import pytest

from assistant.corpus import (
    MAX_FILE_BYTES,
    MAX_PAGED_FILE_BYTES,
    SUFFIXES,
    corpus_files,
    doc_id_for,
    document_title,
    file_sha256,
    load_corpus,
    load_document,
    max_bytes,
)
from assistant.errors import CorpusError

from .conftest import ESSAY


def test_essay_loads_byte_for_byte() -> None:
    doc = load_document(ESSAY)
    assert doc.text == ESSAY.read_text(encoding="utf-8")
    assert doc.doc_id == "values-in-foreign-policy"


def test_doc_id_is_a_stable_slug() -> None:
    assert doc_id_for(Path("Week 3 – Nye (1990).md")) == "week-3-nye-1990"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("Caf\xe9 au lait.".encode("latin-1"), "not UTF-8"),
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", "binary"),
        (b"   \n\n  ", "empty"),
    ],
)
def test_unusable_files_are_named_in_a_clear_error(tmp_path: Path, content: bytes, message: str) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(content)
    with pytest.raises(CorpusError, match=message) as info:
        load_corpus(tmp_path)
    assert "bad.txt" in str(info.value)


def test_missing_and_empty_folders_are_errors(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="does not exist"):
        load_corpus(tmp_path / "nowhere")
    with pytest.raises(CorpusError, match=r"no \.txt, \.md, \.html, \.htm, \.pdf or \.docx files"):
        load_corpus(tmp_path)


def test_symlink_outside_the_corpus_is_skipped(tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("Secret text.", encoding="utf-8")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "essay.txt").write_text("An essay sentence.", encoding="utf-8")
    (corpus / "link.txt").symlink_to(outside)
    assert [d.doc_id for d in load_corpus(corpus)] == ["essay"]


def test_two_files_with_one_doc_id_are_an_error(tmp_path: Path) -> None:
    (tmp_path / "a-b.txt").write_text("One.", encoding="utf-8")
    (tmp_path / "a_b.md").write_text("Two.", encoding="utf-8")
    with pytest.raises(CorpusError, match="doc_id"):
        load_corpus(tmp_path)


def test_text_files_record_their_format(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Plain text.", encoding="utf-8")
    (tmp_path / "b.md").write_text("---\nauthor: Someone\n---\n# Heading\n\nMarkdown.", encoding="utf-8")
    a, b = load_corpus(tmp_path)
    assert a.metadata == {"format": "text"} and a.pages == ()
    assert (
        b.metadata == {"author": "Someone", "title": "Heading", "format": "markdown"} and b.title == "Heading"
    )


@pytest.mark.parametrize(
    ("name", "text", "title"),
    [
        (
            "values-in-policy.md",
            "---\ntitle: From the Front Matter\n---\n# A Heading\n\nText.",
            "From the Front Matter",
        ),
        ("values-in-policy.md", "# Values in Policy: A Reply\n\nText follows.", "Values in Policy: A Reply"),
        ("values-in-policy.md", "\n\n# *Values in Policy* #\n\nText follows.", "Values in Policy"),
        ("values-in-policy.md", "Values in Policy\n================\n\nText follows.", "Values in Policy"),
        (
            "values-in-policy.md",
            "---\nauthor: A. Writer\n---\n\n# Values in Policy\n\nText.",
            "Values in Policy",
        ),
        # A level-2 heading, or a level-1 heading further down, is a section's, not the document's.
        ("values-in-policy.md", "## A Section\n\nText.", "Values In Policy"),
        ("values-in-policy.md", "An opening paragraph.\n\n# A Section\n\nText.", "Values In Policy"),
        ("values-in-policy.md", "#hashtag is not a heading.", "Values In Policy"),
        # Plain text has no markup that marks a title: its name is the file's.
        ("values_in_policy.txt", "# Values in Policy\n\nText.", "Values In Policy"),
    ],
)
def test_a_document_is_called_by_its_own_title(tmp_path: Path, name: str, text: str, title: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    assert load_document(path).title == title
    assert document_title(path) == title, "the quick read agrees with the full one"


def test_a_file_that_cannot_be_read_is_named_after_its_file(tmp_path: Path) -> None:
    path = tmp_path / "week-3_notes.md"
    path.write_bytes(b"\xff\xfe not UTF-8")
    assert document_title(path) == "Week 3 Notes"


def test_corpus_files_finds_every_supported_format(tmp_path: Path) -> None:
    for name in ("a.txt", "b.md", "c.html", "d.HTM", "e.pdf", "f.docx", "sub/g.PDF"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    for ignored in ("old.doc", "notes.rtf", "slides.pptx", "image.png", "README"):
        (tmp_path / ignored).write_bytes(b"x")
    found = [p.relative_to(tmp_path).as_posix() for p in corpus_files(tmp_path)]
    assert found == ["a.txt", "b.md", "c.html", "d.HTM", "e.pdf", "f.docx", "sub/g.PDF"]
    assert {Path(name).suffix.lower() for name in found} == set(SUFFIXES)


def test_a_corpus_of_mixed_formats_loads(tmp_path: Path) -> None:
    from fpdf import FPDF

    (tmp_path / "essay.txt").write_text("An essay sentence.", encoding="utf-8")
    article = "<p>" + "A web article about deterrence by denial. " * 5 + "</p>"
    (tmp_path / "article.html").write_text(f"<html><body><article>{article}</article></body></html>")
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, "A chapter from a book about deterrence.")
    (tmp_path / "chapter.pdf").write_bytes(bytes(pdf.output()))
    formats = {doc.doc_id: doc.metadata["format"] for doc in load_corpus(tmp_path)}
    assert formats == {"article": "html", "chapter": "pdf", "essay": "text"}


def test_file_sha256_is_the_documents_hash_without_extracting(tmp_path: Path) -> None:
    path = tmp_path / "essay.txt"
    path.write_bytes(b"\xef\xbb\xbfA sentence with a byte-order mark.")
    assert file_sha256(path) == load_document(path).sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * (3 * 1024 * 1024 + 7))  # more than one read block
    assert file_sha256(big) == hashlib.sha256(big.read_bytes()).hexdigest()
    unusable = tmp_path / "binary.txt"
    unusable.write_bytes(b"\x00\x01")
    assert len(file_sha256(unusable)) == 64, "hashing never looks at the content"
    with pytest.raises(CorpusError, match=r"Cannot read .*missing\.pdf"):
        file_sha256(tmp_path / "missing.pdf")


def _sparse(path: Path, megabytes: int) -> Path:
    with path.open("wb") as handle:
        handle.truncate(megabytes * 1024 * 1024)  # length without disk
    return path


def test_pdf_and_docx_may_be_bigger_than_text(tmp_path: Path) -> None:
    assert max_bytes(Path("a.txt")) == max_bytes(Path("a.html")) == MAX_FILE_BYTES == 20 * 1024 * 1024
    assert max_bytes(Path("a.PDF")) == max_bytes(Path("a.docx")) == MAX_PAGED_FILE_BYTES == 100 * 1024 * 1024
    thirty = _sparse(tmp_path / "scan.pdf", 30)
    assert file_sha256(thirty) == hashlib.sha256(bytes(30 * 1024 * 1024)).hexdigest()
    for name, says in [
        ("huge.html", "is 30 MB; the limit is 20 MB"),
        ("huge.pdf", "is 150 MB; the limit is 100 MB"),
    ]:
        huge = _sparse(tmp_path / name, 30 if name.endswith("html") else 150)
        began = time.monotonic()
        for read in (load_document, file_sha256):
            with pytest.raises(CorpusError, match=says):
                read(huge)
        assert time.monotonic() - began < 1.0, "refused from its size, without reading it"
