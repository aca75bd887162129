"""Keep a model in the answer's script: which vocabulary entries write Chinese/Japanese, so decoding can skip them.

A 1.5B model asked for English over Chinese sources leaves words untranslated ("the international legal文书",
"the governments of the缔ent方": seeds/gold q021, q015), and the citation check then drops the sentence. When the
answer's language is written without ideographs, the local generator masks every token that would write one
(or start writing one), so the model has to translate the word.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np

from rag.lang import CJK_LANGUAGES  # answers in these keep ideographs: never masked
from rag.text import is_cjk_wide

# UTF-8 lead bytes of the three-byte sequences for U+3000..U+9FFF (CJK punctuation, kana, ideographs): a
# byte-level token holding one of them starts writing such a character even when it does not finish it.
_CJK_LEAD_BYTES = frozenset(range(0xE3, 0xEA))
# U+FF00..U+FFEF (full-width forms: "，", "：", "（") are EF BC xx / EF BD xx / EF BE xx / EF BF xx.
_FULLWIDTH_PREFIXES = (b"\xef\xbc", b"\xef\xbd", b"\xef\xbe", b"\xef\xbf")


def writes_cjk(piece: bytes) -> bool:
    """Whether a token's bytes write (or begin to write) a CJK ideograph, kana, CJK or full-width punctuation.

    Args:
        piece: the token's detokenized bytes (a byte-level BPE token may hold part of a character).
    Returns:
        True for "文书", "，", b"\\xe6" (the first byte of an ideograph); False for "legal", " (", b"\\xe2\\x80".
    """
    if any(b in _CJK_LEAD_BYTES for b in piece):
        return True
    if any(p in piece for p in _FULLWIDTH_PREFIXES) or piece.endswith(b"\xef"):
        return True
    return any(is_cjk_wide(ch) for ch in piece.decode("utf-8", errors="ignore"))


def cjk_mask(pieces: Iterable[bytes]) -> np.ndarray:
    """A boolean array over the vocabulary: True where the token writes CJK (see `writes_cjk`)."""
    return np.fromiter((writes_cjk(p) for p in pieces), dtype=bool)


def needs_mask(language: str | None) -> bool:
    """Whether answers in `language` should be kept free of CJK: a known language written without ideographs."""
    return bool(language) and language not in CJK_LANGUAGES and language != "other"


class BanTokens:
    """A llama-cpp-python logits processor that makes the masked tokens impossible to sample."""

    def __init__(self, mask: np.ndarray) -> None:
        self.mask = mask

    def __call__(self, input_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
        # llama-cpp-python hands the first sampler the whole vocabulary in token-id order.
        if len(scores) == len(self.mask):
            scores[self.mask] = -np.inf
        return scores
