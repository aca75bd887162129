"""The Gradio web app: chat with citations, documents, evaluation and briefing tabs."""
