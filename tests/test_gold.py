"""Consistency checks for the gold evaluation data in evals/.

Plain pytest, no project imports. See evals/README.md for the format.
"""

import json
import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EVALS = ROOT / "evals"
SEEDS = ROOT / "seeds"
GOLD = EVALS / "gold.jsonl"
BRIEF = EVALS / "brief_gold.jsonl"

TYPES = {"factoid", "numeric", "attribution", "date", "cross_article", "conflict", "unanswerable"}
GOLD_REQUIRED = {"id", "question", "type", "answers", "facts", "evidence"}
GOLD_OPTIONAL = {"patterns", "note"}
BRIEF_REQUIRED = {"id", "fact", "keywords", "evidence"}

# Lines of the seed articles that are page furniture, not reporting:
# evidence must never be quoted from them.
BOILERPLATE_MARKERS = (
    "- Share via",
    "Get the L.A. Times Politics newsletter",
    "Deeply reported insights into legislation",
    "You may occasionally receive promotional content",
    "More to Read",
    "(c) 2024, The Washington Post",
    "Category:",
    "Recent comments",
    "Featured",
    "Harris ahead of Trump in 3 battleground states",
    "A new poll shows Vice President Kamala Harris leading",
    "Donald J. TrumpElon MuskSocial Media",
    "pic.twitter.com",
    "(Photo by",
    # related-story teasers embedded in the L.A. Times page
    "campaign is banking on younger male voters",
    "reportedly has used a slur often targeted at women",
    "Getty Images)",
)

_QUOTE_MAP = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})


def normalise(text: str) -> str:
    """The matching rule shared by every evaluation script.

    1. lowercase;
    2. curly quotes to straight (’ ‘ -> ', “ ” -> ");
    3. every character that is not alphanumeric (str.isalnum) and not one of
       '.', '%', '$' becomes a space;
    4. split on whitespace, strip trailing '.' from each token, drop empty tokens;
    5. join with single spaces.
    """
    text = text.lower().translate(_QUOTE_MAP)
    text = "".join(ch if (ch.isalnum() or ch in ".%$") else " " for ch in text)
    tokens = (tok.rstrip(".") for tok in text.split())
    return " ".join(tok for tok in tokens if tok)


def _load(path):
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append((n, json.loads(line)))
        except json.JSONDecodeError as exc:  # pragma: no cover - reported by the test
            rows.append((n, exc))
    return rows


GOLD_ROWS = _load(GOLD)
BRIEF_ROWS = _load(BRIEF)
GOLD_ITEMS = [r for _, r in GOLD_ROWS if isinstance(r, dict)]
BRIEF_ITEMS = [r for _, r in BRIEF_ROWS if isinstance(r, dict)]
SEED_FILES = sorted(p.name for p in SEEDS.glob("*.txt"))
SEED_LINES = {name: (SEEDS / name).read_text(encoding="utf-8").split("\n") for name in SEED_FILES}


def _is_boilerplate(line: str) -> bool:
    return any(marker in line for marker in BOILERPLATE_MARKERS)


def _quote_lines(ev):
    """Non-boilerplate lines of the evidence file that contain the quote."""
    return [ln for ln in SEED_LINES.get(ev["file"], []) if ev["quote"] in ln and not _is_boilerplate(ln)]


def _all_evidence():
    for item in GOLD_ITEMS:
        for ev in item.get("evidence", []):
            yield item["id"], ev
    for item in BRIEF_ITEMS:
        for ev in item.get("evidence", []):
            yield item["id"], ev


# ---------------------------------------------------------------- the rule itself


def test_normalise_rule():
    assert normalise("Only 1.1 million were listening.") == "only 1.1 million were listening"
    assert normalise("“$44 billion” — 51.8%!") == "$44 billion 51.8%"
    assert normalise("Trump’s “border czar”") == "trump s border czar"
    assert normalise("8 p.m. Eastern") == "8 p.m eastern"
    assert normalise("400,000 people") == "400 000 people"


# ---------------------------------------------------------------- structure


@pytest.mark.parametrize("path,rows", [(GOLD, GOLD_ROWS), (BRIEF, BRIEF_ROWS)], ids=["gold", "brief"])
def test_lines_are_json_objects(path, rows):
    assert rows, f"{path} is empty"
    for n, row in rows:
        assert isinstance(row, dict), f"{path.name}:{n}: invalid JSON object: {row}"


def test_gold_fields_and_types():
    for item in GOLD_ITEMS:
        keys = set(item)
        assert GOLD_REQUIRED <= keys, f"{item.get('id')}: missing {GOLD_REQUIRED - keys}"
        assert keys <= GOLD_REQUIRED | GOLD_OPTIONAL, f"{item['id']}: unknown {keys - GOLD_REQUIRED - GOLD_OPTIONAL}"
        assert re.fullmatch(r"q\d{3}", item["id"]), item["id"]
        assert item["type"] in TYPES, f"{item['id']}: bad type {item['type']}"
        assert isinstance(item["question"], str) and item["question"].strip().endswith("?"), item["id"]
        for field in ("answers", "facts", "evidence"):
            assert isinstance(item[field], list), f"{item['id']}: {field} must be a list"
        assert all(isinstance(a, str) and normalise(a) for a in item["answers"]), item["id"]
        assert all(isinstance(f, str) and normalise(f) for f in item["facts"]), item["id"]
        for pat in item.get("patterns", []):
            re.compile(pat, re.IGNORECASE)
        if "note" in item:
            assert isinstance(item["note"], str)
        for ev in item["evidence"]:
            assert set(ev) == {"file", "quote"}, f"{item['id']}: evidence keys {set(ev)}"


def test_brief_fields():
    for item in BRIEF_ITEMS:
        keys = set(item)
        assert keys == BRIEF_REQUIRED, f"{item.get('id')}: fields {keys}"
        assert re.fullmatch(r"f\d{2,3}", item["id"]), item["id"]
        assert isinstance(item["fact"], str) and item["fact"].strip(), item["id"]
        assert isinstance(item["keywords"], list) and 1 <= len(item["keywords"]) <= 3, item["id"]
        assert all(isinstance(k, str) and normalise(k) for k in item["keywords"]), item["id"]
        assert isinstance(item["evidence"], list) and item["evidence"], f"{item['id']}: no evidence"
        for ev in item["evidence"]:
            assert set(ev) == {"file", "quote"}, f"{item['id']}: evidence keys {set(ev)}"


@pytest.mark.parametrize("items", [GOLD_ITEMS, BRIEF_ITEMS], ids=["gold", "brief"])
def test_ids_unique(items):
    dupes = [i for i, c in Counter(x["id"] for x in items).items() if c > 1]
    assert not dupes, f"duplicate ids: {dupes}"


def test_questions_unique():
    dupes = [q for q, c in Counter(normalise(x["question"]) for x in GOLD_ITEMS).items() if c > 1]
    assert not dupes, f"duplicate questions: {dupes}"


# ---------------------------------------------------------------- evidence


def test_evidence_files_exist():
    for item_id, ev in _all_evidence():
        assert (SEEDS / ev["file"]).is_file(), f"{item_id}: no such seed file {ev['file']}"


def test_evidence_quotes_verbatim_single_line():
    for item_id, ev in _all_evidence():
        quote = ev["quote"]
        assert quote.strip() == quote and quote, f"{item_id}: quote empty or padded: {quote!r}"
        assert "\n" not in quote and "\r" not in quote, f"{item_id}: quote spans lines"
        assert len(quote.split()) >= 4, f"{item_id}: quote too short: {quote!r}"
        assert quote in (SEEDS / ev["file"]).read_text(encoding="utf-8"), (
            f"{item_id}: quote not verbatim in {ev['file']}: {quote!r}"
        )
        assert _quote_lines(ev), f"{item_id}: quote not inside one non-boilerplate line of {ev['file']}: {quote!r}"


def test_gold_facts_in_evidence():
    for item in GOLD_ITEMS:
        quotes = [normalise(ev["quote"]) for ev in item["evidence"]]
        for fact in item["facts"]:
            assert any(normalise(fact) in q for q in quotes), f"{item['id']}: fact {fact!r} not in any evidence quote"


def test_brief_keywords_in_evidence():
    for item in BRIEF_ITEMS:
        quotes = [normalise(ev["quote"]) for ev in item["evidence"]]
        for kw in item["keywords"]:
            assert any(normalise(kw) in q for q in quotes), f"{item['id']}: keyword {kw!r} not in any evidence quote"


def test_answers_taken_from_evidence():
    for item in GOLD_ITEMS:
        if item["type"] == "unanswerable":
            continue
        joined = " ".join(normalise(ev["quote"]) for ev in item["evidence"])
        ok = any(normalise(a) in joined for a in item["answers"]) or any(
            re.search(p, joined, re.IGNORECASE) for p in item.get("patterns", [])
        )
        assert ok, f"{item['id']}: no answer alias or pattern matches its evidence"


# ---------------------------------------------------------------- per-type rules


def test_answerable_items_complete():
    for item in GOLD_ITEMS:
        if item["type"] == "unanswerable":
            continue
        assert item["answers"], f"{item['id']}: no answers"
        assert item["facts"], f"{item['id']}: no facts"
        assert item["evidence"], f"{item['id']}: no evidence"


def test_unanswerable_items_empty():
    for item in GOLD_ITEMS:
        if item["type"] != "unanswerable":
            continue
        assert item["answers"] == [], item["id"]
        assert item["facts"] == [], item["id"]
        assert item["evidence"] == [], item["id"]
        assert not item.get("patterns"), item["id"]


def test_multi_article_types_cite_several_articles():
    for item in GOLD_ITEMS:
        if item["type"] == "cross_article":
            files = {ev["file"] for ev in item["evidence"]}
            assert len(files) >= 2, f"{item['id']}: cross_article needs evidence from >= 2 articles"


# ---------------------------------------------------------------- coverage


def test_coverage():
    types = Counter(item["type"] for item in GOLD_ITEMS)
    assert len(GOLD_ITEMS) >= 75, len(GOLD_ITEMS)
    assert types["numeric"] >= 12, types
    assert types["conflict"] >= 6, types
    assert types["unanswerable"] >= 15, types
    assert types["attribution"] >= 8, types
    assert types["date"] >= 5, types
    assert types["cross_article"] >= 5, types
    assert types["factoid"] >= 1, types
    assert len(BRIEF_ITEMS) >= 18, len(BRIEF_ITEMS)


def test_every_seed_file_used():
    assert SEED_FILES, "no seed articles found"
    uses = Counter()
    for item in GOLD_ITEMS:
        for name in {ev["file"] for ev in item["evidence"]}:
            uses[name] += 1
    for name in SEED_FILES:
        assert uses[name] >= 5, f"{name} is evidence for only {uses[name]} questions"


def test_package_normalise_matches_the_reference_rule():
    from hypothesis import given
    from hypothesis import strategies as st

    from rag.text import normalise as package_normalise

    @given(st.text(alphabet=st.characters(codec="utf-8"), max_size=60))
    def check(s):
        assert package_normalise(s) == normalise(s)

    check()
    for name in SEED_FILES:  # and on every line of the real articles
        for line in SEED_LINES[name]:
            assert package_normalise(line) == normalise(line)
