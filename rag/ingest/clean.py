"""Turn raw files into clean article text: boilerplate lines out, sentences addressed to a model out.

Cleaning works on whole lines (and, for text addressed to a model, on single
sentences: :mod:`rag.ingest.injection`) so that every sentence of the stored text
is a verbatim sentence of the source.
"""

from __future__ import annotations

import re

from rag.ingest.injection import is_injection, without_injection
from rag.text import dateline, opening_date, sentence_spans

__all__ = ["clean_text", "is_boilerplate", "is_injection", "is_teaser", "markdown_to_text"]

# Lines that are page furniture, not reporting.
_BOILERPLATE = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"^[-•*]?\s*share( this| via| on \w+)?\s*:?$",
        r"^(more to read|recent comments|category:?|featured|advertisement|related( articles| stories)?"
        r"|read more|recommended|most popular|trending|comments|share this article|print|email)\s*:?$",
        r"^get the .{0,60}newsletter\.?$",
        r"^(sign up|subscribe)\b.{0,120}$",
        r"\bin your inbox\b",
        r"^you may occasionally receive promotional content",
        r"^\s*(\(c\)|©|copyright)\s*\d{4}",
        r"pic\.twitter\.com/",
        r"^(photo|image|video|credit|caption)s?\s*:",
        r"\((?:ap |afp |epa |reuters )?(?:photo|image)s?(?: by |: ?|/)[^()]*\)\s*$",
        r"\([^()]{0,80}(getty images|/ap|/reuters|/afp|shutterstock|via getty)[^()]{0,20}\)\s*$",
        r"^(click|tap) here\b",
        r"^(follow us|follow .{0,40} on (twitter|x|facebook|instagram))",
    )
]
_SECTION_MARKERS = re.compile(r"^(featured|related|more to read|read more|recommended)\s*:?$", re.I)
_GLUED_TAGS = re.compile(r"[a-z][A-Z]")
_COPYRIGHT = re.compile(r"^\s*(?:\(c\)|©|copyright)\s*(\d{4}),?\s*([^·|]+?)\s*(?:[·|]\s*(.+))?$", re.I)
_DATE_PREFIX = re.compile(r"^\s*date\s+(\d{4}-\d{2}-\d{2})\s+")


def is_boilerplate(line: str) -> bool:
    """True for page furniture: share buttons, promos, photo credits, tag runs.

    >>> is_boilerplate("- Share via"), is_boilerplate("Musk spoke for two hours.")
    (True, False)
    """
    s = line.strip()
    if not s:
        return False
    if any(p.search(s) for p in _BOILERPLATE):
        return True
    # "Donald J. TrumpElon MuskSocial Media": tag links glued together, no sentence.
    if len(_GLUED_TAGS.findall(s)) >= 2 and not re.search(r"[a-z]{2}[.!?]\s", s + " ") and len(s) < 120:
        return True
    return False


# A person's formal first-reference form: a title, then a full name ("Vice President
# Kamala Harris", "Florida Gov. Ron DeSantis", "President George W. Bush").
_TITLED_NAME = re.compile(
    r"\b(?:(?:[Ff]ormer|[Vv]ice|[Dd]eputy|[Aa]cting)\s+)?"
    r"(?:President|Gov\.|Governor|Sen\.|Senator|Rep\.|Representative|Secretary|Prime Minister|Minister"
    r"|Chancellor|Commissioner|Mayor|Judge|Justice|Gen\.|General|Speaker|King|Queen|Chairman|Chairwoman)"
    r"\s+(?:[A-Z][\w’'-]*\.?\s+){1,2}[A-Z][\w-]+"
)


def is_teaser(line: str, earlier: str) -> bool:
    """A related-story teaser embedded in the page: a one-sentence paragraph, with no
    quotation, that introduces a person again with the full title-and-name form the
    article already used. Running copy refers to someone in full once and by surname
    afterwards; the blurb of another story starts from scratch.

    >>> first = "Vice President Kamala Harris spoke on Monday. Harris said little."
    >>> is_teaser("Trump has used a slur to describe Vice President Kamala Harris.", first)
    True
    >>> is_teaser("Harris said the plan would fail.", first)
    False
    """
    s = line.strip()
    if not s.endswith(".") or any(q in s for q in '"“”') or len(sentence_spans(s)) != 1:
        return False
    for m in _TITLED_NAME.finditer(s):
        if re.search(r"\b" + re.escape(m.group(0)) + r"\b", earlier):
            return True
    return False


def _is_headline_like(line: str) -> bool:
    s = line.strip()
    return bool(s) and len(s.split()) <= 20 and not re.search(r"[.!?\"”’]$", s)


def clean_text(raw: str) -> tuple[str, dict]:
    """Clean plain text; return ``(text, found)`` where ``found`` holds metadata the
    article itself shows (title, published, outlet, authors).

    >>> text, found = clean_text(" date 2024-08-13 Musk spoke.\\n- Share via\\nHe left.")
    >>> text, found["published"]
    ('Musk spoke.\\nHe left.', '2024-08-13')
    """
    found: dict = {}
    lines = raw.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: list[str] = []
    skip_teaser = 0
    for line in lines:
        line = line.rstrip()
        m = _DATE_PREFIX.match(line)
        if m:
            found.setdefault("published", m.group(1))
            line = line[m.end() :]
        m = _COPYRIGHT.match(line)
        if m:
            found.setdefault("outlet", m.group(2).strip().rstrip(","))
            if m.group(3):
                found.setdefault("authors", [a.strip() for a in m.group(3).split(",") if a.strip()])
            continue
        if not line.strip():
            continue
        if skip_teaser:
            # A "Featured" box: a headline, then a one-sentence blurb.
            if skip_teaser == 2 and _is_headline_like(line):
                skip_teaser = 1
                continue
            if skip_teaser == 1 and len(line.split()) <= 25 and line.count(". ") == 0:
                skip_teaser = 0
                continue
            skip_teaser = 0
        if _SECTION_MARKERS.match(line.strip()):
            skip_teaser = 2
            continue
        if is_boilerplate(line):
            continue
        # A sentence addressed to a model goes alone; the rest of its paragraph stays.
        line, _ = without_injection(line, detect=is_injection)
        if line.strip():
            out.append(line.strip())
    # Related-story teasers (never the opening paragraphs).
    out = out[:2] + [ln for i, ln in enumerate(out[2:], 2) if not is_teaser(ln, "\n".join(out[:i]))]
    if out and _is_headline_like(out[0]) and len(out) > 1:
        found.setdefault("title", out[0])
    elif out and len(out) > 1 and (title := _dated_headline(out[0])):
        found.setdefault("title", title)
    text = "\n".join(out)
    if day := dateline(text):
        found.setdefault("published", day)
    return text, found


def _dated_headline(line: str) -> str:
    """The headline of a first line that is a numeric date, then the headline ("2005/01/08 Aid deductible
    in the U.S."): the form of story lists and exported archives. A sentence after a date is no headline.

    >>> _dated_headline("2005/01/08 Tsunami aid donations deductible in the U.S."), _dated_headline("2005-01-08")
    ('Tsunami aid donations deductible in the U.S.', '')
    >>> _dated_headline("2024-08-13 Musk spoke. Trump listened.")
    ''
    """
    day, end = opening_date(line)
    if not day or not line.lstrip()[:4].isdigit():  # a numeric date, year first
        return ""
    rest = line[end:].strip()
    if not rest or len(rest.split()) > 20 or len(sentence_spans(rest)) != 1 or rest[-1] in "!?":
        return ""
    return rest


_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$")
_MD_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_MD_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\((?:[^)\s]+)(?:\s+\"[^\"]*\")?\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_MD_COMMENT = re.compile(r"<!--.*?-->", re.S)


def markdown_to_text(md: str) -> str:
    """Plain text of a Markdown article: heading marks, rules, images, link targets,
    bold markers and HTML comments removed; one paragraph per line.

    >>> markdown_to_text("# Storm hits *Leeds*\\n\\n**Rain** fell, [police](http://x.y) said.\\n\\n---\\n![a](b.png)")
    'Storm hits *Leeds*\\n\\nRain fell, police said.\\n\\n\\n'
    """
    out = []
    for line in _MD_COMMENT.sub("", md).replace("\r\n", "\n").split("\n"):
        if _MD_RULE.match(line):
            out.append("")
            continue
        m = _MD_HEADING.match(line)
        if m:
            line = m.group(1)
        line = _MD_IMAGE.sub("", line)
        line = _MD_LINK.sub(r"\1", line)
        out.append(_MD_EMPHASIS.sub(r"\2", line))
    return "\n".join(out)
