"""Ingest files into the index: parse, chunk, embed, and commit a new index version atomically."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from index.base import ChunkStore, StoreWriter
from index.registry import open_store, open_writer
from rag.errors import IngestError, RagError
from rag.ingest.chunk import CHUNKER_VERSION
from rag.ingest.metadata import SIDECAR_SUFFIX
from rag.ingest.parse import ParsedDocument, file_sha256
from rag.ingest.readers import DEFAULT_MAX_MB, SUPPORTED, check_file
from rag.ingest.sandbox import parse_isolated
from rag.ingest.versions import (
    alignment_note,
    document_of,
    group_versions,
    language_label,
    resolve_versions,
    version_data,
)
from rag.models.embed import Embedder
from rag.types import DocMeta


@dataclass
class FileResult:
    path: str
    status: str  # "added", "updated", "unchanged", "failed", "skipped"
    doc_id: str | None = None  # the document (its symbol); its language version is `language`
    chunks: int = 0
    reason: str = ""
    language: str | None = None
    note: str = ""  # for a file that landed: what else happened (a same-language file it superseded, alignment)


@dataclass
class IngestReport:
    files: list[FileResult] = field(default_factory=list)
    version: str | None = None  # the committed index version, None when nothing changed

    @property
    def failed(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "failed"]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for f in self.files:
            out[f.status] = out.get(f.status, 0) + 1
        return out


def collect_files(paths: list[Path]) -> tuple[list[Path], list[FileResult]]:
    """Expand folders (recursively) into supported files; report what is skipped or missing."""
    files: list[Path] = []
    problems: list[FileResult] = []
    for p in paths:
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if not f.is_file() or any(part.startswith(".") for part in f.relative_to(p).parts):
                    continue
                if f.name.endswith(SIDECAR_SUFFIX):
                    continue
                if f.stem.upper() == "README":  # describes the folder (e.g. seeds/gold/README.md), not a document
                    problems.append(FileResult(str(f), "skipped", reason="a folder's README (name the file to index it)"))
                    continue
                if f.suffix.lower() in SUPPORTED:
                    files.append(f)
                else:
                    problems.append(FileResult(str(f), "skipped", reason=f"unsupported type {f.suffix or '(none)'!r}"))
        elif p.exists():
            files.append(p)
        else:
            problems.append(FileResult(str(p), "failed", reason="no such file or directory"))
    return files, problems


@dataclass(frozen=True)
class IngestStatus:
    """Where an ingestion stands, for progress bars: files and passages done, and the time so far."""

    files_done: int
    files_total: int
    current: str  # the file being read ("" once every file is read and the index is being saved)
    passages: int  # passages embedded so far
    elapsed_s: float
    bytes_done: int = 0
    bytes_total: int = 0

    @property
    def passages_per_s(self) -> float:
        return self.passages / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        """Seconds left, from the bytes read so far (files differ in size far more than in speed per byte)."""
        if not self.bytes_done or self.bytes_done >= self.bytes_total:
            return None
        return self.elapsed_s * (self.bytes_total - self.bytes_done) / self.bytes_done


Progress = Callable[[IngestStatus], None]

# Chunks of several files are embedded in one call: sentence-transformers sorts each call's texts by length, so
# batches of like-sized texts waste less padding than a small document's few chunks would alone. 256 chunks
# (~2-4 files of CMRC size, ~1 seed document) keep the memory of one call small. Measured in
# benchmarks/embed_precision.py (benchmarks/README.md).
EMBED_BATCH_CHUNKS = 256
# Files parsed ahead of the one being embedded: the parser child works while torch embeds (parsing overlapped
# with embedding); two keep it busy without holding many parsed documents in memory.
PARSE_AHEAD = 2


@dataclass
class _Parsed:
    """A parsed file waiting for its vectors."""

    path: Path
    sha256: str
    doc: ParsedDocument
    vectors: np.ndarray | None = None
    note: str = ""
    drop: str | None = None  # a legacy key of the same language version, replaced by this one


def ingest(
    paths: Sequence[str | Path],
    index_dir: str | Path,
    embedder: Embedder,
    rebuild: bool = False,
    max_mb: float = DEFAULT_MAX_MB,
    progress: Progress | None = None,
    replace: bool = False,
) -> IngestReport:
    """Add files (or folders) to the index at `index_dir`. Failed files leave the index as it was for them.

    Files are parsed in the isolated parser a few files ahead of the embedding (the two overlap), and the chunks
    of consecutive files are embedded together in batches of up to `EMBED_BATCH_CHUNKS`.

    Args:
        paths: files or folders (read recursively).
        index_dir: the index directory.
        embedder: the index's embedding model.
        rebuild: start from an empty index (re-reading the indexed files when `paths` is empty).
        max_mb: largest file accepted, checked before a byte is read.
        progress: called with an `IngestStatus` after each file and when the index is saved.
        replace: a file whose symbol names a document indexed from another file replaces it; without this
            it is refused (a sidecar alone never replaces a document).

    Returns:
        One `FileResult` per file and the committed version (None when nothing changed).
    """
    report = IngestReport()
    paths = [Path(p) for p in paths]  # index_dir stays as given: a directory, or SCHEME:LOCATION of another store
    with open_writer(index_dir, embedder.name, embedder.dim, CHUNKER_VERSION, rebuild=rebuild) as writer:
        if rebuild and not paths:
            if not writer.previous_paths:
                raise RagError(f"nothing to rebuild at {index_dir}: give the files or folders to ingest")
            paths = [Path(p) for p in writer.previous_paths]  # re-read every document from where it came
        files, problems = collect_files(paths)
        report.files.extend(problems)
        _Run(writer, embedder, max_mb, replace, report, files, progress).go()
        report.version = writer.commit()
    if report.version and any(f.language for f in report.files):
        _note_alignments(open_store(index_dir), report)
    return report


def _mtime(path: str | None) -> float:
    try:
        return Path(path).stat().st_mtime if path else 0.0
    except OSError:
        return 0.0


def _note_alignments(store: ChunkStore, report: IngestReport) -> None:
    """Say, on each file that added a language version, how its document's versions align (flagged paragraphs)."""
    groups = group_versions(store.docs)
    for f in report.files:
        if f.status not in ("added", "updated") or not f.doc_id or len(groups.get(f.doc_id, {})) < 2:
            continue
        versions = {lg: version_data(store, k) for lg, k in groups[f.doc_id].items()}
        note = alignment_note(f.doc_id, versions)
        f.note = f"{f.note}; {note}" if f.note else note


def _same_version(writer: StoreWriter, meta: DocMeta) -> str | None:
    """The key of an indexed version of the same document in the same language (a legacy key may differ)."""
    if meta.doc_id in writer.docs:
        return meta.doc_id
    doc, lang = document_of(meta), (meta.language or "").lower()
    return next((k for k, m in writer.docs.items() if document_of(m) == doc
                 and (m.language or "").lower() == lang), None)


class _Run:
    """One ingestion: parse ahead, embed in batches across files, stage each document in file order."""

    def __init__(self, writer: StoreWriter, embedder: Embedder, max_mb: float, replace: bool, report: IngestReport,
                 files: list[Path], progress: Progress | None) -> None:
        self.writer, self.embedder, self.max_mb, self.replace = writer, embedder, max_mb, replace
        self.report, self.files, self.progress = report, files, progress
        self.sizes = [_size(f) for f in files]
        self.bytes_total = sum(self.sizes)
        self.done = self.bytes_done = self.passages = 0
        self.t0 = time.perf_counter()
        self.batch: list[tuple[int, _Parsed]] = []  # (position in report.files, parsed file)
        # Snapshot of what is indexed, for the parse-ahead thread (the writer changes under it otherwise).
        self.known = {(m.source, m.sha256) for m in writer.docs.values()}
        self.staged: dict[str, int] = {}  # version key -> position in report.files of the file of this run holding it

    def go(self) -> None:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="parse-ahead") as pool:
            ahead = [pool.submit(self._read, f) for f in self.files[:PARSE_AHEAD]]
            for i, path in enumerate(self.files):
                self._status(path)
                outcome = ahead.pop(0).result()
                if i + PARSE_AHEAD < len(self.files):
                    ahead.append(pool.submit(self._read, self.files[i + PARSE_AHEAD]))
                self._take(path, outcome)
                self.done += 1
                self.bytes_done += self.sizes[i]
        self._flush()
        self._status(None)

    def _read(self, path: Path, always: bool = False) -> tuple[str, ParsedDocument | None] | FileResult:
        """Check, hash and parse one file (in the parse-ahead thread): (sha256, document), or (sha256, None) when
        this file was indexed unchanged at the start (unless `always`), or the failure."""
        try:
            check_file(path, self.max_mb)  # size and type before a byte is read (a 3 GB file was hashed in full)
            sha = file_sha256(path)
            if not always and (path.name, sha) in self.known:
                return sha, None
            # Parsed in a child process with memory and time limits: a hostile file fails alone.
            return sha, parse_isolated(path, max_mb=self.max_mb)
        except IngestError as e:
            return FileResult(str(path), "failed", reason=e.reason)
        except RagError as e:
            return FileResult(str(path), "failed", reason=str(e))
        except (OSError, ValueError, UnicodeError) as e:
            return FileResult(str(path), "failed", reason=f"{type(e).__name__}: {e}")

    def _take(self, path: Path, outcome: tuple[str, ParsedDocument | None] | FileResult) -> None:
        """Check a parsed file against the index (and the files before it), then queue it for embedding."""
        if isinstance(outcome, FileResult):
            self.report.files.append(outcome)
            return
        sha, doc = outcome
        queued = next((p for _, p in self.batch if p.path.name == path.name and p.sha256 == sha), None)
        if queued is not None:  # the same file earlier in this run, not yet staged
            m = queued.doc.meta
            self.report.files.append(FileResult(str(path), "unchanged", document_of(m), len(queued.doc.chunks),
                                                language=m.language))
            return
        same = self.writer.find_by_source(path.name, sha)
        if same is not None:
            m = self.writer.docs[same]
            self.report.files.append(FileResult(str(path), "unchanged", document_of(m),
                                                self.writer.chunk_count(same), language=m.language))
            return
        if doc is None:  # unchanged at the start, but replaced since by a file of this run: parse it after all
            outcome = self._read(path, always=True)
            if isinstance(outcome, FileResult):
                self.report.files.append(outcome)
                return
            sha, doc = outcome
            assert doc is not None
        if any(p.doc.meta.doc_id == doc.meta.doc_id for _, p in self.batch):
            self._flush()  # the earlier file must be staged before this one is checked against it
        # Another language of an indexed document adds a version. The same document and language from another
        # file: within this run the newer file (modification time) is kept and the other skipped, saying so;
        # against the index it is a replacement, made only with `replace`.
        key = _same_version(self.writer, doc.meta)
        old = self.writer.docs.get(key) if key else None
        note = ""
        document = document_of(doc.meta)
        if old is not None and key in self.staged and old.path != str(path.resolve()):
            label = f"{document} ({language_label(doc.meta.language)})"
            earlier = self.report.files[self.staged[key]]
            if _mtime(str(path)) < _mtime(old.path):
                self.report.files.append(FileResult(str(path), "skipped", document, language=doc.meta.language,
                    reason=f"{label} is also in {Path(earlier.path).name}, which is newer: kept that one"))
                return
            earlier.status, earlier.chunks, earlier.note = "skipped", 0, ""
            earlier.reason = f"{label} is also in {path.name}, which is newer: kept that one"
            note = f"newer than {Path(earlier.path).name} (same symbol and language), which was skipped"
            self.writer.remove(key)
            old = None
        if old is not None and old.path != str(path.resolve()) and not self.replace:
            where = Path(old.path).name if old.path else old.source
            self.report.files.append(FileResult(
                str(path), "failed", reason=f"{document} is already indexed (from {where}); replacing it is "
                "explicit: rag ingest --replace, or tick 'Replace' in the Documents tab"))
            return
        self.report.files.append(FileResult(str(path), "pending", document, len(doc.chunks), language=doc.meta.language))
        self.staged[doc.meta.doc_id] = len(self.report.files) - 1
        drop = key if key and key != doc.meta.doc_id and old is not None else None
        self.batch.append((len(self.report.files) - 1, _Parsed(path, sha, doc, note=note, drop=drop)))
        if sum(len(p.doc.chunks) for _, p in self.batch) >= EMBED_BATCH_CHUNKS:
            self._flush()

    def _flush(self) -> None:
        """Embed the queued files' chunks in one call and stage each document (each alone if the call fails)."""
        if not self.batch:
            return
        texts = [c.embed_text() for _, p in self.batch for c in p.doc.chunks]
        try:
            vectors = self.embedder.embed_passages(texts)
            at = 0
            for _, p in self.batch:
                p.vectors = vectors[at : at + len(p.doc.chunks)]
                at += len(p.doc.chunks)
        except (ValueError, RuntimeError):  # one bad text fails its own file, not the whole batch
            for _, p in self.batch:
                p.vectors = self._embed_one(p)
        for pos, p in self.batch:
            self.report.files[pos] = self._stage(p)
        self.batch = []

    def _embed_one(self, p: _Parsed) -> np.ndarray | None:
        try:
            return self.embedder.embed_passages([c.embed_text() for c in p.doc.chunks])
        except (ValueError, RuntimeError):
            return None

    def _stage(self, p: _Parsed) -> FileResult:
        doc = p.doc
        if p.vectors is None:
            return FileResult(str(p.path), "failed", reason="the embedding model could not encode its passages")
        doc.meta.path = str(p.path.resolve())
        status = "updated" if doc.meta.doc_id in self.writer.docs or (p.drop and p.drop in self.writer.docs) else "added"
        if p.drop and p.drop in self.writer.docs:  # a legacy key of the same version: replaced under the new key
            self.writer.remove(p.drop)
        # The same file ingested before under another id (its sidecar changed the symbol or language) is replaced.
        for old_id in [d for d, m in self.writer.docs.items() if m.path == doc.meta.path and d != doc.meta.doc_id]:
            self.writer.remove(old_id)
        self.writer.add(doc.meta, doc.text, doc.chunks, p.vectors)
        self.passages += len(doc.chunks)
        return FileResult(str(p.path), status, document_of(doc.meta), len(doc.chunks), language=doc.meta.language,
                          note=p.note)

    def _status(self, current: Path | None) -> None:
        if self.progress:
            self.progress(IngestStatus(self.done, len(self.files), str(current) if current else "", self.passages,
                                       time.perf_counter() - self.t0, self.bytes_done, self.bytes_total))


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def remove_versions(index_dir: str | Path, doc: str, lang: str | None = None) -> tuple[str, list[DocMeta]]:
    """Remove a document's versions (all, or the one in `lang`) as one new index version.

    Args:
        index_dir: the index directory, or SCHEME:LOCATION of another store.
        doc: symbol, document id, version key or file name.
        lang: only this language's version.
    Returns:
        What was removed (the document, or `DOCUMENT (language)` when other versions stay) and their metadata.
    Raises:
        RagError: no such document, or no version in `lang`.
    """
    # The store's own model and chunker version: removing needs no re-chunking, so an older index stays usable.
    with open_writer(index_dir) as writer:
        docs = dict(writer.docs)
        keys = resolve_versions(docs, doc, lang)
        metas = [docs[k] for k in keys]
        document = document_of(metas[0])
        for k in keys:
            writer.remove(k)
        writer.commit()
    left = len(group_versions(docs).get(document, {})) - len(keys)
    label = document if left <= 0 else f"{document} ({', '.join(m.language or 'und' for m in metas)})"
    return label, metas


def remove_document(index_dir: str | Path, doc: str, lang: str | None = None) -> tuple[str, DocMeta]:
    """Remove one document (by symbol, id or file name; every language version unless `lang`) as a new index
    version; returns what was removed (see `remove_versions`) and the first removed version's metadata."""
    label, metas = remove_versions(index_dir, doc, lang)
    return label, metas[0]


def compact_store(index_dir: str | Path) -> tuple[str | None, dict[str, int]]:
    """Rewrite the store's live documents without the rows of removed or replaced ones (`rag compact`).

    Args:
        index_dir: the index directory, or SCHEME:LOCATION of another store.
    Returns:
        The new version (None when the store had nothing to compact) and its counts.
    """
    with open_writer(index_dir) as writer:
        writer.compact()
        version = writer.commit()
    store = open_store(index_dir)
    return version, dict(store.manifest.get("counts", {}))
