"""The chat page: a Gradio Blocks app over :class:`rag.api.Rag`.

``rag serve`` (``run_cli``) binds 127.0.0.1 by default, never makes a share link
and refuses a non-loopback address without ``--auth user:pass`` (or ``$RAG_AUTH``).
Callbacks only call the Rag API and the pure functions of :mod:`rag.ui_messages`.

The model answers one question at a time: every event that runs it shares the
``model`` concurrency group (limit 1) behind a bounded queue, so other visitors
see their queue position while the page stays responsive.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import socket
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from rag import ui_messages as um
from rag.errors import RagError

log = logging.getLogger("rag.ui")
TITLE = "News Desk"
INTERNAL_ERROR = "something went wrong inside the app (a bug); the details are in the server's log"
QUEUE_MAX = 16  # questions waiting at most; further visitors are told the queue is full
UPLOAD_TYPES = [".txt", ".md", ".html", ".htm", ".json", ".jsonl"]
SYSTEM_FONTS = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"]
MONO_FONTS = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Liberation Mono", "monospace"]

# Clicking a [n] marker scrolls to its source card and highlights it (no network, no framework).
CITE_JS = """
<script>
(function () {
  function show(target) {
    var card = document.getElementById(target);
    if (!card) return false;
    var folded = card.closest('details');
    if (folded) folded.open = true;
    document.querySelectorAll('.src-card.active').forEach(function (c) { c.classList.remove('active'); });
    card.classList.add('active');
    card.scrollIntoView({behavior: 'smooth', block: 'nearest'});
    return true;
  }
  document.addEventListener('click', function (ev) {
    var a = ev.target && ev.target.closest ? ev.target.closest('a.cite') : null;
    if (!a) return;
    ev.preventDefault();
    ev.stopPropagation();
    var target = a.getAttribute('data-target') || (a.getAttribute('href') || '').replace(/^#/, '');
    show(target);
  }, true);
})();
</script>
"""

CSS = """
.gradio-container { max-width: 1320px !important; width: 100% !important; margin: 0 auto !important; }
footer { display: none !important; }
#app-header { display: flex; align-items: flex-end; justify-content: space-between; gap: 16px;
  padding: 6px 2px 10px; border-bottom: 1px solid var(--border-color-primary); margin-bottom: 4px; }
#app-header h1 { font-size: 1.45rem; font-weight: 700; margin: 0; letter-spacing: -0.01em; }
#app-header .tagline { margin: 2px 0 0; color: var(--body-text-color-subdued); font-size: 0.92rem; }
#app-header .pill { font-size: 0.8rem; color: var(--body-text-color-subdued); white-space: nowrap;
  border: 1px solid var(--border-color-primary); border-radius: 999px; padding: 3px 10px; }
#app-header .pill b { color: var(--body-text-color); }
#chat a.cite, .brief-text a.cite { font-size: 0.72em; vertical-align: super; line-height: 0; font-weight: 700;
  text-decoration: none; color: var(--color-accent); padding: 0 1px; cursor: pointer; }
#chat a.cite:hover, .brief-text a.cite:hover { text-decoration: underline; }
#chat .placeholder { text-align: center; }
#chat .message .prose, #chat .message .md { color: var(--body-text-color); opacity: 1 !important; }
#library, #library * { font-family: var(--font) !important; }
#chat .placeholder h3 { margin-bottom: 4px; }
#chat .answer-note { font-size: 0.8em; color: var(--body-text-color-subdued); }
#sources, #brief-sources { max-height: 560px; overflow-y: auto !important; }
#brief-row { align-items: stretch !important; }
#brief-sources { position: sticky; top: 12px; max-height: calc(100vh - 24px); }
#header .html-container { padding: 0 !important; }
#sources .html-container, #brief-sources .html-container, #ask-note .html-container { padding: 0 6px 0 0 !important; }
.src-empty { border: 1px dashed var(--border-color-primary); border-radius: 10px; padding: 16px 18px;
  color: var(--body-text-color-subdued); font-size: 0.92rem; line-height: 1.5; }
.src-empty-title, .src-heading { font-weight: 700; font-size: 0.8rem; text-transform: uppercase;
  letter-spacing: 0.06em; color: var(--body-text-color-subdued); margin: 0 0 6px; }
.src-question { font-weight: 600; margin: 0 0 10px; font-size: 0.95rem; }
.src-status { color: var(--body-text-color-subdued); font-style: italic; margin: 0; }
.src-refused { margin: 0 0 10px; font-size: 0.92rem; }
.src-card { border: 1px solid var(--border-color-primary); border-left: 3px solid var(--color-accent);
  border-radius: 8px; padding: 10px 12px 8px; margin: 0 0 10px; background: var(--background-fill-primary);
  transition: box-shadow 0.25s, background-color 0.25s; scroll-margin: 8px; }
.src-card.active { box-shadow: 0 0 0 2px var(--color-accent); background: var(--color-accent-soft); }
.src-head { display: flex; gap: 10px; align-items: flex-start; }
.src-num { flex: none; display: inline-flex; align-items: center; justify-content: center; min-width: 22px;
  height: 22px; border-radius: 11px; background: var(--color-accent); color: #fff; font-weight: 700;
  font-size: 0.75rem; margin-top: 1px; }
.src-num-related { background: var(--body-text-color-subdued); }
.src-meta { font-size: 0.72rem; text-transform: uppercase; letter-spacing: 0.05em; font-weight: 600;
  color: var(--body-text-color-subdued); }
.src-file { text-transform: none; letter-spacing: 0; font-weight: 400; font-family: var(--font-mono); }
.src-file-note { margin-left: 6px; }
.src-title { font-weight: 600; font-size: 0.95rem; line-height: 1.3; margin-top: 1px; }
.src-title-fallback { font-weight: 400; font-style: italic; color: var(--body-text-color-subdued); }
.src-text { font-size: 0.88rem; line-height: 1.55; margin: 8px 0 2px; color: var(--body-text-color); }
.src-text mark { background: #fde68a; color: #1f2937; padding: 1px 2px; border-radius: 3px; }
.src-related { border-left-color: var(--border-color-accent-subdued, #cbd5e1); }
.src-related .src-text mark { background: #e2e8f0; }
.src-earlier { margin-top: 12px; border-top: 1px solid var(--border-color-primary); padding-top: 8px; }
.src-earlier summary { cursor: pointer; color: var(--body-text-color-subdued); font-size: 0.88rem; }
.src-earlier[open] summary { margin-bottom: 8px; }
#upload-result ul { margin-top: 0; }
.ask-note { font-size: 0.78rem; color: var(--body-text-color-subdued); margin: 2px 2px 0; }
"""

_Cb = Callable[..., Any]


# -- launching ------------------------------------------------------------------
def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine.

    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("::1"), is_loopback("0.0.0.0")
    (True, True, True, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """``user:pass`` -> (user, pass); None when not given.

    >>> parse_auth("ann:s3cr:et")
    ('ann', 's3cr:et')
    """
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise RagError("--auth (or RAG_AUTH) must look like user:password")
    return user, password


def theme() -> gr.themes.Base:
    """The Default theme with system fonts only (no web fonts to fetch)."""
    return gr.themes.Default(primary_hue="blue", neutral_hue="slate", font=SYSTEM_FONTS, font_mono=MONO_FONTS)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def start(
    rag, host: str = "127.0.0.1", port: int = 7860, auth: tuple[str, str] | None = None, quiet: bool = True
) -> tuple[gr.Blocks, str]:
    """Build the app and launch it without blocking; returns (demo, local url)."""
    if not is_loopback(host) and auth is None:
        raise RagError(f"refusing to serve on {host} without a password: add --auth user:password (or set RAG_AUTH)")
    demo = build_app(rag)
    mb = rag.settings.max_file_mb
    try:
        _, url, _ = demo.launch(
            server_name=host,
            server_port=port,
            auth=auth,
            share=False,
            prevent_thread_lock=True,
            quiet=quiet,
            inbrowser=False,
            show_error=True,
            ssr_mode=False,
            mcp_server=False,
            pwa=False,
            footer_links=[],
            max_file_size=f"{int(mb * 4)}mb",  # the ingest check (max_file_mb) gives the per-file reason
            theme=theme(),
            css=CSS,
            head=CITE_JS,
        )
    except OSError as exc:
        log.debug("launch failed: %s", exc)
        raise RagError(
            f"cannot listen on {host}:{port} (is something else using it?): pick another with --port"
        ) from None
    return demo, url


def run_cli(rag, args: argparse.Namespace) -> int:
    """``rag serve``: ingest seeds/ into an empty index, launch the page, print its address, wait."""
    from rag.cli import SEEDS

    auth = parse_auth(getattr(args, "auth", None) or os.environ.get("RAG_AUTH"))
    host, port = args.host, args.port
    if not is_loopback(host) and auth is None:
        raise RagError(f"refusing to serve on {host} without a password: add --auth user:password (or set RAG_AUTH)")
    if rag.store.n_chunks() == 0 and not args.no_ingest:
        print(f"The index is empty: ingesting the sample articles in {SEEDS} …", flush=True)
        report = rag.ingest([SEEDS], sync=False)
        print(f"  added {len(report.added)} articles ({report.chunks_added} passages)", flush=True)
    print("Loading the model …", flush=True)
    rag.retriever.lexical()  # warm the BM25 index and the embedder before the first visitor
    _ = rag.llm
    demo, url = start(rag, host, port, auth)
    shown = url if is_loopback(host) else f"http://{host}:{port}/"
    print(f"News Desk is running: open {shown} in a browser (Ctrl+C to stop).", flush=True)
    try:
        demo.block_thread()
    except KeyboardInterrupt:
        pass
    finally:
        demo.close()
    return 0


# -- callbacks --------------------------------------------------------------------
def _articles(rag, ids: list[str]) -> dict:
    out = {}
    for aid in dict.fromkeys(ids):
        try:
            out[aid] = rag.article(aid)
        except RagError:
            out[aid] = None  # removed since it was cited: the card shows the quote alone
    return out


BUSY = "Still answering the last question: wait for it, or press Clear."
EMPTY = "Type a question first."


def _chat_callbacks(rag) -> tuple[_Cb, _Cb, _Cb, _Cb]:
    def post(question: str, turns: list[um.Turn]):
        """Show the question at once (no queue). A refusal leaves everything as it was and says why."""
        q = (question or "").strip()
        refusal = EMPTY if not q else BUSY if turns and turns[-1].status == "pending" else ""
        if refusal:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), refusal
        turns = list(turns or [])
        turns.append(um.Turn(turn=len(turns) + 1, question=q))
        return um.chat_messages(turns), "", turns, um.sources_panel_html(turns), ""

    def gate(refusal: str) -> None:
        """Stops the chain with a notice (an event without outputs: nothing else is marked as failed)."""
        if refusal:
            raise gr.Error(refusal, duration=4, print_exception=False, title="Not asked")

    def answer(turns: list[um.Turn]) -> Iterator[tuple]:
        if not turns or turns[-1].status != "pending":
            return
        t = turns[-1]
        history = um.chat_history(turns[:-1])
        final = None
        text = ""
        try:
            for event in rag.ask_stream(t.question, history):
                if event.kind == "text":
                    text += event.text
                    t.shown = um.streaming_markdown(text)
                    yield um.chat_messages(turns), gr.skip(), turns
                else:
                    final = event.answer
            if final is None:
                raise RagError("the answer stopped early")
            cites = final.citations if final.status == "answered" else final.related
            um.finish_turn(t, final, _articles(rag, [c.article_id for c in cites]))
        except RagError as exc:
            um.fail_turn(t, str(exc))
        except Exception:  # a bug, not the user's doing: keep the page usable, log the details
            log.exception("answering %r failed", t.question)
            um.fail_turn(t, INTERNAL_ERROR)
        yield um.chat_messages(turns), um.sources_panel_html(turns), turns

    def clear():
        return [], "", [], um.sources_panel_html([])

    return post, gate, answer, clear


def _ask_api(rag) -> _Cb:
    def ask(question: str) -> dict:
        """Answer one question (no conversation); the Answer as JSON with its citations."""

        try:
            return rag.ask(question).to_json()
        except RagError as exc:
            raise gr.Error(str(exc), print_exception=False) from None

    return ask


# -- tabs ---------------------------------------------------------------------------
def _chat_tab(rag, sources: list[dict]) -> None:
    from rag.cli import SEEDS

    post, gate, answer, clear = _chat_callbacks(rag)
    seed_files = {p.name for p in SEEDS.glob("*") if p.is_file()}
    examples = um.example_questions(sources, seed_files)
    turns = gr.State([])
    with gr.Row(equal_height=False, elem_id="chat-row"):
        with gr.Column(scale=3, min_width=420):
            chatbot = gr.Chatbot(
                elem_id="chat",
                show_label=False,
                height=480,
                layout="bubble",
                feedback_options=None,
                buttons=[],
                placeholder=(
                    "### Ask about the news in your library\n"
                    "Answers are built from the articles only. Click a number like **[1]** to read the passage "
                    "it comes from."
                ),
                examples=[{"text": q} for q in examples] or None,
                latex_delimiters=[],
            )
            with gr.Row(equal_height=True, elem_id="ask-row"):
                box = gr.Textbox(
                    placeholder="Ask a question about the articles…",
                    show_label=False,
                    container=False,
                    lines=1,
                    max_lines=4,
                    scale=8,
                    elem_id="question",
                    autofocus=True,
                )
                send = gr.Button("Ask", variant="primary", scale=1, min_width=90, elem_id="ask")
                clear_btn = gr.Button("Clear", variant="secondary", scale=1, min_width=90, elem_id="clear")
            gr.HTML(
                '<p class="ask-note">Answers come only from the articles in the Library, and the model answers '
                "one question at a time: when someone else is asking, your place in the queue is shown.</p>",
                js_on_load=None,
                elem_id="ask-note",
            )
        with gr.Column(scale=2, min_width=320):
            panel = gr.HTML(um.sources_panel_html([]), elem_id="sources", js_on_load=None)

    refusal = gr.State("")

    def chain(event) -> Any:
        return (
            event(
                post,
                [box, turns],
                [chatbot, box, turns, panel, refusal],
                queue=False,
                show_progress="hidden",
                api_visibility="private",
            )
            # Queued (Gradio shows errors of queued events only), never waiting for the model.
            .success(gate, [refusal], None, concurrency_limit=None, show_progress="hidden", api_visibility="private")
            .success(
                answer,
                [turns],
                [chatbot, panel, turns],
                concurrency_limit=1,
                concurrency_id="model",
                show_progress="minimal",
                api_visibility="private",
            )
        )

    def pick_example(evt: gr.SelectData) -> str:
        return evt.value["text"] if isinstance(evt.value, dict) else str(evt.value)

    running = [
        chain(box.submit),
        chain(send.click),
        chain(chatbot.example_select(pick_example, None, [box], queue=False, api_visibility="private").success),
    ]
    # Clearing stops an answer still being written, so it cannot come back afterwards.
    for trigger in (clear_btn.click, chatbot.clear):
        trigger(clear, None, [chatbot, box, turns, panel], cancels=running, queue=False, api_visibility="private")

    # For API clients (gradio_client): the chat as the page runs it (same state, same callbacks) ...
    def chat_api(question: str, state: list) -> Iterator[tuple]:
        messages, _, state, panel_html, why = post(question, state)
        gate(why)
        yield messages, panel_html, state
        yield from answer(state)

    api_q = gr.Textbox(visible=False)
    api_q.submit(
        chat_api, [api_q, turns], [chatbot, panel, turns], api_name="chat", concurrency_limit=1, concurrency_id="model"
    )
    # ... and one question without a conversation: Answer.to_json().
    api_q2 = gr.Textbox(visible=False)
    api_out = gr.JSON(visible=False)
    api_q2.submit(_ask_api(rag), [api_q2], [api_out], api_name="ask", concurrency_limit=1, concurrency_id="model")


def _library_tab(rag, sources: list[dict]) -> tuple[Callable[[], tuple], tuple]:
    summary = gr.Markdown(um.library_summary(sources), elem_id="library-summary")
    table = gr.Dataframe(
        value=um.library_rows(sources),
        headers=um.LIBRARY_HEADERS,
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
                choices=um.article_choices(sources),
                label="Remove an article (pick it, or paste its ID)",
                value=None,
                allow_custom_value=True,
                filterable=True,
            )
            remove = gr.Button("Remove from the index", variant="stop")
            removed = gr.Markdown()

    def refreshed():
        rows = rag.sources()
        return um.library_summary(rows), um.library_rows(rows), gr.update(choices=um.article_choices(rows), value=None)

    def do_add(paths: list[str] | None):
        if not paths:
            raise gr.Error("Choose one or more files first.", print_exception=False)
        try:
            report = rag.ingest([Path(p) for p in paths], sync=False)
        except RagError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        return (um.upload_lines(report.to_json(), list(paths)), None, *refreshed())

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
    return refreshed, (summary, table, pick)


def _latest_eval_report() -> dict | None:
    try:
        from rag.evals import latest_report
    except ImportError:
        return None
    try:
        return latest_report()
    except (OSError, ValueError, KeyError):
        return None


def _evals_tab(report: dict) -> None:
    metrics = um.metrics_markdown(report.get("metrics") or {})
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            gr.Markdown(report.get("markdown") or "", elem_id="eval-report")
        with gr.Column(scale=2):
            if report.get("chart"):
                gr.Image(value=report["chart"], show_label=False, interactive=False, buttons=[])
            if metrics:
                gr.Markdown(metrics)


def _briefings_tab(rag) -> bool:
    """The Briefings tab, added only when :mod:`rag.brief` is importable; returns whether it was added.

    Uses ``rag.brief.build_briefings(rag, event_id, words)``, ``to_markdown(b)`` and
    ``b.all_citations()``, and ``rag.events.find_events(rag)`` for the event picker.
    """
    try:
        from rag import brief
        from rag.events import find_events
    except ImportError:
        return False

    def event_choices() -> list[tuple[str, str]]:
        try:
            events = find_events(rag)
        except RagError:
            return []
        return [(um.event_label(e.title, len(e.articles), e.id), e.id) for e in events]

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
        with gr.Row(equal_height=False, elem_id="brief-row"):
            with gr.Column(scale=3, min_width=420):
                text = gr.Markdown(
                    "Pick an event and press **Write the briefing**: a summary, key facts, a timeline and "
                    "who said what, every line cited.",
                    elem_classes=["brief-text"],
                    elem_id="brief-text",
                )
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
            articles = _articles(rag, [c.article_id for c in cites])
            t.sources = um.grouped_views(cites, articles)
            body = um.link_markers(md, 1, {c.n for c in cites}, prefix="brief")
            out = Path(tempfile.mkdtemp(prefix="rag-brief-")) / f"briefing-{b.id}.md"
            out.write_text(md, encoding="utf-8")
            return body, um.sources_panel_html([t], prefix="brief"), gr.update(value=str(out), visible=True)

        show.click(
            write,
            [pick, words],
            [text, panel, download],
            concurrency_limit=1,
            concurrency_id="model",
            api_name="briefing",
            api_visibility="undocumented",
        )
        # The events are found when the tab is opened, so the list follows the Library.
        tab.select(refresh, None, [pick], queue=False, show_progress="hidden", api_visibility="private")
    return True


def _header_html(sources: list[dict]) -> str:
    n = len(sources)
    chunks = sum(int(r.get("chunks", 0)) for r in sources)
    return (
        '<div id="app-header"><div><h1>News Desk</h1>'
        '<p class="tagline">Answers drawn from your articles. Every sentence is checked against the passage '
        "it cites. Runs entirely on this computer.</p></div>"
        f'<div class="pill"><b>{n}</b> article{"s" if n != 1 else ""} · <b>{chunks}</b> passages</div></div>'
    )


# -- the app --------------------------------------------------------------------------
def build_app(rag) -> Any:
    """The Blocks app (not launched). Tabs: Chat, Library, and Evals/Briefings when available."""

    sources = rag.sources()
    report = _latest_eval_report()
    with gr.Blocks(title=TITLE, analytics_enabled=False, fill_width=True) as demo:
        header = gr.HTML(_header_html(sources), js_on_load=None, elem_id="header")
        with gr.Tabs():
            with gr.Tab("Chat", id="chat-tab"):
                _chat_tab(rag, sources)
            with gr.Tab("Library", id="library-tab"):
                refreshed, lib_outputs = _library_tab(rag, sources)
            if report:
                with gr.Tab("Evals", id="evals-tab"):
                    _evals_tab(report)
            _briefings_tab(rag)

        def on_load():
            rows = rag.sources()
            return (_header_html(rows), *refreshed())

        # Each visitor sees the index as it is now, not as it was at launch.
        demo.load(on_load, None, [header, *lib_outputs], queue=False, show_progress="hidden", api_visibility="private")
    demo.queue(max_size=QUEUE_MAX, default_concurrency_limit=4)
    return demo
