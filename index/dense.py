"""Dense vector index over FAISS: exact inner product for small collections, HNSW past a measured size."""
from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

# Exact search of 384-d vectors costs ~6-9 ms per query at 100k vectors and ~11 ms at 200k on 2 cores
# (benchmarks/dense_index.py); past 100k HNSW answers in ~2 ms. efSearch 512 keeps recall@10 at 0.995 (100k)
# and 0.974 (200k) on e5-like vectors, where 128 gave only 0.91 / 0.84.
HNSW_THRESHOLD = 100_000
HNSW_M = 32
HNSW_EF_SEARCH = 512
# Large-index mode: past LARGE_THRESHOLD rows a segment's graph is built over 8-bit scalar-quantised vectors
# (a quarter of the float32 size: 1M x 384-d is 384 MB, not 1.5 GB), and the best RERANK candidates it finds are
# re-scored exactly from the memory-mapped float32 vectors, so scores are exact cosines and recall@10 stays
# >= 0.98 against exact search (tests/index/test_large_mode.py; benchmarks/scale.py records the figures).
LARGE_THRESHOLD = 200_000
LARGE_EF_CONSTRUCTION = 80  # build time grows with it; 80 already gives the recall above after re-ranking
RERANK = 100
# One question is one query: OpenMP threads only add barrier costs to it. On the busy 2-core machine a query
# over 10k flat vectors took 15 ms with 2 threads and 2.4 ms with 1 (benchmarks/scale.py). The setting is
# per OS thread in OpenMP, so searches use 1 and builds the threads the process started with.
SEARCH_THREADS = 1
BUILD_THREADS = faiss.omp_get_max_threads()


class DenseIndex:
    def __init__(self, index: faiss.Index) -> None:
        self.index = index

    @property
    def kind(self) -> str:
        if isinstance(self.index, faiss.IndexHNSWSQ):
            return "hnsw-sq8"
        return "hnsw" if isinstance(self.index, faiss.IndexHNSWFlat) else "flat"

    @property
    def approximate_scores(self) -> bool:
        """Whether the scores it returns are not exact cosines (the caller re-ranks its candidates exactly)."""
        return self.kind == "hnsw-sq8"

    @property
    def size(self) -> int:
        return int(self.index.ntotal)

    @classmethod
    def build(cls, vectors: np.ndarray, dim: int, kind: str = "auto") -> "DenseIndex":
        faiss.omp_set_num_threads(BUILD_THREADS)
        if kind == "auto":
            kind = "hnsw-sq8" if len(vectors) >= LARGE_THRESHOLD else "hnsw" if len(vectors) >= HNSW_THRESHOLD else "flat"
        if kind == "hnsw-sq8":
            return cls._build_sq8(vectors, dim)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if kind == "flat":
            index: faiss.Index = faiss.IndexFlatIP(dim)
        elif kind == "hnsw":
            index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = 200
            index.hnsw.efSearch = HNSW_EF_SEARCH
        else:
            raise ValueError(f"unknown dense index kind {kind!r}; choose one of: auto, flat, hnsw, hnsw-sq8")
        if len(vectors):
            index.add(vectors)
        return cls(index)

    @classmethod
    def _build_sq8(cls, vectors: np.ndarray, dim: int) -> "DenseIndex":
        index = faiss.IndexHNSWSQ(dim, faiss.ScalarQuantizer.QT_8bit, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = LARGE_EF_CONSTRUCTION
        # The quantiser's per-dimension ranges from a sample: 8-bit codes need only min and max.
        step = max(1, len(vectors) // 100_000)
        index.train(np.ascontiguousarray(vectors[::step], dtype=np.float32))
        for a in range(0, len(vectors), 100_000):  # blocks: a memory-mapped input is never copied whole
            index.add(np.ascontiguousarray(vectors[a : a + 100_000], dtype=np.float32))
        index.hnsw.efSearch = HNSW_EF_SEARCH
        return cls(index)

    def search(self, queries: np.ndarray, k: int, sel: faiss.IDSelector | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids) arrays of shape (len(queries), k); ids -1 where fewer than k exist.

        Args:
            queries: (n, dim) normalised vectors.
            k: results per query.
            sel: only ids this FAISS selector accepts (the filter, applied inside the search).
        """
        k = max(1, min(k, self.size)) if self.size else 1
        if not self.size:
            return np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64)
        x = np.ascontiguousarray(queries, dtype=np.float32)
        faiss.omp_set_num_threads(SEARCH_THREADS if len(x) == 1 else BUILD_THREADS)
        if sel is None:
            return self.index.search(x, k)
        if isinstance(self.index, faiss.IndexHNSW):
            params: faiss.SearchParameters = faiss.SearchParametersHNSW(sel=sel, efSearch=HNSW_EF_SEARCH)
        else:
            params = faiss.SearchParameters(sel=sel)
        return self.index.search(x, k, params=params)

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path, mmap: bool = False) -> "DenseIndex":
        """Read an index; with `mmap` its vectors stay in the file (the page cache), not in the process heap."""
        index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY if mmap else 0)
        if isinstance(index, faiss.IndexHNSW):
            index.hnsw.efSearch = HNSW_EF_SEARCH
        return cls(index)
