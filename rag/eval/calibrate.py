"""Choose the refusal thresholds from a gold set's answerable and unanswerable questions."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Sequence

from rag.answer.refusal import GROUPS, language_group
from rag.eval.gold import GoldSet
from rag.lang import detect_language

if TYPE_CHECKING:
    from rag.answer.pipeline import Pipeline

MAX_FALSE_REFUSAL = 0.05  # share of answerable gold questions a threshold may refuse


@dataclass(frozen=True)
class ConfidencePoint:
    """One gold question's retrieval confidence and whether the corpus answers it."""

    id: str
    confidence: float
    group: str  # "same" or "cross"
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
    """Retrieve for every gold question exactly as `rag ask` does and record its confidence."""
    points = []
    for i, q in enumerate(gold, 1):
        r = pipeline.retriever.search(q.question)
        passage_lang = r.hits[0].chunk.language if r.hits else None
        group = language_group(detect_language(q.question), passage_lang)
        points.append(ConfidencePoint(q.id, round(r.confidence, 4), group, q.answerable))
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
