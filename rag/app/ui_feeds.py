"""The Library tab's feeds: add and remove feed URLs (kept in the data folder) and poll them now.

`rag watch` polls the same list every cycle, so a feed added here is watched too.
"""

from __future__ import annotations

from collections.abc import Callable

import gradio as gr

from rag.errors import RagError
from rag.ingest.sources import FeedList, poll_all


def add_feed(feeds: FeedList, url: str | None) -> tuple[str, list[str]]:
    """(message, the feed list) after adding ``url``; a bad URL is a message, not a change."""
    if not url or not url.strip():
        return "Paste a feed URL first.", feeds.urls()
    try:
        urls = feeds.add(url)
    except RagError as exc:
        return str(exc), feeds.urls()
    return f"Added `{url.strip()}` ({len(urls)} feed{'s' if len(urls) != 1 else ''}).", urls


def remove_feed(feeds: FeedList, url: str | None) -> tuple[str, list[str]]:
    if not url:
        return "Pick a feed to remove.", feeds.urls()
    return f"Removed `{url}` (what it added stays in the index).", feeds.remove(url)


def poll_feeds(rag, feeds: FeedList) -> str:
    """Poll every listed feed into the index: one line per feed."""
    urls = feeds.urls()
    if not urls:
        return "No feeds yet: add one above."
    with rag.web() as web:
        got, lines = poll_all(web, urls)
    head = f"{len(got['added'])} new article{'s' if len(got['added']) != 1 else ''}."
    return "\n".join([head, *(f"- {ln}" for ln in lines)])


def feeds_section(rag, refreshed: Callable[[], tuple], outputs: tuple) -> None:
    """The feed controls, under the Library's upload and remove columns."""
    feeds = FeedList(rag.settings.data_dir)
    with gr.Row(equal_height=False):
        with gr.Column():
            url = gr.Textbox(label="Add a feed (RSS or Atom URL)", placeholder="https://site.example/feed")
            add = gr.Button("Add feed")
        with gr.Column():
            pick = gr.Dropdown(choices=feeds.urls(), label="Feeds", value=None, allow_custom_value=False)
            with gr.Row():
                remove = gr.Button("Remove feed", variant="stop")
                poll = gr.Button("Poll feeds now", variant="primary")
    status = gr.Markdown(elem_id="feed-status")

    def do_add(value: str | None):
        msg, urls = add_feed(feeds, value)
        return msg, gr.update(choices=urls, value=None), ""

    def do_remove(value: str | None):
        msg, urls = remove_feed(feeds, value)
        return msg, gr.update(choices=urls, value=None)

    def do_poll():
        try:
            msg = poll_feeds(rag, feeds)
        except RagError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        return (msg, *refreshed())

    add.click(do_add, [url], [status, pick, url], api_name="add_feed", api_visibility="undocumented")
    remove.click(do_remove, [pick], [status, pick], api_name="remove_feed", api_visibility="undocumented")
    poll.click(
        do_poll,
        None,
        [status, *outputs],
        concurrency_limit=1,
        concurrency_id="index",
        api_name="poll_feeds",
        api_visibility="undocumented",
    )
