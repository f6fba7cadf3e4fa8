"""The briefing evaluation's report (``evals/brief/report.{json,md}``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from rag.devtools.brief_eval import ATTRIBUTION


# -- report -----------------------------------------------------------------------
def to_markdown(seeds: dict | None, multiling: dict | None) -> str:
    out = ["# Briefing evaluation", ""]
    if seeds:
        cov = seeds["coverage"]
        val = seeds["citation_validity"]
        out += [
            "## Seeds (Trump–Musk conversation on X, 5 articles)",
            "",
            f"- events in the index: {seeds['events']}; seeds in one event: {'yes' if seeds['seeds_one_event'] else 'NO'}",
            f"- key-fact coverage (evals/brief_gold.jsonl): **{cov['covered']}/{cov['total']} = {cov['coverage']:.2f}**",
            f"- citation validity: **{val['valid']}/{val['citations']} = {val['rate']:.4f}**",
            f"- briefing: {seeds['bullets']} key facts, {seeds['timeline']} timeline entries, {seeds['quotes']} quotes, "
            f"{seeds['conflicts']} disagreements, summary {seeds['summary_words']} words (limit {seeds['words']}), "
            f"lede {seeds['lede_mode']}; {seeds['seconds']} s",
            "",
            "| fact | keywords | sources | covered |",
            "|---|---|---|---|",
        ]
        out += [
            f"| {f['id']} | {', '.join(f['keywords'])} | {f['n_sources']} | {'yes' if f['covered'] else '—'} |"
            for f in cov["facts"]
        ]
        out.append("")
    if multiling:
        g = multiling["grouping"]
        r = multiling["rouge"]
        s = multiling["seconds"]
        out += [
            "## MultiLing 2011 (English, 100 articles, 10 events)",
            "",
            f"Grouping ({multiling['events']} events found): B-cubed precision **{g['bcubed_precision']:.3f}**, "
            f"recall **{g['bcubed_recall']:.3f}**, F1 **{g['bcubed_f1']:.3f}**; adjusted Rand index **{g['ari']:.3f}**.",
            "",
            f"Summaries of at most {multiling['words']} words against the three human summaries per event "
            "(rouge-score, no stemming; recall pooled over the references as ROUGE-1.5.5 `-f A`; "
            "the mean of per-reference recalls in brackets). Every briefing setting was chosen on the dev events "
            "only; the test events are held out (the published runs are averaged over all 10):",
            "",
            "| system | role | ROUGE-1 recall | ROUGE-2 recall |",
            "|---|---|---|---|",
        ]
        split = multiling.get("rouge_by_split") or {"all": r}
        names = {"test": "test events M005-M009 (held out)", "dev": "dev events M000-M004 (tuned on)", "all": "all 10"}
        for name in ("test", "dev", "all"):
            v = split.get(name)
            if v:
                out.append(
                    f"| **this tool, {names[name]}** | — | **{v['rouge1']:.3f}** ({v['rouge1_mean']:.3f}) | "
                    f"**{v['rouge2']:.3f}** ({v['rouge2_mean']:.3f}) |"
                )
        for run, v in multiling["published"].items():
            out.append(f"| {run} | {v['role']} | {v.get('rouge1', 0):.3f} | {v.get('rouge2', 0):.3f} |")
        out += [
            "",
            "The published figures come from ROUGE-1.5.5 (its own tokenizer); ours from the Python rouge-score "
            "package, so small differences in tokenisation apply.",
            "",
            "| topic | event | articles | of the topic | words | ROUGE-1 | ROUGE-2 |",
            "|---|---|---|---|---|---|---|",
        ]
        out += [
            f"| {p['topic']} | {p['event']} | {p['event_articles']} | {p['topic_articles_in_event']} | "
            f"{p['summary_words']} | {p.get('rouge1', 0):.3f} | {p.get('rouge2', 0):.3f} |"
            for p in multiling["per_topic"]
        ]
        cv = multiling["citation_validity"]
        out += [
            "",
            f"Citation validity: {cv['valid']}/{cv['citations']} = {cv['rate']:.4f}. "
            f"Time on this machine: ingest {s['ingest']} s, grouping {s['group']} s, "
            f"briefing all {multiling['events']} events {s['brief_all_events']} s "
            f"({'with' if multiling['llm'] else 'without'} the model's ledes; embedding the sentences "
            f"{s.get('embed_sentences', '?')} s, ledes {s.get('ledes', '?')} s); "
            f"load average at the end {multiling.get('load_average', ['?'])[0]} on {os.cpu_count()} cores.",
            "",
            f"_{multiling['attribution']}._",
            "",
        ]
    return "\n".join(out)


def write_report(seeds: dict | None, multiling: dict | None, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    data = {"seeds": seeds, "multiling": multiling}
    if multiling:
        data["attribution"] = ATTRIBUTION
    paths = [out_dir / "report.json", out_dir / "report.md"]
    paths[0].write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    paths[1].write_text(to_markdown(seeds, multiling), encoding="utf-8")
    return paths
