"""Generators by name: `register_generator(name, factory)` is the plug-in hook, and the built-ins use it too.

    from rag.generation import registry
    registry.register_generator("mine", lambda settings, embedder: ChatGenerator(my_chat_model, "mine"))
    rag.ask("...", llm="mine")
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable

from rag.config import Settings
from rag.errors import RagError
from rag.generation.base import Generator
from rag.generation.chat import ChatGenerator
from rag.generation.extractive import ExtractiveGenerator
from rag.generation.llm import llama_cpp_available, make_local_chat_model, make_openai_chat_model
from rag.models.embed import Embedder
from rag.models.gguf import local_model_available

GeneratorFactory = Callable[[Settings, Embedder], Generator]


@dataclass(frozen=True)
class Registration:
    """A registered generator: how to build it and how to tell, cheaply, whether it can be built now."""

    name: str
    factory: GeneratorFactory
    available: Callable[[Settings], bool]
    costly: bool  # runs a language model: minutes of CPU per answer on a small machine


_REGISTRY: dict[str, Registration] = {}
_LOCK = threading.Lock()


def register_generator(name: str, factory: GeneratorFactory, available: Callable[[Settings], bool] | None = None,
                       costly: bool = True) -> None:
    """Make a generator choosable by name everywhere (`--llm name`, the UI menu, `rag.ask(llm=name)`).

    Args:
        name: the name users choose it by (lower case, no spaces); registering a name again replaces it.
        factory: builds the generator from the settings and the pipeline's embedder; called once per pipeline.
        available: cheap check (no model loading) whether it can be built now; default: always.
        costly: whether it runs a language model (deployments may keep such generators from anonymous users).
    """
    key = name.strip().lower()
    if not key or any(c.isspace() for c in key):
        raise RagError(f"a generator name must be one word, got {name!r}")
    with _LOCK:
        _REGISTRY[key] = Registration(key, factory, available or (lambda _s: True), costly)


def unregister_generator(name: str) -> None:
    """Forget a registered generator (a plug-in being unloaded, a test cleaning up); unknown names are ignored."""
    with _LOCK:
        _REGISTRY.pop(name.strip().lower(), None)


def generator_names() -> list[str]:
    """Every registered name, built-ins first in registration order."""
    with _LOCK:
        return list(_REGISTRY)


def registration(name: str) -> Registration:
    """The registration of `name`; RagError listing the registered names when there is none."""
    key = (name or "").strip().lower()
    with _LOCK:
        reg = _REGISTRY.get(key)
    if reg is None:
        raise RagError(f"unknown generator {name!r}; choose one of: {', '.join(generator_names())}")
    return reg


def make_generator(name: str, settings: Settings, embedder: Embedder) -> Generator:
    """Build generator `name` (RagError naming the choices, or saying what to install or configure)."""
    return registration(name).factory(settings, embedder)


def available_generators(settings: Settings) -> list[str]:
    """Names usable now, in registration order (no model is loaded, nothing is hashed)."""
    out = []
    for name in generator_names():
        try:
            if registration(name).available(settings):
                out.append(name)
        except RagError:
            pass
    return out


def _local_available(settings: Settings) -> bool:
    return llama_cpp_available() and local_model_available(settings)


def _openai_available(settings: Settings) -> bool:
    return bool((settings.openai_base_url or "").strip() and (settings.openai_model or "").strip())


# The built-ins, through the same hook as plug-ins. Order is the UI menu's order.
register_generator("local", lambda s, _e: ChatGenerator(make_local_chat_model(s), "local"), _local_available)
register_generator("openai", lambda s, _e: ChatGenerator(make_openai_chat_model(s), "openai"), _openai_available)
register_generator("extractive", lambda _s, e: ExtractiveGenerator(e), costly=False)
