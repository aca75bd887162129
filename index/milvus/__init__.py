"""Milvus as the chunk store: a ChunkStore reader and a writer over pymilvus (Milvus Lite file or a server URI)."""
from index.milvus.client import DEFAULT_COLLECTION, MilvusStoreError, parse_spec
from index.milvus.store import MilvusStore, open_milvus
from index.milvus.writer import MilvusWriter

__all__ = ["DEFAULT_COLLECTION", "MilvusStore", "MilvusStoreError", "MilvusWriter", "open_milvus", "parse_spec"]
