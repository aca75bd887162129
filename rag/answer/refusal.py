"""The refuse-or-answer decision: signals of a retrieval (cosine, gap, question coverage, word alignment, translated keywords) against per-language-pair thresholds."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from index.tokenize import neutral_tokens, tokenize
from rag.config import RetrievalSettings
from rag.lang import CJK_LANGUAGES
from rag.models.alignment import alignment_coverage
from rag.models.lexicon import LANGUAGES, covered, question_translations
from rag.models.numbers import MONTH_NAMES, numbers, stated_numbers
from rag.models.states import STATES, holds_state, states_named

if TYPE_CHECKING:  # annotations only: retrieve imports nothing from here
    from rag.answer.retrieve import Retrieval
    from rag.types import Hit

# Language pairs with thresholds of their own: e5 cosines of a question and its answer run higher between two
# Chinese texts than between two English ones (answerable English UNPC questions: 0.839-0.937, a quarter of them
# under the Chinese threshold), and lowest across languages.
GROUPS = ("same", "same-other", "cross")  # same language in Chinese script; same language otherwise; different

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
    """The language pair's group: "same" (both Chinese), "same-other" (both another language), or "cross"."""
    if not passage_lang or question_lang != passage_lang:
        return "cross"
    return "same" if question_lang in CJK_LANGUAGES else "same-other"


def group_threshold(settings: RetrievalSettings, group: str) -> float:
    """The threshold of a language group (see GROUPS)."""
    return {"same": settings.refuse_below, "same-other": settings.refuse_below_other}.get(group,
                                                                                          settings.refuse_below_cross)


def refusal_threshold(settings: RetrievalSettings, question_lang: str, passage_lang: str | None) -> float:
    """The score below which a question in `question_lang` over a best passage in `passage_lang` is refused."""
    return group_threshold(settings, language_group(question_lang, passage_lang))


COVERAGE_PASSAGES = 3  # the passages a reader or the generator actually uses


def best_texts(hits: "list[Hit]") -> list[str]:
    """The embedded texts of the best `COVERAGE_PASSAGES` hits: what every passage-based refusal signal reads."""
    return [h.chunk.embed_text() for h in hits[:COVERAGE_PASSAGES]]


def held_text(hits: "list[Hit]") -> str:
    """What the best passages hold for the number, symbol and State checks: their embedded texts, their locators
    ("¶14"), their documents' symbols and titles and their speakers' delegations (a paragraph of CCW/GGE.1/2023/2
    never repeats "2023"; 我国 in a statement is the delegation's State)."""
    meta = (f"{h.chunk.symbol or ''} {h.chunk.title or ''} {h.chunk.delegation or ''} {h.chunk.locator}"
            for h in hits[:COVERAGE_PASSAGES])
    return "\n".join(best_texts(hits)) + "\n" + "\n".join(meta)


def held_each(hits: "list[Hit]") -> list[str]:
    """`held_text` of each of the best passages on its own: what the per-passage checks (numbers, acronyms) read."""
    return [held_text([h]) for h in hits[:COVERAGE_PASSAGES]]


def absent_states(question: str, hits: "list[Hit]", where: str | None = None) -> list[str]:
    """The States (UN short names in English) that `question` names and none of the best passages names: what a
    refusal can tell the user ("no passage found names Japan"). `where`: `held_text(hits)` when already at hand."""
    where = held_text(hits) if where is None else where
    return [STATES[i][0][0] for i in sorted(states_named(question)) if not holds_state(i, where)]


# A document symbol or a number written like one ("CCW/GGE.1/2023/WP.5", "resolution 73/266"): checked whole with
# the acronyms (RefusalSignals.neutral_missing), not number by number — a paragraph of WP.5 never says "5".
_SYMBOL = re.compile(r"[A-Za-z0-9.\-]*/[A-Za-z0-9./\-()]*")


def asked_numbers(question: str) -> set[str]:
    """The numbers `question` states in digits or month names ("held on 6 February 2015"; rag.models.numbers).
    Number words ("which two sections") are left out: they ask, they do not specify; so are symbols (`_SYMBOL`)."""
    return stated_numbers(_SYMBOL.sub(" ", question), number_words=False)


def absent_numbers(question: str, where: str) -> list[str]:
    """The `asked_numbers` of `question` that `where` (see `held_text`) holds in no form (digits, grouped
    thousands, Chinese numerals, English number words, month names): a near miss about another meeting, date or
    amount."""
    return sorted(missing_numbers(question, [where]))


def missing_numbers(question: str, each: list[str]) -> set[str]:
    """The `asked_numbers` of `question` that the best of the passages lacks, the best being the one that lacks
    fewest. A date, a meeting and its number are said together: "7375th meeting, 4 February" over 第7365次会议 and a
    paragraph with a 4 misses one number in each, two in the best.

    Args:
        question: the (standalone) question.
        each: per passage, what it holds (`held_each`).
    Returns:
        The missing numbers as digit strings (empty when the question states none, or no passage is given).
    """
    asked = asked_numbers(question)
    return min((asked - numbers(t) for t in each), key=len, default=set()) if asked else set()


_MONTH_NAMES = "|".join(MONTH_NAMES)
# How a question writes a number: a date as one phrase ("4 February 2015", "February 4, 2015", "2015年2月4日"), a
# number with its ordinal suffix ("7375th"), a month alone.
_NUMBER_PHRASE = re.compile(
    rf"\d{{1,2}}\s+(?:{_MONTH_NAMES})(?:\s+\d{{4}})?|(?:{_MONTH_NAMES})\s+\d{{1,2}}(?:,?\s+\d{{4}})?"
    rf"|(?:{_MONTH_NAMES})\s+\d{{4}}|\d+\s*年(?:\s*\d+\s*月)?(?:\s*\d+\s*日)?|\d+\s*月(?:\s*\d+\s*日)?"
    rf"|\d[\d,.:]*(?:st|nd|rd|th)?|\b(?:{_MONTH_NAMES})\b")


def number_phrases(question: str, wanted: set[str]) -> list[str]:
    """The phrases of `question` that state any of the numbers `wanted` ("7375th", "4 February 2015"), in question
    order, each once: what a refusal note quotes ("no passage found states 7375th")."""
    text = _SYMBOL.sub(" ", question)
    found = (" ".join(m.group().split()) for m in _NUMBER_PHRASE.finditer(text)
             if stated_numbers(m.group(), number_words=False) & wanted)
    return list(dict.fromkeys(found))


@dataclass(frozen=True)
class RefusalSignals:
    """What the decision looks at, for one retrieval."""

    group: str  # see GROUPS: "same", "same-other" or "cross" (question and best passage in one language or not)
    confidence: float  # top dense cosine
    margin: float  # top dense cosine minus the 10th: a flat list means nothing stands out
    gap: float  # top dense cosine minus the second
    coverage: float  # share of the question's keywords found in the best passages (same language only, else 1)
    missing_numbers: int  # numbers the question states (dates, meetings, amounts) the best passage holds in no form
    neutral: int  # language-neutral tokens of the question (numbers, acronyms, symbols)
    neutral_missing: int  # of those, absent from the best passage (of the top 3, the one missing fewest)
    hits: int
    # Word-alignment coverage of the question by the best passages (rag.models.alignment), in any language pair;
    # None when computed without an embedder (then the decision leaves the term out).
    alignment: float | None = None
    # An English question over Chinese passages, or a Chinese one over English passages: share of its translatable
    # words and phrases (rag.models.lexicon) of which some translation is in the best passages; None otherwise.
    translated_coverage: float | None = None
    # States (Member and observer, rag.models.states) the question names that none of the best passages names, in
    # either language, in its text, speaker, delegation or document title: "what did France say at the 1505th
    # meeting?" over a record where France never took the floor.
    states_missing: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def refusal_signals(question: str, question_lang: str, retrieval: "Retrieval", embedder: Any = None) -> RefusalSignals:
    """Signals of `retrieval` for `question` (in `question_lang`).

    Args:
        question: the (standalone) question.
        question_lang: its detected language code.
        retrieval: the retriever's result.
        embedder: the index's embedder, for the word-alignment coverage; None leaves it out (alignment None).

    Returns:
        The signals; with no hits, confidence 0 and coverage 0.
    """
    hits = retrieval.hits
    if not hits:
        n = len(set(neutral_tokens(question)))
        return RefusalSignals("cross", 0.0, 0.0, 0.0, 0.0, len(asked_numbers(question)), n, n, 0)
    group = language_group(question_lang, hits[0].chunk.language)
    top = list(retrieval.dense_top) or [retrieval.confidence]
    margin = top[0] - top[min(len(top), 10) - 1]
    gap = top[0] - top[1] if len(top) > 1 else top[0]
    texts = best_texts(hits)
    text = "".join(texts)
    if group != "cross":
        q_tokens = set(tokenize(question))
        p_tokens = set(tokenize(text))
        coverage = len(q_tokens & p_tokens) / len(q_tokens) if q_tokens else 1.0
    else:
        coverage = 1.0
    # A passage holds a number or a symbol also through its document's symbol and title: "2023年…由谁担任主席？"
    # is answered by a paragraph of CCW/GGE.1/2023/2 that never repeats the year.
    where = held_text(hits)
    # A date, a meeting and its number, a symbol are said together: count what the passage missing fewest lacks,
    # not the three together (`missing_numbers`). Acronyms too since 2026-12-02 afternoon (dev: two more left-out
    # questions refused, nothing else moved).
    each = held_each(hits)
    missing = len(missing_numbers(question, each))
    # cut as the index cuts them: a pattern of its own read "2023年专家组由谁担任主席" as one token, never held
    neutral = set(neutral_tokens(question))
    flats = [t.lower() for t in each]
    neutral_missing = min(sum(1 for t in neutral if t not in flat) for flat in flats)
    alignment = None
    if embedder is not None:
        alignment = alignment_coverage(embedder, question, texts)
    translated = translated_coverage(question, question_lang, hits[0].chunk.language, text)
    states_missing = len(absent_states(question, hits, where))
    return RefusalSignals(group, round(retrieval.confidence, 4), round(margin, 4), round(gap, 4), round(coverage, 4),
                          missing, len(neutral), neutral_missing, len(hits),
                          None if alignment is None else round(alignment, 4),
                          None if translated is None else round(translated, 4), states_missing)


def translated_coverage(question: str, question_lang: str, passage_lang: str | None, text: str) -> float | None:
    """Share of an English question's translatable words and phrases with some translation in `text` (Chinese
    passages), or of a Chinese question's over English passages: keyword coverage across the language pair.
    None for other pairs; 1.0 when nothing translates."""
    if {question_lang, passage_lang} != set(LANGUAGES):
        return None
    found = question_translations(question, question_lang)
    return covered(found, text) if found else 1.0


def refusal_score(signals: RefusalSignals, coverage_weight: float, gap_weight: float, neutral_penalty: float,
                  alignment_weight: float = 0.0, translated_weight: float = 0.0, state_penalty: float = 0.0,
                  number_penalty: float = 0.0) -> float:
    """One number per retrieval, compared with the threshold of its language pair (higher = more answerable).

    Args:
        signals: from `refusal_signals`.
        coverage_weight: weight of keyword coverage (same-language pairs only; across languages it is 1).
        gap_weight: weight of the gap between the best and the second cosine.
        neutral_penalty: subtracted per number, acronym or symbol of the question missing from the best passages.
        alignment_weight: weight of the word-alignment coverage (every language pair; left out when unknown).
        translated_weight: weight of the translated keyword coverage (across languages; left out when unknown).
        state_penalty: subtracted per State the question names and the best passages do not.
        number_penalty: subtracted per number the question states and the best passages hold in no form, beyond
            the first: one such number may be a slip of form or translation (an invented year), two are another
            date, meeting or amount ("7375th meeting, 4 February" over "第7384次会议，2月17日").

    Returns:
        The score.
    """
    cov = coverage_weight * signals.coverage if signals.group != "cross" else 0.0
    align = alignment_weight * signals.alignment if signals.alignment is not None else 0.0
    trans = translated_weight * signals.translated_coverage if signals.translated_coverage is not None else 0.0
    return (signals.confidence + cov + gap_weight * signals.gap - neutral_penalty * signals.neutral_missing + align
            + trans - state_penalty * signals.states_missing - number_penalty * max(0, signals.missing_numbers - 1))


def should_refuse(settings: RetrievalSettings, question_lang: str, retrieval: "Retrieval", embedder: Any = None) -> bool:
    """Nothing found, or the refusal score of the retrieval below the threshold of its language pair.

    Args:
        settings: the retrieval settings holding the weights and thresholds.
        question_lang: ISO 639-1 code of the question.
        retrieval: what the retriever found for it (its `query` is the question).
        embedder: the index's embedder, for the word-alignment coverage (needed when `alignment_weight` is set:
            the thresholds were chosen with the term in the score).
    Returns:
        True when the answer must be the documents-do-not-say reply.
    """
    use = embedder if settings.alignment_weight else None  # no encoder pass when the weight is 0
    return decide(refusal_signals(retrieval.query, question_lang, retrieval, use), settings)


def decide(signals: RefusalSignals, settings: RetrievalSettings) -> bool:
    """Refuse when nothing was found or the score is below the threshold of the question/passage language pair.

    Args:
        signals: from `refusal_signals`.
        settings: the weights and thresholds (chosen by benchmarks/retrieval.py --calibrate on dev halves).
    Returns:
        True to answer with the documents-do-not-say reply.
    """
    if not signals.hits:
        return True
    score = refusal_score(signals, settings.coverage_weight, settings.gap_weight, settings.neutral_penalty,
                          settings.alignment_weight, settings.translated_coverage_weight, settings.state_penalty,
                          settings.number_penalty)
    return score < group_threshold(settings, signals.group)
