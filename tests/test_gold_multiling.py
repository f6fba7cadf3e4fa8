"""Consistency checks for the held-out MultiLing 2011 gold set, evals/gold_multiling.jsonl.

Plain pytest, no project imports, no model. Same format as evals/gold.jsonl (see
evals/README.md) plus two fields: `event` (0-9, the T digit of the article files
M00TD.txt) and `split` ("dev" for events 0-4, "test" for events 5-9). Evidence files are
names in evals/corpora/multiling2011/articles/. Unanswerable items carry a `note` that
starts with "near miss:" (same event, a fact no article states) or "not in corpus:"
(a similar event the corpus does not cover).
"""

import json
import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EVALS = ROOT / "evals"
ARTICLES = EVALS / "corpora" / "multiling2011" / "articles"
SEEDS = ROOT / "seeds"
GOLD = EVALS / "gold_multiling.jsonl"

TYPES = {"factoid", "numeric", "attribution", "date", "cross_article", "conflict", "unanswerable"}
REQUIRED = {"id", "question", "type", "answers", "facts", "evidence", "event", "split"}
OPTIONAL = {"patterns", "note"}
EVENTS = range(10)
MIN_ANSWERABLE_PER_EVENT = 6
MIN_NEAR_MISS_PER_EVENT = 2
NEAR_MISS, NOT_IN_CORPUS = "near miss:", "not in corpus:"
FILE_RE = re.compile(r"M00(\d)(\d)\.txt")

# Lines of the articles that are photo captions or image credits, not reporting:
# evidence must never be quoted from them.
CAPTION_MARKERS = (
    "Image: ",
    "(File photo:",
    "Beached boat in Galle",
    "The scenes after the bombings on July 7",
    "Russell Square after the bombings",
    "Ambulances at Russell Square",
    "HMS Cornwall at Zeebrugge",
    "Agustín Ross Balcony after the earthquake",
    "A map indicating the intensity",
    "Map indicating the strength of the quake",
    "Lots of children have been affected by the earthquake",
    "The intended route of Flight 447",
    "Countries affected by the 2004 Indian Ocean tsunami",
    "lands at Paris-Charles de Gaulle Airport on March 28, 2007",
)

# For every unanswerable item: regexes (case-insensitive, searched line by line) whose
# match would mean some text may answer it after all. Scope "all" = the 100 articles and
# the seed articles; "event" = the item's own ten articles (for keywords such as "billion"
# that other stories use for other things).
ABSENT = {
    # event 0
    "ml009": [("all", r"(united kingdom|britain|british|\buk\b)[^.\n]{0,80}(\$|£|pounds?\b|million|billion|usd)")],
    "ml010": [("all", r"thai")],
    "ml011": [("event", r"aftershock"), ("all", r"(sumatra|indian ocean|aceh)[^\n]*aftershock")],
    "ml012": [("all", r"\b2011\b"), ("all", r"t[oō]hoku"), ("all", r"fukushima")],
    # event 1
    "ml021": [
        ("all", r"tavistock[^.\n]{0,200}(killed|died|dead|deaths|lives)"),
        ("all", r"(killed|died|dead|deaths|lives)[^.\n]{0,200}tavistock"),
        (
            "event",
            r"\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen)"
            r" (people |passengers )?(were )?(killed|died)[^.\n]{0,30}\bbus\b",
        ),
    ],
    "ml022": [
        ("all", r"osman[^\n]*(sentenced|jailed|convicted|guilty)"),
        ("all", r"(sentenced|jailed|convicted|guilty)[^\n]*osman"),
    ],
    "ml023": [
        ("event", r"(inquiry|enquiry)[^.\n]{0,120}(£|\$|pounds?\b|million|billion)"),
        ("event", r"(£|\$|pounds?\b|million|billion)[^.\n]{0,120}(inquiry|enquiry)"),
    ],
    "ml024": [("all", r"manchester")],
    # event 2
    "ml033": [("event", r"£|pounds?\b"), ("event", r"\b(paid|payment|sold|sell|selling)\b[^.\n]{0,80}\d")],
    "ml034": [("event", r"(ship|vessel|freighter|dhow)[^.\n]{0,20}\b(called|named)\b")],
    "ml035": [("all", r"(guards|members)[^.\n]{0,60}(were|have been|had been) (released|freed)")],
    "ml036": [("all", r"stena"), ("all", r"impero")],
    # event 3
    "ml045": [("all", r"contador[^.\n]{0,80}\d+h"), ("event", r"\b(8\d|9\d)h")],
    "ml046": [
        ("all", r"b[- ]sample[^.\n]{0,80}(positive|negative|confirm|result)"),
        ("all", r"(confirm|positive)[^.\n]{0,40}b[- ]sample"),
    ],
    "ml047": [
        ("event", r"\b\d+ (riders|cyclists) (finished|completed|reached)"),
        ("event", r"(finished|completed)[^.\n]{0,40}\b\d+ (riders|cyclists)"),
    ],
    "ml048": [("all", r"sastre"), ("all", r"2008 tour"), ("all", r"tour de france[^.\n]{0,20}2008")],
    # event 4
    "ml057": [("all", r"witoelar|rachmat")],
    "ml058": [
        ("all", r"pozna"),
        ("all", r"copenhagen"),
        ("all", r"next (un |u\.n\. )?(climate )?(change )?(conference|summit|cop)"),
    ],
    "ml059": [
        ("all", r"adaptation fund[^.\n]{0,100}(\$|€|million|billion)"),
        ("all", r"(\$|€|million|billion)[^.\n]{0,100}adaptation fund"),
    ],
    "ml060": [("all", r"copenhagen"), ("all", r"cop ?15")],
    # event 5
    "ml069": [("all", r"8\.8[^.\n]{0,150}depth"), ("all", r"depth[^.\n]{0,150}8\.8")],
    "ml070": [("all", r"bachelet"), ("event", r"(outgoing|former|previous) president")],
    "ml071": [("event", r"billion"), ("event", r"(damage|losses?|reconstruction)[^.\n]{0,60}(\$|dollars|pesos)")],
    "ml072": [("all", r"valdivia"), ("all", r"\b1960\b")],
    # event 6
    "ml081": [
        ("all", r"(european union|\beu\b)[^.\n]{0,80}(pledg|\$|€|euro|million|billion)"),
        ("all", r"(pledg|€|euro)[^.\n]{0,80}(european union|\beu\b)"),
    ],
    "ml082": [
        ("all", r"silsby[^\n]*(sentenced|convicted|jailed|guilty)"),
        ("all", r"(sentenced|convicted|jailed|guilty)[^\n]*silsby"),
        ("all", r"missionaries[^.\n]{0,60}(were|have been) (sentenced|convicted)"),
    ],
    "ml083": [
        ("all", r"dominican[^.\n]{0,100}(killed|dead|deaths|died)"),
        ("all", r"(killed|dead|deaths|died)[^.\n]{0,100}dominican"),
    ],
    "ml084": [("all", r"(haiti|haitian)[^\n]*2021"), ("all", r"2021[^\n]*(haiti|earthquake)")],
    # event 7
    "ml093": [
        ("all", r"jordan[^.\n]{0,80}(convicted|acquitted|sentenced|found guilty|found not guilty)"),
        ("all", r"(convicted|acquitted|sentenced)[^.\n]{0,80}jordan"),
    ],
    "ml094": [
        ("all", r"smith[^.\n]{0,80}(convicted|sentenced|found guilty|acquitted)"),
        ("all", r"(convicted|sentenced|acquitted)[^.\n]{0,80}smith"),
    ],
    "ml095": [
        ("all", r"abu ghraib[^.\n]{0,100}(handed over|was transferred|closed on)"),
        ("all", r"(handed over|was transferred)[^.\n]{0,100}iraq"),
    ],
    "ml096": [("all", r"\b2014\b"), ("all", r"senate intelligence"), ("all", r"torture report")],
    # event 8
    "ml105": [("event", r"captain"), ("event", r"(?<![-\w])pilot (was|named|is)\b")],
    "ml106": [
        (
            "all",
            r"(black boxes|flight recorders?|data recorder|voice recorder)[^.\n]{0,60}(were|have been|had been) (recovered|found|retrieved)",
        ),
    ],
    "ml107": [
        ("event", r"\b\d+ brazilian"),
        ("event", r"brazilian (passengers|nationals|citizens)"),
        ("event", r"nationalit"),
    ],
    "ml108": [("all", r"mh ?370"), ("all", r"malaysia airlines")],
    # event 9
    "ml117": [
        ("event", r"billion"),
        ("event", r"(cost|spent|spend|budget)[^.\n]{0,80}(\$|yuan|dollars|million|billion)"),
    ],
    "ml118": [("all", r"great britain"), ("all", r"team gb"), ("all", r"(britain|british)[^.\n]{0,60}(gold|medal)")],
    "ml119": [("all", r"cauldron"), ("all", r"li ning"), ("all", r"\blit the (olympic )?(flame|torch)")],
    "ml120": [("all", r"2012[^.\n]{0,100}(gold|medal)"), ("all", r"(gold|medal)[^.\n]{0,100}2012")],
}

# A reply that refuses must never count as an answer.
REFUSALS = (
    "The articles don't say.",
    "The articles do not say. The closest passages are marked as related.",
    "I could not find this in the articles.",
)

_QUOTE_MAP = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})


def normalise(text: str) -> str:
    """The matching rule of evals/README.md (a copy of tests/test_gold.py's reference)."""
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


ROWS = _load(GOLD)
ITEMS = [r for _, r in ROWS if isinstance(r, dict)]
ARTICLE_FILES = sorted(p.name for p in ARTICLES.glob("M00*.txt"))
ARTICLE_TEXT = {name: (ARTICLES / name).read_text(encoding="utf-8") for name in ARTICLE_FILES}
SEED_TEXT = {p.name: p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))}


def _event_of(name: str) -> int:
    return int(FILE_RE.fullmatch(name).group(1))


def _answerable(items):
    return [x for x in items if x["type"] != "unanswerable"]


def _unanswerable(items):
    return [x for x in items if x["type"] == "unanswerable"]


def _body_lines(name: str):
    """Lines of an article that may be quoted: not the headline, not a caption."""
    lines = ARTICLE_TEXT[name].split("\n")[1:]
    return [ln for ln in lines if not any(marker in ln for marker in CAPTION_MARKERS)]


# ---------------------------------------------------------------- the rule itself


def test_normalise_rule():
    assert normalise("Only 1.1 million were listening.") == "only 1.1 million were listening"
    assert normalise("“$44 billion” — 51.8%!") == "$44 billion 51.8%"
    assert normalise("Trump’s “border czar”") == "trump s border czar"
    assert normalise("8 p.m. Eastern") == "8 p.m eastern"
    assert normalise("400,000 people") == "400 000 people"


# ---------------------------------------------------------------- the corpus is where the tests expect it


def test_corpus_present():
    assert len(ARTICLE_FILES) == 100, f"expected 100 articles in {ARTICLES}, found {len(ARTICLE_FILES)}"
    assert {_event_of(n) for n in ARTICLE_FILES} == set(EVENTS)
    assert SEED_TEXT, f"no seed articles in {SEEDS}"


# ---------------------------------------------------------------- structure


def test_lines_are_json_objects():
    assert ROWS, f"{GOLD} is empty"
    for n, row in ROWS:
        assert isinstance(row, dict), f"{GOLD.name}:{n}: invalid JSON object: {row}"


def test_fields_and_types():
    for item in ITEMS:
        keys = set(item)
        assert REQUIRED <= keys, f"{item.get('id')}: missing {REQUIRED - keys}"
        assert keys <= REQUIRED | OPTIONAL, f"{item['id']}: unknown {keys - REQUIRED - OPTIONAL}"
        assert re.fullmatch(r"ml\d{3}", item["id"]), item["id"]
        assert item["type"] in TYPES, f"{item['id']}: bad type {item['type']}"
        assert isinstance(item["question"], str) and item["question"].strip().endswith("?"), item["id"]
        for field in ("answers", "facts", "evidence"):
            assert isinstance(item[field], list), f"{item['id']}: {field} must be a list"
        assert all(isinstance(a, str) and normalise(a) for a in item["answers"]), item["id"]
        assert all(isinstance(f, str) and normalise(f) for f in item["facts"]), item["id"]
        for pat in item.get("patterns", []):
            re.compile(pat, re.IGNORECASE)
        if "note" in item:
            assert isinstance(item["note"], str) and item["note"].strip(), item["id"]
        for ev in item["evidence"]:
            assert set(ev) == {"file", "quote"}, f"{item['id']}: evidence keys {set(ev)}"


def test_same_schema_as_the_seed_gold_set():
    """Every field of evals/gold.jsonl is used here with the same meaning; only event and split are new."""
    seed_gold = EVALS / "gold.jsonl"
    if not seed_gold.is_file():
        pytest.skip(f"{seed_gold} not present")
    seed_keys = set()
    for _, row in _load(seed_gold):
        if isinstance(row, dict):
            seed_keys |= set(row)
    ours = set().union(*(set(x) for x in ITEMS))
    assert ours - seed_keys == {"event", "split"}, ours - seed_keys
    assert {"id", "question", "type", "answers", "facts", "evidence"} <= ours


def test_ids_unique():
    dupes = [i for i, c in Counter(x["id"] for x in ITEMS).items() if c > 1]
    assert not dupes, f"duplicate ids: {dupes}"


def test_questions_unique():
    dupes = [q for q, c in Counter(normalise(x["question"]) for x in ITEMS).items() if c > 1]
    assert not dupes, f"duplicate questions: {dupes}"


def test_events_and_splits():
    for item in ITEMS:
        assert isinstance(item["event"], int) and item["event"] in EVENTS, f"{item['id']}: event {item['event']!r}"
        want = "dev" if item["event"] <= 4 else "test"
        assert item["split"] == want, (
            f"{item['id']}: event {item['event']} belongs to split {want}, not {item['split']}"
        )


# ---------------------------------------------------------------- evidence


def test_evidence_files_exist_and_belong_to_the_event():
    for item in ITEMS:
        for ev in item["evidence"]:
            assert FILE_RE.fullmatch(ev["file"]), f"{item['id']}: bad file name {ev['file']}"
            assert ev["file"] in ARTICLE_TEXT, f"{item['id']}: no such article {ev['file']}"
            assert _event_of(ev["file"]) == item["event"], (
                f"{item['id']}: {ev['file']} is not an article of event {item['event']}"
            )


def test_evidence_quotes_verbatim_single_line():
    for item in ITEMS:
        for ev in item["evidence"]:
            quote = ev["quote"]
            assert quote.strip() == quote and quote, f"{item['id']}: quote empty or padded: {quote!r}"
            assert "\n" not in quote and "\r" not in quote, f"{item['id']}: quote spans lines"
            assert len(quote.split()) >= 4, f"{item['id']}: quote too short: {quote!r}"
            assert quote in ARTICLE_TEXT[ev["file"]], f"{item['id']}: quote not verbatim in {ev['file']}: {quote!r}"
            assert any(quote in ln for ln in _body_lines(ev["file"])), (
                f"{item['id']}: quote not inside one body line (headline and captions excluded) of {ev['file']}: {quote!r}"
            )


def test_facts_in_evidence():
    for item in ITEMS:
        quotes = [normalise(ev["quote"]) for ev in item["evidence"]]
        for fact in item["facts"]:
            assert any(normalise(fact) in q for q in quotes), f"{item['id']}: fact {fact!r} not in any evidence quote"


def test_answers_taken_from_evidence():
    for item in _answerable(ITEMS):
        joined = " ".join(normalise(ev["quote"]) for ev in item["evidence"])
        ok = any(normalise(a) in joined for a in item["answers"]) or any(
            re.search(p, joined, re.IGNORECASE) for p in item.get("patterns", [])
        )
        assert ok, f"{item['id']}: no answer alias or pattern matches its evidence"


def test_a_refusal_is_never_scored_as_an_answer():
    for item in _answerable(ITEMS):
        for reply in REFUSALS:
            text = normalise(reply)
            assert not any(normalise(a) in text for a in item["answers"]), f"{item['id']}: an alias matches {reply!r}"
            assert not any(re.search(p, text, re.IGNORECASE) for p in item.get("patterns", [])), (
                f"{item['id']}: a pattern matches {reply!r}"
            )


def test_questions_do_not_name_files_or_copy_the_evidence():
    for item in ITEMS:
        assert not re.search(r"M00\d\d|\.txt\b", item["question"]), f"{item['id']}: question names a file"
        q = normalise(item["question"]).split()
        grams = {" ".join(q[i : i + 8]) for i in range(len(q) - 7)}
        for ev in item["evidence"]:
            quote = normalise(ev["quote"])
            copied = [g for g in grams if g in quote]
            assert not copied, f"{item['id']}: question copies its evidence: {copied[0]!r}"


# ---------------------------------------------------------------- per-type rules


def test_answerable_items_complete():
    for item in _answerable(ITEMS):
        assert item["answers"], f"{item['id']}: no answers"
        assert item["facts"], f"{item['id']}: no facts"
        assert item["evidence"], f"{item['id']}: no evidence"


def test_unanswerable_items_empty_and_labelled():
    for item in _unanswerable(ITEMS):
        assert item["answers"] == [], item["id"]
        assert item["facts"] == [], item["id"]
        assert item["evidence"] == [], item["id"]
        assert not item.get("patterns"), item["id"]
        note = item.get("note", "")
        assert note.startswith((NEAR_MISS, NOT_IN_CORPUS)), (
            f"{item['id']}: note must start with {NEAR_MISS!r} or {NOT_IN_CORPUS!r}"
        )


def test_multi_article_types_cite_several_articles():
    for item in ITEMS:
        files = {ev["file"] for ev in item["evidence"]}
        if item["type"] == "cross_article":
            assert len(files) >= 2, f"{item['id']}: cross_article needs evidence from >= 2 articles"
        if item["type"] == "conflict":
            assert len(item["facts"]) >= 2, f"{item['id']}: conflict needs the competing figures as facts"


# ---------------------------------------------------------------- unanswerable really unanswered


def test_every_unanswerable_item_has_an_absence_check():
    ids = {x["id"] for x in _unanswerable(ITEMS)}
    assert ids == set(ABSENT), f"without check: {sorted(ids - set(ABSENT))}; stale checks: {sorted(set(ABSENT) - ids)}"


@pytest.mark.parametrize("item_id", sorted(ABSENT))
def test_unanswerable_fact_absent_from_the_corpus(item_id):
    item = next((x for x in ITEMS if x["id"] == item_id), None)
    assert item is not None and item["type"] == "unanswerable", item_id
    for scope, pattern in ABSENT[item_id]:
        names = [n for n in ARTICLE_FILES if scope == "all" or _event_of(n) == item["event"]]
        texts = [(n, ARTICLE_TEXT[n]) for n in names] + (list(SEED_TEXT.items()) if scope == "all" else [])
        for name, text in texts:
            for line in text.split("\n"):
                hit = re.search(pattern, line, re.IGNORECASE)
                assert not hit, f"{item_id}: {pattern!r} matches {name}: {hit.group(0)!r}"


# ---------------------------------------------------------------- coverage and balance


def test_coverage_per_event():
    for event in EVENTS:
        mine = [x for x in ITEMS if x["event"] == event]
        answerable = _answerable(mine)
        near = [x for x in _unanswerable(mine) if x["note"].startswith(NEAR_MISS)]
        assert len(answerable) >= MIN_ANSWERABLE_PER_EVENT, f"event {event}: {len(answerable)} answerable"
        assert len(near) >= MIN_NEAR_MISS_PER_EVENT, f"event {event}: {len(near)} near misses"
        articles = {ev["file"] for x in answerable for ev in x["evidence"]}
        assert len(articles) >= 4, f"event {event}: evidence from only {sorted(articles)}"


def test_coverage_totals_and_balance():
    assert len(ITEMS) >= 80, len(ITEMS)
    unanswerable = _unanswerable(ITEMS)
    assert len(unanswerable) >= 25, len(unanswerable)
    assert sum(x["note"].startswith(NEAR_MISS) for x in unanswerable) >= 20
    assert sum(x["note"].startswith(NOT_IN_CORPUS) for x in unanswerable) >= 5
    for split in ("dev", "test"):
        mine = [x for x in ITEMS if x["split"] == split]
        assert 0.4 <= len(mine) / len(ITEMS) <= 0.6, f"{split}: {len(mine)} of {len(ITEMS)}"
        types = Counter(x["type"] for x in mine)
        for typ in ("factoid", "numeric", "attribution", "date", "cross_article", "conflict"):
            assert types[typ] >= 1, f"{split}: no {typ} question ({dict(types)})"
        assert sum(x["note"].startswith(NOT_IN_CORPUS) for x in _unanswerable(mine)) >= 2, split
