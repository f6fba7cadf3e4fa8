"""A claim lined up with the passage sentence it restates: the shared ground of the
contradiction checks (``contradiction``, ``polarity``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from rag.answer.lexicon import (
    MONTHS,
    NEGATORS,
    TITLES,
    WEEKDAYS,
    Tok,
    is_content,
    tokens,
)
from rag.text import STOPWORDS, sentence_spans


@dataclass(frozen=True)
class Finding:
    verdict: str  # "supported" | "contradicted" | "unsupported"
    kind: str = ""  # negation, number, unit, date, entity, attribution, roles, antonym, quantifier
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.verdict == "supported"


SUPPORTED = Finding("supported")


@dataclass
class Pair:
    """A claim and what it is checked against."""

    claim: list[Tok]
    sentence: list[Tok]  # the passage sentence sharing most content words with the claim
    passage: list[Tok]  # every sentence of the passages
    caps: frozenset[str]  # words written capitalised inside a sentence somewhere
    lowers: frozenset[str]  # words written in lower case somewhere
    given: frozenset[str] = frozenset()  # the names the question gives, lower case


def make_pair(claim: str, passages: Sequence[str], given: frozenset[str] = frozenset()) -> Pair:
    ctoks = tokens(claim)
    sents = [tokens(p[a:b]) for p in passages for a, b in sentence_spans(p)] or [[]]
    best = max(sents, key=lambda s: _matched(s, ctoks))
    every = [t for s in sents for t in s] + ctoks
    caps = frozenset(t.low for t in every if t.raw[:1].isupper() and not t.initial)
    lowers = frozenset(t.low for t in every if t.raw[:1].islower())
    return Pair(ctoks, best, [t for s in sents for t in s], caps, lowers, given)


def _matched(sentence: list[Tok], claim: list[Tok]) -> int:
    """Tokens of the claim matched in order by the sentence's, words counting double."""
    sm = SequenceMatcher(None, [t.low for t in sentence], [t.low for t in claim], autojunk=False)
    return sum(1 + is_content(claim[b.b + k].low) for b in sm.get_matching_blocks() for k in range(b.size))


def is_name(t: Tok, pair: Pair) -> bool:
    """Capitalised, not a function word or title; a sentence's first word only if
    it is capitalised inside a sentence somewhere or never written in lower case."""
    if not t.raw[:1].isupper() or not t.low[:1].isalpha():
        return False
    if "-" in t.raw and not t.initial:
        return True  # every part of "A-One" or "Port-au-Prince" belongs to the name
    if t.low in STOPWORDS or t.low in TITLES:
        return False
    if t.low in NEGATORS or t.low in MONTHS or t.low in WEEKDAYS:
        return False
    return not t.initial or t.low in pair.caps or t.low not in pair.lowers


def outside_quotes(toks: list[Tok]) -> list[bool]:
    """For each token, whether it stands outside quotation marks.

    >>> from rag.answer.lexicon import tokens
    >>> [t.raw for t, out in zip(tokens('"We won," he said.'), outside_quotes(tokens('"We won," he said.'))) if out]
    ['"', 'he', 'said']
    """
    out, inside = [], False
    for t in toks:
        if t.low in '"“”':
            inside = t.low == "“" or (t.low == '"' and not inside)
        out.append(not inside)
    return out


def text_of(toks: Sequence[Tok]) -> str:
    """The tokens as a reason quotes them (a currency sign kept on its figure)."""
    out: list[str] = []
    for t in toks:
        if out and out[-1] == t.raw:  # "didn't" gives two tokens with one raw form
            continue
        if out and out[-1] in ("$", "£", "€", "¥"):
            out[-1] += t.raw
        else:
            out.append(t.raw)
    return " ".join(out)
