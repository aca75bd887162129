"""Briefing notes: structure, Markdown, DOCX and bad input with the fake embedder; the seed topics with the real one."""
from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from rag.answer.pipeline import Pipeline
from rag.brief.build import BriefOptions, build_brief, mmr, output_format
from rag.brief.model import Brief
from rag.brief.render import save, to_markdown
from rag.cli import main
from rag.config import RetrievalSettings, Settings
from rag.errors import RagError
from rag.types import Hit

SYMBOLS = {"CCW/GGE.1/2023/2", "EUR/44A25/1", "CD/PV.1505"}
WIDE = BriefOptions(margin=1.0)  # the fake embedder's cosines spread wider than e5's


@pytest.fixture(scope="module")
def fake_idx(fake_index_dir) -> Path:
    return fake_index_dir  # the shared seed index (tests/conftest.py); briefs only read it


@pytest.fixture(scope="module")
def fake_pipe(fake_idx, fake_embedder) -> Pipeline:
    s = Settings(index_dir=fake_idx, embed_model="fake", llm="extractive", retrieval=RetrievalSettings(refuse_below=0.2, refuse_below_cross=0.2, refuse_below_other=0.2))
    return Pipeline(s, embedder=fake_embedder)


@pytest.fixture(scope="module")
def ai_brief(fake_pipe) -> Brief:
    return build_brief(fake_pipe, "人工智能武器化", options=WIDE)


def _norm(s: str) -> str:
    return re.sub(r"\s+", "", s)


def _check_grounded(brief: Brief) -> None:
    """Every point cites; every quote is verbatim in a cited passage; sections hold the right kinds."""
    kinds = {s.doc_id: s.kind for s in brief.sources}
    for p in brief.points():
        assert p.chunks, p.text
        if p.quote:
            body = p.text
            c = p.chunks[0]
            if c.speaker and body.startswith(c.speaker):
                body = body.split(": ", 1)[1]
            assert _norm(body) in _norm(c.text), (body, c.cite)
    for p in brief.agreed:
        assert kinds[p.chunks[0].document] != "meeting_record"
    for g in brief.positions:
        for p in g.points:
            assert p.chunks[0].speaker == g.speaker and p.chunks[0].delegation == g.delegation
    assert {c.document for p in brief.points() for c in p.chunks} == {s.doc_id for s in brief.sources}


# --- structure, Markdown, DOCX (fake embedder) --------------------------------------------------------
def test_brief_structure(ai_brief):
    b = ai_brief
    assert not b.refused and b.language == "zh" and b.generator == "extractive"
    assert 1 <= len(b.summary) <= 5
    _check_grounded(b)
    # Sources are exactly the documents the points cite; positions come from the meeting record only; agreed text
    # only from the report and the resolution.
    cited_docs = {c.document for p in b.points() for c in p.chunks}
    assert {s.doc_id for s in b.sources} == cited_docs == set(SYMBOLS)
    assert {g.symbol for g in b.positions} == {"CD/PV.1505"}
    assert {c.symbol for p in b.agreed for c in p.chunks} == {"CCW/GGE.1/2023/2", "EUR/44A25/1"}
    assert b.cited() == list(dict.fromkeys(c.cite for p in b.points() for c in p.chunks))
    assert b.passages == len({c.chunk_id for p in b.points() for c in p.chunks})


def test_markdown_has_every_section_and_citation(ai_brief):
    md = to_markdown(ai_brief)
    assert md.startswith("# 简报: 人工智能武器化")
    for head in ("## 摘要", "## 商定案文和结论", "## 各代表团或发言者的立场", "## 日期和后续步骤", "## 资料来源"):
        assert head in md
    for cite in ai_brief.cited():
        assert f"[{cite}]" in md
    for s in ai_brief.sources:
        assert s.symbol in md.split("## 资料来源")[1]
    for g in ai_brief.positions:
        assert f"### {g.speaker}" in md


def test_english_topic_gets_english_headings(fake_pipe):
    b = build_brief(fake_pipe, "artificial intelligence", options=WIDE)
    md = to_markdown(b)
    assert b.language == "en" and "# Briefing note: artificial intelligence" in md and "## Sources" in md
    _check_grounded(b)


def test_docx_opens_and_keeps_citations(ai_brief, tmp_path):
    import docx

    path = save(ai_brief, tmp_path / "note.docx", "docx")
    d = docx.Document(str(path))
    text = "\n".join(p.text for p in d.paragraphs)
    assert d.core_properties.title == "简报: 人工智能武器化"
    for cite in ai_brief.cited():
        assert f"[{cite}]" in text
    headings = [p.text for p in d.paragraphs if p.style.name.startswith("Heading")]
    assert "摘要" in headings and "资料来源" in headings
    assert [p for p in d.paragraphs if p.style.name == "List Bullet"]
    assert not list(tmp_path.glob(".*tmp"))  # no temporary file left beside it


def test_docs_filter_restricts_the_sources(fake_pipe):
    b = build_brief(fake_pipe, "人工智能武器化", docs=["CD/PV.1505"], options=WIDE)
    assert {s.symbol for s in b.sources} == {"CD/PV.1505"}
    assert not b.agreed  # a meeting record holds no agreed text
    _check_grounded(b)


def test_mmr_spreads_across_documents(fake_pipe):
    index = fake_pipe.index
    r = fake_pipe.retriever.search("人工智能", k=40)
    every = list(index.iter_chunks())
    rows = {c.chunk_id: i for i, (_, c) in enumerate(every)}
    picked = mmr(r.hits, rows, index.vectors([row for row, _ in every]), 6, 0.7)
    assert len(picked) == 6 and picked[0] is r.hits[0]
    assert len({h.chunk.doc_id for h in picked}) >= len({h.chunk.doc_id for h in r.hits[:6]})


# --- bad input ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("topic", ["", "   ", None])
def test_empty_topic_is_refused_with_a_message(fake_pipe, topic):
    with pytest.raises(RagError, match="topic is empty"):
        build_brief(fake_pipe, topic)


def test_unknown_document_lists_the_known_ones(fake_pipe):
    with pytest.raises(RagError) as ei:
        build_brief(fake_pipe, "人工智能", docs=["A/RES/99/1"])
    assert "A/RES/99/1" in str(ei.value) and all(s in str(ei.value) for s in SYMBOLS)


def test_uncovered_topic_says_so(fake_idx, fake_embedder):
    s = Settings(index_dir=fake_idx, embed_model="fake", retrieval=RetrievalSettings(refuse_below=0.99, refuse_below_cross=0.99, refuse_below_other=0.99))
    b = build_brief(Pipeline(s, embedder=fake_embedder), "deep-sea fishing quotas in the Pacific")
    assert b.refused and not b.points() and not b.sources
    md = to_markdown(b)
    assert "do not cover this topic" in md and "## Summary" not in md


def test_output_format():
    assert output_format(None, None) == "md"
    assert output_format(None, "x.docx") == "docx"
    assert output_format("md", "x.txt") == "md"
    for fmt, out, msg in (("docx", None, "needs --out"), ("md", "x.docx", "make them agree"), ("pdf", "x", "unknown")):
        with pytest.raises(RagError, match=msg):
            output_format(fmt, out)


def test_failed_write_leaves_no_file(ai_brief, tmp_path, monkeypatch):
    import rag.brief.render

    def boom(brief, path):
        Path(path).write_bytes(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(rag.brief.render, "to_docx", boom)
    with pytest.raises(OSError):
        save(ai_brief, tmp_path / "note.docx", "docx")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(RagError, match="no such directory"):
        save(ai_brief, tmp_path / "missing" / "note.md", "md")


# --- command line -------------------------------------------------------------------------------------
def _cli(fake_idx, *args) -> int:
    return main(["brief", *args, "--index", str(fake_idx), "--model", "fake", "--llm", "extractive"])


@pytest.fixture
def covered(monkeypatch):
    """The CLI's settings with a refusal threshold that suits the fake embedder."""
    import rag.cli.brief

    real = rag.cli.brief.settings_from
    monkeypatch.setattr(rag.cli.brief, "settings_from",
                        lambda a: real(a).with_(retrieval=RetrievalSettings(refuse_below=0.2, refuse_below_cross=0.2, refuse_below_other=0.2)))


def test_cli_writes_docx_and_markdown(fake_idx, tmp_path, capsys, covered):
    import docx

    assert _cli(fake_idx, "人工智能武器化", "--out", str(tmp_path / "n.docx")) == 0
    assert "wrote" in capsys.readouterr().err
    assert "[CD/PV.1505 turn" in "\n".join(p.text for p in docx.Document(str(tmp_path / "n.docx")).paragraphs)
    assert _cli(fake_idx, "人工智能武器化", "--docs", "EUR/44A25/1") == 0
    out = capsys.readouterr().out
    assert out.startswith("# 简报") and "[EUR/44A25/1 " in out and "CD/PV.1505" not in out


@pytest.mark.parametrize("args, msg", [
    (["  ", "--out", "{tmp}/n.md"], "topic is empty"),
    (["人工智能", "--docs", "NOPE/1", "--out", "{tmp}/n.md"], "unknown document 'NOPE/1'"),
    (["人工智能", "--format", "docx"], "needs --out"),
    (["人工智能", "--format", "md", "--out", "{tmp}/n.docx"], "make them agree"),
    (["人工智能", "--out", "{tmp}/missing/n.md"], "no such directory"),
    (["--docs", "CD/PV.1505", "人工智能"], "give the topic before --docs"),
])
def test_cli_bad_input_writes_nothing(fake_idx, tmp_path, capsys, args, msg):
    assert _cli(fake_idx, *[a.replace("{tmp}", str(tmp_path)) for a in args]) == 2
    assert msg in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_cli_uncovered_topic_writes_the_note(fake_idx, tmp_path, capsys):
    assert _cli(fake_idx, "deep-sea fishing quotas in the Pacific", "--out", str(tmp_path / "n.md")) == 0
    assert "do not cover" in (tmp_path / "n.md").read_text(encoding="utf-8")
    assert "do not cover" in capsys.readouterr().err


# --- language models ----------------------------------------------------------------------------------
class EchoModel:
    """A chat generator that answers with the first sentence of passage 1, plus unsupported points."""

    name = "echo"
    uses_model = True

    def __init__(self, extra: str = "", fail: bool = False) -> None:
        self.extra, self.fail, self.prompt = extra, fail, None

    def complete(self, messages):
        if self.fail:
            raise RuntimeError("model crashed")
        self.prompt = messages[-1][1]
        first = re.search(r"\[1\][^\n]*\n([^。；\n]+[。；]?)", self.prompt).group(1)
        return f"- {first} [1]\n- Fishing quotas in the Pacific were set at 40 tonnes. [2]\n- No citation at all.{self.extra}"


def test_model_summary_keeps_supported_points_only(fake_pipe):
    model = EchoModel()
    b = build_brief(fake_pipe, "人工智能武器化", options=WIDE, generator=model)
    assert "Topic: 人工智能武器化" in model.prompt and "Chinese" in model.prompt
    assert not b.summary[0].quote and b.summary[0].chunks and b.summary[0].citations[0] in model.prompt
    assert len(b.summary) == 3 and all(p.quote for p in b.summary[1:])  # topped up with key sentences
    assert any("dropped 2 summary point" in n for n in b.notes)
    assert b.generator == "echo"
    md = to_markdown(b)
    assert "echo" in md and f"{b.summary[0].cite_text()}" in md
    _check_grounded(b)


@pytest.mark.parametrize("model", [EchoModel(fail=True), "not-in-documents"])
def test_model_failure_falls_back_to_extractive(fake_pipe, model):
    if model == "not-in-documents":
        from langchain_core.language_models.fake_chat_models import FakeListChatModel

        from rag.generation.chat import ChatGenerator

        model = ChatGenerator(FakeListChatModel(responses=["NOT IN DOCUMENTS"]), "local")
    b = build_brief(fake_pipe, "人工智能武器化", options=WIDE, generator=model)
    assert b.summary and all(p.quote for p in b.summary)
    assert b.generator.endswith("→extractive") and any("key sentences quoted instead" in n for n in b.notes)
    _check_grounded(b)


# --- UI -----------------------------------------------------------------------------------------------
def test_ui_tab_builds_and_makes_files(fake_pipe, monkeypatch):
    import gradio as gr

    from ui import brief_tab

    ctx = SimpleNamespace(settings=fake_pipe.settings, pipeline=fake_pipe)
    with gr.Blocks():
        with gr.Tab("Briefing"):
            tab = brief_tab.build(ctx)
    assert {v for _, v in tab.docs.choices} >= SYMBOLS
    monkeypatch.setattr(brief_tab, "build_brief", lambda p, t, **kw: build_brief(p, t, options=WIDE, **kw))
    md, path = brief_tab.make_brief(ctx, "人工智能武器化", ["CD/PV.1505"], "docx", "extractive")
    assert md.startswith("# 简报") and path.endswith(".docx") and Path(path).stat().st_size > 0
    md, path = brief_tab.make_brief(ctx, "", [], "md", "extractive")
    assert md.startswith("**Error:**") and "topic is empty" in md and path is None
    md, path = brief_tab.make_brief(ctx, "人工智能", ["NOPE"], "md", "extractive")
    assert "unknown document 'NOPE'" in md and path is None


# --- the seeds with the real embedder -----------------------------------------------------------------
@pytest.fixture(scope="module")
def real_pipe(real_index_dir, real_embedder) -> Pipeline:
    return Pipeline(Settings(index_dir=real_index_dir, llm="extractive"), embedder=real_embedder)


def _cites(brief: Brief) -> str:
    return " ".join(brief.cited())


def _assert_three_documents(b: Brief) -> None:
    assert not b.refused
    _check_grounded(b)
    assert {s.symbol for s in b.sources} == SYMBOLS
    speakers = {g.label: g for g in b.positions}
    belarus = next(g for label, g in speakers.items() if "安布拉舍维奇" in label and "白俄罗斯" in label)
    unidir = next(g for label, g in speakers.items() if "维尼亚尔" in label and "裁军研究所" in label)
    for g in (belarus, unidir):
        assert g.symbol == "CD/PV.1505" and g.points
        assert all(p.citations[0].startswith("CD/PV.1505 turn ") for p in g.points)
    agreed = [c for p in b.agreed for c in p.citations]
    assert {"CCW/GGE.1/2023/2 ¶21(a)", "CCW/GGE.1/2023/2 ¶21(b)", "CCW/GGE.1/2023/2 ¶21(c)"} <= set(agreed)
    assert any(c.startswith("EUR/44A25/1 operative") for c in agreed)
    assert 3 <= len(b.summary) <= 5 and len({p.chunks[0].document for p in b.summary}) == 3


@pytest.mark.slow
def test_real_brief_chinese_topic(real_pipe):
    b = build_brief(real_pipe, "人工智能")
    _assert_three_documents(b)
    md = to_markdown(b)
    assert "### 安布拉舍维奇先生 (白俄罗斯) — CD/PV.1505" in md and "[CCW/GGE.1/2023/2 ¶21(a)]" in md
    assert any("明斯克" in p.text and "9 月 3 日" in p.text for p in b.dates)  # the Minsk conference


@pytest.mark.slow
def test_real_brief_english_topic_cites_the_same_documents(real_pipe):
    b = build_brief(real_pipe, "artificial intelligence")
    _assert_three_documents(b)
    assert b.language == "en" and "## Agreed text and conclusions" in to_markdown(b)


@pytest.mark.slow
def test_real_brief_docx(real_pipe, tmp_path):
    import docx

    b = build_brief(real_pipe, "人工智能")
    text = "\n".join(p.text for p in docx.Document(str(save(b, tmp_path / "b.docx", "docx"))).paragraphs)
    for cite in ("CCW/GGE.1/2023/2 ¶21(a)", "EUR/44A25/1 operative", "CD/PV.1505 turn 2 ¶10"):
        assert cite in text
    assert all(f"[{c}]" in text for c in b.cited())


@pytest.mark.slow
def test_real_unrelated_topic_is_not_covered(real_pipe):
    # In the documents' language: English off-topic topics over Chinese documents score within the range of
    # answerable English questions with e5-small (README, "Refusals"), so the calibrated threshold lets them by.
    b = build_brief(real_pipe, "太平洋深海捕鱼配额")
    assert b.refused and to_markdown(b) == "# 简报: 太平洋深海捕鱼配额\n\n已收录的文件不涉及这一议题：没有足够相关的段落可供编写简报。\n"


@pytest.mark.slow
def test_real_brief_summary_written_by_the_local_model_is_checked(real_pipe):
    """The model's summary is used (not the fallback), and every point it kept is backed by the passage it cites."""
    from rag.answer.citations import check_citations, semantic_scorer  # the checker the summary went through
    from rag.generation.llm import llama_cpp_available
    from rag.models.gguf import local_model_available

    if not (llama_cpp_available() and local_model_available(real_pipe.settings)):
        pytest.skip("the local model is not installed (bash scripts/install_local_llm.sh)")
    b = build_brief(real_pipe, "人工智能", llm="local")
    assert b.generator == "local" and not b.refused
    model_points = [p for p in b.summary if not p.quote]
    assert 1 <= len(model_points) <= 5
    for p in model_points:
        hits = [Hit(c, score=0.0, rank=n) for n, c in enumerate(p.chunks, 1)]
        marked = p.text + "".join(f"[{n}]" for n in range(1, len(hits) + 1))
        checked = check_citations(marked, hits, semantic=semantic_scorer(real_pipe.embedder))
        _text, cits, _notes = checked.text, checked.citations, checked.notes
        assert cits and all(c.supported for c in cits), p.text
    _check_grounded(b)
