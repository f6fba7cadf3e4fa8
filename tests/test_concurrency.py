"""Concurrency across processes: `rag serve` answers three API clients while a separate
`rag ingest` adds articles to the same data directory.

Every answer stays exact (a refusal, or citations quoted verbatim from the cited file),
the ingest succeeds, the running server then finds the new articles, and afterwards the
index is exactly what a clean single-process ingest of the same files produces: every
article once, each with exactly its chunks, no orphans. Real embedder, real Chroma, real
bundled GGUF; loopback only.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from conftest import MULTILING, SEEDS, answers_ctrl_c
from test_crash import check_index

from rag.api import Rag
from rag.app.ui import free_port
from rag.index.records import get_all as _get_all
from rag.ingest.read import read_file
from rag.settings import Settings

pytestmark = pytest.mark.slow

RAG = str(Path(sys.executable).parent / "rag")
N_MORE = 20
QUESTIONS = [  # three per client, about the seeds (evals/gold.jsonl)
    [
        "What did Musk blame for the late start of the conversation?",
        "How long was the start of the Trump–Musk conversation delayed?",
        "How many people listened to the Trump–Musk conversation?",
    ],
    [
        "Was there any evidence for Musk's claim that X was hit by a DDoS attack?",
        "What error message did people see when trying to join the conversation?",
        "What did Musk say the 'massive attack' illustrated?",
    ],
    [
        "Why did some engineers doubt that an attack caused the problems?",
        "How much was Trump paid to take part in the conversation with Musk on X?",
        "What did Musk say X was doing ahead of the event to cope with the expected number of listeners?",
    ],
]
# Asked after the ingest, about one of the added articles (MultiLing M0000).
LATE_QUESTION = "Which tax returns can U.S. citizens write off 2005 tsunami donations on?"
START_TIMEOUT = 180  # `rag serve`: open the index, load the embedder and the model
ASK_TIMEOUT = 120  # one answer, queued behind at most eight others
RUN_TIMEOUT = 240  # the clients and the ingest together


def _env(data: Path) -> dict:
    env = {**os.environ, "RAG_DATA_DIR": str(data), "PYTHONUNBUFFERED": "1"}
    for var in ("RAG_AUTH", "RAG_CHROMA_URL", "RAG_LLM_URL", "RAG_MODEL"):
        env.pop(var, None)
    return env


def _stop(proc: subprocess.Popen, sig: int = signal.SIGINT, timeout: float = 30) -> int:
    """Signal ``proc`` and wait for it; SIGKILL when it does not end in time."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)
    return proc.returncode


class _Output(threading.Thread):
    """Reads a process's output (so its pipe never fills) and notes when a line appears."""

    def __init__(self, proc: subprocess.Popen, marker: str) -> None:
        super().__init__(daemon=True)
        self.proc, self.marker = proc, marker
        self.lines: list[str] = []
        self.seen = threading.Event()

    def run(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)
            if self.marker in line:
                self.seen.set()

    @property
    def text(self) -> str:
        return "".join(self.lines)


def _chunk_ids(data: Path) -> list[str]:
    store = Rag(Settings(data_dir=data)).store
    try:
        return sorted(_get_all(store.chunks, [])["ids"])
    finally:
        store.close()


@pytest.mark.model
@pytest.mark.server
def test_serve_answers_while_another_process_ingests(tmp_path, capsys):
    from gradio_client import Client

    data = tmp_path / "data"
    seeds = sorted(SEEDS.glob("*.txt"))
    more_dir = tmp_path / "more"
    more_dir.mkdir()
    more = []
    for f in sorted((MULTILING / "articles").glob("*.txt"))[:N_MORE]:
        more.append(more_dir / f.name)
        shutil.copyfile(f, more[-1])
    texts = {}  # file name -> the stored article text (what a citation quotes)
    for f in seeds + more:
        (a,) = read_file(f, 10_000_000)
        texts[a.file] = a.text
    raw_seeds = {f.name: f.read_text(encoding="utf-8") for f in seeds}
    env = _env(data)
    t_start = time.monotonic()

    seeded = subprocess.run([RAG, "ingest", str(SEEDS)], env=env, capture_output=True, text=True, timeout=START_TIMEOUT)
    assert seeded.returncode == 0, seeded.stderr
    assert seeded.stdout.startswith("added 5, "), seeded.stdout
    chunks_seeded = len(_chunk_ids(data))

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    serve = subprocess.Popen(
        [RAG, "serve", "--port", str(port)],
        env=env,
        preexec_fn=answers_ctrl_c,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=str(tmp_path),
    )
    serve_out = _Output(serve, "is running")
    serve_out.start()
    ingest = None
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not serve_out.seen.is_set():
            assert serve.poll() is None, f"rag serve exited with {serve.returncode}:\n{serve_out.text}"
            assert time.monotonic() < deadline, f"rag serve did not start in {START_TIMEOUT}s:\n{serve_out.text}"
            time.sleep(0.1)
        assert url in serve_out.text, serve_out.text
        assert httpx.get(url + "config", timeout=30).status_code == 200
        t_ready = time.monotonic()

        # -- at the same time: three clients asking, and another process ingesting ----------
        results: list[tuple[int, str, dict, float, float]] = []  # (client, question, answer, asked, got)
        errors: list[str] = []

        def ask_loop(i: int) -> None:
            try:
                client = Client(url, verbose=False)
                for q in QUESTIONS[i]:
                    asked = time.monotonic()
                    got = client.submit(q, api_name="/ask").result(timeout=ASK_TIMEOUT)
                    results.append((i, q, got, asked, time.monotonic()))
            except Exception as exc:  # reported below, with the others
                errors.append(f"client {i}: {exc.__class__.__name__}: {exc}")

        # A baseline in the same run: the first client's questions, one at a time, before
        # the ingest (latency is reported as a ratio to it, never a timed pass/fail).
        baseline = []
        warm = Client(url, verbose=False)
        for q in QUESTIONS[0]:
            asked = time.monotonic()
            warm.submit(q, api_name="/ask").result(timeout=ASK_TIMEOUT)
            baseline.append(time.monotonic() - asked)

        ingest_log = tmp_path / "ingest.log"
        with open(ingest_log, "w", encoding="utf-8") as log:
            ingest = subprocess.Popen(
                [RAG, "ingest", str(more_dir)], env=env, stdout=log, stderr=subprocess.STDOUT, text=True
            )
            t_ingest = time.monotonic()
            threads = [threading.Thread(target=ask_loop, args=(i,), daemon=True) for i in range(len(QUESTIONS))]
            for t in threads:
                t.start()
            deadline = time.monotonic() + RUN_TIMEOUT
            ingest_done = None
            while ingest_done is None or any(t.is_alive() for t in threads):
                if ingest_done is None and ingest.poll() is not None:
                    ingest_done = time.monotonic()
                assert time.monotonic() < deadline, (
                    f"not done in {RUN_TIMEOUT}s: ingest {'ended' if ingest_done else 'running'}, "
                    f"{len(results)} answers, errors {errors}"
                )
                time.sleep(0.05)
        t_run = time.monotonic()
        ingest_text = ingest_log.read_text(encoding="utf-8")
        assert ingest.returncode == 0, ingest_text
        assert re.search(rf"^added {N_MORE}, updated 0, unchanged 0, removed 0, skipped 0 ", ingest_text, re.M), (
            ingest_text
        )

        assert not errors, errors
        assert len(results) == sum(len(qs) for qs in QUESTIONS)
        # Answers being worked on while the ingest ran (the first ones always are: the clients
        # start with it), and answers that came back before it ended.
        overlapping = sum(1 for *_, asked, got in results if asked < ingest_done and got > t_ingest)
        during = sum(1 for *_, got in results if got < ingest_done)
        assert overlapping >= 1, "no question was in flight while the ingest ran: nothing was concurrent"
        statuses = {"answered": 0, "refused": 0}
        cited_files = set()
        for _, q, got, *_ in results:
            assert got["question"] == q
            assert got["status"] in statuses, got
            statuses[got["status"]] += 1
            if got["status"] == "answered":
                assert got["citations"], got
            for c in got["citations"]:
                assert f"[{c['n']}]" in got["answer"], (q, got["answer"])
            for c in got["citations"] + got["related"]:
                assert c["file"] in texts, c
                assert c["quote"] and c["quote"] in texts[c["file"]], c
                assert texts[c["file"]][c["start"] : c["end"]] == c["quote"], c
                assert c["file"] not in raw_seeds or c["quote"] in raw_seeds[c["file"]], c
                cited_files.add(c["file"])

        # The running server sees the articles the other process added (the lexical index
        # follows the index's change token).
        late = Client(url, verbose=False).submit(LATE_QUESTION, api_name="/ask").result(timeout=ASK_TIMEOUT)
        late_files = {c["file"] for c in late["citations"] + late["related"]}
        assert late_files & {f.name for f in more}, late
        for c in late["citations"] + late["related"]:
            assert texts[c["file"]][c["start"] : c["end"]] == c["quote"], c
        assert "Traceback" not in serve_out.text, serve_out.text
    finally:
        if ingest is not None and ingest.poll() is None:
            _stop(ingest, signal.SIGKILL)
        serve_rc = _stop(serve)
    assert serve_rc == 0, serve_out.text

    # -- afterwards: exactly what one clean ingest of the same files gives ------------------
    check_index(data, seeds + more)  # every article once, each with exactly its chunks, no orphans
    got_ids = _chunk_ids(data)
    clean = tmp_path / "clean"
    single = subprocess.run(
        [RAG, "ingest", str(SEEDS), str(more_dir)],
        env=_env(clean),
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
    )
    assert single.returncode == 0, single.stderr
    want_ids = _chunk_ids(clean)
    assert len(got_ids) == len(set(got_ids)) == len(want_ids)
    assert got_ids == want_ids
    in_flight = [got - asked for *_, asked, got in results if asked < ingest_done and got > t_ingest]
    with capsys.disabled():
        import statistics

        base_s = statistics.median(baseline)
        print(
            f"\nanswer latency: {base_s:.2f} s median alone before the ingest; "
            f"{statistics.median(in_flight):.2f} s median ({max(in_flight):.2f} s max) for the "
            f"{len(in_flight)} answers in flight during it, three clients at once "
            f"(ratio {statistics.median(in_flight) / base_s:.2f}; the model answers one at a time)"
        )
        per_client = [sum(1 for r in results if r[0] == i) for i in range(len(QUESTIONS))]
        print(
            f"\nanswers per client {per_client} ({statuses['answered']} answered, {statuses['refused']} refused; "
            f"{overlapping} in flight and {during} returned while the ingest ran; late question cites "
            f"{sorted(late_files)}); cited files: {len(cited_files & {f.name for f in seeds})} "
            f"seeds, {len(cited_files - {f.name for f in seeds})} new; chunks: {chunks_seeded} seeded -> "
            f"{len(got_ids)} after (clean ingest {len(want_ids)}); ingest: {ingest_text.strip().splitlines()[-1]}; "
            f"serve start {t_ready - t_start:.0f}s, concurrent part {t_run - t_ingest:.0f}s "
            f"(ingest {ingest_done - t_ingest:.0f}s), total {time.monotonic() - t_start:.0f}s"
        )


def test_a_running_reader_finds_the_vectors_another_process_wrote(tmp_path, embedder):
    """Chroma keeps each process's vector index in memory and never reloads it
    (chroma-core/chroma#3792): without Store.refresh a running reader's dense search
    missed every article a later `rag ingest` added, and fused ranking buried them."""
    data = tmp_path / "data"
    reader = Rag(Settings(data_dir=data))
    reader.ingest([SEEDS])
    assert {h.file for h in reader.search("tsunami donations tax deduction", k=3)} <= {f.name for f in SEEDS.glob("*")}
    more_dir = tmp_path / "more"
    more_dir.mkdir()
    for f in sorted((MULTILING / "articles").glob("*.txt"))[:3]:
        shutil.copyfile(f, more_dir / f.name)
    other = subprocess.run(
        [RAG, "ingest", str(more_dir), "--data-dir", str(data)], capture_output=True, text=True, timeout=300
    )
    assert other.returncode == 0, other.stderr

    hits = reader.search("tsunami donations tax deduction", k=3)
    assert hits[0].file.startswith("M000") and hits[0].dense_rank is not None, [(h.file, h.dense_rank) for h in hits]
    assert reader.store.refresh() is False  # reopened once, not on every search
    reader.ingest([SEEDS / "000_5cbc33d537700a93.txt", more_dir / "M0000.txt"], sync=False)  # nothing new
    more = tmp_path / "one.txt"
    more.write_text(
        "Harbour reopens after storm\n\nThe town harbour reopened on Tuesday after a week of repairs, the port "
        "authority said. Fishing boats returned the same afternoon.\n",
        encoding="utf-8",
    )
    reader.ingest([more], sync=False)  # this process's own write: no reopen needed
    assert reader.store.refresh() is False
    hits = reader.search("harbour reopened after repairs", k=1)
    assert hits[0].file == "one.txt" and hits[0].dense_rank == 0
    reader.store.close()
