"""Tests for `rag eval`: per-question scores, the runner on a tiny corpus, bad gold input, the files written."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from rag.cli import main
from rag.config import RetrievalSettings, Settings
from rag.eval import evaluate as ev
from rag.eval.gold import GoldQuestion, load_gold
from rag.types import Answer, Chunk, Citation, Hit

ROOT = Path(__file__).resolve().parents[3]
GOLD = ROOT / "seeds" / "gold" / "gold.jsonl"

TINY_DOC = """United Nations A/TST/1
General Assembly
Test report on ocean mammals

1. The blue whale is the largest animal known to have ever existed on Earth.

2. Emperor penguins breed during the Antarctic winter on the sea ice.

3. Sea otters use stones as tools to crack open shellfish and sea urchins.
"""
P1 = "The blue whale is the largest animal known to have ever existed on Earth."
P2 = "Emperor penguins breed during the Antarctic winter on the sea ice."
P3 = "Sea otters use stones as tools to crack open shellfish and sea urchins."
TINY_GOLD = [
    # a question that is its passage: ranked first, confidently answered
    {"id": "t1", "question": P1, "answers": ["The blue whale"], "evidence": ["largest animal known to have ever existed"]},
    # two evidence strings, one of them in no passage: recall@k = 0.5
    {"id": "t2", "question": P3, "answers": ["stones"], "evidence": ["Sea otters use stones", "otters also eat kelp"]},
    # ranked first but below the refusal threshold with the fake embedder: a false refusal
    {"id": "t3", "question": "Which animal is the largest ever?", "answers": ["blue whale"],
     "evidence": ["The blue whale is the largest"], "doc": "tiny"},
    # unanswerable and far from everything: refused (right)
    {"id": "u1", "question": "qqqq zzzz xxxx", "answers": [], "evidence": []},
    # unanswerable but identical to a passage: answered (wrong)
    {"id": "u2", "question": P2, "answers": [], "evidence": []},
]
REFUSE_BELOW = 0.85  # fake-embedder confidences: t1/t2/u2 ≈ 0.96, t3 ≈ 0.76, u1 ≈ 0.14


def write_jsonl(path: Path, records: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n"
                            for r in records), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tiny_index(tmp_path_factory, fake_embedder) -> Path:
    from rag.ingest.library import ingest

    d = tmp_path_factory.mktemp("tiny")
    doc = d / "tiny.txt"
    doc.write_text(TINY_DOC, encoding="utf-8")
    report = ingest([doc], d / "index", fake_embedder)
    assert not report.failed
    return d / "index"


@pytest.fixture(scope="module")
def tiny_pipeline(tiny_index, fake_embedder):
    from rag.answer.pipeline import Pipeline

    s = Settings(index_dir=tiny_index, embed_model="fake", llm="extractive",
                 retrieval=RetrievalSettings(refuse_below=REFUSE_BELOW, refuse_below_other=REFUSE_BELOW,
                                             # the cosine-and-coverage rule the thresholds above were read for
                                             coverage_weight=0.05, gap_weight=0.0, neutral_penalty=0.0,
                                             alignment_weight=0.0))
    return Pipeline(s, embedder=fake_embedder)


@pytest.fixture(scope="module")
def tiny_run(tiny_pipeline, tmp_path_factory):
    gold_path = write_jsonl(tmp_path_factory.mktemp("gold") / "tiny.jsonl", TINY_GOLD)
    out = tmp_path_factory.mktemp("out")
    return ev.run_eval(tiny_pipeline, load_gold(gold_path), [ev.EvalConfig("hybrid", "extractive")], k=5,
                       out_dir=out, gold_path=gold_path)


# --- scoring one question (pure) --------------------------------------------------------------------------


def _chunk(i: int, text: str) -> Chunk:
    return Chunk(chunk_id=f"c{i}", doc_id="D", symbol="A/1", locator=f"¶{i}", text=text, start=0, end=len(text))


def _answer(text: str, cited: list[Chunk], refused: bool = False) -> Answer:
    cites = [Citation(n=i, chunk=c, score=1.0) for i, c in enumerate(cited, 1)]
    return Answer(question="q", text=text, refused=refused, citations=cites,
                  retrieved=[Hit(chunk=c, score=1.0, rank=i) for i, c in enumerate(cited, 1)])


def test_score_question_exact_values():
    passages = [f"filler passage number {i}" for i in range(10)]
    passages[1] = "The ALPHA  beta gamma rule applies."  # evidence 1, rank 2 (whitespace and case differ: NFKC only)
    q = GoldQuestion(id="x", question="?", answers=["blue whale"], evidence=["ALPHA beta gamma", "never retrieved"])
    ans = _answer("The blue whale.[1]", [_chunk(2, passages[1])])
    s = ev.score_question(q, ans, passages, k=5, indexed_relevant=2)
    assert s["rank"] == 2
    assert (s["hit@1"], s["hit@3"], s["hit@5"], s["hit@10"]) == (0.0, 1.0, 1.0, 1.0)
    assert s["rr"] == 0.5
    assert s["recall@k"] == 0.5
    # DCG = 1/log2(3); the ideal ranking has the 2 indexed relevant passages first
    assert s["ndcg@10"] == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))
    # "The blue whale." -> [the, blue, whale] against [blue, whale]: P = 2/3, R = 1
    assert s["answer_f1"] == pytest.approx(0.8)
    assert s["rouge_l"] == pytest.approx(0.8)
    assert s["contains"] is True
    assert (s["citation_precision"], s["citation_recall"]) == (1.0, 0.5)
    assert s["refusal_correct"] is True and s["failures"] == []


def test_score_question_without_indexed_count_uses_the_ranking():
    passages = ["x", "has the evidence here", "y"]
    q = GoldQuestion(id="x", question="?", answers=["a"], evidence=["the evidence"])
    s = ev.score_question(q, _answer("a[1]", [_chunk(2, passages[1])]), passages, k=1)
    assert s["rank"] == 2 and s["hit@1"] == 0.0 and s["recall@k"] == 0.0
    assert s["ndcg@10"] == pytest.approx(1 / math.log2(3))
    assert s["failures"] == ["evidence ranked 2 (beyond k=1)"]


def test_score_question_refusals_and_failures():
    una = GoldQuestion(id="u", question="?", answers=[], evidence=[])
    refused = ev.score_question(una, _answer("The documents do not say.", [], refused=True), ["p"], k=5)
    assert refused["refusal_correct"] is True and refused["failures"] == []
    assert refused["hit@1"] is None and refused["rank"] is None and refused["ndcg@10"] is None
    assert refused["answer_f1"] == 1.0 and refused["citation_precision"] == 1.0
    answered = ev.score_question(una, _answer("Something.[1]", [_chunk(1, "p")]), ["p"], k=5)
    assert answered["refusal_correct"] is False
    assert answered["failures"] == ["answered an unanswerable question"]
    assert answered["citation_precision"] == 0.0 and answered["answer_f1"] == 0.0

    q = GoldQuestion(id="a", question="?", answers=["x"], evidence=["ev"])
    s = ev.score_question(q, _answer("The documents do not say.", [], refused=True), ["p", "has ev"], k=5,
                          indexed_relevant=1)
    assert s["rank"] == 2 and s["answer_f1"] == 0.0 and s["refusal_correct"] is False
    assert s["failures"] == ["false refusal"]
    s = ev.score_question(q, _answer("Wrong.[1]", [_chunk(1, "p")]), ["p"], k=5, indexed_relevant=0)
    assert s["failures"] == ["no indexed passage contains the evidence", "no cited passage contains the evidence",
                             "answer misses the reference"]


def test_scored_text_strips_markers():
    assert ev.scored_text(_answer("专家组于5月19日通过了报告。[1][2]", [])) == "专家组于5月19日通过了报告。"
    assert ev.scored_text(_answer("The documents do not say.", [], refused=True)) == ""
    assert ev.contains_reference("2023 年 5 月 19 日 通过[1]", ["2023年5月19日"])
    assert not ev.contains_reference("", ["x"])


# --- the runner on a tiny corpus --------------------------------------------------------------------------


def test_runner_tiny_records(tiny_run):
    recs = {r["id"]: r for r in tiny_run.records["hybrid/extractive"]}
    assert list(recs) == ["t1", "t2", "t3", "u1", "u2"]
    t1, t2, t3, u1, u2 = (recs[i] for i in ("t1", "t2", "t3", "u1", "u2"))
    assert t1["rank"] == 1 and t1["hit@1"] == 1.0 and t1["rr"] == 1.0 and t1["ndcg@10"] == 1.0
    assert t1["refused"] is False and t1["contains"] is True
    assert t1["citation_precision"] == 1.0 and t1["citation_recall"] == 1.0
    assert t1["ranking"][0]["locator"] == "¶1" and t1["ranking"][0]["relevant"] is True
    assert t1["indexed_relevant"] == 1 and t1["failures"] == []
    assert t2["rank"] == 1 and t2["recall@k"] == 0.5 and t2["indexed_relevant"] == 1
    assert t3["rank"] == 1 and t3["refused"] is True and t3["failures"] == ["false refusal"]
    assert t3["answer_f1"] == 0.0 and t3["doc"] == "tiny"
    assert u1["refused"] is True and u1["refusal_correct"] is True and u1["hit@1"] is None
    assert u2["refused"] is False and u2["failures"] == ["answered an unanswerable question"]
    for r in recs.values():
        if r["id"] != "u1":
            assert r["lang"] == "en"
        # the ranking continues the answer's own retrieval: its first k passages are the answer's
        assert [h["locator"] for h in r["ranking"][: len(r["retrieved"])]] == [h["locator"] for h in r["retrieved"]]
        assert len(r["ranking"]) == 1  # the tiny index's 6 chunks fit one 750-character passage
        # the answer scores are those of the metrics module on the answer text without markers
        from rag.eval.metrics import answer_f1

        assert r["answer_f1"] == answer_f1("" if r["refused"] else ev.MARKER_RE.sub(" ", r["answer"]).strip(),
                                           r["references"])


def test_runner_tiny_summary(tiny_run):
    m = tiny_run.summary["metrics"]
    assert (m["questions"], m["answerable"], m["unanswerable"]) == (5, 3, 2)
    assert m["hit@1"] == 1.0 and m["hit@10"] == 1.0 and m["mrr"] == 1.0
    assert m["recall@k"] == pytest.approx((1 + 0.5 + 1) / 3)
    assert m["refusal_accuracy"] == 0.5
    assert m["false_refusal_rate"] == pytest.approx(1 / 3)
    assert m["citation_precision"] == 1.0  # over the two answered answerable questions
    assert m["citation_recall"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert m["errors"] == 0 and m["failed_questions"] == 2
    assert m["latency_p50_ms"] is not None and m["latency_p95_ms"] >= m["latency_p50_ms"]
    cfg = tiny_run.summary["configs"][0]
    assert set(cfg["by_language"]) >= {"en"}
    assert cfg["by_doc"]["(unanswerable)"]["refusal_accuracy"] == 0.5
    assert cfg["by_doc"]["tiny"]["false_refusal_rate"] == 1.0


def test_question_error_is_recorded_not_fatal(tiny_pipeline):
    long_q = GoldQuestion(id="long", question="x" * 5000, answers=["a"], evidence=["blue whale"])
    recs, _ = ev.evaluate(tiny_pipeline, [long_q], [ev.EvalConfig()], k=5)
    r = recs["hybrid/extractive"][0]
    assert "limit" in r["error"] and r["rank"] is None and r["hit@1"] == 0.0


class PanicException(BaseException):
    """Stands in for pyo3's PanicException (a tokenizer crash), which is not an Exception."""


@pytest.mark.parametrize("exc, message", [(ValueError("boom"), "ValueError: boom"),
                                          (PanicException("index out of bounds"), "PanicException: index out of bounds")])
def test_a_crashing_question_is_recorded_and_the_run_goes_on(tiny_pipeline, monkeypatch, exc, message):
    real_ask = tiny_pipeline.ask

    def ask(question, **kw):
        if question == "crash":
            raise exc
        return real_ask(question, **kw)

    monkeypatch.setattr(tiny_pipeline, "ask", ask)
    qs = [GoldQuestion(id="c", question="crash", answers=["a"], evidence=["blue whale"]),
          GoldQuestion(id="t1", question=P1, answers=["The blue whale"], evidence=["largest animal"])]
    recs = ev.evaluate(tiny_pipeline, qs, [ev.EvalConfig()], k=5)[0]["hybrid/extractive"]
    assert recs[0]["error"] == message and recs[0]["hit@10"] == 0.0 and recs[1]["error"] is None
    assert recs[1]["rank"] == 1


def test_keyboard_interrupt_is_not_swallowed(tiny_pipeline, monkeypatch):
    def ask(question, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(tiny_pipeline, "ask", ask)
    with pytest.raises(KeyboardInterrupt):
        ev.evaluate(tiny_pipeline, [GoldQuestion(id="c", question="q", answers=[], evidence=[])], [ev.EvalConfig()])


def test_unknown_generator_fails_before_the_first_question(tiny_pipeline):
    from rag.errors import RagError

    with pytest.raises(RagError, match="unknown generator"):
        ev.evaluate(tiny_pipeline, [], [ev.EvalConfig("hybrid", "nope")])
    with pytest.raises(RagError, match="retrieval mode"):
        ev.evaluate(tiny_pipeline, [], [ev.EvalConfig("sparse", "extractive")])


def test_compare_configs(monkeypatch):
    monkeypatch.setattr(ev, "available_generators", lambda s: ["local", "extractive"])
    s = Settings(llm="extractive")
    names = [c.name for c in ev.compare_configs(s)]
    assert names == ["dense/extractive", "bm25/extractive", "hybrid/extractive", "hybrid/local"]
    assert [c.name for c in ev.compare_configs(s, "extractive")] == names[:3]


def test_default_out_dir_is_timestamped():
    from datetime import datetime

    assert ev.default_out_dir(datetime(2025, 1, 2, 3, 4, 5)) == Path("eval-out/20250102-030405")


def test_ui_rows_failures_first_and_selection(tiny_run):
    from ui.eval_tab import find_record, question_rows, record_html

    rows, ordered = question_rows(tiny_run.records)
    assert [r[0] for r in rows[:2]] == ["t3", "u2"] and rows[0][3] == "✗" and rows[-1][3] == "✓"
    assert find_record(ordered, 0, ["u2", "hybrid/extractive"])["id"] == "u2"  # by id, even if sorted
    assert find_record(ordered, 1, None)["id"] == "u2"
    html = record_html(ordered[1])
    assert "answered an unanswerable question" in html and "Emperor penguins" in html
    assert "<script>" not in record_html({**ordered[1], "answer": "<script>x</script>"})


# --- the command line: bad input, files written -----------------------------------------------------------


def _eval(tmp_path: Path, index: Path, gold: Path, *extra: str) -> int:
    return main(["eval", str(gold), "--index", str(index), "--model", "fake", "--out", str(tmp_path / "out"),
                 "--quiet", *extra])


@pytest.mark.parametrize("lines, problem", [
    (['{"id": "a", "question": "q?", "answers": [], "evidence": []}', '{"id": "b", "question": "q?"'],
     "line 2: invalid JSON"),
    (['{"id": "a", "question": "q?", "answers": [], "evidence": []}', "", '{"id": "b", "answers": [], "evidence": []}'],
     'line 3: missing field "question"'),
    (['{"id": "a", "question": "q?", "answers": "x", "evidence": []}'],
     'line 1: field "answers" must be a list of strings, got str'),
    (['{"id": "a", "question": "q?", "answers": [], "evidence": []}', '{"id": "a", "question": "r?", "answers": [], "evidence": []}'],
     'line 2: duplicate id "a" (first used on line 1)'),
    ([], "the gold file is empty"),
])
def test_bad_gold_lines_are_named(tmp_path, tiny_index, capsys, lines, problem):
    gold = write_jsonl(tmp_path / "g.jsonl", lines) if lines else (tmp_path / "g.jsonl")
    if not lines:
        gold.write_text("", encoding="utf-8")
    assert _eval(tmp_path, tiny_index, gold) == 2
    err = capsys.readouterr().err
    assert problem in err and "g.jsonl" in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_skip_invalid_counts_skipped_lines(tmp_path, tiny_index, capsys):
    lines = [json.dumps(TINY_GOLD[0]), "{not json", json.dumps({"id": "t1", "question": "dup", "answers": [], "evidence": []}),
             json.dumps(TINY_GOLD[3]), '{"id": "z", "question": "q", "answers": [1], "evidence": []}']
    gold = write_jsonl(tmp_path / "g.jsonl", lines)
    assert _eval(tmp_path, tiny_index, gold) == 2
    capsys.readouterr()
    assert _eval(tmp_path, tiny_index, gold, "--skip-invalid") == 0
    captured = capsys.readouterr()
    assert "line 2:" in captured.err and "line 3: duplicate id" in captured.err and "line 5:" in captured.err
    out = tmp_path / "out"
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["questions"] == 2 and [s["line"] for s in summary["skipped"]] == [2, 3, 5]
    assert "3 invalid lines skipped" in (out / "report.md").read_text(encoding="utf-8")
    assert len((out / "results.jsonl").read_text(encoding="utf-8").splitlines()) == 2


def test_compare_on_tiny_index(tmp_path, tiny_index, capsys):
    gold = write_jsonl(tmp_path / "g.jsonl", TINY_GOLD)
    assert _eval(tmp_path, tiny_index, gold, "--compare", "--llm", "extractive") == 0
    printed = capsys.readouterr().out
    assert "| metric | dense/extractive | bm25/extractive | hybrid/extractive |" in printed
    out = tmp_path / "out"
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert [c["name"] for c in summary["configs"]] == ["dense/extractive", "bm25/extractive", "hybrid/extractive"]
    lines = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 15 and {json.loads(x)["mode"] for x in lines} == {"dense", "bm25", "hybrid"}
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "## By question language — bm25/extractive" in report


EXPECTED_KEYS = {
    "id", "question", "answer", "refused", "citations", "retrieved", "timings", "generator", "standalone_question",
    "confidence", "notes", "config", "mode", "llm", "k", "lang", "doc", "answerable", "references", "evidence",
    "rank", "ranking", "hit@1", "hit@3", "hit@5", "hit@10", "recall@k", "rr", "ndcg@10", "answer_f1", "rouge_l",
    "contains", "citation_precision", "citation_recall", "refusal_correct", "failures", "latency_ms", "error",
}


def check_outputs(out: Path, n_configs: int = 1) -> dict:
    lines = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 110 * n_configs
    recs = [json.loads(x) for x in lines]
    for r in recs:
        assert EXPECTED_KEYS <= set(r), EXPECTED_KEYS - set(r)
    assert [r["id"] for r in recs[:3]] == ["q001", "q002", "q003"]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert (summary["questions"], summary["answerable"], summary["unanswerable"]) == (110, 89, 21)
    assert summary["skipped"] == [] and summary["k"] == 5 and summary["ranking_depth"] == 10
    for key in ("hit@1", "hit@3", "hit@5", "hit@10", "recall@k", "mrr", "ndcg@10", "answer_f1", "rouge_l",
                "citation_precision", "citation_recall", "refusal_accuracy", "false_refusal_rate",
                "latency_p50_ms", "latency_p95_ms"):
        assert key in summary["metrics"]
    cfg = summary["configs"][0]
    assert set(cfg["by_language"]) == {"zh", "en", "fr", "es", "ru"}
    assert {"CCW/GGE.1/2023/2", "EUR/44A25/1", "CD/PV.1505", "(unanswerable)"} == set(cfg["by_doc"])
    assert cfg["by_language"]["zh"]["questions"] == 56 and cfg["by_doc"]["CD/PV.1505"]["questions"] == 35
    report = (out / "report.md").read_text(encoding="utf-8")
    for heading in ("## Summary", "## By question language", "## By document", "## Failures", "| hit@1 |"):
        assert heading in report
    assert (out / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return summary


def test_end_to_end_cli_on_seeds_fake(tmp_path, fake_index_dir, capsys):
    assert main(["eval", str(GOLD), "--index", str(fake_index_dir), "--model", "fake", "--out", str(tmp_path),
                 "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "| metric | hybrid/extractive |" in printed and "results.jsonl" in printed
    check_outputs(tmp_path)


@pytest.mark.slow
def test_end_to_end_cli_on_seeds_real(tmp_path, real_index_dir):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "rag.cli", "eval", str(GOLD), "--index", str(real_index_dir),
                           "--out", str(tmp_path), "--llm", "extractive"],
                          capture_output=True, text=True, cwd=ROOT, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "eval: 100%" in proc.stderr  # the progress bar
    summary = check_outputs(tmp_path)
    m = summary["metrics"]
    assert m["hit@10"] > 0.6 and m["mrr"] > 0.4  # the real embedder finds most evidence
