"""The answer path of a reader model: the model reads the evidence and decides.

:func:`rag.answer.reader.read` judges, decides, generates and verifies; this module
runs it for :class:`rag.answer.generate.Answerer` and turns its outcome into the
events and the :class:`~rag.types.Answer` the rest of the product shows. Sentences
are handed over as soon as each is verified (the reading runs in a worker thread and
the caller streams from a queue); a reading with no verified sentence is the refusal
with the closest passages marked as related, never quotes in place of an answer.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from rag.answer import reader
from rag.tuning import READER_MAX_REFUSE, READER_MAX_TOKENS, READER_MIN_YES

THRESHOLDS = reader.Thresholds(min_yes=READER_MIN_YES, max_refuse=READER_MAX_REFUSE)

Shown = tuple[str, list[int]]


def stream_reading(
    model: reader.ReaderModel,
    question: str,
    passages: list,
    prompts_dir: Path | None = None,
    th: reader.Thresholds = THRESHOLDS,
    max_tokens: int = READER_MAX_TOKENS,
) -> Iterator[Shown | reader.Reading]:
    """Each verified sentence as it is checked, then the finished :class:`~rag.answer.reader.Reading`.

    An error inside the reading (a prompt over the context, say) is raised here, in the caller.
    """
    box: queue.Queue = queue.Queue()

    def work() -> None:
        try:
            out = reader.read(
                model,
                question,
                passages,
                th,
                max_tokens,
                on_sentence=lambda s, n: box.put(("sentence", (s, list(n)))),
                prompts_dir=prompts_dir,
            )
            box.put(("done", out))
        except BaseException as exc:  # handed to the caller's thread, raised there
            box.put(("error", exc))

    threading.Thread(target=work, name="rag-reader", daemon=True).start()
    while True:
        kind, value = box.get()
        if kind == "sentence":
            yield value
        elif kind == "done":
            yield value
            return
        else:
            raise value


def why_refused(r: reader.Reading, th: reader.Thresholds = THRESHOLDS) -> str:
    """The reason a reading showed nothing, for the answer's ``dropped`` list.

    >>> why_refused(reader.Reading(signals=reader.Signals(p_yes=0.3)))
    'the reader judged the passages do not state the answer (P(yes) 0.30 < 0.65)'
    >>> why_refused(reader.Reading(decided=True, dropped=["x."]))
    'no sentence of the reply survived verification'
    """
    sig = r.signals
    if sig.p_yes is not None and sig.p_yes < th.min_yes:
        return f"the reader judged the passages do not state the answer (P(yes) {sig.p_yes:.2f} < {th.min_yes})"
    if not r.decided:
        p = sig.p_refuse if sig.p_refuse is not None else 0.0
        return f"the reader would reply that the articles do not say (P {p:.2f} >= {th.max_refuse})"
    return "no sentence of the reply survived verification"


def timed(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 1)
