"""``.docx``: the body's paragraphs and table rows via python-docx, and the document's title."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import CorpusError

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument

from .common import Extracted, clean_metadata, join_paragraphs, one_line, usable_title

MAX_DOCX_UNZIPPED_BYTES = 512 * 1024 * 1024


def read_docx(path: Path, data: bytes) -> Extracted:
    """The body's paragraphs and table rows (headers, footers and comments are left out)."""
    import docx

    _check_unzipped_size(path, data)
    try:
        document = docx.Document(BytesIO(data))
        text = join_paragraphs(_docx_blocks(document))
    except Exception as exc:  # a damaged zip, a missing part, bad XML: python-docx lets each through
        raise CorpusError(
            f"{path} is not a readable Word file ({type(exc).__name__}: {exc}); "
            f"open it in Word or LibreOffice and save it as .docx again."
        ) from None
    if not text:
        raise CorpusError(f"{path} has no text; add text or remove it from the corpus.")
    properties = document.core_properties
    title = usable_title(properties.title) or _docx_title_paragraph(document)
    return Extracted(text, clean_metadata(title=title, author=properties.author))


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
                text = one_line(cell.text)
                if text and (not cells or cells[-1] != text):  # a merged cell is reported once per column
                    cells.append(text)
            yield " | ".join(cells)
