"""Tests of rag/generation."""
