"""A translated answer is labelled as such, and each cited passage shows verbatim beside its rendering."""
from __future__ import annotations

from rag.types import Answer, Chunk, Citation
from ui.render import answer_html, sentences_citing, turn_panel

P21A = "(a) 国际人道法继续充分适用于致命性自主武器系统的潜在开发和使用；"
P20 = "今年 9 月 3 日和 4 日将在明斯克举行高级别国际会议。"


def _answer(translated_from: str | None) -> Answer:
    c1 = Chunk("c1", "D1", "CCW/GGE.1/2023/2", "¶21(a)", P21A, 0, len(P21A), language="zh")
    c2 = Chunk("c2", "D2", "CD/PV.1505", "turn 2 ¶20", P20, 0, len(P20), language="zh", speaker="安布拉舍维奇先生",
               delegation="白俄罗斯")
    text = ("International humanitarian law continues to apply fully to lethal autonomous weapons systems. [1] "
            "The representative of Belarus said that a conference will be held in Minsk on 3 and 4 September. [2]")
    return Answer("q?", text, False, citations=[Citation(1, c1, 0.9, support=P21A), Citation(2, c2, 0.8, support=P20)],
                  generator="local", translated_from=translated_from)


def test_sentences_citing_finds_each_rendering_without_its_marker() -> None:
    text = _answer("zh").text
    assert sentences_citing(text, 1) == [
        "International humanitarian law continues to apply fully to lethal autonomous weapons systems."]
    assert sentences_citing(text, 2) == [
        "The representative of Belarus said that a conference will be held in Minsk on 3 and 4 September."]


def test_translated_answer_is_labelled_and_shown_beside_the_original() -> None:
    answer = _answer("zh")
    assert ('<div class="meta">local · <span class="translated-note">translated from Chinese by the model; '
            "the original passages are beside it</span></div>") in answer_html(answer, 1)
    panel = turn_panel(answer, 1)
    assert panel.count('class="cite translated"') == 2
    assert ('<div class="side-by-side"><div class="rendering"><div class="label">Translation (model)</div>'
            "International humanitarian law continues to apply fully to lethal autonomous weapons systems.</div>"
            '<div class="original"><div class="label">Original (Chinese)</div><blockquote class="passage">'
            f'<mark class="support">{P21A}</mark></blockquote></div></div>') in panel


def test_quoted_answer_has_no_translation_label() -> None:
    answer = _answer(None)
    assert "translated" not in answer_html(answer, 1) and "side-by-side" not in turn_panel(answer, 1)
