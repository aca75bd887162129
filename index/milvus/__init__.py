"""Milvus as the chunk store: a ChunkStore reader and a writer over pymilvus (Milvus Lite file or a server URI).

Registered as the `milvus` scheme of index.registry: `milvus:URI#COLLECTION`, URI what pymilvus' MilvusClient
takes (`/path/un.db` for Milvus Lite, `http://host:19530` for a server); `RAG_MILVUS_TOKEN` is the token of a
server with authentication (`user:password` or an API key).
"""
from __future__ import annotations

import os
import threading
from typing import Any

from index.milvus.client import DEFAULT_COLLECTION, MilvusStoreError, StoreSpec, connect, parse_spec
from index.milvus.store import MilvusStore, current_version, open_milvus
from index.milvus.writer import MilvusWriter
from index.registry import register_store

__all__ = ["DEFAULT_COLLECTION", "MilvusStore", "MilvusStoreError", "MilvusWriter", "open_milvus", "parse_spec",
           "release"]

_clients: dict[tuple[str, str], Any] = {}
_clients_lock = threading.Lock()


def _spec(location: str, collection: str | None = None, token: str | None = None) -> StoreSpec:
    return parse_spec(f"milvus:{location}", collection, token or os.environ.get("RAG_MILVUS_TOKEN"))


def _client(spec: StoreSpec) -> Any:
    """One connection per URI and token for the life of the process: readers poll the version before every
    question, and a Milvus Lite file is served by one in-process server however many clients open it."""
    key = (spec.uri, spec.token)
    with _clients_lock:
        if key not in _clients:
            _clients[key] = connect(spec)
        return _clients[key]


def release(spec: str) -> None:
    """Close this process's connection to the store at `spec` (`milvus:URI...`) and, for a Milvus Lite file, stop
    the in-process server that holds it, so that another process can open the file (Milvus Lite serves one
    process at a time). The next use in this process reconnects."""
    s = parse_spec(spec)
    with _clients_lock:
        client = _clients.pop((s.uri, s.token or os.environ.get("RAG_MILVUS_TOKEN") or ""), None)
    if client is not None:
        client.close()
    if s.uri.endswith(".db"):
        from milvus_lite.server_manager import server_manager_instance  # noqa: PLC0415 - only Milvus Lite has one

        server_manager_instance.release_server(s.uri)


def _open(location: str, collection: str | None = None, token: str | None = None) -> MilvusStore:
    spec = _spec(location, collection, token)
    return open_milvus(spec, client=_client(spec))


def _writer(location: str, model: str | None, dim: int | None, chunker_version: str | None,
            rebuild: bool = False, collection: str | None = None, token: str | None = None) -> MilvusWriter:
    spec = _spec(location, collection, token)
    return MilvusWriter(spec, model, dim, chunker_version, rebuild=rebuild, client=_client(spec))


def _version(location: str, collection: str | None = None, token: str | None = None) -> str | None:
    spec = _spec(location, collection, token)
    return current_version(spec, _client(spec))


register_store("milvus", _open, _writer, _version,
               "Milvus: milvus:/path/un.db (Milvus Lite) or milvus:http://host:19530 (a server), #COLLECTION")
