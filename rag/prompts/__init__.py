"""Prompt templates (package data): ``NAME.txt`` with ``$name`` placeholders, loaded by :mod:`rag.answer.prompts`."""
