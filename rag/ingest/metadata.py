"""Document metadata: symbol, title, date, body and language, detected from the text and overridden by a sidecar."""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

from rag.errors import IngestError
from rag.ingest.patterns import SYMBOL_RE, is_furniture_line, is_symbol_line
from rag.lang import detect_document_language
from rag.types import DocMeta, version_key

SIDECAR_SUFFIX = ".meta.json"
SIDECAR_FIELDS = ("symbol", "title", "date", "body", "language", "kind")
# Longest value per field: the longest UN symbol seen is ~40 characters and titles run to ~400; a 5 MB title
# added ~30 MB to every index version before these limits.
SIDECAR_LIMITS = {"symbol": 100, "title": 1000, "date": 40, "body": 200, "language": 20, "kind": 40}
MAX_SIDECAR_BYTES = 64 * 1024
LANGUAGE_CODE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$")  # ISO 639 with an optional region: zh, pt-BR

# Issuing body by symbol prefix, for documents that do not state it.
BODIES = {
    "CD": "Conference on Disarmament",
    "CCW": "Convention on Certain Conventional Weapons",
    "A": "General Assembly",
    "S": "Security Council",
    "E": "Economic and Social Council",
    "HRC": "Human Rights Council",
    "UNEP": "United Nations Environment Programme",
    "EUR": "ITU Plenipotentiary Conference",
}

_ZH_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_EN_MONTHS = "January February March April May June July August September October November December".split()
_EN_DATE = re.compile(rf"\b(\d{{1,2}})\s+({'|'.join(_EN_MONTHS)})\s+(\d{{4}})\b")


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name + SIDECAR_SUFFIX)


def read_sidecar(path: Path) -> dict[str, str]:
    """Fields of `<file>.meta.json`, validated; {} when there is none."""
    side = sidecar_path(path)
    if not side.exists():
        return {}
    size = side.stat().st_size
    if size > MAX_SIDECAR_BYTES:
        raise IngestError(side, f"metadata sidecar is {size:,} bytes; the limit is {MAX_SIDECAR_BYTES:,}")
    try:
        data = json.loads(side.read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise IngestError(side, f"invalid JSON in metadata sidecar ({e})") from None
    if not isinstance(data, dict):
        raise IngestError(side, "metadata sidecar must be a JSON object")
    unknown = sorted(set(data) - set(SIDECAR_FIELDS))
    if unknown:
        raise IngestError(side, f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(SIDECAR_FIELDS)}")
    bad = [k for k, v in data.items() if v is not None and not isinstance(v, str)]
    if bad:
        raise IngestError(side, f"field(s) {', '.join(bad)} must be strings")
    for k, v in data.items():
        if v and len(v) > SIDECAR_LIMITS[k]:
            raise IngestError(side, f"field {k} is {len(v):,} characters long; the limit is {SIDECAR_LIMITS[k]}")
        if v and any(ord(ch) < 32 for ch in v):
            raise IngestError(side, f"field {k} holds control characters (line breaks, NUL); give one line of text")
    lang = data.get("language")
    if lang and not LANGUAGE_CODE.match(lang):
        raise IngestError(side, f"language {lang!r} is not a language code; give ISO 639-1, e.g. zh, en, fr, es, ru, "
                                "ar (or another code such as de, pt-br)")
    return {k: v for k, v in data.items() if v}


def detect_symbol(text: str) -> str | None:
    """The document symbol: a symbol-only line near the top, or one repeated as a running header."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines[:15]:
        if is_symbol_line(line):
            return SYMBOL_RE.search(line).group(0)  # type: ignore[union-attr]
    headers = Counter(SYMBOL_RE.search(s).group(0) for s in lines if is_symbol_line(s))  # type: ignore[union-attr]
    if headers:
        sym, n = headers.most_common(1)[0]
        if n >= 2:
            return sym
    # A single running header still counts when it sits in a page break (next to a page counter or job number).
    for i, s in enumerate(lines):
        if is_symbol_line(s) and any(is_furniture_line(x) for x in lines[max(0, i - 4) : i + 5] if x != s):
            return SYMBOL_RE.search(s).group(0)  # type: ignore[union-attr]
    return None


def detect_date(text: str) -> str | None:
    head = text[:4000]
    m = _ZH_DATE.search(head)
    if m:
        return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
    m = _EN_DATE.search(head)
    if m:
        month = _EN_MONTHS.index(m.group(2)) + 1
        return f"{int(m.group(3)):04d}-{month:02d}-{int(m.group(1)):02d}"
    return None


def body_for(symbol: str | None) -> str | None:
    if not symbol:
        return None
    return BODIES.get(symbol.split("/", 1)[0])


def build_meta(path: Path, raw_text: str, first_blocks: list[str], kind: str, sha256: str) -> DocMeta:
    side = read_sidecar(path)
    symbol = side.get("symbol") or detect_symbol(raw_text)
    title = side.get("title")
    if not title:
        title = next((b.strip() for b in first_blocks if 4 <= len(b.strip()) <= 120 and not is_symbol_line(b.strip())), None)
    language = (side.get("language") or detect_document_language(raw_text[:5000])).lower()
    return DocMeta(
        doc_id=version_key(symbol or path.stem, language),  # one stored entry per language version
        symbol=symbol,
        title=title,
        date=side.get("date") or detect_date(raw_text),
        body=side.get("body") or body_for(symbol),
        language=language,
        kind=side.get("kind") or kind,
        source=path.name,
        sha256=sha256,
    )
