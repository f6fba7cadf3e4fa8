"""Dates: filter dates, the dates articles give, and times in article text resolved against the article's date.

One function, :func:`parse_date`, reads every date written in a field or found in
text (page metadata, a feed entry, a sidecar file, a dateline, a date in a
sentence) with the standard library's ISO and RFC 2822 parsers and python-dateutil
for the rest. A value missing its year, month or day is no date: dateutil would
fill the gap from today, and a made-up date would put an article into the wrong
``--since`` window. ``iso_day`` only checks a filter value the user typed
(YYYY, YYYY-MM or YYYY-MM-DD), and ``resolve_time`` resolves what is relative
("Monday evening", "last August") against the article's date.
"""

from __future__ import annotations

import calendar
import datetime as dt
import email.utils
import re
from datetime import date, datetime, timedelta

from dateutil import parser as _dateutil

from rag.errors import RagError

# The one list of month names; the patterns below and in rag.brief are built from it.
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def iso_day(value: str | None, end: bool = False) -> str | None:
    """A filter date as YYYY-MM-DD; a year or a month stands for its first day, or its
    last with ``end``. Anything else is a user error, not a filter that matches nothing.

    >>> iso_day("2024-08-13"), iso_day("2024"), iso_day("2024-08", end=True)
    ('2024-08-13', '2024-01-01', '2024-08-31')
    >>> iso_day("last week")
    Traceback (most recent call last):
    rag.errors.RagError: not a date: 'last week' (use YYYY-MM-DD, YYYY-MM or YYYY)
    """
    if value is None or value == "":
        return None
    m = re.fullmatch(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", value.strip())
    try:
        if not m:
            raise ValueError
        year, month, day = int(m.group(1)), int(m.group(2) or (12 if end else 1)), m.group(3)
        last = calendar.monthrange(year, month)[1]
        return dt.date(year, month, int(day) if day else (last if end else 1)).isoformat()
    except ValueError:
        raise RagError(f"not a date: {value!r} (use YYYY-MM-DD, YYYY-MM or YYYY)") from None


# Two defaults that differ in every field: a field the text does not give comes out
# different in the two parses, which tells a complete date from a partial one.
_DEFAULT_A = datetime(1904, 1, 1)
_DEFAULT_B = datetime(1905, 2, 2)
_MAX_LEN = 80  # a date field, not a paragraph
_YEAR = re.compile(r"(?:19|20)\d\d")  # "1 2 3" is no date, though dateutil reads one


def parse_date(text: object) -> date | None:
    """The calendar date written in ``text``, or None when it holds no full date.

    The date is the one written (a time zone offset does not move it). An ambiguous
    numeric form reads month first, as in US news ("03/08/2024" is 8 March);
    "13/08/2024" can only be day first.

    >>> [str(parse_date(s)) for s in ("Aug. 13, 2024", "Sept. 3, 2024", "Tue, 13 Aug 2024 10:00:00 GMT")]
    ['2024-08-13', '2024-09-03', '2024-08-13']
    >>> [str(parse_date(s)) for s in ("13/08/2024", "2024-08-13T23:30:00-05:00", "13 August 2024")]
    ['2024-08-13', '2024-08-13', '2024-08-13']
    >>> [parse_date(s) for s in ("soon", "March 2024", "2024", "1 2 3", "", None)]
    [None, None, None, None, None, None]
    """
    if isinstance(text, datetime):
        return text.date()
    if isinstance(text, date):
        return text
    if not isinstance(text, str):
        return None
    s = text.strip()
    if not s or len(s) > _MAX_LEN:
        return None
    if not _YEAR.search(s):
        return None
    return _iso(s) or _rfc2822(s) or _dateutil_date(s)


def _iso(s: str) -> date | None:
    try:
        return datetime.fromisoformat(s).date()
    except ValueError:
        return None


def _rfc2822(s: str) -> date | None:
    """'Tue, 13 Aug 2024 10:00:00 GMT', the form of RSS pubDate and HTTP headers."""
    try:
        return email.utils.parsedate_to_datetime(s).date()
    except (TypeError, ValueError, IndexError):
        return None


def _dateutil_date(s: str) -> date | None:
    for fuzzy in (False, True):  # fuzzy: "Updated Aug. 13, 2024 at 5 p.m."
        try:
            a = _dateutil.parse(s, default=_DEFAULT_A, fuzzy=fuzzy, ignoretz=True)
            b = _dateutil.parse(s, default=_DEFAULT_B, fuzzy=fuzzy, ignoretz=True)
        except (_dateutil.ParserError, ValueError, OverflowError):
            continue
        if a.date() == b.date():
            return a.date()
        return None  # a partial date ("March 2024")
    return None


def iso_date(text: object) -> str:
    """``parse_date`` as the ISO string the index stores; '' when there is no date.

    >>> iso_date("Sept. 3, 2024"), iso_date("someday")
    ('2024-09-03', '')
    """
    d = parse_date(text)
    return d.isoformat() if d else ""


# -- datelines: the date a plain-text article shows in its first lines -----------------
_DATELINE_LINES = 4  # the headline, a standfirst, a byline, then the dateline at the latest
_DATELINE = re.compile(
    r"^\s*(?:(?:published|updated|posted|date)\b\s*:?\s*(?:on\s+)?)?"
    r"((?:(?:Mon|Tues?|Wed(?:nes)?|Thu(?:rs)?|Fri|Sat(?:ur)?|Sun)(?:day)?\.?,?\s+)?"
    r"(?:[A-Z][a-z]{2,8}\.?\s+\d{1,2},?\s+\d{4}"  # January 8, 2005 / Aug. 13, 2024
    r"|\d{1,2}\s+[A-Z][a-z]{2,8}\.?,?\s+\d{4}"  # 8 January 2005
    r"|\d{4}[-/]\d{1,2}[-/]\d{1,2}"  # 2005-01-08 / 2005/01/08
    r"|\d{1,2}/\d{1,2}/\d{4}))"  # 13/08/2024
    r"(?!\d)",
    re.IGNORECASE,
)


def opening_date(line: str) -> tuple[str, int]:
    """The ISO date a line opens with and the offset where that date ends; ``("", 0)`` if none.

    A dateline may run into the first word of the story when a page is copied
    ("2005Through"): a digit may not follow the date, a letter may.

    >>> opening_date("Saturday, January 8, 2005")
    ('2005-01-08', 25)
    >>> opening_date("2005/01/08 Tsunami aid donations"), opening_date("Published: Aug. 13, 2024, 5:00 p.m.")
    (('2005-01-08', 10), ('2024-08-13', 24))
    >>> opening_date("Tuesday, January 18, 2005Through a telethon")[0]
    '2005-01-18'
    >>> opening_date("Musk spoke on August 13, 2024."), opening_date("2024 was a year of 2024/13/45")
    (('', 0), ('', 0))
    """
    m = _DATELINE.match(line)
    if not m:
        return "", 0
    found = iso_date(m.group(1))
    return (found, m.end()) if found else ("", 0)


def dateline(text: str) -> str:
    """The date of an article's dateline: the first of its first four lines that opens with a date.

    >>> dateline("Rain in Leeds\\nTuesday, July 12, 2005\\nIt rained.")
    '2005-07-12'
    >>> dateline("No date here.\\nNone at all.\\nOn May 3, 2024 it rained.")
    ''
    """
    for line in text.split("\n")[:_DATELINE_LINES]:
        found, _ = opening_date(line)
        if found:
            return found
    return ""


# -- times in article text (for briefing timelines) -----------------------------
_MONTH_NAMES = [m.lower() for m in MONTH_NAMES]
_MON = {m[:3]: i + 1 for i, m in enumerate(_MONTH_NAMES)} | {"sept": 9}
MONTH_RE = r"(?:Jan(?:uary|\.)?|Feb(?:ruary|\.)?|Mar(?:ch|\.)?|Apr(?:il|\.)?|May|June?|July?|Aug(?:ust|\.)?|Sept?(?:ember|\.)?|Oct(?:ober|\.)?|Nov(?:ember|\.)?|Dec(?:ember|\.)?)"
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_TIME_PATTERNS = [
    ("iso", re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")),
    ("mdy", re.compile(rf"\b({MONTH_RE})\s+(\d{{1,2}})(?:st|nd|rd|th)?,\s+(\d{{4}})\b")),
    ("dmy", re.compile(rf"\b(\d{{1,2}})\s+({MONTH_RE})\s+(\d{{4}})\b")),
    ("md", re.compile(rf"\b({MONTH_RE})\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?!,?\s*\d{{4}})")),
    ("dm", re.compile(rf"\b(\d{{1,2}})\s+({MONTH_RE})\b(?!\s+\d{{4}})")),
    ("my", re.compile(rf"\b({MONTH_RE})\s+(?:of\s+)?(\d{{4}})\b")),
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
    ("month", re.compile(rf"\b(?:in|since|until|by|last|early|late|mid-?)\s+({MONTH_RE})\b(?!\s+\d)")),
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
    if kind in ("iso", "mdy", "dmy"):
        return iso_date(m.group(0))
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
