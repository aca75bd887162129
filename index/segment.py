"""One immutable segment of the FAISS store: vectors (.npy, memory-mapped), a FAISS index, BM25 posting lists,
per-row filter columns, and chunks and document texts in SQLite, read on demand.

A segment holds whole documents, each on contiguous rows; its rows are `base .. base + size - 1` of the store.
It never changes once written: removing a document only drops it from the next manifest (its rows become
deleted), and `rag compact` writes the live documents into a new segment.
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import faiss
import numpy as np

from index.base import RowFilter, check_vectors
from index.dense import RERANK, DenseIndex
from index.postings import Postings, build_postings
from rag.types import Chunk, DocMeta

# A filtered search scores up to this many allowed rows exactly from the memory-mapped vectors (a few ms), as
# the store always did; past it FAISS searches the segment's index with the filter as an ID selector.
EXACT_FILTERED_MAX = 20_000
CHUNKS_DB = "chunks.sqlite"


@dataclass
class NewDoc:
    """A document to write into a segment."""

    meta: DocMeta
    text: str
    chunks: list[Chunk]
    vectors: np.ndarray  # (len(chunks), dim) float32


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_segment(path: Path, docs: Iterable[NewDoc], size: int, dim: int, step: Callable[[str], None],
                  dense_kind: str = "auto") -> dict:
    """Write a segment of `size` rows from `docs` (streamed: one document in memory at a time) into `path`.

    Args:
        path: a new, empty directory (the writer renames it into place afterwards).
        docs: the documents, in row order; their chunk counts sum to `size`.
        size: number of rows.
        dim: vector dimension.
        step: called after each file with the commit step's name (the kill-test hook).
        dense_kind: index.dense kind ("auto" chooses by size).
    Returns:
        {"size", "dense_kind", "docs": [[doc_id, first local row, end local row], ...]}.
    """
    db = sqlite3.connect(path / CHUNKS_DB)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("CREATE TABLE chunks (local INTEGER PRIMARY KEY, data TEXT NOT NULL)")
    db.execute("CREATE TABLE texts (doc_id TEXT PRIMARY KEY, text TEXT NOT NULL)")
    vectors = np.lib.format.open_memmap(path / "vectors.npy", mode="w+", dtype=np.float32, shape=(size, dim))
    tables: dict[str, dict[tuple | str, int]] = {"speakers": {}, "bodies": {}, "langs": {}}
    columns = {n: np.zeros(size, np.int32) for n in ("doc_ix", "speaker_ix", "body_ix", "lang_ix")}
    placed: list[list] = []
    keyword_texts: list[str] = []
    at = 0
    for doc in docs:
        n = len(doc.chunks)
        check_vectors(doc.vectors, n, dim)
        db.executemany("INSERT INTO chunks VALUES (?, ?)",
                       ((at + j, json.dumps(c.to_dict(), ensure_ascii=False)) for j, c in enumerate(doc.chunks)))
        db.execute("INSERT INTO texts VALUES (?, ?)", (doc.meta.doc_id, doc.text))
        vectors[at : at + n] = doc.vectors
        columns["doc_ix"][at : at + n] = len(placed)
        for j, c in enumerate(doc.chunks):
            columns["speaker_ix"][at + j] = tables["speakers"].setdefault((c.speaker or "", c.delegation or ""),
                                                                         len(tables["speakers"]))
            columns["body_ix"][at + j] = tables["bodies"].setdefault(c.body or "", len(tables["bodies"]))
            columns["lang_ix"][at + j] = tables["langs"].setdefault(c.language or "", len(tables["langs"]))
            keyword_texts.append(c.keyword_text())
        placed.append([doc.meta.doc_id, at, at + n])
        at += n
    if at != size:
        raise ValueError(f"segment declared {size} rows, got {at}")
    db.commit()
    step("chunks")
    db.close()
    _fsync_file(path / CHUNKS_DB)
    step("texts")
    vectors.flush()
    del vectors
    _fsync_file(path / "vectors.npy")
    step("embeddings")
    dense = DenseIndex.build(np.load(path / "vectors.npy", mmap_mode="r"), dim, kind=dense_kind)
    dense.save(path / "dense.faiss")
    step("dense")
    build_postings(keyword_texts, path / "bm25")
    for name, col in columns.items():
        np.save(path / f"{name}.npy", col)
    info = {"size": size, "dense_kind": dense.kind, "docs": placed,
            "speakers": [list(k) for k in tables["speakers"]], "bodies": list(tables["bodies"]),
            "langs": list(tables["langs"])}
    (path / "segment.json").write_text(json.dumps(info, ensure_ascii=False), encoding="utf-8")
    for p in [*path.iterdir(), *(path / "bm25").iterdir()]:
        if p.is_file():
            _fsync_file(p)
    fsync_dir(path / "bm25")
    fsync_dir(path)
    step("bm25")
    return {"size": size, "dense_kind": dense.kind, "docs": placed}


class Segment:
    """A loaded segment: every file memory-mapped or opened once; chunks read from SQLite when asked for."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = path.name
        info = json.loads((path / "segment.json").read_text(encoding="utf-8"))
        self.size: int = info["size"]
        self.doc_ids: list[str] = [d for d, _, _ in info["docs"]]
        self.speakers: list[tuple[str, str]] = [tuple(x) for x in info["speakers"]]
        self.bodies: list[str] = info["bodies"]
        self.langs: list[str] = info["langs"]
        self.vectors = np.load(path / "vectors.npy", mmap_mode="r")
        self.dense = DenseIndex.load(path / "dense.faiss", mmap=True)
        self.postings = Postings.load(path / "bm25")
        self.columns = {n: np.load(path / f"{n}.npy", mmap_mode="r")
                        for n in ("doc_ix", "speaker_ix", "body_ix", "lang_ix")}
        # One read-only connection shared by the UI's threads, one query at a time (each takes microseconds).
        self._db = sqlite3.connect(f"file:{path / CHUNKS_DB}?mode=ro&immutable=1", uri=True,
                                   check_same_thread=False)
        self._lock = threading.Lock()

    def chunks(self, local: list[int]) -> list[Chunk]:
        """The chunks at local rows `local`, in that order."""
        found: dict[int, Chunk] = {}
        uniq = sorted(set(local))
        with self._lock:
            for i in range(0, len(uniq), 900):  # SQLite's limit on bound parameters
                part = uniq[i : i + 900]
                marks = ",".join("?" * len(part))
                for r, data in self._db.execute(f"SELECT local, data FROM chunks WHERE local IN ({marks})", part):
                    found[r] = Chunk.from_dict(json.loads(data))
        return [found[r] for r in local]

    def chunk_range(self, lo: int, hi: int) -> Iterator[tuple[int, Chunk]]:
        """(local row, chunk) for local rows lo..hi-1, in order."""
        with self._lock:
            rows = self._db.execute("SELECT local, data FROM chunks WHERE local >= ? AND local < ? ORDER BY local",
                                    (lo, hi)).fetchall()
        for r, data in rows:
            yield r, Chunk.from_dict(json.loads(data))

    def text(self, doc_id: str) -> str:
        with self._lock:
            row = self._db.execute("SELECT text FROM texts WHERE doc_id = ?", (doc_id,)).fetchone()
        return row[0] if row else ""

    def mask(self, where: RowFilter | None, docs: dict[str, DocMeta], live: np.ndarray | None) -> np.ndarray | None:
        """Rows that are live and pass `where` (None: all rows), from the per-row columns: no chunk is read."""
        parts = [] if live is None else [live]
        if where:
            if where.doc_ids or where.date_from or where.date_to:
                ok = np.array([d in docs and where.doc_ok(docs[d]) for d in self.doc_ids] or [False])
                parts.append(ok[self.columns["doc_ix"]])
            if where.speaker:
                sp = where.speaker.lower()
                ok = np.array([sp in a.lower() or sp in b.lower() for a, b in self.speakers] or [False])
                parts.append(ok[self.columns["speaker_ix"]])
            if where.body:
                ok = np.array([where.body.lower() in b.lower() for b in self.bodies] or [False])
                parts.append(ok[self.columns["body_ix"]])
            if where.language:
                ok = np.array([x.lower() == where.language.lower() for x in self.langs] or [False])
                parts.append(ok[self.columns["lang_ix"]])
        if not parts:
            return None
        out = parts[0].copy()
        for p in parts[1:]:
            out &= p
        return out

    def _index_search(self, q: np.ndarray, k: int, sel: faiss.IDSelector | None) -> tuple[np.ndarray, np.ndarray]:
        if not self.dense.approximate_scores:
            scores, ids = self.dense.search(q[None, :], k, sel=sel)
            keep = ids[0] >= 0
            return ids[0][keep], scores[0][keep]
        # Large-index mode: candidates from the quantised graph, re-scored exactly from the float32 vectors.
        _, ids = self.dense.search(q[None, :], max(k, RERANK), sel=sel)
        cand = np.sort(ids[0][ids[0] >= 0])  # ascending rows: the memory-mapped reads go forward
        sims = np.asarray(self.vectors[cand]) @ q
        order = np.argsort(-sims, kind="stable")[:k]
        return cand[order], sims[order]

    def dense_search(self, q: np.ndarray, k: int, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """(local rows, cosines) of the best `k` rows within `allowed`, best first."""
        if allowed is None:
            return self._index_search(q, k, None)
        rows = np.flatnonzero(allowed)
        if not len(rows):
            return rows, np.zeros(0, np.float32)
        if len(rows) <= EXACT_FILTERED_MAX:
            sims = np.asarray(self.vectors[rows]) @ q  # exact, as small filtered subsets need no ANN
            order = np.argsort(-sims)[:k]
            return rows[order], sims[order]
        bitmap = np.packbits(allowed, bitorder="little")
        return self._index_search(q, k, faiss.IDSelectorBitmap(len(allowed), faiss.swig_ptr(bitmap)))


# Segments never change: versions that share one share its loaded form (a new version loads only new segments).
_LOADED: "weakref.WeakValueDictionary[str, Segment]" = weakref.WeakValueDictionary()
_LOADED_LOCK = threading.Lock()


def load_segment(path: Path) -> Segment:
    """The segment at `path`, loaded once per process while any store version uses it."""
    key = str(path.resolve())
    with _LOADED_LOCK:
        seg = _LOADED.get(key)
        if seg is None:
            seg = Segment(path)
            _LOADED[key] = seg
        return seg
