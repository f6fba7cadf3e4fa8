"""Main text and metadata of a web page, by trafilatura (htmldate for a missing date).

The text is trafilatura's plain-text rendering: one paragraph (or list item, table
row, heading) per line, the headline left to ``title``. It is what gets stored, so
every offset later taken from it is exact.

The options were chosen on the dev half of the article-extraction benchmark and
judged on its test half (``python -m rag.devtools.extraction_bench --split test``):
trafilatura's defaults with reader comments off, and the headline line out of the
body. Measured (shingle F1, test half / all 181 pages): defaults 0.955 / 0.958,
comments off 0.959 / 0.960, and the headline out 0.960 / 0.962. ``favor_precision``
and ``fast`` were worse on the dev half and are not used; the old boilerplate line
filter of ``rag.clean`` lowered recall on trafilatura's text and is not applied.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from types import MappingProxyType

import htmldate
import lxml.etree
import lxml.html
import trafilatura

from rag.ingest.injection import filter_injection
from rag.text import iso_date

# trafilatura.bare_extraction keyword arguments (trafilatura 2.3.1).
EXTRACT_OPTIONS: Mapping[str, object] = MappingProxyType(
    {
        "include_comments": False,  # reader comments are not the article
        "include_tables": True,
        "favor_precision": False,
        "favor_recall": False,
        "fast": False,  # keep trafilatura's readability/jusText fallbacks
        "with_metadata": True,
        "deduplicate": False,
    }
)
_HIDDEN_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?![.\d])|opacity\s*:\s*0(?![.\d])", re.I
)
# Classes that hide an element from the eye but not from a parser, as whole class
# names: "hidden-xs" or "d-none d-md-block" only hide on some screens, and taking
# them (measured on 8 benchmark pages) cost F1 0.984 -> 0.867.
_HIDDEN_CLASSES = {"sr-only", "visually-hidden", "screen-reader-text", "screenreader-only"}
_NEVER_SHOWN = {"template", "noscript", "script", "style"}
_BLANKS = re.compile(r"[ \t\u00a0\u200b]+")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class ExtractedPage:
    """What one page holds: ``text`` is the article body, one block per line."""

    text: str
    title: str = ""
    author: str = ""
    site_name: str = ""
    published: str = ""  # ISO date, '' when the page shows none
    url: str = ""

    def to_json(self) -> dict:
        return asdict(self)


def extract_html(
    html: str | bytes, url: str | None = None, options: Mapping[str, object] = EXTRACT_OPTIONS
) -> ExtractedPage:
    """The article of an HTML page, with title, author, site name, date and URL.

    ``text`` is '' when the page holds no article (the caller reports a skip).

    >>> page = extract_html(
    ...     "<html><head><title>Storm hits Leeds | Leeds Post</title>"
    ...     '<meta property="og:site_name" content="Leeds Post">'
    ...     '<meta property="article:published_time" content="2024-08-13T10:00:00Z"></head>'
    ...     "<body><nav>Home | News | Sport</nav><article><h1>Storm hits Leeds</h1>"
    ...     "<p>Heavy rain flooded the centre of Leeds on Tuesday, and the river rose by two metres.</p>"
    ...     "<p>The council opened three shelters and said the roads would stay closed until Friday.</p>"
    ...     "</article><footer>Copyright 2024 Leeds Post</footer></body></html>",
    ...     url="https://leedspost.example/storm",
    ... )
    >>> page.text.splitlines()[0][:40], page.site_name, page.published
    ('Heavy rain flooded the centre of Leeds o', 'Leeds Post', '2024-08-13')
    """
    tree = visible_tree(html)
    if tree is None:
        return ExtractedPage(text="", url=url or "")
    doc = trafilatura.bare_extraction(tree, url=url, **options)
    if doc is None:
        meta = trafilatura.extract_metadata(tree, default_url=url)
        text = ""
    else:
        meta = doc
        text = _without_headline(_tidy(doc.text or ""), doc.title)
    text, _ = filter_injection(text)  # a sentence addressed to a model goes alone
    published = iso_date(meta.date) if meta is not None else ""
    if not published:
        published = iso_date(htmldate.find_date(tree, url=url, original_date=True) or "")
    return ExtractedPage(
        text=text,
        title=_one_line(getattr(meta, "title", None)),
        author=_one_line(getattr(meta, "author", None)),
        site_name=_one_line(getattr(meta, "sitename", None)),
        published=published,
        url=_one_line(getattr(meta, "url", None)) or (url or ""),
    )


def visible_tree(html: str | bytes) -> lxml.html.HtmlElement | None:
    """The page parsed, without what a reader never sees: templates, noscript and
    scripts, elements marked ``hidden`` or ``aria-hidden="true"``, styled invisible
    (display:none, visibility:hidden, zero size or opacity) or given a class that
    hides them ("sr-only", "visually-hidden", ...). trafilatura keeps some of these, and text hidden from the
    reader is where instructions aimed at a model hide. None for an empty document.

    >>> t = visible_tree('<p>Seen.</p><div hidden>Unseen.</div><p style="display: none">No.</p>')
    >>> t.text_content()
    'Seen.'
    """
    try:
        tree = lxml.html.fromstring(html)
    except (lxml.etree.ParserError, ValueError):
        return None
    hidden = [
        el
        for el in tree.iter()
        if isinstance(el.tag, str)
        and (
            el.tag in _NEVER_SHOWN
            or el.get("hidden") is not None
            or (el.get("aria-hidden") or "").strip().lower() == "true"
            or _HIDDEN_STYLE.search(el.get("style") or "")
            or not _HIDDEN_CLASSES.isdisjoint((el.get("class") or "").lower().split())
        )
    ]
    for el in hidden:
        if el.getparent() is not None:
            el.drop_tree()
    return tree


def _one_line(value: object) -> str:
    return _BLANKS.sub(" ", value).strip() if isinstance(value, str) else ""


def _words(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def _without_headline(text: str, title: object) -> str:
    """The body without its first line when that line is the page's title (kept as
    ``title``, not as body text).

    >>> _without_headline("Storm hits Leeds\\nRain fell.", "Storm Hits Leeds!")
    'Rain fell.'
    >>> _without_headline("Rain fell.\\nStorm hits Leeds", "Storm hits Leeds")
    'Rain fell.\\nStorm hits Leeds'
    """
    first, _, rest = text.partition("\n")
    if isinstance(title, str) and rest and _words(first) and _words(first) == _words(title):
        return rest
    return text


def _tidy(text: str) -> str:
    """One block per line, runs of blanks collapsed, no empty lines.

    >>> _tidy("  A  storm.\\n\\n\\u00a0B  came. \\n")
    'A storm.\\nB came.'
    """
    lines = (_BLANKS.sub(" ", ln).strip() for ln in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    return "\n".join(ln for ln in lines if ln)
