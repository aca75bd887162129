"""The Documents tab: list, upload (per-file progress and errors), remove, rebuild and read indexed documents."""
from __future__ import annotations

import hashlib
import logging
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from index.registry import open_store, store_version
from rag import audit
from rag.errors import RagError
from rag.ingest.library import IngestStatus, Progress, ingest, remove_versions
from rag.ingest.readers import SUPPORTED
from rag.ingest.versions import group_versions, resolve_versions
from ui.access import takes_request
from ui.context import AppContext
from ui.render import document_html, esc, ingest_report_html

if TYPE_CHECKING:
    import gradio as gr

    from index.base import ChunkStore as Index

log = logging.getLogger(__name__)
UPLOADS = "uploads"  # under the index directory, so `rebuild` can re-read uploaded files
SIDECAR = ".meta.json"
Row = tuple[str, str, str, int, str]  # file name, status, doc id, chunks, reason


def current_index(ctx: AppContext) -> "Index | None":
    """The index new questions see, or None when none has been built yet."""
    if store_version(ctx.settings.store_spec) is None:
        return None
    try:
        return ctx.pipeline.index
    except RagError:  # e.g. built with another embedding model: still list it, so it can be rebuilt
        return open_store(ctx.settings.store_spec)


def doc_rows(index: "Index | None") -> list[list[Any]]:
    """One row per document, its language versions listed together (`zh, en`), chunks summed over them."""
    if index is None:
        return []
    rows = []
    for document, versions in group_versions(index.docs).items():
        metas = [index.docs[k] for k in versions.values()]
        m = metas[0]
        rows.append([document, m.title or "", m.date or "", ", ".join(versions), m.kind or "",
                     sum(len(index.doc_rows(k)) for k in versions.values()), ", ".join(x.source or "" for x in metas)])
    return rows


DOC_HEADERS = ["Symbol", "Title", "Date", "Language", "Kind", "Chunks", "File"]


def doc_choices(index: "Index | None") -> list[tuple[str, str]]:
    """(label, doc id) pairs for dropdowns."""
    if index is None:
        return []
    out = []
    for document, versions in group_versions(index.docs).items():
        m = index.docs[next(iter(versions.values()))]
        title = (m.title or "")[:60]
        langs = f" [{', '.join(versions)}]" if len(versions) > 1 else ""
        out.append((f"{document} — {title}{langs}" if title else f"{document}{langs}", document))
    return out


def _sha(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def stage_uploads(paths: list[Path], uploads_dir: Path, max_mb: float) -> tuple[list[Path], list[Row]]:
    """Check type and size, then copy each file (with its `.meta.json` sidecar, if uploaded) to a kept folder."""
    sidecars = {p.name[: -len(SIDECAR)]: p for p in paths if p.name.endswith(SIDECAR)}
    staged: list[Path] = []
    problems: list[Row] = []
    for p in paths:
        if p.name.endswith(SIDECAR):
            if p.name[: -len(SIDECAR)] not in {q.name for q in paths}:
                problems.append((p.name, "failed", "", 0, f"a metadata sidecar needs its document ({p.name[:-len(SIDECAR)]}) in the same upload"))
            continue
        if p.suffix.lower() not in SUPPORTED:
            problems.append((p.name, "failed", "", 0, f"unsupported type {p.suffix or '(none)'!r}; supported: {', '.join(SUPPORTED)}"))
            continue
        size = p.stat().st_size
        if size > max_mb * 1024 * 1024:
            problems.append((p.name, "failed", "", 0, f"file is {size / 1048576:.1f} MB, over the {max_mb:g} MB limit"))
            continue
        if size == 0:
            problems.append((p.name, "failed", "", 0, "empty file"))
            continue
        dest_dir = uploads_dir / _sha(p)[:16]
        dest_dir.mkdir(parents=True, exist_ok=True)
        dest = dest_dir / p.name
        shutil.copyfile(p, dest)
        if p.name in sidecars:
            shutil.copyfile(sidecars[p.name], dest_dir / sidecars[p.name].name)
        staged.append(dest)
    return staged, problems


def _discard_failed(staged: Path, uploads_dir: Path) -> None:
    """Delete a staged upload that did not make it into the index (and its sidecar, and its folder if empty)."""
    staged = staged.resolve()
    if not staged.is_relative_to(uploads_dir.resolve()):
        return
    staged.unlink(missing_ok=True)
    staged.with_name(staged.name + SIDECAR).unlink(missing_ok=True)
    try:
        staged.parent.rmdir()
    except OSError:  # another file of the same content is still there (indexed under another name)
        pass


def add_files(ctx: AppContext, paths: list[Path], progress: Progress | None = None, user: str = "local",
              replace: bool = False) -> list[Row]:
    """Ingest uploaded files into the index; one row per file (failures never stop the others).

    Args:
        ctx: the app.
        paths: the uploaded files (with optional NAME.meta.json sidecars).
        progress: called with (done, total, current file).
        user: who uploads, for the audit log (the caller has checked the role).
        replace: the editor confirmed that a file may replace a document indexed under the same symbol.

    Returns:
        (file name, status, doc id, chunks, reason) per file; failed uploads are deleted from INDEX/uploads/.
    """
    if not paths:
        raise RagError("choose one or more files to add first")
    s = ctx.settings
    uploads = Path(s.index_dir) / UPLOADS
    staged, rows = stage_uploads(paths, uploads, s.max_file_mb)
    if staged:
        report = ingest(staged, s.store_spec, ctx.pipeline.embedder, max_mb=s.max_file_mb, progress=progress,
                        replace=replace)
        for f in report.files:
            if f.status in ("failed", "skipped"):  # not indexed (skipped: a newer file of the batch holds it)
                _discard_failed(Path(f.path), uploads)
        rows += [(Path(f.path).name, f.status, f.doc_id or "", f.chunks, f.reason or f.note) for f in report.files]
    for name, status, doc_id, _, reason in rows:
        if status != "unchanged":
            audit.record(s.index_dir, user, "upload", doc_id or name, status if status != "failed" else f"failed: {reason}",
                         file=name)
    return rows


def rebuild(ctx: AppContext, progress: Progress | None = None, user: str = "local") -> list[Row]:
    """Re-read every indexed document from where it came and rebuild the index."""
    s = ctx.settings
    report = ingest([], s.store_spec, ctx.pipeline.embedder, rebuild=True, max_mb=s.max_file_mb, progress=progress)
    audit.record(s.index_dir, user, "rebuild", "", f"version {report.version}", files=len(report.files),
                 failed=len(report.failed))
    return [(Path(f.path).name, f.status, f.doc_id or "", f.chunks, f.reason) for f in report.files]


def remove_doc(ctx: AppContext, doc: str, user: str = "local") -> str:
    """Remove a document (as `rag remove`), and its uploaded copy; returns the removed doc id."""
    if not doc or not isinstance(doc, str):
        raise RagError("choose a document to remove")
    root = Path(ctx.settings.index_dir)
    doc_id, metas = remove_versions(ctx.settings.store_spec, doc)
    audit.record(root, user, "remove", doc_id)
    uploads = (root / UPLOADS).resolve()
    for meta in metas:  # every removed language version's uploaded copy
        if meta.path and Path(meta.path).resolve().is_relative_to(uploads):
            shutil.rmtree(Path(meta.path).resolve().parent, ignore_errors=True)
    return doc_id


def read_doc(ctx: AppContext, doc: str | None) -> str:
    index = current_index(ctx)
    if index is None or not doc:
        return '<div class="empty">Choose a document to read its paragraphs with their locators.</div>'
    # Each language version in turn, under its own heading (the side-by-side view is in the chat's citations)
    return "".join(document_html(index.docs[k], index.doc_text(k), index.chunks(index.doc_rows(k)))
                   for k in resolve_versions(index.docs, doc))


# --- the tab ----------------------------------------------------------------------------------


def rows_json(rows: list[Row]) -> list[dict[str, Any]]:
    """The `upload` / `rebuild` API's answer: one object per file."""
    return [{"file": r[0], "status": r[1], "doc": r[2], "chunks": r[3], "reason": r[4]} for r in rows]


def build(ctx: AppContext, doc_filter: "gr.Dropdown") -> tuple[list[Any], Callable[..., tuple], list[Any]]:
    """Lay out the tab; `doc_filter` (the chat's multiselect of documents) follows index changes.

    Returns the components listing documents, a function giving their refreshed values (for the load event),
    and the management controls (shown to editors only, by the load event).
    """
    import gradio as gr

    mb = ctx.settings.max_file_mb
    summary = gr.Markdown()
    table = gr.Dataframe(headers=DOC_HEADERS, interactive=False, wrap=True, label="Indexed documents",
                         column_widths=["16%", "36%", "10%", "8%", "11%", "7%", "12%"])
    # Without a login the role is the same for everyone, so the controls are laid out (or not) once; with a
    # login they start hidden and the load event shows them to editors. The server checks the role anyway.
    static = not ctx.access.login
    with gr.Row(equal_height=False, visible=static and not ctx.access.read_only) as manage:
        with gr.Column(scale=3):
            files = gr.File(
                file_count="multiple", type="filepath", file_types=[*SUPPORTED, ".json"],
                label=f"Add documents ({' '.join(SUPPORTED)}; at most {mb:g} MB each; a NAME.meta.json sidecar may come with a file)",
                elem_id="upload-files",
            )
            replace = gr.Checkbox(False, label="Replace documents already indexed under the same symbol",
                                  elem_id="replace-existing")
            add_btn = gr.Button("Add to index", variant="primary", elem_id="add-docs")
        with gr.Column(scale=2):
            remove_pick = gr.Dropdown(label="Document to remove", choices=[], elem_id="remove-pick")
            remove_btn = gr.Button("Remove from index", variant="stop", elem_id="remove-doc")
            rebuild_btn = gr.Button("Rebuild index (re-read every document)", elem_id="rebuild")
    report = gr.HTML(elem_id="ingest-report")
    gr.Markdown("### Read a document")
    reader_pick = gr.Dropdown(label="Document", choices=[], elem_id="reader-pick")
    reader = gr.HTML(read_doc(ctx, None), elem_id="doc-reader")

    def refreshed(message: str = "", reader_value: str | None = None, filter_value: list[str] | None = None) -> tuple:
        """New values for `lists`; selections of documents no longer indexed are dropped."""
        index = current_index(ctx)
        choices = doc_choices(index)
        known = {v for _, v in choices}
        n_chunks = sum(r[5] for r in doc_rows(index))
        text = (f"**{len(choices)} documents, {n_chunks} passages** in `{ctx.settings.store_spec}`" if index is not None
                else "**No documents yet.** Add some below.")
        if message:
            text += f" — {message}"
        return (
            text, doc_rows(index), gr.Dropdown(choices=choices, value=None),
            gr.Dropdown(choices=choices, value=reader_value if reader_value in known else None),
            gr.Dropdown(choices=choices, value=[d for d in filter_value or [] if d in known]),
        )

    lists = [summary, table, remove_pick, reader_pick, doc_filter]
    current = [reader_pick, doc_filter]

    def progress_cb(progress: "gr.Progress") -> Progress:
        def update(st: IngestStatus) -> None:
            desc = (f"Reading {Path(st.current).name} ({st.passages} passages, {st.passages_per_s:.1f}/s)"
                    if st.current else "Saving the index")
            progress((st.files_done, st.files_total), desc=desc, unit="files")

        return update

    root = ctx.settings.index_dir

    def names(paths: list[str] | None) -> str:
        return ", ".join(Path(str(p)).name for p in paths or [])[:300]

    @takes_request
    def on_add(paths, rep, rv, fv, request, progress=gr.Progress()):
        try:
            user = ctx.access.require_editor(request, "upload", root, names(paths))
            rows = add_files(ctx, [Path(p) for p in paths or []], progress_cb(progress), user, bool(rep))
        except RagError as e:
            return (f'<div class="error">⚠ {esc(e)}</div>', None, *refreshed("", rv, fv))
        failed = sum(1 for r in rows if r[1] == "failed")
        msg = f"{len(rows) - failed} file(s) processed" + (f", {failed} failed" if failed else "")
        return (ingest_report_html(rows), None, *refreshed(msg, rv, fv))

    @takes_request
    def on_rebuild(rv, fv, request, progress=gr.Progress()):
        try:
            rows = rebuild(ctx, progress_cb(progress), ctx.access.require_editor(request, "rebuild", root))
        except RagError as e:
            return (f'<div class="error">⚠ {esc(e)}</div>', *refreshed("", rv, fv))
        return (ingest_report_html(rows), *refreshed("rebuilt", rv, fv))

    @takes_request
    def on_remove(doc, rv, fv, request):
        try:
            doc_id = remove_doc(ctx, doc or "", ctx.access.require_editor(request, "remove", root, str(doc or "")))
        except RagError as e:
            return (f'<div class="error">⚠ {esc(e)}</div>', *refreshed("", rv, fv))
        return (f'<div class="ok">Removed {esc(doc_id)}.</div>', *refreshed(f"removed {esc(doc_id)}", rv, fv))

    # The scripting API (stable names; the same server-side role check as the buttons).
    @takes_request
    def api_upload(paths, rep, request):
        try:
            user = ctx.access.require_editor(request, "upload", root, names(paths))
            return rows_json(add_files(ctx, [Path(str(p)) for p in paths or []], None, user, bool(rep)))
        except RagError as e:
            raise gr.Error(str(e), print_exception=False) from None

    @takes_request
    def api_remove(doc, request):
        try:
            doc_id = remove_doc(ctx, doc or "", ctx.access.require_editor(request, "remove", root, str(doc or "")))
        except RagError as e:
            raise gr.Error(str(e), print_exception=False) from None
        return {"removed": doc_id}

    @takes_request
    def api_rebuild(request):
        try:
            return rows_json(rebuild(ctx, None, ctx.access.require_editor(request, "rebuild", root)))
        except RagError as e:
            raise gr.Error(str(e), print_exception=False) from None

    def on_read(doc: str | None) -> str:
        try:
            return read_doc(ctx, doc)
        except RagError as e:
            return f'<div class="error">⚠ {esc(e)}</div>'

    private: dict[str, Any] = {"api_visibility": "private", "concurrency_id": "index-write", "concurrency_limit": 1}
    add_btn.click(on_add, [files, replace, *current], [report, files, *lists], **private)
    rebuild_btn.click(on_rebuild, current, [report, *lists], **private)
    remove_btn.click(on_remove, [remove_pick, *current], [report, *lists], **private)
    reader_pick.change(on_read, [reader_pick], [reader], api_visibility="private")
    with gr.Row(visible=False):  # inputs and outputs of the API endpoints only
        api_files = gr.File(file_count="multiple", type="filepath")
        api_replace = gr.Checkbox(False)
        api_doc = gr.Textbox()
        api_out = gr.JSON()
        api_btn = gr.Button()
    write = {"concurrency_id": "index-write", "concurrency_limit": 1}
    api_btn.click(api_upload, [api_files, api_replace], [api_out], api_name="upload", **write)
    api_btn.click(api_remove, [api_doc], [api_out], api_name="remove", **write)
    api_btn.click(api_rebuild, None, [api_out], api_name="rebuild", **write)
    return lists, refreshed, [manage]
