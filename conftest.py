"""TEMPORARY (until rag/answer/ is a package): see rag/devtools/_layout.py."""

from rag.devtools._layout import preload

preload()
