"""The embedded FAISS store: immutable segments, a manifest per version listing the live documents, and an atomic
CURRENT pointer; adding or removing a document costs in proportion to that document.

Layout of an index directory:
  CURRENT                     {"version": NAME}, replaced by rename: readers see the old or the new version
  versions/NAME/manifest.json format 2: model, dim, chunker version, counts, segments, documents (each with its
                              segment and rows); rows of a segment not held by a listed document are deleted
  segments/NAME/              one immutable segment (index.segment): vectors.npy, dense.faiss, bm25/, chunks.sqlite
  lock                        one writer at a time
A commit writes at most one new segment (the added documents, plus the segments of their size tier once it is
full), then a new manifest, then moves the pointer. `rag compact` rewrites the live documents into one segment.
Format 1 (one directory per version holding everything) is not read: it is refused with the rebuild command,
and `rag ingest --rebuild` re-reads its documents from where they came.
"""
from __future__ import annotations

import bisect
import contextlib
import fcntl
import json
import os
import shutil
import signal
import time
import uuid
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from index.base import (
    IndexLoadError,
    RowFilter,
    check_compatible,
    check_vectors,
    doc_with_source,
    rebuild_command,
    resolve_doc_name,
)
from index.postings import idf_of
from index.registry import register_store
from index.segment import NewDoc, Segment, fsync_dir, load_segment, write_segment
from index.tokenize import tokenize
from rag.errors import RagError
from rag.types import Chunk, DocMeta

__all__ = ["IndexLoadError", "check_compatible", "FaissStore", "IndexWriter", "load_index", "current_version"]

FORMAT_VERSION = 2
CURRENT = "CURRENT"
VERSIONS = "versions"
SEGMENTS = "segments"
KEEP_OLD_VERSIONS = 1  # the previous version stays for readers that loaded it a moment ago
# Tiered merging: segments fall in size tiers (x MERGE_FACTOR each, from MERGE_FLOOR rows); when a commit's new
# segment would make MERGE_FACTOR in its tier, that tier's segments are merged into it. An addition thus rewrites
# only segments of its own size class, never the index: with "merge the smallest past 8 segments", adding 1,000
# passages to a 1M index (8 segments of 100-200k) rewrote a 100k segment and took 86 s; by tiers it writes one
# 1,000-row segment. A search visits at most (MERGE_FACTOR - 1) segments per tier: ~4 tiers up to 4M rows.
MERGE_FACTOR = 8
MERGE_FLOOR = 1_000
# The reliability suite kills a writer at each step of a commit (tests/reliability/test_kill.py): with
# RAG_TEST_KILL_AT=<step> the process SIGKILLs itself there. Unset, `_step` costs one dict lookup.
KILL_ENV = "RAG_TEST_KILL_AT"
COMMIT_STEPS = ("start", "chunks", "texts", "embeddings", "dense", "bm25", "segment-renamed", "manifest",
                "version-renamed", "pointer-written", "pointer-replaced", "collected")


def _step(name: str) -> None:
    if os.environ.get(KILL_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def _fsync_write(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def current_version(root: Path) -> str | None:
    """The version readers see now (the name of its directory under `versions/`), or None before the first commit."""
    p = Path(root) / CURRENT
    if not p.exists():
        return None
    return json.loads(p.read_text())["version"]


def _read_manifest(root: Path, version: str) -> dict[str, Any]:
    return json.loads((root / VERSIONS / version / "manifest.json").read_text(encoding="utf-8"))


class FaissStore:
    """A published, read-only version of the FAISS store; meets `index.base.ChunkStore`."""

    def __init__(self, root: Path, version: str, manifest: dict[str, Any], segments: list[Segment]) -> None:
        self.path = root
        self.location = str(root)
        self.version = version
        self.manifest = manifest
        self.segments = segments
        self._bases = [s["base"] for s in manifest["segments"]]
        by_name = {s.name: i for i, s in enumerate(segments)}
        self.docs: dict[str, DocMeta] = {}
        self._place: dict[str, tuple[int, int, int]] = {}  # doc id -> (segment index, first row, end row)
        live = [np.zeros(s.size, bool) for s in segments]
        for d, e in manifest["documents"].items():
            self.docs[d] = DocMeta.from_dict(e["meta"])
            si = by_name[e["segment"]]
            lo, hi = e["rows"]
            self._place[d] = (si, lo, hi)
            base = self._bases[si]
            live[si][lo - base : hi - base] = True
        # None where every row of a segment is live: searches then need no selector at all.
        self._live = [None if m.all() else m for m in live]

    @property
    def model(self) -> str:
        return self.manifest["model"]

    @property
    def size(self) -> int:
        return int(self.manifest["counts"]["chunks"])

    def _locate(self, row: int) -> tuple[int, int]:
        si = bisect.bisect_right(self._bases, row) - 1
        if si < 0 or row - self._bases[si] >= self.segments[si].size:
            raise KeyError(f"row {row} is not in {self.location} (version {self.version})")
        local = row - self._bases[si]
        live = self._live[si]
        if live is not None and not live[local]:
            raise KeyError(f"row {row} belongs to a removed document ({self.location}, version {self.version})")
        return si, local

    def _group(self, rows: Sequence[int]) -> dict[int, list[tuple[int, int]]]:
        """Segment index -> [(position in `rows`, local row)]."""
        out: dict[int, list[tuple[int, int]]] = {}
        for pos, r in enumerate(rows):
            si, local = self._locate(int(r))
            out.setdefault(si, []).append((pos, local))
        return out

    def _masks(self, where: RowFilter | None) -> list[np.ndarray | None]:
        return [s.mask(where, self.docs, live) for s, live in zip(self.segments, self._live)]

    def dense_search(self, query: np.ndarray, k: int, where: RowFilter | None = None) -> list[tuple[int, float]]:
        ids, scores = [], []
        for si, (seg, allowed) in enumerate(zip(self.segments, self._masks(where))):
            local, sc = seg.dense_search(query, k, allowed)
            ids.append(local.astype(np.int64) + self._bases[si])
            scores.append(np.asarray(sc, np.float32))
        return _merge(ids, scores, k)

    def keyword_search(self, query: str, k: int, where: RowFilter | None = None) -> list[tuple[int, float]]:
        tokens = [t for t in tokenize(query) if any(t in s.postings.vocab for s in self.segments)]
        if not tokens or not self.segments:
            return []
        idf, avgdl = idf_of(tokens, [s.postings for s in self.segments])
        ids, scores = [], []
        for si, (seg, allowed) in enumerate(zip(self.segments, self._masks(where))):
            local, sc = seg.postings.top(tokens, idf, avgdl, k, allowed)
            ids.append(local + self._bases[si])
            scores.append(sc)
        return [(r, s) for r, s in _merge(ids, scores, k) if s > 0]

    def chunks(self, rows: Sequence[int]) -> list[Chunk]:
        out: list[Chunk | None] = [None] * len(rows)
        for si, items in self._group(rows).items():
            for (pos, _), c in zip(items, self.segments[si].chunks([local for _, local in items])):
                out[pos] = c
        return out  # type: ignore[return-value]

    def vectors(self, rows: Sequence[int]) -> np.ndarray:
        out = np.zeros((len(rows), int(self.manifest["dim"])), np.float32)
        for si, items in self._group(rows).items():
            pos = np.fromiter((p for p, _ in items), np.int64, len(items))
            local = np.fromiter((r for _, r in items), np.int64, len(items))
            out[pos] = self.segments[si].vectors[local]
        return out

    def doc_rows(self, doc_id: str) -> list[int]:
        if doc_id not in self._place:
            return []
        _, lo, hi = self._place[doc_id]
        return list(range(lo, hi))

    def doc_text(self, doc_id: str) -> str:
        if doc_id not in self._place:
            return ""
        return self.segments[self._place[doc_id][0]].text(doc_id)

    def doc_chunks(self, doc_id: str) -> list[Chunk]:
        """The chunks of one document, in order (a convenience over `chunks(doc_rows(doc_id))`)."""
        return self.chunks(self.doc_rows(doc_id))

    def iter_chunks(self) -> Iterator[tuple[int, Chunk]]:
        for doc_id in self.docs:
            si, lo, hi = self._place[doc_id]
            base = self._bases[si]
            for local, c in self.segments[si].chunk_range(lo - base, hi - base):
                yield local + base, c

    def resolve_doc(self, name: str) -> str:
        """A document id from a symbol, doc id or source file name; RagError listing the known ones otherwise."""
        return resolve_doc_name(self.docs, name)


Index = FaissStore  # the name the store had before segments


def _merge(ids: list[np.ndarray], scores: list[np.ndarray], k: int) -> list[tuple[int, float]]:
    """The best `k` of per-segment ranked lists; one list passes through untouched (ties keep their order)."""
    ids = [i for i in ids if len(i)] or [np.zeros(0, np.int64)]
    scores = [s for s in scores if len(s)] or [np.zeros(0, np.float32)]
    if len(ids) == 1:
        return list(zip(ids[0][:k].tolist(), scores[0][:k].tolist()))
    all_ids, all_scores = np.concatenate(ids), np.concatenate(scores)
    order = np.argsort(-all_scores, kind="stable")[:k]  # segments in row order: ties go to the lower row
    return list(zip(all_ids[order].tolist(), all_scores[order].tolist()))


def load_index(root: Path) -> FaissStore:
    """Open the current version of the FAISS store at `root`.

    Args:
        root: the index directory (`--index`).
    Returns:
        The `FaissStore` (documents' metadata in memory; vectors, postings and chunks memory-mapped or on disk).
    Raises:
        IndexLoadError: no index there (the message says how to build one), another format, or unreadable files.
    """
    root = Path(root)
    for attempt in range(2):  # a writer may collect the version we just read the name of: read the pointer again
        version = current_version(root)
        if version is None:
            raise IndexLoadError(
                f"no index at {root}: build one with `rag ingest PATH... --index {root}` "
                f"(or set RAG_INDEX to an existing index directory)"
            )
        try:
            manifest = _read_manifest(root, version)
            if manifest.get("format") != FORMAT_VERSION:
                raise IndexLoadError(
                    f"index at {root} has format {manifest.get('format')}, this program reads {FORMAT_VERSION} "
                    f"(segments): rebuild it with `{rebuild_command(str(root))}`"
                )
            segments = [load_segment(root / SEGMENTS / s["name"]) for s in manifest["segments"]]
            return FaissStore(root, version, manifest, segments)
        except IndexLoadError:
            raise
        except FileNotFoundError as e:
            if attempt == 0 and current_version(root) != version:
                continue
            raise IndexLoadError(f"index at {root} (version {version}) is unreadable: {e}") from None
        except (OSError, ValueError, KeyError, RuntimeError, json.JSONDecodeError) as e:
            raise IndexLoadError(f"index at {root} (version {version}) is unreadable: {e}") from None
    raise AssertionError("unreachable")


class IndexWriter:
    """Stages documents and commits them as a new version: a new segment for what was added, a new manifest.

    Opening reads only the manifest (documents' metadata): no chunk or vector of the published index is read
    unless small segments are merged or the store is compacted.
    """

    def __init__(self, root: Path, model: str | None, dim: int | None, chunker_version: str | None,
                 rebuild: bool = False) -> None:
        self.root = Path(root)
        self.location = str(root)
        self.previous_paths: list[str] = []  # where the documents of the replaced index came from
        self._lock: contextlib.ExitStack | None = None
        self._placed: dict[str, dict[str, Any]] = {}  # published documents kept: manifest entries
        self._staged: dict[str, NewDoc] = {}
        self._meta: dict[str, DocMeta] = {}  # documents in listing order (a replaced one keeps its place)
        self._segments: list[dict[str, Any]] = []
        self._next_row = 0
        self._compact = False
        self.changed = False
        self.base_version = current_version(self.root)  # kept after the commit, for readers that loaded it
        base = _read_manifest(self.root, self.base_version) if self.base_version else None
        if model is None or dim is None or chunker_version is None:  # keep the store's own (e.g. to remove)
            if base is None:
                raise IndexLoadError(f"no index at {root}: build one with `rag ingest PATH... --index {root}`")
            model, dim, chunker_version = base["model"], int(base["dim"]), str(base["chunker_version"])
        self.model, self.dim, self.chunker_version = model, int(dim), str(chunker_version)
        if base is None:
            return
        if rebuild:
            self.previous_paths = [e["meta"]["path"] for e in base["documents"].values() if e["meta"].get("path")]
            self.changed = True
            self._next_row = int(base.get("next_row", 0))
            return
        if base.get("format") != FORMAT_VERSION:
            raise IndexLoadError(f"index at {root} has format {base.get('format')}, this program reads "
                                 f"{FORMAT_VERSION} (segments): rebuild it with `{rebuild_command(str(root))}`")
        check_compatible(_ManifestView(self.location, base), model, self.chunker_version)
        self._placed = dict(base["documents"])
        self._meta = {d: DocMeta.from_dict(e["meta"]) for d, e in base["documents"].items()}
        self._segments = list(base["segments"])
        self._next_row = int(base["next_row"])

    # --- the StoreWriter protocol ---------------------------------------------------------------
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
        return self._meta

    def chunk_count(self, doc_id: str) -> int:
        if doc_id in self._staged:
            return len(self._staged[doc_id].chunks)
        return int(self._placed[doc_id]["chunks"])

    def resolve_doc(self, name: str) -> str:
        return resolve_doc_name(self.docs, name)

    def find_by_source(self, source: str, sha256: str) -> str | None:
        """Doc id of an already-indexed file with this name and content (re-adding it is a no-op)."""
        return doc_with_source(self.docs, source, sha256)

    def add(self, meta: DocMeta, text: str, chunks: list[Chunk], embeddings: np.ndarray) -> None:
        """Stage a document (replacing one with the same doc id): its cleaned text, chunks and their vectors.

        Args:
            meta: the document's metadata; `meta.doc_id` is its key.
            text: the cleaned text the chunks' spans index.
            chunks: its chunks, in document order.
            embeddings: one row per chunk, shape (len(chunks), dim).
        """
        check_vectors(embeddings, len(chunks), self.dim)
        self._placed.pop(meta.doc_id, None)  # its old rows become deleted rows
        self._staged[meta.doc_id] = NewDoc(meta, text, chunks, embeddings.astype(np.float32))
        self._meta[meta.doc_id] = meta
        self.changed = True

    def remove(self, doc_id: str) -> None:
        """Stage the removal of `doc_id`; RagError listing the indexed documents when it is not one of them."""
        if doc_id not in self._meta:
            known = ", ".join(sorted(self._meta)) or "(none)"
            raise RagError(f"unknown document {doc_id!r}; the index holds: {known}")
        self._placed.pop(doc_id, None)
        self._staged.pop(doc_id, None)
        del self._meta[doc_id]
        self.changed = True

    def compact(self) -> None:
        """Stage a compaction: the next commit writes every live document into one segment (deleted rows go)."""
        self._compact = True
        self.changed = True

    # --- committing ---------------------------------------------------------------------------------
    def _live_rows(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for e in self._placed.values():
            out[e["segment"]] = out.get(e["segment"], 0) + int(e["chunks"])
        return out

    def _to_merge(self) -> set[str]:
        """Segments whose live documents the new segment takes over: all of them when compacting, else those of
        the new segment's size tier once it would hold MERGE_FACTOR (segments left without live rows drop out)."""
        live = self._live_rows()
        if self._compact:
            return set(live)
        if not self._staged:
            return set()
        new = sum(len(d.chunks) for d in self._staged.values())
        same_tier = [s for s, n in live.items() if _tier(n) == _tier(new)]
        return set(same_tier) if len(same_tier) + 1 >= MERGE_FACTOR else set()

    def _merged_docs(self, names: set[str]) -> Iterator[NewDoc]:
        """The live documents of segments `names`, read back one at a time."""
        if not names:
            return
        segs = {n: load_segment(self.root / SEGMENTS / n) for n in names}
        bases = {s["name"]: s["base"] for s in self._segments}
        for d in [d for d in self._meta if d in self._placed and self._placed[d]["segment"] in names]:
            e = self._placed[d]
            seg, base = segs[e["segment"]], bases[e["segment"]]
            lo, hi = e["rows"][0] - base, e["rows"][1] - base
            yield NewDoc(DocMeta.from_dict(e["meta"]), seg.text(d), [c for _, c in seg.chunk_range(lo, hi)],
                         np.asarray(seg.vectors[lo:hi], np.float32))

    def commit(self) -> str | None:
        """Write the staged documents as a new segment and publish a new manifest by swapping the CURRENT pointer.

        Returns:
            The new version's name, or None when nothing was staged. A crash at any point leaves the previous
            version current and at most `.tmp-*` directories or an unlisted segment that the next commit removes.
        """
        if not self.changed:
            return None
        (self.root / SEGMENTS).mkdir(parents=True, exist_ok=True)
        (self.root / VERSIONS).mkdir(parents=True, exist_ok=True)
        version = time.strftime("v%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:8]
        _step("start")
        merge = self._to_merge()
        moved = [d for d in self._meta if d in self._placed and self._placed[d]["segment"] in merge]
        new_docs = [d for d in self._meta if d in self._staged]
        size = sum(int(self._placed[d]["chunks"]) for d in moved) + sum(len(self._staged[d].chunks) for d in new_docs)
        if moved or new_docs:
            name = f"s{self._next_row:012d}-{uuid.uuid4().hex[:8]}"
            tmp = self.root / SEGMENTS / f".tmp-{name}"
            tmp.mkdir()

            def stream() -> Iterator[NewDoc]:
                yield from self._merged_docs(merge)
                yield from (self._staged[d] for d in new_docs)

            info = write_segment(tmp, stream(), size, self.dim, _step)
            os.rename(tmp, self.root / SEGMENTS / name)
            fsync_dir(self.root / SEGMENTS)
            _step("segment-renamed")
            base = self._next_row
            self._segments.append({"name": name, "base": base, "size": size, "dense_kind": info["dense_kind"]})
            self._next_row += size
            for d, lo, hi in info["docs"]:
                meta = self._staged[d].meta if d in self._staged else DocMeta.from_dict(self._placed[d]["meta"])
                self._placed[d] = {"meta": meta.to_dict(), "sha256": meta.sha256, "chunks": hi - lo,
                                   "segment": name, "rows": [base + lo, base + hi]}
            self._staged.clear()
        used = {e["segment"] for e in self._placed.values()}
        self._segments = [s for s in self._segments if s["name"] in used]  # wholly deleted segments drop out
        documents = {d: self._placed[d] for d in self._meta}
        chunks = sum(int(e["chunks"]) for e in documents.values())
        manifest = {
            "format": FORMAT_VERSION,
            "model": self.model,
            "dim": self.dim,
            "chunker_version": self.chunker_version,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "counts": {"documents": len(documents), "chunks": chunks},
            "next_row": self._next_row,
            "segments": self._segments,
            "deleted_rows": sum(s["size"] for s in self._segments) - chunks,
            "documents": documents,
        }
        tmp_version = self.root / VERSIONS / f".tmp-{version}"
        tmp_version.mkdir()
        _fsync_write(tmp_version / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8"))
        fsync_dir(tmp_version)
        _step("manifest")
        os.rename(tmp_version, self.root / VERSIONS / version)
        fsync_dir(self.root / VERSIONS)
        _step("version-renamed")
        pointer = self.root / f".{CURRENT}.tmp-{uuid.uuid4().hex[:8]}"
        _fsync_write(pointer, json.dumps({"version": version}).encode())
        _step("pointer-written")
        os.replace(pointer, self.root / CURRENT)  # the atomic step: readers see the old or the new version
        fsync_dir(self.root)
        _step("pointer-replaced")
        self._collect_garbage(version)
        _step("collected")
        self.base_version, self.changed, self._compact = version, False, False
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
        used: set[str] = set()
        for v in keep_names:
            try:
                used |= {s["name"] for s in _read_manifest(self.root, v).get("segments", [])}
            except (OSError, ValueError, TypeError):
                continue
        for p in (self.root / SEGMENTS).iterdir():
            if p.name.startswith(".tmp-") or p.name not in used:  # half-written, or listed by no kept version
                shutil.rmtree(p, ignore_errors=True)
        for p in self.root.glob(f".{CURRENT}.tmp-*"):
            p.unlink(missing_ok=True)


def _tier(rows: int) -> int:
    """The size tier of a segment: 0 below MERGE_FLOOR * MERGE_FACTOR rows, then one per factor."""
    tier, limit = 0, MERGE_FLOOR * MERGE_FACTOR
    while rows >= limit:
        tier, limit = tier + 1, limit * MERGE_FACTOR
    return tier


class _ManifestView:
    """What check_compatible reads, from a manifest (the writer checks without opening the segments)."""

    def __init__(self, location: str, manifest: dict[str, Any]) -> None:
        self.location, self.manifest = location, manifest
        self.model = manifest["model"]


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


def _open(location: str) -> FaissStore:
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


register_store("faiss", _open, _writer, _version, "the embedded store: a directory of FAISS/BM25 segments")
