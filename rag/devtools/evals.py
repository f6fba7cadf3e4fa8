"""The eval harness: answers and retrieval scored against the gold set.

All metrics are computed offline and deterministically (temperature 0, fixed
seed) with whatever model the settings name (by default the bundled GGUF).

    rag eval [--gold FILE] [--json] [--out DIR] [--baseline FILE]
"""

from __future__ import annotations

import json
import re
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import RagError
from rag.text import normalise

# Headline metrics compared with a baseline; higher is better except where noted.
HEADLINE = {
    "crag_score": "higher",
    "answer_accuracy": "higher",
    "refusal_accuracy": "higher",
    "wrong_refusals": "lower",
    "citation_validity": "higher",
    "retrieval_recall@5": "higher",
}
TOLERANCE = 0.03  # an absolute drop larger than this fails --baseline
FLOORS = {  # the gate (issue 4); tests/test_eval_gate.py asserts them
    "answer_accuracy": 0.85,
    "refusal_accuracy": 0.85,
    "wrong_refusals": 0.10,  # at most
    "citation_validity": 1.0,
    "retrieval_recall@5": 0.95,
}


@dataclass
class GoldItem:
    id: str
    question: str
    type: str
    answers: list[str] = field(default_factory=list)
    patterns: list[str] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)
    evidence: list[dict] = field(default_factory=list)
    split: str = ""  # "dev" (tuned on) / "test" (held out); "" in a set without splits

    @property
    def answerable(self) -> bool:
        return self.type != "unanswerable"


def load_gold(path: str | Path) -> list[GoldItem]:
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise RagError(f"cannot read gold set {path}: {exc.strerror or exc}") from None
    items = []
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            items.append(
                GoldItem(
                    id=d["id"],
                    question=d["question"],
                    type=d["type"],
                    answers=d.get("answers", []),
                    patterns=d.get("patterns", []),
                    facts=d.get("facts", []),
                    evidence=d.get("evidence", []),
                    split=str(d.get("split", "")),
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise RagError(f"{path}:{i}: not a gold item ({exc.__class__.__name__}: {exc})") from None
    if not items:
        raise RagError(f"{path} holds no questions")
    return items


def is_correct(item: GoldItem, answer_text: str) -> bool:
    """Accepted alias or pattern found, or every required fact present (normalised).

    >>> it = GoldItem("q", "?", "numeric", answers=["1.1 million"], facts=["1.1 million"])
    >>> is_correct(it, "Only 1.1 million were listening [1]."), is_correct(it, "About 11 million.")
    (True, False)
    """
    norm = normalise(answer_text)
    if any(normalise(a) and normalise(a) in norm for a in item.answers):
        return True
    if any(re.search(p, norm, re.I) for p in item.patterns):
        return True
    return bool(item.facts) and all(normalise(f) in norm for f in item.facts)


def _quote_in_text(quote: str, text: str) -> bool:
    return bool(quote) and quote in text


def citation_valid(c: dict, article_text: str | None) -> bool:
    """The quote is exactly the stored article text between its offsets."""
    return article_text is not None and article_text[c["start"] : c["end"]] == c["quote"]


def citation_supports(c: dict, item: GoldItem, article_text: str | None) -> bool:
    """The cited passage holds (overlaps) the gold evidence, or the item's facts/answers."""
    if article_text is None:
        return False
    for ev in item.evidence:
        if ev["file"] != c["file"]:
            continue
        pos = article_text.find(ev["quote"])
        if pos >= 0 and pos < c["end"] and c["start"] < pos + len(ev["quote"]):
            return True
    q = normalise(c["quote"])
    if item.facts and all(normalise(f) in q for f in item.facts):
        return True
    return any(normalise(a) and normalise(a) in q for a in item.answers)


def _pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    k = min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))
    return s[k]


def run_eval(rag, gold: str | Path, limit: int | None = None, progress: bool = False) -> dict:
    """Score every gold question; returns ``{"metrics", "by_type", "items"}``."""
    items = load_gold(gold)[:limit] if limit else load_gold(gold)
    texts: dict[str, str] = {}
    for src in rag.sources():
        art = rag.article(src["article_id"])
        texts[art.id] = art.text
    if not texts:
        raise RagError("the index is empty: run `rag ingest` first")
    rows = []
    it = items
    if progress and sys.stderr.isatty():
        from tqdm import tqdm

        it = tqdm(items, desc="eval", unit="q", leave=False)
    for item in it:
        hits = rag.search(item.question, k=5)
        rank = next(
            (r for r, h in enumerate(hits, 1) if any(_quote_in_text(ev["quote"], h.text) for ev in item.evidence)),
            None,
        )
        t0 = time.perf_counter()
        ans = rag.ask(item.question)
        wall = (time.perf_counter() - t0) * 1000
        cites = [c.to_json() for c in ans.citations]
        valid = [citation_valid(c, texts.get(c["article_id"])) for c in cites]
        supports = [citation_supports(c, item, texts.get(c["article_id"])) for c in cites]
        answered = ans.status == "answered"
        rows.append(
            {
                "id": item.id,
                "type": item.type,
                "split": item.split,
                "question": item.question,
                "status": ans.status,
                "mode": ans.mode,
                "answer": ans.answer,
                "correct": (answered and is_correct(item, ans.answer)) if item.answerable else not answered,
                "retrieval_rank": rank,
                "citations": len(cites),
                "citations_valid": all(valid),
                "citations_supported": sum(supports),
                "total_ms": ans.timings.get("total_ms", wall),
                "first_token_ms": ans.timings.get("first_token_ms"),
                "raw_output": ans.raw_output,
                "dropped": ans.dropped,
            }
        )
    out = summarise(rows)
    out["gold"] = Path(gold).name
    out["model"] = getattr(rag.answerer.llm, "name", "")
    return out


def crag(row: dict) -> int:
    """+1 a right answer, 0 a refusal, -1 a wrong answer or any answer to an unanswerable question.

    >>> crag({"type": "fact", "status": "answered", "correct": True}), crag({"type": "unanswerable", "status": "refused"})
    (1, 0)
    >>> crag({"type": "unanswerable", "status": "answered", "correct": False})
    -1
    """
    if row["status"] != "answered":
        return 0
    return 1 if row["type"] != "unanswerable" and row["correct"] else -1


SPLIT_ORDER = ("test", "dev")  # the held-out split is reported first


def summarise(rows: list[dict]) -> dict:
    """Metrics of all rows, by type, and by split when the gold set has splits (test first)."""
    out = _summary(rows)
    present = {r.get("split", "") for r in rows} - {""}
    splits = [sp for sp in SPLIT_ORDER if sp in present] + sorted(present - set(SPLIT_ORDER))
    if splits:
        out["by_split"] = {sp: _summary([r for r in rows if r.get("split") == sp])["metrics"] for sp in splits}
    return out


def _summary(rows: list[dict]) -> dict:
    answerable = [r for r in rows if r["type"] != "unanswerable"]
    unanswerable = [r for r in rows if r["type"] == "unanswerable"]
    answered = [r for r in rows if r["status"] == "answered"]
    with_rank = [r for r in answerable]
    n_cites = sum(r["citations"] for r in answered)

    def share(xs: list, pred) -> float:
        return round(sum(1 for x in xs if pred(x)) / len(xs), 4) if xs else 0.0

    lat = [r["total_ms"] for r in rows]
    ttft = [r["first_token_ms"] for r in rows if r["first_token_ms"] is not None]
    metrics = {
        "n": len(rows),
        "crag_score": round(sum(crag(r) for r in rows) / len(rows), 4) if rows else 0.0,
        "answer_accuracy": share(answerable, lambda r: r["correct"]),
        "refusal_accuracy": share(unanswerable, lambda r: r["correct"]),
        "wrong_refusals": share(answerable, lambda r: r["status"] == "refused"),
        "citation_validity": share(answered, lambda r: r["citations_valid"]) if answered else 1.0,
        "citation_support": round(sum(r["citations_supported"] for r in answered) / n_cites, 4) if n_cites else 0.0,
        "cited_share": share(answered, lambda r: r["citations"] > 0),
        "retrieval_recall@5": share(with_rank, lambda r: r["retrieval_rank"] is not None),
        "retrieval_mrr": round(
            sum(1 / r["retrieval_rank"] for r in with_rank if r["retrieval_rank"]) / len(with_rank), 4
        )
        if with_rank
        else 0.0,
        "generated_share": share(answered, lambda r: r["mode"] == "generated"),
        "extractive_share": share(answered, lambda r: r["mode"] == "extractive"),
        "latency_ms_p50": round(statistics.median(lat), 1) if lat else 0.0,
        "latency_ms_p95": round(_pct(lat, 95), 1),
        "first_token_ms_p50": round(statistics.median(ttft), 1) if ttft else None,
    }
    by_type: dict[str, dict] = defaultdict(dict)
    for t in sorted({r["type"] for r in rows}):
        rs = [r for r in rows if r["type"] == t]
        by_type[t] = {"n": len(rs), "accuracy": share(rs, lambda r: r["correct"])}
    return {"metrics": metrics, "by_type": dict(by_type), "items": rows}


def compare(report: dict, baseline: dict, tolerance: float = TOLERANCE) -> list[str]:
    """Headline metrics that got worse than the baseline by more than ``tolerance``,
    over the whole set and in each split the baseline has."""
    pairs = [("", report["metrics"], baseline.get("metrics", {}))]
    pairs += [(f"{sp} ", report.get("by_split", {}).get(sp, {}), m) for sp, m in baseline.get("by_split", {}).items()]
    out = []
    for label, now, before in pairs:
        for k, direction in HEADLINE.items():
            new, old = now.get(k), before.get(k)
            if new is None or old is None:
                continue
            drop = (old - new) if direction == "higher" else (new - old)
            if drop > tolerance:
                out.append(f"{label}{k}: {old:.3f} -> {new:.3f}")
    return out


def gate_failures(metrics: dict) -> list[str]:
    """Floors of issue 4 that the metrics miss."""
    out = []
    for k, floor in FLOORS.items():
        v = metrics.get(k)
        if v is None:
            continue
        bad = v > floor if k == "wrong_refusals" else v < floor
        if bad:
            out.append(f"{k} {v:.3f} {'>' if k == 'wrong_refusals' else '<'} {floor}")
    return out
