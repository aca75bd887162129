"""Exact, pure evaluation metrics: retrieval (hit, recall, MRR, nDCG), answer F1/ROUGE-L, citations, language."""
from __future__ import annotations

import math
import unicodedata
from collections import Counter
from typing import Sequence

from rag.eval.gold import matched_evidence
from rag.lang import detect_language  # noqa: F401 - re-exported for callers of metrics
from rag.text import is_ideograph

# Ranks are 1-based everywhere; `None` means "not retrieved".


def _check_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")


def evidence_ranks(passages: Sequence[str], evidence: Sequence[str]) -> list[int | None]:
    """For each evidence string, the 1-based rank of the first passage containing it (None if none does)."""
    ranks: list[int | None] = [None] * len(evidence)
    for rank, text in enumerate(passages, 1):
        for i in matched_evidence(text, evidence):
            if ranks[i] is None:
                ranks[i] = rank
    return ranks


def relevances(passages: Sequence[str], evidence: Sequence[str]) -> list[int]:
    """Binary relevance of each ranked passage: 1 when it contains at least one evidence string."""
    return [1 if matched_evidence(text, evidence) else 0 for text in passages]


def first_relevant_rank(rels: Sequence[int]) -> int | None:
    """1-based rank of the first relevant entry of a relevance list, None when there is none."""
    return next((i for i, r in enumerate(rels, 1) if r > 0), None)


def hit_at_k(first_rank: int | None, k: int) -> float:
    """1.0 when the first relevant passage is ranked within the top k, else 0.0 (None: never retrieved)."""
    _check_k(k)
    return 1.0 if first_rank is not None and 1 <= first_rank <= k else 0.0


def recall_at_k(relevant_ranks: Sequence[int | None], n_relevant: int, k: int) -> float:
    """Evidence recall: the fraction of a question's evidence strings found in at least one top-k passage.

    `relevant_ranks` holds, per evidence string, the rank of the first passage containing it (None when
    not retrieved; see `evidence_ranks`); `n_relevant` is the number of evidence strings of the question
    (strings missing from `relevant_ranks` count as not found). Undefined without evidence: ValueError
    (leave unanswerable questions out of retrieval metrics).
    """
    _check_k(k)
    if n_relevant < 1:
        raise ValueError("recall is undefined for a question without evidence (n_relevant = 0)")
    if len(relevant_ranks) > n_relevant:
        raise ValueError(f"{len(relevant_ranks)} ranks given for {n_relevant} evidence strings")
    found = sum(1 for r in relevant_ranks if r is not None and 1 <= r <= k)
    return found / n_relevant


def reciprocal_rank(first_rank: int | None, k: int | None = None) -> float:
    """1/rank of the first relevant passage; 0.0 when none was retrieved (or it lies beyond k, if given)."""
    if k is not None:
        _check_k(k)
    if first_rank is None or first_rank < 1 or (k is not None and first_rank > k):
        return 0.0
    return 1.0 / first_rank


def ndcg_at_k(relevances: Sequence[int], k: int = 10, n_relevant: int | None = None) -> float:
    """Binary nDCG@k of a ranked list (`relevances[0]` is rank 1; any value > 0 counts as relevant).

    DCG@k = sum over ranks i <= k of rel_i / log2(i + 1). The ideal DCG puts R relevant passages
    first: IDCG@k = sum_{i=1}^{min(R, k)} 1 / log2(i + 1), with R = the number of relevant entries in
    the whole `relevances` list (which may be longer than k), or `n_relevant` when that is larger
    (e.g. a known count of relevant passages). R = 0 gives 0.0.
    """
    _check_k(k)
    rels = [1 if r > 0 else 0 for r in relevances]
    n_rel = max(sum(rels), n_relevant or 0)
    if n_rel == 0:
        return 0.0
    dcg = sum(r / math.log2(i + 1) for i, r in enumerate(rels[:k], 1))
    idcg = sum(1.0 / math.log2(i + 1) for i in range(1, min(n_rel, k) + 1))
    return dcg / idcg


# --- answer text scores -------------------------------------------------------------------------

def tokenize_for_f1(text: str) -> list[str]:
    """Tokens for F1 and ROUGE-L: NFKC + lowercase; each CJK character (Han, kana) is one token; other
    runs of letters, marks and digits are one token each ("2023年5月" -> ["2023", "年", "5", "月"]);
    punctuation, symbols and whitespace are dropped."""
    out: list[str] = []
    buf: list[str] = []
    for ch in unicodedata.normalize("NFKC", text).lower():
        if is_ideograph(ch):
            if buf:
                out.append("".join(buf))
                buf = []
            out.append(ch)
        elif unicodedata.category(ch)[0] in "LMN":
            buf.append(ch)
        elif buf:
            out.append("".join(buf))
            buf = []
    if buf:
        out.append("".join(buf))
    return out


def _prf(overlap: int, n_pred: int, n_ref: int) -> float:
    if n_pred == 0 or n_ref == 0:
        return 1.0 if n_pred == n_ref else 0.0
    if overlap == 0:
        return 0.0
    p, r = overlap / n_pred, overlap / n_ref
    return 2 * p * r / (p + r)


def token_f1(pred: str, ref: str) -> float:
    """F1 of token multisets (`tokenize_for_f1`): character-F1 for CJK, word-F1 otherwise.

    If either side has no tokens, the score is 1.0 when both are empty, else 0.0 (SQuAD convention).
    """
    p, r = tokenize_for_f1(pred), tokenize_for_f1(ref)
    overlap = sum((Counter(p) & Counter(r)).values())
    return _prf(overlap, len(p), len(r))


char_f1 = token_f1  # the same score; the name used for Chinese text


def _lcs(a: Sequence[str], b: Sequence[str]) -> int:
    if len(a) < len(b):
        a, b = b, a
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b, 1):
            cur.append(prev[j - 1] + 1 if x == y else max(prev[j], cur[j - 1]))
        prev = cur
    return prev[-1]


def rouge_l_pair(pred: str, ref: str) -> float:
    """ROUGE-L F-measure (beta = 1) of the longest common token subsequence; empty sides as in `token_f1`."""
    p, r = tokenize_for_f1(pred), tokenize_for_f1(ref)
    return _prf(_lcs(p, r) if p and r else 0, len(p), len(r))


def answer_f1(pred: str, references: Sequence[str]) -> float:
    """Best `token_f1` of the prediction against any reference.

    No references (an unanswerable question): 1.0 for an empty prediction (no tokens), else 0.0; pass
    "" for a refusal. Whether a refusal was right is better judged from the pipeline's refusal flag.
    """
    if not references:
        return 1.0 if not tokenize_for_f1(pred) else 0.0
    return max(token_f1(pred, ref) for ref in references)


def rouge_l(pred: str, references: Sequence[str]) -> float:
    """Best ROUGE-L F-measure against any reference; no references as in `answer_f1`."""
    if not references:
        return 1.0 if not tokenize_for_f1(pred) else 0.0
    return max(rouge_l_pair(pred, ref) for ref in references)


# --- citations ----------------------------------------------------------------------------------

def citation_precision(cited_texts: Sequence[str], evidence: Sequence[str]) -> float:
    """Fraction of cited passages that contain at least one evidence string.

    No citations: 1.0 when there is no evidence either (correct for an unanswerable question), else 0.0.
    Citations for a question without evidence are all unsupported: 0.0.
    """
    if not cited_texts:
        return 0.0 if evidence else 1.0
    if not evidence:
        return 0.0
    return sum(1 for t in cited_texts if matched_evidence(t, evidence)) / len(cited_texts)


def citation_recall(cited_texts: Sequence[str], evidence: Sequence[str]) -> float:
    """Fraction of evidence strings found in at least one cited passage.

    No evidence (unanswerable question): 1.0 when nothing is cited, else 0.0.
    """
    if not evidence:
        return 0.0 if cited_texts else 1.0
    found: set[int] = set()
    for t in cited_texts:
        found.update(matched_evidence(t, evidence))
    return len(found) / len(evidence)


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0..100) with linear interpolation between order statistics (numpy's default).

    Raises ValueError for an empty sequence or p outside [0, 100].
    """
    if not values:
        raise ValueError("percentile of an empty sequence")
    if not 0 <= p <= 100:
        raise ValueError(f"p must be within [0, 100], got {p}")
    xs = sorted(float(v) for v in values)
    pos = (len(xs) - 1) * p / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)
