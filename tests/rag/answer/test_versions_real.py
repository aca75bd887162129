"""Language versions on the real model: UNPC documents ingested in English and Chinese, aligned, asked in English."""
from __future__ import annotations

import json

import pytest

from index.store import load_index
from rag.answer.pipeline import Pipeline
from rag.cli.main import main
from rag.config import Settings
from rag.ingest.versions import LibraryVersions, group_versions
from tests.unpc_bilingual import norm

pytestmark = pytest.mark.slow

RES = "E/RES/2014/37"
EN_2 = ("2. Recognizes that political stability and socioeconomic recovery are essential to the long-term development "
        "of Haiti")
ZH_2 = "2. 确认政治稳定和社会经济复原对海地的长期发展至关重要"


def test_every_document_has_its_english_and_chinese_versions_aligned_sentence_by_sentence(unpc_bi) -> None:
    idx, docs = unpc_bi
    index = load_index(idx)
    groups = group_versions(index.docs)
    assert all(list(groups[d.symbol]) == ["en", "zh"] for d in docs)
    lib = LibraryVersions(index)
    found = correct = 0
    for d in docs:
        rows = lib.alignment(d.symbol).rows
        for p in d.pairs:
            re_ = next((i for i, r in enumerate(rows) if norm(p.en) in norm(r.texts().get("en", ""))), None)
            rz = next((i for i, r in enumerate(rows) if norm(p.zh) in norm(r.texts().get("zh", ""))), None)
            if re_ is not None and rz is not None:
                found += 1
                correct += re_ == rz
    assert found >= 160 and correct / found >= 0.95, (correct, found)


def test_an_english_question_cites_the_english_version_with_the_chinese_beside_it(unpc_bi, real_embedder) -> None:
    idx, _ = unpc_bi
    answer = Pipeline(Settings(index_dir=idx), embedder=real_embedder).ask(
        "What is essential to the long-term development of Haiti?")
    top = answer.retrieved[0]
    assert (top.chunk.symbol, top.chunk.locator, top.chunk.language) == (RES, "¶2", "en")
    assert top.versions["en"].startswith(EN_2) and top.versions["zh"].startswith(ZH_2)
    # one hit per aligned passage: no (symbol, locator) twice among the retrieved passages
    keys = [(h.chunk.symbol, h.chunk.locator) for h in answer.retrieved]
    assert len(keys) == len(set(keys))
    cited = [c for c in answer.citations if c.chunk.symbol == RES and c.chunk.locator == "¶2"]
    assert cited and cited[0].versions["zh"].startswith(ZH_2) and cited[0].chunk.cite == f"{RES} ¶2"
    j = answer.to_json()
    assert j["citations"][0]["versions"] == answer.citations[0].versions
    assert j["retrieved"][0]["doc"] == RES and set(j["retrieved"][0]["versions"]) == {"en", "zh"}


def test_show_json_gives_the_locator_and_its_versions(unpc_bi, capsys) -> None:
    idx, _ = unpc_bi
    rc = main(["show", RES, "--locator", "¶2", "--lang", "zh,en", "--json", "--index", str(idx)])
    got = json.loads(capsys.readouterr().out)
    assert rc == 0 and got["locator"] == "¶2" and list(got["versions"]) == ["zh", "en"]
    assert got["versions"]["zh"].startswith(ZH_2) and got["versions"]["en"].startswith(EN_2)
    assert got["rows"][0]["alignment"]["zh"]["method"] == "locator" and got["rows"][0]["alignment"]["zh"]["confidence"] > 0.95
