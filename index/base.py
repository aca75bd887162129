"""The contract between the pipeline and a store of chunks: the embedded FAISS store and Milvus both meet it.

Rows are int64 ids, stable for the life of one published version of the store. The rows of one document are
contiguous and in document order (row + 1 is the next chunk of the same document, when there is one), so
retrieval can grow a passage from its neighbours without knowing how the store lays them out.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterator, Protocol, Sequence, runtime_checkable

import numpy as np

from rag.errors import RagError
from rag.types import Chunk, DocMeta

_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


class IndexLoadError(RagError):
    """A missing, unreadable or incompatible index."""


def rebuild_command(location: str) -> str:
    """The command that rebuilds the store at `location` (a directory, or `scheme:...` for another store)."""
    flag = "--store" if re.match(r"^[a-z][a-z0-9_+-]+:", location) else "--index"
    return f"rag ingest --rebuild {flag} {location}"


def check_compatible(store: "ChunkStore", model: str, chunker_version: str) -> None:
    """IndexLoadError, naming the rebuild command, when `store` was built with another embedding model or chunker.

    Readers and writers both check: vectors of two models cannot be compared, and old chunks beside new ones (or
    read by a retriever that relies on the new chunker's units and headers) give wrong passages.

    Args:
        store: the opened store.
        model: the embedding model that will query or extend it.
        chunker_version: the chunker version that will query or extend it.
    """
    if store.model != model:
        raise IndexLoadError(
            f"index at {store.location} was built with embedding model {store.model!r}, not {model!r}: "
            f"rebuild it with `{rebuild_command(store.location)}` or configure {store.model!r}"
        )
    built_by = str(store.manifest.get("chunker_version"))
    if built_by != chunker_version:
        raise IndexLoadError(
            f"index at {store.location} was built by chunker version {built_by}, this is version {chunker_version}: "
            f"rebuild it with `{rebuild_command(store.location)}`"
        )


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

    def __post_init__(self) -> None:
        for name in ("date_from", "date_to"):
            value = getattr(self, name)
            if value is not None and not _DATE.match(value):
                raise RagError(f"{name.replace('_', ' ')} {value!r} is not a date: use YYYY, YYYY-MM or YYYY-MM-DD")

    def date_ok(self, date: str | None) -> bool:
        """Whether a document dated `date` is in the range (an undated one is not, when a range is set)."""
        if not (self.date_from or self.date_to):
            return True
        if not date:
            return False
        # ISO prefixes compare as strings: "2023-03-10" is within from "2023-03" and to "2023".
        if self.date_from and date[: len(self.date_from)] < self.date_from:
            return False
        return not (self.date_to and date[: len(self.date_to)] > self.date_to)

    def doc_ok(self, meta: DocMeta) -> bool:
        """Whether the document passes the document-level fields (ids and dates)."""
        return (not self.doc_ids or meta.doc_id in self.doc_ids) and self.date_ok(meta.date)

    def matches(self, chunk: Chunk, meta: DocMeta | None = None) -> bool:
        """Whether `chunk` (of the document `meta`) passes every field; the reference the stores must agree with."""
        if self.doc_ids and chunk.doc_id not in self.doc_ids:
            return False
        if (self.date_from or self.date_to) and not self.date_ok(meta.date if meta else None):
            return False
        if self.speaker:
            sp = self.speaker.lower()
            if not (sp in (chunk.speaker or "").lower() or sp in (chunk.delegation or "").lower()):
                return False
        if self.body and self.body.lower() not in (chunk.body or "").lower():
            return False
        return not (self.language and (chunk.language or "").lower() != self.language.lower())


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


@runtime_checkable
class StoreWriter(Protocol):
    """Stages documents and publishes them atomically; a context manager that holds the store's write lock.

    `with open_writer(spec, model, dim, chunker_version) as w: w.add(...); w.commit()`. Nothing staged is
    visible to readers before `commit` returns; a writer killed at any point loses nothing already published.
    """

    location: str
    model: str
    dim: int
    chunker_version: str
    docs: dict[str, DocMeta]  # the documents as they will be after commit: published ones, plus staged changes
    previous_paths: list[str]  # with rebuild: where the documents of the replaced store came from

    def __enter__(self) -> "StoreWriter":
        ...

    def __exit__(self, *exc: object) -> None:
        ...

    def chunk_count(self, doc_id: str) -> int:
        """Number of chunks of a document in `docs`."""
        ...

    def find_by_source(self, source: str, sha256: str) -> str | None:
        """Doc id of an already-indexed file with this name and content (re-adding it is a no-op)."""
        ...

    def resolve_doc(self, name: str) -> str:
        """A doc id in `docs` from a symbol, doc id or source file name; RagError listing the known ones otherwise."""
        ...

    def add(self, meta: DocMeta, text: str, chunks: list[Chunk], embeddings: np.ndarray) -> None:
        """Stage a document (replacing one with the same doc id) with its text, chunks and (len(chunks), dim) vectors."""
        ...

    def remove(self, doc_id: str) -> None:
        """Stage the removal of `doc_id`; RagError listing the documents when it is not one of them."""
        ...

    def compact(self) -> None:
        """Stage a compaction: the next commit rewrites the live data without deleted rows (`rag compact`)."""
        ...

    def commit(self) -> str | None:
        """Publish the staged changes as a new version; its name, or None when nothing was staged."""
        ...


def doc_with_source(docs: dict[str, DocMeta], source: str, sha256: str) -> str | None:
    """The doc id among `docs` of a file with this name and content, or None (re-adding it is a no-op).

    Args:
        docs: doc id -> metadata.
        source: the file's name.
        sha256: the hash of the file and its sidecar.
    Returns:
        The doc id, or None.
    """
    for doc_id, meta in docs.items():
        if meta.source == source and meta.sha256 == sha256:
            return doc_id
    return None


def check_vectors(vectors: np.ndarray, chunks: int, dim: int) -> None:
    """ValueError unless `vectors` has one row of `dim` values per chunk."""
    if vectors.shape != (chunks, dim):
        raise ValueError(f"embeddings shape {vectors.shape} does not match {chunks} chunks x {dim}")


def resolve_doc_name(docs: dict[str, DocMeta], name: str, holder: str = "the index") -> str:
    """A doc id from a symbol, doc id or source file name among `docs`; RagError listing the known ones otherwise.

    Args:
        docs: doc id -> metadata.
        name: what the user typed.
        holder: how the error names the store ("the index", "the store milvus:...").
    Returns:
        The doc id.
    """
    for doc_id, meta in docs.items():
        if name in (doc_id, meta.symbol, meta.source) or (meta.source and meta.source.rsplit(".", 1)[0] == name):
            return doc_id
    known = ", ".join(sorted(docs)) or "(none)"
    raise RagError(f"unknown document {name!r}; {holder} holds: {known}")
