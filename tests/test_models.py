"""Model registry and installation: slices located through package metadata,
assembled only into the exact expected file, checks remembered; name resolution.

Fake slice packages (a dist-info folder with a RECORD, and the data file) live
in a temporary folder put on sys.path; nothing here loads a model except the
tests marked ``model``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path

import pytest

from rag.app.cli import main
from rag.errors import RagError
from rag.llm import install, registry
from rag.llm.registry import ModelSpec

SLICES = [b"GGUF" + b"a" * 1000, b"b" * 777, b"c" * 1500]
WHOLE = b"".join(SLICES)


def _fake_spec(data: bytes = WHOLE, n: int = len(SLICES)) -> ModelSpec:
    return ModelSpec(
        name="fake",
        file="fake.gguf",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        licence="Apache-2.0",
        attribution="test",
        description="test",
        source="slices",
        distribution="fake-slice-part{n}",
        member="fake_slice_part{n}/data/part{n:02d}.bin",
        version="0.2.0",
        slices=n,
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _install_fake_slices(site: Path, slices: list[bytes], record: list[bytes] | None = None) -> None:
    """Fake wheels: slice n's file holds ``slices[n]``, its RECORD describes ``record[n]``."""
    for n, (data, rec) in enumerate(zip(slices, record or slices), 1):
        pkg = site / f"fake_slice_part{n}" / "data"
        pkg.mkdir(parents=True)
        (pkg / f"part{n:02d}.bin").write_bytes(data)
        info = site / f"fake_slice_part{n}-0.2.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: fake-slice-part{n}\nVersion: 0.2.0\n")
        (info / "RECORD").write_text(
            f"fake_slice_part{n}/data/part{n:02d}.bin,sha256={_b64(rec)},{len(rec)}\n"
            f"fake_slice_part{n}-0.2.0.dist-info/RECORD,,\n"
        )


@pytest.fixture
def site(tmp_path, monkeypatch) -> Path:
    d = tmp_path / "site"
    d.mkdir()
    monkeypatch.syspath_prepend(str(d))
    return d


def _parts(tmp_path: Path, slices: list[bytes]) -> list[install.SlicePart]:
    out = []
    for n, data in enumerate(slices, 1):
        p = tmp_path / f"p{n}.bin"
        p.write_bytes(data)
        out.append(install.SlicePart(n, p))
    return out


def _only(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# -- assembly -------------------------------------------------------------------
def test_assemble_good_parts_gives_the_exact_file(tmp_path):
    spec = _fake_spec()
    dest = tmp_path / "models" / "m.gguf"
    install.assemble(_parts(tmp_path, SLICES), dest, spec.size, spec.sha256)
    assert dest.read_bytes() == WHOLE
    assert _only(dest.parent) == ["m.gguf"]  # no temporary file left


def test_assemble_wrong_hash_leaves_nothing(tmp_path):
    spec = _fake_spec(WHOLE[:-1] + b"X")  # same size, other content
    dest = tmp_path / "models" / "m.gguf"
    with pytest.raises(RagError, match="SHA-256 .* expected .*refusing it"):
        install.assemble(_parts(tmp_path, SLICES), dest, spec.size, spec.sha256)
    assert _only(dest.parent) == []


def test_assemble_truncated_part_without_record_is_a_size_error(tmp_path):
    spec = _fake_spec()
    short = [SLICES[0], SLICES[1][:-10], SLICES[2]]
    dest = tmp_path / "models" / "m.gguf"
    with pytest.raises(RagError, match=f"is {len(WHOLE) - 10:,} bytes, expected {len(WHOLE):,}"):
        install.assemble(_parts(tmp_path, short), dest, spec.size, spec.sha256)
    assert _only(dest.parent) == []


def test_assemble_does_not_replace_a_good_file_with_a_bad_one(tmp_path):
    spec = _fake_spec()
    dest = tmp_path / "m.gguf"
    dest.write_bytes(b"previous")
    with pytest.raises(RagError):
        install.assemble(_parts(tmp_path, SLICES[:2]), dest, spec.size, spec.sha256)
    assert dest.read_bytes() == b"previous"
    assert not list(tmp_path.glob(".m.gguf.*"))


def test_locate_slices_in_order_through_package_records(site):
    _install_fake_slices(site, SLICES)
    spec = _fake_spec()
    parts = install.locate_slices(spec.distribution, spec.member, 3, "0.2.0")
    assert [p.index for p in parts] == [1, 2, 3]
    assert [p.path.read_bytes() for p in parts] == SLICES
    assert parts[1].record_size == len(SLICES[1])
    assert parts[1].record_sha256 == hashlib.sha256(SLICES[1]).hexdigest()


def test_missing_slice_package_is_a_clear_error(site):
    _install_fake_slices(site, SLICES)
    spec = _fake_spec(n=4)
    with pytest.raises(RagError, match=r"fake-slice-part4==0\.2\.0 is not installed: run `make setup`"):
        install.locate_slices(spec.distribution, spec.member, 4, "0.2.0")


def test_wrong_slice_version_is_refused(site):
    _install_fake_slices(site, SLICES)
    spec = _fake_spec()
    with pytest.raises(RagError, match="is version 0.2.0, expected 0.3.0"):
        install.locate_slices(spec.distribution, spec.member, 3, "0.3.0")


def test_deleted_slice_file_is_a_clear_error(site):
    _install_fake_slices(site, SLICES)
    (site / "fake_slice_part2" / "data" / "part02.bin").unlink()
    spec = _fake_spec()
    with pytest.raises(RagError, match="model slice 2 is missing"):
        install.locate_slices(spec.distribution, spec.member, 3, "0.2.0")


def test_truncated_installed_slice_is_caught_by_its_record(site, tmp_path):
    _install_fake_slices(site, [SLICES[0], SLICES[1][:-5], SLICES[2]], record=SLICES)
    spec = _fake_spec()
    models = tmp_path / "models"
    with pytest.raises(RagError, match=f"slice 2 is {len(SLICES[1]) - 5:,} bytes but its package lists"):
        registry.install_model(spec, models)
    assert [n for n in _only(models) if not n.endswith(".lock")] == []


def test_altered_installed_slice_is_caught_by_its_record(site, tmp_path):
    _install_fake_slices(site, [SLICES[0], b"B" * len(SLICES[1]), SLICES[2]], record=SLICES)
    with pytest.raises(RagError, match="slice 2 .* differs from its package record"):
        registry.install_model(_fake_spec(), tmp_path / "models")
    assert not (tmp_path / "models" / "fake.gguf").exists()


# -- install, verification memo ---------------------------------------------------
def test_install_is_idempotent_and_remembers_the_check(site, tmp_path, monkeypatch):
    _install_fake_slices(site, SLICES)
    spec, models = _fake_spec(), tmp_path / "models"
    assert registry.status(spec, models) == "not assembled"
    path, built = registry.install_model(spec, models)
    assert built and path.read_bytes() == WHOLE
    assert registry.status(spec, models) == "verified"
    mtime = path.stat().st_mtime_ns

    def no_hashing(_path):
        raise AssertionError("hashed a file the sidecar vouches for")

    monkeypatch.setattr(install, "sha256_file", no_hashing)
    path2, built2 = registry.install_model(spec, models)
    assert (path2, built2) == (path, False) and path.stat().st_mtime_ns == mtime
    assert registry.verified_path(spec, models) == path


def test_a_changed_file_is_hashed_again_and_refused(site, tmp_path):
    _install_fake_slices(site, SLICES)
    spec, models = _fake_spec(), tmp_path / "models"
    path, _ = registry.install_model(spec, models)
    with open(path, "r+b") as fh:  # same size, one byte changed
        fh.seek(10)
        fh.write(b"Z")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    assert registry.status(spec, models) == "unverified"
    with pytest.raises(RagError, match="SHA-256 .* refusing it"):
        registry.verified_path(spec, models)
    # install rebuilds it from the slices
    path, built = registry.install_model(spec, models)
    assert built and path.read_bytes() == WHOLE


def test_rehash_ignores_the_memo(site, tmp_path, monkeypatch):
    _install_fake_slices(site, SLICES)
    spec, models = _fake_spec(), tmp_path / "models"
    registry.install_model(spec, models)
    calls = []
    real = install.sha256_file
    monkeypatch.setattr(install, "sha256_file", lambda p: calls.append(p) or real(p))
    registry.verified_path(spec, models)
    assert calls == []
    registry.verified_path(spec, models, rehash=True)
    assert len(calls) == 1


def test_sidecar_of_another_digest_is_not_trusted(tmp_path):
    f = tmp_path / "m.gguf"
    f.write_bytes(WHOLE)
    side = tmp_path / "m.verified.json"
    install.check_file(f, len(WHOLE), hashlib.sha256(WHOLE).hexdigest(), side)
    rec = json.loads(side.read_text())
    assert rec["size"] == len(WHOLE) and rec["sha256"] == hashlib.sha256(WHOLE).hexdigest()
    assert not install.recorded_ok(f, side, "0" * 64)


# -- resolution -----------------------------------------------------------------
def test_unknown_name_lists_the_known_ones(tmp_path):
    with pytest.raises(RagError, match="unknown model 'gpt-9': known models are qwen2.5-coder-1.5b, smollm2"):
        registry.resolve("gpt-9", tmp_path)


def test_missing_path_and_non_gguf(tmp_path):
    with pytest.raises(RagError, match="model file not found"):
        registry.resolve(str(tmp_path / "nope.gguf"), tmp_path)
    txt = tmp_path / "notes.gguf"
    txt.write_text("hello")
    with pytest.raises(RagError, match="is not a GGUF model file"):
        registry.resolve(str(txt), tmp_path)
    with pytest.raises(RagError, match="is not a file"):
        registry.resolve(str(tmp_path), tmp_path)


def test_any_gguf_path_resolves_to_itself(tmp_path):
    g = tmp_path / "mine.gguf"
    g.write_bytes(b"GGUF" + bytes(16))
    assert registry.resolve(str(g), tmp_path) == (g, None)


def test_reader_not_assembled_says_how_to_install(tmp_path):
    with pytest.raises(RagError, match="not assembled yet: run `rag models --install`"):
        registry.resolve("qwen2.5-coder-1.5b", tmp_path / "empty")


def test_default_is_one_named_known_model():
    assert registry.get(registry.DEFAULT_MODEL) is not None
    assert registry.resolve_spec("SmolLM2").name == "smollm2"


def test_reader_spec_matches_its_requirements_file():
    spec = registry.resolve_spec("qwen2.5-coder-1.5b")
    lines = [
        ln for ln in (Path(__file__).parent.parent / "models" / "reader.txt").read_text().splitlines() if "==" in ln
    ]
    assert [ln.split("==")[0] for ln in lines] == spec.packages()
    assert all(f"=={spec.version} --hash=sha256:" in ln for ln in lines)


# -- command --------------------------------------------------------------------
def test_models_command_lists_known_models(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RAG_MODELS_DIR", str(tmp_path / "models"))
    assert main(["models", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    rows = {r["name"]: r for r in out["models"]}
    assert set(rows) == {"qwen2.5-coder-1.5b", "smollm2"}
    assert rows["qwen2.5-coder-1.5b"]["size"] == 1_117_320_768
    assert rows["qwen2.5-coder-1.5b"]["status"] in ("not assembled", "not installed")  # empty cache
    assert all(r["licence"] == "Apache-2.0" for r in rows.values())
    assert out["default"] == registry.DEFAULT_MODEL and rows[registry.DEFAULT_MODEL]["default"]


def test_unknown_model_setting_fails_before_loading_anything(tmp_path):
    from rag.llm.backends import load_llm
    from rag.settings import Settings

    with pytest.raises(RagError, match="unknown model 'gpt-9'"):
        load_llm(Settings(data_dir=tmp_path, model_path="gpt-9", models_dir=tmp_path / "models"))


# -- the real reader ------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.model
def test_real_reader_is_verified_and_answers():
    from rag.llm.backends import LlamaCppLLM
    from rag.settings import Settings

    models = Settings.from_env().models_dir
    spec = registry.resolve_spec("qwen2.5-coder-1.5b")
    assert registry.verified_path(spec, models, rehash=True).stat().st_size == spec.size
    llm = LlamaCppLLM("qwen2.5-coder-1.5b", n_ctx=512, models_dir=models)
    reply = "".join(
        llm.stream([{"role": "user", "content": "What is 2 + 3? Reply with the number only."}], max_tokens=8)
    )
    assert reply.strip().rstrip(".") == "5"
