"""HTML, PDF and Word files: their text, metadata, pages, and clear errors for unusable ones.

Every file is made here by the library a publisher would use (fpdf2 for PDFs,
python-docx for Word files, HTML written out with its boilerplate), so each test
says exactly what went in and what must come out.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import docx
import pytest
from fpdf import FPDF
from PIL import Image

from assistant import formats
from assistant.chunking import document_sentences, paragraph_spans
from assistant.corpus import document_title, load_document
from assistant.errors import CorpusError
from assistant.formats import SUFFIXES, extract, front_matter_end

HEADER = "Journal of Reading Studies, Vol. 12"

# The reading, page by page and line by line, as a typesetter broke it. Page 2 ends
# mid-sentence and page 3 carries on; "inter-/national" is a word broken at the margin;
# "well-/known" is a compound the reading also writes whole ("well-known").
PAGES: list[list[list[str]]] = [
    [
        [
            "Deterrence by denial aims to make an attack fail rather than to punish it after",
            "the fact. It asks what an adversary could gain, and how an inter-",
            "national order might make that gain too small to be worth the risk.",
        ],
        [
            "The well-known objection is that denial is expensive, because every route",
            "of attack must be covered at once.",
        ],
    ],
    [
        [
            "Punishment is cheaper to threaten, yet harder to believe. A threat to retaliate",
            "must be carried out after deterrence has already failed, and so it depends",
            "on a resolve that the adversary may doubt. In the nineteenth century the balance of",
        ],
    ],
    [
        [
            "power was restored by alliances that shifted as threats rose and fell, and",
            "no single state could hold the others to ransom for long.",
        ],
        [
            "The lighthouse keeper counted the ships that passed the harbour each night.",
            "Such a well-",
            "known habit of watching is what denial asks of a defender.",
        ],
    ],
    [
        [
            "Neither strategy is enough alone. A defender who can deny some gains and",
            "punish the rest leaves an adversary with nothing worth the attempt.",
        ],
    ],
]


class _Journal(FPDF):
    """A journal's pages: a running header and a bare page number at the foot."""

    def header(self) -> None:
        self.set_font("Helvetica", "I", 9)
        self.cell(0, 8, HEADER, align="C", new_x="LMARGIN", new_y="NEXT")
        self.ln(6)

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("Helvetica", size=9)
        self.cell(0, 10, str(self.page_no()), align="C")


def write_pdf(path: Path, pages: list[list[list[str]]], title: str | None = "Denial and Punishment") -> Path:
    """A PDF with one page per item of ``pages``, each a list of paragraphs given line by line."""
    pdf = _Journal()
    if title:
        pdf.set_title(title)
        pdf.set_author("A. Reader")
    for paragraphs in pages:
        pdf.add_page()
        pdf.set_font("Helvetica", size=11)
        for lines in paragraphs:
            for line in lines:
                pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(4)  # the space between paragraphs
    path.write_bytes(bytes(pdf.output()))
    return path


@pytest.fixture(scope="module")
def reading_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_pdf(tmp_path_factory.mktemp("pdf") / "denial.pdf", PAGES)


def _paragraphs(text: str) -> list[str]:
    return [text[start:end] for start, end in paragraph_spans(text)]


def assert_offsets_exact(path: Path) -> None:
    doc = load_document(path)
    sentences = document_sentences(doc)
    assert sentences, "no sentences"
    for sentence in sentences:
        assert doc.text[sentence.start : sentence.end] == sentence.text
        assert sentence.page == doc.page_at(sentence.start)


# -- PDF ------------------------------------------------------------------------------------


def test_pdf_text_is_reflowed_into_paragraphs(reading_pdf: Path) -> None:
    doc = load_document(reading_pdf)
    assert _paragraphs(doc.text) == [
        "Deterrence by denial aims to make an attack fail rather than to punish it after the fact. "
        "It asks what an adversary could gain, and how an international order might make that gain "
        "too small to be worth the risk.",
        "The well-known objection is that denial is expensive, because every route of attack must be "
        "covered at once.",
        "Punishment is cheaper to threaten, yet harder to believe. A threat to retaliate must be carried "
        "out after deterrence has already failed, and so it depends on a resolve that the adversary may "
        "doubt. In the nineteenth century the balance of power was restored by alliances that shifted as "
        "threats rose and fell, and no single state could hold the others to ransom for long.",
        "The lighthouse keeper counted the ships that passed the harbour each night. Such a well-known "
        "habit of watching is what denial asks of a defender.",
        "Neither strategy is enough alone. A defender who can deny some gains and punish the rest leaves "
        "an adversary with nothing worth the attempt.",
    ]
    assert "\n\n".join(_paragraphs(doc.text)) == doc.text


def test_pdf_running_header_and_page_numbers_are_dropped(reading_pdf: Path) -> None:
    text = load_document(reading_pdf).text
    assert "Journal of Reading Studies" not in text
    assert not any(p.strip().isdigit() for p in text.split("\n\n"))
    assert not any(word.isdigit() for word in text.split())


def test_pdf_hyphenation_is_undone_only_where_it_broke_a_word(reading_pdf: Path) -> None:
    text = load_document(reading_pdf).text
    assert "an international order" in text and "inter-" not in text
    assert text.count("well-known") == 2 and "wellknown" not in text


def test_pdf_pages_record_where_each_page_starts(reading_pdf: Path) -> None:
    doc = load_document(reading_pdf)
    assert len(doc.pages) == 4 and doc.pages[0] == 0
    assert list(doc.pages) == sorted(doc.pages)
    # Page 3 starts mid-paragraph, where the sentence from page 2 carries on.
    assert doc.text[doc.pages[2] :].startswith("power was restored")
    assert doc.text[doc.pages[3] :].startswith("Neither strategy")
    sentences = document_sentences(doc)
    keeper = next(s for s in sentences if "lighthouse keeper" in s.text)
    assert doc.page_at(keeper.start) == 3 and keeper.page == 3
    balance = next(s for s in sentences if "balance of power" in s.text)
    assert balance.page == 2, "a sentence is on the page where it starts"
    assert doc.page_at(0) == 1 and doc.page_at(len(doc.text) - 1) == 4


def test_pdf_title_and_author_come_from_its_metadata(reading_pdf: Path, tmp_path: Path) -> None:
    doc = load_document(reading_pdf)
    assert doc.title == "Denial and Punishment"
    assert doc.metadata == {"title": "Denial and Punishment", "author": "A. Reader", "format": "pdf"}
    untitled = load_document(write_pdf(tmp_path / "week-3_reading.pdf", PAGES[:1], title=None))
    assert untitled.title == "Week 3 Reading" and "title" not in untitled.metadata


def test_a_heading_in_a_larger_font_is_its_own_paragraph(tmp_path: Path) -> None:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 9, "Why Denial Works", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, "Denial works because it removes the prize. " * 6)
    path = tmp_path / "heading.pdf"
    path.write_bytes(bytes(pdf.output()))
    assert _paragraphs(load_document(path).text)[0] == "Why Denial Works"


def test_a_scanned_pdf_is_an_error_that_says_to_run_ocr(tmp_path: Path) -> None:
    pdf = FPDF()
    for shade in ("white", "lightgray"):
        pdf.add_page()
        pdf.image(Image.new("RGB", (400, 560), shade), x=10, y=10, w=190)
    path = tmp_path / "scan.pdf"
    path.write_bytes(bytes(pdf.output()))
    with pytest.raises(CorpusError, match=r"scan\.pdf has no text layer on 2 of its 2 pages") as info:
        load_document(path)
    assert "ocrmypdf" in str(info.value)


def test_a_pdf_mostly_of_images_is_an_error_too(tmp_path: Path) -> None:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.cell(0, 6, "Scanned for the course reader.")
    for _ in range(3):
        pdf.add_page()
        pdf.image(Image.new("RGB", (40, 56), "white"), x=10, y=10, w=190)
    path = tmp_path / "mostly-scanned.pdf"
    path.write_bytes(bytes(pdf.output()))
    with pytest.raises(CorpusError, match=r"no text layer on 3 of its 4 pages.*ocrmypdf"):
        load_document(path)


def _encrypted(path: Path, user_password: str | None) -> Path:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, "A protected reading about deterrence. It has two sentences.")
    pdf.set_encryption(owner_password="owner", user_password=user_password)
    path.write_bytes(bytes(pdf.output()))
    return path


def test_a_password_protected_pdf_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match=r"locked\.pdf is protected by a password.*qpdf --decrypt"):
        load_document(_encrypted(tmp_path / "locked.pdf", user_password="secret"))


def test_a_pdf_encrypted_only_against_editing_opens(tmp_path: Path) -> None:
    doc = load_document(_encrypted(tmp_path / "no-edit.pdf", user_password=None))
    assert doc.text == "A protected reading about deterrence. It has two sentences."


BREAKAGES: dict[str, Callable[[bytes], bytes]] = {
    "truncated": lambda data: data[: len(data) // 2],
    "garbage": lambda _: b"%PDF-1.7\n" + b"x" * 100,
    "empty": lambda _: b"",
}


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_a_truncated_or_broken_pdf_is_a_clear_error(reading_pdf: Path, tmp_path: Path, breakage: str) -> None:
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(BREAKAGES[breakage](reading_pdf.read_bytes()))
    with pytest.raises(CorpusError, match=r"broken\.pdf is not a readable PDF .*truncated or damaged"):
        load_document(broken)


# -- HTML -----------------------------------------------------------------------------------

ARTICLE = """<!DOCTYPE html>
<html lang="en"><head>
<meta charset="{charset}">
<title>Soft Power Revisited | The Review</title>
<meta name="author" content="Joseph Nye">
<meta property="article:published_time" content="2021-03-04">
<style>body {{ font-family: serif; }}</style>
<script>var tracking = "SCRIPT-SECRET"; document.title = "changed";</script>
</head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/about">About the Review</a></li>
<li><a href="/subscribe">Subscribe today</a></li></ul></nav>
<article>
<h1>Soft Power Revisited</h1>
<p>Soft power is the ability to get what you want through attraction rather than coercion or
payments. It arises from the attractiveness of a country&#8217;s culture, political ideals and policies.</p>
<p>When policies are seen as legitimate in the eyes of others, soft power is enhanced. {cafe}</p>
<h2>Limits</h2>
<p>Hard power remains crucial in a world of states trying to guard their independence, and no
amount of attraction will stop an invasion that is already under way.</p>
</article>
<footer><p>Copyright 2021 The Review. All rights reserved.</p><a href="/privacy">Privacy policy</a></footer>
<script>console.log("MORE-SCRIPT")</script>
</body></html>
"""


def write_html(path: Path, charset: str = "utf-8", cafe: str = "Discuss it over a café crème.") -> Path:
    path.write_bytes(ARTICLE.format(charset=charset, cafe=cafe).encode(charset))
    return path


def test_html_main_text_without_scripts_navigation_or_footer(tmp_path: Path) -> None:
    doc = load_document(write_html(tmp_path / "soft-power.html"))
    assert _paragraphs(doc.text) == [
        "Soft Power Revisited",
        "Soft power is the ability to get what you want through attraction rather than coercion or "
        "payments. It arises from the attractiveness of a country’s culture, political ideals and policies.",
        "When policies are seen as legitimate in the eyes of others, soft power is enhanced. "
        "Discuss it over a café crème.",
        "Limits",
        "Hard power remains crucial in a world of states trying to guard their independence, and no "
        "amount of attraction will stop an invasion that is already under way.",
    ]
    for boilerplate in (
        "SCRIPT-SECRET",
        "MORE-SCRIPT",
        "font-family",
        "About the Review",
        "Subscribe",
        "rights",
    ):
        assert boilerplate not in doc.text


def test_html_metadata_comes_from_the_page(tmp_path: Path) -> None:
    doc = load_document(write_html(tmp_path / "soft-power.htm"))
    assert doc.title == "Soft Power Revisited"
    assert doc.metadata["author"] == "Joseph Nye"
    assert doc.metadata["date"] == "2021-03-04"
    assert doc.metadata["format"] == "html"
    assert doc.pages == ()


def test_html_title_falls_back_to_the_title_element(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    body = "<p>" + "Deterrence by denial is defensive, and it avoids arms races. " * 4 + "</p>"
    path.write_text(f"<html><head><title>Notes on Denial</title></head><body>{body}</body></html>")
    assert load_document(path).title == "Notes on Denial"


@pytest.mark.parametrize("charset", ["windows-1252", "iso-8859-1"])
def test_html_is_decoded_with_its_declared_charset(tmp_path: Path, charset: str) -> None:
    doc = load_document(write_html(tmp_path / "latin.html", charset=charset, cafe="A café crème."))
    assert "A café crème." in doc.text


def test_html_without_a_charset_must_be_utf8(tmp_path: Path) -> None:
    path = tmp_path / "undeclared.html"
    path.write_bytes("<html><body><p>Un café crème.</p></body></html>".encode("latin-1"))
    with pytest.raises(CorpusError, match=r"undeclared\.html is not valid utf-8 .*<meta charset>"):
        load_document(path)


def test_html_with_no_main_text_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "app-shell.html"
    path.write_text(
        "<html><head><title>App</title><script>render('lots of text made by script')</script></head>"
        '<body><div id="app"></div><noscript>Enable JavaScript.</noscript></body></html>'
    )
    with pytest.raises(CorpusError, match=r"app-shell\.html has no main text.*reader view"):
        load_document(path)


def test_extracted_text_never_looks_like_front_matter(tmp_path: Path) -> None:
    path = tmp_path / "rules.html"
    rows = ["---", "title: Not front matter", "---", "* * *"]
    body = "".join(f"<p>{row}</p>" for row in rows) + "<p>" + "The real reading starts here. " * 5 + "</p>"
    path.write_text(f"<html><body><article>{body}</article></body></html>")
    doc = load_document(path)
    assert not doc.text.startswith("-") and front_matter_end(doc.text) == 0
    assert _paragraphs(doc.text)[0] == "title: Not front matter"


# -- Word -----------------------------------------------------------------------------------


def write_docx(path: Path, title: str = "Human Security") -> Path:
    document = docx.Document()
    document.core_properties.title = title
    document.core_properties.author = "Mary Kaldor"
    document.add_heading("Human Security", level=1)
    document.add_paragraph("Human security puts people, not states, at the centre.  It is about freedom.")
    document.add_paragraph("")  # blank paragraphs used for spacing are dropped
    document.add_paragraph("It changes what armed forces are for.")
    table = document.add_table(rows=2, cols=2)
    for row, cells in zip(table.rows, [("Year", "Event"), ("1994", "The UNDP report.")], strict=True):
        for cell, text in zip(row.cells, cells, strict=True):
            cell.text = text
    document.add_paragraph("The last paragraph comes after the table.")
    document.save(str(path))
    return path


def test_docx_paragraphs_and_table_rows_are_separated_by_blank_lines(tmp_path: Path) -> None:
    doc = load_document(write_docx(tmp_path / "kaldor.docx"))
    assert doc.text == (
        "Human Security\n\n"
        "Human security puts people, not states, at the centre. It is about freedom.\n\n"
        "It changes what armed forces are for.\n\n"
        "Year | Event\n\n"
        "1994 | The UNDP report.\n\n"
        "The last paragraph comes after the table."
    )
    assert doc.title == "Human Security"
    assert doc.metadata == {"title": "Human Security", "author": "Mary Kaldor", "format": "docx"}
    assert doc.pages == ()


def test_docx_without_a_title_is_named_after_the_file(tmp_path: Path) -> None:
    assert load_document(write_docx(tmp_path / "kaldor_2007.docx", title="")).title == "Kaldor 2007"


def test_docx_title_paragraph_names_a_file_without_a_title_property(tmp_path: Path) -> None:
    """Word's "Title" style marks the document's title, as its title property would."""
    path = tmp_path / "kaldor_2007.docx"
    document = docx.Document()
    document.add_paragraph("New and Old Wars", style="Title")
    document.add_paragraph("Human security puts people, not states, at the centre.")
    document.save(str(path))
    assert load_document(path).title == "New and Old Wars"
    assert document_title(path) == "New and Old Wars"


def test_a_pdf_title_is_read_without_extracting_its_text(
    reading_pdf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages list files not indexed yet by title: reading a big PDF's text for that would take long."""

    def no_text(*args: object) -> None:
        raise AssertionError("the text was extracted")

    monkeypatch.setattr(formats.pdf, "_page_lines", no_text)
    assert document_title(reading_pdf) == "Denial and Punishment"
    untitled = write_pdf(tmp_path / "week-3_reading.pdf", PAGES[:1], title=None)
    assert document_title(untitled) == "Week 3 Reading"


@pytest.mark.parametrize("content", [b"PK\x03\x04 not really a zip", b"plain text, not a zip"])
def test_a_broken_docx_is_a_clear_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.docx"
    path.write_bytes(content)
    with pytest.raises(CorpusError, match=r"broken\.docx is not a \.docx file.*save it"):
        load_document(path)


def test_a_docx_that_would_unzip_too_big_is_refused_before_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_docx(tmp_path / "bomb.docx")
    monkeypatch.setattr(formats.docx, "MAX_DOCX_UNZIPPED_BYTES", 10_000)
    monkeypatch.setattr(docx, "Document", None)  # never reached
    with pytest.raises(CorpusError, match=r"bomb\.docx would unpack to 0 MB \(the limit is 0 MB\)"):
        load_document(path)


def test_a_docx_that_is_a_zip_of_something_else_is_a_clear_error(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "other.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "not a Word document")
    with pytest.raises(CorpusError, match=r"other\.docx is not a readable Word file"):
        load_document(path)


# -- every format ----------------------------------------------------------------------------


def test_every_format_gives_offsets_that_slice_exactly(reading_pdf: Path, tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("---\ntitle: Notes\n---\nFirst point. Second point.\n")
    (tmp_path / "notes.txt").write_text("One sentence here. Another one.\n\nA second paragraph.\n")
    files = [
        reading_pdf,
        write_html(tmp_path / "a.html"),
        write_docx(tmp_path / "b.docx"),
        tmp_path / "notes.md",
        tmp_path / "notes.txt",
    ]
    assert {f.suffix for f in files} | {".htm"} == set(SUFFIXES)
    for path in files:
        assert_offsets_exact(path)


def test_an_unsupported_suffix_is_refused_by_extract() -> None:
    with pytest.raises(CorpusError, match=r"\.rtf files are not supported; use \.txt, \.md, .* or \.docx"):
        extract(Path("reading.rtf"), b"{\\rtf1 hello}")
