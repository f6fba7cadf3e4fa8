"""Key facts worded by the reader model, verified sentence by sentence like answers.

A fact's own sentence is given to the model as passage [1]; the reply is checked
with the shared verifier (:func:`rag.answer.verify.verify`) against that sentence.
A fact of at most FACT_MAX_WORDS words (what the prompt asks for) is not sent: it is
short already, and a rewording could only lose a detail. A reply that is not shorter, that has a sentence the passage does not support, or
that talks about the passage ("The passage says ...") is dropped: the fact keeps
its extractive form. Citations stay those of the extractive fact (the verified
wording rests on the fact's own sentence, one of them).
"""

from __future__ import annotations

import time
from pathlib import Path

from rag.brief.briefing import Item
from rag.brief.text import META, clean_lede, first_line
from rag.errors import RagError
from rag.tuning import FACT_MAX_WORDS, FACT_TOKENS
from rag.types import Passage


def fact_passage(item: Item) -> Passage:
    """The fact's own sentence (the citation whose quote it is) as passage [1]."""
    c = next((c for c in item.citations if " ".join(c.quote.split()) == item.text), item.citations[0])
    return Passage(1, c.article_id, c.file, c.title, c.outlet, c.published, c.quote, c.start, c.end)


def accept(reply: str, original: str, passage: Passage) -> str | None:
    """The verified, shorter wording of ``original`` in ``reply``, or None."""
    from rag.answer.verify import verify

    checked = verify(clean_lede(reply), [passage])
    if not checked.sentences or checked.dropped or any(META.match(s.text) for s in checked.sentences):
        return None
    text = " ".join(s.text for s in checked.sentences)
    if len(text.split()) >= len(original.split()):
        return None  # not shorter: the article's own words read better
    return text


def reword(items: list[Item], llm, prompts_dir: Path | None = None) -> tuple[list[Item], dict]:
    """``items`` with the model's verified wording where it survives; info on what was tried."""
    from rag.answer.evidence import format_passages
    from rag.answer.prompts import render

    info: dict = {"tried": 0, "kept": 0, "short": 0, "ms": 0.0}
    out = []
    for it in items:
        if len(it.text.split()) <= FACT_MAX_WORDS:  # already as short as the prompt asks: kept as written
            info["short"] += 1
            out.append(it)
            continue
        p = fact_passage(it)
        messages = [
            {"role": "system", "content": render("brief_fact_system", prompts_dir)},
            {"role": "user", "content": render("brief_fact", prompts_dir, passages=format_passages([p]))},
        ]
        t0 = time.perf_counter()
        try:
            reply = first_line(llm.stream(messages, max_tokens=FACT_TOKENS, temperature=0.0))
        except RagError as exc:
            info["llm_error"] = str(exc)
            out.append(it)
            continue
        finally:
            info["ms"] += (time.perf_counter() - t0) * 1000
        info["tried"] += 1
        text = accept(reply, it.text, p)
        if text:
            info["kept"] += 1
            out.append(Item(text, it.citations, it.extra | {"extractive": it.text, "mode": "generated"}))
        else:
            out.append(it)
    return out, info
