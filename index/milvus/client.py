"""Connecting to Milvus, the two collections' schemas, the snapshot pointer and filter expressions from RowFilter.

A store is two collections: NAME holds one row per chunk (int64 row id, every Chunk field, the document's date,
lower-cased filter fields, the dense vector and the BM25 sparse vector Milvus computes from `keyword`), and
NAME_meta holds the snapshot pointer `CURRENT`, the manifest (in parts: a VARCHAR holds at most 65,535 bytes)
and document texts (in parts). Publishing a new version is one upsert of `CURRENT`.
"""
from __future__ import annotations

import json
import os
import re
import unicodedata
import uuid
import weakref
from dataclasses import dataclass
from typing import Any, Iterable

from index.base import IndexLoadError, RowFilter
from index.tokenize import _CJK_RUN, _WORD, STOPWORDS, _jieba

DEFAULT_COLLECTION = "un_rag"
FORMAT_VERSION = 1
MAX_VARCHAR = 65535  # bytes, Milvus' limit for one VARCHAR value
TEXT_PART_BYTES = 60000  # a document text is stored in parts of at most this many UTF-8 bytes
QUERY_BATCH = 1000  # rows per get/query call: well under Milvus' 16,384 limit on query results
META_DIM = 2  # Milvus requires a vector field in every collection; the meta collection's is a placeholder
# Milvus' own BM25 analyzer: jieba in search mode (as index.tokenize: 致命性自主武器 also yields 武器), lower-cased,
# our stopwords plus the punctuation jieba emits as tokens. The "chinese" analyzer type is refused by Milvus Lite
# 3.2.2; the jieba tokenizer is accepted by Milvus Lite and by Milvus >= 2.5 servers.
PUNCTUATION = list("，。、；：？！“”‘’（）《》【】…—·,.;:?!\"'()[]<>-/")
ANALYZER = {"tokenizer": {"type": "jieba", "mode": "search"},
            "filter": ["lowercase", {"type": "stop", "stop_words": sorted(STOPWORDS) + PUNCTUATION}]}
MIN_SERVER = (2, 5)  # the first Milvus with the BM25 function and analyzers

# Optional strings of a Chunk, stored as nullable VARCHARs with these byte limits.
CHUNK_STR_FIELDS = {"symbol": 512, "speaker": 1024, "delegation": 1024, "spoken_language": 64, "language": 16,
                    "body": 1024, "title": 4096}
CHUNK_FIELDS = ["row", "doc_id", "chunk_id", "locator", "text", "span_start", "span_end", "headings", "ordinal",
                "context", "unit", *CHUNK_STR_FIELDS]


class MilvusStoreError(IndexLoadError):
    """Milvus unreachable, a collection that does not fit, or a server without what the store needs."""


@dataclass(frozen=True)
class StoreSpec:
    """Where a Milvus store lives: the URI MilvusClient takes and the collection name."""

    uri: str
    collection: str = DEFAULT_COLLECTION
    token: str = ""

    @property
    def location(self) -> str:
        return f"milvus:{self.uri}#{self.collection}"


def parse_spec(spec: str, collection: str | None = None, token: str | None = None) -> StoreSpec:
    """A StoreSpec from `milvus:URI` (URI as MilvusClient takes it: `/path/un.db` or `http://host:19530`).

    Args:
        spec: `milvus:URI`, optionally `milvus:URI#COLLECTION`.
        collection: the collection name (overrides one in the spec; default `un_rag`).
        token: a Milvus token (`user:password` or an API key), else none.
    Returns:
        The StoreSpec.
    Raises:
        MilvusStoreError: not a `milvus:` spec, an empty URI or a bad collection name.
    """
    if not spec.startswith("milvus:") or not spec[len("milvus:"):].strip():
        raise MilvusStoreError(f"store {spec!r} is not milvus:URI; give e.g. milvus:/path/un.db (Milvus Lite) "
                               "or milvus:http://localhost:19530 (a Milvus server)")
    uri = spec[len("milvus:"):].strip()
    if "#" in uri:
        uri, _, named = uri.partition("#")
        collection = collection or named
    name = collection or DEFAULT_COLLECTION
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,200}", name):
        raise MilvusStoreError(f"collection name {name!r} is not allowed; use letters, digits and _ "
                               "(starting with a letter or _), e.g. un_rag")
    if uri.endswith(".db"):
        uri = os.path.expanduser(uri)  # `--store milvus:~/un.db`: the shell leaves a ~ after a colon alone
    elif not re.match(r"(https?|tcp|unix)://", uri):
        raise MilvusStoreError(f"Milvus URI {uri!r} is neither a Milvus Lite file (/path/un.db) nor a server "
                               "address (http://host:19530)")
    return StoreSpec(uri, name, token or "")


def connect(spec: StoreSpec, timeout: float = 10.0) -> Any:
    """A MilvusClient for `spec`, checked to serve the BM25 function.

    Raises:
        MilvusStoreError: the server cannot be reached (naming the URI and how to start one), or it predates the
            BM25 function (naming the version needed).
    """
    from pymilvus import MilvusClient, MilvusException  # noqa: PLC0415 - pymilvus loads only for Milvus stores

    try:
        client = MilvusClient(uri=spec.uri, token=spec.token, timeout=timeout)
        version = client.get_server_version()
    except MilvusException as e:
        if spec.uri.endswith(".db"):
            raise MilvusStoreError(
                f"cannot open the Milvus Lite file {spec.uri} ({e.message}): {_lite_problem(spec.uri)}") from None
        raise MilvusStoreError(
            f"cannot reach Milvus at {spec.uri} ({e.message}): start the server (docker compose up -d, see the "
            "README's Milvus section) or use a Milvus Lite file, e.g. --store milvus:/path/un.db") from None
    check_server_version(str(version), spec.uri)
    if spec.uri.endswith(".db"):
        _jieba()  # Milvus Lite runs this process's jieba: initialised quietly, as index.tokenize does
    return client


def _lite_problem(path: str) -> str:
    """Why Milvus Lite could not open `path`, and the fix: another process holds it, or the folder is unusable."""
    import fcntl  # noqa: PLC0415 - only needed to explain a failure

    lock = os.path.join(path, "LOCK")  # Milvus Lite holds an exclusive flock on DATA_DIR/LOCK while it is open
    try:
        with open(lock, "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(f, fcntl.LOCK_UN)
    except BlockingIOError:
        return ("another process has it open (Milvus Lite serves one process at a time): stop that process, "
                "e.g. a running `rag ui`, or serve the store from a Milvus server (README, Milvus section)")
    except OSError as e:
        return f"{e.strerror.lower()}: give a path in a writable folder, e.g. --store milvus:$HOME/un.db"
    return "see the log above; RAG_DEBUG=1 shows the traceback"


def check_server_version(version: str, uri: str) -> None:
    """MilvusStoreError when `version` (as get_server_version says it) predates the BM25 function (Milvus 2.5)."""
    if version.startswith("milvus_lite"):
        return  # Milvus Lite 3.x has the BM25 function and the jieba analyzer
    m = re.match(r"v?(\d+)\.(\d+)", version)
    if m and (int(m.group(1)), int(m.group(2))) < MIN_SERVER:
        raise MilvusStoreError(
            f"Milvus at {uri} is version {version}, which has no BM25 function: upgrade the server to Milvus "
            f"{MIN_SERVER[0]}.{MIN_SERVER[1]} or later, or use the embedded FAISS store (--index DIR)")


def chunk_schema(client: Any, dim: int) -> tuple[Any, Any]:
    """Schema and index parameters of the chunks collection for vectors of `dim` dimensions."""
    from pymilvus import DataType, Function, FunctionType  # noqa: PLC0415 - pymilvus loads only for Milvus stores

    s = client.create_schema(auto_id=False, enable_dynamic_field=False)
    s.add_field("row", DataType.INT64, is_primary=True)
    s.add_field("gen", DataType.INT64)  # the publish that wrote the row: later ones are not yet visible
    s.add_field("doc_id", DataType.VARCHAR, max_length=512)
    s.add_field("chunk_id", DataType.VARCHAR, max_length=1024)
    s.add_field("locator", DataType.VARCHAR, max_length=1024)
    s.add_field("text", DataType.VARCHAR, max_length=MAX_VARCHAR)
    s.add_field("span_start", DataType.INT64)
    s.add_field("span_end", DataType.INT64)
    s.add_field("headings", DataType.VARCHAR, max_length=MAX_VARCHAR)  # a JSON list
    s.add_field("ordinal", DataType.INT64)
    s.add_field("context", DataType.VARCHAR, max_length=MAX_VARCHAR)
    s.add_field("unit", DataType.VARCHAR, max_length=1024)
    for name, size in CHUNK_STR_FIELDS.items():
        s.add_field(name, DataType.VARCHAR, max_length=size, nullable=True)
    s.add_field("date", DataType.VARCHAR, max_length=64, nullable=True)  # the document's date, ISO
    # Lower-cased copies for case-insensitive filters (Milvus `like` and `==` are case-sensitive).
    for name in ("f_speaker", "f_delegation", "f_body", "f_language"):
        s.add_field(name, DataType.VARCHAR, max_length=1024)
    s.add_field("keyword", DataType.VARCHAR, max_length=MAX_VARCHAR, enable_analyzer=True, analyzer_params=ANALYZER)
    s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    s.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
    s.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["keyword"],
                            output_field_names=["sparse"]))
    ip = client.prepare_index_params()
    # Exact inner product, as the FAISS store below 100,000 chunks; a server deployment may switch the index
    # (HNSW, IVF) with pymilvus' create_index without touching the rows (README, Milvus section).
    ip.add_index("vector", index_type="FLAT", metric_type="IP")
    ip.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
    return s, ip


def meta_schema(client: Any) -> tuple[Any, Any]:
    """Schema and index parameters of the meta collection (pointer, manifest parts, document text parts)."""
    from pymilvus import DataType  # noqa: PLC0415 - pymilvus loads only for Milvus stores

    s = client.create_schema(auto_id=False, enable_dynamic_field=False)
    s.add_field("key", DataType.VARCHAR, max_length=1024, is_primary=True)
    s.add_field("gen", DataType.INT64)
    s.add_field("value", DataType.VARCHAR, max_length=MAX_VARCHAR)
    s.add_field("v", DataType.FLOAT_VECTOR, dim=META_DIM)
    ip = client.prepare_index_params()
    ip.add_index("v", index_type="FLAT", metric_type="L2")
    return s, ip


def meta_name(collection: str) -> str:
    return f"{collection}_meta"


def create_collections(client: Any, collection: str, dim: int) -> None:
    """Create the chunks and meta collections (strong consistency: a search sees what was published).

    Raises:
        MilvusStoreError: the server refuses the BM25 function or the jieba analyzer (naming the fix).
    """
    from pymilvus import MilvusException  # noqa: PLC0415 - pymilvus loads only for Milvus stores

    s, ip = chunk_schema(client, dim)
    try:
        client.create_collection(collection, schema=s, index_params=ip, consistency_level="Strong")
    except MilvusException as e:
        raise MilvusStoreError(
            f"Milvus refused the chunks collection {collection!r} ({e.message}): the store needs the BM25 function "
            "and the jieba analyzer (Milvus 2.5 or later, or milvus-lite 3.2 with the jieba package); upgrade the "
            "server or use the embedded FAISS store (--index DIR)") from None
    ms, mip = meta_schema(client)
    client.create_collection(meta_name(collection), schema=ms, index_params=mip, consistency_level="Strong")


# Collections each client found loaded (readers poll the pointer before every question); weak, so a client that
# is gone takes its entries along.
_loaded: "weakref.WeakKeyDictionary[Any, set[str]]" = weakref.WeakKeyDictionary()


def ensure_loaded(client: Any, collection: str) -> None:
    """Load both collections into memory when they are not (after a restart Milvus keeps them released); checked
    once per client and collection."""
    from pymilvus.client.types import LoadState  # noqa: PLC0415 - pymilvus loads only for Milvus stores

    if collection in _loaded.get(client, ()):
        return
    for name in (collection, meta_name(collection)):
        if client.has_collection(name) and client.get_load_state(name).get("state") != LoadState.Loaded:
            client.load_collection(name)
    if client.has_collection(collection):
        _loaded.setdefault(client, set()).add(collection)


def drop_collections(client: Any, collection: str) -> None:
    _loaded.get(client, set()).discard(collection)
    for name in (collection, meta_name(collection)):
        if client.has_collection(name):
            client.drop_collection(name)


_ASCII_WORD = re.compile(r"[a-z0-9]+")


def keyword_form(text: str) -> str:
    """`text` as given to Milvus' BM25 function, so that its jieba analyzer yields the tokens of index.tokenize.

    Chinese runs stay as they are: Milvus' jieba segments them in search mode, as index.tokenize does. Every other
    word is cut, lower-cased and stopword-filtered as index.tokenize does it; a word jieba would break apart (it
    splits non-ASCII letters one by one, so "résolution" or "группа" became single letters, and splits at - ' .)
    is spelled as x + the hex of its UTF-8, an ASCII letter-digit run jieba keeps whole. On the seed gold
    questions 23 of 110 were tokenised differently from index.tokenize before this, 0 after.

    Args:
        text: a chunk's keyword text or a question.
    Returns:
        Space-separated pieces: Chinese runs and word forms.
    """
    text = unicodedata.normalize("NFKC", text).lower()
    pieces: list[str] = []

    def words(segment: str) -> None:
        for w in _WORD.findall(segment):
            if w not in STOPWORDS:
                pieces.append(w if _ASCII_WORD.fullmatch(w) else "x" + w.encode("utf-8").hex())

    pos = 0
    for m in _CJK_RUN.finditer(text):
        words(text[pos : m.start()])
        pieces.append(m.group(0))
        pos = m.end()
    words(text[pos:])
    return " ".join(pieces)


def split_utf8(text: str, limit: int = TEXT_PART_BYTES) -> list[str]:
    """`text` cut into pieces of at most `limit` UTF-8 bytes, never inside a character ("" gives [""])."""
    parts: list[str] = []
    data = text.encode("utf-8")
    while data:
        cut = min(limit, len(data))
        while cut < len(data) and (data[cut] & 0xC0) == 0x80:  # back off to a character boundary
            cut -= 1
        parts.append(data[:cut].decode("utf-8"))
        data = data[cut:]
    return parts or [""]


def write_parts(client: Any, collection: str, prefix: str, gen: int, text: str) -> int:
    """Store `text` as meta records `prefix:0`, `prefix:1`, ...; returns how many."""
    parts = split_utf8(text)
    rows = [{"key": f"{prefix}:{i}", "gen": gen, "value": p, "v": [0.0] * META_DIM} for i, p in enumerate(parts)]
    for i in range(0, len(rows), 100):
        client.upsert(meta_name(collection), rows[i : i + 100])
    return len(parts)


def read_parts(client: Any, collection: str, prefix: str, n: int) -> str:
    """The text stored by `write_parts` under `prefix` in `n` parts."""
    keys = [f"{prefix}:{i}" for i in range(n)]
    got: dict[str, str] = {}
    for i in range(0, len(keys), 100):
        for r in client.get(meta_name(collection), ids=keys[i : i + 100], output_fields=["value"]):
            got[r["key"]] = r["value"]
    missing = [k for k in keys if k not in got]
    if missing:
        raise KeyError(f"missing parts {missing[:3]} of {prefix}")
    return "".join(got[k] for k in keys)


def read_pointer(client: Any, collection: str) -> dict[str, Any] | None:
    """The published snapshot pointer {gen, version, parts}, or None before the first publish."""
    if not client.has_collection(meta_name(collection)):
        return None
    ensure_loaded(client, collection)
    got = client.get(meta_name(collection), ids=["CURRENT"], output_fields=["value"])
    return json.loads(got[0]["value"]) if got else None


def read_manifest(client: Any, collection: str, pointer: dict[str, Any]) -> dict[str, Any]:
    return json.loads(read_parts(client, collection, f"manifest:{pointer['gen']}", int(pointer["parts"])))


def new_version(gen: int) -> str:
    """A version name unique across rebuilds (a dropped and recreated collection counts from 1 again)."""
    return f"g{gen}-{uuid.uuid4().hex[:8]}"


def _literal(value: str) -> str:
    """A double-quoted Milvus string literal (no newlines: filter values are one line)."""
    value = re.sub(r"[\x00-\x1f\x7f]", " ", value)
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _contains(value: str) -> str:
    """A `like` pattern for a substring. Milvus Lite has no escape for % and _ in patterns: they are turned into
    `_` (any one character), so a value holding them matches a little more, never less."""
    return _literal("%" + value.lower().replace("%", "_") + "%")


def date_upper(date_to: str) -> str:
    """The inclusive upper bound of an ISO date prefix: 2023 -> 2023-12-31, 2023-05 -> 2023-05-31."""
    if re.fullmatch(r"\d{4}", date_to):
        return date_to + "-12-31"
    if re.fullmatch(r"\d{4}-\d{2}", date_to):
        return date_to + "-31"
    return date_to


def filter_expr(where: RowFilter | None, gen: int, dead: Iterable[tuple[int, int]] = ()) -> str:
    """The Milvus filter expression for the rows of snapshot `gen` within `where`.

    Args:
        where: the RowFilter (documents, speaker/delegation, body, language, date range) or None.
        gen: the published generation; rows written by a later, unpublished one are invisible.
        dead: [start, end) row ranges superseded by this generation and not yet deleted.
    Returns:
        An expression such as `gen <= 3 and doc_id in ["A/1"] and (f_speaker like "%x%" or ...)`.
    """
    parts = [f"gen <= {int(gen)}"]
    parts += [f"not (row >= {int(a)} and row < {int(b)})" for a, b in dead]
    if where:
        if where.doc_ids:
            parts.append("doc_id in [" + ", ".join(_literal(d) for d in where.doc_ids) + "]")
        if where.speaker:
            parts.append(f"(f_speaker like {_contains(where.speaker)} or f_delegation like {_contains(where.speaker)})")
        if where.body:
            parts.append(f"f_body like {_contains(where.body)}")
        if where.language:
            parts.append(f"f_language == {_literal(where.language.lower())}")
        if where.date_from:
            parts.append(f"date >= {_literal(where.date_from)}")
        if where.date_to:
            parts.append(f"date <= {_literal(date_upper(where.date_to))}")
    return " and ".join(parts)
