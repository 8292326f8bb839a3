"""Question sets: the records a set holds, read and validated from JSONL."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from ..config import bundled
from ..errors import EvaluationError
from ..models import Message

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)

T = TypeVar("T")

# The essay's development set ships with the package, so `assistant eval` works from a wheel too.
DEFAULT_QUESTIONS = bundled("devset") / "dev_questions.jsonl"
DEFAULT_PAIRS = DEFAULT_QUESTIONS.with_name("support_pairs.jsonl")


class QuestionRecord(BaseModel):
    """One line of a question-set JSONL file."""

    model_config = ConfigDict(extra="forbid")
    id: str
    question: str
    history: list[Message] = []
    answerable: bool
    gold_quotes: list[str] = []
    gold_answers: list[str] = []
    kind: str = "unspecified"
    notes: str = ""


class SupportPair(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    sentence: str
    passage: str
    supported: bool
    notes: str = ""


def load_jsonl(path: Path, model: type[BaseModel]) -> list[Any]:
    return read_jsonl(path, model.model_validate_json)


def read_jsonl(path: Path, parse: Callable[[str], T], what: str = "") -> list[T]:
    """Each non-blank line of a JSON Lines file through ``parse``; an error names the file and
    the line (and, from a pydantic model, the field). ``what`` names the records in errors."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvaluationError(f"Cannot read {what + ' ' if what else ''}{path}: {exc}") from None
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            records.append(parse(line))
        except ValidationError as exc:
            problem = exc.errors()[0]
            where = ".".join(str(p) for p in problem["loc"]) or "line"
            raise EvaluationError(f"{path}:{number}: {where}: {problem['msg']}") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise EvaluationError(f"{path}:{number}: {exc}") from None
    if not records:
        raise EvaluationError(f"{path} holds no {what or 'records'}.")
    return records


def load_questions(path: Path) -> list[QuestionRecord]:
    """Validate a question set; an error names the line and the field."""
    records: list[QuestionRecord] = load_jsonl(path, QuestionRecord)
    seen: set[str] = set()
    for number, record in enumerate(records, start=1):
        if record.id in seen:
            raise EvaluationError(f"{path}: record {number} repeats id {record.id!r}.")
        seen.add(record.id)
        if record.answerable and not record.gold_quotes:
            raise EvaluationError(f"{path}: {record.id} is answerable but has no gold_quotes.")
    return records
