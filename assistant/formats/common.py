"""What every format's reader shares: the extracted result and the text clean-ups."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*\r?\n", re.DOTALL)


@dataclass(frozen=True)
class Extracted:
    """A file's text (what offsets refer to), its metadata, and where each page starts."""

    text: str
    metadata: dict[str, str]
    pages: tuple[int, ...] = ()  # offset in ``text`` of each page's first character; () if unpaged


def front_matter_end(text: str) -> int:
    """Offset where the body starts (0 when there is no front matter)."""
    match = FRONT_MATTER.match(text)
    return match.end() if match else 0


# Typographic ligatures (PDFs especially) become their letters, so "ﬁnd" matches "find".
_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"})
SOFT_HYPHEN = "\u00ad"


def one_line(paragraph: str) -> str:
    """A paragraph on one line: whitespace runs become one space; soft hyphens go."""
    return " ".join(paragraph.replace(SOFT_HYPHEN, "").translate(_LIGATURES).split())


def has_words(paragraph: str) -> bool:
    # A "paragraph" of rules or bullets ("---", "* * *", "|---|") carries nothing to cite,
    # and a leading "---" line could be mistaken for front matter by the chunker.
    return any(ch.isalnum() for ch in paragraph)


def join_paragraphs(paragraphs: Iterable[str]) -> str:
    """Paragraphs, each on one line, separated by a blank line; empty ones dropped."""
    return "\n\n".join(p for p in map(one_line, paragraphs) if has_words(p))


def clean_metadata(**values: object) -> dict[str, str]:
    """The values that are present, as single-line strings."""
    cleaned = {key: " ".join(str(value).split()) for key, value in values.items() if value}
    return {key: value for key, value in cleaned.items() if value}


def usable_title(title: str | None) -> str | None:
    """The metadata title, unless it is a leftover file name ("Microsoft Word - draft.docx")."""
    if not title or title.strip().lower() in ("untitled", "title"):
        return None
    return None if Path(title.strip()).suffix.lower() in (".doc", ".docx", ".pdf", ".tex", ".dvi") else title
