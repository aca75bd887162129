"""Shared fixtures: the seed corpus, indexes built with the fake and the real embedder."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SHARED_DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/fixtures.py

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

SEED_FILES = {
    "CCW/GGE.1/2023/2": SEEDS / "001_ced3f55f669d5ebf.txt",
    "EUR/44A25/1": SEEDS / "002_42f3c3c41fbfbb11.txt",
    "CD/PV.1505": SEEDS / "003_f6527b781c8cc503.txt",
}


@pytest.fixture(scope="session")
def seed_docs():
    from rag.parse import parse_document

    return {sym: parse_document(path) for sym, path in SEED_FILES.items()}


@pytest.fixture(scope="session")
def fake_embedder():
    from rag.embed import get_embedder

    return get_embedder("fake")


@pytest.fixture(scope="session")
def fake_index_dir(tmp_path_factory, fake_embedder) -> Path:
    from rag.ingest import ingest

    d = tmp_path_factory.mktemp("fake-index")
    report = ingest(list(SEED_FILES.values()), d, fake_embedder)
    assert not report.failed
    return d


@pytest.fixture(scope="session")
def real_embedder():
    from rag.embed import get_embedder

    return get_embedder()


@pytest.fixture(scope="session")
def real_index_dir(tmp_path_factory, real_embedder) -> Path:
    from rag.ingest import ingest

    d = tmp_path_factory.mktemp("real-index")
    report = ingest(list(SEED_FILES.values()), d, real_embedder)
    assert not report.failed
    return d


@pytest.fixture(scope="session")
def real_pipeline(real_index_dir, real_embedder):
    from rag.config import Settings
    from rag.pipeline import Pipeline

    return Pipeline(Settings(index_dir=real_index_dir), embedder=real_embedder)
