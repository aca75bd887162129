"""Parse files in a child process with memory and time limits, so a hostile file fails alone and the caller lives."""
from __future__ import annotations

import multiprocessing as mp
import os
import threading
from pathlib import Path
from typing import Any

from rag.readers import DEFAULT_MAX_MB, IngestError

# Address space of the parsing child. A 50 MB PDF or a DOCX with 64 MB of XML parses in < 700 MB here; the
# 315 MB-of-XML DOCX that took 8 GB stops at this limit. `RAG_PARSE_MEMORY_MB` overrides.
PARSE_MEMORY_MB = int(os.environ.get("RAG_PARSE_MEMORY_MB", "1024"))
# Wall-clock limit per file. The 50 MB seed-like text parses in ~40 s on 2 shared cores; a file that takes
# 4x that is a parser trap (the 388 KB DOCX that ran for minutes). `RAG_PARSE_TIMEOUT_S` overrides.
PARSE_TIMEOUT_S = float(os.environ.get("RAG_PARSE_TIMEOUT_S", "180"))


def _serve(conn: Any, memory_mb: int) -> None:
    """The child: parse one path per request and answer ("ok", ParsedDocument) or ("error", one-line reason)."""
    import resource

    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from rag.parse import parse_document

    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        path, max_mb = request
        try:
            result: tuple[str, Any] = ("ok", parse_document(Path(path), max_mb=max_mb))
        except IngestError as e:
            result = ("error", e.reason)
        except MemoryError:
            result = ("error", f"parsing needs more than the {memory_mb} MB memory limit (a decompression bomb?)")
        except RecursionError:
            result = ("error", "too deeply nested to parse")
        except Exception as e:  # noqa: BLE001 - any parser failure is this file's, reported in one line
            msg = " ".join(str(e).split())[:200]
            result = ("error", f"unreadable file ({type(e).__name__}: {msg})")
        try:
            conn.send(result)
        except MemoryError:
            conn.send(("error", f"parsing needs more than the {memory_mb} MB memory limit"))


class ParseWorker:
    """One child process, reused from file to file and restarted after a crash or a timeout."""

    def __init__(self, memory_mb: int = PARSE_MEMORY_MB, timeout_s: float = PARSE_TIMEOUT_S) -> None:
        self.memory_mb = memory_mb
        self.timeout_s = timeout_s
        self._proc: Any = None
        self._conn: Any = None
        self._lock = threading.Lock()

    def _start(self) -> None:
        # forkserver: children fork from a small clean process, not from a server holding torch and threads.
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["rag.parse"])
        parent, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(child, self.memory_mb), daemon=True, name="rag-parse")
        self._proc.start()
        child.close()
        self._conn = parent

    def _kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.join(5)
        if self._conn is not None:
            self._conn.close()
        self._proc = self._conn = None

    def parse(self, path: Path, max_mb: float = DEFAULT_MAX_MB) -> Any:
        """The ParsedDocument of `path`; IngestError with a one-line reason if it fails, crashes or takes too long."""
        with self._lock:
            if self._proc is None or not self._proc.is_alive():
                self._kill()
                self._start()
            try:
                self._conn.send((str(path), max_mb))
                ready = self._conn.poll(self.timeout_s)
                if not ready:
                    self._kill()
                    raise IngestError(path, f"parsing took longer than the {self.timeout_s:g} s limit")
                status, value = self._conn.recv()
            except (EOFError, OSError, BrokenPipeError):
                code = self._proc.exitcode if self._proc is not None else None
                self._kill()
                raise IngestError(path, f"the parser crashed on this file (exit code {code})") from None
        if status == "ok":
            return value
        raise IngestError(path, value)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.send(None)
                except OSError:
                    pass
            self._kill()


_WORKER: ParseWorker | None = None
_WORKER_LOCK = threading.Lock()


def parse_isolated(path: Path, max_mb: float = DEFAULT_MAX_MB) -> Any:
    """Parse `path` in the shared child process (started on first use). See `ParseWorker.parse`."""
    global _WORKER
    with _WORKER_LOCK:
        if _WORKER is None:
            _WORKER = ParseWorker()
        worker = _WORKER
    return worker.parse(path, max_mb)
