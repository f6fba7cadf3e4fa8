"""A digest across events: what happened between two dates, the most covered stories first.

- :func:`in_window` — the events with articles dated in [since, until] (an undated
  article counts with its event's other dates);
- :func:`rank` — by coverage in the window: outlets, then articles, then the latest date;
- :func:`whats_new` — for an event seen in the previous digest (it shares articles
  with an entry there), the facts resting on articles that digest did not have;
- :func:`load_state` / :func:`save_state` — the previous digest, kept as JSON in the
  data folder (``digest.json``): per event its article ids and fact texts.

The briefings themselves come from :mod:`rag.brief.build`; this module only picks,
orders and compares, so it is pure logic apart from the state file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from rag.brief.briefing import Briefing, Item
from rag.brief.events import Event
from rag.errors import RagError
from rag.text import iso_day

STATE_FILE = "digest.json"
TOP_FACTS = 3


@dataclass
class Entry:
    """One event of a digest."""

    briefing: Briefing
    articles_in_window: int
    outlets_in_window: list[str]
    new: list[Item] = field(default_factory=list)  # facts from articles the previous digest did not have
    continues: bool = False  # the previous digest had this event

    def to_json(self) -> dict:
        b = self.briefing
        return {
            "id": b.id,
            "headline": b.headline,
            "lede": b.lede.to_json() | {"mode": b.lede_mode},
            "articles_in_window": self.articles_in_window,
            "outlets_in_window": self.outlets_in_window,
            "top_facts": [x.to_json() for x in b.bullets[:TOP_FACTS]],
            "continues": self.continues,
            "new_since_last_digest": [x.to_json() for x in self.new],
        }


def window(since: str | None, until: str | None) -> tuple[str, str]:
    """The window as two ISO days (open ends are the widest dates); since after until is an error.

    >>> window("2010-02", "2010-03")
    ('2010-02-01', '2010-03-31')
    >>> window("2010-03-02", "2010-03-01")
    Traceback (most recent call last):
    rag.errors.RagError: --since 2010-03-02 is after --until 2010-03-01
    """
    lo = iso_day(since) or "0000-01-01"
    hi = iso_day(until, end=True) or "9999-12-31"
    if lo > hi:
        raise RagError(f"--since {since} is after --until {until}")
    return lo, hi


def _dates(event: Event) -> list[str]:
    known = sorted(d for d in event.dates if d)
    mid = known[len(known) // 2] if known else ""
    return [d or mid for d in event.dates]


def in_window(events: list[Event], lo: str, hi: str) -> list[tuple[Event, list[int]]]:
    """Each event with articles dated in [lo, hi], and those articles' positions."""
    out = []
    for ev in events:
        ks = [k for k, d in enumerate(_dates(ev)) if d and lo <= d <= hi]
        if ks:
            out.append((ev, ks))
    return out


def rank(rows: list[tuple[Event, list[int]]]) -> list[tuple[Event, list[int]]]:
    """Most outlets in the window first, then most articles, then the latest date."""

    def key(row: tuple[Event, list[int]]) -> tuple:
        ev, ks = row
        outlets = {ev.articles[k].outlet or ev.articles[k].file for k in ks}
        latest = max((_dates(ev)[k] for k in ks), default="")
        return (-len(outlets), -len(ks), _neg(latest), ev.id)

    return sorted(rows, key=key)


def _neg(day: str) -> str:
    """A key that sorts later days first."""
    return "".join(chr(0x7F - ord(c)) for c in day)


def previous_entry(state: dict, event: Event) -> dict | None:
    """The previous digest's entry sharing most articles with ``event`` (None if none)."""
    ids = set(event.article_ids)
    best, best_n = None, 0
    for entry in state.get("events", {}).values():
        n = len(ids & set(entry.get("articles", [])))
        if n > best_n:
            best, best_n = entry, n
    return best


def whats_new(prev: dict | None, b: Briefing, limit: int = TOP_FACTS) -> list[Item]:
    """Facts of ``b`` citing articles that ``prev`` did not have and not already reported there."""
    if prev is None:
        return []
    old_ids = set(prev.get("articles", []))
    old_facts = set(prev.get("facts", []))
    new_ns = {k + 1 for k, a in enumerate(b.event.articles) if a.id not in old_ids}
    out = []
    for it in b.bullets + b.timeline:
        if it.text in old_facts or not any(c.n in new_ns for c in it.citations):
            continue
        if all(x.text != it.text for x in out):
            out.append(it)
        if len(out) >= limit:
            break
    return out


def state_path(data_dir: Path) -> Path:
    return Path(data_dir) / STATE_FILE


def load_state(path: Path) -> dict:
    """The previous digest ({} when there is none); an unreadable file is an error, not a fresh start."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise RagError(f"cannot read the previous digest {path}: {exc} (delete it to start afresh)") from None
    return data if isinstance(data, dict) else {}


def save_state(path: Path, entries: list[Entry], lo: str, hi: str) -> None:
    data = {
        "since": lo,
        "until": hi,
        "events": {
            e.briefing.id: {
                "articles": e.briefing.event.article_ids,
                "facts": [x.text for x in e.briefing.bullets + e.briefing.timeline],
            }
            for e in entries
        },
    }
    tmp = path.with_suffix(".tmp")
    try:
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        raise RagError(f"cannot write the digest state {path}: {exc.strerror or exc}") from None


def entries(rows: list[tuple[Event, list[int]]], briefings: dict[str, Briefing], state: dict) -> list[Entry]:
    """Digest entries in rank order, each compared with the previous digest."""
    out = []
    for ev, ks in rank(rows):
        b = briefings[ev.id]
        prev = previous_entry(state, ev)
        outlets = sorted({ev.articles[k].outlet for k in ks if ev.articles[k].outlet})
        out.append(Entry(b, len(ks), outlets, whats_new(prev, b), prev is not None))
    return out


def build_digest(rag, since: str | None, until: str | None, words: int = 250, use_llm: bool = True) -> list[Entry]:
    """The digest of ``rag``'s events in the window; remembers it in the data folder for the next one."""
    from rag.brief.build import build_briefings
    from rag.brief.events import find_events

    lo, hi = window(since, until)
    rows = in_window(find_events(rag), lo, hi)
    if not rows:
        raise RagError(f"no articles dated from {lo} to {hi} (list the events with `rag brief --format json`)")
    wanted = {ev.id for ev, _ in rows}
    briefings = {b.id: b for b in build_briefings(rag, words=words, use_llm=use_llm) if b.id in wanted}
    path = state_path(rag.settings.data_dir)
    out = entries(rows, briefings, load_state(path))
    save_state(path, out, lo, hi)
    return out
