"""Briefings: extraction of figures, times and quotes on small texts; a whole briefing on
small articles with a scripted model; the seeds with the real embedder and GGUF; the CLI."""

from __future__ import annotations

import hashlib
import json
import re

import numpy as np
import pytest
from conftest import mock_rag

from rag.brief.build import Briefing, brief_event, build_briefings, to_html, to_markdown
from rag.brief.events import group_articles
from rag.brief.figures import figures
from rag.brief.text import clean_lede, find_quotes
from rag.errors import RagError
from rag.llm.backends import MockModel
from rag.text import lexical_tokens, resolve_time
from rag.types import Article


# -- figures, times, quotes on small texts ----------------------------------------
def test_figures_kinds_values_and_labels():
    got = [
        (f.value, f.unit, f.label) for f in figures("But while more than 120,000 people joined the event, it was late.")
    ]
    assert got == [(120000.0, "audience", "more than 120,000 people")]
    got = [(f.value, f.unit) for f in figures("The interview was delayed by over 40 minutes.")]
    assert got == [(40.0, "delay (minutes)")]
    got = [
        (f.value, f.unit)
        for f in figures("He has 88 million followers compared with only 7.5 million on Truth Social.")
    ]
    assert got == [(88e6, "followers"), (7.5e6, "followers")]
    assert [(f.value, f.unit) for f in figures("Musk bought it for $44 billion in 2022.")] == [(44e9, "money")]
    assert [(f.value, f.unit) for f in figures("Fifteen million accounts voted.")] == [(15e6, "votes")]
    assert [(f.value, f.unit) for f in figures("The quake killed about 200,000 people.")] == [(200000.0, "deaths")]


def test_figures_skip_years_dates_times_and_compound_adjectives():
    assert figures("In 2022 he was banned after the Jan. 6, 2021, attack.") == []
    assert figures("It started at 8 p.m. on August 12.") == []
    assert figures("He posted a 2½-minute video and a two-hour stream.") == []
    assert figures("The strongest one hit at dawn.") == []


def test_resolve_time_against_the_article_date():
    ref = "2024-08-13"  # a Tuesday
    assert resolve_time("Trump spoke on Monday evening.", ref)[:1] == ("2024-08-12",)
    assert resolve_time("He spoke today.", ref)[0] == ref
    assert resolve_time("He spoke yesterday.", ref)[0] == "2024-08-12"
    assert resolve_time("It crashed in May 2023.", ref)[0] == "2023-05"
    assert resolve_time("It had been dormant since last August.", ref)[0] == "2023-08"
    assert resolve_time("DeSantis launched in May.", ref)[0] == "2024-05"
    assert resolve_time("It began on 12 August at 8 p.m.", ref)[:2] == ("2024-08-12", "20:00")
    assert resolve_time("The quake struck on January 12, 2010.", "")[0] == "2010-01-12"
    assert resolve_time("Nothing dated here.", ref) == ("", "", "")
    # Without a reference date, relative expressions stay unresolved.
    assert resolve_time("Trump spoke on Monday.", "") == ("", "", "")


def test_find_quotes_attribution_patterns_and_offsets():
    text = (
        "“There is a lot of opposition to people hearing him,” Musk said.\n"
        '"They have to come in legally, they have to be checked," said Trump.\n'
        '"I think most of the people tuned in tonight," political analyst Brian Sobel told KTVU.\n'
        'In a statement, Trump campaign spokesman Steven Cheung urged the EU to "mind their own business instead."\n'
        "Trump called Harris the “border czar” again.\n"
        "Musk praised him. “You cannot fake bravery under such circumstances,” he said.\n"
    )
    qs = find_quotes(text)
    speakers = [q["speaker"] for q in qs]
    assert speakers == ["Musk", "Trump", "Brian Sobel", "Steven Cheung", "he"]
    for q in qs:
        span = text[q["start"] : q["end"]]
        assert q["quote"] in span
        assert "\n" not in span
    assert all("border czar" not in q["quote"] for q in qs)  # scare quotes are not statements


def test_clean_lede_strips_preambles_and_drops_cut_off_replies():
    assert clean_lede("Here is the summary: Musk interviewed Trump on X [2].") == "Musk interviewed Trump on X [2]."
    assert clean_lede("Musk interviewed Trump on X while millions") == ""


# -- a whole briefing on small articles (fake embedder, scripted model) -------------
class HashEmbedder:
    """Deterministic stand-in for MiniLM: a shared topic direction (sentences of one story
    score about 0.35 apart from any shared word, as MiniLM's do) plus hashed words."""

    dim = 384

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in lexical_tokens(t):
                h = int(hashlib.md5(w.encode()).hexdigest(), 16)
                out[i, 1 + h % (self.dim - 1)] += 1.0
            out[i] /= np.linalg.norm(out[i]) or 1.0
            out[i] *= 0.8
            out[i, 0] = 0.6
            out[i] /= np.linalg.norm(out[i])
        return out


SMALL = [
    (
        "Stream starts late",
        "2024-08-13",
        "The Daily",
        "Stream starts late\n"
        "The live stream with Musk and Trump was delayed by more than 40 minutes on Monday evening.\n"
        "Only 1.1 million were listening to the stream at that moment, the company said.\n"
        "“There is a lot of opposition to people hearing him,” Musk said after the stream began.\n"
        "Musk blamed a massive cyberattack on the servers of the platform for the delay.\n",
    ),
    (
        "Glitches mar Musk stream",
        "2024-08-13",
        "The Courier",
        "Glitches mar Musk stream\n"
        "A message read that details were not available more than 15 minutes after the scheduled start time.\n"
        "More than 120,000 people joined the live stream with Musk and Trump on Monday.\n"
        "Musk blamed the delay on a massive cyberattack on the servers of the platform.\n"
        "“We will proceed with a smaller number of live listeners,” Musk wrote on the platform.\n",
    ),
    (
        "Musk hosts Trump",
        "2024-08-12",
        "The Herald",
        "Musk hosts Trump\n"
        "The live stream with Musk and Trump was delayed by over 40 minutes because of technical problems.\n"
        "Musk blamed the delay on a massive cyberattack against the servers of his platform.\n"
        "The conversation with Musk and Trump lasted about two hours on Monday night.\n",
    ),
]


def _small_event():
    arts = [
        Article(id=f"a{i}", file=f"{i}.txt", text=text, title=title, outlet=outlet, published=pub)
        for i, (title, pub, outlet, text) in enumerate(SMALL)
    ]
    events = group_articles(arts)
    assert len(events) == 1
    return events[0], {a.id: a for a in arts}


def _all_quotes_verbatim(b: Briefing, by_id: dict[str, Article]) -> None:
    cites = b.all_citations()
    assert cites
    for c in cites:
        assert c.quote and by_id[c.article_id].text[c.start : c.end] == c.quote
        assert b.event.articles[c.n - 1].id == c.article_id  # n numbers the briefing's article list


def test_small_briefing_sections_and_citations():
    event, by_id = _small_event()
    b = brief_event(event, HashEmbedder(), llm=None, words=60)
    _all_quotes_verbatim(b, by_id)
    assert b.lede_mode == "extractive" and b.lede.citations
    # Key facts: the cyberattack is reported by all three articles and cites all of them.
    attack = [x for x in b.bullets if "cyberattack" in x.text]
    assert attack and {c.n for c in attack[0].citations} == {1, 2, 3}
    assert b.bullets[0].extra["n_articles"] >= b.bullets[-1].extra["n_articles"]
    # Disagreements: the delay (40 vs 15 minutes) and the audience (1.1 million vs 120,000).
    kinds = {c["measure"]: c for c in b.conflicts}
    assert {"delay (minutes)", "audience"} <= set(kinds)

    def files(side: dict) -> set[str]:
        return {c["file"] for c in side["citations"]}

    delay_values = {sd["value"]: files(sd) for sd in kinds["delay (minutes)"]["sides"]}
    assert delay_values == {40.0: {"0.txt", "2.txt"}, 15.0: {"1.txt"}}
    audience = {sd["value"]: files(sd) for sd in kinds["audience"]["sides"]}
    assert audience == {1.1e6: {"0.txt"}, 120000.0: {"1.txt"}}
    # Quotes with speakers; timeline dated and in order; summary within budget.
    assert {q.extra["speaker"] for q in b.quotes} == {"Musk"}
    assert len(b.quotes) == 2
    dates = [t.extra["date"] for t in b.timeline]
    assert dates and dates == sorted(dates) and "2024-08-12" in dates
    assert 0 < len(b.summary.split()) <= 60
    assert len(brief_event(event, HashEmbedder(), words=12).summary.split()) <= 12


def test_lede_from_the_model_is_verified():
    event, by_id = _small_event()
    good = MockModel(["Musk blamed a massive cyberattack for the delay [1]."])
    b = brief_event(event, HashEmbedder(), llm=good, words=60)
    assert b.lede_mode == "generated"
    assert b.lede.text == "Musk blamed a massive cyberattack for the delay."
    assert b.to_json()["lede"]["model_reply"] == "Musk blamed a massive cyberattack for the delay [1]."
    _all_quotes_verbatim(b, by_id)
    # The prompt carries the passages as data.
    prompt = good.calls[0][-1]["content"]
    assert "Passages:" in prompt and "[1]" in prompt
    bad = MockModel(["The stream drew 60 million listeners and broke every record [1]."])
    b = brief_event(event, HashEmbedder(), llm=bad, words=60)
    assert b.lede_mode == "extractive"  # unsupported figure: dropped, fall back to a sentence
    assert b.to_json()["lede"]["dropped"] == ["The stream drew 60 million listeners and broke every record."]
    assert b.lede.text in {s.text for s in b.summary_items} | {
        " ".join(by_id[c.article_id].text[c.start : c.end].split()) for c in b.lede.citations
    }


def test_lede_copied_from_a_passage_is_labelled_so():
    event, by_id = _small_event()

    def echo(messages):  # repeat passage [1] as the 135M model often does
        line = next(x for x in messages[-1]["content"].splitlines() if x.startswith("[1]"))
        return line + "\n[2] more"

    b = brief_event(event, HashEmbedder(), llm=MockModel(echo), words=60)
    assert b.lede_mode == "copied"
    (c,) = b.lede.citations
    assert " ".join(c.quote.split()) == b.lede.text
    _all_quotes_verbatim(b, by_id)
    meta = MockModel(["The passage reports that Musk blamed a massive cyberattack for the delay [1]."])
    assert brief_event(event, HashEmbedder(), llm=meta, words=60).lede_mode == "extractive"


def test_renderings_escape_and_cite():
    event, _ = _small_event()
    event.articles[0].text += "Musk said <script>alert(1)</script> was fine, a viewer wrote.\n"
    b = brief_event(event, HashEmbedder(), words=60)
    md = to_markdown(b)
    assert md.startswith(f"# {b.headline}")
    assert "## Key facts" in md and "## Where the outlets disagree" in md and "## Sources" in md
    assert re.search(r"\[\d\]", md)
    page = to_html(b)
    assert "<script>" not in page
    assert page.count('class="cite"') >= len(b.bullets)


def test_words_must_be_positive():
    event, _ = _small_event()
    with pytest.raises(RagError, match="positive"):
        brief_event(event, HashEmbedder(), words=0)


# -- the seeds, real embedder (and the real GGUF where marked) ----------------------
# Measured on the seeds with this version and the bundled GGUF: 19 of the 31 gold facts
# (0.613); without the model the same 19. The floor sits just under the measurement.
SEEDS_COVERAGE_FLOOR = 0.6


@pytest.mark.slow
@pytest.mark.model
def test_seed_briefing_with_the_real_model(seeded_rag):
    from conftest import ROOT

    from rag.devtools.brief_eval import run_brief_eval

    result = run_brief_eval(seeded_rag, ROOT / "evals" / "brief_gold.jsonl")
    print("seeds:", {k: v for k, v in result.items() if k != "coverage"}, result["coverage"]["coverage"])
    assert result["seeds_one_event"]
    assert result["citation_validity"]["rate"] == 1.0 and result["citation_validity"]["citations"] > 50
    assert result["coverage"]["coverage"] >= SEEDS_COVERAGE_FLOOR
    assert result["summary_words"] <= 250
    (b,) = build_briefings(seeded_rag)  # cached: the same briefing
    # The audience figures, each side cited to the article that gives it.
    audience = next(c for c in b.conflicts if c["measure"] == "audience")
    sides = {sd["value"]: sd for sd in audience["sides"]}
    for value, outlet_file in ((1.1e6, "002_"), (120000.0, "003_")):
        cites = sides[value]["citations"]
        assert any(c["file"].startswith(outlet_file) for c in cites)
    delay = next(c for c in b.conflicts if c["measure"] == "delay (minutes)")
    assert {sd["value"] for sd in delay["sides"]} >= {40.0, 15.0}
    # Attributed quotes: the quoted words lie inside the cited span.
    assert len({q.extra["speaker"] for q in b.quotes}) >= 4
    for q in b.quotes:
        assert any(q.extra["quote"][:40] in c.quote for c in q.citations)
    assert [t.extra["date"] for t in b.timeline] == sorted(t.extra["date"] for t in b.timeline)
    assert b.lede.citations and b.lede_mode in ("generated", "copied", "extractive")


@pytest.mark.slow
def test_short_summary_and_extractive_lede_without_model(seeded_dir):
    rag = mock_rag(seeded_dir, ["not used"])
    (b,) = build_briefings(rag, words=40, use_llm=False)
    assert 0 < len(b.summary.split()) <= 40
    assert b.lede_mode == "extractive"
    assert rag.llm.calls == []  # the model was not asked


# -- command line -------------------------------------------------------------------
@pytest.mark.slow
def test_cli_json_markdown_and_errors(seeded_dir, tmp_path, capsys):
    from rag.app.cli import main

    d = str(seeded_dir)
    assert main(["brief", "--data-dir", d, "--no-llm", "--json", "--words", "120"]) == 0
    data = json.loads(capsys.readouterr().out)
    (ev,) = data["events"]
    for key in ("id", "title", "articles", "summary", "bullets", "timeline", "quotes", "conflicts"):
        assert key in ev
    assert {"file", "title", "outlet", "published"} <= set(ev["articles"][0])
    cite = ev["bullets"][0]["citations"][0]
    assert {"n", "article_id", "file", "title", "outlet", "published", "quote", "start", "end"} <= set(cite)
    assert len(ev["summary"].split()) <= 120

    out = tmp_path / "brief.md"
    assert main(["brief", "--data-dir", d, "--no-llm", "--event", ev["id"], "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("# ")
    page = tmp_path / "brief.html"
    assert main(["brief", "--data-dir", d, "--no-llm", "--format", "html", "--out", str(page)]) == 0
    html_text = page.read_text(encoding="utf-8")
    assert html_text.startswith("<!doctype html>") and f'id="{ev["id"]}"' in html_text
    assert main(["brief", "--data-dir", d, "--no-llm", "--out", str(tmp_path / "no" / "such" / "dir.md")]) == 1
    assert "does not exist" in capsys.readouterr().err

    assert main(["brief", "--data-dir", d, "--no-llm", "--event", "ev-nope"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("rag: error: no event with id 'ev-nope'") and err.count("\n") == 1

    assert main(["brief", "--data-dir", str(tmp_path / "empty"), "--no-llm"]) == 1
    assert "index is empty" in capsys.readouterr().err

    assert main(["brief", "--data-dir", d, "--no-llm", "--words", "0"]) == 1
    assert "positive" in capsys.readouterr().err


# -- the briefing part of the eval harness ------------------------------------------
def test_fact_coverage_needs_all_keywords_in_one_line():
    event, _ = _small_event()
    b = brief_event(event, HashEmbedder(), words=60)
    from rag.devtools.brief_eval import briefing_lines, fact_coverage

    gold = [
        {"id": "f1", "keywords": ["cyberattack"], "evidence": [{}]},
        {"id": "f2", "keywords": ["15 minutes", "scheduled"], "evidence": [{}]},
        {"id": "f3", "keywords": ["cyberattack", "120,000"], "evidence": [{}]},  # never in one line
        {"id": "f4", "keywords": ["elephant"], "evidence": [{}]},
    ]
    cov = fact_coverage(b, gold)
    assert [f["covered"] for f in cov["facts"]] == [True, True, False, False]
    assert cov["coverage"] == 0.5
    assert any("cyberattack" in line for line in briefing_lines(b))


def test_citation_validity_catches_a_moved_quote(tmp_path):
    event, by_id = _small_event()
    b = brief_event(event, HashEmbedder(), words=60)

    class Store:
        def get_article(self, aid):
            return by_id.get(aid)

    class FakeRag:
        store = Store()

    from rag.devtools.brief_eval import citation_validity

    ok = citation_validity(FakeRag(), [b])
    assert ok["rate"] == 1.0 and ok["citations"] == len(b.all_citations())
    b.bullets[0].citations[0].start += 1  # off by one character
    bad = citation_validity(FakeRag(), [b])
    assert bad["valid"] == ok["valid"] - 1 and len(bad["invalid"]) == 1


def test_rouge_recall_agrees_with_rouge_score_for_one_reference():
    from rouge_score import rouge_scorer

    from rag.devtools.brief_eval import rouge_recall

    ref = "An earthquake of magnitude 8.8 struck Chile on Saturday, killing hundreds of people."
    summ = "A magnitude 8.8 earthquake struck central Chile, killing hundreds."
    want = rouge_scorer.RougeScorer(["rouge1", "rouge2"], use_stemmer=False).score(ref, summ)
    got = rouge_recall(summ, [ref])
    assert got["rouge1"] == round(want["rouge1"].recall, 4) == got["rouge1_mean"]
    assert got["rouge2"] == round(want["rouge2"].recall, 4) == got["rouge2_mean"]


def test_published_multiling_table_is_read_not_hard_coded():
    from conftest import MULTILING

    from rag.devtools.brief_eval import published_table

    if not (MULTILING / "published").is_dir():
        pytest.skip(f"MultiLing corpus not at {MULTILING}")
    table = published_table(MULTILING)
    assert table["ID9"]["role"] == "baseline" and table["ID10"]["role"] == "topline"
    participants = [v["rouge2"] for v in table.values() if v["role"] == "participant"]
    assert len(participants) == 8
    assert max(participants) == pytest.approx(0.1733, abs=1e-4)
    assert table["ID10"]["rouge2"] == pytest.approx(0.2518, abs=1e-4)
