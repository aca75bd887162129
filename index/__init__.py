"""The vector and keyword index layer: FAISS dense search, BM25 keyword search, the versioned store."""
