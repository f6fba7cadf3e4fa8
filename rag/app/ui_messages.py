"""Pure functions that turn answers, sources and reports into what the page shows.

Nothing here calls the model, the index or Gradio: the page's callbacks fetch
data through :class:`rag.api.Rag` and hand it to these functions, which are
unit-tested on their own (tests/test_ui_messages.py).

Citation markers: an answer's ``[n]`` becomes ``<a class="cite" href="#src-T-n">``
where ``T`` is the conversation turn; the sources panel holds a card with the
matching ``id``. A small script in the page (``rag/app/static/cite.js``) scrolls to and
highlights the card when a marker is clicked.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from rag.types import Answer, Article, Citation

MARKER = re.compile(r"\[(\d+)\]")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~$-])")
CONTEXT_CHARS = 360  # most characters of the paragraph shown on each side of a quote

NOT_IN_ARTICLES = "Not in the articles"
EMPTY_PANEL = (
    '<div class="src-empty"><p class="src-empty-title">Sources</p>'
    "<p>Every sentence of an answer links to the passage it comes from. Ask a question and the passages "
    "appear here, with the quoted words highlighted in their paragraph.</p></div>"
)


# -- answer text ------------------------------------------------------------------
def escape_markdown(text: str) -> str:
    """Text that the chat's Markdown renderer shows literally.

    >>> escape_markdown("a *b* <i>")
    'a \\\\*b\\\\* &lt;i&gt;'
    """
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


def cite_id(turn: int, n: int, prefix: str = "src") -> str:
    return f"{prefix}-{turn}-{n}"


def cite_link(turn: int, n: int, prefix: str = "src") -> str:
    target = cite_id(turn, n, prefix)
    return f'<a class="cite" href="#{target}" data-target="{target}" title="Show source {n}">[{n}]</a>'


def answer_markdown(text: str, turn: int, valid: set[int] | None = None, prefix: str = "src") -> str:
    """The answer as Markdown: text escaped, each ``[n]`` (in ``valid``, if given) a link to its source card.

    >>> answer_markdown("Late [1].", 2)
    'Late <a class="cite" href="#src-2-1" data-target="src-2-1" title="Show source 1">[1]</a>.'
    """
    out: list[str] = []
    pos = 0
    for m in MARKER.finditer(text):
        out.append(escape_markdown(text[pos : m.start()]))
        n = int(m.group(1))
        out.append(cite_link(turn, n, prefix) if valid is None or n in valid else escape_markdown(m.group(0)))
        pos = m.end()
    out.append(escape_markdown(text[pos:]))
    return "".join(out)


def link_markers(markdown: str, turn: int, valid: set[int], prefix: str = "src") -> str:
    """Markdown (left as is) with each ``[n]`` in ``valid`` turned into a link; ``[text](url)`` links are kept.

    >>> link_markers("**Late** [2] and [9]. See [1](x)", 1, {1, 2}, "brief")
    '**Late** <a class="cite" href="#brief-1-2" data-target="brief-1-2" title="Show source 2">[2]</a> and [9]. See [1](x)'
    """

    def repl(m: re.Match) -> str:
        n = int(m.group(1))
        return cite_link(turn, n, prefix) if n in valid else m.group(0)

    return re.sub(r"\[(\d+)\](?!\()", repl, markdown)


def streaming_markdown(text: str) -> str:
    """Text still streaming: markers are dropped (they are renumbered at the end) and a cursor shown.

    >>> streaming_markdown("It began late [3]. ")
    'It began late. ▍'
    """
    clean = re.sub(r"\s*\[\d+\]", "", text).strip()
    return (escape_markdown(clean) + " ▍").lstrip()


def refusal_markdown(n_related: int) -> str:
    tail = (
        " The closest passages are beside the chat, so you can check for yourself."
        if n_related
        else " Nothing in the index comes close."
    )
    return f"**{NOT_IN_ARTICLES}.** None of the ingested articles answers this question.{tail}"


def error_markdown(message: str) -> str:
    return f"**Could not answer:** {escape_markdown(message)}"


def final_markdown(answer: Answer, turn: int) -> str:
    """The finished answer as it appears in the chat."""
    if answer.status == "refused":
        return refusal_markdown(len(answer.related))
    md = answer_markdown(answer.answer, turn, {c.n for c in answer.citations})
    n = len(answer.citations)
    if not n:
        return md
    sources = f"{n} source{'s' if n != 1 else ''}"
    if answer.mode == "extractive":
        note = f"Quoted directly from the articles ({sources}). Click a number to read the passage in context."
    elif answer.mode == "copied":
        note = f"In the words of the article ({sources}). Click the number to read the passage in context."
    else:
        note = f"Based on {sources}. Click a number to read the passage it comes from."
    return f'{md}\n\n<span class="answer-note">{note}</span>'


# -- sources panel ------------------------------------------------------------------
Segment = tuple[str, bool]  # (text, highlighted)


@dataclass
class SourceView:
    """One source as the sources panel shows it: its paragraphs with the quoted words marked."""

    n: int
    article_id: str
    source: str  # outlet, else file name
    title: str
    published: str
    paragraphs: list[list[Segment]]
    file: str = ""
    headline: bool = True  # False when ``title`` is the article's opening words (it has no headline)

    @property
    def quotes(self) -> list[str]:
        return [t for para in self.paragraphs for t, marked in para if marked]


@dataclass
class Turn:
    """One question of a conversation: what the chat and the sources panel show for it."""

    turn: int
    question: str
    status: str = "pending"  # pending | answered | refused | error
    shown: str = ""  # Markdown in the chat bubble
    answer_text: str = ""  # the plain answer (with [n]) passed back as history for follow-ups
    sources: list[SourceView] = field(default_factory=list)


def _trim_left(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[-limit:]
    space = cut.find(" ")
    return "…" + (cut[space + 1 :] if 0 <= space < 40 else cut)


def _trim_right(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit - 40 else cut) + "…"


def locate(text: str, start: int, end: int, quote: str) -> tuple[int, int] | None:
    """Where ``quote`` is in ``text``: the given offsets when they hold it, else its first occurrence.

    >>> locate("abc abc", 4, 7, "abc"), locate("abc abc", 0, 2, "c a"), locate("abc", 0, 1, "zz")
    ((4, 7), (2, 5), None)
    """
    if quote and 0 <= start < end <= len(text) and text[start:end] == quote:
        return start, end
    found = text.find(quote) if quote else -1
    return (found, found + len(quote)) if found >= 0 else None


def highlight_paragraphs(text: str, spans: list[tuple[int, int]], limit: int = CONTEXT_CHARS) -> list[list[Segment]]:
    """The paragraphs (lines of ``text``) holding ``spans``, in article order, as segments with the spans marked.

    Spans in one paragraph share it; overlapping spans are merged. Text before the first and
    after the last mark of a paragraph is trimmed to ``limit`` characters at a word boundary.

    >>> highlight_paragraphs("Title\\nIt was late. Very late. Still late.\\nEnd", [(6, 18), (30, 41)])
    [[('It was late.', True), (' Very late. ', False), ('Still late.', True)]]
    """
    spans = sorted((s, e) for s, e in spans if 0 <= s < e <= len(text))
    paras: list[list[int]] = []  # [p_start, p_end, span indexes...]
    for i, (s, e) in enumerate(spans):
        p0 = text.rfind("\n", 0, s) + 1
        p1 = text.find("\n", e)
        p1 = len(text) if p1 < 0 else p1
        if paras and p0 < paras[-1][1]:  # the same paragraph (or a span reaching into it)
            paras[-1][1] = max(paras[-1][1], p1)
            paras[-1].append(i)
        else:
            paras.append([p0, p1, i])
    out: list[list[Segment]] = []
    for p0, p1, *idx in paras:
        merged: list[list[int]] = []
        for s, e in (spans[i] for i in idx):
            if merged and s <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([s, e])
        segs: list[Segment] = []
        pos = p0
        for k, (s, e) in enumerate(merged):
            gap = text[pos:s]
            if k == 0:
                gap = _trim_left(gap, limit)
            if gap:
                segs.append((gap, False))
            segs.append((text[s:e], True))
            pos = e
        tail = _trim_right(text[pos:p1], limit)
        if tail:
            segs.append((tail, False))
        out.append(segs)
    return out


def _card_fields(c: Citation, article: Article | None) -> dict:
    title = c.title or (article.display_title if article else "")
    return {
        "n": c.n,
        "article_id": c.article_id,
        "source": c.outlet or (article.label if article else "") or c.file,
        "title": title or c.file,
        "published": c.published or (article.published if article else ""),
        "file": c.file,
        "headline": bool(c.title),
    }


def source_view(c: Citation, article: Article | None) -> SourceView:
    """A citation with its paragraph; without the article (e.g. removed since) the quote alone."""
    span = locate(article.text, c.start, c.end, c.quote) if article is not None else None
    paragraphs = highlight_paragraphs(article.text, [span]) if article is not None and span else [[(c.quote, True)]]
    return SourceView(paragraphs=paragraphs, **_card_fields(c, article))


def grouped_views(cites: list[Citation], articles: dict[str, Article | None]) -> list[SourceView]:
    """One view per source number with every quote of it marked (briefings cite a whole article by number)."""
    by_n: dict[int, list[Citation]] = {}
    for c in cites:
        by_n.setdefault(c.n, []).append(c)
    out = []
    for n in sorted(by_n):
        group = by_n[n]
        article = articles.get(group[0].article_id)
        if article is not None:
            spans = [sp for c in group if (sp := locate(article.text, c.start, c.end, c.quote))]
            paragraphs = highlight_paragraphs(article.text, spans)
        else:
            paragraphs = [[(q, True)] for q in dict.fromkeys(c.quote for c in group)]
        out.append(SourceView(paragraphs=paragraphs or [[(group[0].quote, True)]], **_card_fields(group[0], article)))
    return out


def source_card_html(v: SourceView, turn: int, numbered: bool = True, prefix: str = "src") -> str:
    e = html.escape
    num = f'<span class="src-num">{v.n}</span>' if numbered else '<span class="src-num src-num-related">·</span>'
    is_file = v.source == v.file
    source = f'<span class="src-file">{e(v.source)}</span>' if is_file else e(v.source)
    meta = " · ".join(x for x in (source, e(v.published)) if x)
    title_cls = "src-title" if v.headline else "src-title src-title-fallback"
    file_note = f'<span class="src-file src-file-note">{e(v.file)}</span>' if v.file and not is_file else ""
    texts = "".join(
        '<p class="src-text">' + "".join(f"<mark>{e(t)}</mark>" if m else e(t) for t, m in para) + "</p>"
        for para in v.paragraphs
    )
    return (
        f'<div class="src-card{"" if numbered else " src-related"}" id="{cite_id(turn, v.n, prefix)}">'
        f'<div class="src-head">{num}<div class="src-titles">'
        f'<div class="src-meta">{meta}{file_note}</div>'
        f'<div class="{title_cls}">{e(v.title)}</div></div></div>'
        f"{texts}</div>"
    )


def _turn_body(t: Turn, prefix: str) -> str:
    if t.status == "pending":
        return '<p class="src-status">Searching the articles…</p>'
    if t.status == "error":
        return '<p class="src-status">No sources: the question could not be answered.</p>'
    if t.status == "refused":
        if not t.sources:
            return f'<p class="src-refused"><strong>{NOT_IN_ARTICLES}.</strong> No passage comes close.</p>'
        head = (
            f'<p class="src-refused"><strong>{NOT_IN_ARTICLES}.</strong> '
            "The closest passages, which do not answer the question:</p>"
        )
        return head + "".join(source_card_html(v, t.turn, numbered=False, prefix=prefix) for v in t.sources)
    if not t.sources:
        return '<p class="src-status">This answer cites no passage.</p>'
    return "".join(source_card_html(v, t.turn, prefix=prefix) for v in t.sources)


def sources_panel_html(turns: list[Turn], prefix: str = "src") -> str:
    """The panel beside the chat: the latest question's sources open, earlier ones folded."""
    if not turns:
        return EMPTY_PANEL
    e = html.escape
    latest, earlier = turns[-1], turns[-2::-1]
    label = "Related passages" if latest.status == "refused" else "Sources"
    parts = [
        '<div class="src-panel">',
        f'<div class="src-turn" data-turn="{latest.turn}"><p class="src-heading">{label}</p>',
        f'<p class="src-question">{e(latest.question)}</p>',
        _turn_body(latest, prefix),
        "</div>",
    ]
    for t in earlier:
        parts.append(
            f'<details class="src-turn src-earlier" data-turn="{t.turn}">'
            f"<summary>Earlier: {e(t.question)}</summary>{_turn_body(t, prefix)}</details>"
        )
    parts.append("</div>")
    return "".join(parts)


def finish_turn(t: Turn, answer: Answer, articles: dict[str, Article | None]) -> Turn:
    """Fill ``t`` from the finished answer; ``articles`` maps the cited article ids to their text."""
    cites = answer.citations if answer.status == "answered" else answer.related
    t.status = "refused" if answer.status == "refused" else "answered"
    t.shown = final_markdown(answer, t.turn)
    t.answer_text = answer.answer
    t.sources = [source_view(c, articles.get(c.article_id)) for c in cites]
    if t.status == "refused":  # related passages are numbered for their ids only
        for i, v in enumerate(t.sources, 1):
            v.n = i
    return t


def fail_turn(t: Turn, message: str) -> Turn:
    t.status = "error"
    t.shown = error_markdown(message)
    t.answer_text = ""
    t.sources = []
    return t


# -- chat transcript ---------------------------------------------------------------
def chat_messages(turns: list[Turn]) -> list[dict]:
    """Gradio Chatbot messages (role/content dicts)."""
    msgs: list[dict] = []
    for t in turns:
        msgs.append({"role": "user", "content": escape_markdown(t.question)})
        if t.shown:
            msgs.append({"role": "assistant", "content": t.shown})
    return msgs


def chat_history(turns: list[Turn]) -> list[tuple[str, str]]:
    """(question, answer) pairs for follow-ups: finished turns only, errors left out."""
    return [(t.question, t.answer_text) for t in turns if t.status in ("answered", "refused")]
