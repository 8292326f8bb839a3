"""What every reader turns another system's answers into: one :class:`Item` per answer.

Whatever the tool (RAGAS, DeepEval, ALCE, RAGChecker, a chat transcript, provider
citations, our own contract), an item is a question, the answer text with ``[n]``
markers where the answer cites, and the numbered :class:`Source` texts those markers
point at. A source is either a *citation* (text the answer quotes or cites, sometimes
with claimed offsets) or a *context* (a passage the system retrieved). Answers that
carry no markers are judged against their contexts, as ALCE does without citations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Expected = Literal["answer", "refuse", "correct_premise"]
EXPECTED: tuple[Expected, ...] = ("answer", "refuse", "correct_premise")
SourceKind = Literal["citation", "context"]


@dataclass(frozen=True)
class Source:
    """A text an answer rests on, as the other system gave it."""

    text: str
    kind: SourceKind
    doc: str | None = None  # the document it names (doc_id, title or file), if any
    start: int | None = None  # claimed character offsets in that document, if any
    end: int | None = None


@dataclass
class Item:
    """One answer of another system, read from any supported format."""

    id: str
    question: str
    answer: str  # with [n] markers pointing into ``sources`` (1-based) where the answer cites
    sources: list[Source] = field(default_factory=list)
    reference: str | None = None  # a gold answer, if the file has one
    expected: Expected | None = None  # what the system should have done, if the file says
    format: str = "jsonl"
    raw: dict[str, Any] = field(default_factory=dict)  # the record as read, for write-back

    @property
    def contexts(self) -> list[str]:
        return [s.text for s in self.sources if s.kind == "context"]
