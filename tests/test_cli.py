"""The `rag` command: help, and one-line errors (exit code 1, no traceback) for user mistakes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from rag.app.cli import build_parser, main

RAG = str(Path(sys.executable).parent / "rag")
COMMANDS = [
    "ingest",
    "search",
    "ask",
    "check",
    "sources",
    "remove",
    "brief",
    "eval",
    "serve",
    "bench",
    "extract",
    "watch",
    "models",
]


def _run(*argv: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([RAG, *argv], capture_output=True, text=True, timeout=timeout)


def _one_line_error(err: str, *needles: str) -> str:
    lines = err.strip().splitlines()
    assert "Traceback" not in err, err
    assert len(lines) == 1 and lines[0].startswith("rag: error: "), err
    for n in needles:
        assert n in lines[0], (n, lines[0])
    return lines[0]


def test_help_lists_every_command_with_one_line_help():
    out = _run("--help", timeout=120)
    assert out.returncode == 0 and not out.stderr
    listed = {}
    for line in out.stdout.splitlines():
        m = re.match(r"^ {4}([\w-]+)\s{2,}(\S.*)$", line)
        if m:
            listed[m.group(1)] = m.group(2)
    assert sorted(listed) == sorted(COMMANDS), out.stdout
    assert all(len(h) < 100 for h in listed.values())


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: rag {command}")


def test_no_command_prints_help(capsys):
    assert main([]) == 0
    assert "usage: rag" in capsys.readouterr().out
    assert {a.dest for a in build_parser()._actions} >= {"command"}


def test_unknown_flag_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["search", "x", "--no-such-flag"])
    assert exc.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize(
    "argv,needle",
    [
        (["ingest", "/no/such/folder"], "no such file or folder: /no/such/folder"),
        (["search", ""], "the query is empty"),
        (["search", "   "], "the query is empty"),
        (["ask", ""], "give a question"),
        (["ask", "   \n "], "the question is empty"),
        (["ask", "Why? " * 2000], "the limit is 1,000"),
        (["remove", "0123456789abcdef"], "no article with id '0123456789abcdef'"),
        (["ask", "--batch", "/no/such/questions.txt"], "cannot read /no/such/questions.txt"),
    ],
    ids=["missing-path", "empty-query", "blank-query", "empty-question", "blank-question", "10k-question",
         "unknown-article", "missing-batch"],
)  # fmt: skip
def test_user_mistakes_give_one_line_errors(argv, needle, seeded_dir, capsys):
    assert main([*argv, "--data-dir", str(seeded_dir)]) == 1
    captured = capsys.readouterr()
    _one_line_error(captured.err, needle)
    assert captured.out == ""


@pytest.mark.slow
def test_ask_on_an_empty_index(tmp_path, capsys):
    assert main(["ask", "Who won?", "--data-dir", str(tmp_path / "empty")]) == 1
    _one_line_error(capsys.readouterr().err, "the index is empty", "rag ingest")


@pytest.mark.slow
def test_errors_from_the_real_command(tmp_path):
    """The console script itself: exit code 1 and one line, no traceback."""
    out = _run("ask", "Who won the election?", "--data-dir", str(tmp_path / "empty"))
    assert out.returncode == 1 and out.stdout == ""
    _one_line_error(out.stderr, "the index is empty")
    out = _run("search", "", "--data-dir", str(tmp_path / "empty"))
    assert out.returncode == 1
    _one_line_error(out.stderr, "the query is empty")


@pytest.mark.slow
def test_sources(seeded_dir, capsys):
    assert main(["sources", "--json", "--data-dir", str(seeded_dir)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 5
    assert all(set(r) == {"article_id", "file", "title", "outlet", "published", "chunks"} for r in rows)
    by_file = {r["file"][:3]: r for r in rows}
    assert by_file["002"]["outlet"] == "The Washington Post" and by_file["004"]["published"] == "2024-08-13"
    assert all(r["chunks"] > 0 for r in rows)
    assert main(["sources", "--data-dir", str(seeded_dir)]) == 0
    text = capsys.readouterr().out
    assert "The Washington Post" in text and len(text.strip().splitlines()) == 5
