"""Convert SQuAD-format JSON (e.g. CMRC 2018) into a gold JSONL file and a corpus of context .txt files."""
from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from rag.errors import RagError

_ENDERS = "。！？!?"
_CLOSERS = "”’」』）)】》\"'"
_SAFE = re.compile(r"[^\w.\-]+")


@dataclass
class SquadStats:
    """What a conversion did: counts, and the questions it could not use (with the reason)."""

    contexts: int = 0
    questions: int = 0
    unanswerable: int = 0
    relocated: int = 0  # answers whose answer_start was wrong but whose text occurs in the context
    dropped: list[tuple[str, str]] = field(default_factory=list)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of `text`, covering it in order. A sentence ends after a run of
    。！？!? (plus any closing quotes or brackets), after a "." followed by whitespace, or at a newline."""
    spans: list[tuple[int, int]] = []
    n, start, i = len(text), 0, 0
    while i < n:
        ch, end = text[i], 0
        if ch == "\n":
            end = i + 1
        elif ch in _ENDERS or ch == ".":
            j = i + 1
            while j < n and text[j] in _ENDERS:
                j += 1
            while j < n and text[j] in _CLOSERS:
                j += 1
            if ch != "." or j == n or text[j].isspace():
                end = j
        if end:
            spans.append((start, end))
            start = i = end
        else:
            i += 1
    if start < n:
        spans.append((start, n))
    return spans


def evidence_sentence(context: str, start: int, length: int) -> str:
    """The sentence of `context` holding the span [start, start+length), or the joined sentences when
    the span crosses a sentence boundary; surrounding whitespace stripped."""
    end = start + max(length, 1)
    spans = split_sentences(context)
    lo = next(s for s, e in spans if s <= start < e)
    hi = next(e for s, e in spans if s < end <= e)
    return context[lo:hi].strip()


def _locate(context: str, text: str, start: Any) -> int | None:
    """Where the answer text lies: at `answer_start` when it matches there, else its nearest occurrence."""
    if isinstance(start, int) and context[start:start + len(text)] == text:
        return start
    hits = [m.start() for m in re.finditer(re.escape(text), context)]
    if not hits:
        return None
    ref = start if isinstance(start, int) else 0
    return min(hits, key=lambda h: abs(h - ref))


def _load(path: str | Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise RagError(f"{path}: file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise RagError(f"{path}: not valid SQuAD JSON ({e})") from None
    articles = data.get("data") if isinstance(data, dict) else None
    if not isinstance(articles, list):
        raise RagError(f'{path}: not SQuAD format (no "data" list)')
    return articles


def _iter_contexts(articles: list[dict[str, Any]]) -> list[tuple[str, str, dict[str, Any]]]:
    """(doc_id, title, paragraph) for every context; doc_id = the paragraph id, else the article id or
    title with the paragraph index; made unique by a numeric suffix when needed."""
    out: list[tuple[str, str, dict[str, Any]]] = []
    seen: set[str] = set()
    for ai, art in enumerate(articles):
        title = str(art.get("title") or "")
        paras = art.get("paragraphs") or []
        for pi, para in enumerate(paras):
            base = para.get("id") or (
                (str(art.get("id") or title or f"article{ai}") + (f"_{pi}" if len(paras) > 1 else "")))
            doc_id = _SAFE.sub("_", str(base)).strip("_") or f"ctx{ai}_{pi}"
            n, unique = 1, doc_id
            while unique in seen:
                n += 1
                unique = f"{doc_id}-{n}"
            seen.add(unique)
            out.append((unique, title, para))
    return out


def squad_contexts(path: str | Path) -> list[tuple[str, str, str]]:
    """The contexts of a SQuAD file as (doc_id, title, text), in file order."""
    return [(doc_id, title, str(p.get("context", ""))) for doc_id, title, p in _iter_contexts(_load(path))]


def squad_to_gold(path: str | Path) -> tuple[list[dict[str, Any]], SquadStats]:
    """Gold records (one per question) from a SQuAD file, and conversion statistics.

    answers = the distinct answer texts in order; evidence = the sentence holding the first answer span
    (SQuAD 2.0 questions without answers become unanswerable records: answers [] and evidence []);
    doc = the context's doc_id (as in `squad_contexts`, the stem of its corpus file); id = the qa id.
    A question whose first answer is not in its context is dropped (listed in `stats.dropped`);
    a duplicate or missing qa id raises RagError.
    """
    records: list[dict[str, Any]] = []
    stats = SquadStats()
    ids: set[str] = set()
    for doc_id, title, para in _iter_contexts(_load(path)):
        stats.contexts += 1
        context = str(para.get("context", ""))
        for qa in para.get("qas") or []:
            qid = qa.get("id")
            if qid is None or str(qid) == "":
                raise RagError(f"{path}: a question in context {doc_id} has no id")
            qid = str(qid)
            if qid in ids:
                raise RagError(f"{path}: duplicate question id {qid}")
            ids.add(qid)
            answers: list[str] = []
            for a in qa.get("answers") or []:
                t = str(a.get("text", ""))
                if t.strip() and t not in answers:
                    answers.append(t)
            evidence: list[str] = []
            if answers:
                first = next(a for a in qa["answers"] if str(a.get("text", "")).strip())
                text = str(first["text"])
                at = _locate(context, text, first.get("answer_start"))
                if at is None:
                    stats.dropped.append((qid, "answer text not found in its context"))
                    continue
                if at != first.get("answer_start"):
                    stats.relocated += 1
                evidence = [evidence_sentence(context, at, len(text))]
            else:
                stats.unanswerable += 1
            records.append({"id": qid, "question": str(qa.get("question", "")), "answers": answers,
                            "evidence": evidence, "doc": doc_id, "title": title})
            stats.questions += 1
    return records, stats


def write_corpus(contexts: Sequence[tuple[str, str, str]], corpus_dir: str | Path) -> int:
    """Write each context verbatim as `<doc_id>.txt` (UTF-8) under corpus_dir; returns the file count."""
    out = Path(corpus_dir)
    out.mkdir(parents=True, exist_ok=True)
    for doc_id, _title, text in contexts:
        (out / f"{doc_id}.txt").write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    return len(contexts)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m rag.squad", description=__doc__)
    ap.add_argument("input", help="SQuAD-format JSON file")
    ap.add_argument("output", help="gold JSONL file to write")
    ap.add_argument("--corpus-dir", help="also write every context as <doc_id>.txt here, for ingestion")
    args = ap.parse_args(argv)
    try:
        records, stats = squad_to_gold(args.input)
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        with open(args.output, "w", encoding="utf-8") as fh:
            for r in records:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
        n_files = write_corpus(squad_contexts(args.input), args.corpus_dir) if args.corpus_dir else 0
    except RagError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"{stats.questions} questions from {stats.contexts} contexts -> {args.output}"
          f" ({stats.unanswerable} unanswerable, {stats.relocated} answer offsets corrected,"
          f" {len(stats.dropped)} dropped)")
    if args.corpus_dir:
        print(f"{n_files} context files -> {args.corpus_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
