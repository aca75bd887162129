"""Ingestion end to end with the fake embedder: formats, encodings, bad input, incremental updates."""
from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from index.store import current_version, load_index
from rag.ingest.library import ingest, remove_document
from rag.ingest.parse import parse_document
from rag.ingest.readers import IngestError, decode_text
from tests.fixtures import DOCX_PARAGRAPHS, HTML_DOC, PDF_PAGES, SEED_FILES, SEEDS, make_docx, make_pdf


def test_pdf_fixture_goes_through_the_same_checks(tmp_path):
    doc = parse_document(make_pdf(tmp_path / "report.pdf", PDF_PAGES))
    assert doc.meta.symbol == "A/TEST/2026/5"
    assert doc.meta.language == "en"
    assert [(c.locator, c.headings) for c in doc.chunks] == [
        ("front matter", []),
        ("¶1", ["I. Introduction"]),
        ("¶2", ["I. Introduction"]),
        ("¶2(a)", ["I. Introduction"]),
        ("¶2(b)", ["I. Introduction"]),
        ("¶3", ["I. Introduction"]),
        ("¶4", ["II. Recommendations"]),
    ]
    texts = {c.locator: c.text for c in doc.chunks}
    # Hyphenation undone, lines joined with a space, the page break inside ¶3 rejoined.
    assert "exchange of views on international cooperation." in texts["¶1"]
    assert texts["¶3"] == (
        "3. The next session of the Working Group will be held in New York in September 2026, "
        "subject to the availability of resources."
    )
    joined = " ".join(c.text for c in doc.chunks)
    assert "undocs.org" not in joined and "26-01234" not in joined and "1/2" not in joined
    assert "A/TEST/2026/5" not in joined


def test_docx_fixture(tmp_path):
    doc = parse_document(make_docx(tmp_path / "report.docx", DOCX_PARAGRAPHS))
    assert doc.meta.symbol == "A/TEST/2026/6"
    assert [c.locator for c in doc.chunks] == ["front matter", "¶1", "¶2", "¶2(a)", "¶2(b)"]
    assert doc.chunks[3].text == "(a) 自主系统的核查需要有意义的人类控制；"
    assert doc.chunks[3].headings == ["一. 导言"]


def test_html_fixture_drops_scripts_and_navigation(tmp_path):
    path = tmp_path / "page.html"
    path.write_text(HTML_DOC, encoding="utf-8")
    doc = parse_document(path)
    assert doc.meta.symbol == "A/TEST/2026/7"
    assert [c.locator for c in doc.chunks] == ["¶1", "¶2", "¶2(a)", "¶2(b)"]
    assert doc.chunks[0].text == "1. The Committee met in Vienna on 12 May 2026 and heard a briefing on satellite debris."
    joined = " ".join(c.text for c in doc.chunks)
    assert "alert" not in joined and "Home" not in joined and "undocs" not in joined


@pytest.mark.parametrize(
    "encode",
    [
        lambda s: s.encode("utf-8"),
        lambda s: codecs.BOM_UTF8 + s.encode("utf-8"),
        lambda s: s.encode("utf-16"),  # with BOM
        lambda s: codecs.BOM_UTF16_BE + s.encode("utf-16-be"),
        lambda s: s.encode("gb18030"),
    ],
    ids=["utf8", "utf8-bom", "utf16-le-bom", "utf16-be-bom", "gb18030"],
)
def test_text_encodings(encode):
    text = "1. 专家组于 2023 年 5 月 19 日通过了报告。"
    assert decode_text(encode(text)) == text


@pytest.mark.parametrize(
    "name,content,reason",
    [
        ("empty.txt", b"", "empty file"),
        ("blob.txt", b"\x00\x01\x02binary", "binary file (NUL bytes)"),
        ("latin.txt", b"abc\x80\x80\x80def", "undecodable text: not UTF-8 (byte 3), UTF-16 with BOM or GB18030"),
        ("data.csv", b"a,b", "unsupported type '.csv'"),
        ("blank.md", b"   \n\n  ", "no text found"),
    ],
)
def test_bad_files_fail_with_a_reason(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(IngestError) as e:
        parse_document(path)
    assert str(e.value).startswith(f"{path}: ")
    assert reason in e.value.reason


def test_size_limit(tmp_path):
    path = tmp_path / "big.txt"
    path.write_text("1. 大文件。\n" * 200_000, encoding="utf-8")
    with pytest.raises(IngestError, match=r"over the 1 MB limit"):
        parse_document(path, max_mb=1)


def test_failed_files_leave_the_index_unchanged(tmp_path, fake_embedder):
    index_dir = tmp_path / "idx"
    report = ingest([SEEDS / "001_ced3f55f669d5ebf.txt"], index_dir, fake_embedder)
    assert report.counts() == {"added": 1}
    before = load_index(index_dir)
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x00\x00")
    report = ingest([bad, tmp_path / "missing.txt"], index_dir, fake_embedder)
    assert [(f.status, f.reason) for f in report.files] == [
        ("failed", "no such file or directory"),
        ("failed", "binary file (NUL bytes), not text; supported types: .txt, .md, .pdf, .docx, .html, .htm"),
    ]
    assert report.version is None and current_version(index_dir) == before.version


def test_good_files_still_ingested_beside_bad_ones(tmp_path, fake_embedder):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "ok.txt").write_text("A/TEST/1\n\n1. The Committee met in Vienna.\n", encoding="utf-8")
    (folder / "bad.txt").write_bytes(b"")
    (folder / "notes.csv").write_text("x")
    report = ingest([folder], tmp_path / "idx", fake_embedder)
    assert sorted((Path(f.path).name, f.status) for f in report.files) == [
        ("bad.txt", "failed"), ("notes.csv", "skipped"), ("ok.txt", "added"),
    ]
    assert list(load_index(tmp_path / "idx").docs) == ["A/TEST/1@en"]


def test_incremental_add_remove_noop_and_rebuild(tmp_path, fake_embedder):

    index_dir = tmp_path / "idx"
    r1 = ingest([SEEDS / "001_ced3f55f669d5ebf.txt"], index_dir, fake_embedder)
    r2 = ingest(list(SEED_FILES.values()), index_dir, fake_embedder)
    assert [f.status for f in r2.files] == ["unchanged", "added", "added"]
    index = load_index(index_dir)
    assert index.manifest["counts"] == {"documents": 3, "chunks": 187}
    assert index.manifest["model"] == "fake-256" and index.manifest["dim"] == 256
    # Incremental: the first file's segment stays; the two new documents went into a second one.
    assert [(s["size"], s["dense_kind"]) for s in index.manifest["segments"]] == [(53, "flat"), (134, "flat")]
    assert set(index.manifest["documents"]["CD/PV.1505@zh"]) == {"meta", "sha256", "chunks", "segment", "rows"}
    r3 = ingest(list(SEED_FILES.values()), index_dir, fake_embedder)
    assert r3.version is None and r3.counts() == {"unchanged": 3}

    remove_document(index_dir, "EUR/44A25/1")
    assert list(load_index(index_dir).docs) == ["CCW/GGE.1/2023/2@zh", "CD/PV.1505@zh"]

    r4 = ingest([], index_dir, fake_embedder, rebuild=True)
    assert sorted(f.status for f in r4.files) == ["added", "added"]
    assert load_index(index_dir).manifest["counts"] == {"documents": 2, "chunks": 146}
    assert r1.version != r4.version


def test_changed_sidecar_reingests(tmp_path, fake_embedder):
    src = tmp_path / "doc.txt"
    src.write_text("1. The Committee met in Vienna.\n", encoding="utf-8")
    ingest([src], tmp_path / "idx", fake_embedder)
    assert list(load_index(tmp_path / "idx").docs) == ["doc@en"]
    (tmp_path / "doc.txt.meta.json").write_text('{"symbol": "A/AC.105/1"}', encoding="utf-8")
    report = ingest([src], tmp_path / "idx", fake_embedder)
    assert report.files[0].status == "added"
    # The old entry for the same file is replaced, not duplicated.
    assert sorted(load_index(tmp_path / "idx").docs) == ["A/AC.105/1@en"]


def test_bad_sidecar_is_reported(tmp_path):
    src = tmp_path / "doc.txt"
    src.write_text("1. Text.\n", encoding="utf-8")
    (tmp_path / "doc.txt.meta.json").write_text('{"symbl": "X"}', encoding="utf-8")
    with pytest.raises(IngestError, match=r"unknown field\(s\) symbl; allowed: symbol, title, date, body, language, kind"):
        parse_document(src)


def test_folder_readme_and_unsupported_files_are_skipped_with_reasons(tmp_path):
    from rag.ingest.library import collect_files

    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_text("x", encoding="utf-8")
    (tmp_path / "sub" / "README.md").write_text("about", encoding="utf-8")
    (tmp_path / "sub" / "q.jsonl").write_text("{}", encoding="utf-8")
    (tmp_path / "a.txt.meta.json").write_text("{}", encoding="utf-8")
    files, problems = collect_files([tmp_path])
    assert files == [tmp_path / "a.txt"]
    assert [(p.path, p.status, p.reason) for p in problems] == [
        (str(tmp_path / "sub" / "README.md"), "skipped", "a folder's README (name the file to index it)"),
        (str(tmp_path / "sub" / "q.jsonl"), "skipped", "unsupported type '.jsonl'"),
    ]
    assert collect_files([tmp_path / "sub" / "README.md"])[0] == [tmp_path / "sub" / "README.md"]


class _CountingEmbedder:
    """The fake embedder, recording how many texts each embedding call received."""

    def __init__(self, inner) -> None:
        self.inner, self.name, self.dim, self.calls = inner, inner.name, inner.dim, []

    def embed_passages(self, texts, batch_size=32, progress=False):
        self.calls.append(len(texts))
        return self.inner.embed_passages(texts)

    def embed_queries(self, texts):
        return self.inner.embed_queries(texts)


def test_chunks_of_several_files_are_embedded_in_one_call_with_the_same_vectors(tmp_path, fake_embedder):
    import numpy as np

    from rag.ingest import library

    emb = _CountingEmbedder(fake_embedder)
    report = ingest(list(SEED_FILES.values()), tmp_path / "batched", emb)
    index = load_index(tmp_path / "batched")
    n = index.size
    assert [f.status for f in report.files] == ["added"] * 3
    # one call while the three seeds fit in a batch, several once they do not
    assert sum(emb.calls) == n and (len(emb.calls) == 1) == (n <= library.EMBED_BATCH_CHUNKS)
    one_by_one = np.concatenate([fake_embedder.embed_passages([c.embed_text() for c in index.doc_chunks(d)])
                                 for d in index.docs])
    assert np.allclose(index.vectors([r for r, _ in index.iter_chunks()]), one_by_one)


def test_batches_close_at_the_configured_size_and_keep_file_order(tmp_path, fake_embedder, monkeypatch):
    from rag.ingest import library

    monkeypatch.setattr(library, "EMBED_BATCH_CHUNKS", 1)  # every file its own call
    emb = _CountingEmbedder(fake_embedder)
    files = list(SEED_FILES.values())
    report = ingest(files, tmp_path / "small", emb)
    assert [f.path for f in report.files] == [str(f) for f in files]
    assert [f.doc_id for f in report.files] == list(SEED_FILES)
    assert emb.calls == [f.chunks for f in report.files]


def test_progress_reports_files_bytes_and_passages(tmp_path, fake_embedder):
    seen = []
    files = list(SEED_FILES.values())
    report = ingest(files, tmp_path / "p", fake_embedder, progress=seen.append)
    sizes = [f.stat().st_size for f in files]
    assert [(s.files_done, s.current) for s in seen] == [(0, str(files[0])), (1, str(files[1])), (2, str(files[2])),
                                                           (3, "")]
    assert [s.bytes_done for s in seen] == [0, sizes[0], sizes[0] + sizes[1], sum(sizes)]
    assert all(s.bytes_total == sum(sizes) and s.files_total == 3 for s in seen)
    assert seen[-1].passages == sum(f.chunks for f in report.files) and seen[-1].eta_s is None
    assert seen[1].eta_s is not None and seen[1].eta_s >= 0


def test_a_file_repeated_in_one_run_is_added_once_then_unchanged(tmp_path, fake_embedder):
    seed = SEED_FILES["EUR/44A25/1"]
    report = ingest([seed, seed], tmp_path / "twice", fake_embedder)
    assert [f.status for f in report.files] == ["added", "unchanged"]
    assert list(load_index(tmp_path / "twice").docs) == ["EUR/44A25/1@zh"]
