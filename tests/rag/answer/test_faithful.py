"""The cross-language faithfulness check: numbers, negation, and embeddings against the source sentence."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.answer.faithful import check_renderings, judge, negation_level, numbers, numbers_match

RENDERINGS = Path(__file__).resolve().parents[2] / "data" / "renderings.jsonl"


def test_numbers_are_read_in_digits_chinese_numerals_and_english_words() -> None:
    assert {"2023", "5", "19"} <= numbers("第二次会议于2023 年 5 月 19 日星期五闭幕。")
    assert {"7", "4"} <= numbers("我们举行了七次会议，包括四次专题会议")
    assert "100000000" in numbers("1 亿多美元资金被盗")
    assert numbers_match("more than 100 million dollars were stolen in 2016", "2016 年…1 亿多美元资金被盗")
    assert numbers_match("suspended at 3.35 p.m.", "下午 3 时 35 分会议暂停")
    assert not numbers_match("suspended at 2.15 p.m.", "下午 3 时 35 分会议暂停")
    assert not numbers_match("We held nine meetings", "我们举行了七次会议")
    # compound number words, grouped thousands and month names meet their Chinese forms (rag.models.numbers)
    assert numbers_match("Opening of the thirty-seventh session on 6 February", "2月6日第三十七届会议开幕。")
    assert numbers_match("a zone of nearly 800,000 km2", "近800 000平方公里的区域")
    assert not numbers_match("held on 6 March", "2月6日举行")


def test_negation_levels_read_double_negation_as_affirmation() -> None:
    assert negation_level("权利不是没有限度的") == negation_level("the right is not unlimited") == 0
    assert negation_level("the right is unlimited") == 1
    assert negation_level("如果不能按照国际人道法使用，则不得使用") == 2
    assert negation_level("must not be used if they cannot be used") == 2
    assert negation_level("may be used even if they cannot be used") == 1
    assert negation_level("主席于 2023 年组织了非正式会议。") == 0  # 非正式 "informal" is not a negation


def test_judge_names_the_first_failing_test() -> None:
    assert judge("The meeting rose at 6.15 p.m.", "下午 4 时 45 分散会。", 0.9, 0.8).reason == \
        "numbers not in the source: 15, 6"
    assert judge("The report was not endorsed.", "报告也获得核可。", 0.9, 0.8).reason == "negation differs from the source"
    assert judge("Something else.", "报告也获得核可。", 0.7, 0.8).reason == "similarity 0.700 below 0.82"
    assert judge("Something close.", "报告也获得核可。", 0.85, 0.9).reason == "closer to another sentence (0.900 vs 0.850)"
    assert judge("The report was endorsed.", "报告也获得核可。", 0.88, 0.8).faithful
    assert judge("Resolution 73/27 was led by China.", "俄罗斯领导的第 73/27 号决议", 0.87, 0.8).reason == \
        "names a State the source does not"
    # the speaker's delegation in the label names the State the sentence calls 我国
    assert judge("Belarus proposed a meeting.", "我国提议召开会议。 CD/PV.1505 turn 2 ¶20; speaker: 安布拉舍维奇先生 (白俄罗斯)",
                 0.87, 0.8).faithful


def _items() -> list[dict]:
    return [json.loads(line) for line in RENDERINGS.read_text(encoding="utf-8").splitlines()]


def test_the_rendering_set_covers_every_kind_of_error() -> None:
    items = _items()
    kinds = {k: sum(1 for i in items if i["label"] == k) for k in ("faithful", "negated", "number", "offtopic")}
    assert len(items) >= 40 and min(kinds.values()) >= 10
    assert sum(1 for i in items if i["label"] == "state") == 7  # the same sentence with another State named
    assert {i["split"] for i in items} == {"dev", "test"}


@pytest.mark.slow
def test_real_embedder_accepts_faithful_and_rejects_wrong_renderings(real_embedder, seed_docs) -> None:
    """On tests/data/renderings.jsonl with e5-small: ≥ 90% of faithful renderings accepted, ≥ 90% of wrong ones
    (negated, number-changed, State-swapped, off-topic) rejected, on the whole set and on the held-out test half;
    every State-swapped one rejected (their cosines, 0.840-0.874, are those of faithful renderings)."""
    from rag.text import split_sentences

    items = _items()
    sentences = {}
    for sym, doc in seed_docs.items():
        sentences[sym] = [c.text[a:b].strip() for c in doc.chunks for a, b in split_sentences(c.text)]
    cache: dict[str, object] = {}

    def embed(texts: list[str]):
        import numpy as np

        missing = [t for t in dict.fromkeys(texts) if t not in cache]
        if missing:
            cache.update(zip(missing, real_embedder.embed_passages(missing)))
        return np.stack([cache[t] for t in texts])

    rates = {}
    swapped_accepted = []
    for split in ("test", "all"):
        acc = rej = nf = nw = 0
        for it in items:
            if split != "all" and it["split"] != split:
                continue
            others = [s for s in sentences[it["doc"]] if s and s != it["source"] and it["source"] not in s]
            verdict = check_renderings([(it["rendering"], it["source"])], others, embed)[0]
            if it["label"] == "faithful":
                nf += 1
                acc += verdict.faithful
            else:
                if it["label"] == "state" and verdict.faithful and split == "all":
                    swapped_accepted.append(it["id"])
                nw += 1
                rej += not verdict.faithful
        rates[split] = (acc / nf, rej / nw)
    assert rates["test"][0] >= 0.9 and rates["test"][1] >= 0.9, rates
    assert rates["all"][0] >= 0.9 and rates["all"][1] >= 0.9, rates
    assert swapped_accepted == []
