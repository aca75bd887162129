"""Language versions: one document per symbol with a version per language, aligned paragraphs, collapsed hits."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pytest

from index.store import load_index
from rag.answer.versions import collapse_versions
from rag.cli.main import main
from rag.ingest.align import Segment, align, locator_key
from rag.ingest.library import ingest
from rag.ingest.versions import group_versions, language_label, resolve_versions
from rag.types import Chunk, Hit, document_id, version_key

EN = """A/TEST/9

1. The Committee met in Vienna from 3 to 7 March 2025 and elected its officers.

2. The Committee adopted its agenda without a vote.

3. The Committee decided to hold its next session in New York.
"""
ZH = """A/TEST/9

1. 委员会于2025年3月3日至7日在维也纳举行会议，选举了主席团成员。

2. 委员会未经表决通过了议程。

3. 委员会决定在纽约举行下届会议。
"""
DE = """A/TEST/9

1. Der Ausschuss trat vom 3. bis 7. März 2025 in Wien zusammen und wählte seine Amtsträger.

2. Der Ausschuss nahm seine Tagesordnung ohne Abstimmung an.

3. Der Ausschuss beschloss, seine nächste Tagung in New York abzuhalten.
"""


def _write(folder: Path, name: str, text: str, sidecar: dict | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / name
    p.write_text(text, encoding="utf-8")
    if sidecar is not None:
        (folder / f"{name}.meta.json").write_text(json.dumps(sidecar, ensure_ascii=False), encoding="utf-8")
    return p


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture
def bilingual(tmp_path: Path, fake_embedder) -> tuple[Path, object]:
    idx = tmp_path / "idx"
    report = ingest([_write(tmp_path / "en", "a9.txt", EN), _write(tmp_path / "zh", "a9.txt", ZH)], idx, fake_embedder)
    return idx, report


# --- identity ----------------------------------------------------------------------------------------------------


def test_a_version_key_is_the_symbol_and_the_language_and_gives_back_the_document() -> None:
    assert version_key("CD/PV.1505", "zh") == "CD/PV.1505@zh"
    assert version_key("report", None) == "report@und"
    assert document_id("CD/PV.1505@zh") == "CD/PV.1505"
    assert document_id("A/TEST/1@pt-br") == "A/TEST/1"
    assert document_id("CD/PV.1505") == "CD/PV.1505"  # an index built before language versions
    assert document_id("name@example") == "name@example"  # not a language suffix


def test_locators_compare_without_their_word_labels() -> None:
    assert locator_key("operative 1 (责成秘书长)") == locator_key("operative 1 (requests)") == "operative 1"
    assert locator_key("¶21(c)") == "¶21(c)"
    assert locator_key("preamble (ii)") == "preamble (ii)"


def test_languages_outside_the_six_are_accepted_and_labelled() -> None:
    assert language_label("zh") == "Chinese"
    assert language_label("de") == "de (not a UN language)"
    assert language_label(None) == "unknown language"


# --- alignment ---------------------------------------------------------------------------------------------------


def _segs(vectors: np.ndarray, lengths: list[int], locators: list[str] | None = None) -> list[Segment]:
    locs = locators or ["front matter"] * len(lengths)
    return [Segment([f"c{i}"], locs[i], "x" * n, vectors[i] / np.linalg.norm(vectors[i]))
            for i, n in enumerate(lengths)]


def _basis(n: int, dim: int = 32) -> np.ndarray:
    return np.eye(dim, dtype=np.float32)[:n] * 0.5 + 0.5 / np.sqrt(dim)  # similar-ish, like one document's paragraphs


def test_unnumbered_paragraphs_align_by_order_length_and_similarity_and_a_missing_one_is_flagged() -> None:
    v = _basis(5)
    a = _segs(v, [300, 120, 450, 90, 200])
    b = _segs(v[[0, 1, 3, 4]], [100, 40, 30, 66])  # the third paragraph is missing; a third of the length
    links = align(a, b).links
    assert [(lk.a, lk.b, lk.method) for lk in links] == [
        ([0], [0], "length+similarity"), ([1], [1], "length+similarity"), ([2], [], "unaligned"),
        ([3], [2], "length+similarity"), ([4], [3], "length+similarity")]
    assert [lk.flagged for lk in links] == [False, False, True, False, False]
    assert all(lk.confidence > 0.9 for lk in links if lk.b and lk.a)


def test_a_paragraph_split_in_two_in_the_other_version_aligns_two_to_one() -> None:
    v = _basis(4)
    merged = v[1] / np.linalg.norm(v[1]) + v[2] / np.linalg.norm(v[2])
    a = _segs(v, [200, 150, 150, 100])
    b = _segs(np.stack([v[0], merged, v[3]]), [200, 300, 100])
    assert [(lk.a, lk.b) for lk in align(a, b).links] == [([0], [0]), ([1, 2], [1]), ([3], [2])]


def test_numbered_paragraphs_align_by_locator_even_when_the_text_is_unlike() -> None:
    rng = np.random.default_rng(0)
    a = _segs(rng.normal(size=(4, 32)), [100, 100, 100, 100], ["¶1", "¶2", "¶3", "¶4"])
    b = _segs(rng.normal(size=(3, 32)), [30, 30, 30], ["¶1", "¶3", "¶4"])  # ¶2 missing
    links = align(a, b).links
    assert [(lk.a, lk.b, lk.method) for lk in links] == [
        ([0], [0], "locator"), ([1], [], "unaligned"), ([2], [1], "locator"), ([3], [2], "locator")]


# --- retrieval ---------------------------------------------------------------------------------------------------


def _hit(cid: str, lang: str, score: float) -> Hit:
    c = Chunk(chunk_id=cid, doc_id=f"A/1@{lang}", symbol="A/1", locator="¶1", text=cid, start=0, end=1, language=lang)
    return Hit(chunk=c, score=score)


def test_hits_on_one_paragraph_in_two_languages_collapse_into_one_shown_in_the_question_language() -> None:
    rows = {"zh1": ("A/1", 0), "en1": ("A/1", 0), "zh2": ("A/1", 1), "en2b": ("A/1", 1), "en2a": ("A/1", 1)}
    hits = [_hit("zh1", "zh", 0.9), _hit("zh2", "zh", 0.8), _hit("en1", "en", 0.7), _hit("en2a", "en", 0.6),
            _hit("en2b", "en", 0.5), _hit("x", "fr", 0.4)]
    out = collapse_versions(hits, lambda c: rows.get(c.chunk_id), "en")
    # one hit per row and language group; a second English piece of the same row stays a hit of its own
    assert [(h.chunk.chunk_id, h.rank, h.score) for h in out] == [
        ("en1", 1, 0.9), ("en2a", 2, 0.8), ("en2b", 3, 0.5), ("x", 4, 0.4)]


def test_single_version_hits_pass_through_unchanged() -> None:
    hits = [_hit("a", "zh", 0.9), _hit("b", "zh", 0.8)]
    assert [h.chunk.chunk_id for h in collapse_versions(hits, lambda c: None, "en")] == ["a", "b"]


# --- ingestion and the commands ------------------------------------------------------------------------------------


def test_two_languages_of_one_symbol_make_one_document_with_two_aligned_versions(bilingual, capsys) -> None:
    idx, report = bilingual
    assert [(f.status, f.doc_id, f.language) for f in report.files] == [
        ("added", "A/TEST/9", "en"), ("added", "A/TEST/9", "zh")]
    assert report.files[1].note == "A/TEST/9: zh aligned to en: 3 by locator, 0 by length+similarity, 0 flagged"
    index = load_index(idx)
    assert sorted(index.docs) == ["A/TEST/9@en", "A/TEST/9@zh"]
    assert group_versions(index.docs) == {"A/TEST/9": {"en": "A/TEST/9@en", "zh": "A/TEST/9@zh"}}
    assert resolve_versions(index.docs, "A/TEST/9", "zh") == ["A/TEST/9@zh"]
    rc, out, _ = _run(capsys, "docs", "--json", "--index", str(idx))
    docs = json.loads(out)
    assert [(d["doc_id"], d["languages"], d["chunks"]) for d in docs] == [("A/TEST/9", ["en", "zh"], 6)]
    assert [v["key"] for v in docs[0]["versions"]] == ["A/TEST/9@en", "A/TEST/9@zh"]
    rc, out, _ = _run(capsys, "docs", "--index", str(idx))
    assert out.count("A/TEST/9") == 1 and "[en, zh]" in out


def test_show_prints_the_aligned_paragraph_in_each_language(bilingual, capsys) -> None:
    idx, _ = bilingual
    rc, out, _ = _run(capsys, "show", "A/TEST/9", "--locator", "¶2", "--lang", "zh,en", "--json", "--index", str(idx))
    got = json.loads(out)
    assert rc == 0 and got["locator"] == "¶2"
    assert got["versions"] == {"zh": "2. 委员会未经表决通过了议程。", "en": "2. The Committee adopted its agenda without a vote."}
    # the fake embedder knows no Chinese: the locator alone makes the pair 0.88 sure (sigmoid(4 - 2))
    assert got["rows"][0]["alignment"]["zh"] == {"method": "locator", "confidence": 0.8808}
    assert got["rows"][0]["flagged"] is False
    rc, out, _ = _run(capsys, "show", "A/TEST/9", "--locator", "¶2", "--lang", "zh,en", "--index", str(idx))
    assert "  zh: 2. 委员会未经表决通过了议程。\n  en: 2. The Committee adopted its agenda without a vote.\n" in out
    rc, _, err = _run(capsys, "show", "A/TEST/9", "--lang", "fr", "--index", str(idx))
    assert rc == 2 and err.startswith("error: A/TEST/9 has no 'fr' version; its languages: en, zh")


def test_remove_takes_one_language_or_the_whole_document(bilingual, capsys) -> None:
    idx, _ = bilingual
    assert _run(capsys, "remove", "A/TEST/9", "--lang", "en", "--index", str(idx))[1] == "removed A/TEST/9 (en)\n"
    assert sorted(load_index(idx).docs) == ["A/TEST/9@zh"]
    assert _run(capsys, "remove", "A/TEST/9", "--index", str(idx))[1] == "removed A/TEST/9\n"
    assert load_index(idx).docs == {}


def test_an_english_question_gets_each_paragraph_once_in_english_with_every_version(bilingual, capsys) -> None:
    idx, _ = bilingual
    rc, out, _ = _run(capsys, "ask", "Where did the Committee meet?", "--json", "--k", "5", "--index", str(idx),
                      "--model", "fake")
    a = json.loads(out)
    # six chunks (three paragraphs in two languages) are one passage in each language: one hit, shown in English,
    # its versions the whole aligned passage in both languages
    assert [(r["doc"], r["language"], [p["locator"] for p in r["parts"]]) for r in a["retrieved"]] == [
        ("A/TEST/9", "en", ["¶1", "¶2", "¶3"])]
    versions = a["retrieved"][0]["versions"]
    assert versions["en"] == a["retrieved"][0]["text"]
    assert versions["zh"] == "\n".join(ln for ln in ZH.splitlines()[2:] if ln)


def test_the_same_symbol_and_language_twice_in_one_batch_keeps_the_newer_file(tmp_path: Path, fake_embedder) -> None:
    old = _write(tmp_path / "old", "a9.txt", ZH)
    new = _write(tmp_path / "new", "a9-rev.txt", ZH.replace("选举了主席团成员", "选举了主席团"))
    past = time.time() - 3600
    os.utime(old, (past, past))
    report = ingest([new, old], tmp_path / "idx", fake_embedder)
    assert [(Path(f.path).name, f.status) for f in report.files] == [("a9-rev.txt", "added"), ("a9.txt", "skipped")]
    assert report.files[1].reason == "A/TEST/9 (Chinese) is also in a9-rev.txt, which is newer: kept that one"
    assert load_index(tmp_path / "idx").docs["A/TEST/9@zh"].source == "a9-rev.txt"
    # newer second: the first one of the batch gives way, and the kept one says so
    report = ingest([old, new], tmp_path / "idx2", fake_embedder)
    assert [(Path(f.path).name, f.status) for f in report.files] == [("a9.txt", "skipped"), ("a9-rev.txt", "added")]
    assert report.files[1].note.startswith("newer than a9.txt (same symbol and language), which was skipped")
    # against the index, another file of the same version is a replacement: explicit only
    third = _write(tmp_path / "third", "a9-third.txt", ZH)
    report = ingest([third], tmp_path / "idx", fake_embedder)
    assert report.files[0].status == "failed" and report.files[0].reason.startswith(
        "A/TEST/9 is already indexed (from a9-rev.txt); replacing it is explicit: rag ingest --replace")


def test_a_version_in_another_language_is_accepted_and_labelled(bilingual, tmp_path: Path, fake_embedder,
                                                                  capsys) -> None:
    idx, _ = bilingual
    de = _write(tmp_path / "de", "a9.txt", DE, {"symbol": "A/TEST/9", "language": "de"})
    assert ingest([de], idx, fake_embedder).files[0].status == "added"
    assert list(group_versions(load_index(idx).docs)["A/TEST/9"]) == ["en", "zh", "de"]
    rc, out, _ = _run(capsys, "show", "A/TEST/9", "--locator", "¶3", "--lang", "de", "--index", str(idx))
    assert "  de: 3. Der Ausschuss beschloss, seine nächste Tagung in New York abzuhalten.\n" in out
    bad = _write(tmp_path / "bad", "a9.txt", DE, {"symbol": "A/TEST/9", "language": "German"})
    r = ingest([bad], idx, fake_embedder).files[0]
    assert r.status == "failed" and "language 'German' is not a language code" in r.reason


def test_versions_whose_paragraph_counts_differ_widely_align_what_they_can_and_flag_the_rest(
        tmp_path: Path, fake_embedder, capsys) -> None:
    en = "A/TEST/8\n\n" + "\n\n".join(f"{n}. Paragraph {n} of the English text, long enough to stand alone."
                                       for n in range(1, 7)) + "\n"
    zh = "A/TEST/8\n\n1. 英文本第1段。\n\n2. 英文本第2段。\n"
    report = ingest([_write(tmp_path / "en", "a8.txt", en), _write(tmp_path / "zh", "a8.txt", zh)], tmp_path / "idx",
                    fake_embedder)
    assert report.files[1].note == ("A/TEST/8: zh aligned to en: 2 by locator, 0 by length+similarity, 4 flagged "
                                    "(en has 6 paragraphs, zh 2)")
    rc, out, _ = _run(capsys, "show", "A/TEST/8", "--lang", "en,zh", "--json", "--index", str(tmp_path / "idx"))
    rows = json.loads(out)["rows"]
    assert [(r["locator"], sorted(r["versions"]), r["flagged"], r["missing"]) for r in rows] == [
        ("¶1", ["en", "zh"], False, []), ("¶2", ["en", "zh"], False, [])] + [
        (f"¶{n}", ["en"], True, ["zh"]) for n in range(3, 7)]
