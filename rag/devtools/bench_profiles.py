"""`rag bench` profiles: the fast model and the reader side by side on the same questions.

Each profile answers the seed questions through the product's own path (the rule path
for ``smollm2``, the reader path for a model whose registry entry reads), timed from
the question to the first shown text and to the end, and the raw model's limit on a
fixed prompt (:func:`rag.devtools.bench_answers.bench_model_limit`). Profiles run one
after the other, each model freed before the next loads.
"""

from __future__ import annotations

import gc
from pathlib import Path

from rag.devtools.bench_answers import bench_model_limit, streamed
from rag.devtools.bench_config import Config
from rag.devtools.bench_util import pct, say
from rag.settings import Settings

PROFILES = ("smollm2", "qwen2.5-coder-1.5b")


def bench_profiles(settings: Settings, cfg: Config, seeded: Path, questions: list[str]) -> dict:
    """``{name: {"answers": {...}, "model_limit": {...}}}`` for each of :data:`PROFILES`."""
    from rag.api import Rag

    out: dict[str, dict] = {}
    for name in PROFILES:
        s = settings.with_(model_path=name, data_dir=seeded)
        rag = Rag(s)
        rag.ask(questions[0])  # warm-up: loads the model, the lexical index, the prompt prefix
        rows = [_timed(rag, q) for q in questions]
        answers = {
            "questions": len(rows),
            "modes": {
                m: sum(1 for r in rows if r["mode"] == m) for m in ("generated", "copied", "extractive", "refused")
            },
            "first_text_ms_p50": pct([r["first_text_ms"] for r in rows], 50),
            "first_text_ms_p95": pct([r["first_text_ms"] for r in rows], 95),
            "total_ms_p50": pct([r["total_ms"] for r in rows], 50),
            "total_ms_p95": pct([r["total_ms"] for r in rows], 95),
        }
        del rag
        gc.collect()
        out[name] = {"answers": answers, "model_limit": bench_model_limit(s, cfg.seeds, cfg.limit_reps)}
        say(f"profile {name}: {answers} limit {out[name]['model_limit'].get('tokens_per_s')} tok/s")
    return out


def _timed(rag, q: str) -> dict:
    final, first, total = streamed(rag, q)
    return {"mode": final.mode, "first_text_ms": round(first or total, 1), "total_ms": round(total, 1)}


def profiles_md(profiles: dict) -> list[str]:
    """The side-by-side table of the report."""
    lines = [
        "| profile | questions | modes | first text p50 / p95 ms | total p50 / p95 ms | raw model prompt / gen tok/s |",
        "|---|---|---|---|---|---|",
    ]
    for name, p in profiles.items():
        a, lim = p["answers"], p["model_limit"]
        modes = ", ".join(f"{k} {v}" for k, v in a["modes"].items() if v)
        lines.append(
            f"| {name} | {a['questions']} | {modes} | {a['first_text_ms_p50']} / {a['first_text_ms_p95']} | "
            f"{a['total_ms_p50']} / {a['total_ms_p95']} | {lim.get('prompt_tokens_per_s')} / {lim.get('tokens_per_s')} |"
        )
    return lines
