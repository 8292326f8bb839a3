"""Loading the corpus: ``.txt`` and ``.md`` files, UTF-8, text kept exactly as read.

Offsets of every sentence and quote refer to ``Document.text``, so the text is
never normalised here: no stripping, no newline conversion. Optional YAML front
matter (``---`` ... ``---`` at the very top) supplies title/author/source/date; it
is kept in the text too, so offsets still match the file.
"""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path

import yaml

from .errors import CorpusError
from .models import Document

log = logging.getLogger(__name__)

SUFFIXES = (".txt", ".md")
MAX_FILE_BYTES = 20 * 1024 * 1024
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*\r?\n", re.DOTALL)
_META_KEYS = ("title", "author", "source", "date")


def doc_id_for(path: Path) -> str:
    """A stable id from the file name: lower case, runs of other characters as '-'."""
    slug = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")
    return slug or "document"


def front_matter_end(text: str) -> int:
    """Offset where the body starts (0 when there is no front matter)."""
    match = _FRONT_MATTER.match(text)
    return match.end() if match else 0


def load_document(path: Path) -> Document:
    """Read one file; raise CorpusError naming the file if it is not usable text."""
    try:
        # The size is checked before reading, and no more than the limit is ever read,
        # so a huge (or growing) file costs no memory.
        size = path.stat().st_size
        if size <= MAX_FILE_BYTES:
            with path.open("rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
            size = len(data)
    except OSError as exc:
        raise CorpusError(f"Cannot read {path}: {exc.strerror}.") from None
    if size > MAX_FILE_BYTES:
        raise CorpusError(
            f"{path} is {size // 1_048_576} MB; the limit is "
            f"{MAX_FILE_BYTES // 1_048_576} MB. Split it or remove it from the corpus."
        )
    if b"\x00" in data:
        raise CorpusError(f"{path} looks binary (it contains NUL bytes); remove it from the corpus.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorpusError(
            f"{path} is not UTF-8 (bad byte at offset {exc.start}); "
            f"re-save it as UTF-8, e.g. `iconv -f latin1 -t utf-8`."
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    metadata = _front_matter(text, path)
    if not text[front_matter_end(text) :].strip():
        raise CorpusError(f"{path} is empty; add text or remove it from the corpus.")
    doc_id = doc_id_for(path)
    return Document(
        doc_id=doc_id,
        path=str(path),
        text=text,
        sha256=hashlib.sha256(data).hexdigest(),
        title=metadata.get("title") or path.stem.replace("-", " ").replace("_", " ").title(),
        metadata=metadata,
    )


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


def corpus_files(folder: Path) -> list[Path]:
    """The corpus files under ``folder``, sorted; symlinks leading outside it are skipped."""
    if not folder.exists():
        raise CorpusError(f"Corpus folder {folder} does not exist; create it and add .txt or .md files.")
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
        raise CorpusError(f"Corpus folder {folder} has no .txt or .md files; add at least one.")
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
