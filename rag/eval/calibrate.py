"""Choose the refusal thresholds from a gold set's answerable and unanswerable questions."""
from __future__ import annotations

from dataclasses import dataclass
from itertools import product
from typing import TYPE_CHECKING, Any, Callable, Sequence

from rag.answer.refusal import GROUPS, refusal_score, refusal_signals
from rag.eval.gold import GoldSet
from rag.lang import detect_language

if TYPE_CHECKING:
    from rag.answer.pipeline import Pipeline

# Share of answerable gold questions a threshold may refuse. 3%, not the 5% that the issue allows on questions
# nobody tuned for: a cap fitted at 4% on the dev halves slipped to 5.3-8.0% on test halves of 150 and 58
# questions (CMRC asked in English, the seeds' new questions; README, Refusals), so the fit keeps the margin.
MAX_FALSE_REFUSAL = 0.03


@dataclass(frozen=True)
class ConfidencePoint:
    """One gold question's retrieval confidence and whether the corpus answers it."""

    id: str
    confidence: float
    group: str  # rag.answer.refusal.GROUPS: "same", "same-other" or "cross"
    answerable: bool


@dataclass(frozen=True)
class Threshold:
    """A refusal threshold and how it does on the points it was chosen from."""

    group: str
    threshold: float
    refusal_accuracy: float  # unanswerable questions refused
    false_refusal: float  # answerable questions refused
    answerable: int
    unanswerable: int


def best_threshold(points: Sequence[ConfidencePoint], group: str = "all", max_false_refusal: float = MAX_FALSE_REFUSAL) -> Threshold:
    """The highest threshold that wrongly refuses at most `max_false_refusal` of the answerable questions.

    Why not balanced accuracy: on our gold set the unanswerable questions that sit close to the corpus
    ("what did France say at the 1505th meeting") score as high as answerable ones, and balancing would
    refuse most answerable questions to catch them. Capping false refusals keeps the threshold to what
    confidence can tell apart (off-topic questions), and lets the user choose the trade-off.
    Candidates are midpoints between neighbouring confidences, plus 0 (never refuse).
    """
    pos = sorted(p.confidence for p in points if p.answerable)
    neg = sorted(p.confidence for p in points if not p.answerable)
    values = sorted({p.confidence for p in points})
    best = (0.0, 0.0, 0.0)  # threshold, refusal accuracy, false refusal
    for t in [0.0] + [round((a + b) / 2, 4) for a, b in zip(values, values[1:])]:
        false = sum(c < t for c in pos) / len(pos) if pos else 0.0
        if false <= max_false_refusal + 1e-9 and t > best[0]:
            best = (t, sum(c < t for c in neg) / len(neg) if neg else 0.0, false)
    return Threshold(group, best[0], round(best[1], 4), round(best[2], 4), len(pos), len(neg))


def collect(pipeline: "Pipeline", gold: GoldSet, progress: Callable[[int, int], None] | None = None) -> list[ConfidencePoint]:
    """Retrieve for every gold question exactly as `rag ask` does and record its refusal score (the top cosine
    plus the configured coverage, gap, number and alignment terms: what `rag.answer.refusal` compares with the
    threshold)."""
    points = []
    s = pipeline.settings.retrieval
    for i, q in enumerate(gold, 1):
        r = pipeline.retriever.search(q.question)
        sig = refusal_signals(q.question, detect_language(q.question), r,
                              pipeline.embedder if s.alignment_weight else None)
        score = (refusal_score(sig, s.coverage_weight, s.gap_weight, s.neutral_penalty, s.alignment_weight,
                               s.translated_coverage_weight, s.state_penalty, s.number_penalty) if r.hits else 0.0)
        points.append(ConfidencePoint(q.id, round(score, 4), sig.group, q.answerable))
        if progress:
            progress(i, len(gold))
    return points


def calibrate(points: Sequence[ConfidencePoint], max_false_refusal: float = MAX_FALSE_REFUSAL) -> dict[str, Threshold]:
    """One threshold per language group; a group with no unanswerable question borrows the pooled one."""
    pooled = best_threshold(points, "all", max_false_refusal)
    out = {"all": pooled}
    for g in GROUPS:
        sub = [p for p in points if p.group == g]
        if any(not p.answerable for p in sub) and any(p.answerable for p in sub):
            out[g] = best_threshold(sub, g, max_false_refusal)
        else:
            out[g] = Threshold(g, pooled.threshold, 0.0, 0.0, sum(p.answerable for p in sub),
                               sum(not p.answerable for p in sub))
    return out


@dataclass(frozen=True)
class RefusalRule:
    """Weights and per-language-pair thresholds of `rag.refusal.should_refuse`, with how they did on the points."""

    coverage_weight: float
    gap_weight: float
    neutral_penalty: float
    alignment_weight: float
    translated_coverage_weight: float
    state_penalty: float
    number_penalty: float
    thresholds: dict[str, float]
    worst_false_refusal: dict[str, float]  # per group: the highest false-refusal rate over the sets
    refused: dict[str, float]  # per group: the mean share of unanswerable questions refused over the sets


def fit_refusal(points: Sequence[tuple[str, bool, Any]], max_false_refusal: float = MAX_FALSE_REFUSAL,
                coverage_weights: Sequence[float] = (0.0, 0.05, 0.1, 0.2),
                gap_weights: Sequence[float] = (0.0, 0.5, 1.0),
                neutral_penalties: Sequence[float] = (0.0, 0.01, 0.02),
                alignment_weights: Sequence[float] = (0.0,),
                translated_weights: Sequence[float] = (0.0,),
                state_penalties: Sequence[float] = (0.0,),
                number_penalties: Sequence[float] = (0.0,)) -> RefusalRule:
    """Grid-search the weights; per language pair the highest threshold whose false refusals stay within
    `max_false_refusal` on every set, scored by the mean share of unanswerable questions refused over the sets.

    Args:
        points: (set name, answerable, RefusalSignals) of dev questions from several sets.
        max_false_refusal: the cap, applied to each set and language pair separately (never pooled).
        alignment_weights: weights of the word-alignment coverage to try (the signals must carry it).
        translated_weights: weights of the translated keyword coverage to try (English and Chinese across each
            other).
        state_penalties: penalties per State named by the question and missing from the best passages to try.
        number_penalties: penalties per number stated by the question and held by no best passage, beyond the
            first, to try.

    Returns:
        The best rule; thresholds depend on the language pair, never on the set.
    """
    best: RefusalRule | None = None
    best_key = (-1.0, 0.0)
    grid = product(coverage_weights, gap_weights, neutral_penalties, alignment_weights, translated_weights,
                   state_penalties, number_penalties)
    for weights in grid:
        rule = _rule(points, max_false_refusal, *weights)
        key = (sum(rule.refused.values()), -sum(weights))  # the simpler rule on ties
        if key > best_key:
            best_key, best = key, rule
    assert best is not None
    return best


def _rule(points: Sequence[tuple[str, bool, Any]], max_false_refusal: float, cw: float, gw: float, npen: float,
          aw: float, tw: float = 0.0, sp: float = 0.0, np_: float = 0.0) -> RefusalRule:
    """Per language pair, the highest threshold whose false refusals stay within the cap on every set."""
    thresholds, worst, refused = {}, {}, {}
    for g in GROUPS:
        pts = [(name, ans, refusal_score(sig, cw, gw, npen, aw, tw, sp, np_)) for name, ans, sig in points
               if sig.group == g and sig.hits]
        sets = sorted({n for n, _, _ in pts})
        pos = {n: sorted(sc for m, a, sc in pts if m == n and a) for n in sets}
        # the highest threshold below which at most max_false_refusal of each set's answerable fall
        cap = min((v[int(max_false_refusal * len(v))] for v in pos.values() if v), default=0.0)
        t = round(cap - 1e-4, 4)
        thresholds[g] = t
        worst[g] = max((sum(x < t for x in v) / len(v) for v in pos.values() if v), default=0.0)
        neg = [[sc for m, a, sc in pts if m == n and not a] for n in sets]
        neg = [v for v in neg if v]
        refused[g] = float(sum(sum(x < t for x in v) / len(v) for v in neg) / len(neg)) if neg else 0.0
    return RefusalRule(cw, gw, npen, aw, tw, sp, np_, thresholds, worst, refused)
