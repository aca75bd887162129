"""Tests of rag/cli."""
