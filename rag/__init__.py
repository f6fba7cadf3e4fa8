"""rag: a local news summariser and question-answering tool.

Everything runs offline: articles are cleaned, chunked and embedded into Chroma,
questions are answered by a local GGUF model, and every claim shown is checked
against the exact sentence it cites.
"""

from rag.errors import RagError

__all__ = ["RagError"]
__version__ = "0.1.0"
