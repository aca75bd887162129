"""Ingestion: read files, drop page furniture, find UN structure and metadata, cut citable chunks, commit them."""
