"""Word-alignment coverage: how much of a question the best passages say, in any language, from e5's token vectors."""
from __future__ import annotations

import unicodedata
from typing import Any, Sequence

import numpy as np

from index.tokenize import STOPWORDS
from rag.models.tokens import TokenVectors, supports_tokens, token_vectors

# Why: multilingual encoders' contextual token vectors align words across languages without parallel data (SimAlign,
# Jalili Sabet et al. 2020). A passage that says what the question asks has a counterpart for each of its content
# words; a same-topic near miss lacks some. Measured on the dev/test questions of benchmarks/retrieval.py (CMRC 2018,
# UNPC en→zh, seeds/gold), ranking "evidence in the top 3" above "left-out" (ROC AUC, UNPC en→zh): the top cosine
# 0.709; this coverage at layer 6 0.935 (layer 4 0.918, 8 0.934, 12 0.876); mutual-argmax alignment 0.805-0.836;
# the share of words above a similarity floor 0.921 (floor 0.6); the least-covered word 0.80.
ALIGN_LAYER = 6  # of 12: runs half the encoder; see the AUCs above
ALIGN_QUESTION_TOKENS = 64  # a question's pieces kept (prompt included): questions are short
ALIGN_PASSAGE_TOKENS = 256  # a passage's pieces kept: the chunk a hit matched is under 300 tokens

# Question words and function words: a passage need not repeat "what" or "哪些" to answer. The keyword index's list
# plus the words that only questions use.
QUESTION_WORDS = STOPWORDS | set(
    "please tell say said give many much kind will would shall can could may might any some all not no "
    "哪里 哪儿 为什么 几 啥 请 问 是什么 做什么 哪一 哪年 哪支 哪位 哪份 哪项 哪次 哪天 哪一年 一个 "
    "quel quelle quels quelles comment pourquoi combien où quand qué quién cuál cuáles cuántos cuántas cuándo dónde "
    "cómo porqué".split())


def _is_piece_content(piece: str) -> bool:
    """A piece carries meaning: not only the word-start mark, punctuation, symbols or spaces."""
    w = piece.lstrip("▁")
    return bool(w) and not all(unicodedata.category(c)[0] in "PSZ" for c in w)


def _is_cjk(piece: str) -> bool:
    return any("\u3400" <= c <= "\u9fff" or "\uf900" <= c <= "\ufaff" for c in piece)


def content_words(tokens: Sequence[str]) -> list[list[int]]:
    """The question's content words as lists of piece indices: a piece starting with "▁" starts a word (each CJK
    piece is a word of its own); punctuation pieces and `QUESTION_WORDS` are dropped.

    Args:
        tokens: sentencepiece pieces (`TokenVectors.tokens`).
    Returns:
        One list of indices into `tokens` per content word, in order.
    """
    words: list[list[int]] = []
    joined: list[str] = []
    cjk_prev = False
    for i, t in enumerate(tokens):
        if not _is_piece_content(t):
            cjk_prev = True  # punctuation ends a word
            continue
        cjk = _is_cjk(t)
        if t.startswith("▁") or cjk or cjk_prev or not words:
            words.append([i])
            joined.append(t.lstrip("▁"))
        else:
            words[-1].append(i)
            joined[-1] += t
        cjk_prev = cjk
    return [ix for ix, w in zip(words, joined) if w.lower() not in QUESTION_WORDS]


def coverage(question: TokenVectors, passages: Sequence[TokenVectors]) -> float:
    """Mean over the question's content words of the best cosine between any of its pieces and any piece of the
    passages (1.0 for a question without content words, 0.0 without passage pieces).

    Args:
        question: the question's token vectors.
        passages: the best passages' token vectors.
    Returns:
        The coverage, in [-1, 1]; a translation scores ~0.70 at layer 6, a same-topic near miss ~0.59 (UNPC dev).
    """
    words = content_words(question.tokens)
    if not words:
        return 1.0
    cols = [p.vectors[[j for j, t in enumerate(p.tokens) if _is_piece_content(t)]] for p in passages]
    cols = [c for c in cols if len(c)]
    if not cols:
        return 0.0
    best = (question.vectors @ np.concatenate(cols).T).max(axis=1)
    return float(np.mean([best[ix].max() for ix in words]))


def counterparts(question: TokenVectors, passage: TokenVectors) -> list[tuple[str, str, float]]:
    """Each content word of the question with its most similar piece of the passage (what `coverage` credits).

    Args:
        question: the question's token vectors.
        passage: one passage's token vectors.
    Returns:
        (question word, passage piece, cosine) per content word, in question order.
    """
    cols = [j for j, t in enumerate(passage.tokens) if _is_piece_content(t)]
    if not cols:
        return []
    sims = question.vectors @ passage.vectors[cols].T
    out = []
    for ix in content_words(question.tokens):
        i = max(ix, key=lambda k: float(sims[k].max()))
        j = int(sims[i].argmax())
        out.append(("".join(question.tokens[k] for k in ix).lstrip("▁"), passage.tokens[cols[j]].lstrip("▁"),
                    float(sims[i, j])))
    return out


def alignment_coverage(embedder: Any, question: str, passages: Sequence[str]) -> float | None:
    """`coverage` of `question` by `passages`, read from `embedder`'s encoder.

    Args:
        embedder: the index's embedder (the fake or a sentence-transformers model).
        question: the question.
        passages: the best passages' embedded texts (the refusal passes `rag.answer.refusal.best_texts`).
    Returns:
        The coverage, or None when the embedder exposes no token vectors.
    """
    if not supports_tokens(embedder):
        return None
    q = token_vectors(embedder, [question], "query", ALIGN_LAYER, ALIGN_QUESTION_TOKENS)[0]
    ps = token_vectors(embedder, list(passages), "passage", ALIGN_LAYER, ALIGN_PASSAGE_TOKENS)
    return coverage(q, ps)


def sentence_alignment(embedder: Any, question: str, sentences: Sequence[str]) -> np.ndarray | None:
    """`coverage` of `question` by each of `sentences` on its own (which sentence says what the question asks).

    Args:
        embedder: the index's embedder (the fake or a sentence-transformers model).
        question: the question.
        sentences: candidate sentences of the answer.
    Returns:
        One coverage per sentence, or None when the embedder exposes no token vectors.
    """
    if not supports_tokens(embedder) or not sentences:
        return None
    q = token_vectors(embedder, [question], "query", ALIGN_LAYER, ALIGN_QUESTION_TOKENS)[0]
    ss = token_vectors(embedder, list(sentences), "passage", ALIGN_LAYER, ALIGN_PASSAGE_TOKENS)
    return np.asarray([coverage(q, [s]) for s in ss], np.float32)
