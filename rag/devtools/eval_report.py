"""Eval reports: the markdown report, the chart, the tables printed by ``rag eval``
(test split first), and finding the latest report for the page."""

from __future__ import annotations

import json
from pathlib import Path

from rag.devtools.evals import FLOORS


def to_markdown(report: dict) -> str:
    m = report["metrics"]
    gold, model = report.get("gold", "gold.jsonl"), report.get("model") or "the default model"
    lines = ["# Eval report", "", f"{m['n']} gold questions (evals/{gold}), model {model}.", ""]
    lines += ["| metric | value | floor |", "|---|---|---|"]
    for k, v in m.items():
        if k == "n":
            continue
        floor = FLOORS.get(k)
        fl = "" if floor is None else (f"≤ {floor}" if k == "wrong_refusals" else f"≥ {floor}")
        lines.append(f"| {k} | {v if v is not None else '—'} | {fl} |")
    if report.get("by_split"):
        head = ["split", *SPLIT_COLUMNS]
        lines += ["", "## By split (test = held out, reported first)", "", "| " + " | ".join(head) + " |"]
        lines.append("|" + "---|" * len(head))
        for sp, sm in report["by_split"].items():
            lines.append("| " + " | ".join([sp, *(_cell(sm.get(c)) for c in SPLIT_COLUMNS)]) + " |")
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
    print_splits(report)
    print()
    print(f"{'type':<14} {'n':>3} {'accuracy':>9}")
    for t, d in report["by_type"].items():
        print(f"{t:<14} {d['n']:>3} {d['accuracy']:>9.3f}")
    if report.get("claims"):
        print()
        print_claims(report["claims"])


SPLIT_COLUMNS = (
    "n",
    "crag_score",
    "answer_accuracy",
    "refusal_accuracy",
    "wrong_refusals",
    "citation_validity",
    "citation_support",
    "generated_share",
    "first_token_ms_p50",
    "latency_ms_p50",
)


def _cell(v) -> str:
    return "-" if v is None else (f"{v:.3f}" if isinstance(v, float) and abs(v) <= 1.0 else f"{v}")


def print_splits(report: dict) -> None:
    """One line per split (test first) of the metrics the reader issue asks for."""
    if not report.get("by_split"):
        return
    short = ("n", "crag", "acc", "refusal", "wrong_ref", "valid", "support", "generated", "ttft_p50", "p50_ms")
    print()
    print(f"{'split':<6} " + " ".join(f"{h:>9}" for h in short))
    for sp, sm in report["by_split"].items():
        print(f"{sp:<6} " + " ".join(f"{_cell(sm.get(c)):>9}" for c in SPLIT_COLUMNS))
