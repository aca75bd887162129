"""Briefing notes: wide, diverse retrieval grouped by document and speaker, rendered as Markdown or DOCX."""
