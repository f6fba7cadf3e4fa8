"""Score reader runs per split: accuracy, refusals, the CRAG score, citations, latency.

    python -m rag.app.reader_lab score --cache FILE RUNS.jsonl [--yes 0.5 --refuse 0.5] [--sweep dev]

Definitions (per split):

- accuracy: correct answers / answerable questions;
- correct refusals: refused / unanswerable; wrong refusals: refused answerable / answerable;
- CRAG score: mean over all questions of +1 (correct answer), 0 (refused), -1 (a wrong
  answer, or any answer to an unanswerable question);
- citation validity: share of shown citations whose quote is the article text at its offsets;
  citation support: share of the citations of answered answerable questions that hold the
  gold evidence (or its facts);
- generated share: answered questions whose text is the model's (every shown sentence
  here is generated; ``verbatim share`` says how many only copy one passage word for word);
- latency: time to the first shown text and to the end, p50 / p95, retrieval included.

An answer is correct when a gold alias or pattern matches it with the citation markers
removed (a marker "[1]" must not match a pattern such as ``\\b1\\b``).
"""

from __future__ import annotations

import re

from rag.answer.reader import Signals, Thresholds, check_sentence, decide, verified
from rag.answer.verify import split_answer
from rag.devtools.evals import GoldItem, citation_supports, citation_valid, is_correct
from rag.text import normalise

_MARK = re.compile(r"\s*\[\d+\]")


def gold_item(d: dict) -> GoldItem:
    return GoldItem(
        d["id"],
        d["question"],
        d["type"],
        d.get("answers", []),
        d.get("patterns", []),
        d.get("facts", []),
        d.get("evidence", []),
    )


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile.

    >>> pct([1.0, 2.0, 3.0, 4.0], 50), pct([1.0, 2.0, 3.0, 4.0], 95)
    (3.0, 4.0)
    """
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))]


# The refusal rules of the rule-based pipeline (rag.answer.answerability), by the reason each gives.
RULES = {
    "similarity": "best passage similarity",
    "absent": "the articles never mention",
    "name": "no name in the passage",
    "role": "the evidence names no",
    "figure": "no figure in the evidence",
    "money": "no sum of money",
    "subject": "the figures in the evidence are about",
}


def rule_refuses(item: dict, rules: tuple[str, ...]) -> bool:
    """Would one of the kept ``rules`` (keys of :data:`RULES`) refuse this question?"""
    verdict = item.get("rules", {})
    return not verdict.get("answerable", True) and any(verdict.get("reason", "").startswith(RULES[r]) for r in rules)


def outcome(
    row: dict,
    item: dict,
    th: Thresholds,
    rules: tuple[str, ...] = (),
    reverify: int = 0,
    quote_cited: int = 0,
    repair: bool = False,
) -> dict:
    """What the runtime would show for this question under ``th``, and when."""
    sig = Signals(p_yes=row.get("p_yes"), p_refuse=row.get("p_refuse"), logprobs=row.get("logprobs", []))
    pre = item.get("retrieve_ms", 0.0) + item.get("evidence_ms", 0.0)
    if rule_refuses(item, rules):
        return {"answered": False, "why": "rule", "ttft": pre, "total": pre}
    judged_no = sig.p_yes is not None and sig.p_yes < th.min_yes
    if judged_no:
        t = pre + row.get("judge_ms", 0.0)
        return {"answered": False, "why": "judge", "ttft": t, "total": t}
    if not decide(sig, th):
        t = pre + row.get("first_piece_ms", row.get("judge_ms", 0.0))
        return {"answered": False, "why": "first token", "ttft": t, "total": t}
    total = pre + row["total_ms"]
    if reverify:
        from rag.devtools.reader_lab import passages_of

        row = {**row, "shown": verified(row["raw"], passages_of(item, reverify), item["question"])[0]}
    if not row["shown"] and repair and row.get("repair_raw"):
        from rag.answer.spans import as_answer
        from rag.devtools.reader_lab import passages_of

        got = as_answer(row["repair_raw"])
        checked = got and check_sentence(got[0], got[1], passages_of(item, reverify or 3), item["question"])
        if checked:
            total += row.get("repair_ms", 0.0)
            return {"answered": True, "why": "", "ttft": total, "total": total, "shown": [checked], "copied": True}
    if not row["shown"] and quote_cited:
        cited = [
            n for _, nums in split_answer(row["raw"]) for n in nums if 0 < n <= min(quote_cited, len(item["cands"]))
        ]
        if cited:  # the passage the model cited, quoted (mode "extractive")
            q = (f"“{item['cands'][cited[0] - 1]['text']}”", [cited[0]])
            return {"answered": True, "why": "", "ttft": total, "total": total, "shown": [q], "quoted": True}
    if not row["shown"]:
        return {"answered": False, "why": "nothing verified", "ttft": total, "total": total}
    ttft = pre + row.get("first_sentence_ms", row["total_ms"])  # re-verified: shown at the end at the latest
    return {"answered": True, "why": "", "ttft": ttft, "total": total, "shown": row["shown"]}


def _cites(item: dict, shown: list, n_cands: int) -> list[dict]:
    used = sorted({n for _, nums in shown for n in nums})
    return [{**item["cands"][n - 1], "quote": item["cands"][n - 1]["text"]} for n in used if 0 < n <= n_cands]


def verbatim(sentence: str, item: dict) -> bool:
    return any(normalise(sentence) == normalise(c["text"]) for c in item["cands"])


def score(
    rows: list[dict],
    items: dict[str, dict],
    articles: dict[str, str],
    th: Thresholds,
    rules: tuple[str, ...] = (),
    reverify: int = 0,
    quote_cited: int = 0,
    repair: bool = False,
) -> dict:
    """Metrics per split (see the module docstring)."""
    by_split: dict[str, list] = {}
    for row in rows:
        item = items[row["id"]]
        out = outcome(row, item, th, rules, reverify, quote_cited, repair)
        gi = gold_item(item)
        text = " ".join(s for s, _ in out.get("shown", []))
        cites = _cites(item, out.get("shown", []), len(item["cands"]))
        out.update(
            answerable=gi.answerable,
            correct=out["answered"] and gi.answerable and is_correct(gi, _MARK.sub("", text)),
            valid=[citation_valid(c, articles.get(c["file"])) for c in cites],
            supports=[citation_supports(c, gi, articles.get(c["file"])) for c in cites] if gi.answerable else [],
            verbatim=bool(out.get("shown")) and all(verbatim(s, item) for s, _ in out["shown"]),
            id=row["id"],
        )
        by_split.setdefault(row["split"], []).append(out)
    return {split: summarise(outs) for split, outs in by_split.items()}


def summarise(outs: list[dict]) -> dict:
    ans = [o for o in outs if o["answerable"]]
    una = [o for o in outs if not o["answerable"]]
    answered = [o for o in outs if o["answered"]]
    crag = sum(1 if o["correct"] else 0 if not o["answered"] else -1 for o in outs) / len(outs)
    valid = [v for o in answered for v in o["valid"]]
    sup = [v for o in answered for v in o["supports"]]

    def share(xs, pred):
        return round(sum(1 for x in xs if pred(x)) / len(xs), 3) if xs else 0.0

    shown_first = [o["ttft"] for o in outs]
    return {
        "n": len(outs),
        "crag": round(crag, 3),
        "accuracy": share(ans, lambda o: o["correct"]),
        "correct_refusals": share(una, lambda o: not o["answered"]),
        "wrong_refusals": share(ans, lambda o: not o["answered"]),
        "citation_validity": round(sum(valid) / len(valid), 3) if valid else 1.0,
        "citation_support": round(sum(sup) / len(sup), 3) if sup else 0.0,
        "generated_share": share(answered, lambda o: not o.get("quoted") and not o.get("copied")),
        "copied_share": share(answered, lambda o: bool(o.get("copied"))),
        "verbatim_share": share(answered, lambda o: o["verbatim"]),
        "ttft_p50_ms": round(pct(shown_first, 50)),
        "ttft_p95_ms": round(pct(shown_first, 95)),
        "total_p50_ms": round(pct([o["total"] for o in outs], 50)),
        "total_p95_ms": round(pct([o["total"] for o in outs], 95)),
        "refused_by": {
            w: sum(1 for o in outs if o["why"] == w) for w in ("rule", "judge", "first token", "nothing verified")
        },
    }


def sweep(
    rows,
    items,
    articles,
    split: str,
    use_yes=True,
    use_refuse=True,
    rules=(),
    reverify: int = 0,
    quote_cited: int = 0,
    repair: bool = False,
) -> list[tuple]:
    """Every threshold pair on a grid, ranked by ``split``'s CRAG score (then fewer wrong refusals)."""
    grid = [round(x * 0.05, 2) for x in range(0, 21)]
    yes_grid = grid if use_yes else [0.0]
    ref_grid = [*grid[1:], 2.0] if use_refuse else [2.0]
    results = []
    for y in yes_grid:
        for r in ref_grid:
            th = Thresholds(min_yes=y, max_refuse=r)
            chosen = [x for x in rows if x["split"] == split]
            m = score(chosen, items, articles, th, rules, reverify, quote_cited, repair)[split]
            results.append((m["crag"], -m["wrong_refusals"], y, r, m))
    results.sort(key=lambda t: (t[0], t[1]), reverse=True)
    return results


def item_lines(
    rows, items, th: Thresholds, rules=(), reverify: int = 0, quote_cited: int = 0, repair: bool = False
) -> list[str]:
    """One line per question: the confidences, the outcome and the reply (for reading dev errors)."""
    lines = []
    for row in rows:
        item = items[row["id"]]
        o = outcome(row, item, th, rules, reverify, quote_cited, repair)
        ok = is_correct(gold_item(item), _MARK.sub("", " ".join(s for s, _ in o.get("shown", []))))
        lines.append(
            f"{row['id']} {item['type'][:6]:6} yes={row.get('p_yes') or 0:.2f} ref={row.get('p_refuse') or 0:.2f} "
            f"{'ANS' if o['answered'] else 'REF'} {'ok' if ok else '--'} {item['question'][:70]!r} -> {row['raw'][:90]!r}"
        )
    return lines
