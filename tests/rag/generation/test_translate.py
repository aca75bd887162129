"""One sentence at a time: each selected sentence in another language is translated on its own and cited by the
pipeline, the local model is kept from writing CJK in a non-CJK answer, and titles do not end sentences."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rag.answer.checked import answer_segments
from rag.generation.chat import ChatGenerator, cite_each, strip_glossary_echo, translate_budget
from rag.generation.extractive import Evidence
from rag.generation.prompt import TRANSLATE_SYSTEM, build_rewrite_answer_messages, build_translate_messages
from rag.generation.script import BanTokens, cjk_mask, needs_mask, writes_cjk
from rag.text import ends_with_abbreviation
from rag.types import Chunk, Hit


def _hit(n: int, text: str, **kw: Any) -> Hit:
    c = Chunk(chunk_id=f"c{n}", doc_id="D", symbol="CD/PV.1505", locator=f"¶{n}", text=text, start=0, end=len(text),
              **kw)
    return Hit(c, 1.0 / n, n)


@dataclass
class _Piece:
    content: str


@dataclass
class ScriptedChat:
    """Replies to the k-th call with replies[k] in 4-character pieces; records each call's messages and options."""

    replies: list[str]
    supports_script_ban: bool = True
    calls: list[tuple[list[tuple[str, str]], dict[str, Any]]] = field(default_factory=list)

    def stream(self, messages: list[tuple[str, str]], **options: Any):
        reply = self.replies[len(self.calls)]
        self.calls.append((messages, options))
        for i in range(0, len(reply), 4):
            yield _Piece(reply[i : i + 4])


# --- keeping the script -----------------------------------------------------------------------------------


def test_a_token_that_writes_or_starts_an_ideograph_or_fullwidth_punctuation_is_masked() -> None:
    assert writes_cjk("文书".encode()) and writes_cjk("，".encode()) and writes_cjk("：".encode())
    assert writes_cjk(b"\xe6") and writes_cjk(b" legal\xe6\x96")  # the first bytes of 文
    assert writes_cjk("の".encode())  # kana
    assert not writes_cjk(b" legal") and not writes_cjk(b" (") and not writes_cjk("’".encode())
    assert not writes_cjk(b"\xe2\x80") and not writes_cjk("é".encode()) and not writes_cjk(b"")


def test_the_mask_covers_the_vocabulary_in_token_order() -> None:
    assert cjk_mask([b"The", "议".encode(), b" 2023", b"\xef\xbc"]).tolist() == [False, True, False, True]


def test_only_answers_in_languages_written_without_ideographs_are_masked() -> None:
    assert [needs_mask(x) for x in ("en", "fr", "ru", "ar", "zh", "ja", "other", None, "")] == \
        [True, True, True, True, False, False, False, False, False]


def test_masked_tokens_cannot_be_sampled_and_the_others_keep_their_scores() -> None:
    scores = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    out = BanTokens(np.array([False, True, False]))(np.array([], dtype=np.intc), scores)
    assert out.tolist() == [1.0, -np.inf, 3.0]
    other = np.array([1.0, 2.0], dtype=np.float32)  # not the whole vocabulary: left alone
    assert BanTokens(np.array([False, True, False]))(np.array([]), other).tolist() == [1.0, 2.0]


# --- the translation prompt ---------------------------------------------------------------------------------


def test_the_speaker_leads_the_sentence_and_the_system_prompt_names_nobody() -> None:
    hit = _hit(1, "我们支持这项提案。", speaker="安布拉舍维奇先生", delegation="白俄罗斯")
    msgs = build_translate_messages(Evidence(1, "我们支持这项提案。"), hit, "en")
    assert msgs == [("system", TRANSLATE_SYSTEM),
                    ("user", "Translate into English:\n安布拉舍维奇先生 (白俄罗斯)：我们支持这项提案。")]
    assert "Belarus" not in TRANSLATE_SYSTEM and "e.g." not in TRANSLATE_SYSTEM


def test_a_sentence_that_already_names_its_speaker_is_not_prefixed_and_stays_quoted() -> None:
    hit = _hit(1, "主席(以西班牙语发言)：我宣布会议开始[3]。", speaker="主席")
    msgs = build_translate_messages(Evidence(1, "主席(以西班牙语发言)：我宣布会议开始[3]。"), hit, "fr")
    assert msgs[1] == ("user", "Translate into French:\n主席(以西班牙语发言)：我宣布会议开始［3］。")


def test_a_translation_into_english_names_the_un_terms_of_the_sentence_after_it() -> None:
    from rag.generation.prompt import term_glossary

    text = "(a) 国际人道法继续充分适用于致命性自主武器系统的潜在开发和使用；国际法也适用。"
    assert term_glossary(text, "en") == [("国际人道法", "international humanitarian law"),
                                         ("致命性自主武器系统", "lethal autonomous weapons systems"),
                                         ("国际法", "international law")]
    assert term_glossary(text, "fr") == []  # the list is English and Chinese
    assert term_glossary("The Group of Governmental Experts met; the Secretary-General spoke.", "zh") == [
        ("Group of Governmental Experts", "政府专家组"), ("Secretary-General", "秘书长")]
    assert term_glossary("会议通过了报告。", "en") == []  # short words are left to the model
    msgs = build_translate_messages(Evidence(1, "国际人道法继续适用。"), _hit(1, "国际人道法继续适用。"), "en")
    assert msgs[1][1] == ("Translate into English:\n国际人道法继续适用。\n"
                          "UN terms: 国际人道法 = international humanitarian law")


def test_the_token_budget_follows_the_source_length_within_its_caps() -> None:
    assert translate_budget("国际人道法继续充分适用于致命性自主武器系统的潜在开发和使用") == 39  # 29 CJK
    assert translate_budget("短句。") == 32  # the floor
    assert translate_budget("议" * 400) == 160  # the cap
    assert translate_budget("The Chair said that the meeting rose at 4.45 p.m.") == 32  # 12 words -> 31.6


# --- one sentence at a time ----------------------------------------------------------------------------------


def test_each_foreign_sentence_is_translated_alone_and_cited_by_the_pipeline_not_the_model() -> None:
    hits = [_hit(1, "会议于下午 4 时 45 分散会。"), _hit(2, "The Chair thanked the speaker."),
            _hit(3, "专家组通过了报告。")]
    chat = ScriptedChat(["Translation: The meeting rose at 4.45 p.m.", "The Group adopted the report. It did."])
    gen = ChatGenerator(chat, "local")
    evidence = [Evidence(1, "会议于下午 4 时 45 分散会。"), Evidence(2, "The Chair thanked the speaker."),
                Evidence(3, "专家组通过了报告。")]
    out = list(gen.stream("When did it rise?", hits, "en", None, evidence=evidence))
    assert out == ["The meeting rose at 4.45 p.m. [1]\n", "The Chair thanked the speaker. [2]\n",
                   "The Group adopted the report. [3] It did. [3]\n"]
    assert gen.model_calls == 2 and gen.first_token_at is not None
    assert [m[1][1] for m, _ in chat.calls] == ["Translate into English:\n会议于下午 4 时 45 分散会。",
                                               "Translate into English:\n专家组通过了报告。\n"
                                               "UN terms: 专家组 = group of experts"]
    assert [o for _, o in chat.calls] == [{"ban_cjk": True, "max_tokens": 32}, {"ban_cjk": True, "max_tokens": 32}]


def test_a_model_without_logits_gets_no_script_ban_and_a_chinese_answer_none_either() -> None:
    hits = [_hit(1, "会议于下午 4 时 45 分散会。")]
    ev = [Evidence(1, "会议于下午 4 时 45 分散会。")]
    server = ScriptedChat(["The meeting rose at 4.45 p.m."], supports_script_ban=False)
    assert list(ChatGenerator(server, "openai").stream("q", hits, "en", None, evidence=ev)) == \
        ["The meeting rose at 4.45 p.m. [1]\n"]
    assert server.calls[0][1] == {"max_tokens": 32}
    en_hits = [_hit(1, "The meeting rose at 4.45 p.m.")]
    zh = ScriptedChat(["会议于下午 4 时 45 分散会。[1]"])
    list(ChatGenerator(zh, "local").stream("何时散会？", en_hits, "zh", None,
                                           evidence=[Evidence(1, "The meeting rose at 4.45 p.m.")]))
    assert zh.calls[0][1] == {"max_tokens": 32}


def test_sentences_in_the_question_language_go_to_the_model_in_one_condensing_call() -> None:
    hits = [_hit(1, "会议于下午 4 时 45 分散会。")]
    chat = ScriptedChat(["会议于下午 4 时 45 分散会。[1]"])
    gen = ChatGenerator(chat, "local")
    ev = [Evidence(1, "会议于下午 4 时 45 分散会。")]
    assert not gen.translates_each("zh", ev) and gen.translates_each("en", ev)
    assert "".join(gen.stream("何时散会？", hits, "zh", None, evidence=ev)) == "会议于下午 4 时 45 分散会。[1]"
    assert gen.model_calls == 1 and chat.calls[0][1] == {"max_tokens": 128}  # 96 per sentence + 32
    assert chat.calls[0][0] == build_rewrite_answer_messages("何时散会？", ev, hits, "zh")  # the earlier prompt
    assert not ChatGenerator(ScriptedChat([]), "local", prompt="condense").translates_each("en", ev)


def test_every_translated_sentence_carries_the_number_and_a_copied_paragraph_number_stays_attached() -> None:
    assert cite_each("14. The plenary discussed item 5.\nMr. Bagheri (Iran) agreed.", 2) == \
        "14. The plenary discussed item 5. [2] Mr. Bagheri (Iran) agreed. [2]"
    assert cite_each("  ", 1) == "" and cite_each("(a) Law applies; it is binding", 4) == "(a) Law applies; it is binding [4]"


def test_a_title_before_a_name_does_not_end_the_sentence() -> None:
    assert ends_with_abbreviation("said Mr.") and ends_with_abbreviation("(Dr.") and ends_with_abbreviation("e.g.")
    assert not ends_with_abbreviation("the meeting rose.") and not ends_with_abbreviation("Mr")
    assert answer_segments("Mr. Bagheri (Iran) spoke. [1] Dr. Vignard agreed. [2]") == \
        ["Mr. Bagheri (Iran) spoke. [1]", " Dr. Vignard agreed. [2]"]


def test_latin_names_the_translation_left_out_are_carried_over_in_brackets() -> None:
    from rag.generation.chat import carry_names

    assert carry_names("CCW/GGE.1/2023/WP.3/Rev.1 关于致命性自主武器系统的国际法律文书的提案。",
                       "Proposal for an international legal instrument.") == \
        "Proposal for an international legal instrument (CCW/GGE.1/2023/WP.3/Rev.1)."
    assert carry_names("来自Adobe、斯坦福的研究人员", "Researchers from Stanford") == "Researchers from Stanford (Adobe)"
    kept = "Ambassador Andrey Belousov and the ITU-T study groups."
    assert carry_names("大使 Andrey Belousov 和 ITU-T 研究组。", kept) == kept
    assert carry_names("The ITU-T met.", "ITU met.") == "ITU met."  # only a CJK source has names to carry


def test_an_echo_of_the_un_term_glossary_is_stripped_from_a_translation() -> None:
    source = "《公约》缔约方 2022 年会议还作出了最后报告(CCW/MSP/2022/7)所载如下决定："
    assert strip_glossary_echo("final report = final report", source) == ""
    assert strip_glossary_echo("high contracting party = 缔约方; final report = final report", source) == ""
    assert strip_glossary_echo("The meeting took decisions.\nUN terms: 最后报告 = final report", source) == (
        "The meeting took decisions.")
    assert strip_glossary_echo("The Parties took the following decisions:", source) == (
        "The Parties took the following decisions:")
    assert strip_glossary_echo("The ratio x = 2 holds.", "比例 x = 2 成立。") == "The ratio x = 2 holds."


def test_a_translation_that_only_echoes_the_glossary_yields_an_empty_line() -> None:
    hits = [_hit(1, "专家组通过了报告。")]
    gen = ChatGenerator(ScriptedChat(["group of experts = group of experts"]), "local")
    out = list(gen.stream("What did the Group adopt?", hits, "en", None, evidence=[Evidence(1, "专家组通过了报告。")]))
    assert out == ["\n"]
