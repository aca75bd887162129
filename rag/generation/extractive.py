"""The extractive generator: the most relevant sentences of the top passages, quoted verbatim, each cited.

The same selection feeds the model generators (`rag.generation.chat`, prompt "rewrite"): they only translate and
condense the selected sentences, and each rendered sentence is checked against the sentence it came from
(`rag.answer.checked`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterator

import numpy as np

from index.tokenize import tokenize
from rag.errors import RagError
from rag.generation.guard import addresses_reader
from rag.models.alignment import sentence_alignment
from rag.models.embed import Embedder
from rag.models.lexicon import translated_share
from rag.models.states import holds_state, states_named
from rag.text import is_cjk_wide, split_sentences
from rag.types import Hit

TOP_PASSAGES = 3
# The passages whose section-window neighbours are candidates too (rag.answer.retrieve.expand_hits): the answer often
# sits in the paragraph after the matched one. benchmarks/selection.py, dev halves, alignment 0.25, seeds/gold
# precision of the quoted sentences (English / Chinese): neighbours of no passage 0.400 / 0.800 (measured before
# the Chinese score fusion), of the first 0.475 / 0.875, of the first three 0.475 / 0.875 (reach 0.65 / 1.00 and
# 0.70 / 1.00); CMRC, UNPC unchanged. One passage costs half of three: an extractive answer p50 390 ms, p95 1.07 s
# on 2 quiet AMD EPYC cores (seeds, 40 questions), against 711 ms / 1.89 s with three and 158 ms / 358 ms with none.
WINDOW_PASSAGES = 1
MAX_SENTENCES = 2
# Weight of the share of the question's keywords a sentence holds (same language): re-measured 2026-12-02 evening
# (benchmarks/README.md, "the shared-keyword weight"), 0.05 is the largest weight that lowers no set's dev precision.
LEXICAL_WEIGHT = 0.05
LEAD_IN_PENALTY = 0.02  # seeds/gold: citation P .594 vs .582 without it, F1 .240 vs .235
# Subtracted from a sentence that asks a question ("该倡议的新增意义在哪里？", a speaker's rhetorical question): it
# announces an answer at best. "Что предложила Беларусь?" over the seeds quoted that question of Belarus's statement
# instead of the proposal that follows. benchmarks/selection.py (2026-12-02 evening), precision of the quoted
# sentences at 0 / 0.02 / 0.05 / 0.1: every dev and test half of the eight sets equal up to 0.05 (few of their
# questions have a question among the candidates: CMRC 23 of 300), UNPC en→zh dev 0.833 → 0.830 at 0.1.
QUESTION_PENALTY = 0.05
SAME_DOCUMENT_ONLY = True  # a second sentence from another document read as a non sequitur; gold cit. P .600 vs .594
# A second sentence within this margin of the best (first chosen on seeds/gold: citation P .582 vs .529 at 0.03,
# .576 with one sentence only). Re-checked on the dev halves of all eight selection sets (benchmarks/selection.py,
# 2026-12-02 night; precision / hit = some quoted sentence holds the evidence), one sentence → 0.015 → 0.03:
# CMRC 0.663/0.663 → 0.645/0.693 → 0.617/0.717, CMRC asked in English 0.440/0.440 → 0.417/0.493 → 0.393/0.527,
# seeds/gold Chinese 0.850/0.850 → 0.875/0.900 → 0.850/0.900, seeds' new Chinese 0.667/0.667 → 0.667/0.852 →
# 0.648/0.852, UNPC within 0.003. Each step trades precision for hit; 0.015 is the only setting that loses
# neither on the seeds' Chinese questions, so it stays (three sentences at 0.015: CMRC asked in English hit
# 0.493 → 0.513, the seeds' new English precision 0.343 → 0.324).
SECOND_SENTENCE_MARGIN = 0.015
# Weight of the word-alignment coverage of the question by each sentence (rag.models.alignment), beside its cosine:
# the sentence that has a counterpart for each question word, in any language. benchmarks/selection.py, dev halves,
# 2026-12-02 (retrieval with the Chinese score fusion), precision of the quoted sentences at weight 0 / 0.25 / 0.5:
# CMRC 0.622 / 0.645 / 0.642, UNPC en→zh 0.605 / 0.637 / 0.640, UNPC zh→zh 0.957 / 1.000 / 1.000, seeds/gold
# English 0.425 / 0.475 / 0.475, Chinese 0.850 / 0.875 / 0.850, UNPC en→en 0.923 at all (mean 0.730 / 0.759 /
# 0.755). Its cost: half an encoder pass over the candidate sentences, p50 ~110 ms, p95 ~375 ms per question on 2
# shared AMD EPYC cores.
ALIGN_WEIGHT = 0.25
# The alignment is computed for the best this many candidates by the other signals only (the rest keep their score
# without it): with the window neighbours a question has ~28 candidate sentences on the seeds, and aligning all of
# them cost p50 0.15-0.45 s, p95 up to 1 s per question (benchmarks/selection.py, quiet machine). Aligning the best
# 16, 12, 8 or 6 gave the same selection as aligning all on every dev half of the five sets (2026-12-02); 8 keeps a
# margin (6 lost one seeds/gold English test question) at under a third of the cost.
ALIGN_CANDIDATES = 8  # 0: all
# Weight of the translated keywords (an English question's words in Chinese by CC-CEDICT, rag.models.lexicon, or a
# Chinese question's in English) a sentence in the other language holds: the cross-language counterpart of the
# shared keywords. benchmarks/selection.py, dev halves, 2026-12-02 (retrieval with the keyword translation),
# precision of the quoted sentences at weight 0 / 0.05 / 0.1 / 0.2 / 0.3: CMRC en→zh 0.417 / 0.417 / 0.410 /
# 0.390 / 0.377, UNPC en→zh 0.838 / 0.840 / 0.842 / 0.838 / 0.840, UNPC zh→en 0.852 / 0.855 / 0.862 / 0.855 /
# 0.852, seeds/gold English 0.400 / 0.425 / 0.425 / 0.475 / 0.550 (20 questions). 0.05 is the largest weight that
# lowers no set; 0.1 and up cost CMRC asked in English.
TRANSLATED_WEIGHT = 0.05
# Per rank of the retrieved passage (top passage +0.02, second +0.01): breaks near-ties. A larger prior does not help
# sentences in the other language either (benchmarks/selection.py, dev halves, 2026-12-02 night, precision at 0 /
# 0.01 / 0.02 / 0.05 / 0.1): UNPC en→zh 0.843 / 0.840 / 0.837 / 0.800 / 0.730, zh→en 0.858 / 0.850 / 0.853 / 0.813 /
# 0.757, CMRC en→zh 0.413 / 0.417 / 0.420 / 0.417 / 0.403, seeds/gold English 0.475 / 0.525 / 0.525 / 0.550 / 0.550
# (20 questions), Chinese 0.875 / 0.875 / 0.875 / 0.825 / 0.825.
PRIOR_WEIGHT = 0.01
# Subtracted from a sentence that only repeats its document's symbol and title (`title_echo`: a title block, the
# document's own line in a list of documents). "2023年致命性自主武器系统政府专家组由谁担任主席？" quoted the report's
# title, which holds every word of the question and answers nothing. benchmarks/selection.py, 2026-12-02 night,
# precision at 0 / 0.02 / 0.05 / 0.1 / 1.0: the seeds' new Chinese questions dev 0.667 / 0.667 / 0.685 / 0.685 /
# 0.685 (top@1 0.667 → 0.704 from 0.02); test seeds/gold English 0.500 → 0.524, CMRC 0.725 → 0.727 from 0.02; no
# set lower at any value (UNPC documents have no title). 0.05: the smallest with the whole dev gain, and a title
# that clearly answers best ("what is the report called?") still wins.
TITLE_PENALTY = 0.05
# Per share of the States the question names (rag.models.states) that a sentence or its speaker's delegation names,
# in either language: "What did Belarus propose?" wants a sentence by or about Belarus. benchmarks/selection.py,
# 2026-12-02 morning, dev precision at 0 / 0.01 / 0.02 / 0.05 / 0.1: UNPC zh→en 0.830 / 0.833 / 0.838 / 0.838 /
# 0.837, CMRC 0.645 / 0.645 / 0.645 / 0.647 / 0.648, UNPC en→en 0.925 up to 0.05, 0.906 at 0.1; every other set
# unchanged (few of their questions name a State). 0.02: the smallest with the whole UNPC gain. Test: CMRC 0.727 →
# 0.728, the rest unchanged (0.05 would cost CMRC 0.004 and CMRC asked in English 0.010).
STATE_WEIGHT = 0.02
# A sentence that opens with an anaphor ("该条约于 2009 年 7 月 15 日生效", "It entered into force …") answers through the
# sentence before it, which names what it is about: it is scored as the better of itself and the two sentences
# together (their cosine and shared keywords), and quoted with that sentence, so the answer says what "该条约" is.
# benchmarks/selection.py (2026-12-02 evening), dev halves, precision of the quoted sentences before / after: CMRC
# 0.643 / 0.653, CMRC asked in English 0.420 / 0.427, every other set equal (seeds/gold 0.700, the seeds' new
# questions 0.514, UNPC en→zh 0.833, zh→en 0.838, en→en 0.925, zh→zh 0.979); test: seeds/gold 0.526 / 0.546, the
# seeds' new questions 0.595 / 0.612, CMRC 0.728 / 0.733, CMRC asked in English 0.483 / 0.490, UNPC en→zh 0.813 /
# 0.817, none lower. Its cost: one more encoder pass over the few such sentences (~2 per seeds question; selection p50
# 137 → 140 ms). Anaphors: Chinese demonstratives and pronouns, English pronouns and "this"/"these"; not 此外 ("in
# addition") nor 其他 ("other"), which open a sentence of their own (the commonest openings of CMRC pairs: 此外 100, 其中 81;
# leaving the two out changed no figure of any half, and shortens those quotes).
ANAPHOR = re.compile(r"^(?:\(?[a-z0-9]{1,3}[.)]\s*)?(?:该|此(?!外)|这|其(?!他)|它|他|她|上述|前者|后者|同年|次年|翌年|It\b|Its\b|They\b|Their\b|"
                     r"This\b|These\b|He\b|She\b|His\b|Her\b)")


@dataclass
class Evidence:
    """A selected source sentence: its passage number [n] (1-based in the hits) and its verbatim text."""

    n: int
    text: str
    score: float = 0.0


@dataclass
class Selection:
    """What the selection saw: every candidate sentence (for distractors in the check) and the chosen ones."""

    evidence: list[Evidence]
    candidates: list[tuple[int, str]]
    vectors: np.ndarray | None = None  # passage vectors of `candidates`, in order


def usable(hits: list[Hit]) -> list[int]:
    """1-based numbers of the hits a generator may use: passages that address the reader are set aside."""
    return [n for n, h in enumerate(hits, 1) if not addresses_reader(h.chunk.text)]


def candidate_sentences(hits: list[Hit]) -> list[tuple[int, str]]:
    """(passage number, sentence) pairs from the top usable passages (a unit of siblings counts as one passage;
    numbers stay those of `hits`; a passage that addresses the reader is skipped)."""
    out: list[tuple[int, str]] = []
    keep = set(usable(hits))
    for n, h in enumerate(hits, 1):
        if (h.group or n) > TOP_PASSAGES + (n - 1 - sum(1 for m in range(1, n) if m in keep)):
            break
        if n not in keep:
            continue
        text = h.chunk.text
        for a, b in split_sentences(text):
            s = text[a:b].strip()
            if len(s) >= 4:
                out.append((n, s))
    return out


@dataclass
class SentenceSignals:
    """What ranks the candidate sentences of one question (arrays in the order of the candidates)."""

    vectors: np.ndarray  # the sentences' passage vectors (the citation check's distractors reuse them)
    cosine: np.ndarray  # the sentence's embedding against the question's
    lexical: np.ndarray  # share of the question's keywords in the sentence (same language only)
    prior: np.ndarray  # rank of the retrieved passage (its `group`): earlier passages break ties
    lead_in: np.ndarray  # 1.0 for a sentence ending in ":" (it announces the answer without giving it)
    alignment: np.ndarray | None = None  # word-alignment coverage of the question by the sentence, any language
    # share of the question's translatable words with a translation in the sentence (English and Chinese across
    # each other; 0 for a sentence in the question's own language)
    translated: np.ndarray | None = None
    # 1.0 for a sentence that only repeats its document's symbol and title (a title block, a list of documents):
    # it restates the question's context, and the citation shows it anyway
    title: np.ndarray | None = None
    # share of the States the question names that the sentence (or its speaker's delegation) names; None when the
    # question names none
    states: np.ndarray | None = None
    question: np.ndarray | None = None  # 1.0 for a sentence that asks a question (ends in "?" or "？")
    # per candidate, what scoring it together with the sentence before it adds (≥ 0; `ANAPHOR`), and those pairs'
    # text by candidate index (what the answer quotes for them)
    joined_gain: np.ndarray | None = None
    joined: dict[int, str] = field(default_factory=dict)

    def scores(self, align_weight: float = 0.0, translated_weight: float | None = None,
               prior_weight: float | None = None, title_penalty: float | None = None,
               state_weight: float | None = None) -> list[float]:
        """The selection score of each candidate.

        Args:
            align_weight: weight of the word-alignment coverage (ignored when it was not computed).
            translated_weight: weight of the translated keywords (default `TRANSLATED_WEIGHT`).
            prior_weight: weight per rank of the retrieved passage (default `PRIOR_WEIGHT`).
            title_penalty: subtracted from a sentence that only repeats its title (default `TITLE_PENALTY`).
            state_weight: weight of the share of the question's States a sentence names (default `STATE_WEIGHT`).
        Returns:
            One score per candidate, higher is better.
        """
        pw = PRIOR_WEIGHT if prior_weight is None else prior_weight
        s = self.cosine + LEXICAL_WEIGHT * self.lexical + pw * self.prior - LEAD_IN_PENALTY * self.lead_in
        tp = TITLE_PENALTY if title_penalty is None else title_penalty
        if tp and self.title is not None:
            s = s - tp * self.title
        tw = TRANSLATED_WEIGHT if translated_weight is None else translated_weight
        if tw and self.translated is not None:
            s = s + tw * self.translated
        if align_weight and self.alignment is not None:
            s = s + align_weight * self.alignment
        sw = STATE_WEIGHT if state_weight is None else state_weight
        if sw and self.states is not None:
            s = s + sw * self.states
        if self.question is not None:
            s = s - QUESTION_PENALTY * self.question
        if self.joined_gain is not None:
            s = s + self.joined_gain
        return [float(x) for x in s]

    def quotable(self, cands: list[tuple[int, str]]) -> list[tuple[int, str]]:
        """`cands` as the answer quotes them: an anaphoric sentence together with the sentence before it."""
        return [(n, self.joined.get(i, s)) for i, (n, s) in enumerate(cands)]


def sentence_signals(question: str, hits: list[Hit], cands: list[tuple[int, str]], embedder: Embedder,
                     query_vector: np.ndarray | None = None, with_alignment: bool = False,
                     align_candidates: int | None = None) -> SentenceSignals:
    """The signals `SentenceSignals.scores` combines, for the candidates of `candidate_sentences(hits)`.

    Args:
        question: the (standalone) question.
        hits: retrieved passages, numbered from 1.
        cands: (passage number, sentence) pairs.
        embedder: embeds the question (unless `query_vector` is given) and the sentences; its encoder gives the
            token vectors of the alignment.
        with_alignment: compute the word-alignment coverage (when the embedder exposes token vectors).
        align_candidates: align only the best this many candidates by the other signals, the others get 0
            (default `ALIGN_CANDIDATES`; 0 aligns all).
    Returns:
        The signals, in the order of `cands`.
    """
    q = query_vector if query_vector is not None else embedder.embed_queries([question])[0]
    vecs = embedder.embed_passages([s for _, s in cands])
    q_tokens = set(tokenize(question))

    def keyword_share(text: str) -> float:  # share of the question's keywords `text` holds (same language only)
        return len(q_tokens & set(tokenize(text))) / len(q_tokens) if q_tokens else 0.0

    lexical = [keyword_share(s) for _, s in cands]
    # Dense similarity leads (it works across languages); shared keywords and passage rank break ties
    # (the rank of the retrieved passage, `group`, not of the part within it).
    prior = [TOP_PASSAGES - (hits[n - 1].group or n) for n, _ in cands]
    lead_in = [1.0 if s.rstrip().endswith((":", "：")) else 0.0 for _, s in cands]
    title = [title_echo(s, hits[n - 1].chunk.symbol, hits[n - 1].chunk.title) for n, s in cands]
    sig = SentenceSignals(vecs, vecs @ q, np.asarray(lexical), np.asarray(prior, float), np.asarray(lead_in),
                          title=np.asarray(title, float), translated=translated_share(question, [s for _, s in cands]),
                          states=state_share(question, hits, cands),
                          question=np.asarray([s.rstrip().endswith(("?", "？")) for _, s in cands], float))
    sig.joined = joined_sentences(cands)
    if sig.joined:  # the pair's cosine and shared keywords in place of the sentence's, where that is better
        at = list(sig.joined)
        texts = list(sig.joined.values())
        joined_lexical = np.asarray([keyword_share(t) for t in texts])
        gain = (embedder.embed_passages(texts) @ q - sig.cosine[at]
                + LEXICAL_WEIGHT * (joined_lexical - sig.lexical[at]))
        sig.joined_gain = np.zeros(len(cands))
        sig.joined_gain[at] = np.maximum(gain, 0.0)
    if with_alignment:
        idx = align_targets(sig, ALIGN_CANDIDATES if align_candidates is None else align_candidates)
        aligned = sentence_alignment(embedder, question, [cands[int(i)][1] for i in idx])
        if aligned is not None:
            sig.alignment = np.zeros(len(cands), np.float32)
            sig.alignment[idx] = aligned
    return sig


def joined_sentences(cands: list[tuple[int, str]]) -> dict[int, str]:
    """Candidate index -> that sentence together with the one before it, for each candidate that opens with an
    anaphor (`ANAPHOR`) right after another sentence of the same passage."""
    out = {}
    for i in range(1, len(cands)):
        (m, prev), (n, s) = cands[i - 1], cands[i]
        if m == n and ANAPHOR.match(s):
            out[i] = prev + ("" if is_cjk_wide(prev[-1]) else " ") + s
    return out


def state_share(question: str, hits: list[Hit], cands: list[tuple[int, str]]) -> np.ndarray | None:
    """Per candidate, the share of the States `question` names that the sentence or its speaker's delegation names
    (in English or Chinese); None when the question names no State."""
    named = states_named(question)
    if not named:
        return None
    return np.asarray([sum(holds_state(i, f"{s} {hits[n - 1].chunk.delegation or ''}") for i in named) / len(named)
                       for n, s in cands], float)


_NOT_TEXT = re.compile(r"[\W_]+")


@lru_cache(maxsize=256)
def _letters(text: str) -> str:
    """`text` lower-cased, letters and digits only (cached: every candidate of a passage reads its symbol and title)."""
    return _NOT_TEXT.sub("", text).lower()


def title_echo(sentence: str, symbol: str | None, title: str | None) -> float:
    """1.0 when `sentence`, letters and digits only, is its document's title or symbol, or both, else 0.0."""
    core = _NOT_TEXT.sub("", sentence).lower()
    meta = [_letters(x) for x in (symbol, title) if x]
    if not core or not meta:
        return 0.0
    return 1.0 if core in meta or core == "".join(meta) else 0.0


def align_targets(sig: SentenceSignals, n: int) -> np.ndarray:
    """Indices of the candidates the word alignment is computed for: the best `n` by the other signals (0: all)."""
    order = np.argsort(-np.asarray(sig.scores()))
    return order[:n] if n else order


def choose(cands: list[tuple[int, str]], scores: list[float], hits: list[Hit],
           max_sentences: int = MAX_SENTENCES, margin: float | None = None) -> list[int]:
    """Indices of the candidates the answer quotes: the best one, and up to `max_sentences - 1` more that score
    within `margin` (default `SECOND_SENTENCE_MARGIN`) of it in the same document, in document order."""
    margin = SECOND_SENTENCE_MARGIN if margin is None else margin
    order = np.argsort(-np.asarray(scores))
    chosen = [int(order[0])]
    for i in order[1 : max_sentences * 3]:
        if len(chosen) >= max_sentences:
            break
        if scores[chosen[0]] - scores[int(i)] > margin:
            continue
        if SAME_DOCUMENT_ONLY and hits[cands[int(i)][0] - 1].chunk.doc_id != hits[cands[chosen[0]][0] - 1].chunk.doc_id:
            continue
        chosen.append(int(i))
    chosen.sort(key=lambda i: (cands[i][0], i))  # keep document order within and across passages
    return chosen


def select_evidence(question: str, hits: list[Hit], embedder: Embedder, query_vector: np.ndarray | None = None,
                    max_sentences: int = MAX_SENTENCES, align_weight: float | None = None) -> Selection:
    """The best sentences of the top passages for `question`, in document order.

    Args:
        question: the (standalone) question.
        hits: retrieved passages, numbered from 1.
        embedder: embeds the question (unless `query_vector` is given) and the candidate sentences.
        max_sentences: how many sentences to keep at most.
        align_weight: weight of the word-alignment coverage in the score (default `ALIGN_WEIGHT`; 0 skips the
            encoder pass).
    Returns:
        The selection: chosen sentences with their passage numbers, and all candidates with their vectors.
    """
    cands = candidate_sentences(hits)
    if not cands:
        return Selection([], [], None)
    weight = ALIGN_WEIGHT if align_weight is None else align_weight
    sig = sentence_signals(question, hits, cands, embedder, query_vector, with_alignment=weight > 0)
    return Selection(quoted(sig.quotable(cands), sig.scores(weight), hits, max_sentences), cands, sig.vectors)


def quoted(cands: list[tuple[int, str]], scores: list[float], hits: list[Hit],
           max_sentences: int = MAX_SENTENCES, margin: float | None = None) -> list[Evidence]:
    """What the answer quotes, given each candidate sentence's score.

    A lead-in ("专家组得出结论认为：") announces the answer without giving it: when the best sentence is a lead-in, the
    lead-in and its items are quoted whole, each item cited to its own locator. When the best sentence is one item
    of such a list, that item answers ("专家组2023年相关费用估计载于哪份文件？" is item (b) of ¶2, not the whole
    decision); quoting the whole list instead cost seeds/gold Chinese citation precision (benchmarks/selection.py).

    Args:
        cands: (passage number, sentence) pairs from `candidate_sentences`.
        scores: one score per candidate (`SentenceSignals.scores`).
        hits: the passages the numbers refer to.
        max_sentences: how many sentences to quote at most outside a list.
        margin: how close to the best a further sentence must score (default `SECOND_SENTENCE_MARGIN`).
    Returns:
        The quoted sentences or list parts, in document order.
    """
    best = int(np.argmax(scores))
    listed = listed_unit(hits, cands[best][0])
    if listed and listed[0] == cands[best][0]:
        return [Evidence(n, hits[n - 1].chunk.text.strip(), 0.0) for n in listed
                if not addresses_reader(hits[n - 1].chunk.text)]
    picked = choose(cands, scores, hits, max_sentences, margin)
    # a sentence quoted inside another part (before an anaphoric sentence quoted with it) is not quoted twice
    picked = [i for i in picked if not any(cands[j][0] == cands[i][0] and len(cands[j][1]) > len(cands[i][1])
                                           and cands[i][1] in cands[j][1] for j in picked)]
    return [Evidence(cands[i][0], cands[i][1], scores[i]) for i in picked]


def format_quotes(evidence: list[Evidence]) -> str:
    """The extractive answer text: each sentence verbatim, followed by its [n]. A quoted list item of several
    sentences gets the marker after each of them (the answer checker keeps only cited sentences), its line breaks
    as spaces (an answer sentence is one line)."""
    parts = []
    for e in evidence:
        for a, b in split_sentences(e.text):
            sentence = " ".join(e.text[a:b].split())
            if sentence:
                parts.append(f"{sentence}[{e.n}]")
    return " ".join(parts)


def extractive_answer(question: str, hits: list[Hit], embedder: Embedder, query_vector: np.ndarray | None = None) -> str:
    """Answer text with [n] markers, quoting the best sentences verbatim."""
    return format_quotes(select_evidence(question, hits, embedder, query_vector).evidence)


class ExtractiveGenerator:
    """No language model: the most relevant sentences of the top passages, quoted verbatim with their [n]."""

    name = "extractive"
    uses_model = False

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def stream(self, question: str, hits: list[Hit], language: str, query_vector: np.ndarray | None = None,
               evidence: list[Evidence] | None = None) -> Iterator[str]:
        """See `Generator.stream`; yields the whole answer at once (it takes ~0.1 s). `evidence` is the
        pipeline's selection, when it made one (the same sentences are then quoted)."""
        if evidence is None:
            evidence = select_evidence(question, hits, self.embedder, query_vector).evidence
        yield format_quotes(evidence)

    def complete(self, messages: list[tuple[str, str]]) -> str:
        """The extractive generator has no model to run free-form prompts."""
        raise RagError("the extractive generator cannot run free-form prompts: choose a language model (--llm local)")


def listed_unit(hits: list[Hit], n: int) -> list[int]:
    """Passage numbers of a lead-in and its items when passage `n` belongs to a unit that announces a list.

    "专家组得出结论认为：" gives no answer by itself; its items (a)–(c) do, each cited to its own locator.
    Retrieval brings a hit's siblings along (rag.retrieve, small-to-big), so the items are among the hits.
    """
    unit = hits[n - 1].chunk.unit
    if not unit:
        return []
    members = [i for i, h in enumerate(hits, 1) if h.chunk.unit == unit]
    if len(members) < 2 or not hits[members[0] - 1].chunk.text.rstrip().endswith((":", "：")):
        return []
    return members
