"""The "Check a claim" box of the chat page: a claim in, its verdict out
(supported, contradicted, not found) with the passages that decide it, each
highlighted in its paragraph like the sources of an answer.

No model is loaded: the claim is checked by the verifier's rules against the
evidence retrieved for it (:meth:`rag.api.Rag.check`).
"""

from __future__ import annotations

import html
from typing import Any

import gradio as gr

from rag.app import ui_messages as um
from rag.app.ui_tabs import articles_by_id
from rag.errors import RagError
from rag.types import Citation

PREFIX = "check"
_LABEL = {
    "supported": ("Supported", "The articles state this."),
    "contradicted": ("Contradicted", "An article states something else in its place."),
    "not_found": ("Not found", "Nothing in the articles states this or its opposite."),
}


def verdict_html(result: dict, articles: dict) -> str:
    """The verdict, its reason and the deciding passages as cards (``result`` is ``ClaimCheck.to_json()``).

    >>> out = verdict_html({"claim": "X", "verdict": "not_found", "citations": [], "reason": "r"}, {})
    >>> 'class="check-verdict check-not_found"' in out and "Not found" in out
    True
    """
    e = html.escape
    label, gloss = _LABEL[result["verdict"]]
    cards = []
    for c in result["citations"]:
        cite = Citation(**c)
        view = um.source_view(cite, articles.get(cite.article_id))
        note = "states it" if cite.supported else "says otherwise"
        cards.append(
            f'<div class="check-cite check-{"for" if cite.supported else "against"}">'
            f'<p class="check-note">{note}</p>{um.source_card_html(view, 1, prefix=PREFIX)}</div>'
        )
    return (
        f'<div class="check-verdict check-{result["verdict"]}" data-verdict="{result["verdict"]}">'
        f'<p class="check-label"><b>{label}</b> · {e(gloss)}</p>'
        f'<p class="check-claim">“{e(result["claim"])}”</p>'
        f'<p class="check-reason">{e(result["reason"])}</p>'
        f"{''.join(cards)}</div>"
    )


def check_callback(rag):
    def check(claim: str) -> tuple[str, dict]:
        """Check one claim; the verdict as HTML and as ``ClaimCheck.to_json()``."""
        try:
            result = rag.check(claim).to_json()
        except RagError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        articles = articles_by_id(rag, [c["article_id"] for c in result["citations"]])
        return verdict_html(result, articles), result

    return check


def check_box(rag) -> Any:
    """The box under the chat; ``api_name="check"`` gives API clients the same call."""
    check = check_callback(rag)
    with gr.Accordion("Check a claim", open=False, elem_id="check-box"):
        with gr.Row(equal_height=True):
            claim = gr.Textbox(
                placeholder="Paste a sentence from a draft: is it what the articles say?",
                show_label=False,
                container=False,
                lines=1,
                max_lines=4,
                scale=8,
                elem_id="claim",
            )
            run = gr.Button("Check", variant="secondary", scale=1, min_width=90, elem_id="check")
        out = gr.HTML("", elem_id="check-result", js_on_load=None)
        data = gr.JSON(visible=False)
    run.click(check, [claim], [out, data], api_name="check")
    claim.submit(check, [claim], [out, data], api_visibility="private")
    return claim, run, out
