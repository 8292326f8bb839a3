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
Every error is a CorpusError that names the file and says how to fix it. One module per
format (``text``, ``html``, ``docx``, ``pdf``) and what they share (``common``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from ..errors import CorpusError
from .common import Extracted, front_matter_end
from .docx import read_docx
from .html import read_html
from .pdf import pdf_title, read_pdf
from .text import read_markdown, read_text

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


def extract(path: Path, data: bytes) -> Extracted:
    """The text and metadata of ``data``, read as the format its suffix names."""
    suffix = path.suffix.lower()
    kind = FORMATS.get(suffix)
    if kind is None:
        raise CorpusError(f"{path}: {suffix or 'no suffix'} files are not supported; use {SUFFIX_NAMES}.")
    extracted = _READERS[kind](path, data)
    return replace(extracted, metadata={**extracted.metadata, "format": kind})


# By format, not suffix: FORMATS alone says which suffixes there are.
def read_title(path: Path, data: bytes) -> str | None:
    """The title ``extract`` would find in ``data``, or None: for a PDF from its metadata alone."""
    kind = FORMATS.get(path.suffix.lower())
    if kind == "pdf":
        return pdf_title(path, data)
    return extract(path, data).metadata.get("title")


_READERS: dict[str, Callable[[Path, bytes], Extracted]] = {
    "text": read_text,
    "markdown": read_markdown,
    "html": read_html,
    "pdf": read_pdf,
    "docx": read_docx,
}


__all__ = [
    "FORMATS",
    "PAGED_FORMATS",
    "SUFFIXES",
    "SUFFIX_NAMES",
    "Extracted",
    "extract",
    "front_matter_end",
    "read_title",
]
