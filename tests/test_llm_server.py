"""The model behind an OpenAI-compatible server (`--llm-url`): a real
`python -m llama_cpp.server` with the bundled GGUF on loopback, started here."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import SEEDS

from rag.api import Rag
from rag.bench import free_port, llm_server
from rag.errors import RagError
from rag.llm import OpenAIServerLLM, bundled_model_path
from rag.settings import Settings

pytestmark = [pytest.mark.server, pytest.mark.slow, pytest.mark.model]

# Answerable from the seeds, so the pipeline does call the model (a refusal would not).
QUESTION = "How long was the start of the Trump–Musk conversation delayed?"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with llm_server(bundled_model_path(), tmp_path_factory.mktemp("llm"), n_ctx=2048) as (url, proc):
        yield url


def _squash(text: str) -> str:
    return " ".join(text.split())


def _rag(*args: str, data_dir) -> subprocess.CompletedProcess:
    env = {**os.environ, "RAG_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "rag.cli", *args], capture_output=True, text=True, env=env, timeout=600
    )


def test_openai_server_llm_streams(server):
    llm = OpenAIServerLLM(server)
    messages = [{"role": "user", "content": "Name three colours."}]
    pieces = list(llm.stream(messages, max_tokens=24))
    assert len(pieces) > 1, "the reply arrives in several pieces, not at once"
    assert "".join(pieces).strip()
    # The same URL with /v1 works too.
    assert "".join(OpenAIServerLLM(server + "/v1/").stream(messages, max_tokens=8)).strip()


def test_server_error_status_is_a_rag_error(server):
    llm = OpenAIServerLLM(server)
    with pytest.raises(RagError, match="answered 4"):
        list(llm.stream([{"role": "nobody", "content": "hi"}], max_tokens=4))


def test_rag_ask_through_the_server_cites_verbatim_seed_text(server, seeded_dir):
    got = _rag("ask", "--llm-url", server, QUESTION, "--json", data_dir=seeded_dir)
    assert got.returncode == 0 and "Traceback" not in got.stderr, got.stderr[-2000:]
    ans = json.loads(got.stdout)
    assert ans["status"] == "answered" and ans["mode"] in ("generated", "extractive"), ans
    assert ans["citations"], ans
    assert {"retrieve_ms", "generate_ms", "total_ms"} <= set(ans["timings"])
    seeds = {p.name: _squash(p.read_text(encoding="utf-8")) for p in SEEDS.glob("*.txt")}
    rag = Rag(Settings(data_dir=seeded_dir))
    for c in ans["citations"]:
        assert c["quote"] and c["file"] in seeds
        assert rag.article(c["article_id"]).text[c["start"] : c["end"]] == c["quote"]
        assert _squash(c["quote"]) in seeds[c["file"]], c["quote"]  # verbatim in the seed file


def test_unreachable_server_is_a_one_line_error(seeded_dir):
    port = free_port()  # bound and released: nothing listens there
    got = _rag("ask", "--llm-url", f"http://127.0.0.1:{port}", QUESTION, "--json", data_dir=seeded_dir)
    assert got.returncode == 1
    assert "Traceback" not in got.stderr
    lines = got.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rag: error:") and "LLM server" in lines[0], got.stderr
    assert got.stdout.strip() == ""
