"""kill -9 of an ingestion at every commit step and at random moments: the previous version keeps answering, and
the next ingestion leaves no half-written version, temporary pointer or orphan behind."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from index.store import COMMIT_STEPS, CURRENT, KILL_ENV, VERSIONS, current_version
from rag.answer.pipeline import Pipeline
from rag.config import RetrievalSettings, Settings
from tests.reliability.conftest import ROOT, record_figures

CHILD = """
import sys
from pathlib import Path
from rag.models.embed import get_embedder
from rag.ingest.library import ingest
embedder = get_embedder("fake")
print("ready", flush=True)
ingest([Path(p) for p in sys.argv[2:]], Path(sys.argv[1]), embedder)
print("done", flush=True)
"""
RANDOM_KILLS = 10
DOC = ("A/KILL/{n}\n\n1. The Working Group on interrupted writes met for session {n} in Geneva.\n\n"
       "2. It agreed that a killed writer must leave the previous version answering.\n")


def _docs(folder: Path, round_: int, k: int = 3) -> list[Path]:
    out = []
    for j in range(k):
        p = folder / f"r{round_}-{j}.txt"
        p.write_text(DOC.format(n=f"{round_}-{j}"), encoding="utf-8")
        out.append(p)
    return out


def _start(index: Path, files: list[Path], kill_at: str | None = None) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    env.pop(KILL_ENV, None)
    if kill_at:
        env[KILL_ENV] = kill_at
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(index), *map(str, files)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


def _leftovers(index: Path, keep: set[str]) -> list[str]:
    bad = [p.name for p in (index / VERSIONS).iterdir() if p.name.startswith(".tmp-") or p.name not in keep]
    return bad + [p.name for p in index.glob(f".{CURRENT}.tmp-*")]


def test_kill_9_at_every_commit_step_and_at_random_moments(seed_index: Path, tmp_path: Path, fake_embedder) -> None:
    from rag.ingest.library import ingest

    pipe_settings = Settings(index_dir=seed_index, embed_model="fake",
                             retrieval=RetrievalSettings(refuse_below=-1, refuse_below_cross=-1))
    rng = random.Random(12)
    # How long one ingestion takes after the imports, so random kills land inside it. (An addition writes one
    # small segment: it takes a fraction of a second, so this is timed from "ready", not from the start.)
    warm = _start(tmp_path / "warm-index", _docs(tmp_path, 0))
    t = time.perf_counter()
    assert warm.stdout.readline().strip() == "done" and warm.wait(60) == 0
    duration = time.perf_counter() - t
    plan = [("step", s) for s in COMMIT_STEPS] + [("random", None)] * RANDOM_KILLS
    interrupted: dict[str, int] = {}
    random_kills = 0
    for round_, (kind, step) in enumerate(plan, 1):
        before = current_version(seed_index)
        files = _docs(tmp_path, round_)
        proc = _start(seed_index, files, kill_at=step)
        if kind == "random":
            wait = rng.uniform(0.0, duration)
            for _ in range(6):  # a kill that came after the end is no kill: try again, sooner
                time.sleep(wait)
                proc.send_signal(signal.SIGKILL)
                if proc.wait(120) == -signal.SIGKILL:
                    break
                before, wait = current_version(seed_index), wait / 3
                proc = _start(seed_index, _docs(tmp_path, round_ + 500), kill_at=None)
        code = proc.wait(120)
        assert code == -signal.SIGKILL, (kind, step, code)  # it was killed, not finished
        if kind == "step":
            interrupted[step] = interrupted.get(step, 0) + 1
            published = COMMIT_STEPS.index(step) >= COMMIT_STEPS.index("pointer-replaced")
            # Before the pointer moved readers keep the previous version; after it, the new one is complete.
            assert (current_version(seed_index) != before) if published else (current_version(seed_index) == before)
        else:
            random_kills += 1
        # A question right after the kill: answered from a complete version (the previous one, or the new one).
        answer = Pipeline(pipe_settings, embedder=fake_embedder).ask("明斯克将举行什么会议？")
        assert answer.citations and not answer.refused
        # The next ingestion (not killed) succeeds and sweeps up what the killed one left.
        report = ingest(_docs(tmp_path, 1000 + round_, k=1), seed_index, fake_embedder)
        assert not report.failed and report.version
        previous = {p.name for p in (seed_index / VERSIONS).iterdir() if not p.name.startswith(".")}
        assert not _leftovers(seed_index, {report.version} | (previous - {report.version}))
        assert len(previous) <= 2, previous
        assert not list(seed_index.glob(f".{CURRENT}.tmp-*"))
        assert not list((seed_index / VERSIONS).glob(".tmp-*"))
    assert set(interrupted) == set(COMMIT_STEPS) and random_kills == RANDOM_KILLS
    record_figures(kills=len(plan), kills_at_commit_steps=len(COMMIT_STEPS), kills_random=random_kills,
                   kills_failed_questions=0, kills_leftovers=0)
