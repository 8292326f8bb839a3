"""Loading the corpus: text, Markdown, HTML, PDF and Word files, one ``Document`` each.

Reading files (size limits, hashing, ids, titles, the folder listing) is done here;
turning a file's bytes into text is ``formats.extract``'s job, one function per format.
Offsets of every sentence and quote refer to ``Document.text``: for ``.txt``/``.md`` the
file's text exactly as read (never normalised, front matter included, so offsets match
the file); for the other formats the extracted text, with ``Document.pages`` saying
where each PDF page starts in it.
"""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path

from .errors import CorpusError
from .formats import FORMATS, PAGED_FORMATS, SUFFIX_NAMES, SUFFIXES, extract, front_matter_end, read_title
from .models import Document

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_PAGED_FILE_BYTES",
    "SUFFIXES",
    "corpus_files",
    "doc_id_for",
    "document_title",
    "file_sha256",
    "front_matter_end",
    "load_corpus",
    "load_document",
    "max_bytes",
    "title_from_name",
]

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 20 * 1024 * 1024  # text, Markdown and HTML
MAX_PAGED_FILE_BYTES = 100 * 1024 * 1024  # PDFs and Word files (formats.PAGED_FORMATS)
_READ_BLOCK = 1024 * 1024


def doc_id_for(path: Path) -> str:
    """A stable id from the file name: lower case, runs of other characters as '-'."""
    slug = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")
    return slug or "document"


def max_bytes(path: Path) -> int:
    """The size limit for a file of this kind."""
    return MAX_PAGED_FILE_BYTES if FORMATS.get(path.suffix.lower()) in PAGED_FORMATS else MAX_FILE_BYTES


def load_document(path: Path) -> Document:
    """Read one file; raise CorpusError naming the file if it is not usable."""
    data = _read_bounded(path)
    extracted = extract(path, data)
    metadata = extracted.metadata
    return Document(
        doc_id=doc_id_for(path),
        path=str(path),
        text=extracted.text,
        sha256=hashlib.sha256(data).hexdigest(),
        title=metadata.get("title") or title_from_name(path),
        metadata=metadata,
        pages=extracted.pages,
    )


def title_from_name(path: Path) -> str:
    """What a document without a title of its own is called: its file name, in words."""
    return path.stem.replace("-", " ").replace("_", " ").title()


def document_title(path: Path) -> str:
    """The title ``load_document`` would give the file, read cheaply (a PDF's text is not
    extracted): for pages that list files not indexed yet. An unreadable file is named after
    its file name; indexing it reports why."""
    try:
        return read_title(path, _read_bounded(path)) or title_from_name(path)
    except CorpusError:
        return title_from_name(path)


def file_sha256(path: Path) -> str:
    """The SHA-256 of the file's bytes, as ``load_document`` records it, without extracting
    anything: an indexer can tell an unchanged file cheaply. Same limits and errors."""
    limit = max_bytes(path)
    digest = hashlib.sha256()
    try:
        _check_size(path, path.stat().st_size, limit)
        read = 0
        with path.open("rb") as handle:
            while block := handle.read(min(_READ_BLOCK, limit + 1 - read)):
                read += len(block)
                _check_size(path, read, limit)  # the file may have grown since stat()
                digest.update(block)
    except OSError as exc:
        raise CorpusError(f"Cannot read {path}: {exc.strerror}.") from None
    return digest.hexdigest()


def _read_bounded(path: Path) -> bytes:
    """The file's bytes; the size is checked before reading, and no more than the limit
    is ever read, so a huge (or growing) file costs no memory."""
    limit = max_bytes(path)
    try:
        _check_size(path, path.stat().st_size, limit)
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise CorpusError(f"Cannot read {path}: {exc.strerror}.") from None
    _check_size(path, len(data), limit)
    return data


def _check_size(path: Path, size: int, limit: int) -> None:
    if size > limit:
        raise CorpusError(
            f"{path} is {size // 1_048_576} MB; the limit is "
            f"{limit // 1_048_576} MB. Split it or remove it from the corpus."
        )


def corpus_files(folder: Path) -> list[Path]:
    """The corpus files under ``folder``, sorted; symlinks leading outside it are skipped."""
    if not folder.exists():
        raise CorpusError(f"Corpus folder {folder} does not exist; create it and add {SUFFIX_NAMES} files.")
    if not folder.is_dir():
        raise CorpusError(f"Corpus path {folder} is not a folder.")
    root = folder.resolve()
    files = []
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() not in SUFFIXES or not path.is_file():
            continue
        if not path.resolve().is_relative_to(root):
            log.warning("Skipping %s: it links outside the corpus folder.", path)
            continue
        files.append(path)
    if not files:
        raise CorpusError(f"Corpus folder {folder} has no {SUFFIX_NAMES} files; add at least one.")
    return files


def load_corpus(folder: Path) -> list[Document]:
    """Load every corpus file; two files with the same doc_id are an error."""
    documents: dict[str, Document] = {}
    for path in corpus_files(folder):
        doc = load_document(path)
        if doc.doc_id in documents:
            raise CorpusError(
                f"{path} and {documents[doc.doc_id].path} both map to doc_id {doc.doc_id!r}; rename one."
            )
        documents[doc.doc_id] = doc
    return list(documents.values())
