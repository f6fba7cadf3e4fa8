"""Text extractors for briefings: dates and times, figures, attributed quotes.

Pure functions on strings (offsets into the string they are given), used by
:mod:`rag.brief`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

# -- dates and times ------------------------------------------------------------
_MONTH_NAMES = [
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
]  # fmt: skip
_MON = {m[:3]: i + 1 for i, m in enumerate(_MONTH_NAMES)} | {"sept": 9}
_MONTH_RE = r"(?:Jan(?:uary|\.)?|Feb(?:ruary|\.)?|Mar(?:ch|\.)?|Apr(?:il|\.)?|May|June?|July?|Aug(?:ust|\.)?|Sept?(?:ember|\.)?|Oct(?:ober|\.)?|Nov(?:ember|\.)?|Dec(?:ember|\.)?)"
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_TIME_PATTERNS = [
    ("iso", re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")),
    ("mdy", re.compile(rf"\b({_MONTH_RE})\s+(\d{{1,2}})(?:st|nd|rd|th)?,\s+(\d{{4}})\b")),
    ("dmy", re.compile(rf"\b(\d{{1,2}})\s+({_MONTH_RE})\s+(\d{{4}})\b")),
    ("md", re.compile(rf"\b({_MONTH_RE})\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?!,?\s*\d{{4}})")),
    ("dm", re.compile(rf"\b(\d{{1,2}})\s+({_MONTH_RE})\b(?!\s+\d{{4}})")),
    ("my", re.compile(rf"\b({_MONTH_RE})\s+(?:of\s+)?(\d{{4}})\b")),
    (
        "wd",
        re.compile(
            r"\b(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)(?:'s|’s)?\b"
            r"(?:\s+(morning|afternoon|evening|night))?"
        ),
    ),
    (
        "rel",
        re.compile(
            r"\b(today|tonight|yesterday|this morning|last night|last week|last month|last year"
            r"|earlier this year|a year ago)\b",
            re.I,
        ),
    ),
    ("month", re.compile(rf"\b(?:in|since|until|by|last|early|late|mid-?)\s+({_MONTH_RE})\b(?!\s+\d)")),
    ("year", re.compile(r"\b(?:in|since|until|by|from|of|early|late|mid-?)\s+((?:19|20)\d{2})\b")),
]
_CLOCK = re.compile(
    r"\b(\d{1,2})(?::(\d{2}))?\s*([ap])\.?\s?m\b\.?|\b(\d{1,2}):(\d{2})\s*(?:GMT|UTC|BST|EST|EDT|CET)\b", re.I
)


def _month(token: str) -> int:
    return _MON.get(token.lower().rstrip(".")[:3], 0)


def _safe_date(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def resolve_time(text: str, ref: str) -> tuple[str, str, str]:
    """(ISO date or "YYYY-MM" or "YYYY", clock time "HH:MM" or "", the expression) for ``text``.

    ``ref`` is the article's date (ISO) that relative expressions count from.

    >>> resolve_time("It began on Monday evening at 8 p.m.", "2024-08-13")
    ('2024-08-12', '20:00', 'Monday evening')
    >>> resolve_time("He was banned after the Jan. 6, 2021, attack.", "")
    ('2021-01-06', '', 'Jan. 6, 2021')
    >>> resolve_time("DeSantis launched in May 2023.", "2024-08-13")
    ('2023-05', '', 'May 2023')
    >>> resolve_time("Nothing here.", "2024-08-13")
    ('', '', '')
    """
    ref_d = date.fromisoformat(ref) if ref else None
    clock = ""
    cm = _CLOCK.search(text)
    if cm:
        if cm.group(3):
            h = int(cm.group(1)) % 12 + (12 if cm.group(3).lower() == "p" else 0)
            clock = f"{h:02d}:{int(cm.group(2) or 0):02d}"
        else:
            clock = f"{int(cm.group(4)):02d}:{cm.group(5)}"
    for kind, rx in _TIME_PATTERNS:
        for m in rx.finditer(text):
            got = _resolve(kind, m, ref_d)
            if got:
                return got, clock, m.group(0)
    if clock and ref_d:
        return ref_d.isoformat(), clock, cm.group(0) if cm else ""
    return "", "", ""


def _resolve(kind: str, m: re.Match, ref: date | None) -> str:
    g = m.groups()
    if kind == "iso":
        d = _safe_date(int(g[0]), int(g[1]), int(g[2]))
        return d.isoformat() if d else ""
    if kind == "mdy":
        d = _safe_date(int(g[2]), _month(g[0]), int(g[1]))
        return d.isoformat() if d else ""
    if kind == "dmy":
        d = _safe_date(int(g[2]), _month(g[1]), int(g[0]))
        return d.isoformat() if d else ""
    if kind in ("md", "dm") and ref:
        mon, day = (_month(g[0]), int(g[1])) if kind == "md" else (_month(g[1]), int(g[0]))
        d = _safe_date(ref.year, mon, day)
        if d and d > ref + timedelta(days=7):
            d = _safe_date(ref.year - 1, mon, day)
        return d.isoformat() if d else ""
    if kind == "my":
        return f"{int(g[1]):04d}-{_month(g[0]):02d}"
    if kind == "wd" and ref:
        want = _WEEKDAYS.index(g[0].lower())
        back = (ref.weekday() - want) % 7
        return (ref - timedelta(days=back)).isoformat()
    if kind == "rel" and ref:
        w = g[0].lower()
        if w in ("today", "tonight", "this morning"):
            return ref.isoformat()
        if w in ("yesterday", "last night"):
            return (ref - timedelta(days=1)).isoformat()
        if w == "last week":
            return (ref - timedelta(days=7)).isoformat()[:7]
        if w == "last month":
            y, mo = (ref.year, ref.month - 1) if ref.month > 1 else (ref.year - 1, 12)
            return f"{y:04d}-{mo:02d}"
        if w == "last year":
            return f"{ref.year - 1:04d}"
        if w == "earlier this year":
            return f"{ref.year:04d}"
        if w == "a year ago":
            return f"{ref.year - 1:04d}-{ref.month:02d}"
    if kind == "month" and ref:
        mon = _month(g[0])
        last = m.group(0).lower().startswith("last")
        y = ref.year if (mon < ref.month or (mon == ref.month and not last)) else ref.year - 1
        return f"{y:04d}-{mon:02d}"
    if kind == "year":
        return g[0]
    return ""


# -- who said what ----------------------------------------------------------------
_VERBS = (
    r"said|says|told|wrote|writes|posted|added|asked|replied|tweeted|stated|explained|noted|declared"
    r"|warned|claimed|announced|responded|joked|urged|insisted|argued|recalled|continued|commented|admitted"
)
_NAME_TOKEN = r"(?:(?:Gov|Sen|Rep|Dr|Mr|Mrs|Ms|Gen|St|Lt|Col|Sgt)\.|[A-Z]\.|[A-Z][\w’'-]*)"
_NAME = rf"(?:{_NAME_TOKEN}(?:\s+(?:{_NAME_TOKEN}|de|van|von|bin|al))*)"
_PRONOUN = r"(?:he|she|they|He|She|They)"
_QUOTE = re.compile(r"“([^“”]{2,600})”|\"([^\"]{2,600})\"")
_AFTER = re.compile(
    rf"^[\s,]*(?:(?:[a-z][\w-]*\s+){{0,3}}(?P<s1>{_NAME}|{_PRONOUN})\s+(?:{_VERBS})\b|(?:{_VERBS})\s+(?P<s2>(?:{_NAME}\s+(?:[a-z]+\s+){{1,3}})?{_NAME}))"
)
_BEFORE = re.compile(rf"(?P<s>{_NAME}|{_PRONOUN})\s+(?:{_VERBS})\b[^“”\".!?]{{0,60}}?[:,]?\s*$")
_NOT_SPEAKERS = {
    "The", "A", "An", "In", "On", "It", "This", "That", "But", "And", "When", "After", "As", "At", "He", "She",
    "They", "We", "I", "You", "His", "Her", "Their", "Its", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
    "Saturday", "Sunday",
}  # fmt: skip


def _speaker(raw: str) -> str:
    """The trailing run of capitalised words: "Harris campaign spokesperson Joseph Costello" -> "Joseph Costello"."""
    words = raw.split()
    run: list[str] = []
    for w in reversed(words):
        if not w[:1].isupper() or w in _NOT_SPEAKERS:
            break
        run.insert(0, w)
    return " ".join(run[-3:]).rstrip(".,;:’'")


def find_quotes(text: str) -> list[dict]:
    """Attributed quotations in ``text``: speaker, quoted words, and the span to cite.

    Pronoun speakers ("he said") are returned as "he"/"she"/"they"; the caller resolves them.

    >>> q = find_quotes('“We had a massive attack,” Musk said. Then nothing.')
    >>> q[0]["speaker"], q[0]["quote"], q[0]["start"], q[0]["end"]
    ('Musk', 'We had a massive attack,', 0, 36)
    >>> find_quotes('Trump called Harris the "border czar" again.')
    []
    """
    out = []
    for m in _QUOTE.finditer(text):
        words = (m.group(1) or m.group(2) or "").strip()
        if len(words.split()) < 4:
            continue  # scare quotes: "coup", "border czar"
        line_end = text.find("\n", m.end())
        line_end = len(text) if line_end < 0 else line_end
        after = text[m.end() : min(line_end, m.end() + 80)]
        # A quote closed by a full stop ends its sentence: what follows is not its attribution.
        a = None if words.rstrip().endswith(".") else _AFTER.match(after)
        if a and (a.group("s1") or "") in ("He", "She", "They"):
            a = None  # "...” He said..." starts a new sentence
        if a:
            who = a.group("s1") or a.group("s2")
            end = m.end() + a.end()
            out.append(
                {
                    "speaker": _speaker(who) if who[0].isupper() else who.lower(),
                    "quote": words,
                    "start": m.start(),
                    "end": end,
                    "pos": m.start(),
                }
            )
            continue
        line_start = text.rfind("\n", 0, m.start()) + 1
        before = text[max(line_start, m.start() - 140) : m.start()]
        b = _BEFORE.search(before)
        if b:
            who = b.group("s")
            start = m.start() - len(before) + b.start("s")
            out.append(
                {
                    "speaker": _speaker(who) if who[0].isupper() else who.lower(),
                    "quote": words,
                    "start": start,
                    "end": m.end(),
                    "pos": start,
                }
            )
    return [q for q in out if q["speaker"]]


def resolve_pronoun(text: str, at: int, speakers: set[str]) -> str:
    """The last known speaker named before ``at``: in the same paragraph, else in the one before."""
    para = text.rfind("\n", 0, at) + 1
    prev = text.rfind("\n", 0, max(0, para - 1)) + 1
    for window in (text[max(para, at - 400) : at], text[prev:para]):
        best, best_pos = "", -1
        for sp in speakers:
            p = window.rfind(sp)
            if p > best_pos:
                best, best_pos = sp, p
        if best:
            return best
    return ""


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


def _fold(w: str) -> str:
    w = w.lower().strip(".,;:“”\"'’()")
    if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
        w = w[:-1]
    return w


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
        if re.search(rf"{_MONTH_RE}\s*$", before) or re.match(r"\s*(?:[ap]\.?m\b|:\d)", sentence[m.end() :]):
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
        if noun and _fold(noun.group(1)) in _UNIT_OF:
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
        found = [_UNIT_OF[w] for w in map(_fold, words) if w in _UNIT_OF]
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


# -- model output -----------------------------------------------------------------
_PREAMBLE = re.compile(
    r"^\s*(?:here is\s+)?(?:the\s+|an?\s+)?(?:one-sentence\s+|opening\s+|short\s+)?"
    r"(?:lede|summary|sentence|opening)(?:\s+is)?\s*:\s*",
    re.I,
)


META = re.compile(
    r"^(?:(?:it|this|the|that)\s+(?:passage|article|text|briefing|report|story)s?\b|it discusses|the following\b)", re.I
)


def clean_lede(raw: str) -> str:
    r"""The model's reply without a preamble, wrapping quotes or a second paragraph.

    >>> clean_lede('The one-sentence lede is: "Musk interviewed Trump [1]."')
    'Musk interviewed Trump [1].'
    >>> clean_lede("Opening sentence: It began late [2].\n\nNote: more.")
    'It began late [2].'
    >>> clean_lede('[1] (The Post) "It began late." more')
    ''
    >>> clean_lede('[3] (The Post) "It began 40 minutes late."')
    'It began 40 minutes late. [3]'
    >>> clean_lede("Musk interviewed Trump on X as more than a")
    ''
    >>> clean_lede('The opening sentence of a news briefing is: "Talks began in Bali [2]."')
    'Talks began in Bali [2].'
    """
    text = next((line for line in raw.strip().split("\n") if re.search(r"[A-Za-z]", line)), "")
    text = _PREAMBLE.sub("", text).strip()
    text = re.sub(r"^[^\"“:\[]{0,80}:\s*(?=[\"“])", "", text)  # 'The opening sentence of a briefing is: "..."'
    echo = re.match(r"^\[(\d+)\]\s*(?:\([^)]*\)\s*)?", text)  # the model repeated a passage line
    if echo:
        text = text[echo.end() :].strip() + f" [{echo.group(1)}]"
    if len(text) > 2 and text[0] in '"“' and text.rstrip()[-1] in '"”':
        text = text[1:-1].strip()
    elif len(text) > 2 and text[0] in '"“':
        m = re.match(r"^[\"“](.+?)[\"”]\s*((?:\[\d+\]\s*)*)\.?$", text)
        if m:
            text = m.group(1).strip() + (" " + m.group(2).strip() if m.group(2) else "")
    if not re.search(r"[.!?…][\"'”’)]*(?:\s*\[\d+(?:\s*,\s*\d+)*\])*\s*[.!?]?$", text):
        return ""  # cut off by the token limit: not a sentence
    return text
