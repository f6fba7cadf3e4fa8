"""A briefing's coverage and timeline as one inline SVG (no network, no plotting library).

Top: articles per outlet (bars). Bottom: the timeline on a date axis, one dot per
entry (its text in the dot's tooltip) above the articles' publication dates.
"""

from __future__ import annotations

import datetime as dt
import html
from collections import Counter

from rag.brief.briefing import Briefing

WIDTH, BAR_H, GAP = 640, 18, 6
LABEL_W = 150


def _day(iso: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(iso[:10])
    except ValueError:
        return None


def outlet_counts(b: Briefing) -> list[tuple[str, int]]:
    """(outlet, articles), most articles first; articles without an outlet count under their file name."""
    c = Counter(a.outlet or "(no outlet)" for a in b.event.articles)
    return sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))


def _x(day: dt.date, lo: dt.date, hi: dt.date) -> float:
    span = max(1, (hi - lo).days)
    return LABEL_W + (WIDTH - LABEL_W - 20) * (day - lo).days / span


def coverage_svg(b: Briefing) -> str:
    """The chart of one briefing as an ``<svg>`` element (text escaped)."""
    e = html.escape
    rows = outlet_counts(b)
    top = max(n for _, n in rows) if rows else 1
    parts: list[str] = []
    y = 22
    parts.append('<text x="0" y="14" font-weight="bold">Articles by outlet</text>')
    for outlet, n in rows:
        w = (WIDTH - LABEL_W - 40) * n / top
        parts.append(f'<text x="{LABEL_W - 6}" y="{y + 13}" text-anchor="end">{e(outlet[:24])}</text>')
        parts.append(
            f'<rect x="{LABEL_W}" y="{y}" width="{w:.1f}" height="{BAR_H}" fill="#4c78a8"><title>{n}</title></rect>'
        )
        parts.append(f'<text x="{LABEL_W + w + 4:.1f}" y="{y + 13}">{n}</text>')
        y += BAR_H + GAP
    days = [d for d in (_day(x) for x in b.event.dates if x) if d]
    entries = [(d, it) for it in b.timeline if (d := _day(it.extra.get("date", "")))]
    every = days + [d for d, _ in entries]
    if every:
        lo, hi = min(every), max(every)
        y += 24
        parts.append(f'<text x="0" y="{y - 8}" font-weight="bold">Timeline</text>')
        axis = y + 40
        parts.append(f'<line x1="{LABEL_W}" y1="{axis}" x2="{WIDTH - 20}" y2="{axis}" stroke="#888"/>')
        parts.append(f'<text x="{LABEL_W - 6}" y="{axis - 18}" text-anchor="end">events</text>')
        parts.append(f'<text x="{LABEL_W - 6}" y="{axis + 20}" text-anchor="end">articles</text>')
        for i, (d, it) in enumerate(entries):
            cx = _x(d, lo, hi)
            parts.append(
                f'<circle cx="{cx:.1f}" cy="{axis - 22 + 6 * (i % 3)}" r="5" fill="#e45756">'
                f"<title>{e(d.isoformat())}: {e(it.text)}</title></circle>"
            )
        for d, n in sorted(Counter(days).items()):
            cx = _x(d, lo, hi)
            parts.append(
                f'<rect x="{cx - 3:.1f}" y="{axis + 8}" width="6" height="{4 + 4 * n}" fill="#72b7b2">'
                f"<title>{e(d.isoformat())}: {n} article{'s' if n != 1 else ''}</title></rect>"
            )
        parts.append(f'<text x="{LABEL_W}" y="{axis + 50}">{e(lo.isoformat())}</text>')
        parts.append(f'<text x="{WIDTH - 20}" y="{axis + 50}" text-anchor="end">{e(hi.isoformat())}</text>')
        y = axis + 60
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="coverage and timeline" '
        f'width="{WIDTH}" height="{y}" viewBox="0 0 {WIDTH} {y}" font-family="system-ui,sans-serif" '
        f'font-size="12">{"".join(parts)}</svg>'
    )
