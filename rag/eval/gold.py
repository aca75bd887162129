"""Load and validate gold question files (JSON Lines, see the gold format) and match evidence in passages."""
from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

from rag.errors import RagError

KNOWN_FIELDS = ("id", "question", "answers", "evidence", "doc")


@dataclass
class GoldQuestion:
    """One gold question; `extra` holds the unknown fields of its line, `line` its 1-based line number."""

    id: str
    question: str
    answers: list[str]
    evidence: list[str]
    doc: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    line: int = 0

    @property
    def answerable(self) -> bool:
        """False when the corpus does not answer the question (no reference answers)."""
        return bool(self.answers)

    def to_dict(self) -> dict[str, Any]:
        """The question as a gold-file record (known fields first, then the extra ones)."""
        d: dict[str, Any] = {"id": self.id, "question": self.question, "answers": list(self.answers),
                             "evidence": list(self.evidence), "doc": self.doc}
        d.update(self.extra)
        return d


@dataclass
class GoldSet:
    """The valid questions of a gold file and the `(line, problem)` of every line skipped."""

    questions: list[GoldQuestion]
    skipped: list[tuple[int, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.questions)

    def __iter__(self) -> Iterator[GoldQuestion]:
        return iter(self.questions)

    def by_id(self) -> dict[str, GoldQuestion]:
        return {q.id: q for q in self.questions}


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "bool", int: "int", float: "float", str: "str", list: "list", dict: "object"}.get(
        type(value), type(value).__name__)


def _string_list(rec: dict[str, Any], name: str) -> list[str]:
    if name not in rec:
        raise ValueError(f'missing field "{name}"')
    value = rec[name]
    if not isinstance(value, list):
        raise ValueError(f'field "{name}" must be a list of strings, got {_type_name(value)}')
    for i, item in enumerate(value, 1):
        if not isinstance(item, str):
            raise ValueError(f'field "{name}" must be a list of strings, item {i} is {_type_name(item)}')
        if not normalize_for_match(item):
            raise ValueError(f'field "{name}" item {i} is empty')
    return list(value)


def _text_field(rec: dict[str, Any], name: str) -> str:
    if name not in rec:
        raise ValueError(f'missing field "{name}"')
    value = rec[name]
    if not isinstance(value, str):
        raise ValueError(f'field "{name}" must be a string, got {_type_name(value)}')
    if not value.strip():
        raise ValueError(f'field "{name}" is empty')
    return value


def parse_record(rec: Any, line: int = 0) -> GoldQuestion:
    """Validate one decoded JSON value; raises ValueError with the problem (without file and line)."""
    if not isinstance(rec, dict):
        raise ValueError(f"expected a JSON object, got {_type_name(rec)}")
    qid = _text_field(rec, "id")
    question = _text_field(rec, "question")
    answers = _string_list(rec, "answers")
    evidence = _string_list(rec, "evidence")
    doc = rec.get("doc")
    if doc is not None and not isinstance(doc, str):
        raise ValueError(f'field "doc" must be a string or null, got {_type_name(doc)}')
    extra = {k: v for k, v in rec.items() if k not in KNOWN_FIELDS}
    return GoldQuestion(id=qid, question=question, answers=answers, evidence=evidence,
                        doc=doc or None, extra=extra, line=line)


def load_gold(path: str | Path, skip_invalid: bool = False) -> GoldSet:
    """Read a gold JSONL file.

    Blank lines are ignored; a UTF-8 BOM is accepted. Any bad line (undecodable bytes, malformed JSON,
    a missing or ill-typed field, an empty id/question/answer/evidence string, a duplicate id) raises
    RagError naming the file, the line and the problem, e.g.
    `gold.jsonl line 7: field "answers" must be a list of strings, got str`.
    With `skip_invalid=True` such lines are recorded in `GoldSet.skipped` instead; the first line with
    a given id wins. A file without any valid question is always an error.
    """
    p = Path(path)
    name = str(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise RagError(f"{name}: gold file not found") from None
    except OSError as e:
        raise RagError(f"{name}: cannot read gold file ({e.strerror or e})") from None
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    questions: list[GoldQuestion] = []
    skipped: list[tuple[int, str]] = []
    first_line: dict[str, int] = {}
    for lineno, chunk in enumerate(raw.split(b"\n"), 1):
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError as e:
            problem = f"not valid UTF-8 (byte {e.start + 1})"
        else:
            if not text.strip():
                continue
            try:
                rec = json.loads(text)
            except json.JSONDecodeError as e:
                problem = f"invalid JSON: {e.msg} (column {e.colno})"
            else:
                try:
                    q = parse_record(rec, lineno)
                except ValueError as e:
                    problem = str(e)
                else:
                    if q.id in first_line:
                        problem = f'duplicate id "{q.id}" (first used on line {first_line[q.id]})'
                    else:
                        first_line[q.id] = lineno
                        questions.append(q)
                        continue
        if not skip_invalid:
            raise RagError(f"{name} line {lineno}: {problem}")
        skipped.append((lineno, problem))
    if not questions:
        if skipped:
            raise RagError(f"{name}: no valid questions ({len(skipped)} invalid lines skipped)")
        raise RagError(f"{name}: the gold file is empty (no questions)")
    return GoldSet(questions=questions, skipped=skipped)


def write_gold(questions: Sequence[GoldQuestion | dict[str, Any]], path: str | Path) -> None:
    """Write questions as a UTF-8 gold JSONL file (no BOM, one compact object a line)."""
    with open(path, "w", encoding="utf-8") as fh:
        for q in questions:
            rec = q.to_dict() if isinstance(q, GoldQuestion) else q
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")


def normalize_for_match(s: str) -> str:
    """NFKC-normalise, then drop every whitespace character (the gold format's matching key)."""
    return "".join(unicodedata.normalize("NFKC", s).split())


def matched_evidence(passage_text: str, evidence: Sequence[str]) -> list[int]:
    """Indices of the evidence strings that the passage contains under the matching rule."""
    hay = normalize_for_match(passage_text)
    out = []
    for i, ev in enumerate(evidence):
        needle = normalize_for_match(ev)
        if needle and needle in hay:
            out.append(i)
    return out


def contains_evidence(passage_text: str, evidence: Sequence[str]) -> bool:
    """True when the passage contains at least one evidence string (whitespace-insensitive, NFKC).

    An empty evidence list (an unanswerable question) is never contained; empty strings never match.
    """
    return bool(matched_evidence(passage_text, evidence))
