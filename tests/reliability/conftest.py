"""Shared helpers of the reliability suite: an index of the seeds to attack, memory sampling, the figures file."""
from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIGURES = ROOT / "test-artifacts" / "reliability.json"


def rss_mb(pid: int | str = "self") -> float:
    """Resident memory of a process in MB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children_rss_mb() -> float:
    """Memory of this process's children (the parsing worker) together."""
    total = 0.0
    try:
        kids = Path("/proc/self/task").glob("*/children")
        for f in kids:
            for pid in f.read_text().split():
                total += rss_mb(pid)
    except OSError:
        pass
    return total


class PeakMemory:
    """Samples this process's RSS (and its children's) every 50 ms while in the `with` block."""

    def __init__(self) -> None:
        self.idle = rss_mb()
        self.peak = self.idle
        self.peak_children = 0.0
        self._stop = threading.Event()

    def __enter__(self) -> "PeakMemory":
        def sample() -> None:
            while not self._stop.is_set():
                self.peak = max(self.peak, rss_mb())
                self.peak_children = max(self.peak_children, children_rss_mb())
                time.sleep(0.05)

        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def over_idle(self) -> float:
        return self.peak - self.idle


def record_figures(**figures) -> None:
    """Merge figures into test-artifacts/reliability.json (the README's reliability numbers come from here)."""
    FIGURES.parent.mkdir(exist_ok=True)
    data = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
    data.update(figures)
    FIGURES.write_text(json.dumps(data, ensure_ascii=False, indent=2))


@pytest.fixture
def seed_index(fake_index_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the seeds' index (fake embedder) to attack."""
    dest = tmp_path / "index"
    shutil.copytree(fake_index_dir, dest, ignore=shutil.ignore_patterns("lock"))
    return dest


@pytest.fixture
def make_settings_rel():
    """Settings for the seeds' fake index that answer whatever the fake embedder's cosine."""
    from dataclasses import replace

    from rag.config import Settings

    def make(index_dir: Path) -> Settings:
        s = Settings(index_dir=index_dir, embed_model="fake", llm="extractive")
        return replace(s, retrieval=replace(s.retrieval, refuse_below=-1.0, refuse_below_cross=-1.0))

    return make


@pytest.fixture
def app_runner():
    """`with app_runner(settings, access=None, host=...) as (url, ctx)` (the UI tests' launcher)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("ui_test_conftest", ROOT / "tests" / "ui" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.running_app
