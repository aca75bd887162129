"""Read a file of a supported type into plain text, detecting text encodings; reject what cannot be read."""
from __future__ import annotations

import codecs
import re
from pathlib import Path

from rag.errors import IngestError

SUPPORTED = (".txt", ".md", ".pdf", ".docx", ".html", ".htm")
DEFAULT_MAX_MB = 50.0


def decode_text(data: bytes, path: Path | str = "<bytes>") -> str:
    """UTF-8 / UTF-8-BOM / UTF-16 with BOM / GB18030, in that order; anything else is an error."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as e:
            raise IngestError(path, f"undecodable UTF-16 text ({e.reason} at byte {e.start})") from None
    if b"\x00" in data[:4096]:
        raise IngestError(path, "binary file (NUL bytes), not text; supported types: " + ", ".join(SUPPORTED))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as utf8_error:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise IngestError(
                path,
                f"undecodable text: not UTF-8 (byte {utf8_error.start}), UTF-16 with BOM or GB18030",
            ) from None
        return text


def _read_pdf(path: Path) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, OSError) as e:
        raise IngestError(path, f"unreadable PDF ({e})") from None
    # A form feed marks each page break so the cleaner can recognise per-page furniture.
    return "\n\f\n".join(pages)


def _read_docx(path: Path) -> str:
    import zipfile

    from docx import Document

    try:
        doc = Document(str(path))
    except (zipfile.BadZipFile, KeyError, ValueError) as e:
        raise IngestError(path, f"unreadable DOCX ({e})") from None
    lines: list[str] = []
    for block in doc.element.body.iterchildren():
        tag = block.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines.append("".join(t.text or "" for t in block.iter() if t.tag.endswith("}t")))
        elif tag == "tbl":
            for row in block.iter():
                if row.tag.endswith("}tr"):
                    cells = []
                    for cell in row:
                        if cell.tag.endswith("}tc"):
                            cells.append("".join(t.text or "" for t in cell.iter() if t.tag.endswith("}t")))
                    lines.append(" ".join(c.strip() for c in cells if c.strip()))
    # One paragraph per line, separated by blank lines: the structure parser's "blank-separated" layout.
    return "\n\n".join(line for line in lines if line.strip())


def _read_html(path: Path, data: bytes) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(decode_text(data, path), "html.parser")
    for tag in soup(["script", "style", "noscript", "nav", "header", "footer", "template"]):
        tag.decompose()
    blocks = soup.find_all(["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "td", "th", "pre", "blockquote", "dt", "dd"])
    texts: list[str] = []
    for b in blocks:
        if b.find(["p", "li", "td"]):  # a container of other blocks: its children are read instead
            continue
        t = re.sub(r"[ \t\r\n]+", " ", b.get_text(" ")).strip()
        if t:
            texts.append(t)
    if not texts:
        texts = [line.strip() for line in soup.get_text("\n").splitlines() if line.strip()]
    return "\n\n".join(texts)


def read_file(path: Path, max_mb: float = DEFAULT_MAX_MB) -> str:
    """Text of `path`, or IngestError naming the file and the reason."""
    if not path.exists():
        raise IngestError(path, "no such file")
    if not path.is_file():
        raise IngestError(path, "not a regular file")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise IngestError(path, f"unsupported type {suffix or '(none)'!r}; supported: {', '.join(SUPPORTED)}")
    size = path.stat().st_size
    if size == 0:
        raise IngestError(path, "empty file")
    if size > max_mb * 1024 * 1024:
        raise IngestError(path, f"file is {size / 1048576:.1f} MB, over the {max_mb:g} MB limit")
    if suffix == ".pdf":
        text = _read_pdf(path)
    elif suffix == ".docx":
        text = _read_docx(path)
    else:
        data = path.read_bytes()
        text = _read_html(path, data) if suffix in (".html", ".htm") else decode_text(data, path)
    if not text.strip():
        raise IngestError(path, "no text found (empty, or a scanned PDF without a text layer)")
    return text
