"""The whole pipeline on the Milvus store (Milvus Lite on a temp file): CLI, Python API, UI library, evaluation,
the same citations as the FAISS store, and the errors a user can meet."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest

from rag.answer.pipeline import Pipeline
from rag.cli import main
from rag.config import Settings
from tests.fixtures import SEED_FILES

MINSK = "明斯克将举行什么会议？"
QUESTIONS = [MINSK, "人工智能", "What did the Group of Governmental Experts conclude about international humanitarian law?",
             "决议草案责成秘书长做什么？", "白俄罗斯提出了什么建议？"]


def _release(path) -> None:
    from milvus_lite.server_manager import server_manager_instance

    server_manager_instance.release_server(str(path))


def _answering(s: Settings) -> Settings:
    """The fake embedder's cosines are not calibrated: answer anyway."""
    return replace(s, llm="extractive", retrieval=replace(s.retrieval, refuse_below=-1.0, refuse_below_cross=-1.0,
                                                         refuse_below_other=-1.0))


@pytest.fixture(scope="module")
def milvus_seeds(tmp_path_factory, fake_embedder) -> str:
    """`milvus:PATH#seeds` holding the seeds, ingested through rag.ingest like any store."""
    from rag.ingest.library import ingest

    path = tmp_path_factory.mktemp("milvus-seeds") / "un.db"
    spec = f"milvus:{path}#seeds"
    report = ingest(list(SEED_FILES.values()), spec, fake_embedder)
    assert [f.status for f in report.files] == ["added"] * 3 and report.version.startswith("g1-")
    yield spec
    _release(path)


def _cites(answer) -> tuple:
    return (answer.refused, [(c.chunk.doc_id, c.chunk.locator, c.n) for c in answer.citations],
            [(h.chunk.doc_id, h.chunk.locator, [p.locator for p in h.parts]) for h in answer.retrieved], answer.text)


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_answers_on_milvus_equal_the_faiss_stores_exactly(milvus_seeds, fake_index_dir, fake_embedder, mode):
    on_milvus = Pipeline(_answering(Settings(store=milvus_seeds)), embedder=fake_embedder)
    on_faiss = Pipeline(_answering(Settings(index_dir=fake_index_dir)), embedder=fake_embedder)
    for q in QUESTIONS:
        assert _cites(on_milvus.ask(q, mode=mode)) == _cites(on_faiss.ask(q, mode=mode)), q


def test_filters_reach_milvus_through_the_pipeline(milvus_seeds, fake_embedder):
    from rag.answer.retrieve import Filters

    p = Pipeline(_answering(Settings(store=milvus_seeds)), embedder=fake_embedder)
    hits = p.retriever.search(MINSK, k=5, filters=Filters(docs=("EUR/44A25/1@zh",))).hits
    assert hits and {h.chunk.doc_id for h in hits} == {"EUR/44A25/1@zh"}
    hits = p.retriever.search(MINSK, k=5, filters=Filters(speaker="白俄罗斯")).hits
    assert hits and {h.chunk.speaker for h in hits} == {"安布拉舍维奇先生"}
    hits = p.retriever.search(MINSK, k=5, filters=Filters(date_from="2022", date_to="2022-12")).hits
    assert hits and {h.chunk.doc_id for h in hits} == {"EUR/44A25/1@zh"}  # dated 2022-09


def test_another_embedding_model_is_refused_naming_the_rebuild_command(milvus_seeds, fake_embedder):
    from index.base import IndexLoadError

    class Other:
        name, dim = "other-model", fake_embedder.dim

    with pytest.raises(IndexLoadError, match=r"built with embedding model 'fake.*', not 'other-model': rebuild it with "
                                             r"`rag ingest --rebuild --store milvus:.*un\.db#seeds`"):
        _ = Pipeline(Settings(store=milvus_seeds), embedder=Other()).index


def test_the_python_api_takes_a_milvus_spec_for_index_dir(milvus_seeds, monkeypatch):
    import rag

    monkeypatch.setenv("RAG_EMBED_MODEL", "fake")
    monkeypatch.setenv("RAG_REFUSE_BELOW", "-1")
    p = rag.get_pipeline(milvus_seeds)
    assert p.settings.store == milvus_seeds and p.store_spec == milvus_seeds
    # the only paragraph naming Minsk, first by its BM25 score (Chinese questions fuse by score)
    assert rag.ask(MINSK, index_dir=milvus_seeds, llm="extractive").retrieved[0].chunk.cite == "CD/PV.1505 turn 2 ¶20"


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture()
def cli_env(monkeypatch, tmp_path):
    monkeypatch.setenv("RAG_REFUSE_BELOW", "0")
    monkeypatch.setenv("RAG_REFUSE_BELOW_CROSS", "0")
    monkeypatch.setenv("RAG_LLM", "extractive")
    monkeypatch.setenv("RAG_INDEX", str(tmp_path / "local"))  # the audit log's home
    yield tmp_path
    _release(tmp_path / "cli.db")


def test_cli_ingest_docs_show_ask_remove_on_milvus_with_store_and_collection(cli_env, capsys, fake_index_dir):
    store = ["--store", f"milvus:{cli_env / 'cli.db'}", "--collection", "lib", "--model", "fake"]
    rc, out, _ = _run(capsys, "ingest", *map(str, SEED_FILES.values()), *store, "--quiet")
    assert rc == 0 and out.splitlines()[-1].startswith(f"index milvus:{cli_env / 'cli.db'}#lib: 3 added; version g1-")
    _, out, _ = _run(capsys, "docs", "--json", *store)
    assert [(d["symbol"], d["chunks"]) for d in json.loads(out)] == [("CCW/GGE.1/2023/2", 53), ("EUR/44A25/1", 41),
                                                                      ("CD/PV.1505", 93)]
    _, out, _ = _run(capsys, "show", "CCW/GGE.1/2023/2@zh", "--locator", "¶21(a)", *store)
    assert out == ("# CCW/GGE.1/2023/2 — 致命性自主武器系统领域新兴技术问题政府专家组 2023 年会议报告 (2023-05-19)\n\n"
                   "¶21(a)\n(a) 国际人道法继续充分适用于致命性自主武器系统的潜在开发和使用；\n\n")
    rc, out, _ = _run(capsys, "ask", MINSK, "--json", "--k", "3", *store)
    _, faiss_out, _ = _run(capsys, "ask", MINSK, "--json", "--k", "3", "--index", str(fake_index_dir), "--model", "fake")
    a, f = json.loads(out), json.loads(faiss_out)
    assert rc == 0 and (a["answer"], a["citations"], a["retrieved"]) == (f["answer"], f["citations"], f["retrieved"])
    rc, out, _ = _run(capsys, "ask", MINSK, "--json", *store, "--speaker", "白俄罗斯")
    assert {r["speaker"] for r in json.loads(out)["retrieved"]} == {"安布拉舍维奇先生"}
    rc, out, _ = _run(capsys, "remove", "EUR/44A25/1@zh", *store)
    assert rc == 0 and out == "removed EUR/44A25/1\n"
    rc, out, _ = _run(capsys, "compact", *store)
    assert rc == 0 and out.startswith(f"index milvus:{cli_env / 'cli.db'}#lib: compacted into version g3-") and \
        out.endswith("; 2 documents, 146 chunks\n")
    _, out, _ = _run(capsys, "docs", "--json", *store)
    assert [d["symbol"] for d in json.loads(out)] == ["CCW/GGE.1/2023/2", "CD/PV.1505"]
    audit = [json.loads(line) for line in (cli_env / "local" / "audit.jsonl").read_text().splitlines()]
    assert [(r["action"], r["target"]) for r in audit][-2:] == [("remove", "EUR/44A25/1"), ("compact", "")]


def test_rag_store_environment_variable_selects_milvus_and_an_explicit_index_overrides_it(cli_env, capsys,
                                                                                         monkeypatch):
    monkeypatch.setenv("RAG_STORE", f"milvus:{cli_env / 'cli.db'}")
    rc, out, _ = _run(capsys, "ingest", str(SEED_FILES["EUR/44A25/1"]), "--model", "fake", "--quiet")
    assert rc == 0 and f"index milvus:{cli_env / 'cli.db'}#un_rag: 1 added" in out
    _, out, _ = _run(capsys, "docs", "--json", "--model", "fake")
    assert [d["symbol"] for d in json.loads(out)] == ["EUR/44A25/1"]
    rc, _, err = _run(capsys, "docs", "--index", str(cli_env / "faiss"))
    assert rc == 2 and "no index at" in err  # --index: the embedded store there, not $RAG_STORE


@pytest.mark.parametrize("argv, message", [
    (["--store", "milvus:http://127.0.0.1:9"], "error: cannot reach Milvus at http://127.0.0.1:9 "),
    (["--store", "milvus:/tmp/x.sqlite"], "error: Milvus URI '/tmp/x.sqlite' is neither a Milvus Lite file"),
    (["--store", "milvus:/tmp/x.db", "--collection", "a-b"], "error: collection name 'a-b' is not allowed"),
    (["--store", "pinecone:x"], "error: unknown store 'pinecone'; choose one of: "),  # faiss, milvus and test ones
])
def test_bad_stores_are_one_line_naming_the_fix(cli_env, capsys, argv, message):
    rc, _, err = _run(capsys, "docs", *argv)
    assert rc == 2 and err.startswith(message) and err.count("\n") == 1


def test_no_store_yet_says_how_to_build_one(cli_env, capsys):
    rc, _, err = _run(capsys, "ask", MINSK, "--store", f"milvus:{cli_env / 'cli.db'}", "--model", "fake")
    assert rc == 2 and err == (f"error: no store at milvus:{cli_env / 'cli.db'}#un_rag: build one with `rag ingest "
                               f"PATH... --store milvus:{cli_env / 'cli.db'} --collection un_rag`\n")


def test_rag_eval_runs_on_milvus_with_the_store_flags(milvus_seeds, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("RAG_REFUSE_BELOW", "-1")
    gold = tmp_path / "gold.jsonl"
    lines = (SEED_FILES["CD/PV.1505"].parent / "gold" / "gold.jsonl").read_text(encoding="utf-8").splitlines()
    gold.write_text("\n".join(x for x in lines if json.loads(x)["id"] in ("q055", "q057")) + "\n", encoding="utf-8")
    uri, _, name = milvus_seeds[len("milvus:"):].partition("#")
    rc, _, _ = _run(capsys, "eval", str(gold), "--store", f"milvus:{uri}", "--collection", name, "--model", "fake",
                    "--llm", "extractive", "--out", str(tmp_path / "out"), "--quiet")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert rc == 0 and summary["index"] == milvus_seeds and summary["chunks"] == 187 and summary["questions"] == 2
    # both questions name Minsk: its paragraph (turn 2 ¶20) comes first by BM25 score even with the fake embedder
    assert (summary["configs"][0]["metrics"]["hit@1"], summary["configs"][0]["metrics"]["hit@5"]) == (1.0, 1.0)


def test_the_ui_library_adds_reads_and_removes_on_milvus(tmp_path, fake_embedder):
    from tests.ui.conftest import LUNAR_DOC
    from ui import documents
    from ui.context import make_context

    spec = f"milvus:{tmp_path / 'ui.db'}"
    ctx = make_context(_answering(Settings(index_dir=tmp_path / "local", store=spec, embed_model="fake")))
    assert documents.current_index(ctx) is None
    up = tmp_path / "up" / "lunar.txt"
    up.parent.mkdir()
    up.write_text(LUNAR_DOC, encoding="utf-8")
    rows = documents.add_files(ctx, [up, SEED_FILES["EUR/44A25/1"]])
    assert [r[1:4] for r in rows] == [("added", "A/TEST/2026/1", 5), ("added", "EUR/44A25/1", 41)]
    a = ctx.pipeline.ask("Who will conduct the first survey of lunar water ice?")
    assert a.retrieved[0].chunk.symbol == "A/TEST/2026/1"
    assert "Freedonia" in documents.read_doc(ctx, "A/TEST/2026/1")
    assert documents.remove_doc(ctx, "A/TEST/2026/1") == "A/TEST/2026/1"
    assert list(documents.current_index(ctx).docs) == ["EUR/44A25/1@zh"]
    assert all(h.chunk.symbol != "A/TEST/2026/1" for h in ctx.pipeline.ask("lunar water ice survey").retrieved)
    _release(tmp_path / "ui.db")


# The questions the seeds were chosen for (README, issues 1-3): the same exact citations on both stores.
DONE_WHEN = {"q002": ("CCW/GGE.1/2023/2@zh", "¶21(a)"), "q042": ("EUR/44A25/1@zh", "operative 1 (责成秘书长)"),
             "q055": ("CD/PV.1505@zh", "turn 2 ¶20"), "q056": ("CD/PV.1505@zh", "turn 2 ¶20"),
             "q057": ("CD/PV.1505@zh", "turn 2 ¶20")}


@pytest.mark.slow
def test_real_model_on_milvus_answers_every_seed_gold_question_exactly_as_the_faiss_store(real_pipeline, real_embedder,
                                                                                      tmp_path):
    from rag.ingest.library import ingest

    spec = f"milvus:{tmp_path / 'real.db'}"
    assert not ingest(list(SEED_FILES.values()), spec, real_embedder).failed
    on_milvus = Pipeline(Settings(store=spec), embedder=real_embedder)
    gold = {r["id"]: r for r in map(json.loads, (SEED_FILES["CD/PV.1505"].parent / "gold" / "gold.jsonl")
                                    .read_text(encoding="utf-8").splitlines())}
    for qid, cite in DONE_WHEN.items():
        a = on_milvus.ask(gold[qid]["question"])
        assert not a.refused and cite in {(c.chunk.doc_id, c.chunk.locator) for c in a.citations}, qid
    # Every gold question: the same answer, passages, citations and refusal as the FAISS store (110 of 110).
    differ = [qid for qid, g in gold.items() if _cites(on_milvus.ask(g["question"])) != _cites(real_pipeline.ask(g["question"]))]
    assert differ == []
    _release(tmp_path / "real.db")
