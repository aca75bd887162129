"""The Milvus store on Milvus Lite (embedded, a temp file, no network): the ChunkStore contract, publishing, errors."""
from __future__ import annotations

import numpy as np
import pytest

from index.base import ChunkStore, RowFilter
from index.milvus import MilvusStoreError, MilvusWriter, open_milvus, parse_spec
from index.milvus.client import check_server_version, filter_expr, split_utf8
from index.tokenize import tokenize
from tests.fixtures import SEED_FILES

CHUNKER = "3"


def _release(spec) -> None:
    from milvus_lite.server_manager import server_manager_instance

    server_manager_instance.release_server(spec.uri)


def _write(spec, embedder, docs, remove=(), rebuild=False) -> str | None:
    w = MilvusWriter(spec, embedder.name, embedder.dim, CHUNKER, rebuild=rebuild)
    for d in docs:
        w.add(d.meta, d.text, d.chunks, embedder.embed_passages([c.embed_text() for c in d.chunks]))
    for doc_id in remove:
        w.remove(doc_id)
    return w.commit()


@pytest.fixture()
def spec(tmp_path):
    s = parse_spec(f"milvus:{tmp_path / 'un.db'}", collection="t")
    yield s
    _release(s)


@pytest.fixture(scope="module")
def seed_store(tmp_path_factory, seed_docs, fake_embedder):
    s = parse_spec(f"milvus:{tmp_path_factory.mktemp('milvus') / 'seeds.db'}")
    _write(s, fake_embedder, seed_docs.values())
    yield open_milvus(s, fake_embedder.name, fake_embedder.dim, CHUNKER)
    _release(s)


def _all(store) -> list[tuple[int, object]]:
    return list(store.iter_chunks())


def test_the_seed_store_meets_the_protocol_and_keeps_every_chunk_field_text_and_vector(seed_store, seed_docs,
                                                                                      fake_embedder):
    assert isinstance(seed_store, ChunkStore)
    assert seed_store.location.startswith("milvus:") and seed_store.location.endswith("#un_rag")
    assert seed_store.size == sum(len(d.chunks) for d in seed_docs.values()) == 187
    assert seed_store.manifest["counts"] == {"documents": 3, "chunks": 187}
    for doc in seed_docs.values():
        symbol = doc.meta.doc_id  # the stored key of the document's (only, Chinese) version
        rows = seed_store.doc_rows(symbol)
        assert rows == list(range(rows[0], rows[0] + len(doc.chunks)))  # contiguous, in document order
        assert seed_store.chunks(rows) == doc.chunks
        assert seed_store.doc_text(symbol) == doc.text
        assert seed_store.docs[symbol] == doc.meta
        want = fake_embedder.embed_passages([c.embed_text() for c in doc.chunks])
        np.testing.assert_allclose(seed_store.vectors(rows), want, atol=1e-6)
    assert [c for _, c in _all(seed_store)] == [c for d in seed_docs.values() for c in d.chunks]


def test_dense_search_returns_the_exact_inner_product_top_k(seed_store, fake_embedder):
    rows, chunks = zip(*_all(seed_store))
    matrix = seed_store.vectors(rows)
    q = fake_embedder.embed_queries(["明斯克将举行什么会议？"])[0]
    sims = matrix @ q
    order = np.argsort(-sims)[:10]
    got = seed_store.dense_search(q, 10)
    assert [r for r, _ in got] == [rows[i] for i in order]
    np.testing.assert_allclose([s for _, s in got], sims[order], atol=1e-5)


def test_keyword_search_scores_are_positive_best_first_and_find_the_minsk_paragraph(seed_store):
    got = seed_store.keyword_search("明斯克将举行什么会议？", 10)
    scores = [s for _, s in got]
    assert scores == sorted(scores, reverse=True) and all(s > 0 for s in scores)
    assert seed_store.chunks([got[0][0]])[0].cite == "CD/PV.1505 turn 2 ¶20"
    assert seed_store.keyword_search("的 了 什么？", 10) == []  # only stopwords and punctuation: nothing to match


def _scan(store, keep) -> set[int]:
    return {r for r, c in _all(store) if keep(c, store.docs[c.doc_id])}


@pytest.mark.parametrize("where, keep", [
    (RowFilter(doc_ids=("CD/PV.1505@zh",)), lambda c, m: c.doc_id == "CD/PV.1505@zh"),
    (RowFilter(speaker="白俄罗斯"), lambda c, m: "白俄罗斯" in (c.speaker or "") + "|" + (c.delegation or "")),
    (RowFilter(body="conference"), lambda c, m: "conference" in (c.body or "").lower()),
    (RowFilter(language="ZH"), lambda c, m: c.language == "zh"),
    (RowFilter(date_from="2023", date_to="2023"), lambda c, m: (m.date or "").startswith("2023")),
    (RowFilter(date_from="2030"), lambda c, m: False),
])
def test_filters_are_applied_inside_both_searches_exactly_as_a_scan_of_the_chunks_would(seed_store, fake_embedder,
                                                                                      where, keep):
    want = _scan(seed_store, keep)
    q = fake_embedder.embed_queries(["会议"])[0]
    assert {r for r, _ in seed_store.dense_search(q, 1000, where)} == want
    kw = {r for r, _ in seed_store.keyword_search("会议 the", 1000, where)}
    assert kw <= want and (kw or not want)


def test_a_document_filter_naming_no_stored_document_matches_nothing(seed_store, fake_embedder):
    q = fake_embedder.embed_queries(["会议"])[0]
    assert seed_store.dense_search(q, 5, RowFilter(doc_ids=("A/NONE",))) == []


def test_filter_values_are_quoted_so_they_cannot_change_the_expression():
    expr = filter_expr(RowFilter(speaker='x" or 1==1 or "', body="50%_"), gen=3, dead=[(10, 20)])
    assert expr == ('gen <= 3 and not (row >= 10 and row < 20) and (f_speaker like "%x\\" or 1==1 or \\"%" or '
                    'f_delegation like "%x\\" or 1==1 or \\"%") and f_body like "%50__%"')


def test_resolve_doc_finds_symbols_and_file_names_and_names_the_known_ones_otherwise(seed_store):
    assert seed_store.resolve_doc(SEED_FILES["EUR/44A25/1"].name) == "EUR/44A25/1@zh"
    with pytest.raises(Exception, match="unknown document 'X/1'.*CCW/GGE.1/2023/2@zh, CD/PV.1505@zh, EUR/44A25/1@zh"):
        seed_store.resolve_doc("X/1")


def test_remove_and_replace_publish_new_versions_and_drop_the_old_rows(spec, seed_docs, fake_embedder):
    docs = list(seed_docs.values())
    v1 = _write(spec, fake_embedder, docs)
    s1 = open_milvus(spec)
    v2 = _write(spec, fake_embedder, [], remove=["EUR/44A25/1@zh"])
    s2 = open_milvus(spec)
    assert len({v1, v2, s1.version, s2.version}) == 2 and s2.version == v2 != v1
    assert list(s2.docs) == ["CCW/GGE.1/2023/2@zh", "CD/PV.1505@zh"] and s2.size == 187 - len(docs[1].chunks)
    assert s2.doc_rows("CD/PV.1505@zh") == s1.doc_rows("CD/PV.1505@zh")  # untouched documents keep their rows
    gone = set(s1.doc_rows("EUR/44A25/1@zh"))
    q = fake_embedder.embed_queries(["会议"])[0]
    assert not gone & {r for r, _ in s2.dense_search(q, 1000)}
    with pytest.raises(KeyError):
        s2.chunks([min(gone)])
    v3 = _write(spec, fake_embedder, [docs[2]])  # replace CD/PV.1505
    s3 = open_milvus(spec)
    assert v3 == s3.version and s3.doc_rows("CD/PV.1505@zh")[0] > max(s1.doc_rows("CD/PV.1505@zh"))
    assert s3.chunks(s3.doc_rows("CD/PV.1505@zh")) == docs[2].chunks
    assert s3.client.query(spec.collection, filter="row >= 0", output_fields=["count(*)"])[0]["count(*)"] == s3.size


KILLED_WRITER = """
import os, signal, sys
from index.milvus import MilvusWriter, parse_spec
from rag.ingest.parse import parse_document
from rag.models.embed import get_embedder
spec, emb = parse_spec(sys.argv[1], collection="t"), get_embedder("fake")
from pathlib import Path
doc = parse_document(Path(sys.argv[2]))
w = MilvusWriter(spec, emb.name, emb.dim, "3")
w.add(doc.meta, doc.text, doc.chunks, emb.embed_passages([c.embed_text() for c in doc.chunks]))
w.remove("EUR/44A25/1@zh")
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_an_ingestion_killed_mid_write_leaves_nothing_visible_and_the_next_writer_removes_its_rows(spec, seed_docs,
                                                                                                  fake_embedder):
    import os
    import subprocess
    import sys

    docs = list(seed_docs.values())
    _write(spec, fake_embedder, docs[:2])
    before = open_milvus(spec)
    _release(spec)  # Milvus Lite serves one process at a time: hand the file to the writer that will be killed
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    done = subprocess.run([sys.executable, "-c", KILLED_WRITER, f"milvus:{spec.uri}", str(SEED_FILES["CD/PV.1505"])],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == -9, done.stderr[-2000:]
    now = open_milvus(spec)
    assert now.version == before.version and list(now.docs) == ["CCW/GGE.1/2023/2@zh", "EUR/44A25/1@zh"]
    q = fake_embedder.embed_queries(["明斯克将举行什么会议？"])[0]
    assert {now.chunks([r])[0].doc_id for r, _ in now.dense_search(q, 1000)} == {"CCW/GGE.1/2023/2@zh", "EUR/44A25/1@zh"}
    assert {now.chunks([r])[0].doc_id for r, _ in now.keyword_search("明斯克 会议", 1000)} <= {"CCW/GGE.1/2023/2@zh",
                                                                                          "EUR/44A25/1@zh"}
    count = lambda: now.client.query(spec.collection, filter="row >= 0", output_fields=["count(*)"])[0]["count(*)"]
    assert count() >= now.size
    MilvusWriter(spec, fake_embedder.name, fake_embedder.dim, CHUNKER).close()  # the dead writer's lock is free
    assert count() == now.size


def test_a_writer_failing_after_publishing_leaves_superseded_rows_hidden_until_the_next_writer_deletes_them(
        spec, seed_docs, fake_embedder, monkeypatch):
    docs = list(seed_docs.values())
    _write(spec, fake_embedder, docs)
    old_rows = set(open_milvus(spec).doc_rows("CD/PV.1505@zh"))

    def fail(self, name):
        if name == "published":
            raise OSError("killed")

    monkeypatch.setattr(MilvusWriter, "_step", fail)
    w = MilvusWriter(spec, fake_embedder.name, fake_embedder.dim, CHUNKER)
    w.remove("CD/PV.1505@zh")
    with pytest.raises(OSError):
        w.commit()
    w.close()  # what ingestion does on the way out: after publishing, only the lock is given back
    monkeypatch.undo()
    s = open_milvus(spec)
    assert list(s.docs) == ["CCW/GGE.1/2023/2@zh", "EUR/44A25/1@zh"]
    q = fake_embedder.embed_queries(["明斯克将举行什么会议？"])[0]
    assert not old_rows & {r for r, _ in s.dense_search(q, 1000)}
    assert not old_rows & {r for r, _ in s.keyword_search("明斯克 会议", 1000)}
    MilvusWriter(spec, fake_embedder.name, fake_embedder.dim, CHUNKER)
    assert s.client.get(spec.collection, ids=sorted(old_rows)[:5], output_fields=["row"]) == []


def test_one_writer_at_a_time_a_second_is_refused_naming_the_first_until_it_finishes(spec, seed_docs,
                                                                                    fake_embedder, monkeypatch):
    docs = list(seed_docs.values())
    _write(spec, fake_embedder, docs[:1])
    first = MilvusWriter(spec, fake_embedder.name, fake_embedder.dim, CHUNKER)
    first.remove("CCW/GGE.1/2023/2@zh")
    monkeypatch.setitem(first._owner, "id", "another")  # as if it were another writer of this process
    with pytest.raises(MilvusStoreError, match=r"another writer \(process \d+ on .*\) is changing milvus:.*#t; wait"):
        MilvusWriter(spec, fake_embedder.name, fake_embedder.dim, CHUNKER)
    monkeypatch.undo()
    first.commit()
    assert _write(spec, fake_embedder, docs[1:2]) is not None
    assert list(open_milvus(spec).docs) == ["EUR/44A25/1@zh"]


def test_a_writer_that_bypassed_the_lock_cannot_publish_over_another(spec, seed_docs, fake_embedder, monkeypatch):
    docs = list(seed_docs.values())
    _write(spec, fake_embedder, docs[:1])
    slow = MilvusWriter(spec, fake_embedder.name, fake_embedder.dim, CHUNKER)
    slow.add(docs[2].meta, docs[2].text, docs[2].chunks, fake_embedder.embed_passages([c.text for c in docs[2].chunks]))
    monkeypatch.setattr(MilvusWriter, "_lock", lambda self: None)
    _write(spec, fake_embedder, docs[1:2])
    with pytest.raises(MilvusStoreError, match="another writer changed .* nothing was published: run the command"):
        slow.commit()
    assert list(open_milvus(spec).docs) == ["CCW/GGE.1/2023/2@zh", "EUR/44A25/1@zh"]


def test_rebuild_replaces_every_document_in_one_publish_and_remembers_where_they_came_from(spec, seed_docs,
                                                                                         fake_embedder):
    docs = list(seed_docs.values())
    for d in docs:
        d.meta.path = f"/data/{d.meta.doc_id.replace('/', '_')}.txt"
    _write(spec, fake_embedder, docs)
    w = MilvusWriter(spec, fake_embedder.name, fake_embedder.dim, CHUNKER, rebuild=True)
    assert sorted(w.previous_paths) == sorted(d.meta.path for d in docs) and w.docs == {}
    w.add(docs[0].meta, docs[0].text, docs[0].chunks, fake_embedder.embed_passages([c.text for c in docs[0].chunks]))
    w.commit()
    assert list(open_milvus(spec).docs) == ["CCW/GGE.1/2023/2@zh"]


def test_a_writer_used_as_a_context_manager_removes_with_the_stores_own_model_and_aborts_on_error(
        spec, seed_docs, fake_embedder):
    docs = list(seed_docs.values())
    _write(spec, fake_embedder, docs[:2])
    with MilvusWriter(spec) as w:  # no model: the store's own, as `rag remove` opens it
        assert (w.model, w.dim, w.chunker_version) == (fake_embedder.name, fake_embedder.dim, CHUNKER)
        assert w.resolve_doc("EUR/44A25/1@zh") == "EUR/44A25/1@zh" and w.chunk_count("EUR/44A25/1@zh") == len(docs[1].chunks)
        w.remove("EUR/44A25/1@zh")
        w.commit()
    with pytest.raises(RuntimeError), MilvusWriter(spec, fake_embedder.name, fake_embedder.dim, CHUNKER) as w:
        w.add(docs[2].meta, docs[2].text, docs[2].chunks,
              fake_embedder.embed_passages([c.text for c in docs[2].chunks]))
        raise RuntimeError("parse failed")
    s = open_milvus(spec)
    assert list(s.docs) == ["CCW/GGE.1/2023/2@zh"]
    assert s.client.query(spec.collection, filter="row >= 0", output_fields=["count(*)"])[0]["count(*)"] == s.size
    with pytest.raises(MilvusStoreError, match="no store at milvus:.*#other: build one with `rag ingest"):
        MilvusWriter(parse_spec(f"milvus:{spec.uri}", collection="other"))


def test_a_store_built_with_another_model_or_dimension_is_refused_naming_the_rebuild(spec, seed_docs, fake_embedder):
    _write(spec, fake_embedder, list(seed_docs.values())[:1])
    with pytest.raises(MilvusStoreError, match=r"built with embedding model 'fake.*', not 'e5': rebuild it with "
                                               r"`rag ingest --rebuild --store milvus:.*un\.db --collection t`"):
        open_milvus(spec, model="e5")
    with pytest.raises(MilvusStoreError, match=r"holds \d+-dimensional vectors, the embedding model gives 384: "
                                               r"rebuild it with `rag ingest --rebuild"):
        MilvusWriter(spec, fake_embedder.name, 384, CHUNKER)
    with pytest.raises(MilvusStoreError, match="chunker version 3, this is version 2"):
        open_milvus(spec, chunker_version="2")
    with pytest.raises(MilvusStoreError, match="chunker version 3, this is version 2"):
        MilvusWriter(spec, fake_embedder.name, fake_embedder.dim, "2")
    MilvusWriter(spec, fake_embedder.name, fake_embedder.dim, CHUNKER).close()  # the refused writers held no lease


def test_a_rebuild_with_another_dimension_recreates_the_collection(spec, seed_docs, fake_embedder):
    doc = list(seed_docs.values())[0]
    _write(spec, fake_embedder, [doc])
    w = MilvusWriter(spec, "other", 8, CHUNKER, rebuild=True)
    w.add(doc.meta, doc.text, doc.chunks, np.eye(len(doc.chunks), 8, dtype=np.float32))
    w.commit()
    s = open_milvus(spec, model="other", dim=8)
    assert s.size == len(doc.chunks) and s.dense_search(np.eye(8, dtype=np.float32)[3], 1)[0][0] == 3


def test_no_store_yet_names_the_ingest_command(spec):
    with pytest.raises(MilvusStoreError, match=r"no store at milvus:.*un\.db#t: build one with `rag ingest PATH\.\.\. "
                                               r"--store milvus:.*un\.db --collection t`"):
        open_milvus(spec)


def test_an_unreachable_milvus_is_one_error_naming_how_to_start_one():
    with pytest.raises(MilvusStoreError, match=r"cannot reach Milvus at http://127\.0\.0\.1:9 .*start the server "
                                               r"\(docker compose up -d.*or use a Milvus Lite file"):
        open_milvus(parse_spec("milvus:http://127.0.0.1:9"))


def test_a_milvus_lite_file_open_in_another_process_is_one_error_naming_the_fix(tmp_path):
    import fcntl
    import os
    import subprocess
    import sys

    path = tmp_path / "busy.db"
    path.mkdir()
    code = ("import sys; from index.milvus import open_milvus, parse_spec\n"
            "try: open_milvus(parse_spec('milvus:' + sys.argv[1]))\n"
            "except Exception as e: print(e)")
    with open(path / "LOCK", "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held here, as a running `rag ui` holds it
        out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120,
                             env={**os.environ, "PYTHONPATH": os.getcwd()}).stdout
    assert out.startswith(f"cannot open the Milvus Lite file {path} (") and out.rstrip().endswith(
        "another process has it open (Milvus Lite serves one process at a time): stop that process, e.g. a running "
        "`rag ui`, or serve the store from a Milvus server (README, Milvus section)")


def test_a_server_without_the_bm25_function_is_refused_naming_the_version_needed():
    with pytest.raises(MilvusStoreError, match=r"Milvus at http://h:19530 is version v2\.4\.9, which has no BM25 "
                                               r"function: upgrade the server to Milvus 2\.5 or later"):
        check_server_version("v2.4.9", "http://h:19530")
    check_server_version("v2.5.4", "http://h:19530")
    check_server_version("milvus_lite-3.2.2", "/x.db")


def test_a_server_refusing_the_bm25_schema_is_one_error_naming_the_fix(spec, fake_embedder, monkeypatch):
    from pymilvus import MilvusClient, MilvusException

    def refuse(self, name, **kw):
        raise MilvusException(message="function type BM25 not supported")

    monkeypatch.setattr(MilvusClient, "create_collection", refuse)
    with pytest.raises(MilvusStoreError, match="refused the chunks collection 't' .*needs the BM25 function and the "
                                               "jieba analyzer .*upgrade the server"):
        MilvusWriter(spec, fake_embedder.name, fake_embedder.dim, CHUNKER)


def test_a_milvus_lite_path_may_start_with_home_and_name_its_collection():
    import os

    s = parse_spec("milvus:~/un.db#lib")
    assert (s.uri, s.collection) == (os.path.expanduser("~/un.db"), "lib")
    assert parse_spec("milvus:http://h:19530", collection="x", token="u:p").location == "milvus:http://h:19530#x"


@pytest.mark.parametrize("spec, message", [
    ("faiss:/x", "is not milvus:URI; give e.g. milvus:/path/un.db"),
    ("milvus:", "is not milvus:URI"),
    ("milvus:/tmp/un.sqlite", "neither a Milvus Lite file"),
    ("milvus:/tmp/un.db#bad-name", "collection name 'bad-name' is not allowed"),
])
def test_bad_store_specs_are_one_error_naming_what_is_allowed(spec, message):
    with pytest.raises(MilvusStoreError, match=message):
        parse_spec(spec)


def test_document_texts_are_split_on_character_boundaries():
    text = "联合国" * 30000 + "x"
    parts = split_utf8(text, 60000)
    assert "".join(parts) == text and all(len(p.encode()) <= 60000 for p in parts) and len(parts) == 5
    assert tokenize("的 了") == []


def test_milvus_bm25_sees_the_tokens_of_our_own_keyword_index_in_every_script():
    from collections import Counter

    from milvus_lite.analyzer.factory import create_analyzer

    from index.milvus.client import ANALYZER, keyword_form

    analyzer = create_analyzer(ANALYZER)  # what Milvus Lite runs inside the BM25 function
    for text in ["明斯克将举行什么会议？", "Quels États non parties à la Convention ont participé ?",
                 "Когда Группа правительственных экспертов приняла свой доклад?", "the high-level Secretary-General's "
                 "report A/69/767 (EUR/44A25/1) ＵＮＥＰ 2023年5月19日"]:
        ours = [w if w.isascii() and w.isalnum() or "\u4e00" <= w[0] <= "\u9fff" else "x" + w.encode().hex()
                for w in tokenize(text)]
        assert Counter(analyzer.tokenize(keyword_form(text))) == Counter(ours), text
    assert keyword_form("Группа the 会议") == "x" + "группа".encode().hex() + " 会议"


def test_a_commit_seals_segments_once_enough_rows_wait(spec, seed_docs, fake_embedder, monkeypatch):
    from pymilvus import MilvusClient

    flushed: list[str] = []
    monkeypatch.setattr(MilvusClient, "flush", lambda self, name, **kw: flushed.append(name))
    monkeypatch.setattr("index.milvus.writer.FLUSH_ROWS", 150)
    docs = list(seed_docs.values())  # 53, 41 and 93 chunks
    _write(spec, fake_embedder, docs[:2])
    assert flushed == [] and open_milvus(spec).manifest["unflushed"] == 94
    _write(spec, fake_embedder, docs[2:])
    assert flushed == ["t"] and open_milvus(spec).manifest["unflushed"] == 0


def test_a_collection_switched_to_hnsw_by_an_operator_is_searched_with_the_faiss_stores_ef(spec, seed_docs,
                                                                                           fake_embedder, monkeypatch):
    from pymilvus import MilvusClient

    _write(spec, fake_embedder, list(seed_docs.values()))
    exact = open_milvus(spec)
    q = fake_embedder.embed_queries(["明斯克将举行什么会议？"])[0]
    want = exact.dense_search(q, 10)
    c = exact.client  # what the README tells an operator to run
    c.release_collection(spec.collection)
    c.drop_index(spec.collection, "vector")
    ip = c.prepare_index_params()
    ip.add_index("vector", index_type="HNSW", metric_type="IP", params={"M": 32, "efConstruction": 200})
    c.create_index(spec.collection, ip)
    c.load_collection(spec.collection)
    seen: list[dict] = []
    search = MilvusClient.search
    monkeypatch.setattr(MilvusClient, "search", lambda self, *a, **kw: seen.append(kw["search_params"]) or
                        search(self, *a, **kw))
    got = open_milvus(spec).dense_search(q, 10)
    assert seen == [{"metric_type": "IP", "params": {"ef": 512}}]
    assert [r for r, _ in got] == [r for r, _ in want]  # 187 rows under ef 512: as exact as FLAT


def test_release_hands_a_milvus_lite_file_to_another_process(tmp_path, seed_docs, fake_embedder):
    import os
    import subprocess
    import sys

    from index.milvus import release
    from index.registry import open_store, open_writer

    spec = f"milvus:{tmp_path / 'shared.db'}#t"
    with open_writer(spec, fake_embedder.name, fake_embedder.dim, CHUNKER) as w:
        doc = list(seed_docs.values())[1]
        w.add(doc.meta, doc.text, doc.chunks, fake_embedder.embed_passages([c.text for c in doc.chunks]))
        w.commit()
    assert list(open_store(spec).docs) == ["EUR/44A25/1@zh"]
    release(spec)
    code = "import sys; from index.registry import open_store; print(list(open_store(sys.argv[1]).docs))"
    out = subprocess.run([sys.executable, "-c", code, spec], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert out.stdout.strip() == "['EUR/44A25/1@zh']", out.stderr[-1000:]
    assert list(open_store(spec).docs) == ["EUR/44A25/1@zh"]  # and this process reconnects on its next use
    release(spec)


def test_a_live_row_missing_from_one_read_is_read_again(seed_store, monkeypatch):
    from pymilvus import MilvusClient

    get = MilvusClient.get
    calls: list[int] = []

    def flaky(self, name, ids, **kw):  # the first read misses every row, as during a segment swap
        calls.append(len(ids))
        return [] if len(calls) == 1 else get(self, name, ids=ids, **kw)

    seed_store._cache.clear()
    monkeypatch.setattr(MilvusClient, "get", flaky)
    rows = seed_store.doc_rows("EUR/44A25/1@zh")[:2]
    assert [c.doc_id for c in seed_store.chunks(rows)] == ["EUR/44A25/1@zh"] * 2 and len(calls) == 2
    seed_store._cache.clear()
