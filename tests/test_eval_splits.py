"""The eval harness per split: the CRAG score, test before dev, the baseline compared split by split."""

from __future__ import annotations

from rag.devtools import eval_report
from rag.devtools.evals import compare, load_gold, summarise


def _row(split: str, kind: str, status: str, correct: bool) -> dict:
    return {
        "id": f"{split}-{kind}-{status}-{correct}",
        "type": kind,
        "split": split,
        "status": status,
        "mode": "generated" if status == "answered" else "refused",
        "answer": "",
        "correct": correct,
        "retrieval_rank": 1,
        "citations": 1 if status == "answered" else 0,
        "citations_valid": True,
        "citations_supported": 1,
        "total_ms": 100.0,
        "first_token_ms": 50.0,
    }


ROWS = [
    _row("dev", "fact", "answered", True),
    _row("dev", "unanswerable", "answered", False),  # -1
    _row("test", "fact", "answered", True),
    _row("test", "fact", "refused", False),  # 0
    _row("test", "unanswerable", "refused", True),  # 0
    _row("test", "fact", "answered", False),  # -1
]


def test_each_split_gets_its_metrics_with_the_held_out_split_first():
    report = summarise(ROWS)
    assert list(report["by_split"]) == ["test", "dev"]
    test, dev = report["by_split"]["test"], report["by_split"]["dev"]
    assert test["n"] == 4 and dev["n"] == 2
    assert test["crag_score"] == 0.0  # (+1 + 0 + 0 - 1) / 4
    assert dev["crag_score"] == 0.0  # (+1 - 1) / 2
    assert test["answer_accuracy"] == round(1 / 3, 4) and test["wrong_refusals"] == round(1 / 3, 4)
    assert report["metrics"]["crag_score"] == 0.0 and report["metrics"]["n"] == 6


def test_a_set_without_splits_has_no_split_table():
    rows = [{**r, "split": ""} for r in ROWS]
    assert "by_split" not in summarise(rows)


def test_the_baseline_is_compared_in_each_split():
    base = summarise(ROWS)
    worse = [dict(r) for r in ROWS]
    worse[2] = _row("test", "fact", "answered", False)  # the one right test answer goes wrong
    drops = compare(summarise(worse), base)
    assert any(d.startswith("test crag_score") for d in drops)
    assert any(d.startswith("test answer_accuracy") for d in drops)
    assert not any(d.startswith("dev ") for d in drops)


def test_the_table_and_markdown_show_the_splits(capsys):
    report = summarise(ROWS)
    eval_report.print_splits(report)
    out = capsys.readouterr().out.splitlines()
    assert out[1].split()[0] == "split" and out[2].split()[0] == "test" and out[3].split()[0] == "dev"
    md = eval_report.to_markdown(report)
    assert "## By split" in md and md.index("| test |") < md.index("| dev |")


def test_the_multiling_gold_set_loads_with_its_splits():
    from pathlib import Path

    items = load_gold(Path(__file__).parent.parent / "evals" / "gold_multiling.jsonl")
    assert {i.split for i in items} == {"dev", "test"}
