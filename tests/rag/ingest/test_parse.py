"""Ingestion of the real seeds: furniture dropped, lines rejoined, structure and metadata recognised."""
from __future__ import annotations

import re
import unicodedata

from tests.fixtures import SEED_FILES


def squash(s: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", s))


def by_locator(doc, locator):
    return [c for c in doc.chunks if c.locator == locator]


def test_seed_metadata(seed_docs):
    meta = {sym: d.meta for sym, d in seed_docs.items()}
    assert meta["CCW/GGE.1/2023/2"].kind == "report"
    assert meta["EUR/44A25/1"].kind == "resolution"
    assert meta["CD/PV.1505"].kind == "meeting_record"
    assert meta["CD/PV.1505"].date == "2019-06-12"
    assert all(m.language == "zh" for m in meta.values())
    assert [m.doc_id for m in meta.values()] == [f"{s}@zh" for s in SEED_FILES]  # the Chinese version of each


def test_symbols_detected_without_sidecar(tmp_path):
    from rag.ingest.parse import parse_document

    for sym in ("CD/PV.1505", "EUR/44A25/1"):
        src = SEED_FILES[sym]
        copy = tmp_path / src.name
        copy.write_bytes(src.read_bytes())
        assert parse_document(copy).meta.symbol == sym


def test_paragraph_21c_holds_ihl_principles(seed_docs):
    doc = seed_docs["CCW/GGE.1/2023/2"]
    [c] = by_locator(doc, "¶21(c)")
    assert "区分、相称性和预防" in c.text
    assert c.text.startswith("(c) 需要对基于致命性自主武器系统")
    assert c.headings == ["三. 结论"]
    assert c.context.startswith("21. 在不影响专家组今后继续以国际法")
    assert [c.locator for c in doc.chunks if c.locator.startswith("¶21")] == ["¶21", "¶21(a)", "¶21(b)", "¶21(c)"]


def test_line_break_inside_word_is_rejoined(seed_docs):
    doc = seed_docs["CCW/GGE.1/2023/2"]
    joined = [c for c in doc.chunks if "以加强本公约" in c.text]
    assert len(joined) == 2  # ¶1's first bullet and ¶16
    assert {c.locator for c in joined} == {"¶1", "¶16"}
    assert not any("以加强本公\n" in c.text or "以加强本公 " in c.text for c in doc.chunks)


def test_minsk_paragraph_attributed_to_belarus(seed_docs):
    doc = seed_docs["CD/PV.1505"]
    [c] = [c for c in doc.chunks if "明斯克" in c.text]
    assert c.speaker == "安布拉舍维奇先生"
    assert c.delegation == "白俄罗斯"
    assert c.spoken_language == "俄语"
    assert c.locator == "turn 2 ¶20"
    assert c.text.startswith("今年 9 月 3 日和 4 日将在明斯克举行题为")


def test_speakers_of_meeting_record(seed_docs):
    doc = seed_docs["CD/PV.1505"]
    turns = [(c.locator, c.speaker, c.delegation) for c in doc.chunks if c.locator.endswith(" ¶1")]
    assert turns == [
        ("turn 1 ¶1", "主席", None),
        ("turn 2 ¶1", "安布拉舍维奇先生", "白俄罗斯"),
        ("turn 3 ¶1", "主席", None),
        ("turn 4 ¶1", "维尼亚尔女士", "联合国裁军研究所(裁研所)"),
        ("turn 5 ¶1", "主席", None),
        ("turn 6 ¶1", "主席", None),
        ("turn 7 ¶1", "巴格赫里·哈马内先生", "伊朗伊斯兰共和国"),
        ("turn 8 ¶1", "主席", None),
    ]
    # The suspension note between turns 5 and 6 is the President's; the closing line is no one's.
    assert [c.locator for c in doc.chunks][-1] == "closing"


def test_no_page_furniture_in_chunks(seed_docs):
    for doc in seed_docs.values():
        for c in doc.chunks:
            assert "undocs.org" not in c.text
            assert "19-11607" not in c.text
            assert "9/12" not in c.text
            assert c.text.strip() != "CD/PV.1505"
        # The bookmark outline appended by the PDF extraction is gone: the last chunk is the annex's last row.
    assert seed_docs["CCW/GGE.1/2023/2"].chunks[-1].text == "CCW/GGE.1/2023/INF.1 与会者名单"


def test_page_break_mid_sentence_is_rejoined(seed_docs):
    doc = seed_docs["CD/PV.1505"]
    text = "".join(c.text for c in doc.chunks)
    assert "转让、使用或威胁使用核武器并对销毁核武器作出规定的全面核武器公约" in text.replace(" ", "")


def test_resolution_locators(seed_docs):
    doc = seed_docs["EUR/44A25/1"]
    locs = [c.locator for c in doc.chunks]
    assert "preamble 忆及 (a)" in locs
    assert "preamble 进一步考虑到 (i)" in locs
    assert "operative (做出决议)" in locs
    assert [loc for loc in locs if loc.endswith("(责成秘书长)")] == [f"operative {n} (责成秘书长)" for n in range(1, 8)]
    [c] = [c for c in doc.chunks if c.locator == "operative 3 (请成员国、部门成员和学术成员)"]
    assert c.text.startswith("3\t特别分享支持利益攸关多方合作的经验")


def test_spans_index_the_cleaned_text(seed_docs):
    for doc in seed_docs.values():
        for c in doc.chunks:
            assert doc.text[c.start : c.end] == c.text


FURNITURE = re.compile(r"^\s*(?:https://undocs\.org/\S+|CD/PV\.1505|\d+/12 19-11607)\s*$")


# What cleaning drops besides the furniture lines: the PDF bookmark outline of the report, a running header.
DROPPED = {
    "CCW/GGE.1/2023/2": "致命性自主武器系统领域新兴技术问题政府专家组2023年会议报告一.导言二.政府专家组的组织和工作三.结论四.建议五.通过报告附件一文件清单",
    "EUR/44A25/1": "ADDEUR/44A25/1",
    "CD/PV.1505": "",
}


def test_every_seed_character_is_kept(seed_docs):
    """The chunks cover the paragraphs exactly and in order, the paragraphs cover the cleaned text, and the cleaned
    text is the source minus its furniture lines and exactly the outline or running header named in DROPPED."""
    for sym, doc in seed_docs.items():
        lines = SEED_FILES[sym].read_text(encoding="utf-8").splitlines()
        source = squash("".join(line for line in lines if not FURNITURE.match(line)))
        body = [p for p in doc.paragraphs if not p.is_heading]
        assert squash("".join(c.text for c in doc.chunks)) == squash("".join(p.text for p in body)), sym
        assert squash("".join(p.text for p in doc.paragraphs)) == squash(doc.text), sym
        assert source.replace(DROPPED[sym], "", 1) == squash(doc.text), sym


def test_chunk_ids_are_stable(seed_docs):
    from rag.ingest.parse import parse_document

    again = parse_document(SEED_FILES["CD/PV.1505"])
    assert [c.chunk_id for c in again.chunks] == [c.chunk_id for c in seed_docs["CD/PV.1505"].chunks]
    assert len({c.chunk_id for c in again.chunks}) == len(again.chunks)


def test_chunks_stay_under_the_token_budget(seed_docs):
    from rag.ingest.chunk import MAX_TOKENS, estimate_tokens

    for doc in seed_docs.values():
        assert all(estimate_tokens(c.text) <= MAX_TOKENS for c in doc.chunks)
    assert [len(d.chunks) for d in seed_docs.values()] == [53, 41, 93]
