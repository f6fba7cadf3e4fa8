"""Unit tests of the page's pure message builders (rag.ui_messages): no model, no index, no server."""

from __future__ import annotations

import html
import re

from hypothesis import given
from hypothesis import strategies as st

from rag.app import ui_library as ul
from rag.app import ui_messages as um
from rag.types import Answer, Article, Citation

TEXT = (
    "Trump's interview with Musk\n"
    "The conversation began late. Musk blamed a massive attack on X. Listeners waited.\n"
    "Later, about 1.3 million people tuned in."
)
QUOTE = "Musk blamed a massive attack on X."


def _article(title: str = "Trump's interview with Musk", outlet: str = "KTVU") -> Article:
    return Article(id="a1", file="003.txt", text=TEXT, title=title, outlet=outlet, published="2024-08-13")


def _citation(n: int = 1, quote: str = QUOTE, title: str = "", outlet: str = "", start: int | None = None) -> Citation:
    s = TEXT.find(quote) if start is None else start
    return Citation(
        n=n, article_id="a1", file="003.txt", title=title, outlet=outlet, published="", quote=quote, start=s,
        end=s + len(quote),
    )  # fmt: skip


def _unmark(panel: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(r"<mark>(.*?)</mark>", panel, re.S)]


# -- answer text ----------------------------------------------------------------------
def test_markers_become_links_to_their_cards():
    md = um.answer_markdown("It started late [1]. About 1.3 million listened [2].", turn=3)
    assert re.findall(r'href="#(src-\d+-\d+)"', md) == ["src-3-1", "src-3-2"]
    assert "[1]</a>" in md and "[2]</a>" in md


def test_markers_without_a_citation_stay_plain_text():
    md = um.answer_markdown("Late [1] and [7].", turn=1, valid={1})
    assert md.count('class="cite"') == 1
    assert "\\[7\\]" in md  # escaped, shown literally, not a link


def test_answer_text_cannot_inject_html_or_markdown():
    md = um.answer_markdown("<img src=x onerror=alert(1)> *bold* [1]", turn=1)
    assert "<img" not in md
    assert "&lt;img" in md
    assert "\\*bold\\*" in md


def test_streaming_text_hides_the_not_yet_final_numbers():
    shown = um.streaming_markdown("It began late [4]. Musk blamed an attack [2][3]. ")
    assert "[" not in shown
    assert shown.startswith("It began late.") and shown.endswith("▍")


def test_link_markers_keeps_markdown_and_real_links():
    md = um.link_markers("## Event\n- Delay [1]\n- See [2](http://x)", 4, {1, 2}, prefix="brief")
    assert md.startswith('## Event\n- Delay <a class="cite" href="#brief-4-1"')
    assert "[2](http://x)" in md


# -- paragraphs and cards -------------------------------------------------------------
def _span(quote: str, text: str = TEXT) -> tuple[int, int]:
    s = text.find(quote)
    return s, s + len(quote)


def test_quote_is_shown_inside_its_own_paragraph_only():
    paras = um.highlight_paragraphs(TEXT, [_span(QUOTE)])
    assert paras == [[("The conversation began late. ", False), (QUOTE, True), (" Listeners waited.", False)]]


def test_wrong_offsets_fall_back_to_finding_the_quote():
    assert um.locate(TEXT, 0, 5, QUOTE) == _span(QUOTE)
    assert um.locate(TEXT, *_span(QUOTE), QUOTE) == _span(QUOTE)
    assert um.locate(TEXT, 0, 3, "not there") is None
    v = um.source_view(_citation(start=0), _article())  # offsets off, the quote is still found
    assert v.quotes == [QUOTE]


def test_quotes_of_one_paragraph_share_it_and_others_come_in_article_order():
    spans = [_span("Later, about 1.3 million people tuned in."), _span("Listeners waited."), _span(QUOTE)]
    paras = um.highlight_paragraphs(TEXT, spans)
    assert len(paras) == 2
    assert paras[0] == [
        ("The conversation began late. ", False),
        (QUOTE, True),
        (" ", False),
        ("Listeners waited.", True),
    ]
    assert paras[1] == [("Later, about 1.3 million people tuned in.", True)]


def test_overlapping_quotes_are_merged():
    s, e = _span(QUOTE)
    assert um.highlight_paragraphs(TEXT, [(s, e - 5), (s + 3, e)]) == um.highlight_paragraphs(TEXT, [(s, e)])


def test_long_paragraphs_are_trimmed_at_word_boundaries():
    para = " ".join(f"word{i}" for i in range(400))
    quote = "word200 word201"
    [[(before, b_marked), (q, q_marked), (after, a_marked)]] = um.highlight_paragraphs(
        para, [_span(quote, para)], limit=60
    )
    assert (b_marked, q_marked, a_marked) == (False, True, False)
    assert q == quote
    assert before.startswith("…") and after.endswith("…")
    assert len(before) <= 61 and len(after) <= 61
    assert before[1:].split()[0].startswith("word")  # no half word after the ellipsis
    assert para.find(before[1:] + q + after[:-1]) >= 0


@given(st.lists(st.text(alphabet="ab .\n", min_size=0, max_size=30), min_size=1, max_size=6), st.data())
def test_a_highlighted_paragraph_is_the_verbatim_line_around_the_quote(parts, data):
    text = "".join(parts)
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    paras = um.highlight_paragraphs(text, [(start, end)], limit=10_000)
    if start == end:
        assert paras == []
        return
    [segs] = paras
    assert [t for t, m in segs if m] == [text[start:end]]
    joined = "".join(t for t, _ in segs)
    p0 = text.rfind("\n", 0, start) + 1
    p1 = text.find("\n", end)
    assert joined == text[p0 : len(text) if p1 < 0 else p1]


def test_card_shows_outlet_headline_date_and_highlighted_quote():
    v = um.source_view(_citation(outlet="KTVU"), _article())
    card = um.source_card_html(v, turn=2)
    assert 'id="src-2-1"' in card
    assert "KTVU" in card and "2024-08-13" in card and "Trump&#x27;s interview with Musk" in card
    assert _unmark(card) == [QUOTE]
    assert "The conversation began late." in card and "Listeners waited." in card
    assert "Later, about" not in card  # the next paragraph is not shown


def test_article_without_headline_uses_its_opening_words_marked_as_such():
    v = um.source_view(_citation(), _article(title="", outlet=""))
    assert not v.headline
    assert v.title == _article(title="").display_title
    assert v.source == "003.txt"  # no outlet: the file name
    assert "src-title-fallback" in um.source_card_html(v, 1)


def test_removed_article_still_shows_the_quote():
    v = um.source_view(_citation(title="T", outlet="O"), None)
    assert v.paragraphs == [[(QUOTE, True)]]
    assert _unmark(um.source_card_html(v, 1)) == [QUOTE]


def test_card_escapes_article_text():
    art = Article(id="a1", file="x.txt", text="<b>bold</b> claim here.", title="<script>t</script>")
    c = Citation(1, "a1", "x.txt", "", "", "", "claim here.", 12, 23)
    card = um.source_card_html(um.source_view(c, art), 1)
    assert "<script>" not in card and "<b>" not in card
    assert "&lt;b&gt;bold&lt;/b&gt; <mark>claim here.</mark>" in card


# -- turns, panel and chat -------------------------------------------------------------
def _answered(turn: int = 1) -> tuple[um.Turn, Answer]:
    a = Answer(
        question="Who was blamed?", status="answered", mode="generated",
        answer="Musk blamed a massive attack [1].", citations=[_citation(outlet="KTVU")],
    )  # fmt: skip
    return um.Turn(turn=turn, question="Who was blamed?"), a


def test_finished_answer_links_markers_to_panel_cards():
    t, a = _answered(turn=2)
    um.finish_turn(t, a, {"a1": _article()})
    assert t.status == "answered" and t.answer_text == a.answer
    target = re.search(r'href="#([^"]+)"', t.shown).group(1)
    panel = um.sources_panel_html([t])
    assert f'id="{target}"' in panel
    assert _unmark(panel) == [QUOTE]


def test_refusal_says_not_in_the_articles_and_shows_related_passages():
    a = Answer(
        question="What did it cost?", status="refused", mode="refused", answer="The articles don't say.",
        related=[_citation(n=3), _citation(n=4, quote="Listeners waited.")],
    )  # fmt: skip
    t = um.finish_turn(um.Turn(turn=1, question="What did it cost?"), a, {"a1": _article()})
    assert t.status == "refused"
    assert "Not in the articles" in t.shown
    assert 'class="cite"' not in t.shown  # nothing cited
    panel = um.sources_panel_html([t])
    assert "Related passages" in panel and "Not in the articles" in panel
    assert _unmark(panel) == [QUOTE, "Listeners waited."]
    assert "src-num-related" in panel


def test_extractive_answers_say_they_are_quotes():
    t, a = _answered()
    a.mode = "extractive"
    assert "Quoted directly" in um.finish_turn(t, a, {}).shown


def test_error_turns_are_shown_but_not_used_as_history():
    ok, a = _answered(1)
    um.finish_turn(ok, a, {})
    bad = um.fail_turn(um.Turn(turn=2, question="x" * 5), "the question is empty")
    pending = um.Turn(turn=3, question="next?")
    turns = [ok, bad, pending]
    assert um.chat_history(turns) == [("Who was blamed?", a.answer)]
    msgs = um.chat_messages(turns)
    assert [m["role"] for m in msgs] == ["user", "assistant", "user", "assistant", "user"]
    assert "Could not answer" in msgs[3]["content"]


def test_panel_keeps_earlier_questions_folded_latest_first():
    t1, a1 = _answered(1)
    um.finish_turn(t1, a1, {"a1": _article()})
    t2 = um.Turn(turn=2, question="And then?")
    panel = um.sources_panel_html([t1, t2])
    assert panel.index("And then?") < panel.index("Earlier: Who was blamed?")
    assert "Searching the articles" in panel
    assert 'id="src-1-1"' in panel  # earlier cards stay reachable from their markers
    assert um.sources_panel_html([]) == um.EMPTY_PANEL


# -- library, uploads, examples, metrics ------------------------------------------------
ROWS = [
    {"article_id": "b", "file": "b.txt", "title": "", "outlet": "", "published": "", "chunks": 3},
    {
        "article_id": "a",
        "file": "a.txt",
        "title": "Late start",
        "outlet": "CNN",
        "published": "2024-08-13",
        "chunks": 9,
    },
]


def test_library_rows_newest_first_with_placeholders():
    rows = ul.library_rows(ROWS)
    assert rows[0] == ["Late start", "CNN", "2024-08-13", 9, "a.txt"]
    assert rows[1][:4] == ["(no headline)", "—", "—", 3]
    assert len(ul.LIBRARY_HEADERS) == len(rows[0])
    assert ul.library_summary(ROWS) == "2 articles · 12 passages indexed"
    assert "empty" in ul.library_summary([])


def test_article_choices_map_labels_to_ids():
    assert dict((v, k) for k, v in ul.article_choices(ROWS)) == {
        "a": "CNN — Late start (a.txt · a)",
        "b": "(no headline) (b.txt · b)",
    }


def test_upload_lines_give_each_file_its_result_and_reason():
    report = {
        "added": ["new.txt", "feed.jsonl#1"],
        "updated": [],
        "unchanged": ["old.md"],
        "skipped": [
            {"path": "/tmp/up/empty.txt", "reason": "no article text left after cleaning"},
            {"path": "/tmp/up/feed.jsonl#2", "reason": "malformed JSON (Expecting value)"},
        ],
    }
    up = ["/tmp/up/new.txt", "/tmp/up/old.md", "/tmp/up/empty.txt", "/tmp/up/feed.jsonl"]
    lines = ul.upload_lines(report, up).splitlines()
    assert lines[0] == "- **new.txt**: added"
    assert lines[1] == "- **old.md**: already in the index"
    assert lines[2] == "- **empty.txt**: skipped (no article text left after cleaning)"
    assert lines[3] == "- **feed.jsonl**: added; skipped #2 (malformed JSON (Expecting value))"


def test_examples_only_when_the_seed_articles_are_indexed():
    assert ul.example_questions(ROWS, {"a.txt"}) == ul.SEED_EXAMPLES
    assert ul.example_questions(ROWS, {"000.txt"}) == []


def test_metrics_table_keeps_numbers_only():
    md = ul.metrics_markdown({"accuracy": 0.8766, "n": 85, "ok": True, "by_type": {"x": 1}, "note": "hi"})
    assert md.splitlines()[2:] == ["| accuracy | 0.877 |", "| n | 85 |"]
    assert ul.metrics_markdown({"note": "hi"}) == ""


def test_briefing_sources_group_quotes_of_one_article_in_one_card():
    cites = [
        _citation(n=2),
        _citation(n=2, quote="Listeners waited."),
        _citation(n=2),  # the same quote twice: marked once
        _citation(n=1, quote="Later, about 1.3 million people tuned in."),
    ]
    views = um.grouped_views(cites, {"a1": _article()})
    assert [v.n for v in views] == [1, 2]
    card = um.source_card_html(views[1], turn=1, prefix="brief")
    assert 'id="brief-1-2"' in card
    assert _unmark(card) == [QUOTE, "Listeners waited."]
    assert card.count('<p class="src-text">') == 1  # both in one paragraph
    gone = um.grouped_views(cites, {})  # article removed since: the quotes alone
    assert gone[1].quotes == [QUOTE, "Listeners waited."]


def test_answer_note_counts_sources_and_is_absent_for_refusals():
    t, a = _answered()
    assert "Based on 1 source." in um.final_markdown(a, 1)
    a.citations = a.citations * 2
    assert "2 sources" in um.final_markdown(a, 1)
    refused = Answer(question="q", status="refused", mode="refused", answer="The articles don't say.")
    md = um.final_markdown(refused, 1)
    assert md.startswith("**Not in the articles.**") and "Nothing in the index comes close" in md
