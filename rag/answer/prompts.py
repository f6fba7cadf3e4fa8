"""Prompt templates: package data ``rag/prompts/NAME.txt``, filled strictly.

Templates use ``$name`` placeholders (:class:`string.Template`). Each template's
placeholders are declared in :data:`VARIABLES` and checked when it is loaded (a
template naming another variable, or missing one, fails loudly); filling it without
a value for every placeholder is an error, never an empty string. A settings
``prompts_dir`` replaces the shipped folder (same names, same checks).
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path
from string import Template

from rag.errors import RagError

VARIABLES: dict[str, frozenset[str]] = {
    "answer_system": frozenset(),
    "answer_user": frozenset({"passages", "question"}),
    "rewrite": frozenset({"history", "question"}),
    "brief_lede_system": frozenset(),
    "brief_lede": frozenset({"passages"}),
    "reader_system": frozenset(),
    "reader_user": frozenset({"passages", "question"}),
    "reader_judge": frozenset({"passages", "question"}),
    "reader_extract": frozenset(),
    "brief_fact_system": frozenset(),
    "brief_fact": frozenset({"passages"}),
}


def _read(name: str, prompts_dir: Path | None) -> str:
    if prompts_dir is None:
        return resources.files("rag.prompts").joinpath(f"{name}.txt").read_text(encoding="utf-8")
    return (Path(prompts_dir) / f"{name}.txt").read_text(encoding="utf-8")


@functools.cache
def load(name: str, prompts_dir: Path | None = None) -> Template:
    """The checked template ``name`` (from ``prompts_dir``, default the package's own).

    >>> sorted(load("answer_user").get_identifiers())
    ['passages', 'question']
    """
    if name not in VARIABLES:
        raise RagError(f"unknown prompt template {name!r} (known: {', '.join(sorted(VARIABLES))})")
    where = prompts_dir or "the package"
    try:
        tpl = Template(_read(name, prompts_dir))
    except (OSError, UnicodeDecodeError) as exc:
        raise RagError(f"prompt template {name}.txt not found in {where}: {exc}") from exc
    if not tpl.is_valid():
        raise RagError(f"prompt template {name}.txt in {where} is malformed (a stray '$'; write '$$' for a dollar)")
    found, wanted = set(tpl.get_identifiers()), VARIABLES[name]
    if found != wanted:
        raise RagError(
            f"prompt template {name}.txt in {where} must use exactly ${', $'.join(sorted(wanted)) or '(nothing)'}"
            f"; it uses {', '.join('$' + v for v in sorted(found)) or 'none'}"
        )
    return tpl


def render(name: str, prompts_dir: Path | None = None, **values: object) -> str:
    """Fill template ``name``.

    >>> render("rewrite", history="Q: who?", question="and when?").startswith("Rewrite")
    True
    """
    tpl = load(name, prompts_dir)
    missing = VARIABLES[name] - values.keys()
    if missing:
        raise RagError(f"prompt {name!r} needs a value for {sorted(missing)[0]!r}")
    return tpl.substitute({k: str(v) for k, v in values.items()})
