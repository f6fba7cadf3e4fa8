"""The chat page as a server: gradio_client against the app on a free loopback port.

Real embedder, real Chroma (the seeded index), real bundled GGUF.
"""

from __future__ import annotations

import html
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from conftest import SEEDS, answers_ctrl_c

from rag.api import Rag
from rag.settings import Settings

SEED_TEXT = {p.name: p.read_text(encoding="utf-8") for p in SEEDS.glob("*.txt")}
QUESTION = "What did Musk blame for the late start of the conversation?"


def _in_a_seed(quote: str) -> bool:
    return any(quote in text for text in SEED_TEXT.values())


# -- fast: flags and refusals (no server started) ---------------------------------------
def test_public_host_without_password_is_refused(tmp_path, capsys):
    from rag.app.cli import main

    os.environ.pop("RAG_AUTH", None)
    rc = main(["serve", "--host", "0.0.0.0", "--data-dir", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert rc == 1
    assert err.startswith("rag: error: refusing to serve on 0.0.0.0 without a password")
    assert len(err.splitlines()) == 1
    assert not (tmp_path / "chroma").exists()  # refused before touching the index


def test_malformed_auth_is_one_line_error(tmp_path, capsys, monkeypatch):
    from rag.app.cli import main

    monkeypatch.setenv("RAG_AUTH", "no-colon")
    rc = main(["serve", "--host", "0.0.0.0", "--data-dir", str(tmp_path)])
    assert rc == 1
    assert capsys.readouterr().err.strip() == "rag: error: --auth (or RAG_AUTH) must look like user:password"


def test_loopback_and_auth_parsing():
    from rag.app.ui import is_loopback, parse_auth

    assert all(is_loopback(h) for h in ("127.0.0.1", "127.5.0.1", "localhost", "::1"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "192.168.1.2", "example.org", "::"))
    assert parse_auth("ann:pa:ss") == ("ann", "pa:ss")
    assert parse_auth(None) is None


@pytest.mark.slow  # opens a Chroma index
def test_busy_port_is_one_line_error(tmp_path):
    import socket

    from rag.app.ui import start
    from rag.errors import RagError

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(RagError, match=rf"cannot listen on 127.0.0.1:{port} .*pick another with --port$"):
            start(Rag(Settings(data_dir=tmp_path / "data")), "127.0.0.1", port)


def test_chat_refuses_empty_and_overlapping_questions_without_touching_the_chat():
    import gradio as gr

    from rag.app import ui
    from rag.app.ui_messages import Turn

    post, gate, _, clear = ui._chat_callbacks(rag=None)  # posting never reaches the Rag API
    assert post("   ", [])[4] == ui.EMPTY
    busy = [Turn(turn=1, question="first?")]
    out = post("second?", busy)
    assert out[4] == ui.BUSY
    assert all(isinstance(x, type(gr.skip())) for x in out[:4])  # box keeps its text, chat unchanged
    assert busy == [Turn(turn=1, question="first?")]
    with pytest.raises(gr.Error, match="Still answering"):
        gate(out[4])
    messages, box, turns, panel, refusal = post("  Who spoke?  ", [])
    assert (box, refusal) == ("", "")
    assert [t.question for t in turns] == ["Who spoke?"] and turns[0].status == "pending"
    assert messages == [{"role": "user", "content": "Who spoke?"}]
    assert "Searching the articles" in panel
    gate(refusal)  # passes
    assert clear()[2] == []


def _tabs(demo) -> list[str]:
    return [c["props"].get("label") for c in demo.config["components"] if c["type"] == "tabitem"]


@pytest.mark.slow  # opens a Chroma index
def test_evals_tab_only_when_a_report_exists(tmp_path, monkeypatch):
    import importlib.util

    from rag.app import ui

    rag = Rag(Settings(data_dir=tmp_path / "data"))  # an empty index; nothing loaded
    monkeypatch.setattr(ui, "_latest_eval_report", lambda: None)
    tabs = _tabs(ui.build_app(rag))
    assert tabs[:2] == ["Chat", "Library"] and "Evals" not in tabs
    assert ("Briefings" in tabs) == (importlib.util.find_spec("rag.brief.build") is not None)

    chart = tmp_path / "chart.png"
    chart.write_bytes(_tiny_png())
    report = {"markdown": "# Eval report\n\nAccuracy 0.91", "chart": str(chart), "metrics": {"accuracy": 0.91}}
    monkeypatch.setattr(ui, "_latest_eval_report", lambda: report)
    demo = ui.build_app(rag)
    assert "Evals" in _tabs(demo)
    values = [c["props"].get("value") for c in demo.config["components"]]
    assert "# Eval report\n\nAccuracy 0.91" in values
    assert any(isinstance(v, dict) and str(v.get("path", "")).endswith(".png") for v in values)


def _tiny_png() -> bytes:
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(1, 1))
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


# -- the app on the seeded index -----------------------------------------------------------
@pytest.fixture(scope="module")
def app_url(seeded_dir, bundled_llm):
    from rag.app import ui

    rag = Rag(Settings(data_dir=seeded_dir), llm=bundled_llm)  # read-only use: chat only
    demo, url = ui.start(rag, "127.0.0.1", ui.free_port())
    yield url
    demo.close()


def _client(url: str):
    from gradio_client import Client

    return Client(url, verbose=False)


@pytest.mark.slow
@pytest.mark.server
@pytest.mark.model
def test_ask_endpoint_returns_citations_quoted_verbatim_from_a_seed(app_url):
    got = _client(app_url).predict(QUESTION, api_name="/ask")
    assert got["status"] == "answered"
    assert len(got["citations"]) >= 1
    for c in got["citations"]:
        assert c["quote"] in SEED_TEXT[c["file"]], c
        assert f"[{c['n']}]" in got["answer"]


@pytest.mark.slow
@pytest.mark.server
@pytest.mark.model
def test_chat_streams_a_cited_answer_then_a_follow_up(app_url):
    client = _client(app_url)
    job = client.submit(QUESTION, api_name="/chat")
    messages, panel = job.result(timeout=600)[:2]
    updates = job.outputs()
    assert len(updates) >= 2  # the question first, then the answer (streamed in pieces)
    first_msgs = updates[0][0]
    assert [m["role"] for m in first_msgs] == ["user"]
    assert "Searching the articles" in updates[0][1]
    streamed = [_content(u[0][-1]) for u in updates[1:-1] if len(u[0]) == 2]
    assert streamed and all(s.endswith("▍") for s in streamed)  # text arrived before the final answer

    assert [m["role"] for m in messages] == ["user", "assistant"]
    answer = _content(messages[-1])
    targets = re.findall(r'<a class="cite" href="#(src-1-\d+)"', answer)
    assert targets, answer
    for t in targets:  # every marker has its card, and every card highlights a verbatim quote
        assert f'id="{t}"' in panel
    marks = [html.unescape(m) for m in re.findall(r"<mark>(.*?)</mark>", panel, re.S)]
    assert marks and all(_in_a_seed(m) for m in marks), marks

    # Follow-up in the same session: the conversation is kept and passed on.
    follow = client.submit("How long was it delayed?", api_name="/chat")
    messages2, panel2 = follow.result(timeout=600)[:2]
    assert [m["role"] for m in messages2] == ["user", "assistant", "user", "assistant"]
    assert "Earlier: " + html.escape(QUESTION, quote=False) in panel2
    assert panel2.index("How long was it delayed?") < panel2.index("Earlier: ")


def _content(message: dict) -> str:
    c = message["content"]
    if isinstance(c, list):  # [{"type": "text", "text": ...}] in newer Gradio
        return "".join(part.get("text", "") for part in c if isinstance(part, dict))
    return str(c)


@pytest.mark.slow
@pytest.mark.server
@pytest.mark.model
def test_one_answer_at_a_time_with_a_visible_queue_while_the_page_stays_up(app_url):
    from gradio_client.utils import Status

    first, second = _client(app_url), _client(app_url)
    job_a = first.submit(QUESTION, api_name="/ask")
    deadline = time.time() + 120
    while job_a.status().code != Status.PROCESSING and not job_a.done():
        assert time.time() < deadline, "the first question never started"
        time.sleep(0.05)
    job_b = second.submit("How many people listened to the Trump–Musk conversation?", api_name="/ask")
    t0 = time.perf_counter()
    page = httpx.get(app_url, timeout=20)  # another visitor loads the page meanwhile
    assert page.status_code == 200 and "<html" in page.text.lower()
    assert time.perf_counter() - t0 < 10
    queued = None
    while not job_a.done():
        st = job_b.status()
        if st.code == Status.IN_QUEUE and st.rank is not None:
            queued = st
            break
        time.sleep(0.05)
    assert queued is not None, "the second question was not held in the queue while the first ran"
    assert job_a.result(timeout=600)["status"] in ("answered", "refused")
    assert job_b.result(timeout=600)["status"] in ("answered", "refused")


@pytest.mark.slow
@pytest.mark.server
@pytest.mark.model
def test_briefing_links_its_citations_to_highlighted_passages_and_downloads(app_url, seeded_dir):
    pytest.importorskip("rag.brief.build", reason="the Briefings tab needs rag.brief")
    from rag.brief.events import find_events

    event = find_events(Rag(Settings(data_dir=seeded_dir)))[0]
    body, chart, panel, download = _client(app_url).predict(event.id, 250, api_name="/briefing")
    assert chart.startswith("<svg") and "Articles by outlet" in chart and "Timeline" in chart
    targets = set(re.findall(r'<a class="cite" href="#(brief-1-\d+)"', body))
    assert targets
    for t in targets:
        assert f'id="{t}"' in panel
    marks = [html.unescape(m) for m in re.findall(r"<mark>(.*?)</mark>", panel, re.S)]
    assert marks and all(_in_a_seed(m) for m in marks)
    if isinstance(download, dict):  # gr.update(value=..., visible=True)
        download = download["value"]
    if isinstance(download, dict):  # a FileData record
        download = download.get("path")
    md = Path(download).read_text(encoding="utf-8")
    assert md.startswith("# ") and "[1]" in md and "<a " not in md  # the plain Markdown briefing


# -- the library on its own (writable) index: upload, per-file results, remove ---------------
@pytest.mark.slow
@pytest.mark.server
def test_library_upload_reports_each_file_and_remove_deletes(tmp_path, embedder):
    from gradio_client import handle_file

    from rag.app import ui

    rag = Rag(Settings(data_dir=tmp_path / "data"))  # no model: the library never runs it
    demo, url = ui.start(rag, "127.0.0.1", ui.free_port())
    try:
        up = tmp_path / "up"
        up.mkdir()
        good = up / "harbour.txt"
        good.write_text(
            "Harbour reopens after storm\n\nThe town harbour reopened on Tuesday after a week of repairs, "
            "the port authority said. Fishing boats returned the same afternoon.\n",
            encoding="utf-8",
        )
        (up / "blank.md").write_text("   \n\n", encoding="utf-8")
        (up / "feed.jsonl").write_text(
            '{"title": "Bridge opens", "text": "The new bridge opened to traffic on Monday morning after '
            'three years of work, the city said."}\n{not json\n',
            encoding="utf-8",
        )
        client = _client(url)
        files = [handle_file(str(p)) for p in (good, up / "blank.md", up / "feed.jsonl")]
        result, _, summary, table = client.predict(files, api_name="/add_articles")[:4]
        lines = result.splitlines()
        assert lines[0] == "- **harbour.txt**: added"
        assert re.fullmatch(r"- \*\*blank\.md\*\*: skipped \((empty|no article text).*\)", lines[1]), lines[1]
        assert lines[2].startswith("- **feed.jsonl**: added; skipped #2 (malformed JSON")
        assert summary.startswith("2 articles")
        ids = {r["file"]: r["article_id"] for r in rag.sources()}
        assert set(ids) == {"harbour.txt", "feed.jsonl#1"}

        # The same upload again: nothing new.
        again = client.predict([handle_file(str(good))], api_name="/add_articles")[0]
        assert again == "- **harbour.txt**: already in the index"

        removed, summary2 = client.predict(ids["harbour.txt"], api_name="/remove_article")[:2]
        assert ids["harbour.txt"] in removed
        assert summary2.startswith("1 article ")
        assert [r["file"] for r in rag.sources()] == ["feed.jsonl#1"]
    finally:
        demo.close()


# -- `rag serve` from an empty index: ingests the seeds, prints the address, stops on Ctrl+C ---
@pytest.mark.slow
@pytest.mark.server
@pytest.mark.model
def test_serve_ingests_seeds_into_an_empty_index_and_prints_the_address(tmp_path):
    from rag.app.ui import free_port

    port = free_port()
    env = {**os.environ, "RAG_DATA_DIR": str(tmp_path / "data"), "PYTHONUNBUFFERED": "1"}
    env.pop("RAG_AUTH", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "rag.app.cli", "serve", "--port", str(port)],
        env=env,
        preexec_fn=answers_ctrl_c,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=str(tmp_path),
    )
    out: list[str] = []
    try:
        deadline = time.time() + 300
        while time.time() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            out.append(line)
            if "is running" in line:
                break
        text = "".join(out)
        assert f"http://127.0.0.1:{port}" in text, text
        assert "The index is empty: ingesting the sample articles" in text
        assert "added 5 articles" in text
        config = httpx.get(f"http://127.0.0.1:{port}/config", timeout=30).text
        assert "<b>5</b> articles" in config
        assert "gradio.live" not in text  # no share link
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            rc = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
    assert rc == 0, "".join(out) + (proc.stdout.read() if proc.stdout else "")
    assert Path(tmp_path / "data" / "chroma").exists()
