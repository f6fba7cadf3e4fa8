"""Briefing logic without a model or the real embedder: centrality (the main story above a side
story), the summary's reading order, list markers and dangling starts, the reader's verified
wording of key facts, the digest across events and its state, the chart, the sources list."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_brief import HashEmbedder, _small_event

from rag.brief.analysis import analyse, article_sentences
from rag.brief.briefing import Item
from rag.brief.build import brief_event, reading_order, summary
from rag.brief.centrality import article_coverage, dangling_start, list_marker, term_centrality
from rag.brief.chart import coverage_svg
from rag.brief.digest import entries, in_window, load_state, rank, save_state, whats_new, window
from rag.brief.events import Event
from rag.brief.render import digest_to_markdown, fact_groups, to_html, to_markdown
from rag.brief.reword import accept, fact_passage, reword
from rag.brief.sections import key_facts
from rag.errors import RagError
from rag.llm.backends import MockModel
from rag.types import Article, Citation

MAIN = "A magnitude 8.8 earthquake struck off the coast of Chile on Saturday, killing hundreds of people."
SIDE = "A Romanian telethon raised 395,000 euro for the victims on Sunday evening in Bucharest."


def _quake_event() -> Event:
    """Four articles about the quake; one of them also has the telethon side story."""
    texts = [
        f"Quake in Chile\n{MAIN}\n{SIDE}\nThe earthquake struck off the coast of Chile and killed hundreds.\n",
        "Chile quake\nThe earthquake off the coast of Chile killed hundreds of people on Saturday.\n"
        "Rescuers searched the rubble in Chile after the earthquake.\n",
        "Deadly quake\nHundreds of people were killed when the earthquake struck Chile on Saturday.\n"
        "The earthquake was felt in the capital of Chile.\n",
        "Tsunami alert\nA tsunami warning followed the earthquake off the coast of Chile on Saturday.\n"
        "Hundreds of people died in the earthquake in Chile.\n",
    ]
    arts = [
        Article(
            id=f"q{i}", file=f"q{i}.txt", text=t, title=t.split("\n")[0], outlet=f"Outlet {i}", published="2010-02-27"
        )
        for i, t in enumerate(texts)
    ]
    return Event("ev1", "Quake in Chile", arts, [a.published for a in arts])


# -- centrality -------------------------------------------------------------------
def test_the_main_story_outranks_a_side_story():
    an = analyse(_quake_event(), HashEmbedder())
    texts = [s.text for s in an.sents]
    main, side = texts.index(MAIN), texts.index(SIDE)
    assert an.features["coverage"][main] > an.features["coverage"][side]
    assert an.features["terms"][main] > an.features["terms"][side]
    assert an.importance[main] > an.importance[side]
    b = brief_event(_quake_event(), HashEmbedder(), words=60)
    assert "telethon" not in b.lede.text
    assert "telethon" not in b.bullets[0].text


def test_a_side_story_is_listed_as_a_single_outlet_claim_after_the_key_facts():
    from rag.brief.sections import single_outlet_claims

    an = analyse(_quake_event(), HashEmbedder())
    texts = [s.text for s in an.sents]
    side = texts.index(SIDE)
    alone = single_outlet_claims(an, [], limit=4)
    assert side in alone
    for i in alone:  # nothing another article also states, nothing the others hold close to it
        assert not an.support[i] and an.features["coverage"][i] < np.median(an.features["coverage"])
    assert single_outlet_claims(an, [side], limit=4) == [i for i in alone if i != side]
    assert single_outlet_claims(an, [], limit=0) == []
    facts = key_facts(an, limit=1, alone=4)
    assert "telethon" not in facts[0].text
    side_facts = [f for f in facts[1:] if "telethon" in f.text]
    assert len(side_facts) == 1 and side_facts[0].extra["n_articles"] == 1
    assert len({f.text for f in facts}) == len(facts)
    assert side_facts[0].extra["group"] == "alone"


def test_key_facts_are_grouped_by_what_is_known_of_their_sources():
    """ "Several" only with a second article cited, "alone" only for a single-outlet claim; a top
    fact cited to one article whose ground the others cover is not called exclusive."""
    an = analyse(_quake_event(), HashEmbedder())
    facts = key_facts(an, limit=3, alone=4)
    groups = [f.extra["group"] for f in facts]
    assert groups[:3] and all(g in ("several", "key") for g in groups[:3]) and set(groups[3:]) <= {"alone"}
    for f in facts:
        assert (f.extra["group"] == "several") == (f.extra["n_articles"] > 1) or f.extra["group"] == "alone"
    b = brief_event(_quake_event(), HashEmbedder(), words=60)
    b.bullets = facts
    md = to_markdown(b)
    labels = [label for label, _ in fact_groups(b.bullets)]
    assert [x for x in md.splitlines() if x.endswith(":") and not x.startswith("-")] == [f"{x}:" for x in labels]
    page = to_html(b)
    assert [page.index(f"{x}:") for x in labels] == sorted(page.index(f"{x}:") for x in labels)
    key = Item("A top fact cited to one article.", [], {"n_articles": 1, "group": "key"})
    alone = Item("An exclusive.", [], {"n_articles": 1, "group": "alone"})
    old = Item("No group (an older caller's).", [], {"n_articles": 2})
    assert [(label, [i.text for i in items]) for label, items in fact_groups([alone, key, old])] == [
        ("Reported by several sources", [old.text]),
        ("Other key facts (one source cited)", [key.text]),
        ("One source alone (nothing close in the other articles)", [alone.text]),
    ]


def test_coverage_counts_other_articles_only():
    sim = np.eye(3)
    sim[0, 1] = sim[1, 0] = 0.9  # sentences 0 and 1 are in the same article
    cov = article_coverage(sim, np.array([0, 0, 1]))
    assert cov.tolist() == [0.0, 0.0, 0.0]  # no sentence of the other article is close
    assert article_coverage(np.eye(2), np.array([0, 0])).tolist() == [0.0, 0.0]  # one article
    assert term_centrality([[], ["a"]], np.array([0, 1])).tolist() == [0.0, 0.5]


def test_list_markers_and_dangling_starts():
    assert list_marker("- Aid arrived.") == 2 and list_marker("2) Aid arrived.") == 3 and list_marker("-5 C") == 0
    assert dangling_start("However, aid arrived.") and dangling_start("“They were lucky,” she said.")
    assert not dangling_start("Theresa May spoke.") and not dangling_start("Hundreds died.")
    text = "Tsunami\nThe wave hit the coast of Sri Lanka on Sunday morning.\n* In Sri Lanka, 30,000 people died in the wave.\n"
    sents = article_sentences(text, "Tsunami", 0)
    marked = [s for s in sents if "30,000" in s.text]
    assert (
        marked and marked[0].text.startswith("In Sri Lanka") and text[marked[0].start : marked[0].end] == marked[0].text
    )


def test_a_quotation_is_one_briefing_sentence_with_its_attribution():
    text = (
        'Launch\nAt that time, Trump had mocked the launch. "Wow! The launch is a DISASTER! WATCH!" '
        "Trump had written in a message that was reposted on Monday. Harris laughed at the launch on Monday.\n"
    )
    got = [s.text for s in article_sentences(text, "Launch", 0)]
    assert got == [
        "At that time, Trump had mocked the launch.",
        '"Wow! The launch is a DISASTER! WATCH!" Trump had written in a message that was reposted on Monday.',
        "Harris laughed at the launch on Monday.",
    ]
    assert not any(s.startswith("Trump had written") for s in got)


def test_a_question_is_never_part_of_the_summary():
    ev = _quake_event()
    q = "Who will pay for rebuilding the harbour of Talcahuano after the earthquake?"
    said = "The government will pay for rebuilding the harbour of Talcahuano after the earthquake."
    ev.articles[1].text += f"{q}\n{said}\n"
    an = analyse(ev, HashEmbedder())
    assert q in [s.text for s in an.sents]
    text, _ = summary(an, 2000)  # room for every sentence: only the rules leave one out
    assert said in text and q not in text


def test_a_sentence_naming_what_the_one_before_introduced_stays_out_of_the_summary():
    ev = _quake_event()
    bill = "Congress passed a bill on Monday and the president signed it into law for the earthquake victims."
    law = "The law lets people in Chile deduct donations for the earthquake victims from their taxes this year."
    ev.articles[2].text += f"{bill}\n{law}\n"
    an = analyse(ev, HashEmbedder())
    opened = {s.text: s.leans for s in an.sents if s.leans}
    assert opened == {law: "law", "The earthquake was felt in the capital of Chile.": "earthquake"}
    leaning = [s.text for s, f in zip(an.sents, an.features["leans"]) if f]
    assert leaning == [law]  # "The earthquake ..." names what the whole event is about
    text, _ = summary(an, 2000)  # room for every sentence: only the rules leave one out
    assert bill in text and law not in text
    ev.articles[3].text += "Police named a man from Leeds: a suspect. Initially thought to have been on the train.\n"
    an = analyse(ev, HashEmbedder())
    cut = "Initially thought to have been on the train."
    assert [s.text for s, f in zip(an.sents, an.features["leans"]) if f] == [law, cut]
    assert law not in [it.text for it in key_facts(an) if it.extra["group"] == "alone"]


def test_summary_reads_in_order_without_dangling_starts():
    an = analyse(_quake_event(), HashEmbedder())
    text, items = summary(an, 80)
    assert items and not any(dangling_start(it.text) for it in items)
    chosen = [next(i for i, s in enumerate(an.sents) if " ".join(s.text.split()) == it.text) for it in items]
    assert reading_order(an, chosen) == chosen
    first = max(chosen, key=lambda i: an.importance[i])
    assert chosen[0] == first
    rest = chosen[1:]
    assert rest == sorted(rest, key=lambda i: (an.event.dates[an.sents[i].k], an.sents[i].k, an.sents[i].pos))
    assert reading_order(an, []) == []


# -- key facts worded by the reader -----------------------------------------------
def _item(text: str) -> Item:
    c = Citation(1, "a1", "1.txt", "t", "o", "2010-02-27", text, 0, len(text))
    return Item(text, [c], {"n_articles": 1})


LONG = (
    "Officials in Santiago said on Sunday that the earthquake, which struck the coast at 3:34 am local time,"
    " killed at least 214 people across the south of the country."
)


def test_reworded_fact_is_verified_and_shorter():
    p = fact_passage(_item(LONG))
    assert accept("The earthquake killed at least 214 people, officials in Santiago said [1].", LONG, p)
    assert accept("The earthquake killed at least 300 people [1].", LONG, p) is None  # a figure not in it
    assert accept("The passage says the earthquake killed people [1].", LONG, p) is None  # talks about the passage
    assert accept(LONG + " [1]", LONG, p) is None  # not shorter
    good = MockModel(["The earthquake killed at least 214 people, officials in Santiago said [1]."])
    (it,), info = reword([_item(LONG)], good)
    assert it.text.startswith("The earthquake killed") and it.extra["extractive"] == LONG
    assert it.citations[0].quote == LONG and info == info | {"tried": 1, "kept": 1}
    (it,), info = reword([_item(LONG)], MockModel(["Chile was hit by a storm [1]."]))
    assert it.text == LONG and info["kept"] == 0
    short = "The earthquake killed at least 214 people in Chile on Saturday."  # already short: not sent
    model = MockModel(["The earthquake killed 214 people [1]."])
    (it,), info = reword([_item(short)], model)
    assert it.text == short and model.calls == [] and info["short"] == 1 and info["tried"] == 0


# -- digest -----------------------------------------------------------------------
def _event(eid: str, dates: list[str], outlets: list[str]) -> Event:
    arts = [
        Article(id=f"{eid}{i}", file=f"{eid}{i}.txt", text="x", title=eid, outlet=o, published=d)
        for i, (d, o) in enumerate(zip(dates, outlets))
    ]
    return Event(eid, eid, arts, dates)


def test_window_and_ranking_by_coverage():
    assert window(None, None) == ("0000-01-01", "9999-12-31")
    with pytest.raises(RagError, match="is after"):
        window("2010-03", "2010-02")
    a = _event("a", ["2010-02-27", "2010-02-28", "2010-03-05"], ["X", "X", "Y"])
    b = _event("b", ["2010-02-27", "2010-02-28"], ["X", "Z"])
    c = _event("c", ["2009-01-01"], ["X"])
    rows = in_window([a, b, c], *window("2010-02", "2010-02"))
    assert [(e.id, ks) for e, ks in rows] == [("a", [0, 1]), ("b", [0, 1])]
    # In February a has one outlet (X), b has two (X, Z): b first.
    assert [e.id for e, _ in rank(rows)] == ["b", "a"]
    # Over everything, a has two outlets and three articles: a first.
    assert [e.id for e, _ in rank(in_window([a, b, c], *window(None, None)))] == ["a", "b", "c"]


def _briefing(ev: Event, facts: list[tuple[str, int]]):
    from rag.brief.briefing import Briefing

    def item(text: str, n: int) -> Item:
        a = ev.articles[n - 1]
        return Item(text, [Citation(n, a.id, a.file, a.title, a.outlet, a.published, "x", 0, 1)], {"n_articles": 1})

    bullets = [item(t, n) for t, n in facts]
    return Briefing(ev, ev.title, bullets[0], "extractive", bullets, [], [], [], "", [], 250)


def test_whats_new_since_the_previous_digest(tmp_path):
    old = _event("a", ["2010-02-27", "2010-02-28"], ["X", "Y"])
    b1 = _briefing(old, [("Quake hits Chile.", 1), ("Hundreds dead.", 2)])
    first = entries(in_window([old], *window(None, None)), {"a": b1}, {})
    assert not first[0].continues and first[0].new == []
    path = tmp_path / "digest.json"
    save_state(path, first, "0000-01-01", "9999-12-31")
    state = load_state(path)
    assert state["events"]["a"]["articles"] == ["a0", "a1"]
    # The story continues: a third article, and the grouping gave the event a new id.
    grown = _event("a2", ["2010-02-27", "2010-02-28", "2010-03-01"], ["X", "Y", "Z"])
    for art, was in zip(grown.articles, old.articles):
        art.id = was.id
    b2 = _briefing(grown, [("Quake hits Chile.", 1), ("Aid arrives.", 3), ("Hundreds dead.", 2)])
    (e,) = entries(in_window([grown], *window(None, None)), {"a2": b2}, state)
    assert e.continues and [x.text for x in e.new] == ["Aid arrives."]
    md = digest_to_markdown([e], "2010-02-01", "2010-03-31")
    assert "## 1. a2" in md and "**New since the last digest:**" in md and "- Aid arrives. [3]" in md
    assert whats_new(None, b2) == []
    assert json.loads(json.dumps(e.to_json()))["new_since_last_digest"][0]["text"] == "Aid arrives."
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(RagError, match="cannot read the previous digest"):
        load_state(path)


# -- chart and sources ------------------------------------------------------------
def test_chart_and_two_digit_source_numbers():
    event, _ = _small_event()
    b = brief_event(event, HashEmbedder(), words=60)
    svg = coverage_svg(b)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    for outlet in ("The Daily", "The Courier", "The Herald"):
        assert f">{outlet}</text>" in svg
    assert svg.count("<circle") == len(b.timeline) and "2024-08-12" in svg
    assert "<script" not in svg and "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")
    many = _event("m", ["2010-02-27"] * 11, [f"O{i}" for i in range(11)])
    md = to_markdown(_briefing(many, [("Quake hits Chile.", 11)]))
    assert "- **10.** m" in md and "- **11.** m" in md
    assert "\n10. " not in md  # a Markdown ordered list clips two-digit numbers on the page
