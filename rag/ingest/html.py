"""HTML to article text: the visible main text of a page, one block per line, and its metadata."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_SKIP_TAGS = {
    "script",
    "style",
    "noscript",
    "template",
    "iframe",
    "svg",
    "head",
    "nav",
    "footer",
    "aside",
    "form",
    "button",
    "select",
    "object",
    "embed",
    "canvas",
}
_BLOCK_TAGS = {
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "section",
    "article",
    "main",
    "header",
    "blockquote",
    "figure",
    "figcaption",
    "table",
    "tr",
    "td",
    "th",
    "pre",
    "hr",
    "dd",
    "dt",
    "dl",
    "title",
}
_VOID = {"br", "hr", "img", "meta", "link", "input", "area", "base", "col", "source", "wbr"}
_HIDDEN_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0|opacity\s*:\s*0(?![.\d])", re.I
)
_HIDDEN_CLASS = re.compile(r"\b(hidden|sr-only|visually-hidden|screen-reader-text|d-none)\b", re.I)


class _MainText(HTMLParser):
    """Collect visible text; drop scripts, styles, comments and hidden elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.stack: list[tuple[str, bool]] = []  # (tag, hidden)
        self.hidden_depth = 0
        self.title = ""
        self.meta: dict[str, str] = {}
        self._in_title = False
        self._in_h1 = False
        self.h1 = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "meta":
            key = (a.get("property") or a.get("name") or "").lower()
            if key and a.get("content"):
                self.meta[key] = a["content"]
            return
        if tag in _VOID:
            if tag in ("br", "hr") and not self.hidden_depth:
                self.parts.append("\n")
            return
        hidden = (
            tag in _SKIP_TAGS
            or "hidden" in a
            or a.get("aria-hidden", "").lower() == "true"
            or bool(_HIDDEN_STYLE.search(a.get("style", "")))
            or bool(_HIDDEN_CLASS.search(a.get("class", "")))
        )
        if tag == "title":
            self._in_title = True
        if tag == "h1":
            self._in_h1 = True
        self.stack.append((tag, hidden))
        if hidden:
            self.hidden_depth += 1
        if tag in _BLOCK_TAGS and not self.hidden_depth:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag == "h1":
            self._in_h1 = False
        # Pop to the matching open tag (HTML in the wild is not well nested).
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                for _, hid in self.stack[i:]:
                    if hid:
                        self.hidden_depth -= 1
                del self.stack[i:]
                break
        if tag in _BLOCK_TAGS and not self.hidden_depth:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
            return
        if self.hidden_depth:
            return
        if self._in_h1:
            self.h1 += data
        self.parts.append(data)


def html_to_text(html: str) -> tuple[str, dict]:
    """Main visible text of an HTML page, one block per line, plus page metadata.

    >>> html_to_text('<p>Hi <b>there</b>.</p><script>x()</script><p hidden>no</p><!-- c -->')[0]
    'Hi there.'
    """
    p = _MainText()
    p.feed(html)
    p.close()
    text = "".join(p.parts)
    lines = [re.sub(r"[ \t\u00a0]+", " ", ln).strip() for ln in text.split("\n")]
    found: dict = {}
    title = (p.meta.get("og:title") or p.h1 or p.title).strip()
    if title:
        found["title"] = re.sub(r"\s+", " ", title)
    for key in ("article:published_time", "date", "pubdate", "publish-date", "dc.date"):
        if p.meta.get(key):
            found["published"] = p.meta[key]
            break
    if p.meta.get("og:site_name"):
        found["outlet"] = p.meta["og:site_name"]
    if p.meta.get("og:url"):
        found["url"] = p.meta["og:url"]
    return "\n".join(ln for ln in lines if ln), found
