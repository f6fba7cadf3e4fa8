"""`rag check`, `Rag.check` and the page's "Check a claim" box on the real index:
real embedder, real Chroma; claims true and altered, over the seeds and MultiLing 2011.
No model is loaded (the verdicts come from the verifier's rules)."""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from conftest import MULTILING, SEEDS, require

from rag.api import Rag
from rag.devtools import claim_suite as suite
from rag.settings import Settings

pytestmark = pytest.mark.slow
RAG = str(Path(sys.executable).with_name("rag"))
SEED_TEXT = {p.name: p.read_text(encoding="utf-8") for p in SEEDS.glob("*.txt")}
CITATION_KEYS = {"n", "article_id", "file", "title", "outlet", "published", "quote", "start", "end", "supported"}

# (claim, verdict): written by hand from the seeds (the figures, the negation and the unit are
# those of seed 004: "delayed by more than 40 minutes", "approximately $44 billion", "has already endorsed").
HAND = [
    ("Musk bought Twitter in October 2022 for approximately $44 billion.", "supported"),
    ("Musk bought Twitter in October 2022 for approximately $54 billion.", "contradicted"),
    ("Musk has not endorsed Trump for president.", "contradicted"),
    ("The conversation was delayed by more than 40 hours by tech issues.", "contradicted"),
    ("Musk announced a new electric car for 2025.", "not_found"),
]
ALTERED_NEVER_SUPPORTED = ("negation", "number")


def _in_a_seed(quote: str) -> bool:
    return any(quote in text for text in SEED_TEXT.values())


@pytest.fixture(scope="module")
def seed_rag(seeded_dir) -> Rag:
    return Rag(Settings(data_dir=seeded_dir))


@pytest.mark.parametrize("claim,expected", HAND, ids=[v for _, v in HAND])
def test_hand_written_claims_over_the_seeds(seed_rag, claim, expected):
    got = seed_rag.check(claim).to_json()
    assert set(got) == {"claim", "verdict", "citations", "reason"}
    assert got["verdict"] == expected, got
    assert got["reason"]
    if expected == "not_found":
        assert got["citations"] == []
        return
    assert got["citations"]
    for c in got["citations"]:
        assert set(c) == CITATION_KEYS
        assert _in_a_seed(c["quote"])
        assert seed_rag.article(c["article_id"]).text[c["start"] : c["end"]] == c["quote"]  # offsets as in answers
    assert got["citations"][0]["supported"] is (expected == "supported")


def _suite_verdicts(rag: Rag, articles: list[tuple[str, str]]) -> dict[str, Counter]:
    out: dict[str, Counter] = {}
    for aid, text in articles:
        for c in suite.article_claims(aid, text):
            if c.kind in ("verbatim", "reworded", *ALTERED_NEVER_SUPPORTED, "antonym", "quantifier"):
                out.setdefault(c.kind, Counter())[rag.check(c.claim).verdict] += 1
    return out


def _assert_suite(verdicts: dict[str, Counter], min_supported: float) -> None:
    for kind in ("verbatim", "reworded"):
        n = sum(verdicts[kind].values())
        assert verdicts[kind]["supported"] >= min_supported * n, (kind, verdicts[kind])
    for kind in ALTERED_NEVER_SUPPORTED:
        assert verdicts[kind]["supported"] == 0, (kind, verdicts[kind])
        assert verdicts[kind]["contradicted"] > 0, (kind, verdicts[kind])
    for kind in ("antonym", "quantifier"):
        n = sum(verdicts[kind].values())
        assert verdicts[kind]["supported"] <= 0.01 * n, (kind, verdicts[kind])


def test_suite_claims_of_the_seeds_through_retrieval(seed_rag):
    """The sentences of the seeds found and supported; their negated and refigured
    versions never supported (retrieval picks the passages, not the suite)."""
    articles = [(f"seed/{p.stem}", p.read_text(encoding="utf-8")) for p in sorted(SEEDS.glob("*.txt"))]
    _assert_suite(_suite_verdicts(seed_rag, articles), min_supported=0.9)


def test_suite_claims_of_multiling_through_retrieval(fresh_rag):
    files = sorted(require(MULTILING / "articles", "the MultiLing 2011 corpus").glob("*.txt"))[:20]
    fresh_rag.ingest([str(f) for f in files])
    articles = [(f"multiling/{f.stem}", f.read_text(encoding="utf-8")) for f in files]
    _assert_suite(_suite_verdicts(fresh_rag, articles), min_supported=0.9)


def test_cli_check_batch_json_one_object_per_claim_in_order(seeded_dir, tmp_path):
    claims = tmp_path / "claims.txt"
    claims.write_text("\n".join(c for c, _ in HAND) + "\n\n" + "x" * 1001 + "\n", encoding="utf-8")
    out = subprocess.run(
        [RAG, "check", "--batch", str(claims), "--json", "--data-dir", str(seeded_dir)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["claim"] for r in rows[:-1]] == [c for c, _ in HAND]  # the blank line is skipped
    assert [r["verdict"] for r in rows[:-1]] == [v for _, v in HAND]
    assert "limit is 1,000" in rows[-1]["error"]  # a bad line is reported in its place


def test_cli_check_human_readable(seeded_dir):
    out = subprocess.run(
        [RAG, "check", HAND[1][0], "--data-dir", str(seeded_dir)], capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr
    first, reason = out.stdout.splitlines()[:2]
    assert first == f"CONTRADICTED: {HAND[1][0]}"
    assert "44" in reason and "54" in reason
    assert re.search(r"^\[1\] \(differs\) ", out.stdout, re.M)


def test_cli_check_on_an_empty_index_is_one_line(tmp_path):
    out = subprocess.run(
        [RAG, "check", "Anything at all.", "--data-dir", str(tmp_path / "empty")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 1 and out.stderr.strip() == "rag: error: the index is empty: run `rag ingest` first"


def _no_model():
    raise AssertionError("the check box must not load the model")


@pytest.fixture(scope="module")
def page_url(seeded_dir):
    from rag.app import ui

    rag = Rag(Settings(data_dir=seeded_dir), llm=_no_model)
    demo, url = ui.start(rag, "127.0.0.1", ui.free_port())
    yield url
    demo.close()


@pytest.mark.server
@pytest.mark.parametrize("claim,expected", [HAND[0], HAND[2], HAND[4]], ids=["supported", "contradicted", "not_found"])
def test_page_check_box_shows_the_verdict_with_the_passage_highlighted(page_url, claim, expected):
    from gradio_client import Client

    box, data = Client(page_url, verbose=False).predict(claim, api_name="/check")
    assert data["verdict"] == expected
    assert f'data-verdict="{expected}"' in box
    marks = [html.unescape(m) for m in re.findall(r"<mark>(.*?)</mark>", box, re.S)]
    if expected == "not_found":
        assert not marks
        return
    assert marks and all(_in_a_seed(m) for m in marks)
    assert data["citations"][0]["quote"] in marks
