"""Who is speaking: a claim may not give a quotation to someone the sentence does not.

A sentence that opens on its quotation names its speaker after it
('"… a feature, not a glitch …," said spokesperson Joseph Costello.'); the other
rules align the claim with the sentence word by word, so a claim that gives the
quotation to a name from inside it ("Donald Trump said …") kept every word and
name of the sentence and was let through.
"""

from __future__ import annotations

from rag.answer.claim_pair import Finding, Pair, is_name, outside_quotes
from rag.answer.lexicon import SAYING, Tok

# How far from a verb of saying its speaker may stand ("said Harris campaign
# spokesperson Joseph Costello": five words after it).
_BEFORE, _AFTER = 4, 6


def _says(toks: list[Tok]) -> list[int]:
    """Where a verb of saying stands outside quotation marks."""
    free = outside_quotes(toks)
    return [i for i, t in enumerate(toks) if free[i] and t.low in SAYING]


def _run(toks: list[Tok], i: int, step: int, pair: Pair) -> set[str]:
    """The names on one side of the verb at ``i`` (``step`` -1: before it, 1: after it),
    up to a punctuation mark or quotation mark, at most ``_BEFORE`` / ``_AFTER`` words."""
    out: set[str] = set()
    j = i + step
    while 0 <= j < len(toks) and abs(j - i) <= (_BEFORE if step < 0 else _AFTER):
        t = toks[j]
        if not t.low[:1].isalnum():
            break
        if is_name(t, pair):
            out.add(t.low)
        j += step
    return out


def claim_speaker(pair: Pair) -> set[str]:
    """The names just before the claim's first verb of saying ("Joseph Costello said …"),
    else just after it ("according to Oxfam, …").

    >>> from rag.answer.claim_pair import make_pair
    >>> sorted(claim_speaker(make_pair("Later, campaign spokesperson Joseph Costello said no.", ["No."])))
    ['costello', 'joseph']
    """
    says = _says(pair.claim)
    if not says:
        return set()
    return _run(pair.claim, says[0], -1, pair) or _run(pair.claim, says[0], 1, pair)


def speaker(pair: Pair) -> Finding | None:
    """The claim gives the sentence's quotation to a name from inside it, not to one
    the sentence names outside it.

    >>> from rag.answer.claim_pair import make_pair
    >>> s = '"Donald Trump’s agenda is a feature, not a glitch," said spokesperson Joseph Costello.'
    >>> speaker(make_pair("Joseph Costello said Trump’s agenda is a feature, not a glitch.", [s])) is None
    True
    >>> speaker(make_pair("Donald Trump said his agenda is a feature, not a glitch.", [s])).reason
    "attribution: 'Donald Trump' is inside the quotation, its speaker is 'Joseph Costello'"
    >>> speaker(make_pair("Costello said it was a glitch.", ['"It was a glitch," he said.'])) is None
    True
    """
    who = claim_speaker(pair)
    s = pair.sentence
    free = outside_quotes(s)
    if not who or all(free):
        return None
    inside = {t.low for t, f in zip(s, free) if not f and is_name(t, pair)}
    outside = {t.low for t, f in zip(s, free) if f and is_name(t, pair)}
    if not who & inside or who & outside:
        return None
    mine = [t.raw for t in pair.claim if t.low in who]
    theirs = [t.raw for t in s if t.low in outside]
    return Finding(
        "contradicted",
        "attribution",
        f"attribution: '{' '.join(dict.fromkeys(mine))}' is inside the quotation, "
        f"its speaker is '{' '.join(dict.fromkeys(theirs))}'",
    )
