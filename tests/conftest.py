"""Shared fixtures: the real embedder, a real Chroma and the bundled GGUF, each
loaded once per session; every test index lives in a temporary folder."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# Never touch the user's index, whatever the environment says.
os.environ["RAG_DATA_DIR"] = tempfile.mkdtemp(prefix="rag-test-")
os.environ.pop("RAG_CHROMA_URL", None)
os.environ.pop("RAG_LLM_URL", None)
os.environ.pop("RAG_MODEL", None)

from rag.api import Rag  # noqa: E402
from rag.settings import PROJECT_ROOT, Settings  # noqa: E402

SEEDS = PROJECT_ROOT / "seeds"
SHARED = PROJECT_ROOT.parent / "shared"
MULTILING = SHARED / "corpora" / "multiling2011"


@pytest.fixture(scope="session")
def embedder():
    from rag.embed import get_embedder

    return get_embedder()


@pytest.fixture(scope="session")
def bundled_llm():
    from rag.llm import LlamaCppLLM

    return LlamaCppLLM(None)


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


@pytest.fixture
def fresh_rag(tmp_path, embedder) -> Rag:
    """An empty index in a temporary folder (model never loaded unless asked)."""
    return Rag(Settings(data_dir=tmp_path / "data"))


def mock_rag(seeded_dir: Path, replies) -> Rag:
    """The seeded index with a scripted model (see rag.llm.MockModel)."""
    from rag.llm import MockModel

    return Rag(Settings(data_dir=seeded_dir), llm=MockModel(replies))
