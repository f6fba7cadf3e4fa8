"""Run the reader over cached evidence (see :mod:`rag.devtools.reader_cache`), one JSON line per question.

    python -m rag.app.reader_lab run --cache FILE --split dev --out runs.jsonl [--n 3] [--no-titles]

The model always writes its answer here (the refusal is banned at the first step) and
both confidences are recorded, so any threshold can be applied afterwards
(:mod:`rag.devtools.reader_score`) exactly as the runtime would: an answered question at
run time gets the same text, and a refused one stops at the decision.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from rag.answer import reader
from rag.types import Passage

ALWAYS = reader.Thresholds(min_yes=0.0, max_refuse=2.0)  # record everything, decide later


def passages_of(item: dict, n: int) -> list[Passage]:
    return [
        Passage(
            i + 1, c["article_id"], c["file"], c["title"], c["outlet"], c["published"], c["text"], c["start"], c["end"]
        )
        for i, c in enumerate(item["cands"][:n])
    ]


def load_model(path: str, n_ctx: int, threads: int, lookup: int = 0):
    from llama_cpp import Llama

    kwargs = {}
    if lookup:
        from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

        kwargs["draft_model"] = LlamaPromptLookupDecoding(num_pred_tokens=lookup)
    return Llama(
        model_path=path,
        n_ctx=n_ctx,
        n_threads=threads,
        n_threads_batch=threads,
        seed=0,
        flash_attn=True,
        verbose=False,
        **kwargs,
    )


class Timed:
    """A reader model that notes when the judge answered and when the first piece came."""

    def __init__(self, model: reader.ReaderModel, times: dict[str, float], t0: float) -> None:
        self.model, self.times, self.t0 = model, times, t0

    def judge(self, messages, yes, no):
        p = self.model.judge(messages, yes, no)
        self.times["judge_ms"] = (time.perf_counter() - self.t0) * 1000
        return p

    def stream_gated(self, messages, max_tokens, gate, signals):
        for piece in self.model.stream_gated(messages, max_tokens, gate, signals):
            self.times.setdefault("first_piece_ms", (time.perf_counter() - self.t0) * 1000)
            yield piece

    def extract(self, messages, grammar, max_tokens):
        t = time.perf_counter()
        reply = self.model.extract(messages, grammar, max_tokens)
        self.times["repair_ms"] = (time.perf_counter() - t) * 1000
        return reply


def run_one(
    model: reader.ReaderModel, llama, item: dict, n: int, titles: bool, judge: bool, max_tokens: int, prompts=None
) -> dict:
    ps = passages_of(item, n)
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    model = Timed(model, times, t0)

    def shown(sent: str, nums: list[int]) -> None:
        times.setdefault("first_sentence_ms", (time.perf_counter() - t0) * 1000)

    r = reader.read(
        model, item["question"], ps, ALWAYS, max_tokens, judge, titles, on_sentence=shown, prompts_dir=prompts
    )
    times["total_ms"] = (time.perf_counter() - t0) * 1000
    prompt = reader.messages(item["question"], ps, titles, prompts)
    n_prompt = len(llama.tokenize(prompt[1]["content"].encode("utf-8"), add_bos=False))
    return {
        "id": item["id"],
        "split": item["split"],
        "p_yes": r.signals.p_yes,
        "p_refuse": r.signals.p_refuse,
        "logprobs": [round(x, 4) for x in r.signals.logprobs],
        "raw": r.raw,
        "repair_raw": r.repair,
        "shown": r.shown,
        "dropped": r.dropped,
        "user_tokens": n_prompt,
        **{k: round(v, 1) for k, v in times.items()},
    }


def run_lab(
    cache: Path,
    splits: list[str],
    out: Path,
    model_path: str,
    n: int = 3,
    titles: bool = True,
    judge: bool = True,
    lookup: int = 0,
    max_tokens: int = 64,
    limit: int = 0,
    n_ctx: int = 2048,
    prompts: Path | None = None,
) -> int:
    """Read every cached question of ``splits`` and write one JSON line each to ``out``."""
    from rag.llm.probes import LlamaReader

    items = [i for i in json.loads(cache.read_text())["items"] if i["split"] in splits]
    items = items[:limit] if limit else items
    t = time.perf_counter()
    llama = load_model(model_path, n_ctx, 2, lookup)
    model = LlamaReader(llama)
    print(f"loaded in {time.perf_counter() - t:.1f}s; {len(items)} questions", file=sys.stderr)
    with out.open("w", encoding="utf-8") as fh:
        for item in items:
            row = run_one(model, llama, item, n, titles, judge, max_tokens, prompts)
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            fh.flush()
    return len(items)


def add_repairs(cache: Path, runs: Path, out: Path, model_path: str, n: int = 3, n_ctx: int = 2048) -> int:
    """For every row of ``runs`` whose reply has no verified sentence, ask the copied-answer
    repair (:func:`rag.answer.reader.repair_turns` under the span grammar) and write the row
    with ``repair_raw`` and ``repair_ms`` (the whole prompt evaluated afresh: an upper bound
    on what the runtime pays, where the answer prompt is already in llama.cpp's cache)."""
    from rag.answer.spans import span_grammar
    from rag.llm.probes import LlamaReader

    items = {i["id"]: i for i in json.loads(cache.read_text())["items"]}
    rows = [json.loads(x) for x in runs.read_text().splitlines() if x.strip()]
    model = LlamaReader(load_model(model_path, n_ctx, 2))
    done = 0
    with out.open("w", encoding="utf-8") as fh:
        for row in rows:
            item = items[row["id"]]
            ps = passages_of(item, n)
            if not reader.verified(row["raw"], ps, item["question"])[0]:
                ask = [*reader.messages(item["question"], ps), *reader.repair_turns(row["raw"])]
                t = time.perf_counter()
                row["repair_raw"] = model.extract(ask, span_grammar(ps), reader.REPAIR_TOKENS)
                row["repair_ms"] = round((time.perf_counter() - t) * 1000, 1)
                done += 1
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            fh.flush()
    return done
