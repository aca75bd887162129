"""Writing a Milvus store: documents staged as rows of an unpublished generation, published by one pointer upsert.

A commit of generation G+1 (1) inserts the new documents' rows with `gen = G+1` and fresh row ids above every
row ever used (readers filter `gen <= G`, so they are invisible), (2) writes the manifest of G+1 (documents, their
row ranges, and the row ranges it supersedes as `dead`), (3) upserts the `CURRENT` pointer: the one atomic step,
(4) deletes the superseded rows, whose ranges readers of G+1 exclude until then. A writer that dies before (3)
leaves the published snapshot untouched; the next writer deletes its leftovers (rows and records with a later
gen) before writing. One writer at a time: a second one is detected at commit and refused.
"""
from __future__ import annotations

import json
import os
import socket
import time
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np

from index.base import check_vectors, doc_with_source, resolve_doc_name
from index.milvus.client import (
    CHUNK_STR_FIELDS,
    FORMAT_VERSION,
    MAX_VARCHAR,
    MilvusStoreError,
    StoreSpec,
    connect,
    create_collections,
    drop_collections,
    ensure_loaded,
    keyword_form,
    meta_name,
    new_version,
    read_manifest,
    read_pointer,
    write_parts,
)
from index.milvus.store import check_manifest, rebuild_hint
from rag.errors import RagError
from rag.types import Chunk, DocMeta

INSERT_BATCH = 500  # rows per insert call: ~1 MB of 384-d vectors and texts, well under gRPC's 64 MB message
# A writer holds the `LOCK` record while it runs, refreshed on every document; one that died is recognised at
# once on the same host (its process is gone), elsewhere once its lease is this old. A large document embeds in
# well under a minute on 2 cores, so 10 minutes without a refresh means the writer is gone.
LEASE_S = 600
FLUSH_ROWS = 100  # rows written since the last flush that make a commit flush (see commit)


@dataclass
class StagedDoc:
    """A document of the store as the writer sees it: metadata and where its rows are."""

    meta: DocMeta
    row: int  # first row id
    n: int  # number of chunks (rows row .. row+n-1)
    gen: int  # the generation that wrote its rows and text
    text_parts: int

    @property
    def chunks(self) -> range:
        """Its rows (their count is the number of chunks)."""
        return range(self.row, self.row + self.n)


def _fit(value: str, limit: int = MAX_VARCHAR) -> str:
    data = value.encode("utf-8")
    return value if len(data) <= limit else data[:limit].decode("utf-8", errors="ignore")


def _row(row: int, gen: int, c: Chunk, meta: DocMeta, vector: np.ndarray) -> dict[str, Any]:
    for name in ("text", "context"):
        if len(getattr(c, name).encode("utf-8")) > MAX_VARCHAR:
            raise MilvusStoreError(f"chunk {c.chunk_id} has a {name} over {MAX_VARCHAR} bytes, more than a Milvus "
                                   "VARCHAR holds; the chunker keeps chunks under 300 tokens, so this file is unusual")
    r: dict[str, Any] = {
        "row": row, "gen": gen, "doc_id": c.doc_id, "chunk_id": c.chunk_id, "locator": _fit(c.locator, 1024),
        "text": c.text, "span_start": c.start, "span_end": c.end,
        "headings": _fit(json.dumps(c.headings, ensure_ascii=False)), "ordinal": c.ordinal, "context": c.context,
        "unit": _fit(c.unit, 1024), "date": meta.date,
        "f_speaker": _fit((c.speaker or "").lower(), 1024), "f_delegation": _fit((c.delegation or "").lower(), 1024),
        "f_body": _fit((c.body or "").lower(), 1024), "f_language": (c.language or "").lower()[:16],
        "keyword": _fit(keyword_form(c.keyword_text())),
        "vector": vector.astype(np.float32).tolist(),
    }
    for name, size in CHUNK_STR_FIELDS.items():
        v = getattr(c, name)
        r[name] = None if v is None else _fit(v, size)
    return r


class MilvusWriter:
    """Stages changes to a Milvus store and publishes them as one new snapshot; readers never see a partial one."""

    def __init__(self, spec: StoreSpec, model: str | None = None, dim: int | None = None,
                 chunker_version: str | None = None, rebuild: bool = False, client: Any = None) -> None:
        """Open the store at `spec` for writing, creating its collections on first use.

        Args:
            spec: URI and collection.
            model, dim, chunker_version: what the new rows are made with; a store built otherwise is refused
                unless `rebuild`. None: the store's own (removing needs no embedder).
            rebuild: start from an empty store (published atomically at commit, unless the vector dimension
                changes: then the collections are dropped and recreated first).
            client: a connected MilvusClient to reuse.
        Raises:
            MilvusStoreError: Milvus unreachable, a server without the BM25 function, or an incompatible store.
        """
        self.spec = spec
        self.location = spec.location
        self.client = client or connect(spec)
        self.entries: dict[str, StagedDoc] = {}
        self.previous_paths: list[str] = []
        self.changed = False
        self._dead: list[tuple[int, int]] = []
        self._compact = False
        self._dead_texts: list[tuple[str, int, int]] = []  # (doc_id, gen, parts) of superseded texts
        self._owner = {"host": socket.gethostname(), "pid": os.getpid(), "id": uuid.uuid4().hex}
        if self.client.has_collection(meta_name(spec.collection)):
            ensure_loaded(self.client, spec.collection)
            self._lock()
        try:
            self._open(spec, model, dim, chunker_version, rebuild)
        except BaseException:
            self._unlock()  # a refused or failed open must not keep the lease (the next writer would wait on it)
            raise

    def _open(self, spec: StoreSpec, model: str | None, dim: int | None, chunker_version: str | None,
              rebuild: bool) -> None:
        pointer = read_pointer(self.client, spec.collection)
        manifest = read_manifest(self.client, spec.collection, pointer) if pointer else None
        self.base_version = str(pointer["version"]) if pointer else None
        self.base_gen = int(pointer["gen"]) if pointer else 0
        self.gen = self.base_gen + 1
        self.next_row = int(manifest["next_row"]) if manifest else 0
        self.unflushed = int(manifest.get("unflushed", 0)) if manifest else 0
        if model is None or dim is None or chunker_version is None:
            if manifest is None:
                raise MilvusStoreError(f"no store at {spec.location}: build one with `rag ingest PATH... --store "
                                       f"milvus:{spec.uri} --collection {spec.collection}`")
            model, dim = model or manifest["model"], dim or int(manifest["dim"])
            chunker_version = chunker_version or str(manifest["chunker_version"])
        self.model, self.dim, self.chunker_version = model, int(dim), str(chunker_version)
        if manifest and not rebuild:
            check_manifest(spec.location, manifest, model, dim, chunker_version, rebuild_hint(spec))
        if manifest and rebuild:
            self.previous_paths = [e["meta"]["path"] for e in manifest["documents"].values() if e["meta"].get("path")]
        stored_dim = self._collection_dim()
        if stored_dim is not None and stored_dim != dim and (rebuild or manifest is None):
            drop_collections(self.client, spec.collection)  # vectors of another size cannot share the field
            stored_dim, manifest, self.base_gen, self.gen, self.next_row = None, None, 0, 1, 0
        if stored_dim is None:
            create_collections(self.client, spec.collection, dim)
            self._lock()
        self._collect(manifest)
        if manifest is None:
            self.changed = rebuild
            return
        entries = {d: StagedDoc(DocMeta.from_dict(e["meta"]), int(e["row"]), int(e["n"]), int(e["gen"]),
                                int(e["text_parts"])) for d, e in manifest["documents"].items()}
        if rebuild:
            for d, e in entries.items():
                self._supersede(e)
            self.changed = True
        else:
            self.entries = entries

    @property
    def docs(self) -> dict[str, DocMeta]:
        """The documents as they will be after commit: published ones, plus staged changes."""
        return {d: e.meta for d, e in self.entries.items()}

    def chunk_count(self, doc_id: str) -> int:
        """Number of chunks of a document in `docs`."""
        return self.entries[doc_id].n

    def resolve_doc(self, name: str) -> str:
        """A doc id in `docs` from a symbol, doc id or source file name; RagError listing the known ones otherwise."""
        return resolve_doc_name(self.docs, name, f"the store {self.location}")

    def __enter__(self) -> "MilvusWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _lock(self) -> None:
        """Take the collection's writer lease, or MilvusStoreError naming the writer that holds it."""
        got = self.client.get(meta_name(self.spec.collection), ids=["LOCK"], output_fields=["value"])
        if got:
            held = json.loads(got[0]["value"])
            alive = True
            if held["host"] == self._owner["host"]:
                try:
                    os.kill(int(held["pid"]), 0)
                except ProcessLookupError:
                    alive = False
                except PermissionError:
                    pass
            if held["id"] != self._owner["id"] and alive and time.time() - held["time"] < LEASE_S:
                raise MilvusStoreError(
                    f"another writer (process {held['pid']} on {held['host']}) is changing {self.spec.location}; "
                    f"wait for it to finish (a writer that died frees it within {LEASE_S // 60} minutes)")
        self._refresh()

    def _refresh(self) -> None:
        value = json.dumps({**self._owner, "time": time.time()})
        self.client.upsert(meta_name(self.spec.collection),
                           [{"key": "LOCK", "gen": 0, "value": value, "v": [0.0] * 2}])

    def _unlock(self) -> None:
        if not self.client.has_collection(meta_name(self.spec.collection)):
            return
        got = self.client.get(meta_name(self.spec.collection), ids=["LOCK"], output_fields=["value"])
        if got and json.loads(got[0]["value"])["id"] == self._owner["id"]:
            self.client.delete(meta_name(self.spec.collection), ids=["LOCK"])

    def close(self) -> None:
        """Give up without publishing: delete what this writer wrote, free the lock."""
        if self.changed:
            self.abort()
        self._unlock()

    def _collection_dim(self) -> int | None:
        if not self.client.has_collection(self.spec.collection):
            return None
        for f in self.client.describe_collection(self.spec.collection)["fields"]:
            if f["name"] == "vector":
                return int(f["params"]["dim"])
        return None

    def _collect(self, manifest: dict[str, Any] | None) -> None:
        """Delete what no published snapshot needs: rows and records of a writer that died before publishing,
        and the rows the published snapshot superseded (a writer that died before deleting them)."""
        self.client.delete(self.spec.collection, filter=f"gen > {self.base_gen}")
        self.client.delete(meta_name(self.spec.collection), filter=f"gen > {self.base_gen}")
        for a, b in (manifest or {}).get("dead", []):
            self.client.delete(self.spec.collection, filter=f"row >= {int(a)} and row < {int(b)}")

    def _supersede(self, doc: StagedDoc) -> None:
        if doc.gen == self.gen:  # staged by this writer and never published: gone at once
            self.client.delete(self.spec.collection, filter=f"row >= {doc.row} and row < {doc.row + doc.n}")
            self.client.delete(meta_name(self.spec.collection),
                               filter=f'gen == {self.gen} and key like "text:{doc.meta.doc_id}:{self.gen}:%"')
            return
        if doc.n:
            self._dead.append((doc.row, doc.row + doc.n))
        self._dead_texts.append((doc.meta.doc_id, doc.gen, doc.text_parts))

    def find_by_source(self, source: str, sha256: str) -> str | None:
        """Doc id of an already-stored file with this name and content (re-adding it is a no-op)."""
        return doc_with_source(self.docs, source, sha256)

    def add(self, meta: DocMeta, text: str, chunks: list[Chunk], embeddings: np.ndarray) -> None:
        """Write a document's rows and text, unpublished until `commit` (replacing one with the same doc id).

        Args:
            meta: the document's metadata; `meta.doc_id` is its key.
            text: the cleaned text the chunks' spans index.
            chunks: its chunks, in document order (they get consecutive row ids).
            embeddings: one row per chunk, shape (len(chunks), dim).
        """
        check_vectors(embeddings, len(chunks), self.dim)
        self._refresh()
        old = self.entries.pop(meta.doc_id, None)
        if old is not None:
            self._supersede(old)
        start = self.next_row
        rows = [_row(start + i, self.gen, c, meta, embeddings[i]) for i, c in enumerate(chunks)]
        for i in range(0, len(rows), INSERT_BATCH):
            self.client.insert(self.spec.collection, rows[i : i + INSERT_BATCH])
        parts = write_parts(self.client, self.spec.collection, f"text:{meta.doc_id}:{self.gen}", self.gen, text)
        self.next_row = start + len(chunks)
        self.entries[meta.doc_id] = StagedDoc(meta, start, len(chunks), self.gen, parts)
        self.changed = True

    def remove(self, doc_id: str) -> None:
        """Stage the removal of `doc_id`; RagError listing the stored documents when it is not one of them."""
        if doc_id not in self.entries:
            known = ", ".join(sorted(self.entries)) or "(none)"
            raise RagError(f"unknown document {doc_id!r}; the store {self.spec.location} holds: {known}")
        self._supersede(self.entries.pop(doc_id))
        self.changed = True

    def compact(self) -> None:
        """Stage a compaction (`rag compact`): after the next commit Milvus merges the collection's segments and
        purges deleted rows (it deletes superseded rows at every commit already; this reclaims their space)."""
        self._compact = True
        self.changed = True

    def abort(self) -> None:
        """Delete what this writer wrote and did not publish (the next writer would otherwise do it); by row range
        and key, so rows of another writer that shared the generation number stay."""
        mine = [d for d in self.entries.values() if d.gen == self.gen]
        for d in mine:
            if d.n:
                self.client.delete(self.spec.collection, filter=f"row >= {d.row} and row < {d.row + d.n}")
        keys = [f"text:{d.meta.doc_id}:{self.gen}:{i}" for d in mine for i in range(d.text_parts)]
        for i in range(0, len(keys), 500):
            self.client.delete(meta_name(self.spec.collection), ids=keys[i : i + 500])
        self.changed = False

    def _step(self, name: str) -> None:
        """A point between the steps of a commit (tests make a writer fail here)."""

    def commit(self) -> str | None:
        """Publish the staged changes as a new snapshot.

        Returns:
            The new version, or None when nothing was staged.
        Raises:
            MilvusStoreError: another writer published since this one opened, or rows went missing; nothing of
                this writer is published then.
        """
        if not self.changed:
            self._unlock()
            return None
        c, name = self.client, self.spec.collection
        self._step("rows")
        expected = sum(d.n for d in self.entries.values() if d.gen == self.gen)
        counted = c.query(name, filter=f"gen == {self.gen}", output_fields=["count(*)"])[0]["count(*)"]
        pointer = read_pointer(c, name)
        if int(pointer["gen"] if pointer else 0) != self.base_gen or counted != expected:
            self.abort()
            self._unlock()
            raise MilvusStoreError(f"another writer changed {self.spec.location} while this one ran (found "
                                   f"{counted} of {expected} new rows); nothing was published: run the command again")
        # Sealed, indexed segments: Milvus Lite searches rows still in its write buffer by brute force in Python
        # (dense / BM25 ms a query before a flush and after: 200 rows 26 / 36 and 13 / 15; 700 rows 40 / 109 and
        # 16 / 18; 2,000 rows 92 / 168 and 22 / 22; 10,000 rows 309 / 907 and 32 / 52), and a flush costs 0.2-0.3 s
        # (100-700 rows): every commit that leaves FLUSH_ROWS rows waiting flushes.
        unflushed = self.unflushed + expected
        flush = unflushed >= FLUSH_ROWS or self._compact
        manifest = {
            "format": FORMAT_VERSION, "model": self.model, "dim": self.dim, "chunker_version": self.chunker_version,
            "unflushed": 0 if flush else unflushed,
            "dense_kind": "milvus-flat", "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "gen": self.gen,
            "next_row": self.next_row, "dead": [list(r) for r in self._dead],
            "counts": {"documents": len(self.entries), "chunks": sum(d.n for d in self.entries.values())},
            "documents": {d: {"meta": e.meta.to_dict(), "sha256": e.meta.sha256, "chunks": e.n, "row": e.row,
                              "n": e.n, "gen": e.gen, "text_parts": e.text_parts} for d, e in self.entries.items()},
        }
        parts = write_parts(c, name, f"manifest:{self.gen}", self.gen,
                            json.dumps(manifest, ensure_ascii=False))
        self._step("manifest")
        version = new_version(self.gen)
        # The atomic step: readers see the old snapshot or the new one.
        c.upsert(meta_name(name), [{"key": "CURRENT", "gen": self.gen, "value": json.dumps(
            {"gen": self.gen, "version": version, "parts": parts}), "v": [0.0, 0.0]}])
        self.changed = False  # published: from here on, a failure leaves only rows the next writer deletes
        self._step("published")
        for a, b in self._dead:
            c.delete(name, filter=f"row >= {a} and row < {b}")
        c.delete(meta_name(name), filter=f'gen < {self.gen} and key like "manifest:%"')  # older manifests
        keys = [f"text:{d}:{g}:{i}" for d, g, n in self._dead_texts for i in range(n)]
        for i in range(0, len(keys), 500):
            c.delete(meta_name(name), ids=keys[i : i + 500])
        if flush:
            c.flush(name)
        if self._compact:
            c.compact(name)
        self._step("collected")
        self._unlock()
        return version
