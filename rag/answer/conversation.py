"""Rewrite follow-up questions ("what about Belarus?") into standalone ones before retrieval."""
from __future__ import annotations

import re

from rag.lang import detect_language

_FOLLOW_UP = re.compile(
    r"^(?:what about|how about|and|what of|and what about|et|y|а|и)\b|^(?:那么?|那|还有|以及)|[呢吗]？?$|"
    r"\b(?:they|them|their|it|its|he|she|his|her|this|that|these|those)\b|(?:他们|她们|它们|他|她|该|这个|那个|此)",
    re.I,
)


def is_follow_up(question: str) -> bool:
    q = question.strip()
    short = len(q) <= 24 if detect_language(q) == "zh" else len(q.split()) <= 8
    return short and bool(_FOLLOW_UP.search(q))


def heuristic_rewrite(history: list[tuple[str, str]], question: str) -> str:
    """Without a model: a short follow-up is read together with the previous user question."""
    previous = [t for r, t in history if r == "user"]
    if not previous or not is_follow_up(question):
        return question
    return f"{previous[-1].strip()} {question.strip()}"
