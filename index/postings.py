"""BM25 over posting lists, one per immutable segment, memory-mapped; top-k scores only the chunks a token is in.

Each segment stores, per token, the local rows that hold it and how often (CSR: indptr, rows, tfs), and each
row's length. Scores are computed at query time from collection-wide statistics summed over the live segments
(number of rows, document frequency, total length; rows of removed documents count until `rag compact`, as in
Lucene), so scores do not depend on how documents are spread over segments. The formula is bm25s' default
("lucene": idf = ln(1 + (N - df + 0.5) / (df + 0.5)), tf / (tf + k1 (1 - b + b dl / avgdl)), k1 1.5, b 0.75), so a
single segment ranks exactly as index.keyword (bm25s) scoring every chunk (tests/index/test_segments.py).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.tokenize import tokenize

K1 = 1.5  # bm25s' defaults, which the project used since its first index
B = 0.75
EMPTY_TOKEN = "\u2205"  # a chunk without tokens keeps length 1, as in index.keyword


def tokens_of(text: str) -> list[str]:
    """The BM25 tokens of a chunk's keyword text (a placeholder for none, as index.keyword does)."""
    return tokenize(text) or [EMPTY_TOKEN]


def build_postings(texts: list[str], path: Path) -> None:
    """Write the posting lists of `texts` (local rows 0..n-1) under `path`: vocab.json, indptr/rows/tfs/lengths.npy.

    Args:
        texts: each chunk's keyword text, in row order.
        path: an empty directory.
    """
    vocab: dict[str, int] = {}
    toks_parts: list[np.ndarray] = []
    tfs_parts: list[np.ndarray] = []
    rows_parts: list[np.ndarray] = []
    lengths = np.zeros(len(texts), np.float32)
    for row, text in enumerate(texts):  # numpy per row: a million rows never become Python ints per posting
        ids = np.fromiter((vocab.setdefault(t, len(vocab)) for t in tokens_of(text)), np.int32)
        lengths[row] = len(ids)
        uniq, counts = np.unique(ids, return_counts=True)
        toks_parts.append(uniq)
        tfs_parts.append(counts.astype(np.float32))
        rows_parts.append(np.full(len(uniq), row, np.int32))
    tok = np.concatenate(toks_parts) if toks_parts else np.zeros(0, np.int32)
    order = np.argsort(tok, kind="stable")  # by token, rows ascending within a token
    indptr = np.zeros(len(vocab) + 1, np.int64)
    np.cumsum(np.bincount(tok, minlength=len(vocab)), out=indptr[1:])
    all_rows = np.concatenate(rows_parts) if rows_parts else np.zeros(0, np.int32)
    all_tfs = np.concatenate(tfs_parts) if tfs_parts else np.zeros(0, np.float32)
    path.mkdir(parents=True, exist_ok=True)
    np.save(path / "indptr.npy", indptr)
    np.save(path / "rows.npy", all_rows[order])
    np.save(path / "tfs.npy", all_tfs[order])
    np.save(path / "lengths.npy", lengths)
    (path / "vocab.json").write_text(json.dumps(list(vocab), ensure_ascii=False), encoding="utf-8")


@dataclass
class Postings:
    """One segment's posting lists, memory-mapped."""

    vocab: dict[str, int]
    indptr: np.ndarray
    rows: np.ndarray
    tfs: np.ndarray
    lengths: np.ndarray

    @classmethod
    def load(cls, path: Path) -> "Postings":
        tokens = json.loads((path / "vocab.json").read_text(encoding="utf-8"))
        mm = {n: np.load(path / f"{n}.npy", mmap_mode="r") for n in ("indptr", "rows", "tfs", "lengths")}
        return cls({t: i for i, t in enumerate(tokens)}, **mm)

    @property
    def size(self) -> int:
        return len(self.lengths)

    def __post_init__(self) -> None:
        self.total_length = float(self.lengths.sum(dtype=np.float64))  # once: every query needs it

    def df(self, token: str) -> int:
        tid = self.vocab.get(token)
        return 0 if tid is None else int(self.indptr[tid + 1] - self.indptr[tid])

    def top(self, tokens: list[str], idf: dict[str, float], avgdl: float, k: int,
            allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """(local rows, scores) of the best `k` rows for `tokens` within `allowed` (a bool mask), best first.

        Only the rows in the tokens' posting lists are scored; ties go to the lower row.
        """
        ids, weights = [], []
        for t in tokens:  # a repeated query token counts each time, as in bm25s
            tid = self.vocab.get(t)
            if tid is None:
                continue
            lo, hi = int(self.indptr[tid]), int(self.indptr[tid + 1])
            rows = np.asarray(self.rows[lo:hi])
            tf = np.asarray(self.tfs[lo:hi])
            dl = np.asarray(self.lengths[rows])
            ids.append(rows)
            weights.append(np.float32(idf[t]) * (tf / (tf + np.float32(K1) * (np.float32(1 - B)
                                                                                + np.float32(B) * dl / np.float32(avgdl)))))
        if not ids:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        rows = np.concatenate(ids)
        w = np.concatenate(weights).astype(np.float32)
        if allowed is not None:
            keep = allowed[rows]
            rows, w = rows[keep], w[keep]
        if not len(rows):
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        if len(rows) * 8 > self.size:  # many postings: a dense accumulator is cheaper than sorting them
            acc = np.bincount(rows, weights=w, minlength=self.size).astype(np.float32)
            cand = np.flatnonzero(acc > 0)
            scores = acc[cand]
        else:
            cand, inv = np.unique(rows, return_inverse=True)
            scores = np.bincount(inv, weights=w).astype(np.float32)
        if len(cand) > k:  # cand ascends: among rows tied at the k-th score the lower ones are kept
            kth = -np.partition(-scores, k - 1)[k - 1]
            above = scores > kth
            tied = np.flatnonzero(scores == kth)[: k - int(above.sum())]
            keep = np.union1d(np.flatnonzero(above), tied)
            cand, scores = cand[keep], scores[keep]
        order = np.lexsort((cand, -scores))
        return cand[order].astype(np.int64), scores[order]


def idf_of(tokens: list[str], segments: list[Postings]) -> tuple[dict[str, float], float]:
    """Collection-wide idf of each token and the average row length, over `segments`."""
    n = sum(s.size for s in segments)
    total = sum(s.total_length for s in segments)
    idf = {}
    for t in set(tokens):
        df = sum(s.df(t) for s in segments)
        if df:
            idf[t] = float(np.log(1 + (n - df + 0.5) / (df + 0.5)))
    return idf, (total / n if n else 1.0)
