"""Tests of rag/ingest."""
