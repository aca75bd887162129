"""Shared test data and fakes: seed paths, a recording chat model, builders of PDF, DOCX and HTML test documents."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SHARED_DATA = ROOT.parent / "shared" / "data"
SEED_FILES = {
    "CCW/GGE.1/2023/2": SEEDS / "001_ced3f55f669d5ebf.txt",
    "EUR/44A25/1": SEEDS / "002_42f3c3c41fbfbb11.txt",
    "CD/PV.1505": SEEDS / "003_f6527b781c8cc503.txt",
}


PLUGGED: set[str] = set()  # generator names plug_chat registered; tests/conftest.py unregisters them after each test


def plug_chat(chat: BaseChatModel, name: str) -> None:
    """Register `chat` as generator `name`, the way a user's own model plugs in (through the registry)."""
    from rag.generation.chat import ChatGenerator  # noqa: PLC0415 - keeps this module importable without the domain
    from rag.generation.registry import register_generator

    register_generator(name, lambda _s, _e: ChatGenerator(chat, name))
    PLUGGED.add(name)


class RecordingChat(BaseChatModel):
    """A LangChain chat model that replies with a fixed text (or raises) and records every prompt it was given;
    streamed, the reply comes in 3-character pieces, as a model's tokens would."""

    reply: str = ""
    fail: bool = False
    prompts: list[list[BaseMessage]] = []

    @property
    def _llm_type(self) -> str:
        return "recording-fake"

    def _generate(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any) -> ChatResult:
        self.prompts.append(list(messages))
        if self.fail:
            raise ConnectionError("server went away")
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=self.reply))])

    def _stream(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any):
        self.prompts.append(list(messages))
        if self.fail:
            raise ConnectionError("server went away")
        for i in range(0, len(self.reply), 3):
            yield ChatGenerationChunk(message=AIMessageChunk(content=self.reply[i : i + 3]))


def _pdf_escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(path: Path, pages: list[list[str]]) -> Path:
    """Write a PDF whose pages hold the given lines (Helvetica, Latin-1 text), one text line per entry."""
    objects: list[bytes] = []
    n_pages = len(pages)
    page_ids = [3 + 2 * i for i in range(n_pages)]
    font_id = 3 + 2 * n_pages
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = " ".join(f"{i} 0 R" for i in page_ids)
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode())
    for i, lines in enumerate(pages):
        ops = ["BT", "/F1 10 Tf", "14 TL", "50 800 Td"]
        for line in lines:
            ops.append(f"({_pdf_escape(line)}) Tj T*")
        ops.append("ET")
        stream = "\n".join(ops).encode("latin-1")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 {font_id} 0 R >> >> "
            f"/Contents {page_ids[i] + 1} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(bytes(out))
    return path


# An English UN-style report, wrapped as a PDF page would be, with running headers, page counters,
# job numbers and undocs links on each page.
PDF_PAGES = [
    [
        "A/TEST/2026/5",
        "Report of the Working Group on Testing",
        "I. Introduction",
        "1. The Working Group on Testing met in Geneva from 3 to 7 March 2026 and",
        "adopted its report by consensus on the final day of the session, after an",
        "exchange of views on inter-",
        "national cooperation.",
        "2. The Working Group concluded that:",
        "(a) verification of autonomous systems requires meaningful human control;",
        "(b) States should exchange best practices on a voluntary basis.",
        "https://undocs.org/en/A/RES/73/27",
        "1/2 26-01234",
    ],
    [
        "A/TEST/2026/5",
        "2/2 26-01234",
        "3. The next session of the Working Group will be held in New York in",
        "September 2026, subject to the availability of resources.",
        "II. Recommendations",
        "4. The Working Group recommends that the Meeting of the Parties renew its",
        "mandate for two years.",
    ],
]


def make_docx(path: Path, paragraphs: list[str]) -> Path:
    from docx import Document

    doc = Document()
    for p in paragraphs:
        doc.add_paragraph(p)
    doc.save(str(path))
    return path


DOCX_PARAGRAPHS = [
    "A/TEST/2026/6",
    "关于测试问题的报告",
    "一. 导言",
    "1. 工作组于 2026 年 3 月 3 日至 7 日在日内瓦举行会议，并以协商一致方式通过了报告。",
    "2. 工作组得出结论认为：",
    "(a) 自主系统的核查需要有意义的人类控制；",
    "(b) 各国应自愿交流最佳做法。",
]

HTML_DOC = """<!doctype html><html><head><title>A/TEST/2026/7</title><style>p{color:red}</style>
<script>alert('x')</script></head><body>
<nav>Home | Documents</nav>
<p>A/TEST/2026/7</p>
<h2>I. Introduction</h2>
<p>1. The Committee met in Vienna on 12 May 2026 and heard a briefing on
satellite debris.</p>
<p>2. The Committee concluded that:</p>
<p>(a) debris mitigation guidelines should be updated by 2027;</p>
<p>(b) <b>States</b> should report annually.</p>
<footer>https://undocs.org/en/A/TEST/2026/7</footer>
</body></html>"""
