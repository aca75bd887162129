"""Citation checking: markers parsed, dropped, re-pointed in the right sentence, support spans, flags."""
from __future__ import annotations

from rag.answer.citations import check_citations, overlap
from rag.types import Chunk, Hit

P1 = "专家组于 2023 年 5 月 19 日星期五经口头修改后通过了最后报告。报告载于本文件。"
P2 = "今年 9 月 3 日和 4 日将在明斯克举行高级别国际会议。这次会议由白俄罗斯、联合国和欧安组织联合举办。"
P3 = "国际人道法继续充分适用于致命性自主武器系统的潜在开发和使用。"


def _hits(*texts: str) -> list[Hit]:
    return [Hit(Chunk(f"c{i}", "D", "CD/PV.1505", f"¶{i}", t, 0, len(t)), 1.0 / i, i) for i, t in enumerate(texts, 1)]


def test_supported_citations_in_order_of_first_use() -> None:
    checked = check_citations("明斯克将举行高级别国际会议[2]。专家组于2023年5月19日通过了报告[1]。", _hits(P1, P2, P3))
    text, cites, notes = checked.text, checked.citations, checked.notes
    assert text == "明斯克将举行高级别国际会议[2]。专家组于2023年5月19日通过了报告[1]。"
    assert [(c.n, c.supported) for c in cites] == [(2, True), (1, True)]
    assert cites[0].support == "今年 9 月 3 日和 4 日将在明斯克举行高级别国际会议。"
    assert notes == []


def test_repair_touches_only_the_sentence_that_cited_wrongly() -> None:
    # Both sentences cite [1]; only the second is about passage 2. The first [1] must stay.
    answer = "专家组通过了最后报告。[1] 明斯克将举行高级别国际会议。[1]"
    checked = check_citations(answer, _hits(P1, P2))
    text, cites, notes = checked.text, checked.citations, checked.notes
    assert text == "专家组通过了最后报告。[1] 明斯克将举行高级别国际会议。[2]"
    assert [c.n for c in cites] == [1, 2]
    assert notes == ["re-pointed [1] to [2]: passage 2 supports the sentence"]


def test_unsupported_citation_is_flagged_not_hidden() -> None:
    checked = check_citations("The weather in Geneva was sunny [3].", _hits(P1, P2, P3))
    text, cites, notes = checked.text, checked.citations, checked.notes
    assert text == "The weather in Geneva was sunny [3]."
    assert [(c.n, c.supported) for c in cites] == [(3, False)]
    assert notes == []


def test_numbers_pointing_nowhere_are_dropped() -> None:
    checked = check_citations("明斯克将举行会议[2][5]。", _hits(P1, P2))
    text, cites, notes = checked.text, checked.citations, checked.notes
    assert text == "明斯克将举行会议[2]。"
    assert [c.n for c in cites] == [2]
    assert notes == ["dropped [5]: no such passage"]


def test_semantic_support_backs_cross_lingual_sentences() -> None:
    checked = check_citations("IHL applies fully to LAWS [1].", _hits(P3), semantic=lambda s, p: 0.9)
    cites = checked.citations
    assert [(c.n, c.supported, c.support_score) for c in cites] == [(1, True, 0.9)]


def test_overlap_counts_cjk_bigrams_and_words() -> None:
    assert overlap("明斯克会议", P2) == 0.75  # bigrams 明斯 斯克 克会 会议: all but 克会 occur
    assert overlap("Minsk conference 2023", "A conference in Minsk.") == 2 / 3  # words; "2023" is absent
