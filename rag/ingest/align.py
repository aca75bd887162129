"""Paragraph alignment of two language versions: by locator where both are numbered, else by order, length and
embedding similarity on one monotonic path (Gale–Church moves, with a cross-lingual cosine term)."""
from __future__ import annotations

import math
import re
from bisect import bisect_left
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from rag.types import Chunk

UNNUMBERED = "front matter"  # the structure parser's locator for text before (or without) any numbering

# Gale & Church (1993) priors of the alignment moves, as log probabilities: 1-1 0.89, 1-0/0-1 0.0099 (each),
# 2-1/1-2 0.089 (each). Kept as published: they are about how translators work, not about one corpus.
MOVES: dict[tuple[int, int], float] = {(1, 1): math.log(0.89), (1, 0): math.log(0.0099), (0, 1): math.log(0.0099),
                                       (2, 1): math.log(0.089), (1, 2): math.log(0.089)}
# Variance per character of the length difference (Gale & Church's s² = 6.8), in units of the expected length.
LENGTH_VARIANCE = 6.8
# Cosine term: (cos - COS_MID) * COS_SCALE. With multilingual-e5-small, an English paragraph and its Chinese
# translation have cosine p05/p50/p95 0.819/0.859/0.900 and other paragraphs of the same document 0.732/0.786/0.835
# (UNPC dev half, 2,023 pairs, benchmarks/retrieval.py --sets unpc-bi); 0.82, between the medians, is neutral, and
# 40 makes the median pair worth +1.6 and the median non-pair -1.4, as much as a typical length mismatch.
COS_MID = 0.82
COS_SCALE = 40.0
LOCATOR_BONUS = 4.0  # the same numbered locator in both: the numbering is the translator's own alignment
# A pair joined by its locator is at least sigmoid(LOCATOR_BONUS - LOCATOR_BONUS / 2) = 0.88 sure: length and cosine
# can raise that (a true pair reaches 0.99) but not sink it, since the numbering is the stronger evidence.
CONFIDENT = 0.5  # pairs below this confidence are flagged (listed by `rag show --lang`, counted at ingest)
FULL_DP_CELLS = 40_000  # above this many (n × m) cells the path search keeps to a band around the diagonal
BAND = 60

_LABEL = re.compile(r"\s*\(([^)]*)\)")
_ITEM = re.compile(r"^(?:[a-z]{1,2}|[ivxlc]+|\d{1,3})$", re.I)


def locator_key(locator: str) -> str:
    """A locator as both versions write it: item labels kept (`¶21(c)`), word labels dropped
    (`operative 1 (责成秘书长)` and `operative 1 (requests)` are both `operative 1`)."""
    return _LABEL.sub(lambda m: m.group(0) if _ITEM.match(m.group(1).strip()) else "", locator).strip()


def is_numbered(locator: str) -> bool:
    """Whether a locator comes from the document's own numbering (not the parser's `front matter`)."""
    return bool(locator) and locator != UNNUMBERED


@dataclass
class Segment:
    """One paragraph of a version: the chunks (pieces of one paragraph) that carry one locator, in order."""

    chunk_ids: list[str]
    locator: str
    text: str
    vector: np.ndarray  # normalised mean of the chunks' vectors

    @property
    def length(self) -> int:
        return len(re.sub(r"\s+", "", self.text))


@dataclass
class Link:
    """How segments of the pivot version and of another version were paired.

    `a` and `b` are segment indices (one side empty: a paragraph with no counterpart, flagged).
    """

    a: list[int]
    b: list[int]
    method: str  # "locator", "length+similarity", or "unaligned"
    confidence: float  # 0..1; 0 for unaligned
    cosine: float | None = None

    @property
    def flagged(self) -> bool:
        return not self.a or not self.b or self.confidence < CONFIDENT


@dataclass
class Alignment:
    """The links between two versions, in document order, and a summary of how they were made."""

    links: list[Link] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out = {"locator": 0, "length+similarity": 0, "unaligned": 0, "flagged": 0}
        for link in self.links:
            out[link.method] += 1
            out["flagged"] += link.flagged
        return out


def segments(chunks: Sequence[Chunk], vectors: np.ndarray, text: str | None = None) -> list[Segment]:
    """The paragraphs of one version from its chunks: consecutive pieces of one paragraph (same locator, no line
    break between their spans in the cleaned `text`) form one segment.

    Args:
        chunks: the version's chunks in document order.
        vectors: their stored vectors, row-aligned.
        text: the version's cleaned text (chunk spans index into it); without it every chunk is a segment.
    Returns:
        The segments in document order.
    """
    out: list[Segment] = []
    groups: list[list[int]] = []
    for i, c in enumerate(chunks):
        if groups:
            p = chunks[groups[-1][-1]]
            gap = text[p.end : c.start] if text is not None and p.end <= c.start else "\n"
            if p.locator == c.locator and p.unit == c.unit and "\n" not in gap:
                groups[-1].append(i)
                continue
        groups.append([i])
    for g in groups:
        first, last = chunks[g[0]], chunks[g[-1]]
        body = text[first.start : last.end] if text is not None and len(g) > 1 else " ".join(chunks[i].text for i in g)
        v = np.asarray(vectors[g], np.float32).sum(axis=0)
        n = float(np.linalg.norm(v))
        out.append(Segment([chunks[i].chunk_id for i in g], first.locator, body, v / n if n else v))
    return out


def _length_logp(la: int, lb: int, ratio: float) -> float:
    """log P(length pair) under Gale–Church: the difference from the expected length, normal in its units."""
    expected = ratio * la
    if la == 0 and lb == 0:
        return 0.0
    delta = (lb - expected) / math.sqrt(LENGTH_VARIANCE * max(expected, 1.0))
    p = math.erfc(abs(delta) / math.sqrt(2))  # 2 (1 - Φ(|δ|))
    return max(math.log(p), -20.0) if p > 0 else -20.0


def _anchors(a: list[Segment], b: list[Segment]) -> list[tuple[int, int]]:
    """Segment pairs with the same numbered locator (same occurrence, same count in both), longest monotonic chain."""
    def occ(segs: list[Segment]) -> dict[str, list[int]]:
        d: dict[str, list[int]] = {}
        for i, s in enumerate(segs):
            if is_numbered(s.locator):
                d.setdefault(locator_key(s.locator), []).append(i)
        return d

    oa, ob = occ(a), occ(b)
    pairs = sorted((i, j) for key, ia in oa.items() if len(ia) == len(ob.get(key, ())) for i, j in zip(ia, ob[key]))
    # longest chain increasing in both (patience sorting on b, pairs already sorted by a)
    tails: list[int] = []
    tail_idx: list[int] = []
    prev = [-1] * len(pairs)
    for n, (_, j) in enumerate(pairs):
        k = bisect_left(tails, j)
        if k == len(tails):
            tails.append(j)
            tail_idx.append(n)
        else:
            tails[k], tail_idx[k] = j, n
        prev[n] = tail_idx[k - 1] if k else -1
    chain, n = [], tail_idx[-1] if tail_idx else -1
    while n >= 0:
        chain.append(pairs[n])
        n = prev[n]
    return chain[::-1]


class _Scorer:
    """Pair evidence from precomputed cosines, lengths and locator keys (the path search asks for it per cell)."""

    def __init__(self, a: list[Segment], b: list[Segment], ratio: float) -> None:
        self.a, self.b, self.ratio = a, b, ratio
        va = np.stack([s.vector for s in a]) if a else np.zeros((0, 1), np.float32)
        vb = np.stack([s.vector for s in b]) if b else np.zeros((0, 1), np.float32)
        self.cos = (va @ vb.T).astype(np.float64) if a and b else None
        # |v_i + v_(i+1)| of unit vectors, for the cosine of two merged neighbours without re-summing
        self.norm_a = np.sqrt(np.maximum(2 + 2 * np.sum(va[:-1] * va[1:], axis=1), 1e-12)) if len(a) > 1 else None
        self.norm_b = np.sqrt(np.maximum(2 + 2 * np.sum(vb[:-1] * vb[1:], axis=1), 1e-12)) if len(b) > 1 else None
        self.len_a = [s.length for s in a]
        self.len_b = [s.length for s in b]
        self.loc_a = [locator_key(s.locator) if is_numbered(s.locator) else None for s in a]
        self.loc_b = [locator_key(s.locator) if is_numbered(s.locator) else None for s in b]

    def cosine(self, ia: list[int], ib: list[int]) -> float:
        assert self.cos is not None
        if len(ia) == 1 and len(ib) == 1:
            return float(self.cos[ia[0], ib[0]])
        if len(ia) == 2 and len(ib) == 1:
            return float((self.cos[ia[0], ib[0]] + self.cos[ia[1], ib[0]]) / self.norm_a[ia[0]])
        if len(ia) == 1 and len(ib) == 2:
            return float((self.cos[ia[0], ib[0]] + self.cos[ia[0], ib[1]]) / self.norm_b[ib[0]])
        va = np.sum([self.a[i].vector for i in ia], axis=0)
        vb = np.sum([self.b[j].vector for j in ib], axis=0)
        return float(va @ vb / max(float(np.linalg.norm(va) * np.linalg.norm(vb)), 1e-9))

    def evidence(self, ia: list[int], ib: list[int]) -> tuple[float, float]:
        """(evidence that ia and ib translate each other, cosine): cosine, length and locator terms."""
        cos = self.cosine(ia, ib)
        la = sum(self.len_a[i] for i in ia)
        lb = sum(self.len_b[j] for j in ib)
        ev = (cos - COS_MID) * COS_SCALE + _length_logp(la, lb, self.ratio)
        la_loc = {self.loc_a[i] for i in ia} - {None}
        lb_loc = {self.loc_b[j] for j in ib} - {None}
        if la_loc and lb_loc:
            ev = LOCATOR_BONUS + max(ev, -LOCATOR_BONUS / 2) if la_loc & lb_loc else ev - LOCATOR_BONUS
        return ev, cos


_RANGES = {1: lambda k: [k], 2: lambda k: [k, k + 1]}


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(x, 50.0), -50.0)))


def _path(sc: _Scorer, a0: int, a1: int, b0: int, b1: int) -> list[Link]:
    """Best monotonic path over a[a0:a1] × b[b0:b1] with the Gale–Church moves."""
    n, m = a1 - a0, b1 - b0
    if n == 0 or m == 0:
        return [Link([a0 + i], [], "unaligned", 0.0) for i in range(n)] + \
               [Link([], [b0 + j], "unaligned", 0.0) for j in range(m)]
    banded = n * m > FULL_DP_CELLS
    neg = -1e18
    best = np.full((n + 1, m + 1), neg)
    back: dict[tuple[int, int], tuple[int, int, float]] = {}
    best[0, 0] = 0.0
    for i in range(n + 1):
        centre = i * m / n
        lo, hi = (max(0, int(centre) - BAND), min(m, int(centre) + BAND + 1)) if banded else (0, m)
        for j in range(lo, hi + 1):
            if i == 0 and j == 0:
                continue
            top, arg = neg, None
            for (di, dj), prior in MOVES.items():
                pi, pj = i - di, j - dj
                if pi < 0 or pj < 0 or best[pi, pj] <= neg / 2:
                    continue
                ev = 0.0
                if di and dj:
                    ev, _ = sc.evidence(_RANGES[di](a0 + pi), _RANGES[dj](b0 + pj))
                v = best[pi, pj] + prior + ev
                if v > top:
                    top, arg = v, (di, dj, ev)
            if arg is not None:
                best[i, j] = top
                back[(i, j)] = arg
    links: list[Link] = []
    i, j = n, m
    while (i, j) != (0, 0):
        di, dj, ev = back[(i, j)]
        ia, ib = list(range(a0 + i - di, a0 + i)), list(range(b0 + j - dj, b0 + j))
        if di and dj:
            cos = sc.cosine(ia, ib)
            method = "locator" if _same_numbered(sc, ia, ib) else "length+similarity"
            links.append(Link(ia, ib, method, round(_sigmoid(ev), 4), round(cos, 4)))
        else:
            links.append(Link(ia, ib, "unaligned", 0.0))
        i, j = i - di, j - dj
    return links[::-1]


def _same_numbered(sc: _Scorer, ia: list[int], ib: list[int]) -> bool:
    return bool(({sc.loc_a[i] for i in ia} - {None}) & ({sc.loc_b[j] for j in ib} - {None}))


def align(a: list[Segment], b: list[Segment]) -> Alignment:
    """Align two versions' segments: numbered locators first (longest monotonic chain of matching ones), the
    stretches between them by the best monotonic path of Gale–Church moves scored by length and cosine.

    Args:
        a: the pivot version's segments, in order.
        b: the other version's segments, in order.
    Returns:
        An `Alignment` covering every segment of both, in document order.
    """
    la, lb = sum(s.length for s in a), sum(s.length for s in b)
    ratio = lb / la if la and lb else 1.0  # characters of b per character of a, over the whole document
    sc = _Scorer(a, b, ratio)
    out = Alignment()
    pa = pb = 0
    for i, j in _anchors(a, b) + [(len(a), len(b))]:
        out.links.extend(_path(sc, pa, i, pb, j))
        if i < len(a) and j < len(b):
            ev, cos = sc.evidence([i], [j])
            out.links.append(Link([i], [j], "locator", round(_sigmoid(ev), 4), round(cos, 4)))
        pa, pb = i + 1, j + 1
    return out
