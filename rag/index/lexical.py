"""The lexical half of hybrid search: BM25 (bm25s) over the chunks' lexical tokens."""

from __future__ import annotations

import numpy as np

from rag.text import lexical_tokens


class LexicalIndex:
    """BM25 (bm25s) over every chunk, rebuilt when the index changes."""

    def __init__(self, got: dict) -> None:
        import bm25s

        self.ids: list[str] = list(got["ids"])
        self.docs: list[str] = list(got["documents"])
        self.metas: list[dict] = list(got["metadatas"])
        self.pos = {cid: i for i, cid in enumerate(self.ids)}
        self.bm25 = bm25s.BM25()
        if self.ids:
            corpus = [lexical_tokens(d) or ["_"] for d in self.docs]
            self.bm25.index(corpus, show_progress=False)

    def scores(self, query: str) -> np.ndarray:
        toks = [t for t in lexical_tokens(query) if t in self.bm25.vocab_dict] if self.ids else []
        if not toks:
            return np.zeros(len(self.ids), dtype=np.float32)
        return np.asarray(self.bm25.get_scores(toks), dtype=np.float32)
