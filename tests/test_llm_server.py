"""The model behind an OpenAI-compatible server (`--llm-url`): a real
`python -m llama_cpp.server` with the bundled GGUF on loopback, started here."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading

import pytest
from conftest import SEEDS

from rag.api import Rag
from rag.devtools.bench_util import free_port, llm_server
from rag.errors import RagError
from rag.llm.backends import OpenAIServerLLM, bundled_model_path
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
        [sys.executable, "-m", "rag.app.cli", *args], capture_output=True, text=True, env=env, timeout=600
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
    with pytest.raises(RagError, match=r"answered [45]\d\d"):
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


class _Scripted(http.server.BaseHTTPRequestHandler):
    """Replies to every POST with the body and content type the test sets."""

    reply: tuple[str, bytes] = ("application/json", b"{}")

    def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
        self.rfile.read(int(self.headers.get("content-length", 0)))
        ctype, body = self.reply
        self.send_response(200)
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def scripted():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Scripted)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()


def test_error_event_and_unstreamed_reply(scripted):
    """Other OpenAI-compatible servers: an error sent as an event is a RagError, not an
    empty answer; a server that ignores "stream" still gives its text."""
    url = f"http://127.0.0.1:{scripted.server_address[1]}"
    msgs = [{"role": "user", "content": "hi"}]
    _Scripted.reply = ("text/event-stream", b'data: {"error": {"message": "context overflow"}}\n\n')
    with pytest.raises(RagError, match="context overflow"):
        list(OpenAIServerLLM(url).stream(msgs, max_tokens=4))
    whole = {"choices": [{"message": {"role": "assistant", "content": "Forty minutes [1]."}}]}
    _Scripted.reply = ("application/json", json.dumps(whole).encode())
    assert "".join(OpenAIServerLLM(url).stream(msgs, max_tokens=4)) == "Forty minutes [1]."
    _Scripted.reply = ("text/event-stream", b'data: {"choices": [{"delta": null}]}\n\ndata: [DONE]\n\n')
    assert list(OpenAIServerLLM(url).stream(msgs, max_tokens=4)) == []
