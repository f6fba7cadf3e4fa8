"""Answer latency for `rag bench`: the pipeline's own timings and llama.cpp's token counters, and the raw model limit."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from rag.devtools.bench_config import Config, profiled
from rag.devtools.bench_util import pct, say
from rag.settings import Settings


# -- answers --------------------------------------------------------------------------
class TimedLLM:
    """Wraps an LLM: records when each reply starts and ends and, for a llama.cpp
    model, the prompt and generated token counts from llama.cpp's own counters."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name = inner.name
        self.n_ctx = inner.n_ctx
        self.calls: list[dict] = []

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def _ctx(self):
        llama = getattr(self.inner, "_llm", None)
        ctx = getattr(getattr(llama, "_ctx", None), "ctx", None)
        return ctx

    def stream(self, messages: list[dict], max_tokens: int, temperature: float = 0.0) -> Iterator[str]:
        import llama_cpp

        rec: dict = {"t_call": time.perf_counter(), "t_first": None, "t_last": None, "text": ""}
        self.calls.append(rec)
        ctx = self._ctx()
        if ctx is not None:
            llama_cpp.llama_perf_context_reset(ctx)
        inner = self.inner.stream(messages, max_tokens, temperature)
        try:
            for piece in inner:
                now = time.perf_counter()
                if rec["t_first"] is None:
                    rec["t_first"] = now
                rec["t_last"] = now
                rec["text"] += piece
                yield piece
        finally:  # also when the pipeline stops reading early (it closes the stream)
            getattr(inner, "close", lambda: None)()
            rec["t_end"] = time.perf_counter()
            rec["gen_tokens"] = self.inner.count_tokens(rec["text"]) if rec["text"] else 0
            if ctx is not None:
                perf = llama_cpp.llama_perf_context(ctx)
                # llama.cpp reuses the KV cache of the prompt prefix it saw last (the
                # system prompt): n_p_eval counts only the tokens it evaluated anew.
                # The cache then holds the whole prompt plus each decoded token.
                whole = int(getattr(self.inner._llm, "n_tokens", 0)) - perf.n_eval
                rec.update(
                    prompt_tokens=max(whole, perf.n_p_eval),
                    prompt_evaluated=perf.n_p_eval,
                    prompt_ms=perf.t_p_eval_ms,
                    evals=perf.n_eval,
                    eval_ms=perf.t_eval_ms,
                )
            else:  # a server: its tokenizer is unknown here, so the backend's estimate
                rec["prompt_tokens"] = self.inner.count_tokens("\n".join(m["content"] for m in messages))


def bench_answers(rag, questions: list[str], cfg: Config, tag: str = "local", cold: int = 30) -> dict:
    """Ask each question through ``ask_stream``; the model must be a :class:`TimedLLM`.

    The embedding cache stays warm across questions, as in a server (on the seeds every
    sentence is cached after a few questions); then the first ``cold`` questions are
    asked again with the cache emptied before each, which is what a question about
    articles nobody asked about yet costs."""
    llm: TimedLLM = rag.answerer.llm  # type: ignore[assignment]
    rag.ask(questions[0])  # warm-up: loads the model and the BM25 index
    with profiled(cfg, f"answers-{tag}"):
        rows = [_time_answer(rag, llm, q) for q in questions]
    cold_rows = []
    for q in questions[:cold]:
        rag.retriever.embedder.clear()
        cold_rows.append(_time_answer(rag, llm, q))
    out = _answer_figures(rows, cold_rows)
    say(
        f"answers[{tag}]: {len(rows)} questions ({out['modes']}), TTFT p50 {out['ttft_ms_p50']} ms, "
        f"total p50 {out['total_ms_p50']} ms, {out['tokens_per_s']} tok/s, prompt {out['prompt_tokens_p50']} tok"
    )
    return out


def streamed(rag, q: str) -> tuple:
    """Ask ``q`` through ``ask_stream``: (the final answer, ms to the first shown text or
    None when nothing was shown, ms to the end)."""
    t0 = time.perf_counter()
    first_text = None
    final = None
    for ev in rag.ask_stream(q):
        if ev.kind == "text" and first_text is None:
            first_text = (time.perf_counter() - t0) * 1000
        if ev.kind == "final":
            final = ev.answer
    assert final is not None
    return final, first_text, (time.perf_counter() - t0) * 1000


def _time_answer(rag, llm: TimedLLM, q: str) -> dict:
    """One question: the pipeline's timings, and the model's counters for its last call."""
    n_calls = len(llm.calls)
    c0, t0 = time.process_time(), time.perf_counter()
    final, first_text, _ = streamed(rag, q)
    row = {"question": q, "status": final.status, "mode": final.mode, **final.timings}
    row["first_text_ms"] = round(first_text or 0.0, 1)
    row["cpu_ms"] = round((time.process_time() - c0) * 1000, 1)
    calls = llm.calls[n_calls:]
    if calls:
        _add_model_counters(row, calls[-1], t0)
    return row


def _add_model_counters(row: dict, c: dict, t0: float) -> None:
    row["prompt_tokens"] = c.get("prompt_tokens")
    if c.get("prompt_evaluated") is not None:
        row["prompt_evaluated"] = c["prompt_evaluated"]
    row["gen_tokens"] = c.get("gen_tokens", 0)
    row["pre_generate_ms"] = round((c["t_call"] - t0) * 1000, 1)
    if c["t_first"] is not None:
        row["model_first_token_ms"] = round((c["t_first"] - c["t_call"]) * 1000, 1)
        decode_s = c["t_last"] - c["t_first"]
        if row["gen_tokens"] > 1 and decode_s > 0:
            row["tokens_per_s"] = round((row["gen_tokens"] - 1) / decode_s, 1)
    if c.get("eval_ms"):
        row["model_decode_tokens_per_s"] = round(c["evals"] / c["eval_ms"] * 1000, 1)
    if c.get("prompt_ms"):
        done = c.get("prompt_evaluated", c["prompt_tokens"])
        row["model_prompt_tokens_per_s"] = round(done / c["prompt_ms"] * 1000, 1)


def _col(rs: list[dict], key: str) -> list[float]:
    return [float(r[key]) for r in rs if r.get(key) is not None]


def _answer_figures(rows: list[dict], cold_rows: list[dict]) -> dict:
    """Medians and 95th percentiles of the rows; headline figures over the questions where the model ran."""
    gen = [r for r in rows if "prompt_tokens" in r]  # refusals skip the model and would flatter the figures
    col = _col
    modes = {m: sum(1 for r in rows if r["mode"] == m) for m in ("generated", "extractive", "refused")}
    out = {
        "questions": len(rows),
        "modes": modes,
        "model_runs": len(gen),
        # Headline figures: questions where the model ran (refusals skip it and would flatter them).
        "ttft_ms_p50": pct(col(gen, "first_token_ms"), 50),
        "ttft_ms_p95": pct(col(gen, "first_token_ms"), 95),
        "total_ms_p50": pct(col(gen, "total_ms"), 50),
        "total_ms_p95": pct(col(gen, "total_ms"), 95),
        "tokens_per_s": pct(col(gen, "tokens_per_s"), 50),
        "prompt_tokens_p50": pct(col(gen, "prompt_tokens"), 50),
        "prompt_evaluated_p50": pct(col(gen, "prompt_evaluated"), 50),
        "gen_tokens_p50": pct(col(gen, "gen_tokens"), 50),
        "first_text_ms_p50": pct(col(gen, "first_text_ms"), 50),
        "cpu_ms_p50": pct(col(gen, "cpu_ms"), 50),
        "all_questions_total_ms_p50": pct(col(rows, "total_ms"), 50),
        "all_questions_total_ms_p95": pct(col(rows, "total_ms"), 95),
        "breakdown_p50_ms": {
            "retrieve": pct(col(gen, "retrieve_ms"), 50),
            "evidence_and_prompt": pct([r["pre_generate_ms"] - r["retrieve_ms"] for r in gen], 50),
            "model_first_token": pct(col(gen, "model_first_token_ms"), 50),
            "generate": pct(col(gen, "generate_ms"), 50),
        },
        "model_prompt_tokens_per_s_p50": pct(col(gen, "model_prompt_tokens_per_s"), 50),
        "model_decode_tokens_per_s_p50": pct(col(gen, "model_decode_tokens_per_s"), 50),
        "cold_cache": {
            "questions": len(cold_rows),
            "ttft_ms_p50": pct(col(cold_gen := [r for r in cold_rows if "prompt_tokens" in r], "first_token_ms"), 50),
            "ttft_ms_p95": pct(col(cold_gen, "first_token_ms"), 95),
            "total_ms_p50": pct(col(cold_gen, "total_ms"), 50),
            "retrieve_ms_p50": pct(col(cold_gen, "retrieve_ms"), 50),
        }
        if cold_rows
        else None,
        "rows": rows,
    }
    return out


LIMIT_PROMPT_FILE = "002_c7922ba59901108c.txt"


def bench_model_limit(
    settings: Settings, seeds: Path, reps: int, prompt_tokens: int = 350, gen_tokens: int = 96
) -> dict:
    """The raw llama.cpp model on a fixed prompt: prompt and generation tokens/s, at the
    configured thread count and, for comparison, at 1 and 2 threads (runs interleaved)."""
    import llama_cpp

    from rag.llm.backends import LlamaCppLLM

    threads = sorted({1, 2, settings.n_threads})
    models = {t: LlamaCppLLM(settings.model_path, n_ctx=settings.n_ctx, n_threads=t)._llm for t in threads}
    first = models[threads[0]]
    text = (seeds / LIMIT_PROMPT_FILE).read_text(encoding="utf-8")
    toks = first.tokenize(text.encode("utf-8"), add_bos=False)[:prompt_tokens]
    prompt = first.detokenize(toks).decode("utf-8", errors="ignore") + "\n\nSummarise the article above:"
    rates: dict[int, dict[str, list[float]]] = {t: {"p": [], "g": [], "cpu": []} for t in threads}
    n_p = 0
    for _ in range(reps):
        for t, llama in models.items():
            llama.reset()
            llama_cpp.llama_perf_context_reset(llama._ctx.ctx)
            c0 = time.process_time()
            llama.create_completion(
                prompt, max_tokens=gen_tokens, temperature=0.0, top_k=1, logit_bias={llama.token_eos(): -100.0}
            )
            perf = llama_cpp.llama_perf_context(llama._ctx.ctx)
            n_p = perf.n_p_eval
            rates[t]["p"].append(perf.n_p_eval / perf.t_p_eval_ms * 1000)
            rates[t]["g"].append(perf.n_eval / perf.t_eval_ms * 1000)
            rates[t]["cpu"].append(time.process_time() - c0)
    by = {
        str(t): {
            "prompt_tokens_per_s": round(float(np.median(r["p"])), 1),
            "tokens_per_s": round(float(np.median(r["g"])), 1),
            "cpu_s": round(float(np.median(r["cpu"])), 2),
        }
        for t, r in rates.items()
    }
    out = {"prompt_tokens": n_p, "gen_tokens": gen_tokens, "threads": settings.n_threads}
    out.update({k: v for k, v in by[str(settings.n_threads)].items() if k != "cpu_s"})
    out["by_threads"] = by
    say(f"model limit: {out}")
    return out
