"""Tests of rag."""
