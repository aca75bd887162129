"""Ingest files into the index: parse, chunk, embed, and commit a new index version atomically."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from index.store import IndexWriter, load_index, write_lock
from rag.errors import IngestError, RagError
from rag.ingest.chunk import CHUNKER_VERSION
from rag.ingest.metadata import SIDECAR_SUFFIX
from rag.ingest.parse import file_sha256
from rag.ingest.readers import DEFAULT_MAX_MB, SUPPORTED, check_file
from rag.ingest.sandbox import parse_isolated
from rag.ingest.versions import alignment_note, document_of, group_versions, language_label, resolve_versions
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
    index_dir, paths = Path(index_dir), [Path(p) for p in paths]
    with write_lock(index_dir):
        writer = IndexWriter(index_dir, embedder.name, embedder.dim, CHUNKER_VERSION, rebuild=rebuild)
        if rebuild and not paths:
            if not writer.previous_paths:
                raise RagError(f"nothing to rebuild at {index_dir}: give the files or folders to ingest")
            paths = [Path(p) for p in writer.previous_paths]  # re-read every document from where it came
        files, problems = collect_files(paths)
        report.files.extend(problems)
        batch: dict[str, FileResult] = {}  # version key -> the file of this batch that holds it
        for i, path in enumerate(files):
            if progress:
                progress(i, len(files), str(path))
            report.files.append(_ingest_one(path, writer, embedder, max_mb, replace, batch))
        if progress:
            progress(len(files), len(files), "")
        _note_alignments(writer, report)
        report.version = writer.commit()
    return report


def _mtime(path: str | None) -> float:
    try:
        return Path(path).stat().st_mtime if path else 0.0
    except OSError:
        return 0.0


def _note_alignments(writer: IndexWriter, report: IngestReport) -> None:
    """Say, on each file that added a language version, how its document's versions align (flagged paragraphs)."""
    groups = group_versions({k: e.meta for k, e in writer.docs.items()})
    for f in report.files:
        if f.status not in ("added", "updated") or not f.doc_id or len(groups.get(f.doc_id, {})) < 2:
            continue
        versions = {lg: (writer.docs[k].chunks, writer.docs[k].embeddings, writer.docs[k].text)
                    for lg, k in groups[f.doc_id].items()}
        note = alignment_note(f.doc_id, versions)
        f.note = f"{f.note}; {note}" if f.note else note


def _same_version(writer: IndexWriter, meta: DocMeta) -> str | None:
    """The key of an indexed version of the same document in the same language (a legacy key may differ)."""
    if meta.doc_id in writer.docs:
        return meta.doc_id
    doc, lang = document_of(meta), (meta.language or "").lower()
    return next((k for k, e in writer.docs.items() if document_of(e.meta) == doc
                 and (e.meta.language or "").lower() == lang), None)


def _ingest_one(path: Path, writer: IndexWriter, embedder: Embedder, max_mb: float, replace: bool = False,
                batch: dict[str, FileResult] | None = None) -> FileResult:
    """Ingest one file. Another language of an indexed document adds a version. The same document and language
    from another file: within one batch the newer file (modification time) is kept and the other skipped, saying
    so; against the index it is a replacement, made only with `replace`."""
    batch = {} if batch is None else batch
    note = ""
    try:
        check_file(path, max_mb)  # size and type before a byte is read (a 3 GB file was hashed in full first)
        sha = file_sha256(path)
        same = writer.find_by_source(path.name, sha)
        if same is not None:
            m = writer.docs[same].meta
            return FileResult(str(path), "unchanged", document_of(m), len(writer.docs[same].chunks), language=m.language)
        # Parsed in a child process with memory and time limits: a hostile file fails alone.
        doc = parse_isolated(path, max_mb=max_mb)
        key = _same_version(writer, doc.meta)
        old = writer.docs.get(key) if key else None
        label = f"{document_of(doc.meta)} ({language_label(doc.meta.language)})"
        if old is not None and key in batch and old.meta.path != str(path.resolve()):
            earlier = batch[key]
            if _mtime(str(path)) < _mtime(old.meta.path):
                return FileResult(str(path), "skipped", document_of(doc.meta), language=doc.meta.language,
                                  reason=f"{label} is also in {Path(earlier.path).name}, which is newer: kept that one")
            earlier.status, earlier.chunks = "skipped", 0
            earlier.reason = f"{label} is also in {path.name}, which is newer: kept that one"
            note = f"newer than {Path(earlier.path).name} (same symbol and language), which was skipped"
            writer.remove(key)
            old = None
        if old is not None and old.meta.path != str(path.resolve()) and not replace:
            where = Path(old.meta.path).name if old.meta.path else old.meta.source
            raise RagError(f"{document_of(doc.meta)} is already indexed (from {where}); replacing it is explicit: "
                           "rag ingest --replace, or tick 'Replace' in the Documents tab")
        if key and key != doc.meta.doc_id and old is not None:
            writer.remove(key)  # a legacy key of the same version: replaced under the new key
        vectors = embedder.embed_passages([c.embed_text() for c in doc.chunks])
    except IngestError as e:
        return FileResult(str(path), "failed", reason=e.reason)
    except RagError as e:
        return FileResult(str(path), "failed", reason=str(e))
    except (OSError, ValueError, UnicodeError) as e:
        return FileResult(str(path), "failed", reason=f"{type(e).__name__}: {e}")
    doc.meta.path = str(path.resolve())
    status = "updated" if doc.meta.doc_id in writer.docs or (key and old is not None) else "added"
    # The same file ingested before under another id (its sidecar changed the symbol or language) is replaced.
    for old_id in [d for d, e in writer.docs.items() if e.meta.path == doc.meta.path and d != doc.meta.doc_id]:
        writer.remove(old_id)
    writer.add(doc.meta, doc.text, doc.chunks, vectors)
    result = FileResult(str(path), status, document_of(doc.meta), len(doc.chunks), language=doc.meta.language,
                        note=note)
    batch[doc.meta.doc_id] = result
    return result


def remove_versions(index_dir: str | Path, doc: str, lang: str | None = None) -> tuple[str, list[DocMeta]]:
    """Remove a document's versions (all, or the one in `lang`) as one new index version.

    Args:
        index_dir: the index directory.
        doc: symbol, document id, version key or file name.
        lang: only this language's version.
    Returns:
        What was removed (the document, or `DOCUMENT (language)` when other versions stay) and their metadata.
    Raises:
        RagError: no such document, or no version in `lang`.
    """
    index_dir = Path(index_dir)
    with write_lock(index_dir):
        index = load_index(index_dir)
        keys = resolve_versions(index.docs, doc, lang)
        metas = [index.docs[k] for k in keys]
        document = document_of(metas[0])
        # The index's own chunker version: removing needs no re-chunking, so an older index stays usable.
        writer = IndexWriter(index_dir, index.model, int(index.manifest["dim"]), str(index.manifest["chunker_version"]))
        for k in keys:
            writer.remove(k)
        writer.commit()
    left = len(group_versions(index.docs).get(document, {})) - len(keys)
    label = document if left <= 0 else f"{document} ({', '.join(m.language or 'und' for m in metas)})"
    return label, metas


def remove_document(index_dir: str | Path, doc: str, lang: str | None = None) -> tuple[str, DocMeta]:
    """Remove one document (by symbol, id or file name; every language version unless `lang`) as a new index
    version; returns what was removed (see `remove_versions`) and the first removed version's metadata."""
    label, metas = remove_versions(index_dir, doc, lang)
    return label, metas[0]
