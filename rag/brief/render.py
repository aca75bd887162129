"""Rendering of a `Brief` as Markdown and DOCX, with headings in the topic's language and citations as text."""
from __future__ import annotations

import os
import uuid
from pathlib import Path

from rag.brief.model import Brief, Point
from rag.errors import RagError
from rag.sanitize import md_escape

_KEYS = ("title", "summary", "agreed", "positions", "dates", "sources", "none", "not_covered", "draft", "basis",
         "model")
LABELS = {
    "en": ("Briefing note", "Summary", "Agreed text and conclusions", "Positions by delegation or speaker",
           "Dates and next steps", "Sources", "Nothing on this topic in the passages found.",
           "The indexed documents do not cover this topic: no passage is close enough to it to brief on.",
           "draft", "Drawn from {n} passages of {d} documents; quotations are verbatim, each followed by its "
           "document symbol and paragraph.", "Summary written by the {g} model from the cited passages."),
    "zh": ("简报", "摘要", "商定案文和结论", "各代表团或发言者的立场", "日期和后续步骤", "资料来源",
           "所找到的段落中没有关于此议题的内容。", "已收录的文件不涉及这一议题：没有足够相关的段落可供编写简报。",
           "草案", "依据 {d} 份文件中的 {n} 个段落；引文均为原文，并注明文号和段落。", "摘要由 {g} 模型根据所引段落撰写。"),
    "fr": ("Note d'information", "Résumé", "Textes convenus et conclusions", "Positions des délégations et orateurs",
           "Dates et prochaines étapes", "Sources", "Rien sur ce sujet dans les passages trouvés.",
           "Les documents indexés ne traitent pas de ce sujet : aucun passage n'en est assez proche.",
           "projet", "Établie à partir de {n} passages de {d} documents ; citations textuelles, suivies de la cote "
           "et du paragraphe.", "Résumé rédigé par le modèle {g} à partir des passages cités."),
    "es": ("Nota informativa", "Resumen", "Textos acordados y conclusiones", "Posiciones de delegaciones y oradores",
           "Fechas y próximos pasos", "Fuentes", "Nada sobre este tema en los pasajes encontrados.",
           "Los documentos indexados no tratan este tema: ningún pasaje se acerca lo suficiente.",
           "proyecto", "Basada en {n} pasajes de {d} documentos; citas literales, seguidas de la signatura y el "
           "párrafo.", "Resumen redactado por el modelo {g} a partir de los pasajes citados."),
    "ru": ("Справочная записка", "Резюме", "Согласованные тексты и выводы", "Позиции делегаций и ораторов",
           "Даты и дальнейшие шаги", "Источники", "В найденных фрагментах об этом ничего нет.",
           "Проиндексированные документы не охватывают эту тему: нет достаточно близких фрагментов.",
           "проект", "Составлено по {n} фрагментам из {d} документов; цитаты дословные, с условным обозначением и "
           "пунктом.", "Резюме написано моделью {g} по цитируемым фрагментам."),
}


def labels(language: str) -> dict[str, str]:
    return dict(zip(_KEYS, LABELS.get(language, LABELS["en"])))


_md = md_escape


def _cite_md(p: "Point") -> str:
    """`[symbol ¶n]` per citation, the symbol and locator escaped (a symbol is document text)."""
    return "".join(f"[{md_escape(c)}]" for c in dict.fromkeys(p.citations))


def _source_line(s, L) -> str:
    k = (s.kind or "").replace("_", " ")
    kind = f"{k}, {L['draft']}" if s.draft and k else (L["draft"] if s.draft else k)
    parts = [s.symbol, s.title or "", s.date or ""]
    return " — ".join(p for p in parts if p) + (f" ({kind})" if kind else "")


def sections(brief: Brief) -> list[tuple[str, list[tuple[str | None, list[Point]]]]]:
    """(section heading, [(group heading or None, points)]) in the order of the note."""
    L = labels(brief.language)
    agreed: dict[str, list] = {}
    for p in brief.agreed:
        agreed.setdefault(p.chunks[0].document, []).append(p)
    groups = []
    for doc_id, pts in agreed.items():
        s = brief.source(doc_id)
        head = f"{s.symbol} — {s.title}" if s and s.title else (s.symbol if s else doc_id)
        groups.append((head + (f" ({L['draft']})" if s and s.draft else ""), pts))
    return [
        (L["summary"], [(None, brief.summary)]),
        (L["agreed"], groups),
        (L["positions"], [(f"{g.label} — {g.symbol}", g.points) for g in brief.positions]),
        (L["dates"], [(None, brief.dates)]),
    ]


def to_markdown(brief: Brief) -> str:
    L = labels(brief.language)
    out = [f"# {L['title']}: {_md(brief.topic)}", ""]
    if brief.refused:
        return "\n".join(out + [L["not_covered"], ""])
    out += [f"*{L['basis'].format(n=brief.passages, d=len(brief.sources))}*", ""]
    for head, groups in sections(brief):
        out += [f"## {_md(head)}", ""]
        if not any(pts for _, pts in groups):
            out += [L["none"], ""]
            continue
        for sub, pts in groups:
            if sub:
                out += [f"### {_md(sub)}", ""]
            out += [f"- {_md(p.text)} {_cite_md(p)}" for p in pts] + [""]
        if head == L["summary"] and any(not p.quote for p in brief.summary):
            out += [f"*{L['model'].format(g=brief.generator)}*", ""]
    out += [f"## {L['sources']}", ""] + [f"- {_md(_source_line(s, L))}" for s in brief.sources] + [""]
    return "\n".join(out)


def to_docx(brief: Brief, path: Path) -> Path:
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    L = labels(brief.language)
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.size = Pt(10.5)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "SimSun")  # CJK text renders
    doc.core_properties.title = f"{L['title']}: {brief.topic}"
    doc.core_properties.subject = brief.topic
    doc.add_heading(f"{L['title']}: {brief.topic}", level=0)
    if brief.refused:
        doc.add_paragraph(L["not_covered"])
        doc.save(str(path))
        return path
    doc.add_paragraph().add_run(L["basis"].format(n=brief.passages, d=len(brief.sources))).italic = True

    def bullet(p: Point) -> None:
        para = doc.add_paragraph(style="List Bullet")
        para.add_run(" ".join(p.text.split()) + " ")
        run = para.add_run(p.cite_text())
        run.font.color.rgb = RGBColor(0x1F, 0x4E, 0x79)

    for head, groups in sections(brief):
        doc.add_heading(head, level=1)
        if not any(pts for _, pts in groups):
            doc.add_paragraph(L["none"])
            continue
        for sub, pts in groups:
            if sub:
                doc.add_heading(sub, level=2)
            for p in pts:
                bullet(p)
        if head == L["summary"] and any(not p.quote for p in brief.summary):
            doc.add_paragraph().add_run(L["model"].format(g=brief.generator)).italic = True
    doc.add_heading(L["sources"], level=1)
    for s in brief.sources:
        doc.add_paragraph(_source_line(s, L), style="List Bullet")
    doc.save(str(path))
    return path


def save(brief: Brief, path: str | Path, fmt: str) -> Path:
    """Write the note atomically as `fmt` ("md" or "docx"): a failure leaves no file (and never a half-written one).

    Args:
        brief: the note.
        path: where to write it; its directory must exist.
        fmt: "md" or "docx".
    Returns:
        The path written.
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise RagError(f"cannot write {path}: no such directory {path.parent}")
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")  # same directory: the rename is atomic
    try:
        if fmt == "docx":
            to_docx(brief, tmp)
        else:
            tmp.write_text(to_markdown(brief), encoding="utf-8")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
