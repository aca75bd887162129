"""Shared fixtures: the seed corpus, indexes built with the fake and the real embedder."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures import PLUGGED, SEED_FILES


@pytest.fixture(scope="session")
def seed_docs():
    from rag.ingest.parse import parse_document

    return {sym: parse_document(path) for sym, path in SEED_FILES.items()}


@pytest.fixture(scope="session")
def fake_embedder():
    from rag.models.embed import get_embedder

    return get_embedder("fake")


@pytest.fixture(scope="session")
def fake_index_dir(tmp_path_factory, fake_embedder) -> Path:
    from rag.ingest.library import ingest

    d = tmp_path_factory.mktemp("fake-index")
    report = ingest(list(SEED_FILES.values()), d, fake_embedder)
    assert not report.failed
    return d


@pytest.fixture(scope="session")
def real_embedder():
    from rag.models.embed import get_embedder

    return get_embedder()


@pytest.fixture(scope="session")
def real_index_dir(tmp_path_factory, real_embedder) -> Path:
    from rag.ingest.library import ingest

    d = tmp_path_factory.mktemp("real-index")
    report = ingest(list(SEED_FILES.values()), d, real_embedder)
    assert not report.failed
    return d


@pytest.fixture(scope="session")
def real_pipeline(real_index_dir, real_embedder):
    from rag.answer.pipeline import Pipeline
    from rag.config import Settings

    return Pipeline(Settings(index_dir=real_index_dir), embedder=real_embedder)


@pytest.fixture(autouse=True)
def _unplug_chat_models():
    """Generators registered by tests.fixtures.plug_chat last one test only."""
    yield
    from rag.generation.registry import unregister_generator

    while PLUGGED:
        unregister_generator(PLUGGED.pop())


UNPC_BI_DOCS = 24  # the first 24 UNPC dev documents (171 sentence pairs), E/RES/2014/37 (numbered ¶2–¶12) among them


@pytest.fixture(scope="session")
def unpc_bi(tmp_path_factory, real_embedder):
    """A real-model index of UNPC documents in English and Chinese (tests/unpc_bilingual.py): (index dir, documents)."""
    from rag.ingest.library import ingest
    from tests.fixtures import ROOT
    from tests.unpc_bilingual import load_documents, write_corpus

    data = ROOT.parent / "shared" / "data"
    if not (data / "unpc-devset").exists():
        pytest.skip(f"the UNPC dev set is not at {data / 'unpc-devset'}")
    docs = load_documents(data)[:UNPC_BI_DOCS]
    d = tmp_path_factory.mktemp("unpc-bi")
    files = write_corpus(docs, d / "src")
    report = ingest(files, d / "index", real_embedder)
    assert not report.failed, [(f.path, f.reason) for f in report.failed]
    return d / "index", docs
