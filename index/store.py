"""The persisted index: versioned directories with a JSON manifest, swapped in atomically by renaming a pointer."""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from index.base import IndexLoadError, RowFilter, check_compatible, resolve_doc_name
from index.dense import DenseIndex
from index.keyword import KeywordIndex
from index.registry import register_store
from rag.errors import RagError
from rag.types import Chunk, DocMeta

FORMAT_VERSION = 1
CURRENT = "CURRENT"
VERSIONS = "versions"
KEEP_OLD_VERSIONS = 1  # the previous version stays for readers that loaded it a moment ago
# The reliability suite kills a writer at each step of a commit (tests/reliability/test_kill.py): with
# RAG_TEST_KILL_AT=<step> the process SIGKILLs itself there. Unset, `_step` costs one dict lookup.
KILL_ENV = "RAG_TEST_KILL_AT"
COMMIT_STEPS = ("start", "chunks", "texts", "embeddings", "dense", "bm25", "manifest", "version-renamed",
                "pointer-written", "pointer-replaced", "collected")


def _step(name: str) -> None:
    if os.environ.get(KILL_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass
class DocEntry:
    meta: DocMeta
    text: str  # cleaned text that chunk spans index into
    chunks: list[Chunk]
    embeddings: np.ndarray  # (len(chunks), dim) float32, row-aligned with chunks


class Index:
    """A loaded, read-only snapshot of one index version; meets `index.base.ChunkStore` (rows are 0..size-1)."""

    def __init__(self, path: Path, version: str, manifest: dict[str, Any], chunks: list[Chunk],
                 embeddings: np.ndarray, dense: DenseIndex, keyword: KeywordIndex, texts: dict[str, str],
                 docs: dict[str, DocMeta]) -> None:
        self.path = path
        self.location = str(path)
        self.version = version
        self.manifest = manifest
        self.docs = docs
        self._chunks = chunks
        self._embeddings = embeddings
        self._dense = dense
        self._keyword = keyword
        self._texts = texts
        self._doc_range: dict[str, tuple[int, int]] = {}
        for i, c in enumerate(chunks):
            lo, _ = self._doc_range.get(c.doc_id, (i, i))
            self._doc_range[c.doc_id] = (lo, i + 1)

    @property
    def model(self) -> str:
        return self.manifest["model"]

    @property
    def size(self) -> int:
        return len(self._chunks)

    def _allowed(self, where: RowFilter) -> np.ndarray:
        return np.asarray([i for i, c in enumerate(self._chunks) if where.matches(c, self.docs.get(c.doc_id))],
                          dtype=np.int64)

    def dense_search(self, query: np.ndarray, k: int, where: RowFilter | None = None) -> list[tuple[int, float]]:
        if not self.size:
            return []
        if not where:
            scores, ids = self._dense.search(query[None, :], k)
            keep = ids[0] >= 0
            return list(zip(ids[0][keep].tolist(), scores[0][keep].tolist()))
        mask = self._allowed(where)
        sims = self._embeddings[mask] @ query  # a filtered search scores just the allowed rows exactly
        order = np.argsort(-sims)[:k]
        return list(zip(mask[order].tolist(), sims[order].tolist()))

    def keyword_search(self, query: str, k: int, where: RowFilter | None = None) -> list[tuple[int, float]]:
        if not self.size:
            return []
        bm = self._keyword.scores(query)
        if where:
            allowed = np.zeros(len(bm), bool)
            allowed[self._allowed(where)] = True
            bm = np.where(allowed, bm, 0.0)
        return [(int(i), float(bm[i])) for i in np.argsort(-bm)[:k] if bm[i] > 0]

    def chunks(self, rows: Sequence[int]) -> list[Chunk]:
        n = len(self._chunks)
        bad = [r for r in rows if not 0 <= r < n]
        if bad:
            raise KeyError(f"rows {bad[:5]} are not in {self.location} (version {self.version})")
        return [self._chunks[r] for r in rows]

    def vectors(self, rows: Sequence[int]) -> np.ndarray:
        return self._embeddings[np.asarray(rows, dtype=np.int64)]

    def doc_rows(self, doc_id: str) -> list[int]:
        lo, hi = self._doc_range.get(doc_id, (0, 0))
        return list(range(lo, hi))

    def doc_text(self, doc_id: str) -> str:
        return self._texts.get(doc_id, "")

    def doc_chunks(self, doc_id: str) -> list[Chunk]:
        """The chunks of one document, in order (a convenience over `chunks(doc_rows(doc_id))`)."""
        return self.chunks(self.doc_rows(doc_id))

    def iter_chunks(self) -> Iterator[tuple[int, Chunk]]:
        return iter(enumerate(self._chunks))

    def resolve_doc(self, name: str) -> str:
        """A document id from a symbol, doc id or source file name; RagError listing the known ones otherwise."""
        return resolve_doc_name(self.docs, name)


def _fsync_write(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def current_version(root: Path) -> str | None:
    """The version readers see now (the name of its directory under `versions/`), or None before the first commit."""
    p = root / CURRENT
    if not p.exists():
        return None
    return json.loads(p.read_text())["version"]


def load_index(root: Path) -> Index:
    """Load the current version of the index at `root`.

    Args:
        root: the index directory (`--index`).
    Returns:
        The `Index`: chunks, embeddings, the dense and keyword indexes, document texts and metadata.
    Raises:
        IndexLoadError: no index there (the message says how to build one), another format, or unreadable files.
    """
    version = current_version(root)
    if version is None:
        raise IndexLoadError(
            f"no index at {root}: build one with `rag ingest PATH... --index {root}` "
            f"(or set RAG_INDEX to an existing index directory)"
        )
    vdir = root / VERSIONS / version
    try:
        manifest = json.loads((vdir / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT_VERSION:
            raise IndexLoadError(
                f"index at {root} has format {manifest.get('format')}, this program reads {FORMAT_VERSION}: "
                f"rebuild it with `rag ingest --rebuild --index {root}`"
            )
        with open(vdir / "chunks.jsonl", encoding="utf-8") as f:
            chunks = [Chunk.from_dict(json.loads(line)) for line in f if line.strip()]
        embeddings = np.load(vdir / "embeddings.npy", allow_pickle=False)
        with open(vdir / "texts.jsonl", encoding="utf-8") as f:
            texts = {d["doc_id"]: d["text"] for d in map(json.loads, f) if d}
        dense = DenseIndex.load(vdir / "dense.faiss")
        keyword = KeywordIndex.load(vdir / "bm25")
    except IndexLoadError:
        raise
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as e:
        raise IndexLoadError(f"index at {root} (version {version}) is unreadable: {e}") from None
    docs = {d: DocMeta.from_dict(m["meta"]) for d, m in manifest["documents"].items()}
    return Index(root, version, manifest, chunks, embeddings, dense, keyword, texts, docs)


class IndexWriter:
    """Stages changes to an index and commits them as a new version; readers never see a partial one."""

    def __init__(self, root: Path, model: str | None, dim: int | None, chunker_version: str | None,
                 rebuild: bool = False) -> None:
        self.root = Path(root)
        self.location = str(root)
        self.entries: dict[str, DocEntry] = {}
        self.changed = False
        self.previous_paths: list[str] = []  # where the documents of the replaced index came from
        self._lock: contextlib.ExitStack | None = None
        self.base_version = current_version(self.root)  # kept after the commit, for readers that loaded it
        base = load_index(self.root) if self.base_version is not None else None
        if model is None or dim is None or chunker_version is None:  # keep the store's own (e.g. to remove)
            if base is None:
                raise IndexLoadError(f"no index at {root}: build one with `rag ingest PATH... --index {root}`")
            model, dim, chunker_version = base.model, int(base.manifest["dim"]), str(base.manifest["chunker_version"])
        self.model, self.dim, self.chunker_version = model, dim, chunker_version
        if base is None:
            return
        if rebuild:
            self.previous_paths = [m.path for m in base.docs.values() if m.path]
            self.changed = True
            return
        check_compatible(base, model, chunker_version)
        for doc_id, meta in base.docs.items():
            rows = base.doc_rows(doc_id)
            self.entries[doc_id] = DocEntry(meta, base.doc_text(doc_id), base.chunks(rows), base.vectors(rows))

    def __enter__(self) -> "IndexWriter":
        if self._lock is None:  # opened by `index.registry.open_writer`, it holds the lock already
            self._lock = contextlib.ExitStack()
            self._lock.enter_context(write_lock(self.root))
        return self

    def __exit__(self, *exc: object) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    @property
    def docs(self) -> dict[str, DocMeta]:
        return {d: e.meta for d, e in self.entries.items()}

    def chunk_count(self, doc_id: str) -> int:
        return len(self.entries[doc_id].chunks)

    def resolve_doc(self, name: str) -> str:
        return resolve_doc_name(self.docs, name)

    def find_by_source(self, source: str, sha256: str) -> str | None:
        """Doc id of an already-indexed file with this name and content (re-adding it is a no-op)."""
        for doc_id, entry in self.entries.items():
            if entry.meta.source == source and entry.meta.sha256 == sha256:
                return doc_id
        return None

    def add(self, meta: DocMeta, text: str, chunks: list[Chunk], embeddings: np.ndarray) -> None:
        """Stage a document (replacing one with the same doc id): its cleaned text, chunks and their vectors.

        Args:
            meta: the document's metadata; `meta.doc_id` is its key.
            text: the cleaned text the chunks' spans index.
            chunks: its chunks, in document order.
            embeddings: one row per chunk, shape (len(chunks), dim).
        """
        if embeddings.shape != (len(chunks), self.dim):
            raise ValueError(f"embeddings shape {embeddings.shape} does not match {len(chunks)} chunks x {self.dim}")
        self.entries[meta.doc_id] = DocEntry(meta, text, chunks, embeddings.astype(np.float32))
        self.changed = True

    def remove(self, doc_id: str) -> None:
        """Stage the removal of `doc_id`; RagError listing the indexed documents when it is not one of them."""
        if doc_id not in self.entries:
            known = ", ".join(sorted(self.entries)) or "(none)"
            raise RagError(f"unknown document {doc_id!r}; the index holds: {known}")
        del self.entries[doc_id]
        self.changed = True

    def commit(self) -> str | None:
        """Write a new version beside the old one, then swap the CURRENT pointer by rename.

        Returns:
            The new version's name, or None when nothing was staged. A crash at any point leaves the previous
            version current and at most a `.tmp-*` directory that the next commit removes.
        """
        if not self.changed:
            return None
        versions = self.root / VERSIONS
        versions.mkdir(parents=True, exist_ok=True)
        version = time.strftime("v%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:8]
        tmp = versions / f".tmp-{version}"
        tmp.mkdir()
        _step("start")
        chunks: list[Chunk] = []
        embs: list[np.ndarray] = []
        for entry in self.entries.values():
            chunks.extend(entry.chunks)
            embs.append(entry.embeddings)
        matrix = np.concatenate(embs) if embs else np.zeros((0, self.dim), np.float32)
        lines = "".join(json.dumps(c.to_dict(), ensure_ascii=False) + "\n" for c in chunks)
        _fsync_write(tmp / "chunks.jsonl", lines.encode("utf-8"))
        _step("chunks")
        texts = "".join(json.dumps({"doc_id": d, "text": e.text}, ensure_ascii=False) + "\n" for d, e in self.entries.items())
        _fsync_write(tmp / "texts.jsonl", texts.encode("utf-8"))
        _step("texts")
        with open(tmp / "embeddings.npy", "wb") as f:
            np.save(f, matrix, allow_pickle=False)
            f.flush()
            os.fsync(f.fileno())
        _step("embeddings")
        dense = DenseIndex.build(matrix, self.dim)
        dense.save(tmp / "dense.faiss")
        _step("dense")
        KeywordIndex.build([c.keyword_text() for c in chunks]).save(tmp / "bm25")
        _step("bm25")
        manifest = {
            "format": FORMAT_VERSION,
            "model": self.model,
            "dim": self.dim,
            "chunker_version": self.chunker_version,
            "dense_kind": dense.kind,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "counts": {"documents": len(self.entries), "chunks": len(chunks)},
            "documents": {
                d: {"meta": e.meta.to_dict(), "sha256": e.meta.sha256, "chunks": len(e.chunks)} for d, e in self.entries.items()
            },
        }
        _fsync_write(tmp / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8"))
        _fsync_dir(tmp)
        _step("manifest")
        final = versions / version
        os.rename(tmp, final)
        _fsync_dir(versions)
        _step("version-renamed")
        pointer = self.root / f".{CURRENT}.tmp-{uuid.uuid4().hex[:8]}"
        _fsync_write(pointer, json.dumps({"version": version}).encode())
        _step("pointer-written")
        os.replace(pointer, self.root / CURRENT)  # the atomic step: readers see the old or the new version
        _fsync_dir(self.root)
        _step("pointer-replaced")
        self._collect_garbage(version)
        _step("collected")
        return version

    def _collect_garbage(self, keep: str) -> None:
        versions = self.root / VERSIONS
        # Keep the new version and the one it replaced; anything else is older, or a version a killed writer
        # renamed into place but never pointed CURRENT to (it would otherwise outlive the real previous one).
        keep_names = {keep, self.base_version} if KEEP_OLD_VERSIONS else {keep}
        for p in versions.iterdir():
            if not p.name.startswith(".") and p.name not in keep_names:
                shutil.rmtree(p, ignore_errors=True)
        for p in versions.glob(".tmp-*"):  # left by a killed writer; never pointed to by CURRENT
            shutil.rmtree(p, ignore_errors=True)
        for p in self.root.glob(f".{CURRENT}.tmp-*"):
            p.unlink(missing_ok=True)


@contextlib.contextmanager
def write_lock(root: Path) -> Iterator[None]:
    """One writer at a time per index directory (readers need no lock)."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _open(location: str) -> Index:
    return load_index(Path(location).expanduser())


def _writer(location: str, model: str | None, dim: int | None, chunker_version: str | None,
            rebuild: bool = False) -> IndexWriter:
    root = Path(location).expanduser()
    lock = contextlib.ExitStack()
    lock.enter_context(write_lock(root))  # before reading the base version: no other writer may commit under us
    try:
        writer = IndexWriter(root, model, dim, chunker_version, rebuild=rebuild)
    except BaseException:
        lock.close()
        raise
    writer._lock = lock
    return writer


def _version(location: str) -> str | None:
    return current_version(Path(location).expanduser())


register_store("faiss", _open, _writer, _version, "the embedded store: a directory (FAISS, BM25, versions)")
