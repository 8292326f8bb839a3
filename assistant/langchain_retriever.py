"""The hybrid passage ranking as a LangChain ``BaseRetriever``.

Kept apart from :mod:`assistant.retrieval` because importing ``langchain_core.retrievers``
pulls in langsmith, about a second that a cold ``assistant ask`` does not need.
"""

from __future__ import annotations

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from .retrieval import Retriever


class LangChainRetriever(BaseRetriever):
    """The hybrid passage ranking as a LangChain retriever (page_content = chunk text)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    retriever: Retriever
    k: int = 6

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[LCDocument]:
        return [
            LCDocument(
                page_content=p.chunk.text,
                id=p.chunk.chunk_id,
                metadata={
                    "doc_id": p.chunk.doc_id,
                    "chunk_id": p.chunk.chunk_id,
                    "paragraph": p.chunk.paragraph,
                    "start": p.chunk.start,
                    "end": p.chunk.end,
                    "score": p.score,
                },
            )
            for p in self.retriever.retrieve(query, self.k).passages
        ]
