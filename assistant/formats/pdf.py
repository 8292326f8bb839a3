"""``.pdf``: pypdf's text reflowed into paragraphs, running headers and footers dropped, and
where each page starts."""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from dataclasses import dataclass
from io import BytesIO
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import CorpusError

if TYPE_CHECKING:
    from pypdf import PageObject, PdfReader

from .common import SOFT_HYPHEN, Extracted, clean_metadata, has_words, one_line, usable_title


@dataclass(frozen=True)
class _Line:
    """One line of a PDF page as pypdf reads it, with where it starts and its font size."""

    text: str
    x: float
    y: float  # PDF coordinates: larger is higher up the page
    size: float


def read_pdf(path: Path, data: bytes) -> Extracted:
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
    return Extracted(text, clean_metadata(title=usable_title(title), author=author), starts)


def pdf_title(path: Path, data: bytes) -> str | None:
    """The PDF's metadata title, without extracting its text (which takes long for a big file)."""
    reader = _open_pdf(path, data)
    try:
        title = reader.metadata.title if reader.metadata else None
    except Exception as exc:  # pypdf raises many kinds of error on a damaged file
        raise _unreadable_pdf(path, exc) from None
    return clean_metadata(title=usable_title(title)).get("title")


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
        text = text.removesuffix(SOFT_HYPHEN) + "-" if text.endswith(SOFT_HYPHEN) else text
        # A line of rules or dots has nothing to cite (and a "---" could pass for front matter).
        if has_words(text) and self._where is not None:
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
            text = one_line(line.text)
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
