"""20 concurrent gradio_client sessions ask for 60 s while a logged-in editor uploads a document (issue 12).

Usage: python benchmarks/concurrency.py [--sessions 20] [--seconds 60] [--model fake]
Builds an index of seeds/*.txt with the chosen embedder (default: the real multilingual-e5-small), starts the app
with a users file (20 readers, one editor) and reports answers, failures and latency p50/p95.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import machine, machine_line, write_report  # noqa: E402
from rag.config import DEFAULT_EMBED_MODEL, Settings  # noqa: E402
from rag.ingest.library import ingest  # noqa: E402
from rag.models.embed import get_embedder  # noqa: E402
from rag.users import UserStore  # noqa: E402
from tests.reliability.load import run_load  # noqa: E402
from tests.ui.conftest import running_app  # noqa: E402
from ui.access import Access  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--model", default=DEFAULT_EMBED_MODEL)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="rag-concurrency-"))
    try:
        index = work / "index"
        report = ingest(sorted((ROOT / "seeds").glob("*.txt")), index, get_embedder(args.model))
        assert not report.failed, report.failed
        users = UserStore(work / "users.json")
        users.add("editor", "editor", "editor-pass-1")
        readers = [(f"reader{i}", f"reader-pass-{i}") for i in range(args.sessions)]
        for name, password in readers:
            users.add(name, "reader", password)
        doc = work / "lunar.txt"
        doc.write_text("A/TEST/2026/7\n\n1. The first survey of lunar water ice will be conducted in March 2027.\n",
                       encoding="utf-8")
        settings = Settings(index_dir=index, embed_model=args.model, llm="extractive")
        with running_app(settings, Access(users=users)) as (url, _ctx):
            result = run_load(url, args.sessions, args.seconds, upload=doc, editor_auth=("editor", "editor-pass-1"),
                              reader_auths=readers)
        data = {"machine": machine(), "model": args.model, **result.summary(), "failures": result.failures[:20]}
        md = (f"{args.sessions} sessions for {args.seconds:g} s, {args.model}, extractive, while an editor uploaded "
              f"a document: {result.answered} answered, {len(result.failures)} failed, latency p50 "
              f"{result.percentile(0.5):.0f} ms, p95 {result.percentile(0.95):.0f} ms; upload "
              f"{result.editor.get('ms', '?')} ms ({machine_line(data['machine'])})")
        write_report("concurrency", data, md)
        print(json.dumps(result.summary(), ensure_ascii=False))
        return 0 if not result.failures else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
