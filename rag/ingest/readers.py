"""Read a file of a supported type into plain text, detecting text encodings; reject what cannot be read."""
from __future__ import annotations

import codecs
import re
from pathlib import Path

from rag.errors import IngestError

SUPPORTED = (".txt", ".md", ".pdf", ".docx", ".html", ".htm")
DEFAULT_MAX_MB = 50.0
# Bounds on what one file may cost. A long UN report (e.g. an annual report of 400 pages) is ~2 M characters
# and ~300 pages; its DOCX holds < 10 MB of XML. The limits leave 2-10x headroom over that and stop the measured
# attacks: a 492 KB DOCX holding 315 MB of XML (8 GB RSS), a 3 GB sparse .txt, a 5 MB sidecar title.
MAX_TEXT_CHARS = 5_000_000  # text after extraction (~2,500 pages); embedding it takes ~10 min on 2 cores
MAX_PDF_PAGES = 3000
MAX_ZIP_ENTRIES = 1000  # parts of a DOCX (a real one has 15-100)
MAX_ZIP_XML_MB = 64.0  # decompressed XML of a DOCX (lxml needs ~10x this in memory)
MAX_ZIP_TOTAL_MB = 256.0  # decompressed size of all parts (python-docx loads every part, images included)


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
        if len(reader.pages) > MAX_PDF_PAGES:
            raise IngestError(path, f"PDF has {len(reader.pages)} pages; the limit is {MAX_PDF_PAGES}")
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, OSError) as e:
        raise IngestError(path, f"unreadable PDF ({e})") from None
    # A form feed marks each page break so the cleaner can recognise per-page furniture.
    return "\n\f\n".join(pages)


def check_docx_zip(path: Path) -> None:
    """Refuse a DOCX whose zip declares too many parts or too many decompressed bytes (a zip bomb).

    The declared sizes bound the real ones: `zipfile` stops reading a part at its declared size (and fails
    its CRC check when the data was longer).
    """
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise IngestError(path, f"unreadable DOCX: not a valid zip file ({e})") from None
    if len(infos) > MAX_ZIP_ENTRIES:
        raise IngestError(path, f"DOCX holds {len(infos)} parts; the limit is {MAX_ZIP_ENTRIES}")
    total = sum(i.file_size for i in infos)
    xml = sum(i.file_size for i in infos if i.filename.lower().endswith((".xml", ".rels")))
    if xml > MAX_ZIP_XML_MB * 1048576:
        raise IngestError(path, f"DOCX decompresses to {xml / 1048576:.0f} MB of XML; the limit is {MAX_ZIP_XML_MB:g} MB")
    if total > MAX_ZIP_TOTAL_MB * 1048576:
        raise IngestError(path, f"DOCX decompresses to {total / 1048576:.0f} MB; the limit is {MAX_ZIP_TOTAL_MB:g} MB")


def _read_docx(path: Path) -> str:
    import zipfile

    from docx import Document

    check_docx_zip(path)
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


def check_file(path: Path, max_mb: float = DEFAULT_MAX_MB) -> int:
    """Refuse a missing, non-regular, unsupported, empty or over-size file before reading a byte; returns its size."""
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
    return size


def read_file(path: Path, max_mb: float = DEFAULT_MAX_MB) -> str:
    """Text of `path`, or IngestError naming the file and the reason."""
    check_file(path, max_mb)
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        text = _read_pdf(path)
    elif suffix == ".docx":
        text = _read_docx(path)
    else:
        data = path.read_bytes()
        text = _read_html(path, data) if suffix in (".html", ".htm") else decode_text(data, path)
    if len(text) > MAX_TEXT_CHARS:
        raise IngestError(path, f"{len(text):,} characters of text; the limit is {MAX_TEXT_CHARS:,} (split the document)")
    if not text.strip():
        raise IngestError(path, "no text found (empty, or a scanned PDF without a text layer)")
    return text
