"""Fixture builder: per-document English and Chinese files from the UNPC dev set (aligned sentences with their
document ids), with the known sentence pairs, for language-version tests and benchmarks/retrieval.py --sets unpc-bi.

Each UNPC document id (`2015/a/69/767`) becomes a symbol (`A/69/767`) with two files: `<name>.en.txt` (sentences in
their English order, one paragraph each; symbol in the sidecar, language detected) and `<name>.zh.txt` (Chinese
order; symbol and language `zh` in the sidecar). Nothing is numbered unless the sentence itself is ("51. ..."), so
alignment rests on order, length and similarity, as for real unnumbered text.
"""
from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

BASE = "UNv1.0.devset"


def norm(s: str) -> str:
    """Matching key: NFKC, whitespace dropped (as rag.eval.gold.normalize_for_match)."""
    return "".join(unicodedata.normalize("NFKC", s).split())


def symbol_of(doc_id: str) -> str:
    """`2015/a/ac_182/l_139` -> `A/AC.182/L.139`: the UN symbol the UNPC file name encodes."""
    parts = doc_id.split("/")[1:]
    return "/".join(p.upper().replace("_", ".").rstrip(".") for p in parts if p)


@dataclass
class Pair:
    line: int  # line in the UNPC files
    en: str
    zh: str
    en_pos: tuple[int, int]  # (paragraph, sentence) in the English document
    zh_pos: tuple[int, int]


@dataclass
class BiDoc:
    symbol: str
    pairs: list[Pair] = field(default_factory=list)
    en_path: Path | None = None
    zh_path: Path | None = None


def load_documents(data: Path) -> list[BiDoc]:
    """The UNPC dev documents with their aligned sentences, in first-appearance order.

    Args:
        data: the shared data folder (holding `unpc-devset/`).
    Returns:
        One `BiDoc` per UNPC document id.
    """
    base = data / "unpc-devset" / BASE
    en, zh, ids = (Path(f"{base}.{x}").read_text(encoding="utf-8").splitlines() for x in ("en", "zh", "ids"))
    docs: dict[str, BiDoc] = {}
    for i, (e, z, line) in enumerate(zip(en, zh, ids)):
        fields = line.split()
        pos = {f.split(":")[0]: tuple(int(x) for x in f.split(":")[1:3]) for f in fields[1:]}
        if not e.strip() or not z.strip() or "en" not in pos or "zh" not in pos:
            continue
        sym = symbol_of(fields[0])
        docs.setdefault(sym, BiDoc(sym)).pairs.append(Pair(i, e.strip(), z.strip(), pos["en"], pos["zh"]))
    return list(docs.values())


def write_corpus(docs: list[BiDoc], out: Path, languages: tuple[str, ...] = ("en", "zh")) -> list[Path]:
    """Write each document's versions (and sidecars) under `out`; returns the files written.

    Args:
        docs: documents from `load_documents`.
        out: the folder to write into (created).
        languages: which versions to write.
    Returns:
        The document files (not the sidecars), English then Chinese per document.
    """
    out.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    for d in docs:
        name = d.symbol.replace("/", "_")
        for lang in languages:
            # Sentences of one source paragraph (same paragraph number) stay one paragraph, in sentence order.
            paras: dict[int, list[tuple[int, str]]] = {}
            for p in d.pairs:
                para, sent = p.en_pos if lang == "en" else p.zh_pos
                paras.setdefault(para, []).append((sent, p.en if lang == "en" else p.zh))
            glue = " " if lang == "en" else ""
            # one paragraph per line: blank lines after one-line paragraphs read as a double-spaced PDF extraction
            text = "\n".join(glue.join(s for _, s in sorted(paras[k])) for k in sorted(paras))
            path = out / f"{name}.{lang}.txt"
            # No final newline: in a file of fewer than ten lines, the blank line after the last one makes the
            # cleaner read blank-line paragraphs (rag.ingest.clean._layout) and join every line into one.
            path.write_text(text, encoding="utf-8")
            meta = {"symbol": d.symbol} | ({"language": "zh"} if lang == "zh" else {})  # English: detected
            path.with_name(path.name + ".meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
            setattr(d, f"{lang}_path", path)
            files.append(path)
    return files
