"""Concurrent askers against a running app while an editor changes the library: answers, failures, latency."""
from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

QUESTIONS = ["明斯克将举行什么会议？", "专家组关于国际人道法得出了什么结论？", "白俄罗斯代表说了什么？",
             "What did the Group of Experts conclude about international humanitarian law?",
             "Who spoke on behalf of the Group of 21?", "人工智能武器化"]


@dataclass
class LoadResult:
    """What the askers saw: answers, failures (with their messages), latency per answer (ms)."""

    sessions: int
    seconds: float
    answered: int = 0
    failures: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    editor: dict[str, Any] = field(default_factory=dict)

    def percentile(self, q: float) -> float:
        if not self.latencies_ms:
            return 0.0
        xs = sorted(self.latencies_ms)
        return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]

    def summary(self) -> dict[str, Any]:
        return {"sessions": self.sessions, "seconds": self.seconds, "answered": self.answered,
                "failed": len(self.failures), "p50_ms": round(self.percentile(0.5)),
                "p95_ms": round(self.percentile(0.95)),
                "mean_ms": round(statistics.fmean(self.latencies_ms)) if self.latencies_ms else 0,
                "editor": self.editor}


def run_load(url: str, sessions: int, seconds: float, upload: Path | None = None,
             editor_auth: tuple[str, str] | None = None,
             reader_auths: list[tuple[str, str]] | None = None) -> LoadResult:
    """`sessions` gradio_client sessions ask in a loop for `seconds`; meanwhile an editor uploads `upload`.

    Args:
        url: the running app.
        sessions: concurrent askers (one Client each).
        seconds: how long they keep asking.
        upload: a document the editor adds (through the `upload` API) a third of the way in.
        editor_auth / reader_auths: logins when the app has them (one reader per session: the app limits how many
            requests one user may have waiting).
    """
    from gradio_client import Client, handle_file

    result = LoadResult(sessions, seconds)
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    clients = [Client(url, verbose=False, auth=reader_auths[i] if reader_auths else None) for i in range(sessions)]

    def asker(i: int) -> None:
        n = 0
        while time.monotonic() < stop:
            q = QUESTIONS[(i + n) % len(QUESTIONS)]
            n += 1
            t = time.perf_counter()
            try:
                out = clients[i].predict(q, "extractive", 3, api_name="/ask")
                ok = bool(out.get("answer"))
                with lock:
                    if ok:
                        result.answered += 1
                        result.latencies_ms.append((time.perf_counter() - t) * 1e3)
                    else:
                        result.failures.append(f"empty answer to {q!r}")
            except Exception as e:  # noqa: BLE001 - every failure is counted and reported
                with lock:
                    result.failures.append(f"{type(e).__name__}: {e}"[:300])

    def editor() -> None:
        time.sleep(seconds / 3)
        t = time.perf_counter()
        try:
            rows = Client(url, verbose=False, auth=editor_auth).predict([handle_file(str(upload))], False,
                                                                        api_name="/upload")
            result.editor = {"rows": rows, "ms": round((time.perf_counter() - t) * 1e3)}
        except Exception as e:  # noqa: BLE001 - reported in the result
            result.editor = {"error": f"{type(e).__name__}: {e}"[:300]}

    threads = [threading.Thread(target=asker, args=(i,)) for i in range(sessions)]
    if upload is not None:
        threads.append(threading.Thread(target=editor))
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 300)
    return result
