"""Contextual token vectors from an embedder's encoder (a middle layer), for aligning a question's words with a passage's."""
from __future__ import annotations

import copy
import re
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from rag.models.embed import FakeEmbedder

_FAKE_TOKEN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\W_]+", re.UNICODE)


@dataclass(frozen=True)
class TokenVectors:
    """One text's sub-word pieces (special tokens and the e5 prompt removed) and their unit vectors."""

    tokens: list[str]  # sentencepiece pieces ("▁" starts a word), or words and CJK characters for the fake
    vectors: np.ndarray  # float32, (len(tokens), dim), rows L2-normalised


def supports_tokens(embedder: Any) -> bool:
    """Whether `token_vectors` can read token vectors from `embedder` (the fake, or a sentence-transformers model
    with a Hugging Face encoder)."""
    inner = getattr(embedder, "inner", embedder)  # a caching wrapper (benchmarks/retrieval.py) holds the model
    if isinstance(inner, FakeEmbedder):
        return True
    model = getattr(inner, "model", None)
    try:
        return model is not None and hasattr(model[0], "auto_model") and model.tokenizer is not None
    except (TypeError, IndexError, AttributeError):
        return False


def token_vectors(embedder: Any, texts: list[str], kind: str, layer: int, max_tokens: int) -> list[TokenVectors]:
    """Token vectors of `texts` at encoder layer `layer` (1-based; the last layer when the model has fewer).

    Args:
        embedder: the fake or a `SentenceTransformerEmbedder` (see `supports_tokens`).
        texts: questions or passages.
        kind: "query" or "passage": the e5 prompt the model was trained with is prepended, then dropped.
        layer: encoder layer whose output is read; only the layers up to it are run.
        max_tokens: each text is cut to this many tokens (the prompt and special tokens included).
    Returns:
        One `TokenVectors` per text, in order.
    """
    inner = getattr(embedder, "inner", embedder)
    if isinstance(inner, FakeEmbedder):
        out = []
        for t in texts:
            toks = ["▁" + w for w in _FAKE_TOKEN.findall(t.lower())][: max_tokens - 2]
            vecs = inner.embed_passages([w[1:] for w in toks]) if toks else np.zeros((0, inner.dim), np.float32)
            out.append(TokenVectors(toks, vecs))
        return out
    return _hf_token_vectors(inner, texts, kind, layer, max_tokens)


_LOCK = threading.Lock()
_SHALLOW: dict[tuple[int, int], Any] = {}  # (id of the encoder, layer) -> the encoder cut after that layer


def _cut_encoder(auto_model: Any, layer: int) -> Any:
    """The encoder's first `layer` layers as a model of its own, sharing every weight (no copy of parameters):
    run to layer 6 of 12, it costs half a forward pass. Models without `encoder.layer` run whole."""
    key = (id(auto_model), layer)
    with _LOCK:
        if key not in _SHALLOW:
            enc = getattr(auto_model, "encoder", None)
            layers = getattr(enc, "layer", None)
            if layers is None or layer >= len(layers):
                _SHALLOW[key] = auto_model
            else:
                import torch  # loaded with the model already

                cut_enc = copy.copy(enc)
                cut_enc._modules = dict(enc._modules)  # a copy of the registry: the original keeps its layers
                cut_enc._modules["layer"] = torch.nn.ModuleList(list(layers)[:layer])
                cut = copy.copy(auto_model)
                cut._modules = dict(auto_model._modules)
                cut._modules["encoder"] = cut_enc
                _SHALLOW[key] = cut
        return _SHALLOW[key]


def _hf_token_vectors(inner: Any, texts: list[str], kind: str, layer: int, max_tokens: int) -> list[TokenVectors]:
    import contextlib

    import torch  # loaded with the model already

    st = inner.model
    tok = st.tokenizer
    model = _cut_encoder(st[0].auto_model, layer)
    prompt = inner.query_prompt if kind == "query" else inner.passage_prompt
    # The prompt's pieces, without its trailing space: "query: What" is "▁que ry : ▁What", while "query: " alone
    # would end in a "▁" piece of its own.
    skip = len(tok(prompt.rstrip(), add_special_tokens=False)["input_ids"]) if prompt.strip() else 0
    batch = tok([prompt + t for t in texts], padding=True, truncation=True, max_length=max_tokens,
                return_tensors="pt").to(getattr(inner, "device", "cpu"))
    autocast = (torch.autocast(inner.device.split(":")[0], dtype=torch.bfloat16)
                if getattr(inner, "precision", "fp32") == "bf16" else contextlib.nullcontext())
    with torch.inference_mode(), autocast:
        out = model(**batch, output_hidden_states=model is st[0].auto_model)
    hidden = out.last_hidden_state if model is not st[0].auto_model else out.hidden_states[
        min(layer, len(out.hidden_states) - 1)]
    special = set(tok.all_special_ids)
    result = []
    for i in range(len(texts)):
        ids = batch["input_ids"][i].tolist()
        keep = [j for j, t in enumerate(ids) if t not in special and j > skip]  # j = 0 is <s>; then the prompt
        vecs = torch.nn.functional.normalize(hidden[i, keep].float(), dim=-1).cpu().numpy()
        result.append(TokenVectors(tok.convert_ids_to_tokens([ids[j] for j in keep]), vecs))
    return result
