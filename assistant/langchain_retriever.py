"""The hybrid passage ranking as a LangChain ``BaseRetriever`` (``Assistant.as_retriever``).

Kept apart from :mod:`assistant.retrieval` because importing ``langchain_core.retrievers``
pulls in langsmith, about a second that a cold ``assistant ask`` does not need.

It meets LangChain's standard retriever contract (``langchain-tests``'
``RetrieversIntegrationTests``): ``k`` at construction, ``k`` as a keyword of
``invoke``/``ainvoke``, and a native async path.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForRetrieverRun, CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables.config import run_in_executor
from pydantic import ConfigDict, Field, SkipValidation

from .models import Passage
from .pipeline import Assistant


class LangChainRetriever(BaseRetriever):
    """The assistant's passages as LangChain documents (``page_content`` = the passage text).

    Each query goes through :meth:`Assistant.search`: the same validation, aliases and hybrid
    ranking as a question, on the index as it is now (a rebuilt index is picked up).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)
    # SkipValidation: the Assistant is used, never copied or checked by pydantic.
    assistant: SkipValidation[Assistant]
    k: int = Field(default=6, ge=1, description="How many passages a query returns.")
    documents: list[str] | None = Field(default=None, description="Only these doc_ids; all when None.")

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, k: int | None = None, **_: Any
    ) -> list[LCDocument]:
        passages = self.assistant.search(query, self.k if k is None else k, documents=self.documents)
        return [_document(passage) for passage in passages]

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun, k: int | None = None, **_: Any
    ) -> list[LCDocument]:
        # The search is CPU-bound and synchronous; a worker thread keeps the event loop free.
        return await run_in_executor(
            None, self._get_relevant_documents, query, run_manager=run_manager.get_sync(), k=k
        )


def _document(passage: Passage) -> LCDocument:
    chunk = passage.chunk
    return LCDocument(
        page_content=chunk.text,
        id=chunk.chunk_id,
        metadata={
            "doc_id": chunk.doc_id,
            "title": chunk.title or chunk.doc_id,
            "chunk_id": chunk.chunk_id,
            "paragraph": chunk.paragraph,
            "start": chunk.start,
            "end": chunk.end,
            "score": passage.score,
        },
    )
