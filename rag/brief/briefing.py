"""A briefing and its parts (items with citations), as the renderers and the JSON output see them."""

from __future__ import annotations

from dataclasses import dataclass, field

from rag.brief.events import Event
from rag.types import Citation


@dataclass
class Item:
    """A bullet, timeline entry, quote or conflict side: text plus its citations."""

    text: str
    citations: list[Citation]
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"text": self.text, **self.extra, "citations": [c.to_json() for c in self.citations]}


@dataclass
class Briefing:
    event: Event
    headline: str
    lede: Item
    lede_mode: str  # "generated" | "copied" | "extractive" (see lede())
    bullets: list[Item]
    timeline: list[Item]
    quotes: list[Item]
    conflicts: list[dict]
    summary: str
    summary_items: list[Item]
    words: int
    timings: dict = field(default_factory=dict)
    lede_check: dict = field(default_factory=dict)  # the model's reply and the sentences verification dropped

    @property
    def id(self) -> str:
        return self.event.id

    @property
    def title(self) -> str:
        return self.event.title

    def articles_json(self) -> list[dict]:
        return [
            {
                "n": i + 1,
                "article_id": a.id,
                "file": a.file,
                "title": a.title,
                "outlet": a.outlet,
                "published": a.published,
                "date": d,
            }
            for i, (a, d) in enumerate(zip(self.event.articles, self.event.dates))
        ]

    def coverage(self) -> dict:
        outlets = sorted({a.outlet for a in self.event.articles if a.outlet})
        unnamed = sum(1 for a in self.event.articles if not a.outlet)
        return {
            "n_articles": len(self.event.articles),
            "outlets": outlets,
            "articles_without_outlet": unnamed,
            "dates": sorted({d for d in self.event.dates if d}),
            "first_date": self.event.first_date,
            "last_date": self.event.last_date,
        }

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "title": self.title,
            "headline": self.headline,
            "lede": {**self.lede.to_json(), "mode": self.lede_mode, **self.lede_check},
            "articles": self.articles_json(),
            "coverage": self.coverage(),
            "summary": self.summary,
            "summary_words": len(self.summary.split()),
            "summary_sentences": [s.to_json() for s in self.summary_items],
            "bullets": [b.to_json() for b in self.bullets],
            "timeline": [t.to_json() for t in self.timeline],
            "quotes": [q.to_json() for q in self.quotes],
            "conflicts": self.conflicts,
            "timings": self.timings,
        }

    def all_citations(self) -> list[Citation]:
        out = list(self.lede.citations)
        for group in (self.bullets, self.timeline, self.quotes, self.summary_items):
            for it in group:
                out += it.citations
        for c in self.conflicts:
            for side in c["sides"]:
                out += [_citation_from_json(x) for x in side["citations"]]
        return out


def _citation_from_json(d: dict) -> Citation:
    return Citation(**{k: d[k] for k in Citation.__dataclass_fields__ if k in d})
