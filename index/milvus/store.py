"""The Milvus ChunkStore: one published snapshot of a Milvus collection, read on demand through pymilvus."""
from __future__ import annotations

import bisect
import json
import time
from collections import OrderedDict
from typing import Any, Iterator, Sequence

import numpy as np

from index.base import RowFilter, resolve_doc_name
from index.milvus.client import (
    CHUNK_FIELDS,
    FORMAT_VERSION,
    QUERY_BATCH,
    MilvusStoreError,
    StoreSpec,
    connect,
    filter_expr,
    keyword_form,
    read_manifest,
    read_parts,
    read_pointer,
)
from index.tokenize import tokenize
from rag.types import Chunk, DocMeta

CHUNK_CACHE = 20_000  # chunks kept per snapshot: passages re-read their neighbours, the UI re-reads the same rows
# A read of a few rows brings the rows around them in their document: retrieval grows a passage from a hit one
# neighbour at a time, and one round trip for 17 rows costs about what one for a single row does (~2 ms on Milvus
# Lite). A larger read (the candidates of a search) gets just its rows: 100 candidates with their neighbours
# made a 1,700-row read of ~20 ms a question at 10,000 passages.
READ_AHEAD = 8
READ_AHEAD_BELOW = 4
MAX_LIMIT = 16_384  # Milvus' largest search limit
# Search parameters when an operator has switched the vector index (README, Milvus section): HNSW's ef as the
# FAISS store's (index/dense.py: recall@10 0.995 at 100k), IVF's nprobe a common 1/16 of 1,024 lists.
HNSW_EF = 512
IVF_NPROBE = 64


def _chunk(r: dict[str, Any]) -> Chunk:
    return Chunk(chunk_id=r["chunk_id"], doc_id=r["doc_id"], symbol=r["symbol"], locator=r["locator"], text=r["text"],
                 start=int(r["span_start"]), end=int(r["span_end"]), headings=json.loads(r["headings"]),
                 speaker=r["speaker"], delegation=r["delegation"], spoken_language=r["spoken_language"],
                 language=r["language"], body=r["body"], title=r["title"], ordinal=int(r["ordinal"]),
                 context=r["context"], unit=r["unit"])


class MilvusStore:
    """A published, read-only snapshot of a Milvus store (implements index.base.ChunkStore).

    Rows are the int64 primary keys of the chunks collection; a document's rows are one contiguous range given
    in the manifest, so `doc_rows` and passage growing need no query.
    """

    def __init__(self, spec: StoreSpec, client: Any, pointer: dict[str, Any], manifest: dict[str, Any]) -> None:
        self.spec = spec
        self.client = client
        self.location = spec.location
        self.version = str(pointer["version"])
        self.gen = int(pointer["gen"])
        self.manifest = manifest
        documents = manifest["documents"]
        self.docs: dict[str, DocMeta] = {d: DocMeta.from_dict(e["meta"]) for d, e in documents.items()}
        self._ranges = {d: (int(e["row"]), int(e["n"])) for d, e in documents.items()}
        self._text_parts = {d: int(e["text_parts"]) for d, e in documents.items()}
        starts = sorted((a, a + n) for a, n in self._ranges.values() if n)
        self._starts = [a for a, _ in starts]
        self._ends = [b for _, b in starts]
        self._dead = [tuple(x) for x in manifest.get("dead", [])]
        self._cache: OrderedDict[int, Chunk] = OrderedDict()
        self._dense_params: dict[str, Any] | None = None

    @property
    def model(self) -> str:
        return self.manifest["model"]

    @property
    def size(self) -> int:
        return sum(n for _, n in self._ranges.values())

    def _expr(self, where: RowFilter | None) -> str:
        if where and where.doc_ids:
            unknown = [d for d in where.doc_ids if d not in self.docs]
            if unknown:
                where = RowFilter(tuple(d for d in where.doc_ids if d in self.docs), where.speaker, where.body,
                                  where.language, where.date_from, where.date_to)
                if not where.doc_ids:
                    return ""
        return filter_expr(where, self.gen, self._dead)

    def _search(self, data: list, field: str, metric: str, k: int, where: RowFilter | None,
                params: dict[str, Any] | None = None) -> list[tuple[int, float]]:
        expr = self._expr(where)
        if not expr or k <= 0 or not self._starts:
            return []
        res = self.client.search(self.spec.collection, data=data, anns_field=field, limit=min(k, MAX_LIMIT),
                                 filter=expr, output_fields=[],
                                 search_params={"metric_type": metric, "params": params or {}})
        return [(int(h["row"]), float(h["distance"])) for h in res[0]]

    def dense_search(self, query: np.ndarray, k: int, where: RowFilter | None = None) -> list[tuple[int, float]]:
        """The best `k` (row, cosine) for a normalised query vector, best first, within `where`."""
        q = np.asarray(query, dtype=np.float32).reshape(-1).tolist()
        if self._dense_params is None:  # the index the collection has now: FLAT as created, or what an operator chose
            kind = str(self.client.describe_index(self.spec.collection, "vector").get("index_type", "FLAT")).upper()
            self._dense_params = ({"ef": HNSW_EF} if kind.startswith("HNSW")
                                  else {"nprobe": IVF_NPROBE} if kind.startswith("IVF") else {})
        params = dict(self._dense_params)
        if "ef" in params:
            params["ef"] = max(params["ef"], min(k, MAX_LIMIT))  # HNSW needs ef >= the results asked for
        return self._search([q], "vector", "IP", k, where, params)

    def keyword_search(self, query: str, k: int, where: RowFilter | None = None) -> list[tuple[int, float]]:
        """The best `k` (row, BM25 score > 0) for `query`, scored by Milvus' BM25 function, within `where`.

        Milvus returns BM25 as a negative distance (smaller is better); the score is its negation.
        """
        if not tokenize(query):  # only stopwords or punctuation: nothing can match (and no empty query is sent)
            return []
        hits = self._search([keyword_form(query)], "sparse", "BM25", k, where)
        return [(row, -d) for row, d in hits if -d > 0]

    def _live(self, row: int) -> bool:
        i = bisect.bisect_right(self._starts, row) - 1
        return i >= 0 and row < self._ends[i]

    def _fetch(self, rows: Sequence[int], fields: list[str], retry: bool = True) -> dict[int, dict[str, Any]]:
        out: dict[int, dict[str, Any]] = {}
        rows = list(dict.fromkeys(int(r) for r in rows))
        for i in range(0, len(rows), QUERY_BATCH):
            for r in self.client.get(self.spec.collection, ids=rows[i : i + QUERY_BATCH], output_fields=fields):
                out[int(r["row"])] = r
        lost = [r for r in rows if r not in out and self._live(r)]
        if lost and retry:
            # Milvus Lite swaps segments in a background thread after a flush (compaction, index building); a read
            # at that moment missed a live row once in 50 questions on 100,000 rows just after a build. Once more.
            time.sleep(0.2)
            out.update(self._fetch(lost, fields, retry=False))
        return out

    def chunks(self, rows: Sequence[int]) -> list[Chunk]:
        """The chunks at `rows`, in that order (KeyError for a row that is not live in this snapshot)."""
        rows = [int(r) for r in rows]
        for r in rows:
            if not self._live(r):
                raise KeyError(r)
        missing = [r for r in rows if r not in self._cache]
        if missing:
            wanted = set(missing)
            for r in missing if len(missing) <= READ_AHEAD_BELOW else ():
                i = bisect.bisect_right(self._starts, r) - 1
                lo, hi = max(self._starts[i], r - READ_AHEAD), min(self._ends[i], r + READ_AHEAD + 1)
                wanted.update(x for x in range(lo, hi) if x not in self._cache)
            got = self._fetch(sorted(wanted), CHUNK_FIELDS)
            for r in missing:
                if r not in got:
                    raise KeyError(r)  # deleted by a later publish: the reader reloads on the next question
            for r, rec in got.items():
                self._cache[r] = _chunk(rec)
            while len(self._cache) > CHUNK_CACHE:
                self._cache.popitem(last=False)
        return [self._cache[r] for r in rows]

    def vectors(self, rows: Sequence[int]) -> np.ndarray:
        """The stored float32 vectors at `rows`, shape (len(rows), dim)."""
        rows = [int(r) for r in rows]
        got = self._fetch(rows, ["row", "vector"])
        dim = int(self.manifest["dim"])
        out = np.zeros((len(rows), dim), np.float32)
        for i, r in enumerate(rows):
            if r not in got or not self._live(r):
                raise KeyError(r)
            out[i] = np.asarray(got[r]["vector"], dtype=np.float32)
        return out

    def doc_rows(self, doc_id: str) -> list[int]:
        """The rows of one document, in document order."""
        a, n = self._ranges[doc_id]
        return list(range(a, a + n))

    def doc_text(self, doc_id: str) -> str:
        """The cleaned text that the document's chunk spans index into."""
        gen = int(self.manifest["documents"][doc_id]["gen"])
        return read_parts(self.client, self.spec.collection, f"text:{doc_id}:{gen}", self._text_parts[doc_id])

    def resolve_doc(self, name: str) -> str:
        """A doc id from a symbol, doc id or source file name; RagError listing the known ones otherwise."""
        return resolve_doc_name(self.docs, name, f"the store {self.location}")

    def iter_chunks(self) -> Iterator[tuple[int, Chunk]]:
        """Every live (row, chunk), document by document, in document order."""
        for doc_id in self.docs:
            rows = self.doc_rows(doc_id)
            for i in range(0, len(rows), QUERY_BATCH):
                batch = rows[i : i + QUERY_BATCH]
                got = self._fetch(batch, CHUNK_FIELDS)
                for r in batch:
                    yield r, _chunk(got[r])


def check_manifest(store_location: str, manifest: dict[str, Any], model: str | None, dim: int | None,
                   chunker_version: str | None, rebuild_hint: str) -> None:
    """MilvusStoreError naming the rebuild command when the store was built with another model, dimension,
    chunker or format than the one that will read or extend it (None: not checked)."""
    if manifest.get("format") != FORMAT_VERSION:
        raise MilvusStoreError(f"store {store_location} has format {manifest.get('format')}, this program reads "
                               f"{FORMAT_VERSION}: rebuild it with `{rebuild_hint}`")
    if model is not None and manifest["model"] != model:
        raise MilvusStoreError(f"store {store_location} was built with embedding model {manifest['model']!r}, not "
                               f"{model!r}: rebuild it with `{rebuild_hint}` or configure {manifest['model']!r}")
    if dim is not None and int(manifest["dim"]) != int(dim):
        raise MilvusStoreError(f"store {store_location} holds {manifest['dim']}-dimensional vectors, the embedding "
                               f"model gives {dim}: rebuild it with `{rebuild_hint}`")
    if chunker_version is not None and str(manifest.get("chunker_version")) != str(chunker_version):
        raise MilvusStoreError(f"store {store_location} was built by chunker version {manifest.get('chunker_version')}"
                               f", this is version {chunker_version}: rebuild it with `{rebuild_hint}`")


def rebuild_hint(spec: StoreSpec) -> str:
    return f"rag ingest --rebuild --store milvus:{spec.uri} --collection {spec.collection}"


def open_milvus(spec: StoreSpec, model: str | None = None, dim: int | None = None,
                chunker_version: str | None = None, client: Any = None) -> MilvusStore:
    """Open the published snapshot of the Milvus store at `spec`.

    Args:
        spec: URI and collection.
        model, dim, chunker_version: what will query it; a store built otherwise is refused (None: not checked).
        client: a connected MilvusClient to reuse (else one is made).
    Returns:
        The MilvusStore.
    Raises:
        MilvusStoreError: Milvus unreachable, no store there (naming `rag ingest`), or an incompatible one.
    """
    client = client or connect(spec)
    pointer = read_pointer(client, spec.collection)
    if pointer is None:
        raise MilvusStoreError(f"no store at {spec.location}: build one with `rag ingest PATH... --store "
                               f"milvus:{spec.uri} --collection {spec.collection}`")
    try:
        manifest = read_manifest(client, spec.collection, pointer)
    except KeyError:  # a writer published and collected the manifest between the two reads: read the new one
        pointer = read_pointer(client, spec.collection)
        manifest = read_manifest(client, spec.collection, pointer)
    check_manifest(spec.location, manifest, model, dim, chunker_version, rebuild_hint(spec))
    return MilvusStore(spec, client, pointer, manifest)


def current_version(spec: StoreSpec, client: Any) -> str | None:
    """The version readers see now, or None before the first publish (one small read: cheap to poll)."""
    pointer = read_pointer(client, spec.collection)
    return None if pointer is None else str(pointer["version"])
