"""``.html`` and ``.htm``: the main text as trafilatura finds it, decoded with the declared charset."""

from __future__ import annotations

import codecs
from contextlib import suppress
from email.message import Message
from html.parser import HTMLParser
from pathlib import Path

from ..errors import CorpusError
from .common import Extracted, clean_metadata, join_paragraphs


def read_html(path: Path, data: bytes) -> Extracted:
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
    text = join_paragraphs((result.text or "").splitlines()) if isinstance(result, Document) else ""
    if not isinstance(result, Document) or not text:
        raise CorpusError(
            f"{path} has no main text to extract (it may be a page of links, or one built by "
            f"JavaScript); save the article itself (e.g. the browser's reader view) or remove the file."
        )
    # trafilatura's title falls back to the page's <title> when no heading or meta tag gives one.
    metadata = clean_metadata(title=result.title, author=result.author, date=result.date, source=result.url)
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
