"""Faithful restatements of a real sentence, which verification must pass.

Every rule is a pure function ``(sentence, article, rng) -> str | None`` (None when it
does not apply); ``rng`` is a seeded ``random.Random``.
"""

from __future__ import annotations

import random
import re

from rag.devtools.claim_text import MONTHS, NAME_SPAN, NEG_MARK, NOT_ENTITIES, Article, replace_at, verbish

_DROP_START = re.compile(
    r"^(which|who|where|after|before|as|while|including|according|adding|saying|with|following|since|and|"
    r"amid|in|on|at|for|from|\w+ing)\b"
)


def truncated(sentence: str, article: Article, rng: random.Random) -> str | None:
    """The sentence without its last comma clause, when that clause only adds to it."""
    for m in reversed(list(re.finditer(r", ", sentence))):
        head, tail = sentence[: m.start()], sentence[m.end() :]
        if len(head.split()) < 6 or len(tail.split()) < 3:
            continue
        if not _DROP_START.match(tail) or NEG_MARK.search(tail) or head.count('"') % 2 or "“" in head:
            continue
        return head.rstrip(" ;:") + "."
    return None


_LEAD = re.compile(
    r"^((?:On|In|At|After|Before|During|Since|Following|Despite|Without|Under|Last|Earlier|Later|Yesterday|"
    r"Today|Within|By|Over|Amid|According to)\b[^,\"“”]{2,80}), ([A-Za-z][^\"“”]*[a-z0-9)])\.$"
)


def _move_lead(sentence: str) -> str | None:
    m = _LEAD.match(sentence)
    if not m or len(m.group(1).split()) > 10:
        return None
    lead, rest = m.group(1), m.group(2)
    if "," in rest or re.match(rf"\d|(?:{'|'.join(MONTHS)})\b", rest):
        return None  # at the end of a longer sentence the clause would read as attached elsewhere
    first = lead.split()[0]
    lead = lead if first not in ("On", "In", "At", "After", "Before", "During", "Since") else lead[0].lower() + lead[1:]
    lead = lead[0].lower() + lead[1:] if lead.split()[0][1:].islower() else lead
    return rest[0].upper() + rest[1:] + " " + lead + "."


def _invert_said(sentence: str) -> str | None:
    m = re.search(rf'([,"”]\s*)said ({NAME_SPAN.pattern})([.,])', sentence)
    if m:
        return replace_at(sentence, m.start(), m.end(), f"{m.group(1)}{m.group(2)} said{m.group(3)}")
    m = re.search(rf'([,"”]\s*)({NAME_SPAN.pattern}) said([.,])', sentence)
    if m and m.group(2).split()[0] not in NOT_ENTITIES:
        return replace_at(sentence, m.start(), m.end(), f"{m.group(1)}said {m.group(2)}{m.group(3)}")
    return None


_CONTRACT = {"did not": "didn't", "does not": "doesn't", "do not": "don't", "is not": "isn't", "was not": "wasn't"}
_CONTRACT |= {"were not": "weren't", "has not": "hasn't", "have not": "haven't", "will not": "won't"}
_CONTRACT |= {"cannot": "can't", "would not": "wouldn't", "could not": "couldn't", "are not": "aren't"}
_PHRASES = {
    "approximately": "about",
    "in order to": "to",
    "as well as": "and",
    "said that": "said",
    "per cent": "percent",
    "U.S.": "US",
    "However,": "",
    "also": "",
}


def outside_quotes(sentence: str, start: int) -> bool:
    """Is offset ``start`` outside every quotation of the sentence?

    >>> s = 'He said "it is not late" and it is not.'
    >>> outside_quotes(s, s.index("is not")), outside_quotes(s, s.rindex("is not"))
    (False, True)
    """
    before = sentence[:start]
    return before.count('"') % 2 == 0 and before.count("“") <= before.count("”")


def _swap_phrase(sentence: str, rng: random.Random) -> str | None:
    """One fixed phrase swapped, never inside a quotation (a quotation stays verbatim)."""
    table = dict(_CONTRACT) | {v: k for k, v in _CONTRACT.items()} | _PHRASES
    hits = [
        (k, m.start())
        for k in table
        for m in re.finditer(r"(?<![\w'’.])" + re.escape(k) + r"(?![\w'’])", sentence)
        if outside_quotes(sentence, m.start())
    ]
    if not hits:
        return None
    key, at = rng.choice(sorted(hits))
    out = re.sub(r"\s{2,}", " ", sentence[:at] + table[key] + sentence[at + len(key) :]).strip()
    return out[0].upper() + out[1:]


def _drop_apposition(sentence: str) -> str | None:
    """'Musk, who owns X, said ...' -> 'Musk said ...' (only before a verb)."""
    m = re.search(rf"({NAME_SPAN.pattern}), (?:who|which) [^,\"“”]+, (?=(\w+))", sentence)
    if not m or not verbish().fullmatch(m.group(m.lastindex)):
        return None
    return replace_at(sentence, m.start(), m.end(), m.group(1) + " ")


def reworded(sentence: str, article: Article, rng: random.Random) -> str | None:
    """The sentence restated by one meaning-preserving rule: a leading clause moved
    to the end, 'said X' turned 'X said', a contraction written out or made, a
    relative clause about a name dropped, or a fixed phrase swapped ('approximately'
    for 'about')."""
    options = [
        _move_lead(sentence),
        _invert_said(sentence),
        _drop_apposition(sentence),
        _swap_phrase(sentence, rng),
    ]
    options = [o for o in options if o and o != sentence]
    return rng.choice(options) if options else None
