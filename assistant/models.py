"""The data that flows through the pipeline, as small typed dataclasses.

Document -> Chunk (with its Sentences) -> Passage (a retrieved chunk with scores)
-> Answer (text with [n] markers, Citations quoting exact Sentences).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Role = Literal["user", "assistant"]
# Why the extractive answer replaced a language model's: the model said the passages do not
# answer, it wrote nothing usable, too few of its sentences were supported, it timed out, it failed.
Fallback = Literal["model_refused", "no_usable_answer", "too_few_supported", "timeout", "model_error"]
# What the reply is, decided where the generator decides it, so that a page need not guess from
# its words: "answer" (sentences quoting the text), "refusal" (the text does not answer it),
# "greeting" (a hello or thanks, answered with an invitation) or "request" (something other than
# a question about the text: a joke, a translation, new instructions). All but "answer" are
# ``refused``: nothing in them is quoted, and evaluations count them as refusals.
AnswerKind = Literal["answer", "refusal", "greeting", "request"]


@dataclass(frozen=True)
class Message:
    """One earlier turn of a conversation; assistant turns are the plain ``answer`` text of earlier answers.

    The one history message of the library, the HTTP API's request body and the question sets.
    """

    role: Role
    content: str


@dataclass(frozen=True)
class Document:
    """A corpus file as loaded; ``text`` (the file's text, or the text extracted from
    an HTML, PDF or Word file) is what every offset refers to."""

    doc_id: str
    path: str
    text: str
    sha256: str  # of the file's bytes, so a changed file is found without extracting it
    title: str
    metadata: dict[str, str] = field(default_factory=dict)
    pages: tuple[int, ...] = ()  # offset in ``text`` where each page starts (PDFs); empty if unpaged

    def page_at(self, offset: int) -> int | None:
        """The 1-based page holding ``offset``, or None for an unpaged document."""
        if not self.pages:
            return None
        return max(1, bisect_right(self.pages, offset))


@dataclass(frozen=True)
class Source:
    """A corpus file found on disk, identified before it is read in full."""

    doc_id: str
    path: str
    sha256: str  # of the file's bytes: equal to the indexed one means nothing to do


@dataclass(frozen=True)
class Sentence:
    """One sentence, located by character offsets in its document's text."""

    doc_id: str
    paragraph: int  # 1-based paragraph number in the document
    index: int  # 1-based position within the paragraph
    start: int
    end: int
    text: str
    page: int | None = None  # 1-based page where the sentence starts, for paged documents

    @property
    def anchor(self) -> str:
        """The reading view's anchor for this sentence, e.g. ``s-9-2``."""
        return f"s-{self.paragraph}-{self.index}"

    def in_paragraph(self, other: Sentence | None) -> Sentence | None:
        """``other`` if it is a sentence of this one's paragraph, else None."""
        same = other is not None and other.doc_id == self.doc_id and other.paragraph == self.paragraph
        return other if same else None


@dataclass(frozen=True)
class Chunk:
    """Consecutive whole sentences of one paragraph; the unit that is embedded and retrieved."""

    chunk_id: str
    doc_id: str
    paragraph: int
    start: int
    end: int
    text: str
    sentences: tuple[Sentence, ...]
    title: str = ""  # the document's title, so a citation can name it


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with the scores that ranked it."""

    chunk: Chunk
    score: float  # fused reciprocal-rank score
    dense_rank: int | None = None
    lexical_rank: int | None = None


@dataclass(frozen=True)
class Citation:
    """What a marker [n] points at: one exact quote and the passage around it."""

    marker: int
    doc_id: str
    title: str  # the document's title
    page: int | None  # the page the quote starts on; None where the document has no pages
    anchor: str  # the quoted sentence's anchor in the reading view, e.g. ``s-9-2``
    chunk_id: str
    paragraph: int
    quote: str
    start: int
    end: int
    passage: str
    score: float


@dataclass(frozen=True)
class AnswerSentence:
    """One sentence of the answer, the markers it carries and how well they support it."""

    text: str
    markers: list[int]
    support: float
    sources: list[str] = field(default_factory=list)  # titles of the documents its quotes come from


@dataclass(frozen=True)
class VerificationCounts:
    """How the sentences a language model wrote fared against the passages they cite."""

    sentences: int  # the sentences of the model's answer
    supported: int  # those the passages they cite support
    dropped: int  # those left out of the answer shown (all of them when it fell back)


@dataclass
class Answer:
    """The answer contract, identical from the Python API, the CLI's --json and the HTTP API."""

    question: str
    standalone_question: str
    answer: str
    refused: bool
    citations: list[Citation]
    sentences: list[AnswerSentence]
    timings_ms: dict[str, float]
    generator: str = "extractive"
    notice: str = ""  # for people, e.g. why an LLM answer fell back to the extractive one (not the caveat)
    # The same facts for programs. None where no model's answer was checked sentence by sentence:
    # extractive answers, and a model that declined, failed, timed out or wrote nothing usable.
    verification: VerificationCounts | None = None
    fallback: Fallback | None = None  # why the extractive answer replaced the model's; None if it did not
    kind: AnswerKind = "answer"  # see AnswerKind; "answer" exactly when not ``refused``
    premise_corrected: bool = False  # the answer leads with the text contradicting the question's premise
    # The quotes may not answer exactly what was asked: ``caveat`` says why, for people ("The quoted
    # text never mentions “county”: ..."), before the quotes in the chat and the embed page, after
    # them in plain text (the CLI, the OpenAI-compatible endpoint, MCP).
    uncertain: bool = False
    caveat: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class StreamEvent:
    """One step of a streamed answer: display text, a finished sentence, or the final answer.

    ``token``: text as a language model writes it, each finished sentence checked at once
    (an unsupported one is followed by " (unverified)"); for display only. ``sentence``:
    one sentence of the verified answer (its ``index``), with the ``citations`` its markers
    introduce, whether the answer is a refusal and its ``answer_kind``. ``final``: the whole answer.
    """

    kind: Literal["token", "sentence", "final"]
    text: str = ""
    sentence: AnswerSentence | None = None
    answer: Answer | None = None
    index: int = 0
    citations: tuple[Citation, ...] = ()
    refused: bool = False
    answer_kind: AnswerKind = "answer"  # the answer's ``kind`` (``kind`` here names the event)
