"""Tests of rag/models."""
