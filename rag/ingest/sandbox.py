"""Parse files in a child process with memory and time limits, so a hostile file fails alone and the caller lives."""
from __future__ import annotations

import os
import pickle
import select
import struct
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any, BinaryIO

from rag.errors import IngestError
from rag.ingest.readers import DEFAULT_MAX_MB

# Address space of the parsing child. A 50 MB PDF or a DOCX with 64 MB of XML parses in < 700 MB here; the
# 315 MB-of-XML DOCX that took 8 GB stops at this limit. `RAG_PARSE_MEMORY_MB` overrides.
PARSE_MEMORY_MB = int(os.environ.get("RAG_PARSE_MEMORY_MB", "1024"))
# Wall-clock limit per file. The 50 MB seed-like text parses in ~40 s on 2 shared cores; a file that takes
# 4x that is a parser trap (the 388 KB DOCX that ran for minutes). `RAG_PARSE_TIMEOUT_S` overrides.
PARSE_TIMEOUT_S = float(os.environ.get("RAG_PARSE_TIMEOUT_S", "180"))
_HEADER = struct.Struct("!Q")


def _send(stream: BinaryIO, obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)  # between this program's own processes only
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _recv(stream: BinaryIO) -> Any:
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        raise EOFError("the parser closed its pipe")
    size = _HEADER.unpack(head)[0]
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("the parser closed its pipe")
    return pickle.loads(data)


def serve(memory_mb: int) -> None:
    """The child (`python -m rag.ingest.sandbox MB`): parse one path per request on stdin, answer on stdout with
    ("ok", ParsedDocument) or ("error", one-line reason)."""
    import resource

    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    from rag.ingest.parse import parse_document  # after the limits: the parsers load under them too

    inp, out = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a library printing must not corrupt the answer stream
    while True:
        try:
            request = _recv(inp)
        except EOFError:
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
            _send(out, result)
        except MemoryError:
            _send(out, ("error", f"parsing needs more than the {memory_mb} MB memory limit"))


class ParseWorker:
    """One child process, reused from file to file and restarted after a crash or a timeout.

    A plain subprocess (`python -m rag.ingest.sandbox`), not multiprocessing: the child must not re-import the
    caller's main script, and must not inherit a server's threads, models or locks.
    """

    def __init__(self, memory_mb: int = PARSE_MEMORY_MB, timeout_s: float = PARSE_TIMEOUT_S) -> None:
        self.memory_mb = memory_mb
        self.timeout_s = timeout_s
        self._proc: subprocess.Popen | None = None
        self._stderr: Any = None  # the child's stderr, kept in a temporary file: its last line explains a crash
        self._lock = threading.Lock()

    def _start(self) -> None:
        root = str(Path(__file__).resolve().parents[2])  # the folder holding the `rag` package
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
               "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
        self._stderr = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "rag.ingest.sandbox", str(self.memory_mb)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=self._stderr, env=env, close_fds=True, start_new_session=True,
        )

    def _last_error_line(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0, os.SEEK_END)
        self._stderr.seek(max(0, self._stderr.tell() - 2000))
        lines = [line.strip() for line in self._stderr.read().decode("utf-8", "replace").splitlines() if line.strip()]
        return lines[-1][:200] if lines else ""

    def _kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait(5)
            for stream in (self._proc.stdin, self._proc.stdout):
                if stream is not None:
                    stream.close()
        self._proc = None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def parse(self, path: Path, max_mb: float = DEFAULT_MAX_MB) -> Any:
        """The ParsedDocument of `path`; IngestError with a one-line reason if it fails, crashes or takes too long."""
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._kill()
                self._start()
            proc = self._proc
            assert proc is not None and proc.stdin is not None and proc.stdout is not None
            try:
                _send(proc.stdin, (str(Path(path).resolve()), max_mb))
                ready, _, _ = select.select([proc.stdout], [], [], self.timeout_s)
                if not ready:
                    self._kill()
                    raise IngestError(path, f"parsing took longer than the {self.timeout_s:g} s limit")
                status, value = _recv(proc.stdout)
            except (EOFError, OSError, pickle.UnpicklingError):
                code = proc.wait(5) if proc.poll() is None else proc.returncode
                last = self._last_error_line()
                self._kill()
                why = "ran out of memory" if code in (-9, -6) else f"exit code {code}" + (f": {last}" if last else "")
                raise IngestError(path, f"the parser crashed on this file ({why})") from None
        if status == "ok":
            return value
        raise IngestError(path, value)

    def close(self) -> None:
        with self._lock:
            if self._proc is not None and self._proc.poll() is None:
                try:
                    _send(self._proc.stdin, None)
                    self._proc.wait(5)
                except (OSError, subprocess.TimeoutExpired):
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


if __name__ == "__main__":
    serve(int(sys.argv[1]) if len(sys.argv) > 1 else PARSE_MEMORY_MB)
