"""`rag compact`: rewrite the index without the rows of removed or replaced documents, in as few segments as one."""
from __future__ import annotations

import argparse

from rag import audit
from rag.cli.common import settings_from
from rag.ingest.library import compact_store


def register(sub, common: argparse.ArgumentParser, gen: argparse.ArgumentParser) -> None:
    sp = sub.add_parser("compact", parents=[common],
                        help="merge the index's segments and drop deleted rows (readers keep working)")
    sp.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    s = settings_from(args)
    version, counts = compact_store(s.store_spec)
    audit.record(s.index_dir, audit.cli_user(), "compact", "", f"version {version}")
    print(f"index {s.store_spec}: compacted into version {version}; {counts.get('documents', 0)} documents, "
          f"{counts.get('chunks', 0)} chunks")
    return 0
