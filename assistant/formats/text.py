"""``.txt`` and ``.md``: the file's own text, with its YAML front matter read for metadata."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from ..errors import CorpusError
from .common import FRONT_MATTER, Extracted, clean_metadata, front_matter_end

# A Markdown level-1 heading on the body's first line: "# Title" (ATX) or "Title" over "===" (setext).
_MARKDOWN_TITLE = re.compile(
    r"\A\s*(?:#[ \t]+(?P<atx>[^\n]+?)(?:[ \t]+#+)?[ \t]*\r?$|(?P<setext>[^\n]+?)[ \t]*\r?\n=+[ \t]*\r?$)",
    re.MULTILINE,
)
_META_KEYS = ("title", "author", "source", "date")


def read_markdown(path: Path, data: bytes) -> Extracted:
    """:func:`read_text`, and a title from the opening level-1 heading when no front matter gives one."""
    return read_text(path, data, markdown=True)


def read_text(path: Path, data: bytes, *, markdown: bool = False) -> Extracted:
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
    if "title" not in metadata and markdown:
        metadata = {**clean_metadata(title=_markdown_title(body)), **metadata}
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
    match = FRONT_MATTER.match(text)
    if not match:
        return {}
    try:
        raw = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise CorpusError(f"{path}: front matter is not valid YAML ({exc}).") from None
    if not isinstance(raw, dict):
        raise CorpusError(f"{path}: front matter must be a mapping of title/author/source/date.")
    return {key: str(raw[key]) for key in _META_KEYS if raw.get(key) is not None}
