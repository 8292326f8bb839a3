"""Reading other tools' answer files: one reader per format, and detection of which one a file is.

A file is JSON (an object or an array) or JSON Lines. The records are found where each
tool keeps them (ALCE's ``data``, RAGChecker's ``results``/``input_data``, a RAGAS
Hugging Face column dict) and the format is told by the fields of the records:

==============  ===========================================================================
``ragas``       ``user_input``, ``response``, ``retrieved_contexts``, ``reference``; or the
                older ``question``, ``answer``, ``contexts``, ``ground_truth(s)``
``deepeval``    ``input``, ``actual_output``, ``retrieval_context``, ``expected_output``
                (camelCase too, as Confident AI exports it)
``alce``        ``question``, ``docs`` [{``title``, ``text``}], ``output`` with [n] markers
``ragchecker``  ``query``, ``response``, ``retrieved_context`` [{``doc_id``, ``text``}], ``gt_answer``
``openai-chat`` ``messages`` [{``role``, ``content``}]; ``tool`` messages are the contexts
``citations``   provider citation spans: a Messages API response whose text blocks carry
                ``citations`` [{``cited_text``, ``document_title``, ``start_char_index``, ...}]
``jsonl``       this project's answer contract (``assistant ask --json``)
==============  ===========================================================================

Any record may add ``id`` and ``expected`` (``answer``, ``refuse`` or ``correct_premise``;
``answerable: false`` means ``refuse``), at the top level or in its ``metadata``.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, cast

from ..errors import EvaluationError
from .items import EXPECTED, Expected, Item, Source

Record = dict[str, Any]
Reader = Callable[[Record, str], list[Item]]

_MARKER_NUMBER = re.compile(r"\[(\d+)\]")


class _Bad(ValueError):
    """A record lacks what its format needs; the message names the field."""


# -- field helpers --------------------------------------------------------------------------------


def _text(record: Record, *names: str, required: bool = True) -> str:
    for name in names:
        value = record.get(name)
        if isinstance(value, str):
            return value
        if isinstance(value, list) and all(isinstance(v, str) for v in value) and value:
            return str(value[0])  # RAGAS' old ``ground_truths`` list
        if value is not None:
            raise _Bad(f"field {name!r} must be text, not {type(value).__name__}")
    if required:
        raise _Bad(f"no {' / '.join(repr(n) for n in names)} field")
    return ""


def _texts(record: Record, *names: str) -> list[str]:
    for name in names:
        value = record.get(name)
        if value is None:
            continue
        if isinstance(value, str):
            return [value]
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return list(value)
        raise _Bad(f"field {name!r} must be a list of texts")
    return []


def _objects(record: Record, name: str, *fields: str, required: bool = True) -> list[Record]:
    """The list of objects in field ``name``; one not required may be absent (no objects).
    ``fields`` name what the objects hold, for the error."""
    value = record.get(name) if required else record.get(name) or []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        shape = f"{{{', '.join(fields)}}} " if fields else ""
        raise _Bad(f"{name!r} must be a list of {shape}objects")
    return value


def _expected(record: Record) -> Expected | None:
    for holder in (record, record.get("metadata"), record.get("additional_metadata")):
        if not isinstance(holder, dict):
            continue
        value = holder.get("expected")
        if value is not None:
            if value not in EXPECTED:
                raise _Bad(f"expected is {value!r}; use one of {', '.join(EXPECTED)}")
            return cast(Expected, value)
        if holder.get("answerable") is False:
            return "refuse"
    return None


def _id(record: Record, fallback: str, *names: str) -> str:
    for name in ("id", *names):
        if record.get(name) is not None:
            return str(record[name])
    return fallback


# -- one reader per format ------------------------------------------------------------------------


def read_ragas(record: Record, fallback_id: str) -> list[Item]:
    contexts = _texts(record, "retrieved_contexts", "contexts")
    return [
        Item(
            id=_id(record, fallback_id),
            question=_text(record, "user_input", "question"),
            answer=_text(record, "response", "answer"),
            sources=[Source(c, "context") for c in contexts],
            reference=_text(record, "reference", "ground_truth", "ground_truths", required=False) or None,
            expected=_expected(record),
            format="ragas",
            raw=record,
        )
    ]


def read_deepeval(record: Record, fallback_id: str) -> list[Item]:
    contexts = _texts(record, "retrieval_context", "retrievalContext")
    return [
        Item(
            id=_id(record, fallback_id, "name"),
            question=_text(record, "input"),
            answer=_text(record, "actual_output", "actualOutput"),
            sources=[Source(c, "context") for c in contexts],
            reference=_text(record, "expected_output", "expectedOutput", required=False) or None,
            expected=_expected(record),
            format="deepeval",
            raw=record,
        )
    ]


def read_alce(record: Record, fallback_id: str) -> list[Item]:
    docs = _objects(record, "docs", "title", "text")
    sources = [Source(_text(d, "text", "sent"), "context", doc=d.get("title")) for d in docs]
    return [
        Item(
            id=_id(record, fallback_id, "sample_id"),
            question=_text(record, "question"),
            answer=_text(record, "output"),
            sources=sources,
            reference=_text(record, "answer", required=False) or None,
            expected=_expected(record),
            format="alce",
            raw=record,
        )
    ]


def read_ragchecker(record: Record, fallback_id: str) -> list[Item]:
    retrieved = _objects(record, "retrieved_context", "doc_id", "text", required=False)
    sources = [Source(_text(d, "text"), "context", doc=d.get("doc_id")) for d in retrieved]
    return [
        Item(
            id=_id(record, fallback_id, "query_id"),
            question=_text(record, "query"),
            answer=_text(record, "response"),
            sources=sources,
            reference=_text(record, "gt_answer", required=False) or None,
            expected=_expected(record),
            format="ragchecker",
            raw=record,
        )
    ]


def _content_text(content: Any) -> str:
    """A chat message's content: a string, or a list of parts whose text parts are joined."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def read_openai_chat(record: Record, fallback_id: str) -> list[Item]:
    """One item per assistant turn that follows a user turn; tool results in between are contexts."""
    messages = _objects(record, "messages", "role", "content")
    base = _id(record, fallback_id)
    items: list[Item] = []
    question: str | None = None
    contexts: list[str] = []
    for message in messages:
        role, text = message.get("role"), _content_text(message.get("content"))
        if role == "user":
            question, contexts = text, []
        elif role == "tool":
            contexts.append(text)
        elif role == "assistant" and question is not None and text:
            items.append(
                Item(
                    id=base if not items else f"{base}.{len(items) + 1}",
                    question=question,
                    answer=text,
                    sources=[Source(c, "context") for c in contexts],
                    expected=_expected(record),
                    format="openai-chat",
                    raw=record,
                )
            )
            question = None
    if not items:
        raise _Bad("no assistant message that answers a user message")
    return items


def read_citations(record: Record, fallback_id: str) -> list[Item]:
    """A Messages API response (alone, or as ``response`` beside its ``request``) with citations.

    The answer is its text blocks joined; each cited block is followed by ``[n]`` markers for
    its citations, so the sentences are judged against what they cite.
    """
    response = record.get("response", record)
    blocks = response.get("content") if isinstance(response, dict) else None
    if not isinstance(blocks, list):
        raise _Bad("no 'content' list of text blocks")
    answer, sources = "", []
    for block in blocks:
        if not isinstance(block, dict) or block.get("type") != "text":
            continue
        text = str(block.get("text", ""))
        markers = ""
        for citation in block.get("citations") or []:
            sources.append(
                Source(
                    _text(citation, "cited_text"),
                    "citation",
                    doc=citation.get("document_title"),
                    start=citation.get("start_char_index"),
                    end=citation.get("end_char_index"),
                )
            )
            markers += f"[{len(sources)}]"
        stripped = text.rstrip()
        answer += stripped + markers + text[len(stripped) :] if markers else text
    question = _text(record, "question", required=False) or _request_question(record.get("request"))
    if not question:
        raise _Bad("no 'question', and no user text in 'request'")
    return [
        Item(
            id=_id(record, fallback_id),
            question=question,
            answer=answer,
            sources=sources,
            expected=_expected(record),
            format="citations",
            raw=record,
        )
    ]


def _request_question(request: Any) -> str:
    if not isinstance(request, dict):
        return ""
    users = [m for m in request.get("messages") or [] if isinstance(m, dict) and m.get("role") == "user"]
    return _content_text(users[-1].get("content")).strip() if users else ""


def read_contract(record: Record, fallback_id: str) -> list[Item]:
    """This project's answer contract; markers are renumbered 1..k if the file skips numbers."""
    citations = _objects(record, "citations", required=False)
    ordered = sorted(citations, key=lambda c: int(c.get("marker", 0)))
    number = {int(c.get("marker", 0)): i for i, c in enumerate(ordered, start=1)}
    answer = _MARKER_NUMBER.sub(
        lambda m: f"[{number.get(int(m.group(1)), int(m.group(1)) + len(number))}]",
        _text(record, "answer"),
    )
    sources = [
        Source(_text(c, "quote"), "citation", doc=c.get("doc_id"), start=c.get("start"), end=c.get("end"))
        for c in ordered
    ]
    return [
        Item(
            id=_id(record, fallback_id),
            question=_text(record, "question"),
            answer=answer,
            sources=sources,
            expected=_expected(record),
            format="jsonl",
            raw=record,
        )
    ]


READERS: dict[str, Reader] = {
    "ragas": read_ragas,
    "deepeval": read_deepeval,
    "alce": read_alce,
    "ragchecker": read_ragchecker,
    "openai-chat": read_openai_chat,
    "citations": read_citations,
    "jsonl": read_contract,
}
FORMAT_NAMES = ("auto", *READERS)


# -- files and detection ----------------------------------------------------------------------


def detect(record: Record) -> str | None:
    """The format a record's fields say it is in, or None."""
    keys = set(record)
    response = record.get("response")
    if isinstance(record.get("content"), list) or (isinstance(response, dict) and "content" in response):
        return "citations"
    if "messages" in keys:
        return "openai-chat"
    if keys & {"actual_output", "actualOutput", "retrieval_context", "retrievalContext"}:
        return "deepeval"
    if "output" in keys and "docs" in keys:
        return "alce"
    if "query" in keys and "response" in keys:
        return "ragchecker"
    if "user_input" in keys or ("question" in keys and keys & {"contexts", "ground_truth", "ground_truths"}):
        return "ragas"
    if "question" in keys and "answer" in keys:
        return "jsonl"
    return None


def _records(data: Any) -> list[Record]:
    """The records of a parsed file, wherever the tool keeps them."""
    if isinstance(data, dict):
        for key in ("data", "results", "input_data", "test_cases", "testCases", "goldens", "samples"):
            if isinstance(data.get(key), list):
                return _records(data[key])
        columns = [v for v in data.values() if isinstance(v, list)]
        if columns and len(columns) == len(data) and len({len(c) for c in columns}) == 1:
            # A Hugging Face column dict, as the RAGAS docs build with Dataset.from_dict.
            return [dict(zip(data, row, strict=True)) for row in zip(*data.values(), strict=True)]
        return [data]
    if isinstance(data, list):
        return [r for r in data]
    raise _Bad("the file holds neither records nor a list of them")


def parse_file(path: Path) -> list[Record]:
    """The records of a JSON or JSON Lines file; an error names the file and the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise EvaluationError(f"Cannot read answers file {path}: {exc}") from None
    if not text.strip():
        raise EvaluationError(f"Answers file {path} is empty.")
    try:
        return _checked(_records(json.loads(text)), path)
    except json.JSONDecodeError:
        pass  # not one JSON document: JSON Lines
    except _Bad as exc:
        raise EvaluationError(f"{path}: {exc}") from None
    records: list[Record] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise EvaluationError(f"{path}:{number}: not JSON: {exc.msg}") from None
    return _checked(records, path)


def _checked(records: Iterable[Any], path: Path) -> list[Record]:
    listed = list(records)
    for number, record in enumerate(listed, start=1):
        if not isinstance(record, dict):
            raise EvaluationError(f"{path}: record {number} is {type(record).__name__}, not an object.")
    if not listed:
        raise EvaluationError(f"Answers file {path} holds no records.")
    return listed


def read_records(records: list[Record], fmt: str = "auto", where: str = "answers") -> tuple[str, list[Item]]:
    """Items from parsed records in ``fmt`` (detected from the first record with ``auto``)."""
    if fmt == "auto":
        found = detect(records[0])
        if found is None:
            raise EvaluationError(
                f"{where}: cannot tell the format from the fields {sorted(records[0])[:8]}; "
                f"give --format ({', '.join(READERS)})."
            )
        fmt = found
    if fmt not in READERS:
        raise EvaluationError(f"Unknown answers format {fmt!r}; choose one of {', '.join(FORMAT_NAMES)}.")
    items: list[Item] = []
    for number, record in enumerate(records, start=1):
        try:
            items += READERS[fmt](record, str(number))
        except _Bad as exc:
            raise EvaluationError(f"{where}: record {number} ({fmt}): {exc}.") from None
    repeats: Counter[str] = Counter()
    for item in items:  # ids repeated in a file (or absent from it) are made unique
        repeats[item.id] += 1
        if repeats[item.id] > 1:
            item.id = f"{item.id}#{repeats[item.id]}"
    return fmt, items


def read_answers(path: Path, fmt: str = "auto") -> tuple[str, list[Item]]:
    """The items of an answers file and the format they were read as."""
    return read_records(parse_file(path), fmt, str(path))
