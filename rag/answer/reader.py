"""The reader: the model reads the evidence and decides whether it answers the question.

Two confidences come from the model's next-token distributions, not from its text:

- ``p_yes``: asked "Do the passages state the answer to the question?", the
  probability of *yes* against *no* (the judge prompt shares the answer prompt's
  prefix, so llama.cpp evaluates only its last few tokens again);
- ``p_refuse``: the probability that the answer opens with the refusal
  ``NOT IN ARTICLES`` (its first token), read at the first step of generation.

:func:`decide` turns them into answer / refuse with thresholds calibrated on a dev
split (:class:`Thresholds`). When the decision is to answer, the refusal is banned
at the first step so the model writes its answer; every sentence is then verified
(:func:`check_sentence`) before it is shown, and an answer with no verified
sentence becomes "The articles don't say" with the closest passages as related,
never quotes standing in for an answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from rag.answer.prompts import render
from rag.answer.replies import ABOUT_PASSAGES, NOT_IN_ARTICLES, restates_only, tidy_sentence
from rag.answer.spans import as_answer, span_grammar
from rag.answer.verify import split_answer, supporting
from rag.text import lexical_tokens
from rag.types import Passage

REFUSAL = "NOT IN ARTICLES"
_REPLY = re.compile(r"^\s*reply\s*:\s*", re.I)  # the system prompt's examples write "Reply: ..."
MAX_SENTENCES = 2

Message = dict[str, str]


@dataclass(frozen=True)
class Thresholds:
    """Answer only when ``p_yes >= min_yes`` and ``p_refuse < max_refuse``
    (and the first shown sentence's mean token log-probability is at least
    ``min_logprob``). Chosen on the dev split; see ``reader_results``."""

    min_yes: float = 0.5
    max_refuse: float = 0.5
    min_logprob: float = -99.0


@dataclass
class Signals:
    p_yes: float | None = None  # the judge; None when it was not asked
    p_refuse: float | None = None  # first-token probability of the refusal
    logprobs: list[float] = field(default_factory=list)  # of the generated tokens


class ReaderModel(Protocol):
    """What the reader needs from a backend beyond text: next-token probabilities."""

    def judge(self, messages: list[Message], yes: tuple[str, ...], no: tuple[str, ...]) -> float:
        """P(yes) / (P(yes) + P(no)) over the first token of the reply."""
        ...

    def stream_gated(
        self, messages: list[Message], max_tokens: int, gate: Callable[[float], bool], signals: Signals
    ) -> Iterator[str]:
        """Yield the reply. At the first step the backend computes the probability of
        the refusal's first token, stores it in ``signals.p_refuse`` and calls
        ``gate(p)``: True bans the refusal (the model must answer), False lets it
        through. Token log-probabilities go to ``signals.logprobs``."""
        ...

    def extract(self, messages: list[Message], grammar: str, max_tokens: int) -> str:
        """The reply to ``messages`` constrained by the GBNF ``grammar`` (optional:
        a backend without it gets no copied-answer repair, see :func:`repair`)."""
        ...


YES = ("yes", "Yes", "YES")
NO = ("no", "No", "NO")


def format_passages(passages: list[Passage], titles: bool = True) -> str:
    """Passages as the reader sees them: number, headline (when known), quoted sentence.

    The headline lets the model tell apart two events that share words (an aid
    pledge after one earthquake is not one after another).

    >>> p = Passage(1, "a", "f.txt", "Quake hits Chile", "", "", "It began late.", 0, 14)
    >>> format_passages([p])
    '[1] (Quake hits Chile) "It began late."'
    >>> format_passages([p], titles=False)
    '[1] "It began late."'
    """
    out = []
    for p in passages:
        head = f"({p.title}) " if titles and p.title and p.title != p.text else ""
        out.append(f'[{p.n}] {head}"{p.text}"')
    return "\n".join(out)


def messages(
    question: str, passages: list[Passage], titles: bool = True, prompts_dir: Path | None = None
) -> list[Message]:
    """The answer prompt; the system message is the same for every question (prefix cache)."""
    user = render("reader_user", prompts_dir, passages=format_passages(passages, titles), question=question)
    return [{"role": "system", "content": render("reader_system", prompts_dir)}, {"role": "user", "content": user}]


def judge_messages(
    question: str, passages: list[Passage], titles: bool = True, prompts_dir: Path | None = None
) -> list[Message]:
    """The judge prompt: the answer prompt's text plus the yes/no question."""
    user = render("reader_judge", prompts_dir, passages=format_passages(passages, titles), question=question)
    return [{"role": "system", "content": render("reader_system", prompts_dir)}, {"role": "user", "content": user}]


def decide(signals: Signals, th: Thresholds) -> bool:
    """Answer (True) or refuse, before any text is generated.

    >>> decide(Signals(p_yes=0.9, p_refuse=0.2), Thresholds(0.5, 0.5))
    True
    >>> decide(Signals(p_yes=0.3, p_refuse=0.2), Thresholds(0.5, 0.5))
    False
    >>> decide(Signals(p_yes=None, p_refuse=0.7), Thresholds(0.5, 0.8))
    True
    """
    if signals.p_yes is not None and signals.p_yes < th.min_yes:
        return False
    return not (signals.p_refuse is not None and signals.p_refuse >= th.max_refuse)


def check_sentence(
    sent: str, nums: list[int], passages: list[Passage], question: str = ""
) -> tuple[str, list[int]] | None:
    """The sentence with the passages that support it, or None when it may not be shown.

    A refusal, a sentence about the passages or one that only restates the question is
    never an answer; a sentence citing the wrong passage is re-cited to one that
    supports it alone.

    >>> p = [Passage(1, "a", "f", "T", "", "", "Only 1.1 million were listening.", 0, 31)]
    >>> check_sentence("Only 1.1 million were listening.", [1], p)
    ('Only 1.1 million were listening.', [1])
    >>> check_sentence("About 2 million were listening.", [1], p) is None
    True
    """
    sent = tidy_sentence(_REPLY.sub("", sent))
    if not sent or NOT_IN_ARTICLES.search(sent) or ABOUT_PASSAGES.search(sent) or REFUSAL.lower() in sent.lower():
        return None
    if question and restates_only(sent, question):
        return None
    cited = supporting(sent, nums, passages, question)
    return (sent, cited) if cited else None


def verified(raw: str, passages: list[Passage], question: str = "") -> tuple[list[tuple[str, list[int]]], list[str]]:
    """The sentences of a finished reply that may be shown (at most :data:`MAX_SENTENCES`), and the dropped ones.

    >>> p = [Passage(1, "a", "f", "T", "", "", "Only 1.1 million were listening.", 0, 31)]
    >>> verified("Reply: Only 1.1 million were listening [1]. Nobody cared [1].", p)
    ([('Only 1.1 million were listening.', [1])], ['Nobody cared.'])
    """
    shown: list[tuple[str, list[int]]] = []
    dropped: list[str] = []
    for sent, nums in split_answer(raw):
        if len(shown) >= MAX_SENTENCES:
            break
        checked = check_sentence(sent, nums, passages, question)
        if checked is None or adds_nothing(checked[0], [s for s, _ in shown]):
            dropped.append(sent)
        else:
            shown.append(checked)
    return shown, dropped


def adds_nothing(sentence: str, shown: list[str]) -> bool:
    """Does ``sentence`` only repeat words already shown?

    >>> adds_nothing("7.5 million.", ["Trump has 7.5 million followers."]), adds_nothing("Musk agreed.", ["Trump won."])
    (True, False)
    """
    seen = set(lexical_tokens(" ".join(shown)))
    return bool(shown) and set(lexical_tokens(sentence)) <= seen


@dataclass
class Reading:
    """The outcome of one reading: shown sentences (verified), and why it ended."""

    shown: list[tuple[str, list[int]]] = field(default_factory=list)
    raw: str = ""
    decided: bool = False  # the decision before generation was to answer
    dropped: list[str] = field(default_factory=list)
    signals: Signals = field(default_factory=Signals)
    repair: str = ""  # the copied-answer reply, when one was asked for
    copied: bool = False  # what is shown is that reply's phrase


def read(
    model: ReaderModel,
    question: str,
    passages: list[Passage],
    th: Thresholds,
    max_tokens: int = 64,
    use_judge: bool = True,
    titles: bool = True,
    on_sentence: Callable[[str, list[int]], None] | None = None,
    prompts_dir: Path | None = None,
    copy_repair: bool = False,
) -> Reading:
    """Judge, decide, generate, and verify each sentence as soon as it is complete.

    When the decision was to answer but no sentence survived verification and
    ``copy_repair`` is on, the model is asked once to copy the answering words of one
    passage under a grammar (:mod:`rag.answer.spans`); that phrase is verified too.
    Off by default: on the dev split it turned more refusals into wrong answers than
    into right ones (CRAG 0.300 -> 0.217; evals/reader/README.md).

    ``on_sentence`` is called with each verified sentence the moment it is checked
    (the caller streams it). Generation stops after :data:`MAX_SENTENCES` shown sentences.
    """
    out = Reading()
    sig = out.signals
    if use_judge:
        sig.p_yes = model.judge(judge_messages(question, passages, titles, prompts_dir), YES, NO)
        if sig.p_yes < th.min_yes:
            return out
    gate_ok: list[bool] = []

    def gate(p: float) -> bool:
        gate_ok.append(decide(sig, th))
        return gate_ok[-1]

    pieces = model.stream_gated(messages(question, passages, titles, prompts_dir), max_tokens, gate, sig)
    done = 0
    for piece in pieces:
        if gate_ok and not gate_ok[0]:
            break  # refused at the first step: nothing more to read
        out.raw += piece
        parts = split_answer(out.raw)
        for sent, nums in parts[done:-1]:  # complete sentences: all but the last
            _take(out, sent, nums, passages, th, on_sentence, question)
        done = max(done, len(parts) - 1)
        if len(out.shown) >= MAX_SENTENCES:
            break
    if hasattr(pieces, "close"):
        pieces.close()
    out.decided = bool(gate_ok) and gate_ok[0]
    if out.decided and len(out.shown) < MAX_SENTENCES:
        for sent, nums in split_answer(out.raw)[done:]:
            _take(out, sent, nums, passages, th, on_sentence, question)
    if not out.decided:
        out.shown = []
    elif not out.shown and copy_repair and hasattr(model, "extract"):
        ask = [*messages(question, passages, titles, prompts_dir), *repair_turns(out.raw, prompts_dir)]
        out.repair = model.extract(ask, span_grammar(passages), REPAIR_TOKENS)
        got = as_answer(out.repair)
        if got:
            _take(out, got[0], got[1], passages, th, on_sentence, question)
            out.copied = bool(out.shown)
    return out


REPAIR_TOKENS = 32


def repair_turns(reply: str, prompts_dir: Path | None = None) -> list[Message]:
    """The turns that ask for the answer copied from one passage after ``reply`` failed verification."""
    return [{"role": "assistant", "content": reply}, {"role": "user", "content": render("reader_extract", prompts_dir)}]


def _take(
    out: Reading, sent: str, nums: list[int], passages: list[Passage], th: Thresholds, on_sentence, question: str
) -> None:
    if len(out.shown) >= MAX_SENTENCES:
        return
    checked = check_sentence(sent, nums, passages, question)
    if checked is None or adds_nothing(checked[0], [s for s, _ in out.shown]):
        out.dropped.append(sent)
        return
    if not out.shown and out.signals.logprobs and th.min_logprob > -99.0:
        lp = out.signals.logprobs
        if sum(lp) / len(lp) < th.min_logprob:
            out.dropped.append(sent)
            return
    out.shown.append(checked)
    if on_sentence is not None:
        on_sentence(*checked)
