"""The store registry: specs name a scheme or a directory; unknown schemes are refused with the choices."""
from __future__ import annotations

from pathlib import Path

import pytest

from index.base import ChunkStore, StoreWriter
from index.registry import open_store, open_writer, register_store, schemes, split_spec, store_version
from rag.errors import RagError


def test_a_bare_directory_is_the_faiss_store_and_schemes_split_off() -> None:
    assert split_spec("/data/index") == ("faiss", "/data/index")
    assert split_spec(Path("rel/idx")) == ("faiss", "rel/idx")
    assert split_spec("C:\\index") == ("faiss", "C:\\index")  # one letter is a drive, not a scheme
    assert split_spec("milvus:/data/un.db") == ("milvus", "/data/un.db")
    assert split_spec("faiss:~/idx") == ("faiss", "~/idx")


def test_unknown_scheme_is_refused_listing_the_choices() -> None:
    with pytest.raises(RagError, match=r"unknown store 'nosuch'; choose one of: .*faiss.*milvus"):
        open_store("nosuch:/x")
    assert {"faiss", "milvus"} <= set(schemes())


def test_faiss_store_opens_through_the_registry_and_meets_the_protocol(fake_index_dir) -> None:
    store = open_store(str(fake_index_dir))
    assert isinstance(store, ChunkStore)
    assert store.version == store_version(f"faiss:{fake_index_dir}")
    assert store.size == 187 and store.manifest["counts"] == {"documents": 3, "chunks": 187}
    rows = store.doc_rows("EUR/44A25/1@zh")
    assert len(rows) == 41 and rows == list(range(rows[0], rows[0] + 41))  # contiguous, in document order
    assert [c.ordinal for c in store.chunks(rows)] == list(range(41))
    assert [r for r, c in store.iter_chunks() if c.doc_id == "EUR/44A25/1@zh"] == rows
    with open_writer(str(fake_index_dir)) as w:  # no model: the store's own, for removals
        assert isinstance(w, StoreWriter) and w.model == "fake-256" and w.chunk_count("EUR/44A25/1@zh") == 41


def test_a_registered_scheme_is_used_for_its_specs(tmp_path) -> None:
    seen = []
    register_store("memtest", lambda loc, **kw: seen.append(("open", loc, kw)) or "store",
                   lambda loc, *a, **kw: "writer", lambda loc, **kw: "v1", "a test store")
    assert open_store("memtest:abc", collection="c") == "store" and seen == [("open", "abc", {"collection": "c"})]
    assert store_version("memtest:abc") == "v1" and open_writer("memtest:x") == "writer"
    with pytest.raises(ValueError, match="two characters at least"):
        register_store("m", lambda loc: None, lambda loc: None, lambda loc: None)
