from pathlib import Path

import pytest

from assistant.corpus import doc_id_for, load_corpus, load_document
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
    with pytest.raises(CorpusError, match=r"no \.txt or \.md"):
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
