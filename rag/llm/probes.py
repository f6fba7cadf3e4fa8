"""Next-token probabilities from llama-cpp-python, through its public logits-processor hook.

``create_chat_completion(logits_processor=...)`` calls each processor with the tokens
so far and the logits of the next token (the whole vocabulary, in token-id order) and
samples from what it returns. That is enough to read the probability of a judge's
*yes*, of the refusal's first token, and of every generated token, without
``logits_all=True`` (which would keep a context-by-vocabulary logits array: 1.2 GB for
Qwen2.5's 151,936 tokens at a 2,048-token context).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import numpy as np

from rag.answer.reader import REFUSAL, Signals
from rag.errors import RagError

Message = dict[str, str]


def softmax_mass(logits: np.ndarray, ids: list[int]) -> float:
    """Probability of the tokens ``ids`` under ``logits``.

    >>> round(softmax_mass(np.array([0.0, 0.0, 0.0, 0.0]), [1, 2]), 2)
    0.5
    """
    m = float(np.max(logits))
    e = np.exp(logits.astype(np.float64) - m)
    return float(e[ids].sum() / e.sum())


def log_softmax_at(logits: np.ndarray, token: int) -> float:
    """log P(token) under ``logits``.

    >>> round(log_softmax_at(np.array([0.0, 0.0]), 1), 4)
    -0.6931
    """
    m = float(np.max(logits))
    z = np.log(np.exp(logits.astype(np.float64) - m).sum()) + m
    return float(logits[token] - z)


class FirstStepGate:
    """At the first step: the refusal's probability, then ban it or let it through."""

    def __init__(self, refusal_ids: list[int], gate: Callable[[float], bool], signals: Signals) -> None:
        self.ids = refusal_ids
        self.gate = gate
        self.signals = signals
        self.done = False

    def __call__(self, input_ids: np.ndarray, logits: np.ndarray) -> np.ndarray:
        if self.done:
            return logits
        self.done = True
        p = softmax_mass(logits, self.ids)
        self.signals.p_refuse = p
        if self.gate(p):
            logits = logits.copy()
            logits[self.ids] = -np.inf
        return logits


class TokenLogprobs:
    """The log-probability of each sampled token under the model's raw distribution
    (read one step late: the sampled token is the last of the next call's ``input_ids``)."""

    def __init__(self, signals: Signals) -> None:
        self.signals = signals
        self._prev: np.ndarray | None = None

    def __call__(self, input_ids: np.ndarray, logits: np.ndarray) -> np.ndarray:
        if self._prev is not None and len(input_ids):
            self.signals.logprobs.append(log_softmax_at(self._prev, int(input_ids[-1])))
        self._prev = logits.copy()
        return logits


class FirstStepMass:
    """Records the probability of two token sets at the first step (a yes/no judge)."""

    def __init__(self, yes_ids: list[int], no_ids: list[int]) -> None:
        self.yes_ids, self.no_ids = yes_ids, no_ids
        self.p_yes: float | None = None

    def __call__(self, input_ids: np.ndarray, logits: np.ndarray) -> np.ndarray:
        if self.p_yes is None:
            y, n = softmax_mass(logits, self.yes_ids), softmax_mass(logits, self.no_ids)
            self.p_yes = y / (y + n) if y + n > 0 else 0.5
        return logits


class LlamaReader:
    """:class:`rag.answer.reader.ReaderModel` over an in-process ``llama_cpp.Llama``."""

    def __init__(self, llama, seed: int = 0, lock: threading.Lock | None = None) -> None:
        self.llama = llama
        self.seed = seed
        self._lock = lock or threading.Lock()
        self.refusal_ids = self._first_tokens([REFUSAL, "Not in the articles", "NOT"])

    def _first_tokens(self, words: list[str] | tuple[str, ...]) -> list[int]:
        ids = {self.llama.tokenize(w.encode("utf-8"), add_bos=False, special=False)[0] for w in words}
        return sorted(ids)

    def _run(self, messages: list[Message], max_tokens: int, processors: list, stream: bool):
        from llama_cpp import LogitsProcessorList

        return self.llama.create_chat_completion(
            messages=messages,
            max_tokens=max_tokens,
            temperature=0.0,
            seed=self.seed,
            repeat_penalty=1.0,
            logits_processor=LogitsProcessorList(processors),
            stream=stream,
        )

    def judge(self, messages: list[Message], yes: tuple[str, ...], no: tuple[str, ...]) -> float:
        probe = FirstStepMass(self._first_tokens(yes), self._first_tokens(no))
        with self._lock:
            try:
                self._run(messages, 1, [probe], stream=False)
            except ValueError as exc:
                raise RagError(f"the prompt does not fit the model's context ({exc})") from exc
        return probe.p_yes if probe.p_yes is not None else 0.0

    def stream_gated(
        self, messages: list[Message], max_tokens: int, gate: Callable[[float], bool], signals: Signals
    ) -> Iterator[str]:
        procs = [TokenLogprobs(signals), FirstStepGate(self.refusal_ids, gate, signals)]
        with self._lock:
            try:
                for part in self._run(messages, max_tokens, procs, stream=True):
                    delta = part["choices"][0].get("delta", {}).get("content")
                    if delta:
                        yield delta
            except ValueError as exc:
                raise RagError(f"the prompt does not fit the model's context ({exc})") from exc

    def extract(self, messages: list[Message], grammar: str, max_tokens: int) -> str:
        from llama_cpp import LlamaGrammar

        constraint = LlamaGrammar.from_string(grammar, verbose=False)
        with self._lock:
            try:
                out = self.llama.create_chat_completion(
                    messages=messages,
                    max_tokens=max_tokens,
                    temperature=0.0,
                    seed=self.seed,
                    repeat_penalty=1.0,
                    grammar=constraint,
                )
            except ValueError as exc:
                raise RagError(f"the prompt does not fit the model's context ({exc})") from exc
        return out["choices"][0]["message"].get("content") or ""
