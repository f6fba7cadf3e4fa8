"""The reader's gate: the held-out MultiLing gold set, per split, against the default reader.

One run of the harness over an index holding the seeds and the 100 MultiLing articles
(the other corpus is the distractor) feeds every test here. Each split is compared with
the committed baseline (evals/reader/report.json, split by split), and the issue's
targets are asserted per split exactly as stated; a target the reader does not reach
yet is a strict xfail that reports the measured number (and fails as XPASS the day it
is met, so the marker goes). The test split is held out: nothing was tuned on it.
"""

from __future__ import annotations

import json

import pytest
from conftest import MULTILING, ROOT, SEEDS

from rag.api import Rag
from rag.devtools.evals import compare, run_eval
from rag.settings import Settings

# The module fixture reads 120 questions with the 1.5B model: about 9 min on the 2-core
# machines of earlier runs, over 15 min on a slower 2-core one (AMD EPYC, AVX2). pytest-timeout
# counts it against the first test, so this module gets an hour, not the suite's 15 minutes.
pytestmark = [pytest.mark.slow, pytest.mark.model, pytest.mark.timeout(3600)]

GOLD_MULTILING = ROOT / "evals" / "gold_multiling.jsonl"
BASELINE = ROOT / "evals" / "reader" / "report.json"
# The reader issue's targets, per split (MultiLing test is the headline).
TARGETS = {
    "crag_score": (">=", 0.75),
    "answer_accuracy": (">=", 0.85),
    "refusal_accuracy": (">=", 0.85),
    "wrong_refusals": ("<=", 0.10),
    "citation_validity": (">=", 1.0),
    "generated_share": (">=", 0.6),
}


@pytest.fixture(scope="module")
def report(tmp_path_factory, embedder, reader_llm):
    data = tmp_path_factory.mktemp("multiling")
    rag = Rag(Settings(data_dir=data), llm=reader_llm)
    rag.ingest([SEEDS, MULTILING / "articles"])
    out = run_eval(rag, GOLD_MULTILING)
    # Kept beside the run's temporary folders, to read or to refresh the baseline from.
    (tmp_path_factory.getbasetemp() / "reader_gate_report.json").write_text(json.dumps(out), encoding="utf-8")
    return out


def test_both_splits_are_scored(report):
    assert list(report["by_split"]) == ["test", "dev"]
    assert sum(m["n"] for m in report["by_split"].values()) == report["metrics"]["n"] >= 60


def test_no_regression_against_the_committed_baseline_in_either_split(report):
    baseline = json.loads(BASELINE.read_text(encoding="utf-8"))
    assert set(baseline["by_split"]) == {"test", "dev"}
    assert compare(report, baseline) == []


def _met(value: float, op: str, limit: float) -> bool:
    return value >= limit if op == ">=" else value <= limit


def _measured() -> dict:
    return json.loads(BASELINE.read_text(encoding="utf-8"))["by_split"]


def _cases():
    measured = _measured()
    for split in ("test", "dev"):
        for metric, (op, limit) in TARGETS.items():
            reached = _met(measured[split][metric], op, limit)
            marks = (
                ()
                if reached
                else pytest.mark.xfail(
                    strict=True,
                    reason=f"{split} {metric} {measured[split][metric]} (target {op} {limit}); evals/reader",
                )
            )
            yield pytest.param(split, metric, marks=marks, id=f"{split}-{metric}")


@pytest.mark.parametrize(("split", "metric"), list(_cases()))
def test_reader_target(report, split, metric):
    op, limit = TARGETS[metric]
    value = report["by_split"][split][metric]
    assert _met(value, op, limit), f"{split} {metric} = {value} (target {op} {limit})"
