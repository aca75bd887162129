"""The persisted index: manifest, no pickle, atomic versions that survive a crash or kill mid-ingestion."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index.dense import DenseIndex
from index.keyword import KeywordIndex
from index.store import COMMIT_STEPS, KILL_ENV, IndexLoadError, IndexWriter, current_version, load_index
from rag.ingest.library import ingest
from tests.fixtures import ROOT, SEED_FILES


def test_manifest_and_files(fake_index_dir):
    index = load_index(fake_index_dir)
    vdir = fake_index_dir / "versions" / index.version
    assert sorted(p.name for p in vdir.iterdir()) == ["manifest.json"]
    m = json.loads((vdir / "manifest.json").read_text())
    assert m["format"] == 2 and m["chunker_version"] == "3"
    assert m["counts"] == {"documents": 3, "chunks": 187} and m["deleted_rows"] == 0
    assert {d: (e["chunks"], e["rows"]) for d, e in m["documents"].items()} == {
        "CCW/GGE.1/2023/2@zh": (53, [0, 53]), "EUR/44A25/1@zh": (41, [53, 94]), "CD/PV.1505@zh": (93, [94, 187]),
    }
    assert all(len(e["sha256"]) == 64 for e in m["documents"].values())
    [seg] = m["segments"]
    sdir = fake_index_dir / "segments" / seg["name"]
    assert sorted(p.name for p in sdir.iterdir()) == [
        "bm25", "body_ix.npy", "chunks.sqlite", "dense.faiss", "doc_ix.npy", "lang_ix.npy", "segment.json",
        "speaker_ix.npy", "vectors.npy",
    ]
    # No pickle anywhere: the arrays load with allow_pickle=False.
    assert np.load(sdir / "vectors.npy", allow_pickle=False).shape == (187, 256)


def test_missing_index_message(tmp_path):
    with pytest.raises(IndexLoadError, match=r"no index at .*: build one with `rag ingest PATH\.\.\. --index"):
        load_index(tmp_path / "nowhere")


def test_model_mismatch_says_rebuild(fake_index_dir):
    with pytest.raises(IndexLoadError, match=r"built with embedding model 'fake-256', not 'other'.*--rebuild"):
        IndexWriter(fake_index_dir, "other", 256, "2")


def test_hnsw_past_threshold_and_exact_below():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2000, 32)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    flat = DenseIndex.build(x, 32)
    hnsw = DenseIndex.build(x, 32, kind="hnsw")
    assert (flat.kind, hnsw.kind) == ("flat", "hnsw")
    _, ids_f = flat.search(x[:50], 10)
    _, ids_h = hnsw.search(x[:50], 10)
    assert (ids_f[:, 0] == np.arange(50)).all()
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(ids_f, ids_h)])
    assert recall >= 0.95
    with pytest.raises(ValueError, match="choose one of: auto, flat, hnsw"):
        DenseIndex.build(x, 32, kind="ivf")


def test_keyword_roundtrip(tmp_path):
    k = KeywordIndex.build(["明斯克将举行高级别国际会议", "专家组通过了报告", "the group adopted its report"])
    k.save(tmp_path / "bm25")
    k2 = KeywordIndex.load(tmp_path / "bm25")
    s = k2.scores("明斯克会议")
    assert s.argmax() == 0 and s[1] == 0 and s[2] == 0
    assert k2.scores("report").argmax() == 2
    assert k2.scores("无关词语").tolist() == [0.0, 0.0, 0.0]


def test_failure_during_commit_keeps_previous_version(tmp_path, fake_embedder, monkeypatch):
    index_dir = tmp_path / "idx"
    ingest([SEED_FILES["CCW/GGE.1/2023/2"]], index_dir, fake_embedder)
    before = current_version(index_dir)

    def boom(self, path):
        raise OSError("disk full")

    monkeypatch.setattr(DenseIndex, "save", boom)
    with pytest.raises(OSError, match="disk full"):
        ingest([SEED_FILES["CD/PV.1505"]], index_dir, fake_embedder)
    assert current_version(index_dir) == before
    assert list(load_index(index_dir).docs) == ["CCW/GGE.1/2023/2@zh"]
    monkeypatch.undo()
    # The next successful write cleans up the half-written version.
    ingest([SEED_FILES["CD/PV.1505"]], index_dir, fake_embedder)
    assert not list((index_dir / "versions").glob(".tmp-*"))
    assert list(load_index(index_dir).docs) == ["CCW/GGE.1/2023/2@zh", "CD/PV.1505@zh"]


REBUILD_SCRIPT = """
import sys
from pathlib import Path
from rag.models.embed import get_embedder
from rag.ingest.library import ingest
ingest([Path(p) for p in sys.argv[2:]], Path(sys.argv[1]), get_embedder("fake"), rebuild=True)
"""


@pytest.mark.parametrize("step", COMMIT_STEPS)
def test_kill_at_each_commit_step_leaves_a_complete_index(step, tmp_path, fake_embedder):
    """The writer SIGKILLs itself at `step` (index.store's test hook): readers see the previous version until
    the pointer moved, the new one after, and always a complete one. tests/reliability/test_kill.py adds random
    moments and the clean-up by the next ingestion."""
    index_dir = tmp_path / "idx"
    seeds = [str(p) for p in SEED_FILES.values()]
    ingest([Path(p) for p in seeds], index_dir, fake_embedder)
    before = current_version(index_dir)
    counts = load_index(index_dir).manifest["counts"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), KILL_ENV: step}
    proc = subprocess.run([sys.executable, "-c", REBUILD_SCRIPT, str(index_dir), *seeds], env=env, timeout=300)
    assert proc.returncode == -signal.SIGKILL  # interrupted exactly there, not finished
    published = COMMIT_STEPS.index(step) >= COMMIT_STEPS.index("pointer-replaced")
    assert (current_version(index_dir) != before) == published
    index = load_index(index_dir)  # never half-written
    assert index.manifest["counts"] == counts
    n = counts["chunks"]
    rows = [r for r, _ in index.iter_chunks()]
    assert index.size == sum(seg.dense.size for seg in index.segments) == len(index.vectors(rows)) == len(rows) == n
    assert sum(seg.postings.size for seg in index.segments) == n


def test_chunker_mismatch_says_rebuild(fake_index_dir):
    with pytest.raises(IndexLoadError, match=r"built by chunker version 3, this is version 2.*--rebuild"):
        IndexWriter(fake_index_dir, "fake-256", 256, "2")
