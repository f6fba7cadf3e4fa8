"""Polarity: a claim negates what its sentence affirms, or the other way round."""

from __future__ import annotations

from difflib import SequenceMatcher

from rag.answer.claim_pair import Finding, Pair, text_of
from rag.answer.lexicon import (
    NEGATORS,
    NOT_NEGATION,
    PREPOSITIONS,
    SAY_WORDS,
    SCOPE_BREAKS,
    Tok,
    is_content,
    negative_verbs,
    stem,
)

NEGATION_REACH = 6  # words after a negator that it can cover
_PUNCT_BREAKS = frozenset(",;:()")


def negated(toks: list[Tok]) -> list[bool]:
    """For each token: is it within the reach of an odd number of negations?

    A negation reaches up to ``NEGATION_REACH`` words, not past a comma, nor past a
    conjunction or a preposition once it has covered a word.

    >>> from rag.answer.lexicon import tokens
    >>> negated(tokens("He did not blame X on Y, but left."))
    [False, False, False, True, True, False, False, False, False, False]
    """
    out = []
    active: list[list[int]] = []  # [words left, words covered] of each open negation
    for i, t in enumerate(toks):
        if t.low in _PUNCT_BREAKS:
            active = []
        elif t.low in SCOPE_BREAKS or t.low in PREPOSITIONS:
            active = [a for a in active if not a[1]]  # "not that many" reaches on
        out.append(len(active) % 2 == 1)
        if polar(t.low):
            for a in active:
                a[1] += 1
        active = [[n - 1, c] for n, c in active if n > 1]
        nxt = toks[i + 1].low if i + 1 < len(toks) else ""
        if t.low in NEGATORS and (t.low, nxt) not in NOT_NEGATION:
            active.append([NEGATION_REACH, 0])
        elif stem(t.low) in negative_verbs() and (t.low.startswith("den") or nxt == "to"):
            active.append([NEGATION_REACH, 0])
    return out


def polar(low: str) -> bool:
    """Does negating this word change what a claim says? Content words (among them
    'denied': 'did not deny' is not 'denied'), figures, 'said'."""
    return is_content(low) or low[:1].isdigit() or low in SAY_WORDS


def _polarities(toks: list[Tok]) -> dict[tuple[str, bool], list[int]]:
    out: dict[tuple[str, bool], list[int]] = {}
    for i, (t, neg) in enumerate(zip(toks, negated(toks))):
        if polar(t.low):
            out.setdefault((stem(t.low), neg), []).append(i)
    return out


_AUX = frozenset("did do does is are was were has have had will would can could should must may might".split())


def _negation_phrase(toks: list[Tok], i: int) -> str:
    """The words from the negation that reaches token ``i`` (with its auxiliary) to it."""
    start = i
    for j in range(i - 1, max(-1, i - NEGATION_REACH - 1), -1):
        if toks[j].low in SCOPE_BREAKS:
            break
        if toks[j].low in NEGATORS or stem(toks[j].low) in negative_verbs():
            start = j
    if start < i and start > 0 and toks[start].low == "not" and toks[start - 1].low in _AUX:
        start -= 1
    return text_of(toks[start : i + 1])


def polarity(pair: Pair) -> Finding | None:
    """A word the claim negates more often than the sentence does, where the sentence
    has it the other way (or the other way round)."""
    cpol, spol = _polarities(pair.claim), _polarities(pair.sentence)
    for (key, neg), where in sorted(cpol.items(), key=lambda kv: kv[1][0]):
        other = spol.get((key, not neg), [])
        if len(where) > len(spol.get((key, neg), [])) and other:
            said = _negation_phrase(pair.sentence, other[0])
            claimed = _negation_phrase(pair.claim, where[0])
            return Finding("contradicted", "negation", f"negation: passage says '{said}', claim says '{claimed}'")
    return None


def _equal_map(pair: Pair) -> tuple[set[int], set[int], list[tuple[str, int, int, int, int]]]:
    s, c = pair.sentence, pair.claim
    ops = SequenceMatcher(None, [t.low for t in s], [t.low for t in c], autojunk=False).get_opcodes()
    seq = {i for op, i1, i2, _, _ in ops if op == "equal" for i in range(i1, i2)}
    ceq = {j for op, _, _, j1, j2 in ops if op == "equal" for j in range(j1, j2)}
    return seq, ceq, ops


def _is_negator(toks: list[Tok], i: int) -> bool:
    nxt = toks[i + 1].low if i + 1 < len(toks) else ""
    return toks[i].low in NEGATORS and (toks[i].low, nxt) not in NOT_NEGATION


def negator_moved(pair: Pair) -> Finding | None:
    """A negation put in or taken out between words the claim and the sentence share
    ("was all about" / "was not all about"), whatever words it covers."""
    seq, ceq, _ = _equal_map(pair)
    for toks, same, who in ((pair.claim, ceq, "adds"), (pair.sentence, seq, "drops")):
        for i in range(1, len(toks) - 1):
            if i not in same and _is_negator(toks, i) and i - 1 in same and i + 1 in same:
                quote = text_of(toks[i - 1 : i + 2])
                return Finding("contradicted", "negation", f"negation: the claim {who} '{toks[i].raw}' in '{quote}'")
    return None
