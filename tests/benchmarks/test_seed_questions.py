"""The seed question sets of benchmarks/data (written apart from seeds/gold): gold format, verbatim evidence, halves."""
from __future__ import annotations

import json
from collections import Counter

import pytest

from rag.eval.gold import load_gold, normalize_for_match
from tests.benchmarks.test_unpc_questions import half_counts, retrieval_module
from tests.fixtures import ROOT, SEED_FILES

DATA = ROOT / "benchmarks" / "data"
FILES = {"seeds_en_questions.jsonl": "en", "seeds_zh_questions.jsonl": "zh"}
GOLD = ROOT / "seeds" / "gold" / "gold.jsonl"


@pytest.mark.parametrize("name", sorted(FILES))
def test_seed_question_files_are_gold_format_with_verbatim_short_evidence(name):
    lang = FILES[name]
    qs = load_gold(DATA / name).questions
    assert [q.id for q in qs] == [f"seeds-{lang}-{i:03d}" for i in range(1, 65)]
    assert {q.extra["lang"] for q in qs} == {lang}
    assert Counter(q.doc for q in qs) == {"CD/PV.1505": 24, "CCW/GGE.1/2023/2": 20, "EUR/44A25/1": 12, None: 8}
    texts = {sym: normalize_for_match(path.read_text(encoding="utf-8")) for sym, path in SEED_FILES.items()}
    for q in qs:
        if q.doc is None:
            assert (q.answers, q.evidence, q.extra["type"]) == ([], [], "unanswerable"), q.id
            continue
        assert q.answers and 1 <= len(q.evidence) <= 3, q.id
        for ev in q.evidence:
            assert 0 < len(ev) <= 80 and "\n" not in ev, (q.id, ev)
            assert normalize_for_match(ev) in texts[q.doc], (q.id, ev)


def test_seed_questions_share_neither_questions_nor_evidence_with_seeds_gold():
    gold = load_gold(GOLD).questions
    gold_questions = {q.question for q in gold}
    gold_evidence = {normalize_for_match(e) for q in gold for e in q.evidence}
    for name in FILES:
        for q in load_gold(DATA / name).questions:
            assert q.question not in gold_questions, q.id
            assert not {normalize_for_match(e) for e in q.evidence} & gold_evidence, q.id


def test_seeds_new_corpus_splits_by_evidence_region_into_even_halves():
    bench = retrieval_module()
    corpus = bench.load_seeds_new(0)
    assert corpus.name == "seeds/new questions" and len(corpus.docs) == 3 and len(corpus.questions) == 128
    assert half_counts(corpus.questions) == {("dev", True): 54, ("dev", False): 7,
                                             ("test", True): 58, ("test", False): 9}
    assert sum(q.kind == "unanswerable" for q in corpus.questions) == 16
    lines = {json.loads(ln)["id"] for f in FILES for ln in (DATA / f).read_text(encoding="utf-8").splitlines()}
    assert {q.qid for q in corpus.questions} == lines
