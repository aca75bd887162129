"""The segment store: incremental add, remove, compact, filters inside both searches, BM25 top-k, old formats."""
from __future__ import annotations

import json
import os
from dataclasses import replace

import numpy as np
import pytest

import index.store as store_mod
from index.base import IndexLoadError, RowFilter
from index.keyword import KeywordIndex
from index.registry import open_writer
from index.store import load_index
from rag.ingest.library import compact_store, ingest
from tests.fixtures import SEED_FILES

QUERIES = ["明斯克将举行什么会议？", "人工智能 武器", "国际人道主义法", "白俄罗斯 提议", "2023 CCW/GGE.1", "the report"]


@pytest.fixture(scope="module")
def embedded(seed_docs, fake_embedder):
    """Each seed document with its vectors (fake embedder), in the order of SEED_FILES."""
    return [(d, fake_embedder.embed_passages([c.embed_text() for c in d.chunks])) for d in seed_docs.values()]


def _write(root, docs, fake_embedder, rebuild=False):
    with open_writer(str(root), fake_embedder.name, fake_embedder.dim, "3", rebuild=rebuild) as w:
        for d, v in docs:
            w.add(d.meta, d.text, d.chunks, v)
        return w.commit()


def _by_id(store, found):
    return [(c.chunk_id, round(s, 5)) for c, s in zip(store.chunks([r for r, _ in found]), [s for _, s in found])]


def test_each_addition_writes_one_segment_of_its_own_rows_and_leaves_the_others_untouched(tmp_path, embedded,
                                                                                              fake_embedder):
    root = tmp_path / "idx"
    _write(root, embedded[:1], fake_embedder)
    first = load_index(root)
    [seg] = first.manifest["segments"]
    stamp = {p.name: os.stat(p).st_mtime_ns for p in (root / "segments" / seg["name"]).rglob("*")}
    _write(root, embedded[1:2], fake_embedder)
    store = load_index(root)
    assert [s["size"] for s in store.manifest["segments"]] == [53, 41]
    assert {p.name: os.stat(p).st_mtime_ns for p in (root / "segments" / seg["name"]).rglob("*")} == stamp
    assert store.doc_rows("EUR/44A25/1@zh") == list(range(53, 94))
    assert first.chunks([0])[0].doc_id == "CCW/GGE.1/2023/2@zh"  # the old version still reads while the new is live


def test_remove_replace_and_compact_match_a_fresh_build(tmp_path, embedded, fake_embedder):
    inc, fresh = tmp_path / "inc", tmp_path / "fresh"
    for d in embedded:
        _write(inc, [d], fake_embedder)
    _write(inc, embedded[1:2], fake_embedder)  # replace EUR/44A25/1: its old rows become deleted rows
    with open_writer(str(inc)) as w:
        w.remove("CCW/GGE.1/2023/2@zh")
        w.commit()
    _write(fresh, [embedded[2], embedded[1]], fake_embedder)
    a, b = load_index(inc), load_index(fresh)
    assert a.manifest["counts"] == b.manifest["counts"] == {"documents": 2, "chunks": 134}
    assert a.manifest["deleted_rows"] == 0 and len(a.manifest["segments"]) == 2  # wholly deleted segments drop
    assert sorted(a.docs) == sorted(b.docs)
    q = np.asarray(fake_embedder.embed_queries(["明斯克将举行什么会议？"])[0])
    assert _by_id(a, a.dense_search(q, 20)) == _by_id(b, b.dense_search(q, 20))
    version, counts = compact_store(str(inc))
    c = load_index(inc)
    assert version == c.version and counts == {"documents": 2, "chunks": 134}
    assert len(c.manifest["segments"]) == 1 and c.manifest["deleted_rows"] == 0
    assert [ch.chunk_id for _, ch in c.iter_chunks()] == [ch.chunk_id for _, ch in a.iter_chunks()]
    for query in QUERIES:
        assert _by_id(c, c.keyword_search(query, 10)) == _by_id(a, a.keyword_search(query, 10))
    assert _by_id(c, c.dense_search(q, 20)) == _by_id(a, a.dense_search(q, 20))
    assert len(list((inc / "segments").iterdir())) <= 3  # the compacted one and the previous version's


def test_deleted_rows_are_never_returned(tmp_path, embedded, fake_embedder):
    root = tmp_path / "idx"
    _write(root, embedded, fake_embedder)
    with open_writer(str(root)) as w:
        w.remove("EUR/44A25/1@zh")
        w.commit()
    store = load_index(root)
    assert store.manifest["deleted_rows"] == 41 and len(store.manifest["segments"]) == 1
    q = np.asarray(fake_embedder.embed_queries(["决议 秘书长"])[0])
    found = store.dense_search(q, 200) + store.keyword_search("决议 秘书长 会议", 200)
    assert found and not any(53 <= r < 94 for r, _ in found)
    with pytest.raises(KeyError, match="removed document"):
        store.chunks([60])


def test_a_full_size_tier_merges_into_the_new_segment_and_other_tiers_stay(tmp_path, embedded, fake_embedder,
                                                                            monkeypatch):
    monkeypatch.setattr(store_mod, "MERGE_FACTOR", 3)
    monkeypatch.setattr(store_mod, "MERGE_FLOOR", 20)  # tiers: < 60 rows, 60-179, ...
    (ccw, v), eur, cd = embedded
    copy = (replace(ccw, meta=replace(ccw.meta, doc_id="COPY/1", symbol="COPY/1", source="copy.txt"),
                    chunks=[replace(c, doc_id="COPY/1", chunk_id="copy-" + c.chunk_id) for c in ccw.chunks]), v)
    root = tmp_path / "idx"
    sizes = []
    for d in [(ccw, v), cd, eur, copy]:  # 53 (tier 0), 93 (tier 1), 41 (tier 0), 53 (tier 0)
        _write(root, [d], fake_embedder)
        sizes.append([s["size"] for s in load_index(root).manifest["segments"]])
    # two tier-0 segments do not fill the tier (< 3); the third does, so the tier merges into the new segment
    # and the tier-1 segment stays as it was
    assert sizes == [[53], [53, 93], [53, 93, 41], [93, 147]]
    store = load_index(root)
    assert store.size == 240 and store.manifest["deleted_rows"] == 0
    assert [c.doc_id for c in store.chunks(store.doc_rows("EUR/44A25/1@zh"))] == ["EUR/44A25/1@zh"] * 41


FILTERS = [
    RowFilter(doc_ids=("CD/PV.1505@zh",)),
    RowFilter(speaker="白俄罗斯"),
    RowFilter(date_from="2022", date_to="2023-05"),
    RowFilter(language="zh", date_to="2019-06-12"),
    RowFilter(doc_ids=("EUR/44A25/1@zh", "CCW/GGE.1/2023/2@zh"), body="no such body"),
]


@pytest.mark.parametrize("where", FILTERS, ids=lambda w: repr(w)[9:60])
def test_filters_inside_both_searches_equal_filtering_every_chunk(tmp_path_factory, embedded, fake_embedder, where):
    multi, single = tmp_path_factory.mktemp("multi"), tmp_path_factory.mktemp("single")
    for d in embedded:  # three segments, one of them with deleted rows
        _write(multi, [d], fake_embedder)
    _write(multi, embedded[:1], fake_embedder)
    _write(single, embedded, fake_embedder)
    for root in (multi, single):
        store = load_index(root)
        every = list(store.iter_chunks())
        allowed = [r for r, c in every if where.matches(c, store.docs[c.doc_id])]
        vectors = store.vectors(allowed)
        for query in QUERIES:
            q = np.asarray(fake_embedder.embed_queries([query])[0])
            sims = vectors @ q if allowed else np.zeros(0)
            expected = [allowed[i] for i in np.argsort(-sims, kind="stable")[:10]]
            assert [r for r, _ in store.dense_search(q, 10, where)] == expected
    # BM25 with the filter inside equals scoring every chunk and dropping those outside (one segment, so the
    # collection statistics are the same; across segments deleted rows count until compaction, as in Lucene).
    full = KeywordIndex.build([c.keyword_text() for _, c in every])
    ok = np.array([where.matches(c, store.docs[c.doc_id]) for _, c in every])
    for query in QUERIES:
        scores = np.where(ok, full.scores(query), 0.0)
        expected = sorted([(-float(x), i) for i, x in enumerate(scores) if x > 0])[:10]
        assert [r for r, _ in store.keyword_search(query, 10, where)] == [i for _, i in expected], query


def test_bm25_top_k_equals_full_scoring_of_every_chunk(tmp_path, embedded, fake_embedder):
    root = tmp_path / "idx"
    _write(root, embedded, fake_embedder)
    store = load_index(root)
    every = [c for _, c in store.iter_chunks()]
    full = KeywordIndex.build([c.keyword_text() for c in every])
    for query in QUERIES + ["明斯克", "武器系统 致命性 自主", "nothing-matches-this"]:
        scores = full.scores(query)
        expected = sorted([(-float(s), i) for i, s in enumerate(scores) if s > 0])[:15]
        got = store.keyword_search(query, 15)
        assert [r for r, _ in got] == [i for _, i in expected], query
        assert [s for _, s in got] == pytest.approx([-s for s, _ in expected], rel=1e-5)


def test_format_1_is_refused_with_the_rebuild_command_and_rebuilt_from_its_files(tmp_path, fake_embedder):
    root = tmp_path / "old"
    (root / "versions" / "v1").mkdir(parents=True)
    path = str(SEED_FILES["EUR/44A25/1"].resolve())
    manifest = {"format": 1, "model": fake_embedder.name, "dim": 256, "chunker_version": "3",
                "documents": {"EUR/44A25/1@zh": {"meta": {"doc_id": "EUR/44A25/1@zh", "path": path}, "chunks": 41}}}
    (root / "versions" / "v1" / "manifest.json").write_text(json.dumps(manifest))
    (root / "CURRENT").write_text(json.dumps({"version": "v1"}))
    with pytest.raises(IndexLoadError, match=rf"has format 1, this program reads 2 .*`rag ingest --rebuild --index {root}`"):
        load_index(root)
    with pytest.raises(IndexLoadError, match="has format 1"):
        ingest([SEED_FILES["CD/PV.1505"]], root, fake_embedder)
    report = ingest([], root, fake_embedder, rebuild=True)
    assert [f.status for f in report.files] == ["added"]
    assert list(load_index(root).docs) == ["EUR/44A25/1@zh"]
