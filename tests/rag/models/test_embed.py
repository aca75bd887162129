"""Embedders: device and precision choice from the hardware, and bf16 vectors that match fp32 on the real model."""
from __future__ import annotations

import numpy as np
import pytest

from rag.errors import RagError
from rag.models import embed


def test_auto_precision_follows_the_hardware(monkeypatch) -> None:
    monkeypatch.setattr(embed, "cpu_has_bf16", lambda: True)
    assert [embed.resolve_precision(p, "cpu") for p in ("auto", "fp32", "bf16", " BF16 ")] == ["bf16", "fp32", "bf16", "bf16"]
    monkeypatch.setattr(embed, "cpu_has_bf16", lambda: False)
    assert [embed.resolve_precision(p, "cpu") for p in ("auto", "fp32", "bf16")] == ["fp32", "fp32", "bf16"]
    assert embed.resolve_precision("auto", "cuda") == "bf16"


def test_cpu_bf16_is_read_from_the_cpu_flags(monkeypatch, tmp_path) -> None:
    real = embed.Path

    def fake_cpuinfo(flags: str):
        info = tmp_path / "cpuinfo"
        info.write_text(f"processor\t: 0\nflags\t\t: fpu sse2 {flags}\n")
        monkeypatch.setattr(embed, "Path", lambda p: info if p == "/proc/cpuinfo" else real(p))

    fake_cpuinfo("avx2 avx512f avx512_bf16")
    assert embed.cpu_has_bf16() is True
    fake_cpuinfo("avx2 amx_tile amx_bf16")
    assert embed.cpu_has_bf16() is True
    fake_cpuinfo("avx2 avx512f")
    assert embed.cpu_has_bf16() is False


def test_bad_device_and_precision_name_the_choices() -> None:
    with pytest.raises(RagError) as e:
        embed.resolve_precision("fp8", "cpu")
    assert str(e.value) == "unknown precision 'fp8'; choose one of: auto, fp32, bf16"
    with pytest.raises(RagError) as e:
        embed.resolve_device("tpu")
    assert str(e.value) == "unknown device 'tpu'; choose one of: auto, cpu, cuda (or cuda:N)"
    assert embed.resolve_device("CPU") == "cpu"


@pytest.mark.slow
def test_bf16_vectors_match_fp32_and_rank_the_same(seed_docs) -> None:
    fp32 = embed.SentenceTransformerEmbedder(str(embed.ensure_converted()), name=embed.DEFAULT_EMBED_MODEL,
                                             device="cpu", precision="fp32")
    bf16 = embed.SentenceTransformerEmbedder(str(embed.ensure_converted()), name=embed.DEFAULT_EMBED_MODEL,
                                             device="cpu", precision="bf16")
    chunks = [c for doc in seed_docs.values() for c in doc.chunks]
    texts = [c.embed_text() for c in chunks]
    a, b = fp32.embed_passages(texts), bf16.embed_passages(texts)
    assert a.shape == b.shape == (len(chunks), 384)
    assert np.allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
    assert float(np.min(np.sum(a * b, axis=1))) >= 0.9999
    questions = ["明斯克将举行什么会议？", "What did the Group of Experts conclude on international humanitarian law?",
                 "谁担任了2023年致命性自主武器系统政府专家组的主席？", "国际电联理事会责成秘书长做什么？"]
    qa, qb = fp32.embed_queries(questions), bf16.embed_queries(questions)
    assert (np.argsort(-(qa @ a.T), axis=1)[:, :5] == np.argsort(-(qb @ b.T), axis=1)[:, :5]).all()
