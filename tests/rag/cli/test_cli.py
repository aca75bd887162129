"""The `rag` command line: ask --json fields, --batch, docs, show, remove, and clear errors (fake embedder)."""
from __future__ import annotations

import json
import shutil

import pytest

from rag.cli import main

MINSK = "明斯克将举行什么会议？"
ANSWER_FIELDS = {"id", "question", "answer", "refused", "citations", "retrieved", "timings"}


@pytest.fixture()
def index(fake_index_dir, tmp_path, monkeypatch) -> str:
    monkeypatch.setenv("RAG_REFUSE_BELOW", "0")  # the fake embedder's cosines are not calibrated
    monkeypatch.setenv("RAG_REFUSE_BELOW_CROSS", "0")
    monkeypatch.setenv("RAG_LLM", "extractive")
    copy = tmp_path / "index"
    shutil.copytree(fake_index_dir, copy)
    return str(copy)


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def test_ask_json_has_the_contract_fields(index, capsys) -> None:
    rc, out, _ = _run(capsys, "ask", MINSK, "--json", "--k", "4", "--index", index, "--model", "fake")
    assert rc == 0
    a = json.loads(out)
    assert ANSWER_FIELDS <= set(a) and a["question"] == MINSK and a["refused"] is False
    assert set(a["timings"]) == {"retrieve_ms", "generate_ms"}
    assert [r["rank"] for r in a["retrieved"]] == [1, 2, 3, 4]
    assert set(a["retrieved"][0]) == {"rank", "doc", "symbol", "locator", "speaker", "text", "score", "parts",
                                      "language", "versions"}
    assert a["citations"] and {"n", "doc", "symbol", "locator", "speaker", "text", "score", "passage"} <= set(a["citations"][0])
    by_rank = {r["rank"]: r for r in a["retrieved"]}
    for c in a["citations"]:  # [n] is a part of the retrieved passage `passage`, cited to its own locator
        p = by_rank[c["passage"]]
        parts = p["parts"] or [{"locator": p["locator"], "speaker": p["speaker"], "text": p["text"]}]
        assert c["symbol"] == p["symbol"] and {"locator": c["locator"], "speaker": c["speaker"], "text": c["text"]} in parts
        assert c["text"] in p["text"] and f"[{c['n']}]" in a["answer"]


def test_ask_filters_by_document_and_speaker(index, capsys) -> None:
    _, out, _ = _run(capsys, "ask", MINSK, "--json", "--index", index, "--model", "fake", "--doc", "EUR/44A25/1")
    assert {r["symbol"] for r in json.loads(out)["retrieved"]} == {"EUR/44A25/1"}
    _, out, _ = _run(capsys, "ask", MINSK, "--json", "--index", index, "--model", "fake", "--speaker", "白俄罗斯")
    assert {r["speaker"] for r in json.loads(out)["retrieved"]} == {"安布拉舍维奇先生"}


def test_ask_filters_by_document_date_range(index, capsys) -> None:
    _, out, _ = _run(capsys, "ask", MINSK, "--json", "--index", index, "--model", "fake", "--from", "2022",
                     "--to", "2022-12")
    assert {r["symbol"] for r in json.loads(out)["retrieved"]} == {"EUR/44A25/1"}  # dated 2022-09


def test_ask_batch_one_answer_per_line_and_errors_by_line(index, tmp_path, capsys) -> None:
    batch = tmp_path / "q.jsonl"
    batch.write_text(
        json.dumps({"id": "a", "question": MINSK}, ensure_ascii=False) + "\n"
        + "\n"
        + '{"id": "b"}\n'
        + json.dumps({"id": 7, "question": "What will be held in Minsk?"}) + "\n",
        encoding="utf-8",
    )
    rc, out, err = _run(capsys, "ask", "--batch", str(batch), "--json", "--index", index, "--model", "fake")
    lines = [json.loads(line) for line in out.splitlines()]
    assert rc == 1  # one bad line
    assert [(x.get("id"), "error" in x) for x in lines] == [("a", False), (None, True), (7, False)]
    assert lines[1] == {"id": None, "line": 3, "error": 'each line must be an object with "question"'}
    assert f"{batch} line 3" in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["ask", "  "], "error: the question is empty"),
        (["ask", MINSK, "--k", "0"], "error: --k must be at least 1, got 0"),
        (["ask", MINSK, "--doc", "A/RES/1"], "error: unknown document 'A/RES/1'"),
        (["remove", "nothing.txt"], "error: unknown document 'nothing.txt'"),
        (["ask"], "error: give a question"),
        (["ask", MINSK, "--from", "May 2023"], "error: --from 'May 2023' is not a date: use YYYY, YYYY-MM or YYYY-MM-DD"),
    ],
)
def test_bad_input_is_one_clear_line(index, capsys, argv: list[str], message: str) -> None:
    rc, out, err = _run(capsys, *argv, "--index", index, "--model", "fake")
    assert rc == 2 and out == "" and err.startswith(message) and "Traceback" not in err


def test_unknown_llm_is_rejected_with_the_choices(index, capsys) -> None:
    rc, out, err = _run(capsys, "ask", MINSK, "--llm", "gpt4", "--index", index, "--model", "fake")
    assert (rc, out) == (2, "")
    assert err == "error: unknown generator 'gpt4'; choose one of: local, openai, extractive\n"


def test_missing_index_says_how_to_build_one(tmp_path, capsys) -> None:
    rc, _, err = _run(capsys, "ask", MINSK, "--index", str(tmp_path / "none"), "--model", "fake")
    assert rc == 2 and "no index at" in err and "rag ingest" in err


def test_docs_show_and_remove(index, capsys) -> None:
    _, out, _ = _run(capsys, "docs", "--json", "--index", index)
    docs = json.loads(out)
    assert [(d["symbol"], d["chunks"]) for d in docs] == [("CCW/GGE.1/2023/2", 53), ("EUR/44A25/1", 41), ("CD/PV.1505", 93)]
    _, out, _ = _run(capsys, "show", "CCW/GGE.1/2023/2", "--locator", "¶21(a)", "--index", index)
    assert out == ("# CCW/GGE.1/2023/2 — 致命性自主武器系统领域新兴技术问题政府专家组 2023 年会议报告 (2023-05-19)\n\n"
                   "¶21(a)\n(a) 国际人道法继续充分适用于致命性自主武器系统的潜在开发和使用；\n\n")
    rc, out, _ = _run(capsys, "remove", "EUR/44A25/1", "--index", index)
    assert rc == 0 and out == "removed EUR/44A25/1\n"
    _, out, _ = _run(capsys, "docs", "--json", "--index", index)
    assert [d["symbol"] for d in json.loads(out)] == ["CCW/GGE.1/2023/2", "CD/PV.1505"]


def test_rag_ui_parses_its_options_without_importing_gradio() -> None:
    import subprocess
    import sys

    import ui.app
    from rag.cli import build_parser
    from rag.cli import ui as ui_cmd

    args = build_parser().parse_args(["ui", "--index", "/tmp/x", "--port", "8123", "--llm", "extractive"])
    assert (args.command, args.port, args.host, args.index) == ("ui", 8123, "127.0.0.1", "/tmp/x")
    assert args.func is ui_cmd.run
    assert (ui_cmd.DEFAULT_HOST, ui_cmd.DEFAULT_PORT) == (ui.app.DEFAULT_HOST, ui.app.DEFAULT_PORT)
    # `rag ask` builds the same parser: it must not import gradio (seconds of start-up).
    out = subprocess.run([sys.executable, "-c", "import rag.cli, sys; rag.cli.build_parser(); print('gradio' in sys.modules)"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_compact_after_remove_drops_the_deleted_rows(index, capsys) -> None:
    _run(capsys, "remove", "EUR/44A25/1", "--index", index)
    rc, out, _ = _run(capsys, "compact", "--index", index)
    assert rc == 0 and out.endswith("2 documents, 146 chunks\n")
    from index.store import load_index

    manifest = load_index(index).manifest
    assert len(manifest["segments"]) == 1 and manifest["deleted_rows"] == 0 and manifest["segments"][0]["size"] == 146
