"""Answering: retrieve, decide to refuse or answer, generate with a generator, check every citation."""
