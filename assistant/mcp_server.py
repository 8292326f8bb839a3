"""The assistant as a Model Context Protocol server, on the official ``mcp`` SDK, so that desktop and
IDE assistants can ask a reading and get grounded, cited answers.

Tools: ``ask(question, collection?, documents?)``, the grounded answer with each citation's exact
quote, its offsets in the document's text and a link to the quoted sentence in the reading view;
``search(query, k?, collection?, documents?)``, the passages an answer would draw on. Resources:
every document of every collection, ``reading://COLLECTION/DOC_ID``, whose text is what the
offsets index. Each tool answers twice: text for the model to read (the answer with its [n]
markers and a Sources block), and the same as structured content for programs.

An edge, like the web layer: it calls the core, which never imports it. ``assistant mcp`` serves it
over stdio; ``assistant serve`` mounts it over streamable HTTP at ``/mcp``
(:mod:`assistant.web.mcp_http`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import anyio.to_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp_types import CallToolResult, Resource, TextContent, ToolAnnotations
from pydantic import BaseModel, Field

from .citing import answer_text, reading_link
from .errors import AssistantError
from .library import Library
from .models import Citation, Passage
from .pipeline import Assistant

log = logging.getLogger(__name__)

SCHEME = "reading"
T = TypeVar("T")
AssistantOf = Callable[[str], Assistant]
COLLECTION = Annotated[
    str | None, Field(description="The collection to read (the default one when omitted).")
]
DOCUMENTS = Annotated[
    list[str] | None,
    Field(description="Only these documents (doc_ids, as in the resources' names); all when omitted."),
]
READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)
INSTRUCTIONS = (
    "Answers questions about the texts of a reading collection. Every answer sentence cites the exact "
    "sentence of the text it rests on, as [n]; when the text does not answer a question, the reply says "
    "so instead of guessing. Quote the citations when you use an answer."
)


class CitedQuote(BaseModel):
    marker: int = Field(description="The [n] in the answer text.")
    doc_id: str
    title: str
    quote: str = Field(description="The quoted sentence, exactly as in the document's text.")
    start: int = Field(description="Offset of the quote in the document's text (its resource).")
    end: int
    paragraph: int
    page: int | None
    anchor: str
    reading_view: str = Field(description="A link to the quoted sentence in the reading view.")
    document: str = Field(description="The document's resource URI.")


class AskResult(BaseModel):
    answer: str = Field(description="The answer, each sentence followed by the [n] markers it rests on.")
    refused: bool = Field(description="True when the text does not answer the question (or it was none).")
    kind: str = Field(description="answer, refusal, greeting or request.")
    uncertain: bool = Field(
        default=False, description="True when the quotes may not answer exactly what was asked."
    )
    caveat: str = Field(
        default="", description="Why the quotes may not answer, for people; empty when they do."
    )
    collection: str
    citations: list[CitedQuote]


class FoundPassage(BaseModel):
    rank: int
    doc_id: str
    title: str
    text: str = Field(description="The passage, exactly as in the document's text.")
    start: int
    end: int
    paragraph: int
    score: float
    reading_view: str
    document: str


class SearchResult(BaseModel):
    collection: str
    passages: list[FoundPassage]


class ReadingServer(MCPServer[Any]):
    """The MCP server of one :class:`Library`; its resources are the documents as they are now."""

    def __init__(self, library: Library, assistant_of: AssistantOf | None = None, *, base: str = "") -> None:
        super().__init__(name="reading-assistant", instructions=INSTRUCTIONS, log_level="WARNING")
        self.library = library
        # The web server passes its own, which answers 503-like errors while an index is building.
        self.assistant_of = assistant_of or library.assistant
        self.base = base  # where links point when no HTTP request says (stdio)
        self.tool(annotations=READ_ONLY, structured_output=True)(self.ask)
        self.tool(annotations=READ_ONLY, structured_output=True)(self.search)
        self.resource(f"{SCHEME}://{{collection}}/{{doc_id}}", mime_type="text/plain")(self.document)

    async def ask(
        self,
        question: Annotated[str, Field(description="The question about the text.")],
        ctx: Context,
        collection: COLLECTION = None,
        documents: DOCUMENTS = None,
    ) -> Annotated[CallToolResult, AskResult]:
        """Answer a question from a collection's text (the default collection unless one is named),
        optionally only from some of its documents (doc_ids). Each answer sentence ends with [n]
        markers; each citation gives the exact quote, its offsets and a reading-view link."""
        name = collection or self.library.default
        answer = await self._call(lambda: self.assistant_of(name).ask(question, documents=documents))
        linked = self._linking(name, ctx)
        result = AskResult(
            answer=answer.answer,
            refused=answer.refused,
            kind=answer.kind,
            uncertain=answer.uncertain,
            caveat=answer.caveat,
            collection=name,
            citations=[self._quote(c, name, linked) for c in answer.citations],
        )
        text = answer_text(answer, collection=self._shown(name), base=linked)
        return _result(text, result)

    async def search(
        self,
        query: Annotated[str, Field(description="Words or a question to find passages for.")],
        ctx: Context,
        k: Annotated[int, Field(ge=1, le=50, description="How many passages.")] = 6,
        collection: COLLECTION = None,
        documents: DOCUMENTS = None,
    ) -> Annotated[CallToolResult, SearchResult]:
        """The k passages of a collection's text that best match a query, best first, each with its
        offsets in the document's text and a reading-view link."""
        name = collection or self.library.default
        passages = await self._call(lambda: self.assistant_of(name).search(query, k, documents=documents))
        linked = self._linking(name, ctx)
        found = [self._passage(rank, p, name, linked) for rank, p in enumerate(passages, start=1)]
        text = "\n\n".join(f"[{p.rank}] {p.title}, paragraph {p.paragraph}: {p.text}" for p in found)
        return _result(text or "No passage matches.", SearchResult(collection=name, passages=found))

    def document(self, collection: str, doc_id: str) -> str:
        """A document's text: what citations quote and their offsets index."""
        found = next((d for d in self.library.assistant(collection).documents() if d.doc_id == doc_id), None)
        if found is None:
            raise ResourceError(f"Collection {collection!r} has no document {doc_id!r}.")
        return found.text

    async def list_resources(self) -> list[Resource]:
        """Every document of every collection (listed as they are when asked)."""
        return await anyio.to_thread.run_sync(self._resources)

    def _resources(self) -> list[Resource]:
        resources = []
        for info in self.library.collections():
            for doc in self.library.assistant(info.name).documents():
                resources.append(
                    Resource(
                        uri=_uri(info.name, doc.doc_id),
                        name=f"{info.name}/{doc.doc_id}",
                        title=doc.title,
                        description=f"The text of “{doc.title}” in collection {info.name!r}.",
                        mime_type="text/plain",
                        size=len(doc.text.encode()),
                    )
                )
        return resources

    async def _call(self, work: Callable[[], T]) -> T:
        """The core's work in a worker thread; its errors become the tool's error message."""
        try:
            return await anyio.to_thread.run_sync(work)
        except AssistantError as exc:
            raise ToolError(str(exc)) from None

    def _shown(self, name: str) -> str | None:
        """The collection as links name it: not at all for the default one."""
        return None if name == self.library.default else name

    def _linking(self, name: str, ctx: Context) -> str:
        """Where links point: the server the request came to (HTTP), else the configured base."""
        request = ctx.request_context.request if ctx.request_context else None
        base = getattr(request, "base_url", None)
        return str(base) if base is not None else self.base

    def _quote(self, c: Citation, name: str, base: str) -> CitedQuote:
        link = reading_link(c.doc_id, c.anchor, collection=self._shown(name), base=base)
        return CitedQuote(
            marker=c.marker,
            doc_id=c.doc_id,
            title=c.title,
            quote=c.quote,
            start=c.start,
            end=c.end,
            paragraph=c.paragraph,
            page=c.page,
            anchor=c.anchor,
            reading_view=link,
            document=_uri(name, c.doc_id),
        )

    def _passage(self, rank: int, passage: Passage, name: str, base: str) -> FoundPassage:
        chunk = passage.chunk
        link = reading_link(chunk.doc_id, f"p-{chunk.paragraph}", collection=self._shown(name), base=base)
        return FoundPassage(
            rank=rank,
            doc_id=chunk.doc_id,
            title=chunk.title or chunk.doc_id,
            text=chunk.text,
            start=chunk.start,
            end=chunk.end,
            paragraph=chunk.paragraph,
            score=round(passage.score, 4),
            reading_view=link,
            document=_uri(name, chunk.doc_id),
        )


def _uri(collection: str, doc_id: str) -> str:
    return f"{SCHEME}://{collection}/{doc_id}"


def _result(text: str, data: BaseModel) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text=text)], structured_content=data.model_dump(mode="json")
    )


def serve_stdio(library: Library, *, base: str = "") -> None:
    """Serve the library over stdio until the client closes it (``assistant mcp``)."""
    ReadingServer(library, base=base).run("stdio")
