"""The chat page: a Gradio Blocks app over :class:`rag.api.Rag`.

``rag serve`` (:func:`serve`) binds 127.0.0.1 by default, never makes a share link
and refuses a non-loopback address without ``--auth user:pass`` (or ``$RAG_AUTH``).
Callbacks only call the Rag API and the pure functions of :mod:`rag.app.ui_messages`.

The model answers one question at a time: every event that runs it shares the
``model`` concurrency group (limit 1) behind a bounded queue, so other visitors
see their queue position while the page stays responsive.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import gradio as gr

from rag.app import ui_check, ui_tabs
from rag.app import ui_library as ul
from rag.app import ui_messages as um
from rag.app.ui_tabs import INTERNAL_ERROR, articles_by_id
from rag.checkout import optional_repo_path
from rag.errors import RagError

log = logging.getLogger("rag.app.ui")
TITLE = "News Desk"
QUEUE_MAX = 16  # questions waiting at most; further visitors are told the queue is full
SYSTEM_FONTS = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"]
MONO_FONTS = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Liberation Mono", "monospace"]


def static_text(name: str) -> str:
    """A file of ``rag/app/static`` (package data); a missing or empty one is an error.

    >>> "a.cite" in static_text("cite.js")
    True
    """
    try:
        text = resources.files("rag.app").joinpath("static", name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RagError(f"the page's {name} is missing from the installed package: {exc}") from exc
    if not text.strip():
        raise RagError(f"the page's {name} is empty in the installed package")
    return text


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
            css=static_text("ui.css"),
            head=f"<script>\n{static_text('cite.js')}</script>\n",
        )
    except OSError as exc:
        log.debug("launch failed: %s", exc)
        raise RagError(
            f"cannot listen on {host}:{port} (is something else using it?): pick another with --port"
        ) from None
    return demo, url


def serve(rag, host: str, port: int, auth: tuple[str, str] | None, seeds: Path | None = None) -> int:
    """``rag serve``: ingest ``seeds`` into an empty index, launch the page, print its address, wait."""
    if not is_loopback(host) and auth is None:
        raise RagError(f"refusing to serve on {host} without a password: add --auth user:password (or set RAG_AUTH)")
    if seeds is not None and rag.store.n_chunks() == 0:
        print(f"The index is empty: ingesting the sample articles in {seeds} …", flush=True)
        report = rag.ingest([seeds], sync=False)
        print(f"  added {len(report.added)} articles ({report.chunks_added} passages)", flush=True)
    print("Loading the model …", flush=True)
    rag.retriever.warm()  # load the vectors and the lexical index before the first visitor
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
            um.finish_turn(t, final, articles_by_id(rag, [c.article_id for c in cites]))
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
    post, gate, answer, clear = _chat_callbacks(rag)
    seeds = optional_repo_path("seeds")
    seed_files = {p.name for p in seeds.glob("*") if p.is_file()} if seeds else set()
    turns = gr.State([])
    chatbot, box, send, clear_btn, panel = _chat_layout(ul.example_questions(sources, seed_files))
    refusal = gr.State("")
    _wire_chat(post, gate, answer, clear, (chatbot, box, send, clear_btn, panel, turns, refusal))
    _chat_api(rag, post, gate, answer, chatbot, panel, turns)
    ui_check.check_box(rag)


def _chat_layout(examples: list[str]) -> tuple:
    """The chat column (chatbot, question box, Ask and Clear) and the sources panel."""
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
    return chatbot, box, send, clear_btn, panel


def _wire_chat(post, gate, answer, clear, parts: tuple) -> None:
    """Posting shows the question at once; the answer is queued behind the one model."""
    chatbot, box, send, clear_btn, panel, turns, refusal = parts

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


def _chat_api(rag, post, gate, answer, chatbot, panel, turns) -> None:
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


def _latest_eval_report() -> dict | None:
    """The committed eval report of the checkout the package runs from (None in an installed wheel)."""
    from rag.devtools.eval_report import latest_report

    folder = optional_repo_path("evals", "report")
    if folder is None:
        return None
    try:
        return latest_report(folder)
    except (OSError, ValueError, KeyError):
        return None


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
                refreshed, lib_outputs = ui_tabs.library_tab(rag, sources)
            if report:
                with gr.Tab("Evals", id="evals-tab"):
                    ui_tabs.evals_tab(report)
            ui_tabs.briefings_tab(rag)

        def on_load():
            rows = rag.sources()
            return (_header_html(rows), *refreshed())

        # Each visitor sees the index as it is now, not as it was at launch.
        demo.load(on_load, None, [header, *lib_outputs], queue=False, show_progress="hidden", api_visibility="private")
    demo.queue(max_size=QUEUE_MAX, default_concurrency_limit=4)
    return demo
