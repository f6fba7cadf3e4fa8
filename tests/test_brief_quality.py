"""Briefing quality on real articles (real embedder, real Chroma; extractive ledes, no model):
MultiLing 2011 summaries scored on the held-out events, the editor's complaints of the
tsunami briefing, and the seeds' key facts.

The summaries do not depend on the model, so these run without one. Every briefing
setting was chosen on the dev events M000-M004 (rag/tuning.py); the test events
M005-M009 are the held-out figure. MultiLing 2011 by the MultiLing Community, CC BY 3.0.
"""

from __future__ import annotations

import re

import pytest
from conftest import MULTILING, ROOT, require

from rag.brief.centrality import dangling_start, list_marker

pytestmark = pytest.mark.slow

# The target: ROUGE-2 recall >= 0.20 on the held-out events (above every
# published participant; the best, ID3, has 0.173 over all 10).
ROUGE2_TEST_TARGET = 0.20
SEEDS_FACTS_TARGET = 0.90


@pytest.fixture(scope="module")
def multiling(tmp_path_factory):
    require(MULTILING / "articles", "the MultiLing 2011 corpus")
    from rag.devtools.brief_eval import run_multiling

    return run_multiling(tmp_path_factory.mktemp("ml"), corpus=MULTILING, use_llm=False)


def test_held_out_split_is_scored_apart(multiling):
    split = multiling["rouge_by_split"]
    print("MultiLing ROUGE by split:", split)
    assert split["test"]["topics"] == 5 and split["dev"]["topics"] == 5 and split["all"]["topics"] == 10
    topics = {p["topic"] for p in multiling["per_topic"]}
    assert topics == set(multiling["splits"]["test"]) | set(multiling["splits"]["dev"])
    assert multiling["citation_validity"]["rate"] == 1.0
    assert all(p["summary_words"] <= 250 for p in multiling["per_topic"])


@pytest.mark.xfail(strict=True, reason="not reached: ROUGE-2 recall 0.183 on M005-M009 (dev 0.203); see evals/brief")
def test_rouge2_on_the_held_out_events(multiling):
    got = multiling["rouge_by_split"]["test"]["rouge2"]
    assert got >= ROUGE2_TEST_TARGET, f"ROUGE-2 recall on M005-M009: {got:.4f} (target {ROUGE2_TEST_TARGET})"


@pytest.fixture(scope="module")
def tsunami(tmp_path_factory):
    """The 2004 tsunami aid event (M000) briefed from its 10 articles alone."""
    require(MULTILING / "articles", "the MultiLing 2011 corpus")
    import shutil

    from rag.api import Rag
    from rag.brief.build import build_briefings
    from rag.settings import Settings

    folder = tmp_path_factory.mktemp("m000")
    for p in sorted((MULTILING / "articles").glob("M000*.txt")):
        shutil.copy(p, folder / p.name)
    rag = Rag(Settings(data_dir=folder / "data"))
    rag.ingest([folder])
    (b,) = build_briefings(rag, use_llm=False)
    return b


def test_tsunami_briefing_reads_as_an_editor_wants(tsunami):
    b = tsunami
    # The lede and the first key fact are about the main story, not the telethon side story.
    for text in (b.lede.text, b.bullets[0].text):
        assert not re.search(r"telethon|395,000", text, re.I), text
    # Prose: no stray list markers, no sentence leaning on one that is not there.
    for it in b.summary_items:
        assert list_marker(it.text) == 0 and not dangling_start(it.text), it.text
    assert not any(list_marker(x.text) for x in b.bullets + b.timeline)
    # The timeline leaves out a council's vote on a donation.
    assert not any("3 votes to 2" in t.text for t in b.timeline), [t.text for t in b.timeline]


@pytest.mark.xfail(strict=True, reason="not reached: 19/31 = 0.61 of the seed key facts without the model")
def test_seed_key_facts(seeded_rag):
    from rag.devtools.brief_eval import run_brief_eval

    result = run_brief_eval(seeded_rag, ROOT / "evals" / "brief_gold.jsonl", use_llm=False)
    cov = result["coverage"]["coverage"]
    assert result["citation_validity"]["rate"] == 1.0
    assert cov >= SEEDS_FACTS_TARGET, f"seed key facts {cov:.2f} (target {SEEDS_FACTS_TARGET})"
