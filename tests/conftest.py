"""Shared fixtures: the real embedder, a real Chroma and the bundled GGUF, each
loaded once per session; every test index lives in a temporary folder.

The fast tier (``make test-fast`` = ``pytest -m "not slow"``) runs what needs none of
them: a test that uses one of the fixtures in :data:`HEAVY_FIXTURES` is marked
``slow`` here, whatever its own markers say."""

from __future__ import annotations

import os
import signal
import tempfile
from pathlib import Path

import pytest

# Never touch the user's index, whatever the environment says.
os.environ["RAG_DATA_DIR"] = tempfile.mkdtemp(prefix="rag-test-")
os.environ.pop("RAG_CHROMA_URL", None)
os.environ.pop("RAG_LLM_URL", None)
# The tests of the rule path, the page and the CLI run the fast profile (in this process
# and in every `rag` they start); the reader's own tests choose it by name, and one CLI
# test drops this to check the default.
os.environ["RAG_MODEL"] = "smollm2"

from rag.api import Rag  # noqa: E402
from rag.settings import Settings, apply_offline_env  # noqa: E402

apply_offline_env()
ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
GOLD = ROOT / "evals" / "gold.jsonl"
CORPORA = ROOT / "evals" / "corpora"
MULTILING = CORPORA / "multiling2011"
EXTRACTION_BENCHMARK = CORPORA / "article-extraction-benchmark"
# Fixtures that load the embedder, open Chroma or run the GGUF.
HEAVY_FIXTURES = {"embedder", "bundled_llm", "reader_llm", "seeded_dir", "seeded_rag", "reader_rag", "fresh_rag"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HEAVY_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


def answers_ctrl_c() -> None:
    """``preexec_fn`` for a child the test stops with SIGINT (Ctrl-C).

    A test runner started in the background by a non-interactive shell inherits SIGINT as
    ignored, and so would its children: Python then installs no KeyboardInterrupt handler
    and the signal does nothing. The child gets the default disposition back, as it has
    when a person starts it in a terminal.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def require(path: Path, what: str) -> Path:
    """``path``, or skip the test with a reason naming what is missing."""
    if not path.exists():
        pytest.skip(f"{what} not found at {path}")
    return path


@pytest.fixture(scope="session")
def embedder():
    from rag.index.embed import get_embedder

    s = Settings()
    return get_embedder(s.n_threads, s.cache_dir)


@pytest.fixture(scope="session")
def bundled_llm():
    """The fast profile, smollm2 (its rule path)."""
    from rag.llm.backends import LlamaCppLLM

    return LlamaCppLLM("smollm2")


@pytest.fixture(scope="session")
def reader_llm():
    """The 1.5B reader, installed and verified by ``make setup`` (never downloaded here)."""
    from rag.llm.backends import LlamaCppLLM

    return LlamaCppLLM("qwen2.5-coder-1.5b", models_dir=Settings().models_dir)


@pytest.fixture(scope="session")
def seeded_dir(tmp_path_factory, embedder) -> Path:
    """A data folder holding the five seeds (ingested once)."""
    d = tmp_path_factory.mktemp("seeded")
    Rag(Settings(data_dir=d)).ingest([SEEDS])
    return d


@pytest.fixture(scope="session")
def seeded_rag(seeded_dir, bundled_llm) -> Rag:
    """The seeds with the real bundled model. Read-only: do not ingest into it."""
    return Rag(Settings(data_dir=seeded_dir), llm=bundled_llm)


@pytest.fixture(scope="session")
def reader_rag(seeded_dir, reader_llm) -> Rag:
    """The seeds answered by the reader path. Read-only: do not ingest into it."""
    return Rag(Settings(data_dir=seeded_dir), llm=reader_llm)


@pytest.fixture
def fresh_rag(tmp_path, embedder) -> Rag:
    """An empty index in a temporary folder (model never loaded unless asked)."""
    return Rag(Settings(data_dir=tmp_path / "data"))


def mock_rag(seeded_dir: Path, replies) -> Rag:
    """The seeded index with a scripted model (see rag.llm.backends.MockModel)."""
    from rag.llm.backends import MockModel

    return Rag(Settings(data_dir=seeded_dir), llm=MockModel(replies))
