"""The second development question set: a course folder of four readings in four formats.

Fast checks of the data only (no index is built): the records parse, every gold quote is
text the assistant will actually see after extraction, and the folder exercises the formats
and page offsets it is meant to. The figures themselves come from ``assistant eval`` (see
tests/data/library/README).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.chunking import document_sentences
from assistant.corpus import corpus_files, load_corpus
from assistant.evaluation import QuestionRecord, load_questions
from assistant.models import Document

from .conftest import DATA

LIBRARY = DATA / "library"
QUESTIONS = DATA / "library_questions.jsonl"
READINGS = {
    "climate-and-security": "pdf",
    "cyber-security": "html",
    "deterrence-and-arms-control": "markdown",
    "humanitarian-intervention": "docx",
}


@pytest.fixture(scope="module")
def documents() -> dict[str, Document]:
    return {doc.doc_id: doc for doc in load_corpus(LIBRARY)}


@pytest.fixture(scope="module")
def records() -> list[QuestionRecord]:
    return load_questions(QUESTIONS)


def test_every_record_parses(records: list[QuestionRecord]) -> None:
    assert len(records) >= 40
    kinds = {record.kind for record in records}
    assert {"factual", "definition", "cross_document", "follow_up", "unanswerable", "false_premise"} <= kinds
    unanswerable = [r for r in records if not r.answerable]
    assert len(unanswerable) >= 10
    assert all(not r.gold_quotes and not r.gold_answers for r in unanswerable)
    assert all(r.history for r in records if r.kind == "follow_up")
    assert all(r.notes for r in records), "notes say which reading holds the answer"


def test_every_gold_quote_is_a_sentence_of_an_extracted_reading(
    records: list[QuestionRecord], documents: dict[str, Document]
) -> None:
    sentences = {(doc_id, s.text) for doc_id, doc in documents.items() for s in document_sentences(doc)}
    for record in records:
        for quote in record.gold_quotes:
            holders = [doc_id for doc_id, doc in documents.items() if quote in doc.text]
            assert holders, f"{record.id}: gold quote not in any extracted text: {quote[:70]!r}"
            assert len(holders) == 1, f"{record.id}: gold quote found in {holders}"
            assert (holders[0], quote) in sentences, f"{record.id}: not a whole sentence: {quote[:70]!r}"


def test_cross_document_questions_quote_two_readings(
    records: list[QuestionRecord], documents: dict[str, Document]
) -> None:
    crossing = [r for r in records if r.kind == "cross_document"]
    assert len(crossing) >= 5
    for record in crossing:
        holders = {d for q in record.gold_quotes for d, doc in documents.items() if q in doc.text}
        assert len(holders) >= 2, record.id


def test_the_folder_holds_four_readings_in_four_formats(documents: dict[str, Document]) -> None:
    assert len(corpus_files(LIBRARY)) == len(READINGS), "README and make_fixtures.py are not readings"
    assert {doc_id: doc.metadata["format"] for doc_id, doc in documents.items()} == READINGS
    for doc in documents.values():
        assert doc.metadata.get("author") == "Security Studies Course Team", doc.doc_id
        assert doc.title != doc.doc_id.replace("-", " ").title(), f"{doc.doc_id}: no title in the file"
        words = len(doc.text.split())
        assert 400 <= words <= 900, f"{doc.doc_id}: {words} words"


def test_html_boilerplate_is_left_out(documents: dict[str, Document]) -> None:
    text = documents["cyber-security"].text
    assert text.startswith("Cyber Security and International Conflict")
    for boilerplate in ("cookies", "Log in", "Subscribe", "All rights reserved", "dataLayer", "newsletter"):
        assert boilerplate not in text


def test_pdf_text_has_page_offsets(documents: dict[str, Document]) -> None:
    doc = documents["climate-and-security"]
    assert len(doc.pages) >= 3
    assert list(doc.pages) == sorted(set(doc.pages)) and doc.pages[0] == 0
    assert "Week 6 reading" not in doc.text and "Page 2 of" not in doc.text, "running lines are dropped"
    starts = {heading: doc.text.index(heading) for heading in ("Water, food and conflict", "Displacement")}
    assert doc.page_at(starts["Water, food and conflict"]) == 2
    assert doc.page_at(starts["Displacement"]) == 3
    assert doc.page_at(doc.text.index("The Paris Agreement, adopted in 2015")) == 4


def test_fixture_script_is_kept_beside_its_output() -> None:
    assert (LIBRARY / "make_fixtures.py").is_file()
    assert Path(LIBRARY / "climate-and-security.pdf").stat().st_size > 0
