"""Exact values of every evaluation metric on small hand-made cases."""
from __future__ import annotations

import math
import random

import numpy as np
import pytest

from rag.eval.gold import contains_evidence, normalize_for_match
from rag.eval.metrics import (
    answer_f1,
    char_f1,
    citation_precision,
    citation_recall,
    detect_language,
    evidence_ranks,
    first_relevant_rank,
    hit_at_k,
    ndcg_at_k,
    percentile,
    recall_at_k,
    reciprocal_rank,
    relevances,
    rouge_l,
    rouge_l_pair,
    token_f1,
    tokenize_for_f1,
)


def exact(x: float) -> object:
    return pytest.approx(x, rel=1e-12, abs=1e-15)


# --- evidence matching -----------------------------------------------------------------------------

def test_normalize_for_match_nfkc_and_all_whitespace() -> None:
    assert normalize_for_match("Ａ　Ｂ\tc\n d\u00a0e") == "ABcde"
    assert normalize_for_match("（２０２３）") == "(2023)"


def test_contains_evidence_ignores_whitespace_and_width() -> None:
    passage = "25. 专家组于 2023 年 5 月 19 日星期五经口头修改后通过了 CCW/GGE.1/2023/\nCRP.2 号文件"
    assert contains_evidence(passage, ["专家组于２０２３年５月\n19日"])  # full-width digits, line break
    assert contains_evidence(passage, ["nothing", "CCW/GGE.1/2023/CRP.2"])
    assert contains_evidence("２０２３年", ["2023 年"])
    assert not contains_evidence(passage, ["2024 年"])
    assert not contains_evidence(passage, [])
    assert not contains_evidence(passage, ["", "  "])


def test_evidence_ranks_relevances_first_rank() -> None:
    passages = ["nothing here", "has B 2", "has A1 and B2"]
    assert evidence_ranks(passages, ["A1", "B2", "Z"]) == [3, 2, None]
    assert relevances(passages, ["A1", "B2"]) == [0, 1, 1]
    assert first_relevant_rank([0, 1, 1]) == 2
    assert first_relevant_rank([0, 0]) is None


# --- retrieval metrics -----------------------------------------------------------------------------

def test_hit_at_k() -> None:
    assert hit_at_k(3, 3) == 1.0
    assert hit_at_k(1, 1) == 1.0
    assert hit_at_k(4, 3) == 0.0
    assert hit_at_k(None, 10) == 0.0
    with pytest.raises(ValueError):
        hit_at_k(1, 0)


def test_recall_at_k() -> None:
    assert recall_at_k([1, 4, None], 3, 3) == exact(1 / 3)
    assert recall_at_k([1, 4, None], 3, 5) == exact(2 / 3)
    assert recall_at_k([2], 3, 5) == exact(1 / 3)  # strings not listed count as not found
    assert recall_at_k([1, 1], 2, 1) == 1.0
    assert recall_at_k([], 2, 5) == 0.0
    with pytest.raises(ValueError):
        recall_at_k([], 0, 5)
    with pytest.raises(ValueError):
        recall_at_k([1, 2, 3], 2, 5)


def test_reciprocal_rank() -> None:
    assert reciprocal_rank(1) == 1.0
    assert reciprocal_rank(4) == 0.25
    assert reciprocal_rank(None) == 0.0
    assert reciprocal_rank(4, k=3) == 0.0
    assert reciprocal_rank(3, k=3) == exact(1 / 3)


def test_ndcg_at_k() -> None:
    # relevant at ranks 2 and 4; ideal puts the 2 relevant ones at ranks 1 and 2
    expected = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert ndcg_at_k([0, 1, 0, 1], k=10) == exact(expected)
    assert ndcg_at_k([0, 1, 0, 1], k=10) == pytest.approx(0.6509209298071326, rel=1e-12)
    # k cuts the DCG but the ideal counts relevant entries of the whole list: min(R=2, k=2)
    assert ndcg_at_k([0, 1, 0, 1], k=2) == exact((1 / math.log2(3)) / (1 + 1 / math.log2(3)))
    assert ndcg_at_k([1, 0, 0], k=1) == 1.0
    assert ndcg_at_k([1, 1, 0], k=3) == 1.0
    assert ndcg_at_k([0, 1], k=1) == 0.0
    assert ndcg_at_k([0, 0, 0]) == 0.0
    assert ndcg_at_k([]) == 0.0
    assert ndcg_at_k([3, 0, 2], k=3) == exact((1 + 0.5) / (1 + 1 / math.log2(3)))  # binarised
    assert ndcg_at_k([1], k=10, n_relevant=2) == exact(1 / (1 + 1 / math.log2(3)))
    assert ndcg_at_k([1], k=10, n_relevant=2) == pytest.approx(0.6131471927654584, rel=1e-12)
    with pytest.raises(ValueError):
        ndcg_at_k([1], k=0)


# --- answer scores ---------------------------------------------------------------------------------

def test_tokenize_for_f1() -> None:
    assert tokenize_for_f1("2023年5月19日") == ["2023", "年", "5", "月", "19", "日"]
    assert tokenize_for_f1("Ｔｈｅ ２０２３ Report, on AI!") == ["the", "2023", "report", "on", "ai"]
    assert tokenize_for_f1("第 73/266 号决议。") == ["第", "73", "266", "号", "决", "议"]
    assert tokenize_for_f1("弗拉维奥·苏亚雷斯") == ["弗", "拉", "维", "奥", "苏", "亚", "雷", "斯"]
    assert tokenize_for_f1("l'Angola, Israël") == ["l", "angola", "israël"]
    assert tokenize_for_f1("。！？ ...") == []


def test_cjk_character_f1() -> None:
    # pred tokens 2023/年/5/月/19/日 (6), ref adds 星/期/五 (9): P = 1, R = 2/3
    assert char_f1("2023年5月19日", "2023年5月19日星期五") == exact(0.8)
    assert token_f1("2023 年 5 月 19 日", "２０２３年５月１９日星期五") == exact(0.8)
    # 中满泉 vs 中满泉女士: P = 1, R = 3/5 -> F1 = 0.75
    assert char_f1("中满泉", "裁军事务高级代表中满泉女士") == exact(2 * (3 / 13) / (1 + 3 / 13))
    assert char_f1("中满泉", "中满泉女士") == exact(0.75)
    assert char_f1("日内瓦", "日内瓦") == 1.0
    assert char_f1("日内瓦", "纽约") == 0.0


def test_word_f1() -> None:
    assert token_f1("the cat sat", "the cat sat on the mat") == exact(2 / 3)
    assert token_f1("Geneva", "geneva, Switzerland") == exact(2 / 3)
    assert token_f1("the the", "the") == exact(2 * 0.5 * 1 / 1.5)
    assert token_f1("", "") == 1.0
    assert token_f1("", "x") == 0.0
    assert token_f1("x", "") == 0.0


def test_answer_f1_best_reference_and_edge_cases() -> None:
    assert answer_f1("日内瓦", ["Geneva", "日内瓦"]) == 1.0
    assert answer_f1("2023年5月19日", ["May 19", "2023年5月19日星期五"]) == exact(0.8)
    assert answer_f1("", ["x"]) == 0.0
    assert answer_f1("", []) == 1.0  # unanswerable question, empty (refusal) prediction
    assert answer_f1("。！", []) == 1.0  # punctuation only has no tokens
    assert answer_f1("Geneva", []) == 0.0


def test_rouge_l() -> None:
    assert rouge_l_pair("a b c d", "a c d e") == exact(0.75)
    assert rouge_l_pair("b a", "a b") == exact(0.5)
    assert token_f1("b a", "a b") == 1.0
    # CJK: LCS 五月十九日通过 = 7 of pred 7 / ref 11 -> F = 2 * 1 * (7/11) / (1 + 7/11) = 7/9
    assert rouge_l_pair("五月十九日通过", "于五月十九日星期五通过") == exact(7 / 9)
    assert rouge_l("b a", ["x", "b a c"]) == exact(2 * 1 * (2 / 3) / (1 + 2 / 3))
    assert rouge_l("", []) == 1.0
    assert rouge_l("x", []) == 0.0
    assert rouge_l("", ["x"]) == 0.0


# --- citations -------------------------------------------------------------------------------------

def test_citation_precision_and_recall() -> None:
    cited = ["第 25 段：专家组于 2023 年 5 月\n19 日星期五通过", "毫不相关的段落", "has A1 and B2"]
    evidence = ["专家组于２０２３年５月19日", "A 1", "C3"]
    assert citation_precision(cited, evidence) == exact(2 / 3)
    assert citation_recall(cited, evidence) == exact(2 / 3)
    assert citation_recall(cited[:1], evidence) == exact(1 / 3)
    assert citation_precision(cited[:1], evidence) == 1.0
    assert citation_precision(["has A1 and B2"], ["A1", "B2"]) == 1.0
    assert citation_recall(["has A1 and B2"], ["A1", "B2"]) == 1.0


def test_citation_edge_cases() -> None:
    assert citation_precision([], ["x"]) == 0.0
    assert citation_recall([], ["x"]) == 0.0
    assert citation_precision([], []) == 1.0  # unanswerable, nothing cited
    assert citation_recall([], []) == 1.0
    assert citation_precision(["x"], []) == 0.0  # unanswerable, but support was claimed
    assert citation_recall(["x"], []) == 0.0


# --- percentile -------------------------------------------------------------------------------------

def test_percentile() -> None:
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([4, 1, 3, 2], 95) == exact(3.85)
    assert percentile([1, 2, 3, 4], 0) == 1.0
    assert percentile([1, 2, 3, 4], 100) == 4.0
    assert percentile([7], 99) == 7.0
    rng = random.Random(0)
    for n in (2, 5, 17, 100):
        xs = [rng.uniform(0, 1000) for _ in range(n)]
        for p in (0, 1, 25, 50, 90, 95, 99, 100):
            assert percentile(xs, p) == pytest.approx(float(np.percentile(xs, p)), rel=1e-12)
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1], 101)


# --- language ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "text, lang",
    [
        ("明斯克将举行什么会议？", "zh"),
        ("CCW/GGE.1/2023/WP.4/Rev.2号文件由哪些国家提交？", "zh"),
        ("ITU-D的作用是什么？", "zh"),
        ("Who chaired the Group of Governmental Experts?", "en"),
        ("What does 国际人道法继续充分适用 mean?", "en"),
        # the letters of a list's items are no English words (UNPC dev line 3824 was read as English)
        ("注：(a) 国家一级的联合国国家工作队；(b) 国家环境政策制定；(c) 环境监督与审计；(d) 缺乏参与。", "zh"),
        ("Minsk conference dates?", "en"),
        ("Quels États ont participé en tant qu'observateurs ?", "fr"),
        ("Qui a présidé le Groupe ?", "fr"),
        ("¿Qué país preside el grupo de trabajo?", "es"),
        ("¿Cuándo se aprobó el informe?", "es"),
        ("Когда Группа приняла свой доклад?", "ru"),
        ("ما هو موقف المجموعة؟", "ar"),
        ("これは何ですか", "other"),
        ("Τι είπε η Γαλλία;", "other"),
        ("12345 ?", "other"),
        ("", "other"),
    ],
)
def test_detect_language(text: str, lang: str) -> None:
    assert detect_language(text) == lang
