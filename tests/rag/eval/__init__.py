"""Tests of rag/eval."""
