"""Score a verifier on the claim suite: per kind, the altered claims it accepts and
the faithful claims it rejects, test split first.

Targets: altered accepted under 1% overall and 0 for negation and numbers;
faithful rejected under 5%.

Run ``rag eval --claims [--lexical-only] [--show KIND --split dev]``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rag.answer.verify import lexical_support, support
from rag.devtools.claim_suite import ALTERED, FAITHFUL, SEED, Claim, build
from rag.types import Passage

ALTERED_ACCEPTED_MAX = 0.01
FAITHFUL_REJECTED_MAX = 0.05
ZERO_KINDS = ("negation", "number")


@dataclass(frozen=True)
class Verdict:
    accepted: bool
    reason: str
    stage: str = "lexical"  # which check decided: "lexical" or "rules"


def lexical(claim: str, passage: str) -> Verdict:
    """The existing lexical check alone."""
    ok, why = lexical_support(claim, _passage(passage))
    return Verdict(ok, why)


def _passage(text: str) -> list[Passage]:
    return [Passage(1, "a", "a.txt", "", "", "", text, 0, len(text))]


def full(claim: str, passage: str) -> Verdict:
    """The verifier answers and briefings use (:func:`rag.answer.verify.support`); the
    stage says whether the lexical check or the contradiction rules decided."""
    first = lexical(claim, passage)
    if not first.accepted:
        return first
    ok, why = support(claim, _passage(passage))
    return Verdict(ok, why, "rules")


def score(claims: list[Claim], verifier: Callable[[str, str], Verdict] = full) -> dict:
    """Per split and kind: how many claims, how many wrong (altered accepted or faithful rejected)."""
    out: dict = {}
    for split in ("test", "dev"):
        rows: dict[str, dict] = {}
        for c in (c for c in claims if c.split == split):
            v = verifier(c.claim, c.passage)
            wrong = v.accepted != c.faithful
            row = rows.setdefault(c.kind, {"n": 0, "wrong": 0, "wrong_by_rules": 0, "examples": []})
            row["n"] += 1
            if wrong:
                row["wrong"] += 1
                row["wrong_by_rules"] += v.stage == "rules" and not v.accepted
                row["examples"].append({"id": c.id, "claim": c.claim, "sentence": c.sentence, "reason": v.reason})
        out[split] = {"kinds": rows, **_totals(rows)}
    return out


def _totals(rows: dict[str, dict]) -> dict:
    alt_n = sum(r["n"] for k, r in rows.items() if k in ALTERED)
    alt_w = sum(r["wrong"] for k, r in rows.items() if k in ALTERED)
    fai_n = sum(r["n"] for k, r in rows.items() if k in FAITHFUL)
    fai_w = sum(r["wrong"] for k, r in rows.items() if k in FAITHFUL)
    return {
        "altered": alt_n,
        "altered_accepted": alt_w,
        "altered_accepted_rate": alt_w / alt_n if alt_n else 0.0,
        "faithful": fai_n,
        "faithful_rejected": fai_w,
        "faithful_rejected_rate": fai_w / fai_n if fai_n else 0.0,
    }


def failures(split_report: dict) -> list[str]:
    """The targets a split misses (empty when it meets them all)."""
    out = []
    if split_report["altered_accepted_rate"] >= ALTERED_ACCEPTED_MAX:
        out.append(f"altered accepted {split_report['altered_accepted_rate']:.1%} (target < 1%)")
    for kind in ZERO_KINDS:
        wrong = split_report["kinds"].get(kind, {}).get("wrong", 0)
        if wrong:
            out.append(f"{kind}: {wrong} altered claims accepted (target 0)")
    if split_report["faithful_rejected_rate"] >= FAITHFUL_REJECTED_MAX:
        out.append(f"faithful rejected {split_report['faithful_rejected_rate']:.1%} (target < 5%)")
    return out


def to_markdown(report: dict) -> str:
    """The per-kind table, test split first."""
    lines = []
    for split in ("test", "dev"):
        r = report[split]
        lines += [
            f"### {split}",
            "",
            "| kind | claims | wrong | share | rejected by the new rules | wrong, lexical check alone |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for kind in list(FAITHFUL) + list(ALTERED):
            row = r["kinds"].get(kind, {"n": 0, "wrong": 0, "wrong_by_rules": 0})
            what = "rejected" if kind in FAITHFUL else "accepted"
            share = row["wrong"] / row["n"] if row["n"] else 0.0
            by_rules = str(row["wrong_by_rules"]) if kind in FAITHFUL else ""
            alone = row.get("wrong_lexical_alone", "")
            lines.append(f"| {kind} ({what}) | {row['n']} | {row['wrong']} | {share:.1%} | {by_rules} | {alone} |")
        lines.append(
            f"| **altered accepted** | {r['altered']} | {r['altered_accepted']} | {r['altered_accepted_rate']:.2%} | | |"
        )
        lines.append(
            f"| **faithful rejected** | {r['faithful']} | {r['faithful_rejected']} "
            f"| {r['faithful_rejected_rate']:.2%} | | |"
        )
        lines.append("")
    return "\n".join(lines)


def run(seed: int = SEED, lexical_only: bool = False, examples: int = 5) -> dict:
    """Build the suite and score it; each kind keeps its first ``examples`` wrong
    verdicts, and each split the targets it misses (``failures``)."""
    claims = build(seed)
    report = score(claims, lexical if lexical_only else full)
    alone = score(claims, lexical)
    for name, split in report.items():
        for kind, row in split["kinds"].items():
            row["examples"] = row["examples"][:examples]
            row["wrong_lexical_alone"] = alone[name]["kinds"][kind]["wrong"]
        split["failures"] = failures(split)
    return {"seed": seed, "verifier": "lexical" if lexical_only else "full", **report}
