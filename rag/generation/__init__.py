"""Generators: the extractive one, chat models (local llama.cpp, OpenAI-compatible, yours) and their registry."""
