"""The package's shape, read from the source with ``ast`` (fast: nothing is imported).

- imports point one way: no cycle among the package's modules, counting imports made
  inside functions (lazy) and under ``TYPE_CHECKING``;
- only ``rag/app`` parses arguments (argparse), the page never imports the CLI, and the
  runtime never imports the dev tooling (``rag/devtools``, reached only from ``rag/app``);
- no module is much longer than 400 lines;
- the package reads no file through the working directory or the checkout at import;
- ``rag --help`` in the README is what the command prints.
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "rag"
MAX_LINES = 420


def _module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def _imports(path: Path) -> set[str]:
    """Every ``rag`` module that ``path`` imports, anywhere in the file.

    ``from rag.x import y`` counts as importing ``rag.x.y`` when that is a module,
    else ``rag.x``. A package's ``__init__`` importing its own submodules is an edge
    like any other.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    me = _module_name(path)
    is_pkg = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                anchor = me.split(".") if is_pkg else me.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        else:
            continue
        for name in names:
            if name == "rag" or name.startswith("rag."):
                while name not in MODULES and "." in name:
                    name = name.rsplit(".", 1)[0]
                if name in MODULES and name != me:
                    out.add(name)
    return out


GRAPH = {name: _imports(path) for name, path in MODULES.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan), as sorted lists.

    >>> _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}})
    [['a', 'b']]
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def test_the_graph_is_read():
    assert "rag.answer.generate" in GRAPH["rag.api"]
    assert "rag.app.commands" in GRAPH["rag.app.cli"]
    assert len(MODULES) > 40


def test_no_import_cycles():
    assert _cycles(GRAPH) == []


def test_a_cycle_would_be_found():
    graph = {k: set(v) for k, v in GRAPH.items()}
    graph["rag.text.words"].add("rag.api")
    assert _cycles(graph), "the check must see a cycle through the API"


def _third_party(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            out.add(node.module.split(".")[0])
    return out


def test_only_the_app_parses_arguments():
    users = sorted(n for n, p in MODULES.items() if "argparse" in _third_party(p))
    assert users and all(n.startswith("rag.app") for n in users), users


def test_the_page_never_imports_the_cli():
    page = [n for n in MODULES if n.startswith("rag.app.ui")]
    assert page
    for n in page:
        assert not GRAPH[n] & {"rag.app.cli", "rag.app.commands", "rag.app.options"}, n


def test_the_runtime_never_imports_the_dev_tooling():
    for name, deps in GRAPH.items():
        if name.startswith(("rag.devtools", "rag.app")):
            continue
        assert not {d for d in deps if d.startswith("rag.devtools")}, name


def test_no_module_is_too_long():
    long = {n: len(p.read_text().splitlines()) for n, p in MODULES.items()}
    assert {n: k for n, k in long.items() if k > MAX_LINES} == {}


def test_no_settings_are_read_from_the_environment_deep_inside():
    """Only the settings (read at the entry points) look at ``os.environ`` for what to do."""
    allowed = {"rag.settings", "rag.devtools.bench_stages"}  # bench: the environment of a child `rag serve`
    for name, path in MODULES.items():
        text = path.read_text(encoding="utf-8")
        if re.search(r"os\.environ|os\.getenv", text):
            assert name in allowed, name


def test_nothing_reads_files_through_the_working_directory():
    for name, path in MODULES.items():
        text = path.read_text(encoding="utf-8")
        assert "os.getcwd" not in text and "Path.cwd" not in text, name
        assert "../shared" not in text and '"shared"' not in text, name


def test_readme_shows_what_rag_help_prints(monkeypatch):
    from rag.app.cli import build_parser

    monkeypatch.setenv("COLUMNS", "100")
    shown = build_parser().format_help().rstrip()
    readme = (PKG.parent / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```\n\$ rag --help\n(.*?)\n```", readme, re.S)
    assert block, "the README has a `$ rag --help` block"
    assert block.group(1).rstrip() == shown, "README's `rag --help` is stale: paste the command's output"


@pytest.mark.parametrize("name", ["answer_system", "answer_user", "rewrite", "brief_lede_system", "brief_lede"])
def test_prompts_ship_with_the_package(name):
    from rag.answer.prompts import load

    assert (PKG / "prompts" / f"{name}.txt").is_file()
    assert load(name).template.strip()


def test_a_prompt_with_a_wrong_variable_fails_when_loaded(tmp_path):
    from rag.answer.prompts import load, render
    from rag.errors import RagError

    (tmp_path / "answer_user.txt").write_text("Passages: $passages\nQ: $questoin\n", encoding="utf-8")
    with pytest.raises(RagError, match=r"must use exactly \$passages, \$question"):
        load("answer_user", tmp_path)
    with pytest.raises(RagError, match="needs a value for 'question'"):
        render("answer_user", passages="[1] x")
    (tmp_path / "rewrite.txt").write_text("costs $5\n", encoding="utf-8")
    with pytest.raises(RagError, match="malformed"):
        load("rewrite", tmp_path)


def test_importing_settings_changes_no_environment():
    import subprocess
    import sys

    code = "import os; before = dict(os.environ); import rag.api, rag.settings; print(before == dict(os.environ))"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HF_", "TRANSFORMERS_", "ANONYMIZED", "GRADIO", "TOKENIZERS"))
    }
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.stdout.strip() == "True", out.stderr
