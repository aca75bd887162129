"""Language detection: questions by their cues, documents by the script that carries their text."""
from __future__ import annotations

import pytest

from rag.lang import detect_document_language, detect_language
from tests.fixtures import SEED_FILES


@pytest.mark.parametrize("symbol", list(SEED_FILES))
def test_every_seed_document_reads_as_chinese_without_its_sidecar(symbol):
    text = SEED_FILES[symbol].read_text(encoding="utf-8")[:5000]
    assert detect_document_language(text) == "zh"


def test_a_chinese_text_quoting_english_is_chinese_though_the_question_rule_says_english():
    text = "忆及联大有关“变革我们的世界：2030年可持续发展议程”的第A/RES/70/1号决议 of the United Nations and the ITU"
    assert detect_document_language(text) == "zh" and detect_language(text) == "en"


@pytest.mark.parametrize("text, lang", [
    ("The Group of Experts met in Geneva and adopted its report by consensus.", "en"),
    ("Le Groupe d'experts s'est réuni à Genève et a adopté son rapport.", "fr"),
    ("El Grupo de Expertos se reunió en Ginebra y aprobó su informe por consenso.", "es"),
    ("Группа экспертов собралась в Женеве и приняла свой доклад.", "ru"),
    ("اجتمع فريق الخبراء في جنيف واعتمد تقريره بتوافق الآراء.", "ar"),
    ("専門家グループはジュネーブで会合を開き、報告書を採択した。", "ja"),
    ("1234 5678", "other"),
    ("A/RES/70/1 ITU CCW", "en"),
])
def test_documents_in_each_script(text, lang):
    assert detect_document_language(text) == lang
