"""The page's Library, Evals and Briefings tabs (built inside :func:`rag.app.ui.build_app`)."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from pathlib import Path

import gradio as gr

from rag.app import ui_library as ul
from rag.app import ui_messages as um
from rag.app.ui_feeds import feeds_section
from rag.errors import RagError

log = logging.getLogger("rag.app.ui")
INTERNAL_ERROR = "something went wrong inside the app (a bug); the details are in the server's log"
UPLOAD_TYPES = [".txt", ".md", ".html", ".htm", ".json", ".jsonl"]


def articles_by_id(rag, ids: list[str]) -> dict:
    """The cited articles by id (None for one removed since it was cited)."""
    out = {}
    for aid in dict.fromkeys(ids):
        try:
            out[aid] = rag.article(aid)
        except RagError:
            out[aid] = None  # removed since it was cited: the card shows the quote alone
    return out


def library_tab(rag, sources: list[dict]) -> tuple[Callable[[], tuple], tuple]:
    summary = gr.Markdown(ul.library_summary(sources), elem_id="library-summary")
    table = gr.Dataframe(
        value=ul.library_rows(sources),
        headers=ul.LIBRARY_HEADERS,
        datatype=["str", "str", "str", "number", "str"],
        type="array",
        interactive=False,
        wrap=True,
        max_height=420,
        column_widths=["42%", "18%", "11%", "9%", "20%"],
        elem_id="library",
    )
    with gr.Row(equal_height=False):
        with gr.Column():
            files = gr.File(
                label=f"Add articles (.txt .md .html .json .jsonl, up to {rag.settings.max_file_mb:g} MB each)",
                file_count="multiple",
                file_types=UPLOAD_TYPES,
                type="filepath",
                height=140,
            )
            add = gr.Button("Add to the index", variant="primary")
            result = gr.Markdown(elem_id="upload-result")
        with gr.Column():
            pick = gr.Dropdown(
                choices=ul.article_choices(sources),
                label="Remove an article (pick it, or paste its ID)",
                value=None,
                allow_custom_value=True,
                filterable=True,
            )
            remove = gr.Button("Remove from the index", variant="stop")
            removed = gr.Markdown()

    def refreshed():
        rows = rag.sources()
        return ul.library_summary(rows), ul.library_rows(rows), gr.update(choices=ul.article_choices(rows), value=None)

    def do_add(paths: list[str] | None):
        if not paths:
            raise gr.Error("Choose one or more files first.", print_exception=False)
        try:
            report = rag.ingest([Path(p) for p in paths], sync=False)
        except RagError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        return (ul.upload_lines(report.to_json(), list(paths)), None, *refreshed())

    def do_remove(article_id: str | None):
        if not article_id:
            raise gr.Error("Pick an article to remove.", print_exception=False)
        try:
            rag.remove(article_id)
        except RagError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        return (f"Removed `{article_id}`.", *refreshed())

    add.click(
        do_add,
        [files],
        [result, files, summary, table, pick],
        concurrency_limit=1,
        concurrency_id="index",
        api_name="add_articles",
        api_visibility="undocumented",
    )
    remove.click(
        do_remove,
        [pick],
        [removed, summary, table, pick],
        concurrency_limit=1,
        concurrency_id="index",
        api_name="remove_article",
        api_visibility="undocumented",
    )
    feeds_section(rag, refreshed, (summary, table, pick))
    return refreshed, (summary, table, pick)


def evals_tab(report: dict) -> None:
    metrics = ul.metrics_markdown(report.get("metrics") or {})
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            gr.Markdown(report.get("markdown") or "", elem_id="eval-report")
        with gr.Column(scale=2):
            if report.get("chart"):
                gr.Image(value=report["chart"], show_label=False, interactive=False, buttons=[])
            if metrics:
                gr.Markdown(metrics)


def briefings_tab(rag) -> bool:
    """The Briefings tab; returns whether it was added.

    Uses ``rag.brief.build.build_briefings(rag, event_id, words)``, ``to_markdown(b)`` and
    ``b.all_citations()``, and ``rag.brief.events.find_events(rag)`` for the event picker.
    """
    from rag.brief import build as brief
    from rag.brief.chart import coverage_svg
    from rag.brief.events import find_events

    def event_choices() -> list[tuple[str, str]]:
        try:
            events = find_events(rag)
        except RagError:
            return []
        return [(ul.event_label(e.title, len(e.articles), e.id), e.id) for e in events]

    with gr.Tab("Briefings", id="briefings-tab") as tab:
        with gr.Row(equal_height=True):
            first = event_choices()
            pick = gr.Dropdown(
                choices=first,
                label="Event",
                value=first[0][1] if first else None,
                allow_custom_value=True,  # the list is refreshed per visitor when the tab opens
                scale=4,
                elem_id="brief-event",
            )
            words = gr.Slider(100, 500, value=250, step=50, label="Summary length (words)", scale=2)
            show = gr.Button("Write the briefing", variant="primary", scale=1, elem_id="brief-go")
        with gr.Row(equal_height=True):
            since = gr.Textbox(label="Digest from (YYYY-MM-DD)", scale=2, elem_id="digest-since")
            until = gr.Textbox(label="to (optional)", scale=2, elem_id="digest-until")
            digest = gr.Button("Digest of the period", scale=1, elem_id="digest-go")
        with gr.Row(equal_height=False, elem_id="brief-row"):
            with gr.Column(scale=3, min_width=420):
                text = gr.Markdown(
                    "Pick an event and press **Write the briefing**: a summary, key facts, a timeline and "
                    "who said what, every line cited.",
                    elem_classes=["brief-text"],
                    elem_id="brief-text",
                )
                chart = gr.HTML("", elem_id="brief-chart")
                download = gr.DownloadButton("Download as Markdown", visible=False, elem_id="brief-download")
            with gr.Column(scale=2, min_width=320):
                panel = gr.HTML(um.EMPTY_PANEL, elem_id="brief-sources", js_on_load=None)

        def refresh():
            choices = event_choices()
            return gr.update(choices=choices, value=choices[0][1] if choices else None)

        def write(event_id: str | None, n_words: float):
            if not event_id:
                raise gr.Error("Pick an event first (the index may be empty).", print_exception=False)
            try:
                b = brief.build_briefings(rag, event_id=event_id, words=int(n_words))[0]
            except RagError as exc:
                raise gr.Error(str(exc), print_exception=False) from None
            except Exception:
                log.exception("briefing %s failed", event_id)
                raise gr.Error(INTERNAL_ERROR, print_exception=False) from None
            md = brief.to_markdown(b)
            cites = b.all_citations()
            t = um.Turn(turn=1, question=b.headline or b.title, status="answered")
            articles = articles_by_id(rag, [c.article_id for c in cites])
            t.sources = um.grouped_views(cites, articles)
            body = um.link_markers(md, 1, {c.n for c in cites}, prefix="brief")
            out = Path(tempfile.mkdtemp(prefix="rag-brief-")) / f"briefing-{b.id}.md"
            out.write_text(md, encoding="utf-8")
            panel_html = um.sources_panel_html([t], prefix="brief")
            return body, coverage_svg(b), panel_html, gr.update(value=str(out), visible=True)

        def write_digest(since_text: str, until_text: str, n_words: float):
            from rag.brief.digest import build_digest, window
            from rag.brief.render import digest_to_markdown

            try:
                lo, hi = window(since_text.strip() or None, until_text.strip() or None)
                entries = build_digest(rag, since_text.strip() or None, until_text.strip() or None, int(n_words))
            except RagError as exc:
                raise gr.Error(str(exc), print_exception=False) from None
            except Exception:
                log.exception("digest %s..%s failed", since_text, until_text)
                raise gr.Error(INTERNAL_ERROR, print_exception=False) from None
            md = digest_to_markdown(entries, lo, hi)
            out = Path(tempfile.mkdtemp(prefix="rag-digest-")) / "digest.md"
            out.write_text(md, encoding="utf-8")
            return md, "", um.EMPTY_PANEL, gr.update(value=str(out), visible=True)

        show.click(
            write,
            [pick, words],
            [text, chart, panel, download],
            concurrency_limit=1,
            concurrency_id="model",
            api_name="briefing",
            api_visibility="undocumented",
        )
        digest.click(
            write_digest,
            [since, until, words],
            [text, chart, panel, download],
            concurrency_limit=1,
            concurrency_id="model",
            api_name="digest",
            api_visibility="undocumented",
        )
        # The events are found when the tab is opened, so the list follows the Library.
        tab.select(refresh, None, [pick], queue=False, show_progress="hidden", api_visibility="private")
    return True
