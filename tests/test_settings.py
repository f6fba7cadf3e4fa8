"""One Settings object: read from the environment once, at the entry point, and honoured
by what it is passed to (fast: the embedder and the model are replaced by recorders)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.api import Rag
from rag.app.cli import build_parser
from rag.app.commands import settings_from
from rag.errors import RagError
from rag.settings import OFFLINE_ENV, Settings, apply_offline_env


def test_flags_override_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("RAG_THREADS", "4")
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path / "from-env"))
    s = settings_from(build_parser().parse_args(["ask", "q", "--threads", "3", "--max-tokens", "40"]))
    assert s.n_threads == 3 and s.max_tokens == 40 and s.data_dir == tmp_path / "from-env"
    s = settings_from(build_parser().parse_args(["ask", "q"]))
    assert s.n_threads == 4


def test_threads_reach_the_embedder(monkeypatch, tmp_path):
    import rag.index.embed as embed

    calls = []
    monkeypatch.setattr(embed, "get_embedder", lambda *a, **k: calls.append((a, k)) or object())
    settings = Settings(data_dir=tmp_path, n_threads=3, cache_dir=tmp_path / "cache")
    assert Rag(settings).embedder is not None
    assert calls == [((3, tmp_path / "cache"), {})]


def test_the_model_gets_the_settings(monkeypatch, tmp_path):
    import rag.api

    seen = []
    monkeypatch.setattr(rag.api, "load_llm", lambda s: seen.append(s) or "model")
    settings = Settings(data_dir=tmp_path, n_ctx=1024, n_threads=1)
    assert Rag(settings)._llm_factory() == "model"
    assert seen == [settings]


@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_a_bad_number_in_the_environment_is_a_one_line_error(value):
    with pytest.raises(RagError, match="RAG_THREADS must be a"):
        Settings.from_env({"RAG_THREADS": value})


def test_from_env_reads_only_what_it_is_given():
    s = Settings.from_env({"XDG_CACHE_HOME": "/c", "XDG_DATA_HOME": "/d", "RAG_AUTH": "a:b"})
    assert s.cache_dir == Path("/c/rag") and s.data_dir == Path("/d/rag") and s.auth == "a:b"
    assert Settings.from_env({}) == Settings()


def test_offline_guards_are_set_by_a_call_not_by_an_import():
    env: dict[str, str] = {}
    apply_offline_env(env)
    assert env == OFFLINE_ENV
    env = {"HF_HUB_OFFLINE": "0"}
    apply_offline_env(env)
    assert env["HF_HUB_OFFLINE"] == "0"  # an explicit choice is kept
