"""How fast a GGUF reads and writes on this machine, and what llama.cpp's tricks buy.

Three measurements, all in one process with interleaved repetitions and medians:

- the raw limit: prompt and generation tokens/s of the bare model;
- prompt-lookup decoding (``llama_cpp.llama_speculative.LlamaPromptLookupDecoding``
  as ``Llama(draft_model=...)``): answer prompts whose answers copy from the
  passages, with and without the draft, same greedy settings as the product;
- the prefix cache: time to first token of a question whose prompt shares the
  system prompt with the previous one, against the same question from a cold cache.

It times things: run it alone on the machine,
``flock /tmp/heavy.lock python -m rag.devtools.reader_speed`` (prints JSON).
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from rag.answer.prompts import render
from rag.settings import Settings

SYSTEM = render("answer_system")

# (question, passages): realistic answer prompts; each answer is a near copy of a passage.
CASES = [
    (
        "How late did the conversation between Trump and Musk start?",
        [
            "Donald Trump's much anticipated conversation on the social media platform X with owner Elon Musk was "
            "marred by technical errors Monday evening, starting more than 40 minutes late as more than a million "
            "users tuned in to the event.",
            "Musk billed the conversation with Trump as \u201cunscripted with no limits on subject matter.\u201d",
            "The conversation, delayed by more than 40 minutes by tech issues, lasted for about two hours, during "
            "which the two controversial figures talked about immigration, the economy and the recent "
            "assassination attempt on Trump.",
        ],
    ),
    (
        "What did Musk blame the technical difficulties on?",
        [
            "Musk was quick to blame the difficulties on hackers \u2014 a claim that could not immediately be verified.",
            "\u201cThere appears to be a massive [distributed denial-of-service] attack on X,\u201d Musk posted.",
            "Some heard elevator music. Then silence.",
        ],
    ),
    (
        "How much did Musk pay for Twitter?",
        [
            "Musk bought Twitter in October 2022 for approximately $44 billion (about \u00a335.5 billion at the time), "
            "before rebranded it as X.",
            "He fired thousands of members of staff without notice, moves which were mocked and criticised in "
            "equal measure.",
            "Under Musk's ownership, the platform has reportedly dipped hugely in value, monthly user numbers have "
            "dropped and advertisers have left the platform.",
        ],
    ),
    (
        "What did the Harris campaign say about the interview?",
        [
            "Vice President Kamala Harris's campaign was quick to criticize the interview, framing it as a symbol "
            "of Trump's alignment with wealthy elites like Musk, who they argue are out of touch with the concerns "
            "of ordinary Americans.",
            "\u201cTrump's entire campaign is in service of people like Elon Musk,\u201d said Harris campaign "
            "spokesperson Joseph Costello.",
            "Despite these setbacks, millions eventually tuned in, and the conversation covered a range of topics "
            "from immigration to the Department of Education.",
        ],
    ),
]


# A longer answer that copies more: where prompt lookup has the most to draft.
SYSTEM_LONG = (
    "You answer questions about news articles using only the numbered passages the user gives you. "
    "Answer in two or three sentences that repeat the passages' own words, each ending with the number "
    "of the passage it comes from, like [1]. Include every passage that bears on the question."
)


def messages(question: str, passages: list[str], system: str = SYSTEM) -> list[dict[str, str]]:
    body = "\n".join(f'[{i}] "{p}"' for i, p in enumerate(passages, 1))
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": render("answer_user", passages=body, question=question)},
    ]


def load(path: Path, threads: int, draft=None):
    from llama_cpp import Llama

    return Llama(
        model_path=str(path),
        n_ctx=2048,
        n_threads=threads,
        n_threads_batch=threads,
        seed=0,
        flash_attn=True,
        draft_model=draft,
        verbose=False,
    )


def chat(llm, msgs: list[dict[str, str]], max_tokens: int = 96, cold: bool = True) -> dict:
    """One streamed answer as the product asks for it; times to first and last token."""
    if cold:
        llm.reset()
    t0 = time.perf_counter()
    first = None
    text = []
    for part in llm.create_chat_completion(
        messages=msgs, max_tokens=max_tokens, temperature=0.0, top_k=1, seed=0, repeat_penalty=1.1, stream=True
    ):
        delta = part["choices"][0].get("delta", {}).get("content")
        if delta:
            first = first or time.perf_counter()
            text.append(delta)
    end = time.perf_counter()
    out = "".join(text)
    n = len(llm.tokenize(out.encode("utf-8"), add_bos=False)) if out else 0
    first = first or end
    return {"ttft": first - t0, "total": end - t0, "gen_tokens": n, "text": out}


def raw_limit(llm, reps: int = 3, prompt_tokens: int = 300, gen_tokens: int = 64) -> dict:
    """Bare prompt evaluation and greedy generation rates (tokens/s)."""
    text = " ".join(p for _, ps in CASES for p in ps) * 3
    toks = llm.tokenize(text.encode("utf-8"), add_bos=True)[:prompt_tokens]
    p_rates, g_rates = [], []
    for _ in range(reps):
        llm.reset()
        t0 = time.perf_counter()
        llm.eval(toks)
        p_rates.append(len(toks) / (time.perf_counter() - t0))
        t0 = time.perf_counter()
        for _ in range(gen_tokens):
            llm.eval([llm.sample(top_k=1, temp=0.0)])
        g_rates.append(gen_tokens / (time.perf_counter() - t0))
    return {
        "prompt_tokens": len(toks),
        "prompt_tok_s": statistics.median(p_rates),
        "gen_tok_s": statistics.median(g_rates),
    }


def prompt_lookup(path: Path, threads: int, reps: int, sizes: tuple[int, ...], system: str = SYSTEM) -> dict:
    """Answer times with no draft and with prompt-lookup drafts of each size, interleaved."""
    from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

    models = {"none": load(path, threads)}
    for k in sizes:
        models[f"lookup{k}"] = load(path, threads, LlamaPromptLookupDecoding(max_ngram_size=2, num_pred_tokens=k))
    runs: dict[str, list[dict]] = {name: [] for name in models}
    for _ in range(reps):
        for q, ps in CASES:
            for name, llm in models.items():
                runs[name].append({"case": q, **chat(llm, messages(q, ps, system))})
    base_text = {r["case"]: r["text"] for r in runs["none"]}
    out = {}
    for name, rs in runs.items():
        gen_rate = [(r["gen_tokens"] - 1) / (r["total"] - r["ttft"]) for r in rs if r["gen_tokens"] > 1]
        out[name] = {
            "gen_tokens_median": statistics.median(r["gen_tokens"] for r in rs),
            "ttft_median_s": statistics.median(r["ttft"] for r in rs),
            "total_median_s": statistics.median(r["total"] for r in rs),
            "gen_tok_s_median": statistics.median(gen_rate) if gen_rate else None,
            "same_text_as_no_draft": all(r["text"] == base_text[r["case"]] for r in rs),
        }
    for name in out:
        out[name]["total_ratio_vs_none"] = out[name]["total_median_s"] / out["none"]["total_median_s"]
        paired = [a["total"] / b["total"] for a, b in zip(runs[name], runs["none"])]
        out[name]["paired_total_ratio_median"] = statistics.median(paired)
    out["answers"] = {r["case"]: r["text"] for r in runs["none"][: len(CASES)]}
    del models
    return out


def prefix_cache(llm, reps: int) -> dict:
    """TTFT of question B right after question A (same system prompt) vs from a cold cache."""
    (qa, pa), (qb, pb) = CASES[0], CASES[1]
    system_tokens = len(llm.tokenize(SYSTEM.encode("utf-8"), add_bos=False))
    warm, cold = [], []
    for _ in range(reps):
        chat(llm, messages(qa, pa), max_tokens=1, cold=True)
        warm.append(chat(llm, messages(qb, pb), max_tokens=1, cold=False)["ttft"])
        cold.append(chat(llm, messages(qb, pb), max_tokens=1, cold=True)["ttft"])
    return {
        "system_prompt_tokens": system_tokens,
        "ttft_after_other_question_median_s": statistics.median(warm),
        "ttft_cold_median_s": statistics.median(cold),
        "ratio_warm_vs_cold": statistics.median(warm) / statistics.median(cold),
    }


def main(model: str = "qwen2.5-coder-1.5b", threads: int = 2, reps: int = 3) -> dict:
    import llama_cpp

    from rag.llm.registry import resolve

    path, _ = resolve(model, Settings.from_env().models_dir)
    base = load(path, threads)
    report = {
        "model": path.name,
        "llama_cpp_python": llama_cpp.__version__,
        "threads": threads,
        "raw": raw_limit(base),
        "prefix_cache": prefix_cache(base, reps=max(reps, 5)),
    }
    del base
    report["prompt_lookup"] = prompt_lookup(path, threads, reps, sizes=(4, 10))
    report["prompt_lookup_long_answers"] = prompt_lookup(path, threads, 2, sizes=(4, 10), system=SYSTEM_LONG)
    return report


if __name__ == "__main__":
    print(json.dumps(main(), indent=1))
