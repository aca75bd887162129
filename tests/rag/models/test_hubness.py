"""Hub passages across languages: the rerank of other-language dense candidates and the probe-question centroids."""
from __future__ import annotations

import numpy as np
import pytest

from rag.models.hubness import QueryCentroids, rerank_other_languages
from rag.models.probe_questions import PROBE_QUESTIONS


def test_rerank_moves_the_hub_below_a_passage_it_barely_beat_and_keeps_same_language_slots() -> None:
    found = [(7, 0.90), (3, 0.84), (5, 0.83), (9, 0.80)]
    other = [False, True, True, True]
    centroid = np.array([1.0, 0.0], np.float32)
    vectors = np.array([[0.0, 1.0], [0.9, 0.1], [0.1, 0.9], [0.2, 0.8]], np.float32)  # row 3 is the hub
    out = rerank_other_languages(found, other, vectors, centroid, 0.5)
    # adjusted: row 3 0.84 - 0.45 = 0.39, row 5 0.83 - 0.05 = 0.78, row 9 0.80 - 0.10 = 0.70
    assert out == [(7, 0.90), (5, 0.83), (9, 0.80), (3, 0.84)]


def test_rerank_with_alpha_zero_or_one_other_language_candidate_keeps_the_order() -> None:
    found = [(1, 0.9), (2, 0.8)]
    vectors = np.eye(2, dtype=np.float32)
    assert rerank_other_languages(found, [True, True], vectors, np.array([1.0, 0.0]), 0.0) == found
    assert rerank_other_languages(found, [True, False], vectors, np.array([1.0, 0.0]), 1.0) == found


class CountingEmbedder:
    def __init__(self) -> None:
        self.calls: list[int] = []

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        self.calls.append(len(texts))
        return np.array([[len(t), 1.0] for t in texts], np.float32)


def test_centroid_is_the_mean_query_vector_of_the_language_probe_questions_computed_once() -> None:
    emb = CountingEmbedder()
    c = QueryCentroids(emb)
    en = PROBE_QUESTIONS["en"]
    assert c.get("en") == pytest.approx([np.mean([len(t) for t in en]), 1.0])
    c.get("en")
    assert emb.calls == [len(en)]
    assert c.get("xx") is None


def test_probe_questions_cover_the_six_un_languages_without_duplicates() -> None:
    assert {k: len(v) for k, v in PROBE_QUESTIONS.items()} == {"en": 100, "zh": 100, "fr": 50, "es": 50, "ru": 50,
                                                               "ar": 50}
    assert all(len(set(v)) == len(v) for v in PROBE_QUESTIONS.values())


@pytest.mark.slow
def test_real_embedder_puts_each_question_nearer_its_own_language_centroid(real_embedder) -> None:
    # the premise of the correction: a language's questions share a direction, whatever they ask
    centroids = QueryCentroids(real_embedder)
    en, zh = centroids.get("en"), centroids.get("zh")
    pairs = [("Who chaired the Group of Experts in 2023?", "2023年专家组由谁担任主席？"),
             ("What did Belarus propose at the Conference on Disarmament?", "白俄罗斯在裁军谈判会议上提出了什么建议？")]
    for english, chinese in pairs:
        e, c = real_embedder.embed_queries([english, chinese])
        assert float(e @ en) > float(e @ zh) + 0.03
        assert float(c @ zh) > float(c @ en) + 0.07
