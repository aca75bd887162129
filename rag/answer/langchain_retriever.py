"""A LangChain `BaseRetriever` over our hybrid retrieval, so users' own chains get cited UN passages."""
from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from rag.answer.pipeline import Pipeline
from rag.answer.retrieve import MODES, Filters
from rag.errors import RagError
from rag.types import Hit


def hit_to_document(hit: Hit) -> Document:
    """The verbatim passage (the hit's unit and section window) as page_content; symbol, the matched locator,
    speaker, scores and each part's locator as metadata."""
    c = hit.chunk
    return Document(
        page_content=hit.text,
        id=c.chunk_id,
        metadata={
            "cite": c.cite, "doc": c.document, "symbol": c.symbol, "locator": c.locator, "speaker": c.speaker,
            "delegation": c.delegation, "title": c.title, "headings": list(c.headings), "rank": hit.rank,
            "score": hit.score, "dense_score": hit.dense_score, "bm25_score": hit.bm25_score,
            "parts": [p.locator for p in hit.parts],
        },
    )


class UNDocsRetriever(BaseRetriever):
    """`retriever.invoke("question")` -> list of `Document`s, best first (hybrid dense + BM25 by default)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    pipeline: Pipeline
    k: int = 5
    filters: Filters = Filters()
    mode: str = "hybrid"

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kw: Any) -> list[Document]:
        if self.mode not in MODES:
            raise RagError(f"unknown retrieval mode {self.mode!r}; choose one of: {', '.join(MODES)}")
        q = self.pipeline.validate_question(query)
        hits = self.pipeline.retriever.search(q, k=self.k, filters=self.filters, mode=self.mode).hits
        return [hit_to_document(h) for h in hits]
