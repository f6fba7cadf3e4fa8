"""Briefings as Markdown and HTML (what the CLI prints and the page shows)."""

from __future__ import annotations

import html

from rag.brief.briefing import Briefing
from rag.types import Citation


def _marks(cites: list[Citation] | list[dict]) -> str:
    ns = sorted({c["n"] if isinstance(c, dict) else c.n for c in cites})
    return "".join(f"[{n}]" for n in ns)


FACT_GROUPS = (
    ("several", "Reported by several sources"),
    ("key", "Other key facts (one source cited)"),
    ("alone", "One source alone (nothing close in the other articles)"),
)


def fact_groups(bullets: list) -> list[tuple[str, list]]:
    """The key facts under their labels, in :data:`FACT_GROUPS` order, empty groups left out.

    A bullet without a ``group`` (an older caller's) is grouped by how many articles it cites.
    """

    def group(it) -> str:
        return it.extra.get("group") or ("several" if it.extra.get("n_articles", 1) > 1 else "alone")

    return [(label, items) for key, label in FACT_GROUPS if (items := [it for it in bullets if group(it) == key])]


def to_markdown(b: Briefing) -> str:
    """One briefing as Markdown; ``[n]`` marks refer to the numbered sources at the end."""
    cov = b.coverage()
    lines = [f"# {b.headline}", "", f"{b.lede.text} {_marks(b.lede.citations)}", ""]
    outlets = ", ".join(cov["outlets"]) or "no outlet named"
    if cov["articles_without_outlet"]:
        outlets += f" (+{cov['articles_without_outlet']} without an outlet)"
    dates = cov["first_date"] if cov["first_date"] == cov["last_date"] else f"{cov['first_date']} to {cov['last_date']}"
    lines += [f"**Coverage:** {cov['n_articles']} articles; {outlets}; {dates or 'no dates'}. Event `{b.id}`.", ""]
    lines += ["## Summary", "", b.summary, ""]
    lines += ["## Key facts", ""]
    for label, items in fact_groups(b.bullets):
        lines += [f"{label}:", ""] + [f"- {it.text} {_marks(it.citations)}" for it in items] + [""]
    if b.timeline:
        lines += ["## Timeline", ""]
        for it in b.timeline:
            when = it.extra["date"] + (f" {it.extra['time']}" if it.extra.get("time") else "")
            lines.append(f"- **{when}** {it.text} {_marks(it.citations)}")
        lines.append("")
    if b.quotes:
        lines += ["## Who said what", ""]
        lines += [f"- **{q.extra['speaker']}**: “{q.extra['quote']}” {_marks(q.citations)}" for q in b.quotes]
        lines.append("")
    if b.conflicts:
        lines += ["## Where the outlets disagree", ""]
        for c in b.conflicts:
            lines.append(f"- **{c['measure']}**:")
            for sd in c["sides"]:
                lines.append(f"  - {sd['label']}: “{sd['text']}” {_marks(sd['citations'])}")
        lines.append("")
    lines += ["## Sources", ""]
    for a in b.articles_json():
        meta = ", ".join(x for x in (a["outlet"], a["published"] or a["date"], a["file"]) if x)
        # "- **10.**" rather than "10.": a Markdown ordered list clips two-digit numbers on the page.
        lines.append(f"- **{a['n']}.** {a['title'] or '(no headline)'} ({meta})")
    return "\n".join(lines).rstrip() + "\n"


_CSS = """
.briefing{font-family:system-ui,sans-serif;max-width:60rem;line-height:1.45}
.briefing .cite{font-size:.8em;vertical-align:super;cursor:help;color:#2456a6;text-decoration:none}
.briefing details{margin:.2rem 0 .6rem 1rem;font-size:.9em;color:#333}
.briefing blockquote{margin:.3rem 0;padding-left:.6rem;border-left:3px solid #ccc}
.briefing .meta{color:#555;font-size:.9em}
.briefing ol.sources{padding-left:2.6em}
"""


def _html_cites(cites: list[Citation] | list[dict]) -> str:
    rows = [c if isinstance(c, dict) else c.to_json() for c in cites]
    marks = "".join(
        f'<a class="cite" href="#src-{c["n"]}" title="{html.escape(c["quote"])}">[{c["n"]}]</a>' for c in rows
    )
    quotes = "".join(
        f'<blockquote data-article="{html.escape(c["article_id"])}" data-start="{c["start"]}" data-end="{c["end"]}">'
        f"{html.escape(c['quote'])} <span class=meta>— {html.escape(c['outlet'] or c['file'])}</span></blockquote>"
        for c in rows
    )
    return f"{marks}<details><summary>sources</summary>{quotes}</details>"


def to_html(b: Briefing) -> str:
    """One briefing as an HTML fragment (escaped; each citation's quote in a <details>)."""
    e = html.escape
    cov = b.coverage()
    parts = [f'<div class="briefing" id="{e(b.id)}"><style>{_CSS}</style>', f"<h2>{e(b.headline)}</h2>"]
    parts.append(f"<p><strong>{e(b.lede.text)}</strong> {_html_cites(b.lede.citations)}</p>")
    outlets = ", ".join(cov["outlets"]) or "no outlet named"
    parts.append(
        f'<p class="meta">{cov["n_articles"]} articles · {e(outlets)} · '
        f"{e(cov['first_date'])}{' to ' + e(cov['last_date']) if cov['last_date'] != cov['first_date'] else ''}"
        f" · event {e(b.id)}</p>"
    )
    parts.append(f"<h3>Summary</h3><p>{e(b.summary)}</p>")
    parts.append("<h3>Key facts</h3>")
    for label, items in fact_groups(b.bullets):
        parts.append(f'<p class="meta">{e(label)}:</p><ul>')
        parts += [f"<li>{e(it.text)} {_html_cites(it.citations)}</li>" for it in items]
        parts.append("</ul>")
    if b.timeline:
        parts.append("<h3>Timeline</h3><ul>")
        for it in b.timeline:
            when = it.extra["date"] + (f" {it.extra['time']}" if it.extra.get("time") else "")
            parts.append(f"<li><strong>{e(when)}</strong> {e(it.text)} {_html_cites(it.citations)}</li>")
        parts.append("</ul>")
    if b.quotes:
        parts.append("<h3>Who said what</h3><ul>")
        for q in b.quotes:
            parts.append(
                f"<li><strong>{e(q.extra['speaker'])}</strong>: “{e(q.extra['quote'])}” {_html_cites(q.citations)}</li>"
            )
        parts.append("</ul>")
    if b.conflicts:
        parts.append("<h3>Where the outlets disagree</h3><ul>")
        for c in b.conflicts:
            sides = "".join(
                f"<li>{e(sd['label'])}: “{e(sd['text'])}” {_html_cites(sd['citations'])}</li>" for sd in c["sides"]
            )
            parts.append(f"<li><strong>{e(c['measure'])}</strong><ul>{sides}</ul></li>")
        parts.append("</ul>")
    parts.append('<h3>Sources</h3><ol class="sources">')
    for a in b.articles_json():
        meta = ", ".join(x for x in (a["outlet"], a["published"] or a["date"], a["file"]) if x)
        parts.append(
            f'<li id="src-{a["n"]}">{e(a["title"] or "(no headline)")} <span class=meta>({e(meta)})</span></li>'
        )
    parts.append("</ol></div>")
    return "\n".join(parts)


def to_html_page(briefings: list[Briefing]) -> str:
    body = "\n<hr>\n".join(to_html(b) for b in briefings)
    return f'<!doctype html>\n<html lang="en"><meta charset="utf-8"><title>Briefings</title>\n<body>\n{body}\n</body></html>\n'


def digest_to_markdown(entries: list, since: str, until: str) -> str:
    """A digest (:func:`rag.brief.digest.build_digest`) as Markdown: one section per event, most covered first."""
    span = "everything" if since.startswith("0000") and until.startswith("9999") else f"{since} to {until}"
    lines = [
        f"# Digest: {span}",
        "",
        f"{len(entries)} event{'s' if len(entries) != 1 else ''}, most covered first.",
        "",
    ]
    for rank, e in enumerate(entries, 1):
        b = e.briefing
        outlets = ", ".join(e.outlets_in_window) or "no outlet named"
        lines += [f"## {rank}. {b.headline}", "", f"{b.lede.text} {_marks(b.lede.citations)}", ""]
        lines += [f"**Coverage in the window:** {e.articles_in_window} articles; {outlets}. Event `{b.id}`.", ""]
        lines += [f"- {it.text} {_marks(it.citations)}" for it in b.bullets[:3]]
        if e.continues:
            lines += ["", "**New since the last digest:**" if e.new else "_Nothing new since the last digest._"]
            lines += [f"- {it.text} {_marks(it.citations)}" for it in e.new]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
