"""Hybrid retrieval: FAISS dense search and BM25, fused by weighted reciprocal rank, filtered and de-duplicated."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np

from index.store import Index
from rag.config import RetrievalSettings
from rag.errors import RagError
from rag.models.embed import Embedder
from rag.types import Chunk, Hit

MODES = ("dense", "bm25", "hybrid")  # report order: the single retrievers, then their fusion (the default)


@dataclass(frozen=True)
class Filters:
    """Restrict retrieval; each field is matched case-insensitively, `None` means no restriction."""

    docs: tuple[str, ...] = ()  # doc ids or symbols
    speaker: str | None = None  # matches the speaker or the delegation, by substring
    body: str | None = None
    language: str | None = None

    def __bool__(self) -> bool:
        return bool(self.docs or self.speaker or self.body or self.language)


@dataclass
class Retrieval:
    hits: list[Hit]
    confidence: float  # top dense cosine similarity: the refusal signal
    query_vector: np.ndarray | None = None
    timings: dict[str, float] = field(default_factory=dict)


def _norm(s: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", s))


def _near_duplicate(a: str, b: str, threshold: float) -> bool:
    na, nb = _norm(a), _norm(b)
    if na == nb or (min(len(na), len(nb)) > 20 and (na in nb or nb in na)):
        return True
    ga = {na[i : i + 3] for i in range(len(na) - 2)}
    gb = {nb[i : i + 3] for i in range(len(nb) - 2)}
    if not ga or not gb:
        return False
    return len(ga & gb) / len(ga | gb) >= threshold


class Retriever:
    def __init__(self, index: Index, embedder: Embedder, settings: RetrievalSettings | None = None) -> None:
        self.index = index
        self.embedder = embedder
        self.settings = settings or RetrievalSettings()

    def _mask(self, filters: Filters) -> np.ndarray | None:
        if not filters:
            return None
        docs = {self.index.resolve_doc(d) for d in filters.docs}
        sp = filters.speaker.lower() if filters.speaker else None
        keep = []
        for i, c in enumerate(self.index.chunks):
            if docs and c.doc_id not in docs:
                continue
            if sp and not (sp in (c.speaker or "").lower() or sp in (c.delegation or "").lower()):
                continue
            if filters.body and filters.body.lower() not in (c.body or "").lower():
                continue
            if filters.language and (c.language or "").lower() != filters.language.lower():
                continue
            keep.append(i)
        return np.asarray(keep, dtype=np.int64)

    def search(self, query: str, k: int | None = None, filters: Filters = Filters(), mode: str = "hybrid") -> Retrieval:
        import time

        if mode not in MODES:
            raise RagError(f"unknown retrieval mode {mode!r}; choose one of: {', '.join(MODES)}")
        s = self.settings
        k = k or s.k
        n = len(self.index.chunks)
        mask = self._mask(filters)
        if n == 0 or (mask is not None and len(mask) == 0):
            return Retrieval([], 0.0)
        t0 = time.perf_counter()
        q = self.embedder.embed_queries([query])[0]
        t1 = time.perf_counter()
        if mask is None:
            scores, ids = self.index.dense.search(q[None, :], s.candidates)
            dense_ids, dense_scores = ids[0][ids[0] >= 0], scores[0][ids[0] >= 0]
        else:
            # A filtered search scores just the allowed rows exactly: small subsets need no ANN.
            rows = mask
            sims = self.index.embeddings[rows] @ q
            order = np.argsort(-sims)[: s.candidates]
            dense_ids, dense_scores = rows[order], sims[order]
        t2 = time.perf_counter()
        bm = self.index.keyword.scores(query) if mode != "dense" else np.zeros(n, np.float32)
        if mask is not None:
            allowed = np.zeros(n, bool)
            allowed[mask] = True
            bm = np.where(allowed, bm, 0.0)
        bm_order = [i for i in np.argsort(-bm)[: s.candidates] if bm[i] > 0]
        t3 = time.perf_counter()

        fused: dict[int, float] = {}
        info: dict[int, dict] = {}
        if mode in ("hybrid", "dense"):
            for r, (i, sc) in enumerate(zip(dense_ids.tolist(), dense_scores.tolist()), 1):
                fused[i] = fused.get(i, 0.0) + s.dense_weight / (s.rrf_k + r)
                info.setdefault(i, {})["dense"] = (r, sc)
        if mode in ("hybrid", "bm25"):
            for r, i in enumerate(bm_order, 1):
                fused[i] = fused.get(i, 0.0) + s.bm25_weight / (s.rrf_k + r)
                info.setdefault(i, {})["bm25"] = (r, float(bm[i]))
        ranked = sorted(fused, key=lambda i: -fused[i])
        hits: list[Hit] = []
        for i in ranked:
            chunk: Chunk = self.index.chunks[i]
            if any(_near_duplicate(chunk.text, h.chunk.text, s.dedupe_threshold) for h in hits):
                continue
            d = info[i].get("dense")
            b = info[i].get("bm25")
            hits.append(
                Hit(
                    chunk=chunk,
                    score=fused[i],
                    rank=len(hits) + 1,
                    dense_score=float(d[1]) if d else float(self.index.embeddings[i] @ q),
                    bm25_score=b[1] if b else None,
                    dense_rank=d[0] if d else None,
                    bm25_rank=b[0] if b else None,
                )
            )
            if len(hits) >= k:
                break
        confidence = float(dense_scores[0]) if len(dense_scores) else 0.0
        timings = {"embed_ms": (t1 - t0) * 1e3, "dense_ms": (t2 - t1) * 1e3, "bm25_ms": (t3 - t2) * 1e3}
        return Retrieval(hits, confidence, q, timings)
