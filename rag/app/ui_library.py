"""Pure functions for the page's Library, Evals and Briefings tabs and the example questions."""

from __future__ import annotations

from rag.app.ui_messages import escape_markdown

# -- library -------------------------------------------------------------------------
LIBRARY_HEADERS = ["Headline", "Outlet", "Date", "Passages", "File"]


def library_rows(sources: list[dict]) -> list[list]:
    """Rows of the Library table from :meth:`rag.api.Rag.sources`, newest first."""
    rows = sorted(sources, key=lambda r: (r.get("published") or "", r.get("file", "")), reverse=True)
    return [
        [
            r.get("title") or "(no headline)",
            r.get("outlet") or "—",
            r.get("published") or "—",
            int(r.get("chunks", 0)),
            r.get("file", ""),
        ]
        for r in rows
    ]


def article_choices(sources: list[dict]) -> list[tuple[str, str]]:
    """(label, article id) pairs for the remove picker.

    >>> article_choices([{"article_id": "ab12", "file": "a.txt", "title": "T", "outlet": "O"}])
    [('O — T (a.txt · ab12)', 'ab12')]
    """
    out = []
    for r in sources:
        name = " — ".join(x for x in (r.get("outlet"), r.get("title")) if x) or "(no headline)"
        out.append((f"{name} ({r.get('file', '')} · {r['article_id']})", r["article_id"]))
    return sorted(out)


def library_summary(sources: list[dict]) -> str:
    n = len(sources)
    chunks = sum(int(r.get("chunks", 0)) for r in sources)
    if not n:
        return "The index is empty: upload articles below."
    return f"{n} article{'s' if n != 1 else ''} · {chunks} passages indexed"


def _base(name: str) -> str:
    return name.replace("\\", "/").rsplit("/", 1)[-1]


def upload_lines(report: dict, uploaded: list[str]) -> str:
    """One Markdown line per uploaded file from an ingest report (``IngestReport.to_json()``).

    >>> upload_lines({"added": ["a.txt"], "skipped": [{"path": "/t/b.pdf", "reason": "unsupported file type .pdf"}]},
    ...              ["/t/a.txt", "/t/b.pdf"])
    '- **a.txt**: added\\n- **b.pdf**: skipped (unsupported file type .pdf)'
    >>> upload_lines({"added": ["a.txt"], "warnings": [{"path": "/up/a.txt", "reason": "'published' is not a date"}]},
    ...              ["/t/a.txt"])
    "- **a.txt**: added; warning: 'published' is not a date"
    """
    lines = []
    for path in uploaded:
        name = _base(path)

        def mine(entry: str, name: str = name) -> bool:
            base = _base(entry)
            return base == name or base.startswith(name + "#")

        added = [x for x in report.get("added", []) + report.get("updated", []) if mine(x)]
        same = [x for x in report.get("unchanged", []) if mine(x)]
        skipped = [s for s in report.get("skipped", []) if mine(s.get("path", ""))]
        parts = []
        if added:
            parts.append("added" if len(added) == 1 else f"{len(added)} articles added")
        if same:
            parts.append("already in the index" if len(same) == 1 else f"{len(same)} already in the index")
        for s in skipped:
            where = _base(s.get("path", ""))
            what = f" {where[len(name) :]}" if where != name else ""
            parts.append(f"skipped{what} ({s.get('reason', 'no reason given')})")
        parts += [f"warning: {w.get('reason', '')}" for w in report.get("warnings", []) if mine(w.get("path", ""))]
        if not parts:
            parts.append("nothing to add")
        lines.append(f"- **{escape_markdown(name)}**: " + "; ".join(parts))
    return "\n".join(lines)


# -- examples -------------------------------------------------------------------------
SEED_EXAMPLES = [
    "What did Musk blame for the late start of the conversation?",
    "How long did the Trump–Musk conversation last?",
    "What did the Harris campaign say about the interview?",
    "How many followers does Trump have on Truth Social?",
]


def example_questions(sources: list[dict], seed_files: set[str]) -> list[str]:
    """Example questions about the bundled seed articles, when any of them is in the index."""
    return SEED_EXAMPLES if any(r.get("file") in seed_files for r in sources) else []


# -- evals and briefings -----------------------------------------------------------------
def event_label(title: str, n_articles: int, event_id: str) -> str:
    """The event picker's label for one event.

    >>> event_label("Trump and Musk on X", 5, "ev-e1a2b3c4d5")
    'Trump and Musk on X · 5 articles · ev-e1a2b3c4d5'
    """
    return f"{title or '(untitled event)'} · {n_articles} article{'s' if n_articles != 1 else ''} · {event_id}"


def metrics_markdown(metrics: dict) -> str:
    """A two-column table of the top-level numeric metrics.

    >>> print(metrics_markdown({"recall": 0.91234, "n": 85, "by_type": {}}))
    | Metric | Value |
    |---|---|
    | recall | 0.912 |
    | n | 85 |
    """
    rows = []
    for k, v in metrics.items():
        if isinstance(v, bool) or not isinstance(v, int | float):
            continue
        value = f"{v:.3f}" if isinstance(v, float) else str(v)
        rows.append(f"| {escape_markdown(str(k))} | {value} |")
    if not rows:
        return ""
    return "| Metric | Value |\n|---|---|\n" + "\n".join(rows)
