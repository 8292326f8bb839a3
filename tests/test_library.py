"""Collections, document filters, multi-document answers and document management (assistant.library)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fpdf import FPDF

from assistant import Assistant, CorpusError, QuestionError
from assistant.cli import main
from assistant.errors import InvalidDocumentError, NotFoundError
from assistant.library import Library
from assistant.models import Source

from .conftest import ESSAY

PENGUINS = (
    "---\ntitle: Penguin Notes\n---\n\n"
    "Emperor penguins huddle together through the Antarctic winter to keep warm.\n\n"
    "Penguins eat krill and small fish, which they catch while swimming underwater.\n"
)
GLACIERS = "Glaciers carve valleys slowly. Penguins nest on the rocky shores that glaciers leave behind.\n"


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """A course folder: the essay plus two short notes."""
    folder = tmp_path / "course"
    folder.mkdir()
    shutil.copy(ESSAY, folder / ESSAY.name)
    (folder / "penguins.md").write_text(PENGUINS, encoding="utf-8")
    (folder / "glaciers.txt").write_text(GLACIERS, encoding="utf-8")
    return folder


@pytest.fixture
def library(tmp_path: Path, corpus_copy: Path, course: Path) -> Library:
    library = Library(corpus_dir=corpus_copy, index_dir=tmp_path / "idx")
    library.register("course", course)
    return library


def test_collections_are_separate_corpora(library: Library, course: Path) -> None:
    assert [c.name for c in library.collections()] == ["default", "course"]
    assert library.collection("course").corpus_dir == course.resolve()
    answer = library.assistant("course").ask("What do penguins eat?")
    assert answer.citations and answer.citations[0].doc_id == "penguins"
    assert answer.citations[0].title == "Penguin Notes" and answer.citations[0].page is None
    assert library.assistant().ask("What do penguins eat?").refused, "the default collection has no penguins"
    with pytest.raises(
        NotFoundError, match=r"no collection 'nope'.*assistant ingest FOLDER --collection nope"
    ):
        library.assistant("nope")


def test_documents_not_indexed_yet_are_listed_by_their_own_titles(library: Library) -> None:
    """A fresh index: the chat's heading and the browser tab name documents as the index will,
    not by their file names ("values-in-foreign-policy")."""
    infos = {info.doc_id: info for info in library.documents("course")}
    assert not any(info.indexed for info in infos.values())
    assert infos["penguins"].title == "Penguin Notes"
    assert infos[ESSAY.stem].title == "Values In Foreign Policy"  # no title of its own: its file name
    library.assistant("course").ingest()
    assert {i.doc_id: i.title for i in library.documents("course")} == {d: i.title for d, i in infos.items()}


def test_bad_collection_names_and_folders_are_refused(library: Library, tmp_path: Path) -> None:
    with pytest.raises(Exception, match="Invalid collection name"):
        library.register("../x", tmp_path)
    with pytest.raises(CorpusError, match="does not exist"):
        library.register("other", tmp_path / "missing")


def test_a_question_can_be_limited_to_one_document(library: Library) -> None:
    bot = library.assistant("course")
    limited = bot.ask("Where do penguins nest?", documents=["glaciers"])
    assert limited.citations and {c.doc_id for c in limited.citations} == {"glaciers"}
    essay_only = bot.ask("What do penguins eat?", documents=[ESSAY.stem])
    assert all(c.doc_id == ESSAY.stem for c in essay_only.citations)
    with pytest.raises(QuestionError, match=r"No document 'nope'.*choose from: glaciers, penguins"):
        bot.ask("What do penguins eat?", documents=["nope"])


def test_an_answer_from_several_documents_names_each_source(library: Library) -> None:
    answer = library.assistant("course").ask("What do penguins do?")
    cited = {c.doc_id for c in answer.citations}
    assert cited == {"penguins", "glaciers"}, answer.answer
    for sentence in answer.sentences:
        assert sentence.sources and all(f"({title})" in answer.answer for title in sentence.sources)
    assert "(Penguin Notes)" in answer.answer and "(Glaciers)" in answer.answer


def test_an_answer_from_one_document_does_not_name_it(library: Library) -> None:
    answer = library.assistant().ask("What is defensive deterrence?")
    assert answer.citations and "(Values In Foreign Policy)" not in answer.answer


def test_pdf_citations_carry_their_page(tmp_path: Path) -> None:
    folder = tmp_path / "pdfs"
    folder.mkdir()
    pages = [
        "Chapter one is about rivers. Rivers flow from mountains to the sea.",
        "Chapter two is about volcanoes. Volcanoes erupt molten rock called lava.",
        "Chapter three is about deserts. Deserts receive very little rain each year.",
    ]
    _write_pdf(folder / "earth.pdf", pages)
    bot = Assistant(corpus_dir=folder, index_dir=tmp_path / "idx")
    answer = bot.ask("What do volcanoes erupt?")
    citation = next(c for c in answer.citations if "lava" in c.quote)
    assert citation.page == 2
    doc = bot.documents()[0]
    assert doc.text[citation.start : citation.end] == citation.quote, "quotes stay exact in the stored text"


def _write_pdf(path: Path, pages: list[str]) -> None:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    pdf.output(str(path))


# -- managing documents ------------------------------------------------------------------


def test_add_indexes_only_the_new_file(library: Library, course: Path) -> None:
    library.assistant("course").ingest()
    report = library.add("course", "volcanoes.md", b"Volcanoes erupt molten rock called lava.\n")
    assert report.added == ["volcanoes"] and sorted(report.unchanged) == ["glaciers", "penguins", ESSAY.stem]
    assert (course / "volcanoes.md").exists()
    answer = library.assistant("course").ask("What do volcanoes erupt?")
    assert answer.citations[0].doc_id == "volcanoes"
    states = {d.doc_id: d for d in library.documents("course")}
    assert states["volcanoes"].indexed and states["volcanoes"].chunks == 1 and states["volcanoes"].format


def test_replacing_a_file_reindexes_it_and_keeps_the_old_version(
    library: Library, course: Path, tmp_path: Path
) -> None:
    library.assistant("course").ingest()
    report = library.add("course", "glaciers.txt", b"Glaciers are rivers of ice that move downhill.\n")
    assert report.updated == ["glaciers"] and not report.added
    kept = list((tmp_path / "idx" / "removed" / "course").iterdir())
    assert len(kept) == 1 and kept[0].read_text() == GLACIERS
    assert "rivers of ice" in library.assistant("course").ask("What are glaciers?").answer


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("tool.exe", b"MZ", "unsupported format"),
        ("../../escape.md", b"Escaped text here.\n", None),
        ("binary.txt", b"\x00\x01\x02", "binary"),
        ("empty.md", b"", "empty"),
        ("Penguins.txt", b"Another penguin file.\n", "same doc_id"),
    ],
)
def test_unusable_uploads_change_nothing(
    library: Library, course: Path, name: str, data: bytes, says: str | None
) -> None:
    before = sorted(p.name for p in course.iterdir())
    if says is None:  # a path in the name is reduced to the file name, inside the folder
        library.add("course", name, data)
        assert (course / "escape.md").exists() and not (course.parent.parent / "escape.md").exists()
        return
    with pytest.raises(InvalidDocumentError, match=says):
        library.add("course", name, data)
    assert sorted(p.name for p in course.iterdir()) == before


def test_remove_takes_the_chunks_out_and_keeps_the_file(
    library: Library, course: Path, tmp_path: Path
) -> None:
    bot = library.assistant("course")
    bot.ingest()
    kept = library.remove("course", "penguins")
    assert not (course / "penguins.md").exists() and kept.read_text(encoding="utf-8") == PENGUINS
    assert kept.is_relative_to(tmp_path / "idx" / "removed")
    assert not bot.index.chunk_store.get(where={"doc_id": "penguins"})["ids"]
    assert not bot.index.sentence_store.get(where={"doc_id": "penguins"})["ids"]
    assert "penguins" not in {c.doc_id for c in bot.ask("What do penguins eat?").citations}
    with pytest.raises(NotFoundError, match="no document 'penguins'"):
        library.remove("course", "penguins")


def test_reindex_embeds_again(library: Library) -> None:
    library.assistant("course").ingest()
    assert sorted(library.reindex("course", ["penguins"]).updated) == ["penguins"]
    assert len(library.reindex("course").updated) == 3
    with pytest.raises(NotFoundError):
        library.reindex("course", ["nope"])


# -- the index behind it -----------------------------------------------------------------


def test_a_rebuild_is_swapped_in_while_readers_keep_answering(corpus_copy: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "idx"
    reader = Assistant(corpus_dir=corpus_copy, index_dir=index_dir)
    assert not reader.ask("What is defensive deterrence?").refused
    before = reader.index.version()
    answers_during = []

    def load_and_ask(source: Source) -> object:
        # Halfway through the rebuild, the reader still answers from the old generation.
        answers_during.append(reader.ask("What is defensive deterrence?"))
        from assistant.corpus import load_document

        return load_document(Path(source.path))

    writer = Assistant(corpus_dir=corpus_copy, index_dir=index_dir)
    writer.index.ingest(writer.sources(), load_and_ask, rebuild=True)  # type: ignore[arg-type]
    assert answers_during and not answers_during[0].refused and answers_during[0].citations
    assert reader.index.version() != before, "the pointer moved to the new generation"
    reader._checked = 0.0  # don't wait the few seconds between checks
    assert not reader.ask("What is defensive deterrence?").refused
    assert reader.retriever.version == reader.index.version(), "the reader reloaded the new generation"


def test_old_generations_are_dropped(corpus_copy: Path, tmp_path: Path) -> None:
    bot = Assistant(corpus_dir=corpus_copy, index_dir=tmp_path / "idx")
    for _ in range(3):
        bot.ingest(rebuild=True)
    names = {c.name for c in bot.index.client.list_collections()}
    generations = {name.split(".")[1] for name in names if name != "default.current"}
    assert len(generations) == 2, names  # the live one and the one before it


# -- the CLI -----------------------------------------------------------------------------


def test_cli_course_collection_end_to_end(
    course: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index = ["--index", str(tmp_path / "idx")]
    assert main(["ingest", str(course), "--collection", "course", *index]) == 0
    assert "3 added" in capsys.readouterr().out
    assert main(["collections", *index]) == 0
    assert "course\t" in capsys.readouterr().out
    assert main(["ask", "What do penguins eat?", "--collection", "course", *index]) == 0
    assert "[1] Penguin Notes, paragraph" in capsys.readouterr().out
    assert (
        main(["ask", "Where do penguins nest?", "--collection", "course", "--document", "glaciers", *index])
        == 0
    )
    assert "Glaciers" in capsys.readouterr().out
    assert main(["docs", "list", "--collection", "course", *index]) == 0
    listing = capsys.readouterr().out
    assert "penguins\tPenguin Notes\tmarkdown" in listing and "indexed" in listing
    note = tmp_path / "volcanoes.md"
    note.write_text("Volcanoes erupt molten rock called lava.\n", encoding="utf-8")
    assert main(["docs", "add", str(note), "--collection", "course", *index]) == 0
    assert "1 added" in capsys.readouterr().out
    assert main(["docs", "remove", "volcanoes", "--collection", "course", *index]) == 0
    assert "its file is kept in" in capsys.readouterr().out
    assert main(["docs", "remove", "volcanoes", "--collection", "course", *index]) == 2
    assert "no document 'volcanoes'" in capsys.readouterr().err


def test_cli_ingest_reports_skipped_files(
    course: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (course / "scan.txt").write_bytes(b"\x00\x00binary")
    assert main(["ingest", str(course), "--index", str(tmp_path / "idx")]) == 1
    captured = capsys.readouterr()
    assert "3 added" in captured.out and "Skipped:" in captured.err and "scan.txt" in captured.err
