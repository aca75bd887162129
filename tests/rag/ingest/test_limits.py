"""Bounded inputs: every failure measured in issue 12 (zip bombs, a 3 GB file, huge sidecars, a malformed DOCX in a
batch, invalid Unicode and punctuation-only questions, HTML in a briefing) gets one line and the rest goes on."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from rag.answer.pipeline import Pipeline
from rag.config import RetrievalSettings, Settings
from rag.errors import RagError
from rag.ingest import sandbox
from rag.ingest.library import ingest
from rag.sanitize import clean_question, clean_text, md_escape
from tests.fixtures import make_docx

ROOT = Path(__file__).resolve().parents[3]
DOC = "A/TEST/{n}\n\n1. The Working Group on item {n} met in Geneva and agreed on lunar water survey number {n}.\n"
W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
CONTENT_TYPES = ('<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                 '<Default Extension="xml" ContentType="application/xml"/></Types>')


def text_doc(folder: Path, n: int) -> Path:
    p = folder / f"good{n}.txt"
    p.write_text(DOC.format(n=n), encoding="utf-8")
    return p


def docx_with_xml(path: Path, xml_chunks, name: str = "word/document.xml") -> Path:
    """A zip named .docx whose document part is streamed from `xml_chunks` (bytes), compressed."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        with z.open(name, "w") as f:
            for chunk in xml_chunks:
                f.write(chunk)
    return path


def test_docx_zip_bomb_is_refused_from_its_declared_size_in_under_a_second(tmp_path: Path, fake_embedder) -> None:
    para = f"<w:p><w:r><w:t>{'x' * 200}</w:t></w:r></w:p>".encode()
    bomb = docx_with_xml(tmp_path / "bomb.docx", (para * 5000 for _ in range(80)))  # 89 MB of XML
    assert bomb.stat().st_size < 1_000_000
    t = time.perf_counter()
    report = ingest([bomb, text_doc(tmp_path, 1)], tmp_path / "idx", fake_embedder)
    assert time.perf_counter() - t < 20
    assert [(Path(f.path).name, f.status) for f in report.files] == [("bomb.docx", "failed"), ("good1.txt", "added")]
    assert report.files[0].reason == "DOCX decompresses to 89 MB of XML; the limit is 64 MB"


def test_a_malformed_docx_fails_alone_and_the_rest_of_the_batch_lands(tmp_path: Path, fake_embedder) -> None:
    bad = docx_with_xml(tmp_path / "broken.docx", [f"<w:document {W}><w:body><w:p>".encode()])
    good_docx = make_docx(tmp_path / "fine.docx", ["A/TEST/9", "1. A real paragraph about lunar water ice surveys."])
    report = ingest([bad, text_doc(tmp_path, 1), good_docx], tmp_path / "idx", fake_embedder)
    assert [f.status for f in report.files] == ["failed", "added", "added"] and report.version
    assert report.files[0].reason.startswith("unreadable") and "\n" not in report.files[0].reason


def test_a_parser_running_out_of_memory_or_time_fails_alone_and_the_worker_restarts(tmp_path: Path, fake_embedder,
                                                                                    monkeypatch) -> None:
    big = tmp_path / "tags.html"
    big.write_bytes(b"<html><body>" + b"<p>a</p>" * 1_000_000 + b"</body></html>")  # 8 MB, a million tags
    monkeypatch.setattr(sandbox, "_WORKER", sandbox.ParseWorker(memory_mb=300, timeout_s=60))
    report = ingest([big, text_doc(tmp_path, 1)], tmp_path / "idx", fake_embedder)
    assert [f.status for f in report.files] == ["failed", "added"]
    assert "memory" in report.files[0].reason or "crashed" in report.files[0].reason
    monkeypatch.setattr(sandbox, "_WORKER", sandbox.ParseWorker(timeout_s=1))
    report = ingest([big, text_doc(tmp_path, 2)], tmp_path / "idx", fake_embedder)
    assert [(f.status, f.reason) for f in report.files] == [("failed", "parsing took longer than the 1 s limit"),
                                                            ("added", "")]
    sandbox._WORKER.close()


def test_a_3_gb_sparse_file_is_refused_before_a_byte_is_read(tmp_path: Path, fake_embedder, monkeypatch) -> None:
    huge = tmp_path / "huge.txt"
    with open(huge, "wb") as f:
        f.truncate(3 * 1024**3)
    monkeypatch.setattr("rag.ingest.library.file_sha256", lambda p: pytest.fail("hashed before the size check"))
    t = time.perf_counter()
    report = ingest([huge], tmp_path / "idx", fake_embedder)
    assert time.perf_counter() - t < 5
    assert report.files[0].reason == "file is 3072.0 MB, over the 50 MB limit"


@pytest.mark.parametrize("sidecar, reason", [
    ({"title": "T" * 5_000}, "field title is 5,000 characters long; the limit is 1000"),
    ({"symbol": "A/" + "1" * 200}, "field symbol is 202 characters long; the limit is 100"),
    ({"title": "line\nbreak"}, "field title holds control characters (line breaks, NUL); give one line of text"),
    ({"title": "T" * 70_000}, "metadata sidecar is 70,013 bytes; the limit is 65,536"),
])
def test_sidecar_fields_are_bounded(tmp_path: Path, fake_embedder, sidecar: dict, reason: str) -> None:
    doc = text_doc(tmp_path, 1)
    (tmp_path / "good1.txt.meta.json").write_text(json.dumps(sidecar), encoding="utf-8")
    report = ingest([doc], tmp_path / "idx", fake_embedder)
    assert report.files[0].status == "failed" and report.files[0].reason == reason


def test_an_existing_symbol_is_replaced_only_with_replace(tmp_path: Path, fake_embedder) -> None:
    idx = tmp_path / "idx"
    first = text_doc(tmp_path, 1)
    ingest([first], idx, fake_embedder)
    other = tmp_path / "other"
    other.mkdir()
    claim = other / "claim.txt"
    claim.write_text("1. Not the real document.\n", encoding="utf-8")
    (other / "claim.txt.meta.json").write_text('{"symbol": "A/TEST/1"}', encoding="utf-8")
    report = ingest([claim], idx, fake_embedder)
    assert report.files[0].status == "failed" and report.version is None
    assert report.files[0].reason == ("A/TEST/1 is already indexed (from good1.txt); replacing it is explicit: "
                                      "rag ingest --replace, or tick 'Replace' in the Documents tab")
    assert ingest([claim], idx, fake_embedder, replace=True).files[0].status == "updated"
    first.write_text(DOC.format(n=1) + "\n2. A new paragraph in the same file.\n", encoding="utf-8")
    assert ingest([first], idx, fake_embedder, replace=True).files[0].status == "updated"


# --- questions --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw, clean", [
    ("\udcff 人工智能", "人工智能"),  # an undecodable argv byte, surrogate-escaped by Python
    ("\ud800人工\x00智能\x1b[31m", "人工智能[31m"),
    ("a\u202eb\tc\r\nd", "ab c d"),
    (b"\xff\xfe What?", "What?"),
])
def test_questions_are_cleaned_of_invalid_unicode_and_control_characters(raw, clean) -> None:
    assert clean_text(raw) == clean


@pytest.mark.parametrize("raw, message", [
    ("？？！！...", "has no words, only punctuation or symbols"),
    ("\x00" * 50, "the question is empty (after removing control characters and invalid Unicode)"),
    ("x" * 9000, "the question is 9000 characters long; the limit is 2000"),
    (42, "the question must be text, got int"),
])
def test_questions_without_words_or_too_long_are_one_line_errors(raw, message) -> None:
    with pytest.raises(RagError, match=message.replace("(", r"\(").replace(")", r"\)")):
        clean_question(raw, 2000)


def _ask(args: list, index: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "RAG_REFUSE_BELOW": "-1",
           "RAG_REFUSE_BELOW_CROSS": "-1"}
    cmd = [sys.executable.encode(), b"-m", b"rag.cli", b"ask", *args, b"--index", str(index).encode(),
           b"--model", b"fake", b"--json"]
    return subprocess.run(cmd, capture_output=True, env=env, input=stdin, timeout=120)


def test_invalid_utf8_in_argv_and_bad_batch_lines_get_answers_or_error_objects(fake_index_dir: Path,
                                                                               tmp_path: Path) -> None:
    r = _ask([b"\xff \xe4\xba\xba\xe5\xb7\xa5\xe6\x99\xba\xe8\x83\xbd"], fake_index_dir)  # $'\xff 人工智能'
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["question"] == "人工智能"
    batch = tmp_path / "q.jsonl"
    batch.write_bytes(b'{"id": 1, "question": "\\ud800 \xe4\xba\xba\xe5\xb7\xa5\xe6\x99\xba\xe8\x83\xbd"}\n'
                      b'{"id": 2, "question": "\xff\xfe"}\n'
                      b'{"id": 3, "question": "?!?"}\n'
                      b'{"id": 4, "question": ["not", "text"]}\n'
                      b'{"id": 5, "question": "What did Belarus propose?"}\n')
    r = _ask([b"--batch", str(batch).encode()], fake_index_dir)
    lines = [json.loads(x) for x in r.stdout.decode().splitlines()]
    assert r.returncode == 1 and [x["id"] for x in lines] == [1, None, 3, 4, 5]
    assert lines[0]["question"] == "人工智能" and lines[4]["question"] == "What did Belarus propose?"
    assert lines[1] == {"id": None, "line": 2, "error": "not UTF-8 (byte 23)"}
    assert "has no words" in lines[2]["error"] and lines[3]["error"] == '"question" must be a string, got list'


def test_punctuation_only_questions_are_refused_not_answered_with_quotes(fake_embedder, fake_index_dir) -> None:
    pipe = Pipeline(Settings(index_dir=fake_index_dir, embed_model="fake", retrieval=RetrievalSettings(
        refuse_below=-1, refuse_below_cross=-1)), embedder=fake_embedder)
    for q in ("。。。？", "\x00\x00", "!!!"):
        with pytest.raises(RagError):
            pipe.ask(q)


# --- nothing from a document is rendered as HTML ----------------------------------------------------------------


def test_markdown_escape_leaves_no_markup() -> None:
    assert md_escape("<img src=x onerror=alert(1)> [a](javascript:x) *b* &lt;") == (
        "\\<img src=x onerror=alert(1)\\> \\[a\\](javascript:x) \\*b\\* \\&lt;")


def test_a_symbol_holding_html_never_reaches_the_briefing_markdown_as_html(tmp_path: Path, fake_embedder) -> None:
    from markdown_it import MarkdownIt

    from rag.brief.build import build_brief
    from rag.brief.render import to_markdown

    doc = tmp_path / "x.txt"
    doc.write_text("1. 人工智能武器化问题需要各国共同努力解决。\n\n2. 人工智能武器化问题涉及国际人道法。\n", encoding="utf-8")
    hostile = "<img src=x onerror=alert(1)>"
    (tmp_path / "x.txt.meta.json").write_text(json.dumps({"symbol": hostile, "title": "<b>t</b> [l](javascript:x)"}),
                                              encoding="utf-8")
    ingest([doc], tmp_path / "idx", fake_embedder)
    pipe = Pipeline(Settings(index_dir=tmp_path / "idx", embed_model="fake", retrieval=RetrievalSettings(
        refuse_below=-1, refuse_below_cross=-1)), embedder=fake_embedder)
    md = to_markdown(build_brief(pipe, "人工智能武器化"))
    assert "onerror" in md  # the symbol is there, as text
    html = MarkdownIt("commonmark").render(md)
    assert "<img" not in html and "<b>" not in html and "<a " not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
