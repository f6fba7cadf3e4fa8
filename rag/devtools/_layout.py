"""TEMPORARY, until ``rag/answer/`` becomes a package in the layout move: make
``rag.answer.lexicon``, ``claim_pair``, ``polarity`` and ``contradiction`` importable
while ``rag/answer.py`` still holds the name ``rag.answer``. Delete with the move."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_ANSWER = Path(__file__).resolve().parent.parent / "answer"
_MODULES = ("lexicon", "claim_pair", "polarity", "contradiction")  # in dependency order
_busy = False


def preload() -> None:
    global _busy
    if _busy or (_ANSWER / "__init__.py").exists():
        return  # loading already, or the package layout, where plain imports work
    _busy = True
    try:
        for name in _MODULES:
            full = f"rag.answer.{name}"
            if full not in sys.modules:
                spec = importlib.util.spec_from_file_location(full, _ANSWER / f"{name}.py")
                module = importlib.util.module_from_spec(spec)
                sys.modules[full] = module
                spec.loader.exec_module(module)
    finally:
        _busy = False
