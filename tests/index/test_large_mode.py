"""Large-index mode: past the threshold a segment searches HNSW over 8-bit vectors and re-ranks exactly."""
from __future__ import annotations

import numpy as np
import pytest

import index.dense as dense_mod
from index.base import RowFilter
from index.registry import open_writer
from index.store import load_index
from rag.types import Chunk, DocMeta

N, DIM, DOCS = 12_000, 384, 60


def _clustered(rng: np.random.Generator, n: int) -> np.ndarray:
    """Unit vectors around 200 topics, like passage embeddings (neighbours share a topic, not a copy)."""
    centres = rng.standard_normal((200, DIM)).astype(np.float32)
    v = centres[rng.integers(0, 200, n)] + 0.9 * rng.standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def large_store(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setattr(dense_mod, "LARGE_THRESHOLD", 10_000)  # the mode itself, on a size a test can build
    rng = np.random.default_rng(7)
    vectors = _clustered(rng, N)
    root = tmp_path_factory.mktemp("large")
    per = N // DOCS
    with open_writer(str(root), "synthetic", DIM, "3") as w:
        for d in range(DOCS):
            meta = DocMeta(doc_id=f"A/SYN/{d}", symbol=f"A/SYN/{d}", date=f"20{10 + d % 10}-01-01", language="en")
            chunks = [Chunk(chunk_id=f"{d}-{j}", doc_id=meta.doc_id, symbol=meta.symbol, locator=f"¶{j + 1}",
                            text=f"paragraph {j} of document {d}", start=0, end=0, ordinal=j, language="en")
                      for j in range(per)]
            w.add(meta, "", chunks, vectors[d * per : (d + 1) * per])
        w.commit()
    mp.undo()
    yield load_index(root), vectors, _clustered(np.random.default_rng(8), 200)


def test_past_the_threshold_the_segment_is_quantised_and_recall_at_10_is_at_least_098(large_store):
    store, vectors, queries = large_store
    assert [s["dense_kind"] for s in store.manifest["segments"]] == ["hnsw-sq8"]
    recall = []
    for q in queries:
        exact = set(np.argsort(-(vectors @ q))[:10].tolist())
        found = store.dense_search(q, 10)
        recall.append(len(exact & {r for r, _ in found}) / 10)
        rows = [r for r, _ in found]
        assert [s for _, s in found] == pytest.approx((vectors[rows] @ q).tolist(), abs=1e-5)  # exact cosines
    assert np.mean(recall) >= 0.98


def test_a_filter_inside_the_quantised_search_returns_only_allowed_rows_best_first(large_store):
    store, vectors, queries = large_store
    where = RowFilter(date_from="2015", date_to="2019")  # half the documents: past the exact-scan limit
    allowed = np.array([store.docs[c.doc_id].date[:4] >= "2015" for _, c in store.iter_chunks()])
    assert allowed.sum() > 5_000
    recall = []
    for q in queries[:50]:
        sims = np.where(allowed, vectors @ q, -np.inf)
        exact = set(np.argsort(-sims)[:10].tolist())
        found = [r for r, _ in store.dense_search(q, 10, where)]
        assert all(allowed[r] for r in found) and len(found) == 10
        recall.append(len(exact & set(found)) / 10)
    assert np.mean(recall) >= 0.98
