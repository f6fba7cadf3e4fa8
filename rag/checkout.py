"""Files of the source checkout the package may run from (the demo seeds, the gold sets, the corpora).

An installed wheel has no checkout: then :data:`REPO_ROOT` is None and whoever needs
one of these files asks for an explicit path instead. Nothing here reads the working
directory.
"""

from __future__ import annotations

from pathlib import Path

from rag.errors import RagError


def _find_root() -> Path | None:
    root = Path(__file__).resolve().parent.parent
    return root if (root / "pyproject.toml").is_file() and (root / "evals").is_dir() else None


REPO_ROOT: Path | None = _find_root()


def repo_path(*parts: str, what: str = "file", option: str = "") -> Path:
    """``REPO_ROOT / parts``, or a one-line error naming the option that gives the path instead."""
    if REPO_ROOT is not None and REPO_ROOT.joinpath(*parts).exists():
        return REPO_ROOT.joinpath(*parts)
    hint = f": pass {option}" if option else ""
    raise RagError(f"{what} not found ({'/'.join(parts)} of the source checkout){hint}")


def optional_repo_path(*parts: str) -> Path | None:
    """``REPO_ROOT / parts`` when it exists, else None."""
    if REPO_ROOT is None or not REPO_ROOT.joinpath(*parts).exists():
        return None
    return REPO_ROOT.joinpath(*parts)
