"""Refusal threshold calibration: exact thresholds on hand-made confidences."""
from __future__ import annotations

from rag.answer.refusal import language_group
from rag.eval.calibrate import ConfidencePoint, Threshold, best_threshold, calibrate


def _pts(group: str, answerable: list[float], unanswerable: list[float]) -> list[ConfidencePoint]:
    return [ConfidencePoint(f"a{i}", c, group, True) for i, c in enumerate(answerable)] + [
        ConfidencePoint(f"u{i}", c, group, False) for i, c in enumerate(unanswerable)
    ]


def test_highest_threshold_within_the_false_refusal_cap() -> None:
    pts = _pts("same", [0.80, 0.85, 0.90, 0.91, 0.92, 0.93, 0.94, 0.95, 0.96, 0.97], [0.70, 0.75, 0.88, 0.93])
    # 10% cap: one answerable (0.80) may be refused -> threshold midway between 0.80 and 0.85
    assert best_threshold(pts, "same", 0.10) == Threshold("same", 0.825, 0.5, 0.1, 10, 4)
    # no false refusal allowed: just under the lowest answerable question
    assert best_threshold(pts, "same", 0.0) == Threshold("same", 0.775, 0.5, 0.0, 10, 4)
    # 20%: refuses 0.80, 0.85 and the unanswerable 0.88, not 0.90
    assert best_threshold(pts, "same", 0.20) == Threshold("same", 0.89, 0.75, 0.2, 10, 4)


def test_never_refuse_when_every_answerable_question_scores_lowest() -> None:
    pts = _pts("cross", [0.5, 0.6], [0.9])
    assert best_threshold(pts, "cross", 0.0) == Threshold("cross", 0.0, 0.0, 0.0, 2, 1)


def test_groups_and_pooled_fallback() -> None:
    pts = _pts("same", [0.9, 0.95], [0.7]) + _pts("cross", [0.8, 0.85], [])
    out = calibrate(pts, 0.0)
    assert out["same"] == Threshold("same", 0.8, 1.0, 0.0, 2, 1)
    # no unanswerable cross-language question: the pooled threshold stands in
    assert out["cross"] == Threshold("cross", out["all"].threshold, 0.0, 0.0, 2, 0)
    assert out["all"].threshold == 0.75


def test_language_group() -> None:
    assert language_group("zh", "zh") == "same"
    assert language_group("en", "zh") == "cross"
    assert language_group("en", None) == "cross"
