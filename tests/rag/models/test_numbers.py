"""The numbers a text states and holds, in every form another language writes them (answer check and refusal)."""
from __future__ import annotations

from rag.models.numbers import numbers, stated_numbers


def test_a_passage_holds_digits_grouped_thousands_chinese_numerals_english_words_and_months() -> None:
    assert {"2015", "2", "6", "10"} <= numbers("定于2015年2月6日星期五上午10时举行")
    assert {"151680", "800000"} <= numbers("支出151 680美元的费用；近800 000平方公里")
    assert "37" in numbers("第三十七届会议开幕。")
    assert {"37", "70", "24"} <= numbers("the thirty-seventh session; the seventieth anniversary; Twenty-four parties")
    assert {"2", "5"} <= numbers("held in February and on 4 May")
    assert {"870000000", "1500000"} <= numbers("8.7亿人；150万欧元")


def test_a_question_states_digits_months_and_whole_amounts_but_not_names_or_modal_may() -> None:
    assert stated_numbers("To be held on Friday, 6 February 2015, at 10 a.m.") == {"6", "2", "2015", "10"}
    assert stated_numbers("a zone of nearly 800,000 km2 and $151,680") == {"800000", "151680"}
    assert stated_numbers("Iran fed 1,630.8 kg of UF6") == {"1630", "8"}
    assert stated_numbers("Finland contributed over Euro1.5 million") == {"1500000"}
    assert stated_numbers("The President may limit the time") == set()
    assert stated_numbers("Opening of the thirty-seventh session, twenty-first century") == {"37", "21"}
    assert stated_numbers("Which two sections did she focus on?") == {"2"}
    assert stated_numbers("Which two sections did she focus on?", number_words=False) == set()
    assert stated_numbers("held on 4 May, in March", number_words=False) == {"4", "5", "3"}


def test_what_a_rendering_states_is_held_by_its_source_in_the_other_language() -> None:
    pairs = [("Opening of the thirty-seventh session.", "第三十七届会议开幕。"),
             ("nearly 800,000 km2", "近800 000平方公里"),
             ("About 870 million people", "全世界大约有8.7亿人"),
             ("held on 6 February 2015", "2015年2月6日举行")]
    for rendering, source in pairs:
        assert stated_numbers(rendering) <= numbers(source), rendering
    assert not stated_numbers("held on 6 February 2015") <= numbers("2015年2月15日举行")
