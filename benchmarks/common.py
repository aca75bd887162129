"""Shared helpers for the benchmark scripts: data paths, machine description, percentiles, report writing."""
from __future__ import annotations

import json
import os
import platform
import resource
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
DEFAULT_DATA = ROOT.parent / "shared" / "data"


def data_dir(arg: str | None) -> Path:
    """The data folder: `--data DIR` when given, else the shared one beside the repository."""
    return Path(arg).expanduser().resolve() if arg else DEFAULT_DATA


def set_threads(n: int) -> None:
    """Use `n` threads in torch (through RAG_THREADS, read by rag.embed) and FAISS."""
    os.environ["RAG_THREADS"] = str(n)
    os.environ["RUST_BACKTRACE"] = "0"  # a tokenizer panic (see GuardedEmbedder) prints one line, not pages
    import faiss
    import torch

    torch.set_num_threads(n)
    faiss.omp_set_num_threads(n)


def _proc_field(path: str, key: str) -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return None


def machine() -> dict[str, Any]:
    """CPU model, core count, RAM, load average, date and library versions of this run."""
    mem_kb = _proc_field("/proc/meminfo", "MemTotal")
    info: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "cpu": _proc_field("/proc/cpuinfo", "model name") or platform.processor() or "unknown",
        "cores": os.cpu_count(),
        "ram_gib": round(int(mem_kb.split()[0]) / 2**20, 1) if mem_kb else None,
        "loadavg": Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else None,
        "python": platform.python_version(),
        "threads": os.environ.get("RAG_THREADS"),
    }
    for mod in ("numpy", "faiss", "torch", "sentence_transformers", "bm25s"):
        try:
            info[mod] = __import__(mod).__version__
        except (ImportError, AttributeError):
            pass
    return info


def machine_line(m: dict[str, Any]) -> str:
    load = ", ".join(m["loadavg"]) if m.get("loadavg") else "?"
    return (f"{m['date']}; {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM; load average at start {load}; "
            f"{m.get('threads') or '?'} compute thread(s); Python {m['python']}, faiss {m.get('faiss', '?')}, "
            f"torch {m.get('torch', '?')}")


def rss_mib() -> dict[str, float]:
    """Current RSS and its high-water mark (VmHWM, else ru_maxrss) in MiB."""
    cur = _proc_field("/proc/self/status", "VmRSS")
    hwm = _proc_field("/proc/self/status", "VmHWM")
    peak = int(hwm.split()[0]) if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"rss_mib": round(int(cur.split()[0]) / 1024, 1) if cur else float("nan"), "peak_mib": round(peak / 1024, 1)}


def reset_peak_rss() -> bool:
    """Reset the kernel's RSS high-water mark for this process (Linux >= 4.0); False when not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def percentiles(ms: Sequence[float]) -> dict[str, float]:
    a = np.asarray(ms, dtype=np.float64)
    if not len(a):
        return {"p50_ms": float("nan"), "p95_ms": float("nan"), "mean_ms": float("nan")}
    return {"p50_ms": round(float(np.percentile(a, 50)), 2), "p95_ms": round(float(np.percentile(a, 95)), 2),
            "mean_ms": round(float(a.mean()), 2)}


def md_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.3f}" if abs(v) < 10 else f"{v:.1f}"
        return str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(fmt(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


def write_report(name: str, data: dict[str, Any], markdown: str) -> tuple[Path, Path]:
    """Write benchmarks/out/<name>.json and .md; print the Markdown; return both paths."""
    OUT.mkdir(parents=True, exist_ok=True)
    jp, mp = OUT / f"{name}.json", OUT / f"{name}.md"
    jp.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    mp.write_text(markdown.rstrip() + "\n", encoding="utf-8")
    print(markdown)
    print(f"\nwrote {jp} and {mp}")
    return jp, mp


class GuardedEmbedder:
    """Wraps the real embedder so a tokenizer panic on a character does not abort a whole run.

    The converted e5 tokenizer (rag/e5convert.py, converter v2) panics on some code points (seen: U+00B0 '°',
    U+00B1 '±'). Texts that panic are retried with each offending character replaced by a space; the characters
    and the number of texts touched are recorded in `.replaced` / `.texts_touched` and reported."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.bad: set[str] = set()
        self.replaced: dict[str, int] = {}
        self.texts_touched = 0

    def _clean(self, text: str) -> str:
        if self.bad and any(c in self.bad for c in text):
            self.texts_touched += 1
            for c in self.bad & set(text):
                self.replaced[c] = self.replaced.get(c, 0) + text.count(c)
                text = text.replace(c, " ")
        return text

    def _find_bad(self, texts: list[str]) -> None:
        tok = getattr(getattr(self.inner, "model", None), "tokenizer", None)
        if tok is None:
            raise RuntimeError("the embedder's tokenizer panicked and cannot be probed")
        for c in sorted(set("".join(texts)) - self.bad):
            try:
                tok([c])
            except BaseException as e:  # noqa: BLE001 - pyo3's PanicException derives from BaseException
                if type(e).__name__ != "PanicException":
                    raise
                self.bad.add(c)

    def _call(self, fn: Any, texts: list[str], *a: Any) -> np.ndarray:
        try:
            return fn([self._clean(t) for t in texts], *a)
        except BaseException as e:  # noqa: BLE001
            if type(e).__name__ != "PanicException":
                raise
        self._find_bad(texts)
        return fn([self._clean(t) for t in texts], *a)

    def embed_passages(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        return self._call(self.inner.embed_passages, texts, batch_size, progress)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._call(self.inner.embed_queries, texts)

    def report(self) -> dict[str, Any]:
        return {"bad_chars": {f"U+{ord(c):04X} {c}": n for c, n in self.replaced.items()},
                "texts_touched": self.texts_touched}
