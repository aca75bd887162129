"""Tests of the gold loader and of the project's gold set seeds/gold/gold.jsonl against the seed texts."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from rag.errors import RagError
from rag.eval.gold import GoldQuestion, contains_evidence, load_gold, normalize_for_match, write_gold
from rag.eval.metrics import detect_language
from tests.fixtures import ROOT, SEED_FILES

GOLD = ROOT / "seeds" / "gold" / "gold.jsonl"
FURNITURE = ("undocs.org", "19-11607", "9/12")


def seed_text(symbol: str) -> str:
    return SEED_FILES[symbol].read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def gold() -> list[GoldQuestion]:
    return load_gold(GOLD).questions


# --- the project's gold set -----------------------------------------------------------------------

def test_every_evidence_string_is_in_its_seed_document(gold: list[GoldQuestion]) -> None:
    texts = {sym: normalize_for_match(seed_text(sym)) for sym in SEED_FILES}
    missing = [(q.id, ev) for q in gold for ev in q.evidence if normalize_for_match(ev) not in texts[q.doc]]
    assert missing == []
    for q in gold:
        if q.evidence:
            assert contains_evidence(seed_text(q.doc), q.evidence), q.id


def test_evidence_is_short_and_free_of_furniture_and_line_breaks(gold: list[GoldQuestion]) -> None:
    for q in gold:
        for ev in q.evidence:
            assert 0 < len(ev) <= 80, (q.id, ev)
            assert "\n" not in ev and not any(f in ev for f in FURNITURE), (q.id, ev)


def test_ids_unique_docs_known_and_answers_consistent(gold: list[GoldQuestion]) -> None:
    ids = [q.id for q in gold]
    assert len(ids) == len(set(ids))
    for q in gold:
        if q.answers:
            assert q.evidence and q.doc in SEED_FILES, q.id
        else:
            assert q.evidence == [] and q.doc is None, q.id


def test_composition(gold: list[GoldQuestion]) -> None:
    langs = Counter(q.extra["lang"] for q in gold)
    assert len(gold) >= 64
    assert langs["en"] >= 16
    assert sum(1 for q in gold if not q.answers) >= 10
    assert {"fr", "es", "ru"} <= set(langs)
    assert {q.doc for q in gold if q.doc} == set(SEED_FILES)
    # the declared language is what the detector finds
    assert [(q.id, q.extra["lang"]) for q in gold if detect_language(q.question) != q.extra["lang"]] == []


def test_required_questions_present(gold: list[GoldQuestion]) -> None:
    minsk = [q for q in gold if q.question == "明斯克将举行什么会议？"]
    assert len(minsk) == 1 and minsk[0].doc == "CD/PV.1505"
    assert "明斯克" in minsk[0].evidence[0]
    ihl = [q for q in gold if q.extra["lang"] == "en" and "国际人道法继续充分适用于致命性自主武器系统的潜在开发和使用" in q.evidence]
    assert len(ihl) == 1 and ihl[0].doc == "CCW/GGE.1/2023/2"


def test_france_did_not_speak_in_cd_pv_1505() -> None:
    """The unanswerable question about France relies on this."""
    assert "法国" not in normalize_for_match(seed_text("CD/PV.1505"))


# --- the loader ------------------------------------------------------------------------------------

GOOD = {"id": "a", "question": "什么？", "answers": ["x"], "evidence": ["y z"], "doc": "D/1"}


def write_lines(tmp_path: Path, lines: list[str], name: str = "gold.jsonl", bom: bool = False) -> Path:
    path = tmp_path / name
    data = "\n".join(lines) + "\n"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data.encode("utf-8"))
    return path


def rec(**over: object) -> str:
    d = {**GOOD, **over}
    return json.dumps({k: v for k, v in d.items() if v is not ...}, ensure_ascii=False)


def test_loads_valid_file_with_bom_blank_lines_extra_fields(tmp_path: Path) -> None:
    path = write_lines(tmp_path, ["", rec(), "   ", rec(id="b", doc=None, answers=[], evidence=[], lang="zh")],
                       bom=True)
    gs = load_gold(path)
    assert [q.id for q in gs] == ["a", "b"]
    assert [q.line for q in gs] == [2, 4]
    a, b = gs.questions
    assert a.answers == ["x"] and a.evidence == ["y z"] and a.doc == "D/1" and a.extra == {} and a.answerable
    assert b.doc is None and b.extra == {"lang": "zh"} and not b.answerable
    assert gs.skipped == [] and len(gs) == 2


def test_missing_doc_is_allowed(tmp_path: Path) -> None:
    assert load_gold(write_lines(tmp_path, [rec(doc=...)])).questions[0].doc is None


@pytest.mark.parametrize(
    "bad, problem",
    [
        ('{"id": "z", "question": "q", "answers": ["x"]', "invalid JSON"),
        ('["not", "an", "object"]', "expected a JSON object, got list"),
        (rec(answers="x"), 'field "answers" must be a list of strings, got str'),
        (rec(answers=["x", 3]), 'field "answers" must be a list of strings, item 2 is int'),
        (rec(evidence=None), 'field "evidence" must be a list of strings, got null'),
        (rec(evidence=["ok", "  "]), 'field "evidence" item 2 is empty'),
        (rec(evidence=...), 'missing field "evidence"'),
        (rec(question=...), 'missing field "question"'),
        (rec(id=7), 'field "id" must be a string, got int'),
        (rec(question=""), 'field "question" is empty'),
        (rec(doc=["D/1"]), 'field "doc" must be a string or null, got list'),
        (rec(id="a"), 'duplicate id "a" (first used on line 1)'),
    ],
)
def test_errors_name_file_line_and_problem(tmp_path: Path, bad: str, problem: str) -> None:
    path = write_lines(tmp_path, [rec(), "", rec(id="b"), bad, rec(id="c")])
    with pytest.raises(RagError) as ei:
        load_gold(path)
    assert str(ei.value).startswith(f"{path} line 4: ")
    assert problem in str(ei.value)


def test_error_message_example_format(tmp_path: Path) -> None:
    lines = [rec(id=f"q{i}") for i in range(1, 7)] + [rec(id="q7", answers="2023")]
    path = write_lines(tmp_path, lines)
    with pytest.raises(RagError, match='^' + str(path).replace("\\", "\\\\")
                       + r' line 7: field "answers" must be a list of strings, got str$'):
        load_gold(path)


def test_invalid_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "gold.jsonl"
    path.write_bytes(rec().encode() + b"\n" + b'{"id": "\xff"}\n')
    with pytest.raises(RagError, match=r"line 2: not valid UTF-8"):
        load_gold(path)


@pytest.mark.parametrize("content", [b"", b"\n\n  \n", b"\xef\xbb\xbf"])
def test_empty_file_is_an_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(content)
    for skip in (False, True):
        with pytest.raises(RagError, match="empty"):
            load_gold(path, skip_invalid=skip)


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RagError, match="not found"):
        load_gold(tmp_path / "nope.jsonl")


def test_skip_invalid_records_bad_lines_and_loads_the_rest(tmp_path: Path) -> None:
    path = write_lines(tmp_path, [rec(), "{oops", rec(id="b", answers="x"), "", rec(id="a"), rec(id="c")])
    gs = load_gold(path, skip_invalid=True)
    assert [q.id for q in gs] == ["a", "c"]
    assert [line for line, _ in gs.skipped] == [2, 3, 5]
    assert "invalid JSON" in gs.skipped[0][1]
    assert gs.skipped[1][1] == 'field "answers" must be a list of strings, got str'
    assert gs.skipped[2][1] == 'duplicate id "a" (first used on line 1)'


def test_skip_invalid_with_nothing_valid_is_an_error(tmp_path: Path) -> None:
    path = write_lines(tmp_path, ["{oops", "[]"])
    with pytest.raises(RagError, match="no valid questions"):
        load_gold(path, skip_invalid=True)


def test_crlf_lines_and_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "crlf.jsonl"
    path.write_bytes((rec() + "\r\n" + rec(id="b", extra_field=1) + "\r\n").encode())
    gs = load_gold(path)
    out = tmp_path / "out.jsonl"
    write_gold(gs.questions, out)
    again = load_gold(out)
    assert [q.to_dict() for q in again] == [q.to_dict() for q in gs]
    assert again.questions[1].extra == {"extra_field": 1}


def test_whole_project_gold_loads_strictly() -> None:
    gs = load_gold(GOLD)
    assert gs.skipped == [] and len(gs) >= 64
