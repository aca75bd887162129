"""Evaluation: gold sets, metrics, reports, refusal calibration and SQuAD-format conversion."""
