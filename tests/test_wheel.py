"""The built wheel is a working tool on its own: installed (``--no-deps``) into a fresh venv
that sees the project venv's dependencies but not the editable checkout, `rag ingest` and
`rag ask` work from a folder outside the repository (prompts and page files are package
data; nothing is found through the checkout or the working directory)."""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from conftest import ROOT, SEEDS

pytestmark = [pytest.mark.slow, pytest.mark.model, pytest.mark.wheel]
QUESTION = "How many followers does Trump have on Truth Social?"


def _run(cmd: list[str], cwd: Path, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, f"{cmd}\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}"
    return out


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv holding only the wheel; the project venv's site-packages is on its path via a .pth file."""
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "rag", src / "rag", ignore=shutil.ignore_patterns("__pycache__"))
    dist = work / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(dist), str(src)], work)
    (wheel,) = dist.glob("rag-*.whl")
    venv = work / "venv"
    _run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", "--without-pip", str(venv)], work)
    py = venv / "bin" / "python"
    purelib = Path(
        subprocess.run(
            [py, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], capture_output=True, text=True
        ).stdout.strip()
    )
    # The dependencies, not the checkout: a path line in a .pth adds the folder, and the
    # .pth files inside it (the editable install's finder) are not run.
    deps = [p for p in {sysconfig.get_path("purelib"), sysconfig.get_path("platlib"), *site.getsitepackages()}]
    (purelib / "project_deps.pth").write_text("\n".join(sorted(set(deps))) + "\n", encoding="utf-8")
    _run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--no-index", str(wheel)], work)
    return venv


def _env(data: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_") and k != "PYTHONPATH"}
    env["RAG_DATA_DIR"] = str(data)
    return env


def test_the_wheel_is_what_runs(installed, tmp_path):
    code = "import rag, rag.app.cli; print(rag.__file__)"
    out = _run([str(installed / "bin" / "python"), "-c", code], tmp_path, _env(tmp_path / "data"))
    assert out.stdout.strip().startswith(str(installed)), out.stdout
    assert not out.stdout.strip().startswith(str(ROOT))


def test_ingest_and_ask_outside_the_repository(installed, tmp_path):
    articles = tmp_path / "articles"
    shutil.copytree(SEEDS, articles)
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    rag = str(installed / "bin" / "rag")
    env = _env(tmp_path / "data")
    got = json.loads(_run([rag, "ingest", str(articles), "--json"], cwd, env).stdout)
    assert len(got["added"]) == 5 and got["skipped"] == []
    ans = json.loads(_run([rag, "ask", QUESTION, "--json"], cwd, env).stdout)
    assert ans["status"] == "answered" and "7.5 million" in ans["answer"]
    text = {p.name: p.read_text(encoding="utf-8") for p in articles.glob("*.txt")}
    for c in ans["citations"]:
        assert c["quote"] in text[c["file"]]


def test_checkout_files_are_asked_for_not_guessed(installed, tmp_path):
    """Without a checkout, the gold set and the demo seeds must be given: one line, no traceback."""
    rag = str(installed / "bin" / "rag")
    env = _env(tmp_path / "data")
    for argv, needle in ((["eval"], "pass --gold FILE"), (["ingest"], "files or folders to ingest")):
        out = subprocess.run([rag, *argv], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert out.returncode == 1, out.stderr
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("rag: error: ") and needle in lines[0], out.stderr
