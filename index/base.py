"""The contract between the pipeline and a store of chunks: the embedded FAISS store and Milvus both meet it.

Rows are int64 ids, stable for the life of one published version of the store. The rows of one document are
contiguous and in document order (row + 1 is the next chunk of the same document, when there is one), so
retrieval can grow a passage from its neighbours without knowing how the store lays them out.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Protocol, Sequence, runtime_checkable

import numpy as np

from rag.types import Chunk, DocMeta


@dataclass(frozen=True)
class RowFilter:
    """Which chunks a search may return; applied inside the search, every field matched case-insensitively.

    `None` / empty means no restriction on that field.
    """

    doc_ids: tuple[str, ...] = ()  # resolved document ids (see ChunkStore.resolve_doc)
    speaker: str | None = None  # a substring of the chunk's speaker or delegation
    body: str | None = None  # a substring of the chunk's body
    language: str | None = None  # the chunk's language, exactly (ISO 639-1)
    date_from: str | None = None  # ISO date (YYYY or YYYY-MM or YYYY-MM-DD), inclusive, on the document's date
    date_to: str | None = None

    def __bool__(self) -> bool:
        return bool(self.doc_ids or self.speaker or self.body or self.language or self.date_from or self.date_to)


@runtime_checkable
class ChunkStore(Protocol):
    """A published, read-only snapshot of a store of chunks, their vectors, a keyword index and metadata."""

    location: str  # where it lives, for messages: a directory, or `milvus:URI#collection`
    version: str  # changes with every publish; readers reload when it does
    manifest: dict[str, Any]  # at least: model, dim, chunker_version, counts {documents, chunks}
    docs: dict[str, DocMeta]  # doc id -> metadata (documents are few: held in memory)

    @property
    def model(self) -> str:
        """The embedding model the vectors were made with."""
        ...

    @property
    def size(self) -> int:
        """Number of live chunks."""
        ...

    def dense_search(self, query: np.ndarray, k: int, where: RowFilter | None = None) -> list[tuple[int, float]]:
        """The best `k` (row, cosine) for a normalised query vector, best first, within `where`."""
        ...

    def keyword_search(self, query: str, k: int, where: RowFilter | None = None) -> list[tuple[int, float]]:
        """The best `k` (row, BM25 score > 0) for `query`, best first, within `where`, without scoring every chunk."""
        ...

    def chunks(self, rows: Sequence[int]) -> list[Chunk]:
        """The chunks at `rows`, in that order (KeyError for a row that is not live)."""
        ...

    def vectors(self, rows: Sequence[int]) -> np.ndarray:
        """The stored float32 vectors at `rows`, shape (len(rows), dim)."""
        ...

    def doc_rows(self, doc_id: str) -> list[int]:
        """The rows of one document, in document order."""
        ...

    def doc_text(self, doc_id: str) -> str:
        """The cleaned text that the document's chunk spans index into."""
        ...

    def resolve_doc(self, name: str) -> str:
        """A doc id from a symbol, doc id or source file name; RagError listing the known ones otherwise."""
        ...

    def iter_chunks(self) -> Iterator[tuple[int, Chunk]]:
        """Every live (row, chunk), document by document, in document order."""
        ...
