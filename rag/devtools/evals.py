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
    return summarise(rows)


def summarise(rows: list[dict]) -> dict:
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
    """Headline metrics that got worse than the baseline by more than ``tolerance``."""
    out = []
    for k, direction in HEADLINE.items():
        new, old = report["metrics"].get(k), baseline.get("metrics", {}).get(k)
        if new is None or old is None:
            continue
        drop = (old - new) if direction == "higher" else (new - old)
        if drop > tolerance:
            out.append(f"{k}: {old:.3f} -> {new:.3f}")
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


def to_markdown(report: dict) -> str:
    m = report["metrics"]
    lines = ["# Eval report", "", f"{m['n']} gold questions (evals/gold.jsonl), bundled model unless stated.", ""]
    lines += ["| metric | value | floor |", "|---|---|---|"]
    for k, v in m.items():
        if k == "n":
            continue
        floor = FLOORS.get(k)
        fl = "" if floor is None else (f"≤ {floor}" if k == "wrong_refusals" else f"≥ {floor}")
        lines.append(f"| {k} | {v if v is not None else '—'} | {fl} |")
    lines += ["", "## By type", "", "| type | n | accuracy |", "|---|---|---|"]
    for t, d in report["by_type"].items():
        lines.append(f"| {t} | {d['n']} | {d['accuracy']:.3f} |")
    wrong = [r for r in report["items"] if not r["correct"]]
    if wrong:
        lines += ["", "## Misses", "", "| id | type | status/mode | answer |", "|---|---|---|---|"]
        for r in wrong:
            ans = r["answer"].replace("|", "\\|").replace("\n", " ")[:160]
            lines.append(f"| {r['id']} | {r['type']} | {r['status']}/{r['mode']} | {ans} |")
    if report.get("claims"):
        lines += ["", claims_markdown(report["claims"])]
    if report.get("briefing"):
        lines += ["", "## Briefing (seeds)", "", "```", json.dumps(report["briefing"], indent=1)[:3000], "```"]
    return "\n".join(lines) + "\n"


def claims_markdown(claims: dict) -> str:
    """The claim suite's per-kind table (test split first) with the targets each split misses."""
    from rag.devtools.claim_score import to_markdown as claims_table

    lines = [
        "## Claim suite (verification)",
        "",
        f"Seed {claims['seed']}: real sentences of the seeds and MultiLing 2011, restated faithfully or altered "
        "one change at a time (evals/claims/README.md). Wrong = an altered claim accepted or a faithful one "
        "rejected. Targets: altered accepted < 1% (0 for negation and numbers), faithful rejected < 5%.",
        "",
        claims_table(claims),
    ]
    for split in ("test", "dev"):
        missed = claims[split].get("failures") or ["all targets met"]
        lines.append(f"- {split}: " + "; ".join(missed))
    return "\n".join(lines)


def print_claims(claims: dict) -> None:
    """The claim suite's totals per split on stdout."""
    for split in ("test", "dev"):
        r = claims[split]
        print(
            f"claims {split:<4} altered accepted {r['altered_accepted']}/{r['altered']} "
            f"({r['altered_accepted_rate']:.2%}), faithful rejected {r['faithful_rejected']}/{r['faithful']} "
            f"({r['faithful_rejected_rate']:.2%})" + "".join(f"; MISSED: {f}" for f in r.get("failures", []))
        )


def write_chart(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    types = list(report["by_type"])
    vals = [report["by_type"][t]["accuracy"] for t in types]
    fig, ax = plt.subplots(figsize=(7, 3.2), dpi=110)
    bars = ax.bar(types, vals, color=["#9a3412" if t == "unanswerable" else "#1d4ed8" for t in types])
    ax.set_ylim(0, 1.05)
    ax.axhline(0.85, color="#6b7280", lw=1, ls="--")
    ax.set_ylabel("accuracy")
    ax.set_title("Answer accuracy by question type (unanswerable: correct refusals)")
    for b, v in zip(bars, vals):
        ax.text(b.get_x() + b.get_width() / 2, v + 0.02, f"{v:.2f}", ha="center", fontsize=8)
    plt.xticks(rotation=20, fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_report(report: dict, out: str | Path) -> Path:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "report.md").write_text(to_markdown(report), encoding="utf-8")
    write_chart(report, out / "chart.png")
    return out


def latest_report(folder: str | Path) -> dict | None:
    """The saved report for the page: {"markdown", "chart", "metrics"} or None."""
    folder = Path(folder)
    try:
        report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
        md = (folder / "report.md").read_text(encoding="utf-8")
    except (OSError, json.JSONDecodeError):
        return None
    chart = folder / "chart.png"
    return {"markdown": md, "chart": str(chart) if chart.exists() else None, "metrics": report.get("metrics", {})}


def print_table(report: dict) -> None:
    """The report's headline metrics and per-type accuracy as a plain table on stdout."""
    m = report["metrics"]
    print(f"{'metric':<22} {'value':>9}  floor")
    for k, v in m.items():
        if k == "n":
            continue
        floor = FLOORS.get(k)
        fl = "" if floor is None else (f"<= {floor}" if k == "wrong_refusals" else f">= {floor}")
        val = "-" if v is None else (f"{v:.3f}" if isinstance(v, float) and v <= 1.0 else f"{v}")
        print(f"{k:<22} {val:>9}  {fl}")
    print()
    print(f"{'type':<14} {'n':>3} {'accuracy':>9}")
    for t, d in report["by_type"].items():
        print(f"{t:<14} {d['n']:>3} {d['accuracy']:>9.3f}")
    if report.get("claims"):
        print()
        print_claims(report["claims"])
