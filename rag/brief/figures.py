"""Figures in sentences (a value, its unit and scale) and how to compare them, for the conflicts section."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from rag.text import unit_fold
from rag.text.dates import MONTH_RE

# -- figures ----------------------------------------------------------------------
_SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_WORDNUM = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50, "sixty": 60, "a": 1, "an": 1,
}  # fmt: skip
_QTY = re.compile(
    r"(?P<pre>\$|£|€)?(?P<num>\d(?:[\d,]*\d)?(?:\.\d+)?|\b(?:" + "|".join(_WORDNUM) + r")\b)"
    r"(?P<hundred>[\s-]+hundred\b)?"
    r"(?:[\s-]+(?P<scale>thousand|million|billion|trillion)\b)?"
    r"(?P<pct>\s?%|\s+percent\b|\s+per\s+cent\b)?",
    re.I,
)
# What a figure counts, from the words next to it (first match wins). "Specific" kinds
# (a delay, an audience, a death toll) are compared across articles even when the
# sentences differ a lot; generic ones only when the sentences are close.
_UNIT_CLASSES = {
    "deaths": {"dead", "death", "deaths", "killed", "killing", "died", "fatalities", "toll", "bodies"},
    "injured": {"injured", "wounded", "hurt"},
    "audience": {"user", "listener", "viewer", "participant", "attendee", "spectator", "audience", "listening",
                 "tuned", "joined", "watching", "watched", "visitor"},
    "followers": {"follower", "following", "followed"},
    "minutes": {"minute"},
    "hours": {"hour"},
    "days": {"day"},
    "people": {"people", "person", "resident", "refugee", "victim"},
    "votes": {"vote", "voted", "account"},
    "magnitude": {"magnitude"},
}  # fmt: skip
SPECIFIC_UNITS = {"deaths", "injured", "audience", "followers", "delay (minutes)", "delay (hours)"}
_DELAY = re.compile(r"\b(?:delay(?:ed|s)?|late|scheduled|postponed|wait(?:ed|ing)?|behind schedule)\b", re.I)
_UNIT_OF = {w: c for c, ws in _UNIT_CLASSES.items() for w in ws}


@dataclass
class Figure:
    value: float
    unit: str
    label: str  # as written, with its hedge ("more than 40 minutes")
    start: int  # sentence-relative
    end: int


_LINK = re.compile(r"\b(?:compared with(?: only)?|vs\.?|versus|and|or|to|while|not|than|from)\s*$")
_HEDGE = re.compile(
    r"(?:more than|over|about|around|nearly|almost|just over|at least|up to|only|some|roughly)\s+$", re.I
)


def figures(sentence: str) -> list[Figure]:
    """Quantities with a recognisable kind (audience, minutes, deaths...) in one sentence.

    >>> [(f.value, f.unit, f.label) for f in figures("Only 1.1 million were listening, not 60 million.")]
    [(1100000.0, 'audience', 'Only 1.1 million'), (60000000.0, 'audience', '60 million')]
    >>> [f.label for f in figures("But 120,000 people joined after a delay of over 15 minutes.")]
    ['120,000 people', 'over 15 minutes']
    >>> [(f.value, f.unit) for f in figures("It started more than 40 minutes late; five hundred people left.")]
    [(40.0, 'delay (minutes)'), (500.0, 'people')]
    >>> figures("In 2022 he bought it.")
    []
    """
    out: list[Figure] = []
    for m in _QTY.finditer(sentence):
        raw = m.group("num")
        scale = (m.group("scale") or "").lower()
        word = raw.lower()
        nxt = sentence[m.end() : m.end() + 1]
        if nxt and nxt in "½¼¾":
            continue  # "a 2½-minute video"
        if word in _WORDNUM:
            if not scale and not re.match(r"[\s-]+(?:hundred\s+)?[A-Za-z]+", sentence[m.end() :]):
                continue  # "the strongest one," — a word number needs its noun or scale next to it
            if word in ("a", "an") and not scale:
                continue
            value = float(_WORDNUM[word])
        elif m.group("hundred"):
            continue  # "100 hundred"?
        else:
            value = float(raw.replace(",", ""))
            if not scale and not m.group("pct") and not m.group("pre") and 1900 <= value <= 2100 and "." not in raw:
                continue  # a year
        if m.group("hundred"):
            value *= 100
        value *= _SCALES.get(scale, 1.0)
        before = sentence[max(0, m.start() - 30) : m.start()]
        if re.search(rf"{MONTH_RE}\s*$", before) or re.match(r"\s*(?:[ap]\.?m\b|:\d)", sentence[m.end() :]):
            continue  # a date or a clock time
        if re.match(r"-[A-Za-z]", sentence[m.end() : m.end() + 2]):
            continue  # a compound adjective: "a two-hour conversation", "a 10-year-old"
        if m.group("pre"):
            unit = "money"
        elif m.group("pct"):
            unit = "percent"
        else:
            unit = _unit(sentence[m.end() :], before, sentence)
            if not unit and out and _LINK.search(sentence[out[-1].end : m.start()]):
                unit = out[-1].unit  # "88 million followers compared with only 7.5 million"
            if not unit:
                continue
        h = _HEDGE.search(before)
        start = m.start() - (len(before) - h.start()) if h else m.start()
        end = m.end()
        noun = re.match(r"\s+([A-Za-z]+)", sentence[end:])
        if noun and unit_fold(noun.group(1)) in _UNIT_OF:
            end += noun.end()  # "40 minutes", "120,000 people"
        out.append(Figure(value, unit, sentence[start:end].strip(), start, end))
    return out


def _unit(after: str, before: str, sentence: str) -> str:
    """The kind of a figure: the nearest counted noun after it, else a cue word just before it."""
    after = re.split(r"[\d;:!?]|\.\s", after, maxsplit=1)[0]  # stop at the next number or clause
    before = re.split(r"[\d;:!?]|\.\s", before)[-1]  # and at the previous one
    order = list(_UNIT_CLASSES)
    kinds = []
    for words in (re.findall(r"[A-Za-z’']+", after)[:4], re.findall(r"[A-Za-z’']+", before)[-3:]):
        found = [_UNIT_OF[w] for w in map(unit_fold, words) if w in _UNIT_OF]
        kinds.append(min(found, key=order.index) if found else "")
    c = kinds[0] or kinds[1]
    if c == "people" and kinds[1] in ("deaths", "injured", "audience"):
        c = kinds[1]  # "killing as many as 200,000 people"
    if c in ("minutes", "hours") and _DELAY.search(sentence):
        return f"delay ({c})"
    return c


def in_period(when: str, first: str, last: str, days: int = 31) -> bool:
    lo = date.fromisoformat(first) - timedelta(days=days)
    hi = date.fromisoformat(last) + timedelta(days=days)
    full = when + "-01-01"[len(when) - 4 :] if len(when) < 10 else when
    try:
        d = date.fromisoformat(full)
    except ValueError:
        return True
    if len(when) == 7:  # a month: any overlap
        end = (d.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        return not (end < lo or d > hi)
    if len(when) == 4:
        return lo.year <= d.year <= hi.year
    return lo <= d <= hi


def same_value(a: float, b: float) -> bool:
    return abs(a - b) <= 0.02 * max(abs(a), abs(b))
