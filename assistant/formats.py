"""From a corpus file's bytes to the text every offset refers to: one small function per format.

- ``.txt`` / ``.md``: UTF-8, kept exactly as written (front matter included, so
  offsets match the file); optional YAML front matter gives title/author/source/date.
  A Markdown file without a front-matter title takes the level-1 heading it opens with.
- ``.html`` / ``.htm``: the main text as trafilatura finds it (navigation, scripts
  and other boilerplate dropped), decoded with the charset the page declares.
- ``.pdf``: pypdf's text, reflowed into paragraphs, with running headers, footers
  and page numbers dropped; ``Extracted.pages`` says where each page starts.
- ``.docx``: the body's paragraphs (and table rows) via python-docx; the title is the file's
  own title property, else a paragraph in Word's "Title" style.

A format's title comes from the file itself; ``corpus`` names a file without one after
its file name. ``read_title`` reads only the title, for files not indexed yet.

Extracted (non-text) formats are written as paragraphs separated by one blank line,
each on one line, because that is what ``chunking.paragraph_spans`` splits on. The
parsers are imported inside their functions so that ``import assistant`` stays fast.
Every error is a CorpusError that names the file and says how to fix it.
"""

from __future__ import annotations

import codecs
import re
import statistics
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass, replace
from email.message import Message
from html.parser import HTMLParser
from io import BytesIO
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from .errors import CorpusError

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument
    from pypdf import PageObject, PdfReader

FORMATS = {
    ".txt": "text",
    ".md": "markdown",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".docx": "docx",
}
SUFFIXES = tuple(FORMATS)
SUFFIX_NAMES = ", ".join(SUFFIXES[:-1]) + f" or {SUFFIXES[-1]}"  # for messages
# Formats whose files carry fonts and images besides their text, so may be bigger.
PAGED_FORMATS = frozenset({"pdf", "docx"})

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*\r?\n", re.DOTALL)
# A Markdown level-1 heading on the body's first line: "# Title" (ATX) or "Title" over "===" (setext).
_MARKDOWN_TITLE = re.compile(
    r"\A\s*(?:#[ \t]+(?P<atx>[^\n]+?)(?:[ \t]+#+)?[ \t]*\r?$|(?P<setext>[^\n]+?)[ \t]*\r?\n=+[ \t]*\r?$)",
    re.MULTILINE,
)
_META_KEYS = ("title", "author", "source", "date")


@dataclass(frozen=True)
class Extracted:
    """A file's text (what offsets refer to), its metadata, and where each page starts."""

    text: str
    metadata: dict[str, str]
    pages: tuple[int, ...] = ()  # offset in ``text`` of each page's first character; () if unpaged


def extract(path: Path, data: bytes) -> Extracted:
    """The text and metadata of ``data``, read as the format its suffix names."""
    suffix = path.suffix.lower()
    kind = FORMATS.get(suffix)
    if kind is None:
        raise CorpusError(f"{path}: {suffix or 'no suffix'} files are not supported; use {SUFFIX_NAMES}.")
    extracted = _READERS[kind](path, data)
    return replace(extracted, metadata={**extracted.metadata, "format": kind})


# -- shared helpers ------------------------------------------------------------------------


def front_matter_end(text: str) -> int:
    """Offset where the body starts (0 when there is no front matter)."""
    match = _FRONT_MATTER.match(text)
    return match.end() if match else 0


# Typographic ligatures (PDFs especially) become their letters, so "ﬁnd" matches "find".
_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"})
_SOFT_HYPHEN = "\u00ad"


def _one_line(paragraph: str) -> str:
    """A paragraph on one line: whitespace runs become one space; soft hyphens go."""
    return " ".join(paragraph.replace(_SOFT_HYPHEN, "").translate(_LIGATURES).split())


def _has_words(paragraph: str) -> bool:
    # A "paragraph" of rules or bullets ("---", "* * *", "|---|") carries nothing to cite,
    # and a leading "---" line could be mistaken for front matter by the chunker.
    return any(ch.isalnum() for ch in paragraph)


def _join_paragraphs(paragraphs: Iterable[str]) -> str:
    """Paragraphs, each on one line, separated by a blank line; empty ones dropped."""
    return "\n\n".join(p for p in map(_one_line, paragraphs) if _has_words(p))


def _clean_metadata(**values: object) -> dict[str, str]:
    """The values that are present, as single-line strings."""
    cleaned = {key: " ".join(str(value).split()) for key, value in values.items() if value}
    return {key: value for key, value in cleaned.items() if value}


# -- .txt and .md --------------------------------------------------------------------------


def _text(path: Path, data: bytes) -> Extracted:
    """UTF-8 text kept exactly as read (only a byte-order mark is dropped)."""
    if b"\x00" in data:
        raise CorpusError(f"{path} looks binary (it contains NUL bytes); remove it from the corpus.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorpusError(
            f"{path} is not UTF-8 (bad byte at offset {exc.start}); "
            f"re-save it as UTF-8, e.g. `iconv -f latin1 -t utf-8`."
        ) from None
    text = text.removeprefix("\ufeff")
    metadata = _front_matter(text, path)
    body = text[front_matter_end(text) :]
    if not body.strip():
        raise CorpusError(f"{path} is empty; add text or remove it from the corpus.")
    if "title" not in metadata and FORMATS.get(path.suffix.lower()) == "markdown":
        metadata = {**_clean_metadata(title=_markdown_title(body)), **metadata}
    return Extracted(text, metadata)


def _markdown_title(body: str) -> str | None:
    """The level-1 heading a Markdown body opens with: the document's own title. A heading
    further down is a section's, and a plain text file has no markup to tell a title by."""
    match = _MARKDOWN_TITLE.match(body)
    if not match:
        return None
    title = (match.group("atx") or match.group("setext")).strip()
    # Emphasis around the whole title ("# *Title*") is presentation, not part of the name.
    return title.strip("*_").strip() or None


def _front_matter(text: str, path: Path) -> dict[str, str]:
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}
    try:
        raw = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise CorpusError(f"{path}: front matter is not valid YAML ({exc}).") from None
    if not isinstance(raw, dict):
        raise CorpusError(f"{path}: front matter must be a mapping of title/author/source/date.")
    return {key: str(raw[key]) for key in _META_KEYS if raw.get(key) is not None}


# -- .html and .htm ------------------------------------------------------------------------


def _html(path: Path, data: bytes) -> Extracted:
    """The page's main text and metadata, as trafilatura extracts them."""
    import trafilatura
    from trafilatura.settings import Document

    result = trafilatura.bare_extraction(
        _decode_html(path, data),
        with_metadata=True,
        include_comments=False,
        # Precision over recall: boilerplate in the corpus would be quoted as if it were the reading.
        favor_precision=True,
        # Only a date the page states; a date guessed from its text is often wrong.
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    # trafilatura puts each block (paragraph, heading, list item, table row) on its own line.
    text = _join_paragraphs((result.text or "").splitlines()) if isinstance(result, Document) else ""
    if not isinstance(result, Document) or not text:
        raise CorpusError(
            f"{path} has no main text to extract (it may be a page of links, or one built by "
            f"JavaScript); save the article itself (e.g. the browser's reader view) or remove the file."
        )
    # trafilatura's title falls back to the page's <title> when no heading or meta tag gives one.
    metadata = _clean_metadata(title=result.title, author=result.author, date=result.date, source=result.url)
    return Extracted(text, metadata)


def _decode_html(path: Path, data: bytes) -> str:
    """The page as text, in the charset its byte-order mark or <meta> declares, else UTF-8."""
    charset = _declared_charset(data)
    try:
        return data.decode(charset)
    except LookupError:
        raise CorpusError(
            f"{path} declares an unknown charset {charset!r}; "
            f"correct its <meta charset> or re-save it as UTF-8."
        ) from None
    except UnicodeDecodeError as exc:
        raise CorpusError(
            f"{path} is not valid {charset} (bad byte at offset {exc.start}); "
            f"correct its <meta charset> or re-save it as UTF-8."
        ) from None


def _declared_charset(data: bytes) -> str:
    """The codec to decode the page with: from its byte-order mark, its <meta>, else UTF-8."""
    for bom, charset in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return charset
    sniffer = _CharsetSniffer()
    # Like a browser's prescan, look only near the top; latin-1 maps bytes 1:1, and the
    # <meta> tags that matter are ASCII in every ASCII-compatible charset.
    with suppress(AssertionError):  # html.parser rejects some malformed "<![...]>" sections
        sniffer.feed(data[:4096].decode("latin-1"))
    declared = sniffer.charset or "utf-8"
    try:
        name = codecs.lookup(declared).name
    except LookupError:
        return declared
    # The web treats pages labelled latin-1 or ASCII as windows-1252 (WHATWG Encoding Standard).
    return "cp1252" if name in ("iso8859-1", "latin-1", "ascii") else name


class _CharsetSniffer(HTMLParser):
    """Finds ``<meta charset=...>`` or ``<meta http-equiv="Content-Type" content="...; charset=...">``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.charset: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "meta" or self.charset:
            return
        values = {name.lower(): (value or "").strip() for name, value in attrs}
        if values.get("charset"):
            self.charset = values["charset"]
        elif values.get("http-equiv", "").lower() == "content-type":
            header = Message()  # the standard library's parser for "text/html; charset=..."
            header["content-type"] = values.get("content", "")
            self.charset = header.get_content_charset()


# -- .docx ---------------------------------------------------------------------------------

# A .docx is a zip: refuse one that would expand to more than this (a "zip bomb").
MAX_DOCX_UNZIPPED_BYTES = 512 * 1024 * 1024


def _docx(path: Path, data: bytes) -> Extracted:
    """The body's paragraphs and table rows (headers, footers and comments are left out)."""
    import docx

    _check_unzipped_size(path, data)
    try:
        document = docx.Document(BytesIO(data))
        text = _join_paragraphs(_docx_blocks(document))
    except Exception as exc:  # a damaged zip, a missing part, bad XML: python-docx lets each through
        raise CorpusError(
            f"{path} is not a readable Word file ({type(exc).__name__}: {exc}); "
            f"open it in Word or LibreOffice and save it as .docx again."
        ) from None
    if not text:
        raise CorpusError(f"{path} has no text; add text or remove it from the corpus.")
    properties = document.core_properties
    title = _usable_title(properties.title) or _docx_title_paragraph(document)
    return Extracted(text, _clean_metadata(title=title, author=properties.author))


def _docx_title_paragraph(document: DocxDocument) -> str | None:
    """The first paragraph in Word's "Title" style, when the file's title property is empty."""
    for paragraph in document.paragraphs:
        style = paragraph.style.name if paragraph.style is not None else ""
        if style == "Title" and paragraph.text.strip():
            return paragraph.text
    return None


def _check_unzipped_size(path: Path, data: bytes) -> None:
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, NotImplementedError, ValueError, EOFError):  # what zipfile raises on junk
        raise CorpusError(
            f"{path} is not a .docx file (not a zip archive); save it from Word or LibreOffice as .docx."
        ) from None
    if unzipped > MAX_DOCX_UNZIPPED_BYTES:
        raise CorpusError(
            f"{path} would unpack to {unzipped // 1_048_576} MB (the limit is "
            f"{MAX_DOCX_UNZIPPED_BYTES // 1_048_576} MB); remove it from the corpus."
        )


def _docx_blocks(document: DocxDocument) -> Iterator[str]:
    """Paragraphs in reading order; a table row becomes one paragraph, its cells joined by " | "."""
    from docx.table import Table

    for block in document.iter_inner_content():
        if not isinstance(block, Table):
            yield block.text
            continue
        for row in block.rows:
            cells: list[str] = []
            for cell in row.cells:
                text = _one_line(cell.text)
                if text and (not cells or cells[-1] != text):  # a merged cell is reported once per column
                    cells.append(text)
            yield " | ".join(cells)


# -- .pdf ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    """One line of a PDF page as pypdf reads it, with where it starts and its font size."""

    text: str
    x: float
    y: float  # PDF coordinates: larger is higher up the page
    size: float


def _pdf(path: Path, data: bytes) -> Extracted:
    """The PDF's text as paragraphs, with the offset where each page starts."""
    reader = _open_pdf(path, data)
    try:
        pages = [_page_lines(page) for page in reader.pages]
        title, author = (reader.metadata.title, reader.metadata.author) if reader.metadata else (None, None)
    except Exception as exc:  # pypdf raises many kinds of error on a damaged file
        raise _unreadable_pdf(path, exc) from None
    if not pages:
        raise CorpusError(f"{path} has no pages; export it again or remove it from the corpus.")
    pages = _drop_running_lines(pages)
    with_text = sum(1 for lines in pages if lines)
    if 2 * with_text < len(pages):  # mostly images: the text that is there is not the reading
        raise CorpusError(
            f"{path} has no text layer on {len(pages) - with_text} of its {len(pages)} pages (it looks "
            f"scanned); make it searchable with OCR, e.g. `ocrmypdf {path.name} ocr.pdf`, and add that file."
        )
    text, starts = _reflow(pages)
    return Extracted(text, _clean_metadata(title=_usable_title(title), author=author), starts)


def _pdf_title(path: Path, data: bytes) -> str | None:
    """The PDF's metadata title, without extracting its text (which takes long for a big file)."""
    reader = _open_pdf(path, data)
    try:
        title = reader.metadata.title if reader.metadata else None
    except Exception as exc:  # pypdf raises many kinds of error on a damaged file
        raise _unreadable_pdf(path, exc) from None
    return _clean_metadata(title=_usable_title(title)).get("title")


def _open_pdf(path: Path, data: bytes) -> PdfReader:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    try:
        reader = PdfReader(BytesIO(data))
        # Many PDFs are "encrypted" only against editing and open with an empty password.
        if reader.is_encrypted and not reader.decrypt(""):
            raise CorpusError(
                f"{path} is protected by a password; save an unprotected copy, e.g. "
                f"`qpdf --decrypt --password=PASSWORD {path.name} open.pdf`, and add that file."
            )
        len(reader.pages)  # reads the page tree now, so that a broken file fails here
    except CorpusError:
        raise
    except DependencyError as exc:
        raise CorpusError(
            f"{path} is encrypted with AES; `pip install cryptography` to read it ({exc})."
        ) from None
    except Exception as exc:  # pypdf raises many kinds of error on a damaged file
        raise _unreadable_pdf(path, exc) from None
    return reader


def _unreadable_pdf(path: Path, exc: Exception) -> CorpusError:
    return CorpusError(
        f"{path} is not a readable PDF ({type(exc).__name__}: {exc}); it may be truncated or damaged: "
        f"download or export it again, or repair it with `qpdf {path.name} repaired.pdf`."
    )


def _usable_title(title: str | None) -> str | None:
    """The metadata title, unless it is a leftover file name ("Microsoft Word - draft.docx")."""
    if not title or title.strip().lower() in ("untitled", "title"):
        return None
    return None if Path(title.strip()).suffix.lower() in (".doc", ".docx", ".pdf", ".tex", ".dvi") else title


class _LineCollector:
    """A pypdf text visitor that gathers the page's lines with the position of each line's start."""

    def __init__(self) -> None:
        self.lines: list[_Line] = []
        self._parts: list[str] = []
        self._where: tuple[float, float, float] | None = None

    def __call__(self, text: str, cm: list[float], tm: list[float], font: Any, size: float) -> None:
        for number, piece in enumerate(text.split("\n")):
            if number:
                self.end_line()
            if piece.strip() and self._where is None:
                self._where = _position(cm, tm, size)
            self._parts.append(piece)

    def end_line(self) -> None:
        text = "".join(self._parts).strip()
        # A soft hyphen at the end of a line is a word broken at the margin: treat it as "-".
        text = text.removesuffix(_SOFT_HYPHEN) + "-" if text.endswith(_SOFT_HYPHEN) else text
        # A line of rules or dots has nothing to cite (and a "---" could pass for front matter).
        if _has_words(text) and self._where is not None:
            self.lines.append(_Line(text, *self._where))
        self._parts, self._where = [], None


def _position(cm: list[float], tm: list[float], size: float) -> tuple[float, float, float]:
    """Page coordinates of the text matrix's origin, and the font size as drawn."""
    x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
    y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
    scale = abs(tm[3] * cm[3]) or 1.0  # some producers draw with a 1pt font scaled by the matrix
    return x, y, size * scale


def _page_lines(page: PageObject) -> list[_Line]:
    collector = _LineCollector()
    page.extract_text(visitor_text=collector)
    collector.end_line()
    return collector.lines


# -- PDF: running headers and footers --------------------------------------------------------

_EDGE_LINES = 2  # how many lines at the top and at the bottom of a page may be a header or footer
_DIGITS = re.compile(r"\d+")
_ROMAN = re.compile(r"[ivxlcdm]+")


def _signature(text: str) -> str:
    """The line with its numbers blanked, so "Page 3" and "Page 4" look alike."""
    text = " ".join(text.lower().split())
    return "#" if _ROMAN.fullmatch(text) else _DIGITS.sub("#", text)


def _edges(lines: list[_Line]) -> list[_Line]:
    by_height = sorted(lines, key=lambda line: line.y)
    return by_height[:_EDGE_LINES] + by_height[-_EDGE_LINES:]


def _drop_running_lines(pages: list[list[_Line]]) -> list[list[_Line]]:
    """Remove headers, footers and page numbers: lines at a page's top or bottom edge
    that recur (numbers aside) on most pages of a stretch of the document."""
    edges = [_edges(lines) for lines in pages]
    seen_on: defaultdict[str, list[int]] = defaultdict(list)
    for number, edge in enumerate(edges):
        for signature in {_signature(line.text) for line in edge}:
            seen_on[signature].append(number)
    running = {signature for signature, numbers in seen_on.items() if _recurs(numbers, len(pages))}
    return [
        [line for line in lines if not (line in edge and _signature(line.text) in running)]
        for lines, edge in zip(pages, edges, strict=True)
    ]


def _recurs(pages: list[int], total: int) -> bool:
    """On at least 3 pages (both, in a 2-page file), and on 40% of the pages from its first to its last.

    The density test tells a running head (every page or every other page of a chapter)
    from a heading that merely looks alike on far-apart pages ("Chapter 1", "Chapter 2").
    """
    if len(pages) < min(3, total) or len(pages) < 2:
        return False
    return len(pages) >= 0.4 * (pages[-1] - pages[0] + 1)


# -- PDF: lines into paragraphs --------------------------------------------------------------

_SENTENCE_END = re.compile(r"[.!?…:;][\"'”’)\]]*$")
_WORD = re.compile(r"\w+(?:-\w+)*")


@dataclass(frozen=True)
class _Layout:
    """What a line looks like in this document, to tell a paragraph break from a line break."""

    advance: float  # usual distance between baselines, in font sizes
    full_line: float  # characters in a full line


def _measure(pages: list[list[_Line]]) -> _Layout:
    advances, lengths = [], []
    for lines in pages:
        lengths += [len(line.text) for line in lines]
        for above, below in pairwise(lines):
            if above.size == below.size and 0 < above.y - below.y < 3 * below.size:
                advances.append((above.y - below.y) / below.size)
    full_line = (
        statistics.quantiles(lengths, n=10)[-1] if len(lengths) > 1 else float(max(lengths, default=1))
    )
    return _Layout(advance=statistics.median(advances) if advances else 1.2, full_line=full_line)


def _starts_paragraph(above: _Line, line: _Line, below: _Line | None, layout: _Layout) -> bool:
    """Whether ``line`` begins a new paragraph, given the lines above and below it on its page."""
    if line.y > above.y + line.size / 2:  # back up the page: a new column or text box
        return bool(_SENTENCE_END.search(above.text))
    if abs(line.size - above.size) > 0.15 * max(line.size, above.size):  # a heading, a caption
        return True
    if above.y - line.y > 1.3 * layout.advance * line.size:  # extra space between the lines
        return True
    indent = line.size / 2
    if line.x > above.x + indent and (below is None or line.x > below.x + indent):  # first-line indent
        return True
    # A short line that ends a sentence, then a capital: the end of a paragraph.
    return (
        bool(_SENTENCE_END.search(above.text))
        and len(above.text) < 0.7 * layout.full_line
        and line.text[:1].isupper()
    )


def _breaks_before(lines: list[_Line], index: int, above: _Line, layout: _Layout) -> bool:
    """Whether a paragraph break comes between ``above`` and ``lines[index]``."""
    line = lines[index]
    if index == 0:
        return not _continues_paragraph(above, line)
    below = lines[index + 1] if index + 1 < len(lines) else None
    return _starts_paragraph(above, line, below, layout)


def _continues_paragraph(above: _Line, line: _Line) -> bool:
    """Whether the first line of a page carries on the last paragraph of the page before."""
    if above.text.endswith("-"):
        return True
    return not _SENTENCE_END.search(above.text) and not line.text[:1].isupper()


def _joint(above: str, line: str, words: set[str]) -> tuple[int, str]:
    """How two lines of one paragraph meet: characters to drop from ``above``'s end, and a separator."""
    if not (above.endswith("-") and above[-2:-1].isalpha()):
        return 0, " "
    if not line[:1].islower():  # "COVID-" "19", "anti-" "American": a real hyphen
        return 0, ""
    head = _WORD.findall(above[:-1])[-1].lower()
    tail = _WORD.match(line)
    rest = tail.group().lower() if tail else ""
    # Keep the hyphen of a compound the document writes hyphenated elsewhere ("well-known");
    # otherwise it is a word broken at the margin ("inter-" "national").
    keep = f"{head}-{rest}" in words and f"{head}{rest}" not in words
    return (0, "") if keep else (1, "")


def _reflow(pages: list[list[_Line]]) -> tuple[str, tuple[int, ...]]:
    """The paragraphs of all pages as one text, and the offset of each page's first character.

    A paragraph running over a page break is joined, and its page starts mid-paragraph.
    A page without text starts where the next text starts.
    """
    layout = _measure(pages)
    words = {word.lower() for lines in pages for line in lines for word in _WORD.findall(line.text)}
    pieces: list[str] = []
    length = 0
    starts: list[int] = []
    waiting = 0  # pages whose first character is not yet written
    above: _Line | None = None
    for lines in pages:
        waiting += 1
        for index, line in enumerate(lines):
            text = _one_line(line.text)
            if above is None:
                drop, separator = 0, ""
            elif _breaks_before(lines, index, above, layout):
                drop, separator = 0, "\n\n"
            else:
                drop, separator = _joint(pieces[-1], text, words)
            if drop:
                pieces[-1] = pieces[-1][:-drop]
                length -= drop
            length += len(separator)
            starts += [length] * waiting
            waiting = 0
            pieces += [separator, text]
            length += len(text)
            above = line
    starts += [length] * waiting
    return "".join(pieces), tuple(starts)


# By format, not suffix: FORMATS alone says which suffixes there are.
def read_title(path: Path, data: bytes) -> str | None:
    """The title ``extract`` would find in ``data``, or None: for a PDF from its metadata alone."""
    kind = FORMATS.get(path.suffix.lower())
    if kind == "pdf":
        return _pdf_title(path, data)
    return extract(path, data).metadata.get("title")


_READERS: dict[str, Callable[[Path, bytes], Extracted]] = {
    "text": _text,
    "markdown": _text,
    "html": _html,
    "pdf": _pdf,
    "docx": _docx,
}
