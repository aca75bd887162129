"""The question sets of benchmarks/data: the hand-written UNPC ones (verbatim evidence, ids and lines, the unpc-zh set), UNPC zh→en, and CMRC asked in English."""
from __future__ import annotations

import importlib.util
import json
import sys

import pytest

from tests.fixtures import ROOT, SHARED_DATA

DATA = ROOT / "benchmarks" / "data"
DEVSET = SHARED_DATA / "unpc-devset"
FILES = {  # file -> (language, id prefix before the number, number of questions, digits of the number)
    "unpc_en_questions.jsonl": ("en", "unpc-en-", 40, 2),
    "unpc_en_rc_questions.jsonl": ("en", "unpc-en-rc-", 80, 2),
    "unpc_en_rc2_questions.jsonl": ("en", "unpc-en-rc2-", 120, 3),
    "unpc_zh_rc_questions.jsonl": ("zh", "unpc-zh-rc-", 80, 2),
    "unpc_zh_rc2_questions.jsonl": ("zh", "unpc-zh-rc2-", 120, 3),
}
needs_devset = pytest.mark.skipif(not DEVSET.exists(), reason=f"the UNPC dev set is not at {DEVSET}")


def rows(name: str) -> list[dict]:
    return [json.loads(ln) for ln in (DATA / name).read_text(encoding="utf-8").splitlines() if ln.strip()]


def half_counts(questions) -> dict[tuple[str, bool], int]:
    """(half, answerable) -> how many of `questions`."""
    return {(h, a): sum(q.half == h and q.answerable == a for q in questions)
            for h in ("dev", "test") for a in (True, False)}


def retrieval_module():
    """benchmarks/retrieval.py is a script, not a package module: load it from its path."""
    spec = importlib.util.spec_from_file_location("bench_retrieval", ROOT / "benchmarks" / "retrieval.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["bench_retrieval"] = mod  # dataclasses resolve their module through sys.modules
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("name", sorted(FILES))
def test_question_files_have_numbered_unique_ids_one_answer_span_and_distinct_lines(name):
    lang, prefix, n, digits = FILES[name]
    rs = rows(name)
    assert [r["id"] for r in rs] == [f"{prefix}{i:0{digits}d}" for i in range(1, n + 1)]
    assert all(r["language"] == lang and r["answers"] == r["evidence"] and len(r["evidence"]) == 1 for r in rs)
    assert len({r["line"] for r in rs}) == n


def test_no_two_question_files_use_the_same_devset_line():
    lines = [r["line"] for name in FILES for r in rows(name)]
    assert len(lines) == len(set(lines)) == sum(n for _, _, n, _ in FILES.values())


@needs_devset
@pytest.mark.parametrize("name", ["unpc_en_rc2_questions.jsonl", "unpc_zh_rc2_questions.jsonl"])
def test_every_evidence_span_of_the_second_sets_occurs_on_no_other_devset_line(name):
    lang = FILES[name][0]
    lines = (DEVSET / f"UNv1.0.devset.{lang}").read_text(encoding="utf-8").splitlines()
    assert [r["id"] for r in rows(name) if [i for i, ln in enumerate(lines) if r["evidence"][0] in ln] != [r["line"]]] == []


@needs_devset
@pytest.mark.parametrize("name", sorted(FILES))
def test_every_evidence_span_occurs_verbatim_in_its_devset_line(name):
    lang = FILES[name][0]
    lines = (DEVSET / f"UNv1.0.devset.{lang}").read_text(encoding="utf-8").splitlines()
    missing = [(r["id"], e) for r in rows(name) for e in r["evidence"] if e not in lines[r["line"]].strip()]
    assert missing == []


@needs_devset
def test_unpc_zh_set_is_200_chinese_questions_over_500_chinese_documents_with_half_left_out():
    bench = retrieval_module()
    corpus = bench.load_unpc_zh(SHARED_DATA, 0)
    assert (len(corpus.docs), len(corpus.questions)) == (500, 200)
    assert {d.meta["language"] for d in corpus.docs} == {"zh"} and {q.lang for q in corpus.questions} == {"zh"}
    by_id = {d.doc_id: d for d in corpus.docs}
    for q, r in zip(corpus.questions, rows("unpc_zh_rc_questions.jsonl") + rows("unpc_zh_rc2_questions.jsonl")):
        doc = by_id[f"UNPC-ZH_{r['line'] // bench.UNPC_DOC_LINES + 1}"]
        assert q.needles[0] in bench.norm(doc.text)
        assert (q.half, q.answerable) == (doc.half, not doc.held_out)
    counts = half_counts(corpus.questions)
    # (half, answerable) -> questions; seed 0 draws halves and left-out documents by symbol hash
    assert counts == {("dev", True): 48, ("dev", False): 59, ("test", True): 46, ("test", False): 47}


@needs_devset
def test_unpc_en_set_holds_the_40_paraphrases_and_the_200_reading_comprehension_questions():
    corpus = retrieval_module().load_unpc_en(SHARED_DATA, 0)
    ids = [q.qid for q in corpus.questions]
    assert (len(corpus.docs), len(ids), sum(i.startswith("unpc-en-rc") for i in ids)) == (500, 240, 200)
    counts = half_counts(corpus.questions)
    assert counts == {("dev", True): 53, ("dev", False): 60, ("test", True): 58, ("test", False): 69}


@needs_devset
def test_unpc_zh2en_asks_each_chinese_sentence_over_the_english_documents_of_the_same_symbols():
    bench = retrieval_module()
    zh2en = bench.load_unpc(SHARED_DATA, 300, 0, "zh")
    en2zh = bench.load_unpc(SHARED_DATA, 300, 0)
    assert {d.meta["language"] for d in zh2en.docs} == {"en"} and {q.lang for q in zh2en.questions} == {"zh"}
    # the same 500 symbols, halves and left-out documents on either side
    assert [(d.meta["symbol"], d.half, d.held_out) for d in zh2en.docs] == [
        (d.meta["symbol"], d.half, d.held_out) for d in en2zh.docs]
    by_line = {q.qid.rsplit("-", 1)[1]: q for q in zh2en.questions}
    zh = (DEVSET / "UNv1.0.devset.zh").read_text(encoding="utf-8").splitlines()
    en = (DEVSET / "UNv1.0.devset.en").read_text(encoding="utf-8").splitlines()
    for line, q in list(by_line.items())[:50]:
        assert q.text == zh[int(line)].strip() and q.needles == [bench.norm(en[int(line)])]
    counts = half_counts(zh2en.questions)
    assert counts == {("dev", True): 300, ("dev", False): 150, ("test", True): 300, ("test", False): 150}


@needs_devset
def test_cmrc_in_english_replaces_each_question_of_the_150_per_half_cmrc_draw_by_its_translation():
    bench = retrieval_module()
    en = bench.load_cmrc_en(SHARED_DATA, 0, 0.5)
    zh = bench.load_cmrc(SHARED_DATA, bench.CMRC_EN_LIMIT, 0, 0.5)
    translated = {r["id"]: r for r in rows("cmrc_en_questions.jsonl")}
    assert len(translated) == len(zh.questions) == len(en.questions) == 450
    for a, b in zip(zh.questions, en.questions):
        assert (a.qid, a.needles, a.half, a.answerable) == (b.qid, b.needles, b.half, b.answerable)
        assert translated[a.qid]["zh"] == a.text and translated[a.qid]["question"] == b.text and b.lang == "en"
