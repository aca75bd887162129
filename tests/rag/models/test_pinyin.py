"""Chinese names written in pinyin in English questions, and the characters that read them."""
from __future__ import annotations

from rag.models.lexicon import load_lexicon
from rag.models.pinyin import find_pinyin, pinyin_names, segment


def _is_term(phrase: str) -> bool:
    return bool(load_lexicon().translations(phrase))


def test_a_word_is_cut_into_pinyin_syllables_or_is_no_pinyin() -> None:
    assert segment("Tiancheng") == ["tian", "cheng"]
    assert segment("Jiashi") == ["jia", "shi"]
    assert segment("Ambassador") is None and segment("What") is None  # no syllable reads "w" or "m" alone


def test_pinyin_names_are_runs_of_capitalised_syllables_that_the_dictionary_does_not_translate() -> None:
    assert pinyin_names("Where was Wang Tiancheng born?", _is_term) == [("Wang Tiancheng", ["wang", "tian", "cheng"])]
    assert pinyin_names("Where did Fan Baihu defend?", _is_term) == [("Fan Baihu", ["fan", "bai", "hu"])]
    # question words, States, known phrases and non-pinyin names are not pinyin names
    assert pinyin_names("What did China say in Hong Kong?", _is_term) == []
    assert pinyin_names("When did Sooyeon Kim win the MVP award?", _is_term) == []


def test_the_characters_that_read_a_name_are_found_with_their_homophones() -> None:
    text = "王天成，中国湖南省双牌县人。1992年王天成被捕。"
    assert find_pinyin(["wang", "tian", "cheng"], text) == {"王天成"}
    assert find_pinyin(["fan", "bai", "hu"], "范百虎和范白虎") == {"范百虎", "范白虎"}  # 百 and 白 both read bai
    assert find_pinyin(["wang", "tian", "cheng"], "李天成") == set()
