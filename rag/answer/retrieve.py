"""Hybrid retrieval: FAISS dense search and BM25, fused by weighted reciprocal rank, filtered and de-duplicated."""
from __future__ import annotations

import re
import time
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Sequence

import numpy as np

from index.base import ChunkStore, RowFilter
from index.tokenize import neutral_tokens
from rag.answer.versions import collapse_versions
from rag.config import RetrievalSettings
from rag.errors import RagError
from rag.ingest.versions import LibraryVersions, resolve_versions
from rag.lang import detect_language
from rag.models.embed import Embedder
from rag.models.hubness import QueryCentroids, rerank_other_languages
from rag.models.lexicon import count_held, question_translations, search_terms
from rag.models.pinyin import with_pinyin_names
from rag.types import Chunk, Hit

MODES = ("dense", "bm25", "hybrid")  # report order: the single retrievers, then their fusion (the default)


@dataclass(frozen=True)
class Filters:
    """Restrict retrieval; each field is matched case-insensitively, `None` means no restriction."""

    docs: tuple[str, ...] = ()  # doc ids or symbols
    speaker: str | None = None  # matches the speaker or the delegation, by substring
    body: str | None = None
    language: str | None = None
    date_from: str | None = None  # the document's date, ISO (YYYY, YYYY-MM or YYYY-MM-DD), inclusive
    date_to: str | None = None

    def __bool__(self) -> bool:
        return bool(self.docs or self.speaker or self.body or self.language or self.date_from or self.date_to)


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


@lru_cache(maxsize=4096)
def _shape(s: str) -> tuple[str, frozenset[str]]:
    """A text without spaces and its character trigrams (cached: one search compares each hit with the others)."""
    n = _norm(s)
    return n, frozenset(n[i : i + 3] for i in range(len(n) - 2))


def _near_duplicate(a: str, b: str, threshold: float) -> bool:
    (na, ga), (nb, gb) = _shape(a), _shape(b)
    if na == nb or (min(len(na), len(nb)) > 20 and (na in nb or nb in na)):
        return True
    if not ga or not gb:
        return False
    return len(ga & gb) / len(ga | gb) >= threshold


class _Rows:
    """Chunks read from the store on demand during one search, each row once."""

    def __init__(self, store: ChunkStore) -> None:
        self.store = store
        self.cache: dict[int, Chunk] = {}
        self.doc_span: dict[str, tuple[int, int]] = {}

    def get(self, rows: list[int]) -> list[Chunk]:
        missing = [r for r in dict.fromkeys(rows) if r not in self.cache]
        if missing:
            self.cache.update(zip(missing, self.store.chunks(missing)))
        return [self.cache[r] for r in rows]

    def one(self, row: int) -> Chunk:
        return self.get([row])[0]

    def span(self, doc_id: str) -> tuple[int, int]:
        """First and last row of a document (its rows are contiguous: the ChunkStore contract)."""
        if doc_id not in self.doc_span:
            rows = self.store.doc_rows(doc_id)
            self.doc_span[doc_id] = (rows[0], rows[-1]) if rows else (0, -1)
        return self.doc_span[doc_id]


class Retriever:
    def __init__(self, index: ChunkStore, embedder: Embedder, settings: RetrievalSettings | None = None) -> None:
        self.index = index
        self.embedder = embedder
        self.settings = settings or RetrievalSettings()
        self.versions = LibraryVersions(index)  # documents with several language versions, aligned on demand
        self.centroids = QueryCentroids(embedder)  # each language's typical question, for `_dehub`

    def _language_aware(self, q_lang: str, query: str, order: list[int], where: RowFilter | None, rows: _Rows,
                        scores: dict[int, float], dense: Sequence[int] = ()) -> tuple[list[int], bool, bool]:
        """BM25 candidates where keywords can match: passages in the question's language by all its words;
        passages in other languages by its language-neutral tokens (numbers, acronyms, symbols) and, for an
        English or Chinese question, the translations of its words and phrases (`translation_groups`), scored
        (in `scores`, for rows not already there) by those tokens. Returns the ranked rows, whether all of them
        are in the question's language (their scores then compare with each other), and whether translations
        found any. `dense`: the dense candidates, where an English question's pinyin names are read."""
        same = [i for i, c in zip(order, rows.get(order)) if (c.language or q_lang) == q_lang]
        if same and len(same) == len(order):  # (no match at all: passages in other languages may still match)
            return order, True, False
        neutral = neutral_tokens(query)
        translated = translation_groups(query, q_lang, self.settings.translate_keywords)
        if self.settings.pinyin_names and q_lang == "en" and "en" in self.settings.translate_keywords:
            translated = with_pinyin_names(query, translated, (c.keyword_text() for c in rows.get(list(dense))
                                                               if (c.language or q_lang) != q_lang))
        words = search_terms(translated)
        if not neutral and not words:
            return same, True, False
        found = self.index.keyword_search(" ".join(neutral + words), self.settings.candidates, where)
        cross = [i for (i, _), c in zip(found, rows.get([i for i, _ in found])) if (c.language or q_lang) != q_lang]
        for i, sc in found:
            scores.setdefault(i, sc)
        if translated:
            cross = self._by_concepts(cross, [(t,) for t in neutral] + [ws for _, ws in translated], rows)
        # one ranked list: same-language matches by their full score first, then the matches across languages
        merged = same + [int(i) for i in cross if i not in set(same)]
        return merged, len(merged) == len(same), bool(translated) and len(merged) > len(same)

    def _dehub(self, found: list[tuple[int, float]], q_lang: str, rows: _Rows) -> list[tuple[int, float]]:
        """Dense candidates in other languages than the question's reordered by cosine less their cosine to the
        question language's typical question (rag.models.hubness; `settings.cross_language_centering`)."""
        alpha = self.settings.cross_language_centering
        if not alpha or not found:
            return found
        other = [(c.language or q_lang) != q_lang for c in rows.get([i for i, _ in found])]
        if sum(other) < 2:
            return found
        centroid = self.centroids.get(q_lang)
        if centroid is None:
            return found
        return rerank_other_languages(found, other, self.index.vectors([i for i, _ in found]), centroid, alpha)

    def _by_concepts(self, cands: list[int], concepts: list[tuple[str, ...]], rows: _Rows) -> list[int]:
        """Candidates matched by translated keywords, ordered by how many of the question's concepts (a word or
        phrase with its translations, a number, an acronym) they hold, BM25 order within a count; those holding
        fewer than `translated_min_concepts` dropped. BM25 alone ranks a passage that repeats one generic
        translation ("name": 名称) above one holding two specific ones."""
        s = self.settings
        if not s.translated_concepts:
            return cands
        # a sub-paragraph is read with its lead-in ("(a) 国际人道法……" under "专家组得出结论认为："), as it is embedded
        text = {i: f"{rows.one(i).context}\n{rows.one(i).keyword_text()}".lower() for i in cands}
        held = {i: count_held(concepts, text[i]) for i in cands}
        need = min(s.translated_min_concepts, len(concepts))
        return sorted((i for i in cands if held[i] >= need), key=lambda i: -held[i])

    def _allowed(self, where: RowFilter | None, chunk: Chunk) -> bool:
        return where is None or where.matches(chunk, self.index.docs.get(chunk.doc_id))

    def _unit_members(self, i: int, rows: _Rows, where: RowFilter | None = None,
                      taken: set[int] | None = None) -> list[int]:
        """Row ids of the passage that chunk `i` opens, in document order: its unit (lead-in and items, or the
        pieces of one paragraph) when at most `unit_chars` long, then neighbours in the same document, section and
        speaker turn up to `window_chars`; rows outside `where` (the filters) or already `taken` by a better
        passage never come along (a chunk is read once). Only the rows around `i` are read: a unit and a
        document's rows are contiguous."""
        c = rows.one(i)
        first, last = rows.span(c.doc_id)
        unit = [i]
        if c.unit:
            lo = i
            while lo - 1 >= first and rows.one(lo - 1).unit == c.unit:
                lo -= 1
            hi = i
            while hi + 1 <= last and rows.one(hi + 1).unit == c.unit:
                hi += 1
            unit = list(range(lo, hi + 1))
        taken = taken or set()
        members = [j for j in unit if j == i or (self._allowed(where, rows.one(j)) and j not in taken)]
        if len(members) > 1 and sum(len(rows.one(j).text) for j in members) > self.settings.unit_chars:
            members = [i]
        # Section window: the chunks that follow (then precede) in the same document and section come along
        # until `window_chars`, so a passage reads as much context as a peer's window but starts where it matched.
        size = sum(len(rows.one(j).text) for j in members)
        lo, hi = members[0], members[-1]
        while size < self.settings.window_chars:
            steps = (hi + 1, lo - 1) if self.settings.window_back else (hi + 1,)
            nxt = []
            for j in steps:
                if not first <= j <= last or j in taken:
                    continue
                d = rows.one(j)
                if (self._allowed(where, d) and d.headings == c.headings and d.speaker == c.speaker
                        and size + len(d.text) <= self.settings.window_chars):
                    nxt.append(j)
            if not nxt:
                break
            j = nxt[0]
            size += len(rows.one(j).text)
            lo, hi = min(lo, j), max(hi, j)
        if (lo, hi) == (members[0], members[-1]):
            return members
        return [j for j in range(lo, hi + 1) if j == i or j in members or j not in taken]

    def row_filter(self, filters: Filters) -> RowFilter | None:
        """The store's filter for `filters`, documents resolved to ids (RagError naming an unknown one)."""
        if not filters:
            return None
        docs = tuple(sorted({k for d in filters.docs for k in resolve_versions(self.index.docs, d)}))  # every version
        return RowFilter(doc_ids=docs, speaker=filters.speaker, body=filters.body, language=filters.language,
                         date_from=filters.date_from, date_to=filters.date_to)

    def search(self, query: str, k: int | None = None, filters: Filters = Filters(), mode: str = "hybrid") -> Retrieval:
        """The top `k` passages for `query`: dense and keyword candidates, fused, grown into passages.

        Args:
            query: the standalone question.
            k: passages wanted (default `settings.k`).
            filters: documents, speaker or delegation, body, language, dates; applied inside both searches.
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
        where = self.row_filter(filters)
        if self.index.size == 0:
            return Retrieval([], 0.0, query=query)
        t0 = time.perf_counter()
        q = self.embedder.embed_queries([query])[0]
        t1 = time.perf_counter()
        dense_found = self.index.dense_search(q, s.candidates, where)
        if not dense_found:  # nothing passes the filters
            return Retrieval([], 0.0, query=query)
        t2 = time.perf_counter()
        keyword_found = self.index.keyword_search(query, s.candidates, where) if mode != "dense" else []
        bm_order = [i for i, _ in keyword_found]
        bm_score = dict(keyword_found)
        t3 = time.perf_counter()
        rows = _Rows(self.index)
        q_lang = detect_language(query)
        # Keyword evidence counts only where it can match: a passage in the question's language. Across
        # languages BM25 matches only stray numbers and names, and fusing it ranked English questions over
        # Chinese text below dense search alone (UNPC dev, benchmarks/README.md).
        same_only = translated = False
        if mode == "hybrid" and s.same_language_keywords:
            bm_order, same_only, translated = self._language_aware(q_lang, query, bm_order, where, rows, bm_score,
                                                                   [i for i, _ in dense_found])
        dense = self._dehub(dense_found, q_lang, rows) if mode in ("hybrid", "dense") else []
        keyword = [(i, bm_score[i]) for i in bm_order] if mode in ("hybrid", "bm25") else []
        # A question in a language of `score_fusion_languages` whose keyword candidates are all in its language
        # fuses by score, not rank: rank fusion counts a cosine gap of 0.002 like one of 0.05 (settings say why).
        if mode == "hybrid" and same_only and keyword and q_lang in s.score_fusion_languages:
            fused, info = score_fuse(dense, keyword, s.score_fusion_dense)
        else:
            weight = s.translated_weight if translated else s.bm25_weight
            fused, info = rrf_fuse(dense, keyword, s.rrf_k, s.dense_weight, weight)
        # Versions of one paragraph in several languages are one hit: take enough passages to fill k after that.
        hits = self._passages(fused, info, q, k * self.versions.max_versions, where, rows)
        if self.versions.max_versions > 1:
            hits = collapse_versions(hits, self.versions.row, q_lang)[:k]
        dense_scores = [sc for _, sc in dense_found]
        confidence = float(dense_scores[0])
        timings = {"embed_ms": (t1 - t0) * 1e3, "dense_ms": (t2 - t1) * 1e3, "bm25_ms": (t3 - t2) * 1e3}
        return Retrieval(hits, confidence, [float(x) for x in dense_scores[:10]], q, timings, query)

    def _passages(self, fused: dict[int, float], info: dict[int, dict], q: np.ndarray, k: int,
                  where: RowFilter | None, rows: _Rows) -> list[Hit]:
        """The top `k` passages in fused order: near-duplicates skipped, each grown from its chunk (small-to-big)."""
        s = self.settings
        hits: list[Hit] = []
        taken: set[int] = set()
        for i in sorted(fused, key=lambda i: -fused[i]):
            if i in taken:
                continue
            chunk: Chunk = rows.one(i)
            if any(_near_duplicate(chunk.text, h.chunk.text, s.dedupe_threshold) for h in hits):
                continue
            # Small-to-big: the hit opens a passage made of its unit (a lead-in with its items) and its section
            # neighbours, each part keeping its own locator; what is in one passage is not ranked again.
            members = self._unit_members(i, rows, where, taken) if s.unit_chars or s.window_chars else [i]
            taken.update(members)
            d = info[i].get("dense")
            b = info[i].get("bm25")
            hits.append(Hit(
                chunk=chunk, score=fused[i], rank=len(hits) + 1,
                dense_score=float(d[1]) if d else float(self.index.vectors([i])[0] @ q),
                bm25_score=b[1] if b else None, dense_rank=d[0] if d else None, bm25_rank=b[0] if b else None,
                parts=rows.get(members) if len(members) > 1 else [],
            ))
            if len(hits) >= k:
                break
        return hits


def translation_groups(query: str, q_lang: str, languages: tuple[str, ...]) -> list[tuple[str, tuple[str, ...]]]:
    """The words and phrases of an English question with their Chinese translations, or of a Chinese question
    with their English glosses (rag.models.lexicon), for keyword search across the two; [] for a question in
    another language, or when `languages` (the setting) leaves its language out."""
    return list(question_translations(query, q_lang)) if q_lang in languages else []


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


def score_fuse(dense: list[tuple[int, float]], keyword: list[tuple[int, float]],
               dense_share: float) -> tuple[dict[int, float], dict[int, dict]]:
    """Convex combination of the two lists' scores, each min-max normalised over its candidates (best 1, worst
    0; a candidate missing from a list gets 0 from it; a list of equal scores gives each 1).

    Args:
        dense: (row, cosine) in dense rank order.
        keyword: (row, BM25 score) in keyword rank order; its scores must compare (one language).
        dense_share: weight of the dense list; the keyword list gets 1 - dense_share.
    Returns:
        (row -> fused score in [0, 1], row -> {"dense": (rank, cosine), "bm25": (rank, score)}) as `rrf_fuse`.
    """
    fused: dict[int, float] = {}
    info: dict[int, dict] = {}
    for found, weight, name in ((dense, dense_share, "dense"), (keyword, 1.0 - dense_share, "bm25")):
        if not found:
            continue
        lo, hi = min(sc for _, sc in found), max(sc for _, sc in found)
        for r, (i, sc) in enumerate(found, 1):
            fused[i] = fused.get(i, 0.0) + weight * ((sc - lo) / (hi - lo) if hi > lo else 1.0)
            info.setdefault(i, {})[name] = (r, sc)
    return fused, info


def expand_hits(hits: list[Hit], window_passages: int = 0) -> list[Hit]:
    """The parts the generator numbers and cites: each passage's matched chunk with its unit (a lead-in and its
    items), in passage order then document order, so every citation points at one exact locator (`¶21(c)`).
    Section-window neighbours stay in `Answer.retrieved` for the reader but out of the prompt: with them the
    local model's prompt grew from 5 to 26 numbered passages on the seed questions.

    Args:
        hits: ranked passages from `Retriever.search`.
        window_passages: the first this many passages keep their section-window neighbours too (each numbered on
            its own, so a sentence quoted from a neighbour is cited to the neighbour's locator).

    Returns:
        Hits whose `group` is the rank of the passage they come from.
    """
    out: list[Hit] = []
    for r, h in enumerate(hits, 1):
        unit = h.chunk.unit
        whole = r <= window_passages
        for c in [p for p in h.parts if whole or p is h.chunk or (unit and p.unit == unit)] or [h.chunk]:
            own = c is h.chunk
            out.append(Hit(chunk=c, score=h.score, rank=len(out) + 1, dense_score=h.dense_score if own else None,
                           bm25_score=h.bm25_score if own else None, dense_rank=h.dense_rank if own else None,
                           bm25_rank=h.bm25_rank if own else None, group=h.rank))
    return out
