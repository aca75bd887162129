"""What every tab of the web app shares: the settings, the one pipeline, and the generator menu."""
from __future__ import annotations

from dataclasses import dataclass, field

from index.registry import store_version
from rag.answer.pipeline import Pipeline
from rag.config import Settings
from rag.generation.registry import available_generators, generator_names
from ui.access import Access

GENERATOR_LABELS = {
    "local": "local model (llama.cpp)",
    "openai": "OpenAI-compatible server",
    "extractive": "extractive (quotes passages, no model)",
}


@dataclass
class AppContext:
    """What every tab gets: the settings and the one shared pipeline (models loaded once per process)."""

    settings: Settings
    pipeline: Pipeline
    access: Access = field(default_factory=Access)  # who may change the library (ui/access.py)


def make_context(settings: Settings | None = None, access: Access | None = None) -> AppContext:
    """The context of one app: `settings` (default: from the environment), a pipeline over them, and the
    access policy (default: one person on loopback, who may do everything)."""
    settings = settings or Settings()
    return AppContext(settings, Pipeline(settings), access or Access())


def generator_options(settings: Settings) -> tuple[list[tuple[str, str]], str, str]:
    """Dropdown choices (every generator, marked when unavailable), the default one, and how to enable the others."""
    usable = available_generators(settings)
    names = generator_names()
    choices = [(GENERATOR_LABELS.get(m, m) + ("" if m in usable else " — not available"), m) for m in names]
    default = settings.llm if settings.llm in usable else "extractive"
    hints = {"local": "local: needs llama-cpp-python and a GGUF model (scripts/install_local_llm.sh)",
             "openai": "openai: set RAG_OPENAI_BASE_URL and RAG_OPENAI_MODEL"}
    missing = [hints[m] for m in names if m not in usable and m in hints]
    return choices, default, "; ".join(missing) if missing else "all generators available"


def no_index(ctx: AppContext) -> bool:
    """True while no index version has been committed (the app still starts, with an empty library)."""
    return store_version(ctx.settings.store_spec) is None
