from pathlib import Path

import pytest

from qa_pipeline.errors import ModelError
from qa_pipeline.models import BASE_SHA256, multilingual_model, sha256_of


def test_multilingual_model_is_reassembled_verified_and_reused(tmp_path: Path):
    folder = multilingual_model(tmp_path)
    assert sha256_of(folder / "model.bin") == BASE_SHA256
    assert {p.name for p in folder.iterdir()} >= {
        "model.bin",
        "config.json",
        "tokenizer.json",
        "vocabulary.txt",
    }
    stamp = (folder / "model.bin").stat().st_mtime_ns
    assert multilingual_model(tmp_path) == folder
    assert (folder / "model.bin").stat().st_mtime_ns == stamp  # reused, not rebuilt


def test_a_wrong_checksum_is_refused_and_leaves_nothing_behind(tmp_path: Path):
    with pytest.raises(ModelError, match="SHA-256"):
        multilingual_model(tmp_path, expected_sha256="0" * 64)
    assert list(tmp_path.iterdir()) == []
