"""Ingest files into the index: parse, chunk, embed, and commit a new index version atomically."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from index.base import StoreWriter
from index.registry import open_store, open_writer
from rag.errors import IngestError, RagError
from rag.ingest.chunk import CHUNKER_VERSION
from rag.ingest.metadata import SIDECAR_SUFFIX
from rag.ingest.parse import file_sha256
from rag.ingest.readers import DEFAULT_MAX_MB, SUPPORTED, check_file
from rag.ingest.sandbox import parse_isolated
from rag.models.embed import Embedder
from rag.types import DocMeta


@dataclass
class FileResult:
    path: str
    status: str  # "added", "updated", "unchanged", "failed", "skipped"
    doc_id: str | None = None
    chunks: int = 0
    reason: str = ""


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


def ingest(
    paths: Sequence[str | Path],
    index_dir: str | Path,
    embedder: Embedder,
    rebuild: bool = False,
    max_mb: float = DEFAULT_MAX_MB,
    progress: Callable[[int, int, str], None] | None = None,
    replace: bool = False,
) -> IngestReport:
    """Add files (or folders) to the index at `index_dir`. Failed files leave the index as it was for them.

    Args:
        paths: files or folders (read recursively).
        index_dir: the index directory.
        embedder: the index's embedding model.
        rebuild: start from an empty index (re-reading the indexed files when `paths` is empty).
        max_mb: largest file accepted, checked before a byte is read.
        progress: called with (done, total, current file).
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
        for i, path in enumerate(files):
            if progress:
                progress(i, len(files), str(path))
            report.files.append(_ingest_one(path, writer, embedder, max_mb, replace))
        if progress:
            progress(len(files), len(files), "")
        report.version = writer.commit()
    return report


def _ingest_one(path: Path, writer: StoreWriter, embedder: Embedder, max_mb: float, replace: bool = False) -> FileResult:
    try:
        check_file(path, max_mb)  # size and type before a byte is read (a 3 GB file was hashed in full first)
        sha = file_sha256(path)
        same = writer.find_by_source(path.name, sha)
        if same is not None:
            return FileResult(str(path), "unchanged", same, writer.chunk_count(same))
        # Parsed in a child process with memory and time limits: a hostile file fails alone.
        doc = parse_isolated(path, max_mb=max_mb)
        old = writer.docs.get(doc.meta.doc_id)
        if old is not None and old.path != str(path.resolve()) and not replace:
            where = Path(old.path).name if old.path else old.source
            raise RagError(f"{doc.meta.doc_id} is already indexed (from {where}); replacing it is explicit: "
                           "rag ingest --replace, or tick 'Replace' in the Documents tab")
        vectors = embedder.embed_passages([c.embed_text() for c in doc.chunks])
    except IngestError as e:
        return FileResult(str(path), "failed", reason=e.reason)
    except RagError as e:
        return FileResult(str(path), "failed", reason=str(e))
    except (OSError, ValueError, UnicodeError) as e:
        return FileResult(str(path), "failed", reason=f"{type(e).__name__}: {e}")
    doc.meta.path = str(path.resolve())
    status = "updated" if doc.meta.doc_id in writer.docs else "added"
    # The same file ingested before under another id (its sidecar changed the symbol) is replaced.
    for old_id in [d for d, m in writer.docs.items() if m.path == doc.meta.path and d != doc.meta.doc_id]:
        writer.remove(old_id)
    writer.add(doc.meta, doc.text, doc.chunks, vectors)
    return FileResult(str(path), status, doc.meta.doc_id, len(doc.chunks))


def remove_document(index_dir: str | Path, doc: str) -> tuple[str, DocMeta]:
    """Remove one document (by symbol, id or file name) as a new index version; returns its id and metadata."""
    # The store's own model and chunker version: removing needs no re-chunking, so an older index stays usable.
    with open_writer(index_dir) as writer:
        doc_id = writer.resolve_doc(doc)
        meta = writer.docs[doc_id]
        writer.remove(doc_id)
        writer.commit()
    return doc_id, meta


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
