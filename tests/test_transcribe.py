"""Real faster-whisper on real (espeak-generated) audio: slow, and still run in CI."""

from itertools import pairwise
from pathlib import Path

import pytest

from qa_pipeline.errors import InputError, ModelError
from qa_pipeline.sources.calls import call_details, ingest_calls, load_manifest
from qa_pipeline.transcribe import decode, resolve_model, transcribe_call


def test_bundled_model_resolves_to_a_local_folder():
    path = Path(resolve_model("tiny.en"))
    assert (path / "model.bin").exists()


def test_model_folder_without_weights_is_refused(tmp_path: Path):
    with pytest.raises(ModelError, match=r"no model\.bin"):
        resolve_model(str(tmp_path))


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("silent.wav", "silent"),
        ("truncated.wav", "decode|shorter"),
        ("corrupt.mp3", "decode|shorter"),
        ("missing.wav", "does not exist"),
    ],
)
def test_unusable_recordings_raise_a_clear_input_error(data, name, reason):
    with pytest.raises(InputError, match=reason):
        decode(data / "calls" / name)


@pytest.mark.slow
def test_stereo_call_gets_speakers_from_channels(data, transcriber):
    turns, meta = transcribe_call(data / "calls" / "short-stereo.wav", transcriber, agent_channel="left")
    assert meta["audio_channels"] == 2 and meta["speaker_attribution"] == "channel"
    assert [t.speaker for t in turns] == ["agent", "customer", "agent"]
    assert "calling" in turns[0].text.lower() and "internet" in turns[1].text.lower()
    assert all(a.start <= b.start for a, b in pairwise(turns))
    assert 0 < meta["transcription_confidence"] <= 1


@pytest.mark.slow
def test_swapped_channel_map_swaps_speakers(data, transcriber):
    turns, _ = transcribe_call(data / "calls" / "short-stereo.wav", transcriber, agent_channel="right")
    assert turns[0].speaker == "customer" and "calling" in turns[0].text.lower()


@pytest.mark.slow
def test_ingest_calls_reads_manifest_filename_pattern_and_quarantines(data, transcriber):
    result = ingest_calls([data / "calls"], transcriber)
    by_id = {i.id: i for i in result.interactions}
    assert set(by_id) == {"call:recording:t-1", "call:recording:c-77"}
    assert by_id["call:recording:t-1"].agent_id == "a17"
    assert by_id["call:recording:t-1"].metadata["agent_source"] == "manifest"
    mono = by_id["call:recording:c-77"]  # 8 kHz mono MP3, agent from the file name
    assert mono.agent_id == "a21" and mono.metadata["agent_source"] == "filename"
    assert mono.metadata["speaker_attribution"] == "turn-taking" and mono.turns[0].speaker == "agent"
    assert {Path(q.source).name for q in result.quarantined} == {"silent.wav", "truncated.wav", "corrupt.mp3"}
    assert result.read == 5


def test_without_manifest_or_pattern_the_agent_is_unknown(data):
    assert load_manifest(data / "chats") == {}
    details = call_details(Path("recording-17.wav"), {})
    assert details["agent_id"] == "unknown" and details["agent_source"] == "none"
