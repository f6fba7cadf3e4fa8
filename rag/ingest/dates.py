"""Publication dates from the forms news pages and feeds write them in.

One function, :func:`parse_date`, reads a date field (page metadata, a feed entry,
a sidecar file) with the standard library's ISO and RFC 2822 parsers and
python-dateutil for the rest. A value missing its year, month or day is no date:
dateutil would fill the gap from today, and a made-up date would put an article
into the wrong ``--since`` window.
"""

from __future__ import annotations

import email.utils
import re
from datetime import date, datetime

from dateutil import parser as _dateutil

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
