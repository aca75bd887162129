"""Hybrid retrieval: FAISS dense search and BM25, fused by weighted reciprocal rank, filtered and de-duplicated."""
from __future__ import annotations

import re
import time
import unicodedata
from dataclasses import dataclass, field

import numpy as np

from index.store import Index
from rag.answer.versions import collapse_versions
from rag.config import RetrievalSettings
from rag.errors import RagError
from rag.ingest.versions import LibraryVersions, resolve_versions
from rag.lang import NEUTRAL_TOKEN, detect_language
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
    dense_top: list[float] = field(default_factory=list)  # the 10 best dense cosines, best first
    query_vector: np.ndarray | None = None
    timings: dict[str, float] = field(default_factory=dict)
    query: str = ""  # the question searched for (the refusal decision reads its coverage)


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
        self._units: dict[int, list[int]] | None = None
        self.versions = LibraryVersions(index)  # documents with several language versions, aligned on demand

    def _language_aware(self, query: str, bm: np.ndarray, order: list[int], mask: np.ndarray | None) -> list[int]:
        """BM25 candidates where keywords can match: passages in the question's language by all its words;
        passages in other languages only by its language-neutral tokens (numbers, acronyms, symbols)."""
        q_lang = detect_language(query)
        chunks = self.index.chunks
        same = [i for i in order if (chunks[i].language or q_lang) == q_lang]
        if len(same) == len(order):
            return order
        neutral = " ".join(NEUTRAL_TOKEN.findall(query))
        if not neutral:
            return same
        nb = self.index.keyword.scores(neutral)
        if mask is not None:
            allowed = np.zeros(len(nb), bool)
            allowed[mask] = True
            nb = np.where(allowed, nb, 0.0)
        cross = [i for i in np.argsort(-nb)[: self.settings.candidates] if nb[i] > 0
                 and (chunks[i].language or q_lang) != q_lang]
        # one ranked list: same-language matches by their full score first, then neutral-token matches
        return same + [int(i) for i in cross if i not in set(same)]

    def _unit_members(self, i: int, allowed: set[int] | None = None, taken: set[int] | None = None) -> list[int]:
        """Row ids of the passage that chunk `i` opens, in document order: its unit (lead-in and items, or the
        pieces of one paragraph) when at most `unit_chars` long, then neighbours in the same document, section and
        speaker turn up to `window_chars`; rows outside `allowed` (the filters) or already `taken` by a better
        passage never come along (a chunk is read once)."""
        if self._units is None:
            by_unit: dict[str, list[int]] = {}
            for j, c in enumerate(self.index.chunks):
                if c.unit:
                    by_unit.setdefault(c.unit, []).append(j)
            self._units = {j: rows for rows in by_unit.values() for j in rows}
        chunks = self.index.chunks
        rows = self._units.get(i, [i])
        taken = taken or set()
        rows = [j for j in rows if j == i or ((allowed is None or j in allowed) and j not in taken)]
        if len(rows) > 1 and sum(len(chunks[j].text) for j in rows) > self.settings.unit_chars:
            rows = [i]
        # Section window: the chunks that follow (then precede) in the same document and section come along
        # until `window_chars`, so a passage reads as much context as a peer's window but starts where it matched.
        size = sum(len(chunks[j].text) for j in rows)
        lo, hi = rows[0], rows[-1]
        c = chunks[i]
        while size < self.settings.window_chars:
            steps = (hi + 1, lo - 1) if self.settings.window_back else (hi + 1,)
            nxt = [j for j in steps if 0 <= j < len(chunks) and (allowed is None or j in allowed) and j not in taken
                   and chunks[j].doc_id == c.doc_id and chunks[j].headings == c.headings
                   and chunks[j].speaker == c.speaker and size + len(chunks[j].text) <= self.settings.window_chars]
            if not nxt:
                break
            j = nxt[0]
            size += len(chunks[j].text)
            lo, hi = min(lo, j), max(hi, j)
        if (lo, hi) == (rows[0], rows[-1]):
            return rows
        return [j for j in range(lo, hi + 1) if j == i or j in rows or j not in taken]

    def _mask(self, filters: Filters) -> np.ndarray | None:
        if not filters:
            return None
        docs = {k for d in filters.docs for k in resolve_versions(self.index.docs, d)}  # every language version
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
        """The top `k` passages for `query`: dense and keyword candidates, fused, grown into passages.

        Args:
            query: the standalone question.
            k: passages wanted (default `settings.k`).
            filters: documents, speaker or delegation, body, language; applied inside both searches.
            mode: "hybrid" (default), "dense" or "bm25" (see MODES).
        Returns:
            A `Retrieval`: ranked `Hit`s (each with its passage `parts`), the top dense cosine as confidence, the ten
            best cosines, the query vector, per-step timings and the query.
        Raises:
            RagError: an unknown mode, or a document filter naming no indexed document.
        """
        if mode not in MODES:
            raise RagError(f"unknown retrieval mode {mode!r}; choose one of: {', '.join(MODES)}")
        s = self.settings
        k = k or s.k
        n = len(self.index.chunks)
        mask = self._mask(filters)
        if n == 0 or (mask is not None and len(mask) == 0):
            return Retrieval([], 0.0, query=query)
        t0 = time.perf_counter()
        q = self.embedder.embed_queries([query])[0]
        t1 = time.perf_counter()
        dense_ids, dense_scores = self._dense_candidates(q, mask)
        t2 = time.perf_counter()
        bm = self.index.keyword.scores(query) if mode != "dense" else np.zeros(n, np.float32)
        if mask is not None:
            allowed = np.zeros(n, bool)
            allowed[mask] = True
            bm = np.where(allowed, bm, 0.0)
        bm_order = [i for i in np.argsort(-bm)[: s.candidates] if bm[i] > 0]
        t3 = time.perf_counter()
        # Keyword evidence counts only where it can match: a passage in the question's language. Across
        # languages BM25 matches only stray numbers and names, and fusing it ranked English questions over
        # Chinese text below dense search alone (UNPC dev, benchmarks/README.md).
        if mode == "hybrid" and s.same_language_keywords:
            bm_order = self._language_aware(query, bm, bm_order, mask)
        dense = list(zip(dense_ids.tolist(), dense_scores.tolist())) if mode in ("hybrid", "dense") else []
        keyword = [(i, float(bm[i])) for i in bm_order] if mode in ("hybrid", "bm25") else []
        fused, info = rrf_fuse(dense, keyword, s.rrf_k, s.dense_weight, s.bm25_weight)
        # Versions of one paragraph in several languages are one hit: take enough passages to fill k after that.
        want = k * self.versions.max_versions
        hits = self._passages(fused, info, q, want, None if mask is None else set(mask.tolist()))
        if self.versions.max_versions > 1:
            hits = collapse_versions(hits, self.versions.row, detect_language(query))[:k]
        confidence = float(dense_scores[0]) if len(dense_scores) else 0.0
        timings = {"embed_ms": (t1 - t0) * 1e3, "dense_ms": (t2 - t1) * 1e3, "bm25_ms": (t3 - t2) * 1e3}
        return Retrieval(hits, confidence, [float(x) for x in dense_scores[:10]], q, timings, query)

    def _dense_candidates(self, q: np.ndarray, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Row ids and cosines of the best `candidates` chunks for the query vector, within the filter's rows."""
        if mask is None:
            scores, ids = self.index.dense.search(q[None, :], self.settings.candidates)
            return ids[0][ids[0] >= 0], scores[0][ids[0] >= 0]
        # A filtered search scores just the allowed rows exactly: small subsets need no ANN.
        sims = self.index.embeddings[mask] @ q
        order = np.argsort(-sims)[: self.settings.candidates]
        return mask[order], sims[order]

    def _passages(self, fused: dict[int, float], info: dict[int, dict], q: np.ndarray, k: int,
                  allowed_rows: set[int] | None) -> list[Hit]:
        """The top `k` passages in fused order: near-duplicates skipped, each grown from its chunk (small-to-big)."""
        s = self.settings
        hits: list[Hit] = []
        taken: set[int] = set()
        for i in sorted(fused, key=lambda i: -fused[i]):
            if i in taken:
                continue
            chunk: Chunk = self.index.chunks[i]
            if any(_near_duplicate(chunk.text, h.chunk.text, s.dedupe_threshold) for h in hits):
                continue
            # Small-to-big: the hit opens a passage made of its unit (a lead-in with its items) and its section
            # neighbours, each part keeping its own locator; what is in one passage is not ranked again.
            members = self._unit_members(i, allowed_rows, taken) if s.unit_chars or s.window_chars else [i]
            taken.update(members)
            d = info[i].get("dense")
            b = info[i].get("bm25")
            hits.append(Hit(
                chunk=chunk, score=fused[i], rank=len(hits) + 1,
                dense_score=float(d[1]) if d else float(self.index.embeddings[i] @ q),
                bm25_score=b[1] if b else None, dense_rank=d[0] if d else None, bm25_rank=b[0] if b else None,
                parts=[self.index.chunks[j] for j in members] if len(members) > 1 else [],
            ))
            if len(hits) >= k:
                break
        return hits


def rrf_fuse(dense: list[tuple[int, float]], keyword: list[tuple[int, float]], rrf_k: int, dense_weight: float,
             keyword_weight: float) -> tuple[dict[int, float], dict[int, dict]]:
    """Weighted reciprocal rank fusion of two ranked candidate lists.

    Args:
        dense: (row, cosine) in dense rank order.
        keyword: (row, BM25 score) in keyword rank order.
        rrf_k: the constant k of 1 / (k + rank).
        dense_weight: weight of the dense list.
        keyword_weight: weight of the keyword list.
    Returns:
        (row -> fused score, row -> {"dense": (rank, cosine), "bm25": (rank, score)} for the lists it was in).
    """
    fused: dict[int, float] = {}
    info: dict[int, dict] = {}
    for r, (i, sc) in enumerate(dense, 1):
        fused[i] = fused.get(i, 0.0) + dense_weight / (rrf_k + r)
        info.setdefault(i, {})["dense"] = (r, sc)
    for r, (i, sc) in enumerate(keyword, 1):
        fused[i] = fused.get(i, 0.0) + keyword_weight / (rrf_k + r)
        info.setdefault(i, {})["bm25"] = (r, sc)
    return fused, info


def expand_hits(hits: list[Hit]) -> list[Hit]:
    """The parts the generator numbers and cites: each passage's matched chunk with its unit (a lead-in and its
    items), in passage order then document order, so every citation points at one exact locator (`¶21(c)`).
    Section-window neighbours stay in `Answer.retrieved` for the reader but out of the prompt: with them the
    local model's prompt grew from 5 to 26 numbered passages on the seed questions.

    Args:
        hits: ranked passages from `Retriever.search`.

    Returns:
        Hits whose `group` is the rank of the passage they come from.
    """
    out: list[Hit] = []
    for h in hits:
        unit = h.chunk.unit
        for c in [p for p in h.parts if p is h.chunk or (unit and p.unit == unit)] or [h.chunk]:
            own = c is h.chunk
            out.append(Hit(chunk=c, score=h.score, rank=len(out) + 1, dense_score=h.dense_score if own else None,
                           bm25_score=h.bm25_score if own else None, dense_rank=h.dense_rank if own else None,
                           bm25_rank=h.bm25_rank if own else None, group=h.rank))
    return out
