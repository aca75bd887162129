"""Hybrid retrieval: modes, filters, de-duplication (fake embedder) and the issue's questions on the real model."""
from __future__ import annotations

import pytest

from index.store import IndexWriter, load_index
from rag.answer.retrieve import Filters, Retriever, _near_duplicate, _Rows, expand_hits, score_fuse, translation_groups
from rag.config import RetrievalSettings
from rag.errors import RagError
from rag.ingest.chunk import CHUNKER_VERSION
from rag.types import Chunk, DocMeta

MINSK = "明斯克将举行什么会议？"
IHL_EN = "What did the Group of Experts conclude about international humanitarian law?"


@pytest.fixture(scope="module")
def fake_retriever(fake_index_dir, fake_embedder) -> Retriever:
    return Retriever(load_index(fake_index_dir), fake_embedder)


def test_bm25_ranks_the_only_paragraph_naming_minsk_first(fake_retriever) -> None:
    hits = fake_retriever.search("明斯克", k=3, mode="bm25").hits
    # BM25 mode returns only passages sharing a term with the question: here exactly one.
    assert [(h.chunk.cite, h.rank, h.bm25_rank, h.dense_rank) for h in hits] == [("CD/PV.1505 turn 2 ¶20", 1, 1, None)]


def test_modes_and_unknown_mode(fake_retriever) -> None:
    for mode in ("dense", "bm25", "hybrid"):
        assert len(fake_retriever.search(MINSK, k=4, mode=mode).hits) == 4
    dense = fake_retriever.search(MINSK, k=4, mode="dense").hits
    assert all(h.bm25_rank is None for h in dense)
    with pytest.raises(RagError, match=r"unknown retrieval mode 'sparse'; choose one of: dense, bm25, hybrid"):
        fake_retriever.search(MINSK, mode="sparse")


def test_hybrid_is_weighted_reciprocal_rank_fusion(fake_index_dir, fake_embedder) -> None:
    s = RetrievalSettings(rrf_k=10, dense_weight=1.0, bm25_weight=0.75, score_fusion_languages=())
    hits = Retriever(load_index(fake_index_dir), fake_embedder, s).search(MINSK, k=5).hits
    for h in hits:
        expected = (1.0 / (10 + h.dense_rank) if h.dense_rank else 0.0) + (0.75 / (10 + h.bm25_rank) if h.bm25_rank else 0.0)
        assert h.score == pytest.approx(expected)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_filters_by_document_speaker_body_and_language(fake_retriever) -> None:
    by_doc = fake_retriever.search(MINSK, k=10, filters=Filters(docs=("CCW/GGE.1/2023/2",))).hits
    assert {h.chunk.symbol for h in by_doc} == {"CCW/GGE.1/2023/2"}
    by_delegation = fake_retriever.search(MINSK, k=10, filters=Filters(speaker="白俄罗斯")).hits
    # Belarus's turns read as 4 passages (each with its section window), however many more are asked for
    assert {h.chunk.delegation for h in by_delegation} == {"白俄罗斯"} and len(by_delegation) == 4
    assert {c.delegation for h in by_delegation for c in h.parts} == {"白俄罗斯"}  # windows obey the filters
    by_speaker = fake_retriever.search(MINSK, k=3, filters=Filters(speaker="维尼亚尔")).hits
    assert {h.chunk.speaker for h in by_speaker} == {"维尼亚尔女士"}
    assert fake_retriever.search(MINSK, filters=Filters(language="fr")).hits == []
    assert fake_retriever.search(MINSK, filters=Filters(speaker="nobody")).confidence == 0.0
    with pytest.raises(RagError, match="unknown document 'A/RES/1'"):
        fake_retriever.search(MINSK, filters=Filters(docs=("A/RES/1",)))


def test_near_duplicates_are_collapsed() -> None:
    a = "国际人道法继续充分适用于致命性自主武器系统的潜在开发和使用。"
    assert _near_duplicate(a, a.replace("。", "；"), 0.95) is False  # one character differs: 0.9 trigram Jaccard
    assert _near_duplicate(a, "  " + a.replace("继续", "继续 ") + "\n", 0.95) is True  # whitespace only
    assert _near_duplicate(a, "另有一段。" + a, 0.95) is True  # contained in a longer chunk
    assert _near_duplicate("短句", "短句子", 0.95) is False


# --- the real model on the seeds: the "done when" ------------------------------------------------


@pytest.mark.slow
def test_minsk_question_returns_the_belarus_paragraph(real_pipeline) -> None:
    answer = real_pipeline.ask(MINSK)
    top = answer.retrieved[0].chunk
    assert (top.symbol, top.locator, top.speaker, top.delegation) == ("CD/PV.1505", "turn 2 ¶20", "安布拉舍维奇先生", "白俄罗斯")
    assert not answer.refused
    assert [(c.chunk.symbol, c.chunk.locator) for c in answer.citations][:1] == [("CD/PV.1505", "turn 2 ¶20")]
    assert "明斯克" in answer.citations[0].support


@pytest.mark.slow
def test_english_question_on_ihl_retrieves_paragraph_21_in_top_3(real_pipeline) -> None:
    answer = real_pipeline.ask(IHL_EN)
    # a passage is the matched chunk with its unit and section window: ¶21 is one of its parts
    top3 = [(h.chunk.symbol, c.locator) for h in answer.retrieved[:3] for c in h.parts or [h.chunk]]
    assert any(sym == "CCW/GGE.1/2023/2" and loc.startswith("¶21") for sym, loc in top3), top3
    assert not answer.refused
    # the ¶21 passage is the first (third before the keyword translation: 国际 and 专家 under the lead-in's 结论
    # lift it): its lead-in and items (a)-(c) are what the generator reads from it
    flat = expand_hits(answer.retrieved)
    assert [h.chunk.locator for h in flat if h.group == 1] == ["¶21", "¶21(a)", "¶21(b)", "¶21(c)"]


@pytest.mark.slow
@pytest.mark.parametrize("question", ["如何在家制作四川麻婆豆腐？", "What is the best way to bake sourdough bread at home?"])
def test_unrelated_questions_are_refused(real_pipeline, question: str) -> None:
    answer = real_pipeline.ask(question)
    assert answer.refused and answer.citations == []
    assert answer.text in ("文件中没有回答这个问题的内容。", "The documents do not say.")


@pytest.mark.slow
def test_cross_lingual_dense_beats_bm25_on_the_english_question(real_pipeline) -> None:
    r = real_pipeline.retriever
    dense = [h.chunk.locator for h in r.search(IHL_EN, k=3, mode="dense").hits]
    bm25 = [h.chunk.locator for h in r.search(IHL_EN, k=3, mode="bm25").hits]
    assert any(loc.startswith("¶21") for loc in dense) and not any(loc.startswith("¶21") for loc in bm25)


def test_rrf_fuse_weights_each_list_by_reciprocal_rank() -> None:
    from rag.answer.retrieve import rrf_fuse

    fused, info = rrf_fuse([(7, 0.9), (3, 0.8)], [(3, 12.0), (5, 4.0)], rrf_k=10, dense_weight=1.0, keyword_weight=0.5)
    assert fused == {7: 1 / 11, 3: 1 / 12 + 0.5 / 11, 5: 0.5 / 12}
    assert info == {7: {"dense": (1, 0.9)}, 3: {"dense": (2, 0.8), "bm25": (1, 12.0)}, 5: {"bm25": (2, 4.0)}}


def test_score_fuse_adds_min_max_normalised_scores_by_share() -> None:
    fused, info = score_fuse([(7, 0.9), (3, 0.8), (4, 0.7)], [(3, 12.0), (5, 4.0)], dense_share=0.3)
    # dense 0.9 / 0.8 / 0.7 -> 1 / 0.5 / 0; BM25 12 / 4 -> 1 / 0; missing from a list counts 0
    assert fused == pytest.approx({7: 0.3, 3: 0.3 * 0.5 + 0.7, 4: 0.0, 5: 0.0})
    assert info == {7: {"dense": (1, 0.9)}, 3: {"dense": (2, 0.8), "bm25": (1, 12.0)}, 4: {"dense": (3, 0.7)},
                    5: {"bm25": (2, 4.0)}}
    assert score_fuse([(1, 0.5)], [(2, 3.0), (1, 3.0)], dense_share=0.3)[0] == pytest.approx({1: 1.0, 2: 0.7})


def test_a_chinese_question_fuses_by_score_and_an_english_one_by_rank(fake_index_dir, fake_embedder) -> None:
    index = load_index(fake_index_dir)  # the seeds: every passage Chinese
    r = Retriever(index, fake_embedder)
    dense = index.dense_search(fake_embedder.embed_queries([MINSK])[0], 50)
    expected, _ = score_fuse(dense, index.keyword_search(MINSK, 50), dense_share=0.3)
    hits = r.search(MINSK, k=5).hits
    assert hits[0].score == pytest.approx(max(expected.values()))
    assert all(any(h.score == pytest.approx(v) for v in expected.values()) for h in hits)
    # English over Chinese passages: keywords match by numbers, acronyms and translated words, and ranks are
    # fused, the translated keyword list weighted by translated_weight (1.0)
    en = r.search("Who chaired the Group of Experts in 2023?", k=5).hits
    assert any(h.bm25_rank for h in en)
    for h in en:
        assert h.score == pytest.approx((1.0 / (10 + h.dense_rank) if h.dense_rank else 0.0)
                                        + (1.0 / (10 + h.bm25_rank) if h.bm25_rank else 0.0))


def test_an_english_question_matches_chinese_passages_by_the_translations_of_its_words(fake_index_dir,
                                                                                       fake_embedder) -> None:
    index = load_index(fake_index_dir)
    on = Retriever(index, fake_embedder).search("Which meeting will be held in Minsk?", k=5).hits
    off = Retriever(index, fake_embedder, RetrievalSettings(translate_keywords=())).search(
        "Which meeting will be held in Minsk?", k=5).hits
    # "Minsk" is 明斯克 (CC-CEDICT): the only paragraph naming the city is the keyword list's first
    assert [(h.chunk.cite, h.bm25_rank) for h in on if h.bm25_rank == 1] == [("CD/PV.1505 turn 2 ¶20", 1)]
    assert all(h.bm25_rank is None for h in off)  # without translation no English word matches Chinese text
    assert translation_groups("Which meeting will be held in Minsk?", "en", ("en",))[-1] == ("minsk", ("明斯克",))
    assert translation_groups("明斯克将举行什么会议？", "zh", ("en",)) == []


def test_a_pinyin_name_in_an_english_question_finds_the_chinese_passage_that_writes_it(tmp_path, fake_embedder) -> None:
    texts = ["王天成，湖南省双牌县人，1989年毕业于北京大学法律系。", "李明是上海人，毕业于复旦大学。", "双牌县位于湖南省南部。"]
    w = IndexWriter(tmp_path, fake_embedder.name, fake_embedder.dim, CHUNKER_VERSION)
    for n, t in enumerate(texts):
        c = Chunk(f"D{n}#0", f"D{n}", None, "¶1", t, 0, len(t), language="zh")
        w.add(DocMeta(f"D{n}", language="zh"), t, [c], fake_embedder.embed_passages([t]))
    w.commit()
    index = load_index(tmp_path)
    question = "Where was Wang Tiancheng born?"
    on = Retriever(index, fake_embedder).search(question, k=3).hits
    off = Retriever(index, fake_embedder, RetrievalSettings(pinyin_names=False)).search(question, k=3).hits
    assert [(h.chunk.doc_id, h.bm25_rank) for h in on if h.bm25_rank] == [("D0", 1)]  # 王天成 reads wang tian cheng
    assert all(h.bm25_rank is None for h in off)  # no dictionary translates the name


def test_date_range_keeps_only_documents_dated_within_it(fake_retriever) -> None:
    # Seeds: CD/PV.1505 2019-06-12, EUR/44A25/1 2022-09, CCW/GGE.1/2023/2 2023-05-19; bounds are inclusive prefixes.
    def docs(**kw: str) -> set[str]:
        return {h.chunk.symbol for h in fake_retriever.search(MINSK, k=30, filters=Filters(**kw)).hits}

    assert docs(date_to="2019") == {"CD/PV.1505"}
    assert docs(date_from="2022-09", date_to="2022-09-30") == {"EUR/44A25/1"}
    assert docs(date_from="2023-05-19") == {"CCW/GGE.1/2023/2"}
    assert docs(date_from="2020", date_to="2021") == set()
    with pytest.raises(RagError, match=r"date from '2023/05' is not a date: use YYYY, YYYY-MM or YYYY-MM-DD"):
        fake_retriever.search(MINSK, filters=Filters(date_from="2023/05"))


def test_expand_hits_numbers_the_window_neighbours_of_the_first_passages_only(fake_retriever) -> None:
    passages = fake_retriever.search(MINSK, k=4).hits
    narrow, wide = expand_hits(passages), expand_hits(passages, window_passages=2)
    # the first two passages bring every part (unit and section window), in document order; the others their unit
    assert [h.chunk.chunk_id for h in wide] == (
        [c.chunk_id for h in passages[:2] for c in h.parts] + [h.chunk.chunk_id for h in narrow if h.group > 2])
    assert [(h.group, h.chunk.locator) for h in wide] == [
        (1, "turn 2 ¶16"), (1, "turn 2 ¶17"), (1, "turn 2 ¶18"), (1, "turn 2 ¶19"), (1, "turn 2 ¶20"), (1, "turn 2 ¶21"),
        (1, "turn 2 ¶22"), (1, "turn 2 ¶23"), (2, "turn 4 ¶6"), (2, "turn 4 ¶7"), (2, "turn 4 ¶8"), (2, "turn 4 ¶9"),
        (3, "turn 7 ¶22"), (4, "turn 1 ¶2")]
    assert [(h.group, h.chunk.locator) for h in narrow] == [(1, "turn 2 ¶20"), (2, "turn 4 ¶6"), (3, "turn 7 ¶22"),
                                                            (4, "turn 1 ¶2")]
    assert [h.rank for h in wide] == list(range(1, len(wide) + 1))
    # only the chunk that matched carries the retrieval scores; a neighbour has none of its own
    assert [h.chunk.locator for h in wide if h.dense_score is not None] == ["turn 2 ¶20", "turn 4 ¶6", "turn 7 ¶22",
                                                                            "turn 1 ¶2"]



def test_cross_language_centering_reorders_other_language_dense_candidates_by_cosine_less_the_centroid(
        fake_index_dir, fake_embedder) -> None:
    index = load_index(fake_index_dir)  # the seeds: every passage Chinese
    centred = Retriever(index, fake_embedder, RetrievalSettings(cross_language_centering=1.0))
    found = index.dense_search(fake_embedder.embed_queries(["Which meeting will be held in Minsk?"])[0], 20)
    centroid = centred.centroids.get("en")
    adjusted = [sc - float(index.vectors([r])[0] @ centroid) for r, sc in found]
    expected = [found[j] for j in sorted(range(len(found)), key=lambda j: -adjusted[j])]
    assert centred._dehub(found, "en", _Rows(index)) == expected != found
    assert centred._dehub(found, "zh", _Rows(index)) == found  # a Chinese question over Chinese passages
    assert Retriever(index, fake_embedder)._dehub(found, "en", _Rows(index)) == found  # off by default
