"""Prompt templates live in ``prompts/NAME.txt`` and are filled strictly.

Templates use ``$name`` placeholders (:class:`string.Template`); a missing variable
is an error, never an empty string.
"""

from __future__ import annotations

import functools
from pathlib import Path
from string import Template

from rag.errors import RagError
from rag.settings import PROJECT_ROOT


@functools.cache
def _load(path: Path) -> Template:
    try:
        return Template(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RagError(f"prompt template {path.name} not found in {path.parent}") from exc


def render(name: str, prompts_dir: Path = PROJECT_ROOT / "prompts", **values: object) -> str:
    """Fill ``prompts/<name>.txt``.

    >>> render("rewrite", history="Q: who?", question="and when?").startswith("Rewrite")
    True
    """
    tpl = _load(prompts_dir / f"{name}.txt")
    try:
        return tpl.substitute({k: str(v) for k, v in values.items()})
    except KeyError as exc:
        raise RagError(f"prompt {name!r} needs a value for {exc.args[0]!r}") from exc
    except ValueError as exc:
        raise RagError(f"prompt {name!r} is malformed: {exc}") from exc
