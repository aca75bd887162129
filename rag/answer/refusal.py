"""The refuse-or-answer decision: retrieval confidence against a threshold per question/passage language pair."""
from __future__ import annotations

from typing import TYPE_CHECKING

from rag.config import RetrievalSettings

if TYPE_CHECKING:  # annotations only: retrieve imports nothing from here
    from rag.answer.retrieve import Retrieval

GROUPS = ("same", "cross")  # question in the language of its best passage, or not

REFUSALS = {
    "zh": "文件中没有回答这个问题的内容。",
    "en": "The documents do not say.",
    "fr": "Les documents ne le disent pas.",
    "es": "Los documentos no lo dicen.",
    "ru": "В документах об этом не говорится.",
    "ar": "لا تذكر الوثائق ذلك.",
}


def refusal_text(language: str) -> str:
    """The documents-do-not-say reply in the question's language (English for languages without one)."""
    return REFUSALS.get(language, REFUSALS["en"])


def language_group(question_lang: str, passage_lang: str | None) -> str:
    """Cross-lingual similarities run lower than monolingual ones, so each gets its own threshold."""
    return "same" if passage_lang and question_lang == passage_lang else "cross"


def refusal_threshold(settings: RetrievalSettings, question_lang: str, passage_lang: str | None) -> float:
    """The confidence below which a question in `question_lang` over a best passage in `passage_lang` is refused."""
    same = language_group(question_lang, passage_lang) == "same"
    return settings.refuse_below if same else settings.refuse_below_cross


def should_refuse(settings: RetrievalSettings, question_lang: str, retrieval: "Retrieval") -> bool:
    """Nothing found, or the best match below the threshold for the question's language group.

    Args:
        settings: the retrieval settings holding the thresholds.
        question_lang: ISO 639-1 code of the question.
        retrieval: what the retriever found for it.
    Returns:
        True when the answer must be the documents-do-not-say reply.
    """
    if not retrieval.hits:
        return True
    return retrieval.confidence < refusal_threshold(settings, question_lang, retrieval.hits[0].chunk.language)
