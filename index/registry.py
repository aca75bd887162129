"""Which stores exist: a scheme (`faiss`, `milvus`, ...) maps to how to open a reader, a writer and its version.

A store spec is `SCHEME:LOCATION` (`faiss:/data/index`, `milvus:/data/un.db`) or a bare directory, which means
the embedded FAISS store. Stores register themselves with `register_store`; the built-in ones are imported on
first use of their scheme, so a store whose client library is not installed costs nothing until it is named.
"""
from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from index.base import ChunkStore, StoreWriter
from rag.errors import RagError

DEFAULT_SCHEME = "faiss"
# Scheme -> the module that registers it when imported. A scheme needs two letters at least, so a Windows path
# (`C:\\index`) is never read as one.
BUILTIN = {"faiss": "index.store", "milvus": "index.milvus"}
_SPEC = re.compile(r"^([a-z][a-z0-9_+-]+):(.*)$", re.S)


@dataclass(frozen=True)
class StoreKind:
    """How to reach one kind of store."""

    scheme: str
    open: Callable[..., ChunkStore]  # (location, **options) -> the published snapshot
    writer: Callable[..., StoreWriter]  # (location, model, dim, chunker_version, rebuild, **options)
    version: Callable[..., str | None]  # (location, **options) -> the published version, None before the first
    describe: str = ""


_KINDS: dict[str, StoreKind] = {}


def register_store(scheme: str, open: Callable[..., ChunkStore], writer: Callable[..., StoreWriter],
                   version: Callable[..., str | None], describe: str = "") -> StoreKind:
    """Make `scheme:LOCATION` specs open with these functions (a later registration of a scheme replaces it).

    Args:
        scheme: lower-case name, two characters at least.
        open: (location, **options) -> ChunkStore; IndexLoadError-like RagError when there is none.
        writer: (location, model, dim, chunker_version, rebuild=False, **options) -> StoreWriter; model None
            means "the store's own" (removing needs no embedder).
        version: (location, **options) -> the published version or None; cheap, called before every question.
        describe: one line for `--help` and error messages.
    Returns:
        The registration.
    """
    if not re.fullmatch(r"[a-z][a-z0-9_+-]+", scheme):
        raise ValueError(f"store scheme {scheme!r} must be lower-case letters, digits, _+- and two characters at least")
    kind = StoreKind(scheme, open, writer, version, describe)
    _KINDS[scheme] = kind
    return kind


def schemes() -> list[str]:
    """The schemes a spec may name: the registered ones and the built-in ones not imported yet."""
    return sorted(set(_KINDS) | set(BUILTIN))


def split_spec(spec: str | Path) -> tuple[str, str]:
    """(scheme, location) of a store spec; a bare path is the FAISS store.

    Args:
        spec: `SCHEME:LOCATION` or a directory.
    Returns:
        The scheme and the location after the colon.
    """
    if isinstance(spec, Path):
        return DEFAULT_SCHEME, str(spec)
    m = _SPEC.match(spec)
    if m is None:
        return DEFAULT_SCHEME, spec
    return m.group(1), m.group(2)


def store_kind(scheme: str) -> StoreKind:
    """The registration of `scheme`, importing a built-in store on first use; RagError listing the schemes."""
    if scheme not in _KINDS and scheme in BUILTIN:
        try:
            importlib.import_module(BUILTIN[scheme])
        except ModuleNotFoundError as e:
            if e.name == BUILTIN[scheme]:
                raise RagError(f"the {scheme} store is not part of this installation (no module {e.name}); "
                               f"choose one of: {', '.join(sorted(_KINDS))}") from None
            raise RagError(f"the {scheme} store needs the Python package {e.name!r}: pip install it "
                           f"(or use the embedded store: --index DIR)") from None
    if scheme not in _KINDS:
        raise RagError(f"unknown store {scheme!r}; choose one of: {', '.join(schemes())} "
                       f"(as SCHEME:LOCATION, or a directory for {DEFAULT_SCHEME})")
    return _KINDS[scheme]


def open_store(spec: str | Path, **options: Any) -> ChunkStore:
    """The published snapshot of the store at `spec` (see `split_spec`), read-only.

    Args:
        spec: `SCHEME:LOCATION` or a directory.
        **options: store-specific (e.g. `collection` for Milvus).
    Returns:
        A `ChunkStore`.
    """
    scheme, location = split_spec(spec)
    return store_kind(scheme).open(location, **options)


def open_writer(spec: str | Path, model: str | None = None, dim: int | None = None,
                chunker_version: str | None = None, rebuild: bool = False, **options: Any) -> StoreWriter:
    """A writer for the store at `spec`; use it as a context manager (it holds the write lock).

    Args:
        spec: `SCHEME:LOCATION` or a directory.
        model, dim, chunker_version: what new documents are embedded and chunked with; None keeps the store's
            own (for removals). A store built otherwise is refused with the rebuild command, unless `rebuild`.
        rebuild: start from an empty store (its previous documents' paths are in `previous_paths`).
        **options: store-specific.
    Returns:
        A `StoreWriter`.
    """
    scheme, location = split_spec(spec)
    return store_kind(scheme).writer(location, model, dim, chunker_version, rebuild=rebuild, **options)


def store_version(spec: str | Path, **options: Any) -> str | None:
    """The version published at `spec` now, None when nothing is (cheap: readers poll it before each question)."""
    scheme, location = split_spec(spec)
    return store_kind(scheme).version(location, **options)
