"""Tests of the SQuAD-to-gold converter on a hand-made file and on the real CMRC 2018 dev set."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.errors import RagError
from rag.eval.gold import load_gold, normalize_for_match
from rag.eval.squad import evidence_sentence, main, split_sentences, squad_contexts, squad_to_gold

CMRC_DEV = Path("/work/shared/data/cmrc2018/cmrc2018_dev.squad.json")

CTX1 = "第一句。第二句有答案甲！第三句\n第四句?"
CTX2 = "Alpha beta. The answer is Gamma 3.5 here! Epsilon?"


def tiny() -> dict:
    return {
        "version": "v1.0",
        "data": [
            {"title": "标题一", "id": "A1", "paragraphs": [{"id": "C1", "context": CTX1, "qas": [
                {"id": "q1", "question": "答案是什么？", "answers": [
                    {"text": "答案甲", "answer_start": 8}, {"text": "答案甲", "answer_start": 8},
                    {"text": "第二句有答案甲", "answer_start": 4}]},
                {"id": "q2", "question": "跨句？", "answers": [{"text": "答案甲！第三句", "answer_start": 8}]},
                {"id": "q3", "question": "错位？", "answers": [{"text": "第四句", "answer_start": 0}]},
                {"id": "q4", "question": "不存在？", "answers": [{"text": "乙丙丁", "answer_start": 0}]},
            ]}]},
            {"title": "Title / two", "paragraphs": [
                {"context": CTX2, "qas": [
                    {"id": "q5", "question": "What is here?", "answers": [{"text": "Gamma 3.5", "answer_start": 26}]},
                    {"id": "q6", "question": "Unanswerable?", "answers": [], "is_impossible": True},
                ]},
                {"context": "第二段。", "qas": []},
            ]},
        ],
    }


@pytest.fixture()
def tiny_path(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(tiny(), ensure_ascii=False), encoding="utf-8")
    return path


def test_split_sentences() -> None:
    assert [CTX1[a:b] for a, b in split_sentences(CTX1)] == ["第一句。", "第二句有答案甲！", "第三句\n", "第四句?"]
    text = '他说：“好！”然后走了。 Mr. X left. 3.5 m'
    assert [text[a:b] for a, b in split_sentences(text)] == ["他说：“好！”", "然后走了。", " Mr.", " X left.", " 3.5 m"]
    assert split_sentences("") == []


def test_evidence_sentence_single_and_crossing() -> None:
    assert evidence_sentence(CTX1, 6, 3) == "第二句有答案甲！"
    assert evidence_sentence(CTX1, 8, 6) == "第二句有答案甲！第三句"
    assert evidence_sentence(CTX1, 0, 4) == "第一句。"
    assert evidence_sentence(CTX1, 16, 3) == "第四句?"


def test_squad_to_gold_tiny(tiny_path: Path) -> None:
    records, stats = squad_to_gold(tiny_path)
    by_id = {r["id"]: r for r in records}
    assert list(by_id) == ["q1", "q2", "q3", "q5", "q6"]
    assert by_id["q1"] == {"id": "q1", "question": "答案是什么？", "answers": ["答案甲", "第二句有答案甲"],
                           "evidence": ["第二句有答案甲！"], "doc": "C1", "title": "标题一"}
    assert by_id["q2"]["evidence"] == ["第二句有答案甲！第三句"]
    assert by_id["q3"]["evidence"] == ["第四句?"]  # wrong answer_start, relocated
    assert by_id["q5"]["evidence"] == ["The answer is Gamma 3.5 here!"]
    assert by_id["q5"]["doc"] == "Title_two_0"
    assert by_id["q6"]["answers"] == [] and by_id["q6"]["evidence"] == []
    assert (stats.contexts, stats.questions, stats.unanswerable, stats.relocated) == (3, 5, 1, 1)
    assert stats.dropped == [("q4", "answer text not found in its context")]


def test_squad_contexts_tiny(tiny_path: Path) -> None:
    assert squad_contexts(tiny_path) == [("C1", "标题一", CTX1), ("Title_two_0", "Title / two", CTX2),
                                         ("Title_two_1", "Title / two", "第二段。")]


def test_cli_writes_valid_gold_and_corpus(tiny_path: Path, tmp_path: Path) -> None:
    out, corpus = tmp_path / "out" / "gold.jsonl", tmp_path / "corpus"
    assert main([str(tiny_path), str(out), "--corpus-dir", str(corpus)]) == 0
    gs = load_gold(out)
    assert [q.id for q in gs] == ["q1", "q2", "q3", "q5", "q6"]
    assert sorted(p.name for p in corpus.iterdir()) == ["C1.txt", "Title_two_0.txt", "Title_two_1.txt"]
    assert (corpus / "C1.txt").read_text(encoding="utf-8") == CTX1 + "\n"
    for q in gs:
        if q.evidence:
            assert normalize_for_match(q.evidence[0]) in normalize_for_match((corpus / f"{q.doc}.txt").read_text())


def test_duplicate_qa_id_and_bad_input(tmp_path: Path) -> None:
    d = tiny()
    d["data"][1]["paragraphs"][0]["qas"][0]["id"] = "q1"
    path = tmp_path / "dup.json"
    path.write_text(json.dumps(d), encoding="utf-8")
    with pytest.raises(RagError, match="duplicate question id q1"):
        squad_to_gold(path)
    bad = tmp_path / "bad.json"
    bad.write_text('{"nodata": 1}', encoding="utf-8")
    with pytest.raises(RagError, match="not SQuAD format"):
        squad_to_gold(bad)
    assert main([str(bad), str(tmp_path / "x.jsonl")]) == 1


@pytest.mark.skipif(not CMRC_DEV.exists(), reason="CMRC 2018 dev set not available")
def test_real_cmrc2018_dev(tmp_path: Path) -> None:
    contexts = squad_contexts(CMRC_DEV)
    assert len(contexts) == 848
    assert len({c[0] for c in contexts}) == 848
    records, stats = squad_to_gold(CMRC_DEV)
    assert len(records) == 3219
    assert (stats.contexts, stats.questions, stats.unanswerable, stats.relocated) == (848, 3219, 0, 3)
    assert stats.dropped == []
    texts = {doc_id: normalize_for_match(text) for doc_id, _, text in contexts}
    for r in records:
        assert len(r["evidence"]) == 1 and r["answers"]
        ev = normalize_for_match(r["evidence"][0])
        assert normalize_for_match(r["answers"][0]) in ev, r["id"]
        assert ev in texts[r["doc"]], r["id"]
    out = tmp_path / "cmrc_dev.jsonl"
    assert main([str(CMRC_DEV), str(out)]) == 0
    gs = load_gold(out)
    assert len(gs) == 3219 and len({q.id for q in gs}) == 3219
