"""Tests of rag/brief."""
