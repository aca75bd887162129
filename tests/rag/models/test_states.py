"""The States a question names and whether a passage names them, in English and Chinese (a refusal signal)."""
from __future__ import annotations

from rag.models.states import STATES, holds_state, states_named


def _names(text: str) -> list[str]:
    return sorted(STATES[i][0][0] for i in states_named(text))


def _state(name: str) -> int:
    return next(i for i, (en, _) in enumerate(STATES) if en[0] == name)


def test_the_table_holds_the_193_member_states_and_the_two_observer_states_once_each() -> None:
    assert len(STATES) == 195
    english = [n.lower() for en, _ in STATES for n in en]
    chinese = [n for _, zh in STATES for n in zh]
    assert len(english) == len(set(english)) and len(chinese) == len(set(chinese))


def test_english_names_are_capitalised_words_and_the_longest_name_wins() -> None:
    assert _names("What did the representative of China say at the 1505th meeting?") == ["China"]
    assert _names("Papua New Guinea, Guinea-Bissau and the Democratic Republic of the Congo") == [
        "Democratic Republic of the Congo", "Guinea-Bissau", "Papua New Guinea"]
    assert _names("How much did Germany, India, Qatar and Switzerland contribute?") == [
        "Germany", "India", "Qatar", "Switzerland"]
    assert _names("the turkey and the chad") == []  # common nouns, not Türkiye and Chad
    assert _names("United States of America") == ["United States"]


def test_chinese_names_count_only_as_whole_words() -> None:
    assert _names("法国代表在裁军谈判会议第1505次全体会议上说了什么？") == ["France"]
    assert _names("南苏丹和苏丹") == ["South Sudan", "Sudan"]
    assert _names("发展中国家的社会指标") == []  # 中国 inside 发展中国家 (developing countries)
    assert _names("撒哈拉以南非洲国家") == []  # 南非 across two words
    assert _names("乍得湖流域委员会成员国和贝宁") == ["Benin"]  # Lake Chad is no State
    assert _names("南朝鲜的联合军事演习") == ["Republic of Korea"]


def test_a_passage_holds_a_state_by_either_language_its_people_or_a_longer_word() -> None:
    france, israel, switzerland = _state("France"), _state("Israel"), _state("Switzerland")
    assert holds_state(france, "安布拉舍维奇先生 (法国)") and holds_state(france, "FRANCE said")
    assert holds_state(france, "the French civil nuclear cycle")
    assert holds_state(israel, "An Israeli enemy Merkava tank") and holds_state(switzerland, "the Indonesian-Swiss")
    assert not holds_state(france, "安布拉舍维奇先生 (白俄罗斯)：我国提议")
    assert not holds_state(france, "Frankfurt and Paris")
