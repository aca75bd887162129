"""`rag ingest`: add files or folders to the index, or rebuild it."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rag import audit
from rag.cli.common import settings_from
from rag.errors import RagError
from rag.ingest.library import IngestStatus, Progress, ingest
from rag.models.embed import get_embedder


def register(sub, common: argparse.ArgumentParser, gen: argparse.ArgumentParser) -> None:
    sp = sub.add_parser("ingest", parents=[common], help="add files or folders to the index")
    sp.add_argument("paths", nargs="*", metavar="PATH")
    sp.add_argument("--rebuild", action="store_true", help="rebuild the whole index (from PATHs, else from the indexed files)")
    sp.add_argument("--max-mb", type=float, default=50.0, help="largest file accepted (MB)")
    sp.add_argument("--quiet", action="store_true", help="no progress bar")
    sp.add_argument("--replace", action="store_true",
                    help="a file whose symbol is already indexed from another file replaces that document")
    sp.add_argument("--device", metavar="DEV", help="embed on auto (default: a CUDA GPU when present), cpu, cuda or cuda:N")
    sp.add_argument("--precision", metavar="P",
                    help="embedding precision: auto (default: bf16 where the hardware has it), fp32 or bf16")
    sp.set_defaults(func=run)


def ingest_bar() -> Progress:
    """A tqdm bar on stderr over the bytes of the files (its ETA), with passages, passages/s and the current file."""
    from tqdm import tqdm

    bar = None

    def update(st: IngestStatus) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=st.bytes_total, desc="ingest", unit="B", unit_scale=True, file=sys.stderr,
                       disable=st.files_total == 0)
        bar.n = st.bytes_done
        name = Path(st.current).name[:40] if st.current else "saving the index"
        bar.set_postfix_str(f"{st.files_done}/{st.files_total} files, {st.passages} passages, "
                            f"{st.passages_per_s:.1f} passages/s, {name}")
        bar.refresh()
        if not st.current:
            bar.close()

    return update


def audit_report(index_dir: Path, user: str, action: str, report) -> None:
    """One audit line per file that changed the library or failed to."""
    for f in report.files:
        if f.status in ("added", "updated", "failed"):
            audit.record(index_dir, user, action, f.doc_id or Path(f.path).name,
                         f.status if f.status != "failed" else f"failed: {f.reason}", file=Path(f.path).name)
    if action == "rebuild" and report.version:
        audit.record(index_dir, user, "rebuild", "", f"version {report.version}")


def run(args: argparse.Namespace) -> int:
    s = settings_from(args)
    if not args.paths and not args.rebuild:
        raise RagError("give files or folders to ingest, or --rebuild to re-read the indexed documents")
    report = ingest(
        [Path(p) for p in args.paths], s.store_spec,
        get_embedder(s.embed_model, threads=s.threads, device=s.embed_device, precision=s.embed_precision),
        rebuild=args.rebuild, max_mb=args.max_mb, progress=None if args.quiet else ingest_bar(),
        replace=args.replace,
    )
    audit_report(s.index_dir, audit.cli_user(), "rebuild" if args.rebuild else "ingest", report)
    width = max((len(f.path) for f in report.files), default=10)
    for f in report.files:
        landed = f.doc_id and f.status not in ("failed", "skipped")
        detail = f"{f.doc_id} ({f.language}, {f.chunks} chunks)" if landed else f.reason
        detail += f"; {f.note}" if f.note else ""
        print(f"{f.status:9} {f.path:{width}}  {detail}")
    counts = ", ".join(f"{n} {k}" for k, n in sorted(report.counts().items()))
    print(f"index {s.store_spec}: {counts or 'nothing to do'}" + (f"; version {report.version}" if report.version else ""))
    for f in report.failed:
        print(f"error: {f.path}: {f.reason}", file=sys.stderr)
    return 1 if report.failed else 0
