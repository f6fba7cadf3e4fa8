"""Run the reader over cached evidence (see :mod:`rag.devtools.reader_cache`), one JSON line per question.

    python -m rag.devtools.reader_lab --cache FILE --split dev --out runs.jsonl [--n 3] [--no-titles]

The model always writes its answer here (the refusal is banned at the first step) and
both confidences are recorded, so any threshold can be applied afterwards
(:mod:`rag.devtools.reader_score`) exactly as the runtime would: an answered question at
run time gets the same text, and a refused one stops at the decision.
"""

from __future__ import annotations

import argparse
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
        "shown": r.shown,
        "dropped": r.dropped,
        "user_tokens": n_prompt,
        **{k: round(v, 1) for k, v in times.items()},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, required=True)
    ap.add_argument("--split", action="append", required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--model", default=str(Path.home() / ".cache/rag/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"))
    ap.add_argument("--n", type=int, default=3, help="evidence sentences shown")
    ap.add_argument("--no-titles", action="store_true")
    ap.add_argument("--no-judge", action="store_true")
    ap.add_argument("--lookup", type=int, default=0, help="prompt-lookup decoding: tokens drafted (0 = off)")
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--n-ctx", type=int, default=2048)
    ap.add_argument("--prompts", type=Path, default=None, help="a folder of prompt templates instead of the package's")
    args = ap.parse_args()
    from rag.llm.probes import LlamaReader

    items = [i for i in json.loads(args.cache.read_text())["items"] if i["split"] in args.split]
    if args.limit:
        items = items[: args.limit]
    t = time.perf_counter()
    llama = load_model(args.model, args.n_ctx, 2, args.lookup)
    model = LlamaReader(llama)
    print(f"loaded in {time.perf_counter() - t:.1f}s; {len(items)} questions", file=sys.stderr)
    with args.out.open("w", encoding="utf-8") as fh:
        for item in items:
            row = run_one(
                model, llama, item, args.n, not args.no_titles, not args.no_judge, args.max_tokens, args.prompts
            )
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            fh.flush()


if __name__ == "__main__":
    main()
