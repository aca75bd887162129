"""20 concurrent gradio_client sessions ask while an editor (logged in) uploads a document: no question fails, the
new document is indexed. The 60-second variant with the real
embedder is `python benchmarks/concurrency.py`; here 10 seconds with the fake one."""
from __future__ import annotations

import os
from pathlib import Path

from rag.users import UserStore
from tests.reliability.conftest import record_figures
from tests.reliability.load import run_load
from ui.access import Access

SESSIONS = int(os.environ.get("RAG_TEST_SESSIONS", "20"))
SECONDS = float(os.environ.get("RAG_TEST_SECONDS", "10"))


def test_concurrent_askers_never_fail_while_an_editor_ingests(seed_index: Path, tmp_path: Path, make_settings_rel,
                                                               app_runner) -> None:
    users = UserStore(tmp_path / "users.json")
    users.add("ed", "editor", "editor-pass-1")
    readers = [(f"reader{i}", f"reader-pass-{i}") for i in range(SESSIONS)]
    for name, password in readers:
        users.add(name, "reader", password)
    doc = tmp_path / "lunar.txt"
    doc.write_text("A/TEST/2026/7\n\n1. The first survey of lunar water ice will be conducted in March 2027.\n",
                   encoding="utf-8")
    with app_runner(make_settings_rel(seed_index), Access(users=users)) as (url, _ctx):
        result = run_load(url, SESSIONS, SECONDS, upload=doc, editor_auth=("ed", "editor-pass-1"),
                          reader_auths=readers)
    assert result.failures == []
    assert result.answered >= SESSIONS
    assert [(r["status"], r["doc"]) for r in result.editor["rows"]] == [("added", "A/TEST/2026/7")]
    record_figures(concurrency_test=result.summary() | {"embedder": "fake", "editor": "1 upload, added"})
