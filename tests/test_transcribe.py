"""Real faster-whisper on real (espeak-generated) audio: slow, and still run in CI."""

import re
from difflib import SequenceMatcher
from itertools import pairwise
from pathlib import Path

import pytest

from qa_pipeline.errors import InputError, ModelError
from qa_pipeline.interactions import Turn
from qa_pipeline.settings import WhisperSettings
from qa_pipeline.sources.calls import call_details, ingest_calls, load_manifest
from qa_pipeline.transcribe import Transcriber, call_metrics, decode, resolve_model, transcribe_call


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


def test_a_decode_error_gives_ffmpegs_words_without_its_code(data):
    with pytest.raises(InputError) as caught:
        decode(data / "calls" / "corrupt.mp3")
    reason = str(caught.value)
    assert "Invalid data" in reason  # what FFmpeg said ...
    assert not re.search(r"\d{5}", reason) and "corrupt.mp3" not in reason  # ... not errno or path


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


@pytest.mark.parametrize("name", ["call.flac", "call.ogg", "call.opus", "call.m4a", "call-mulaw-8k.wav"])
def test_compressed_formats_decode_with_both_channels(data, name):
    reference = decode(data / "calls" / "short-stereo.wav")
    channels = decode(data / "formats" / name)
    assert len(channels) == 2
    assert abs(channels[0].size - reference[0].size) < 0.1 * 16_000  # same length within 100 ms


@pytest.mark.slow
def test_line_noise_is_quarantined_not_hallucinated(data, transcriber):
    with pytest.raises(InputError, match="no speech"):
        transcribe_call(data / "noise" / "line-noise.wav", transcriber)


@pytest.mark.slow
def test_chunked_transcription_keeps_words_and_times(data, transcriber):
    whole, meta = transcribe_call(data / "calls" / "short-stereo.wav", transcriber)
    chunked, chunk_meta = transcribe_call(data / "calls" / "short-stereo.wav", transcriber, chunk_seconds=4)
    words = lambda turns: re.sub(r"[^\w\s]", " ", " ".join(t.text for t in turns).lower()).split()  # noqa: E731
    assert SequenceMatcher(None, words(whole), words(chunked)).ratio() > 0.85
    assert chunk_meta["duration"] == meta["duration"]
    assert all(0 <= t.start <= t.end <= meta["duration"] + 0.5 for t in chunked)
    assert max(t.end for t in chunked) > 8  # times were shifted by each chunk's offset


@pytest.mark.slow
def test_multilingual_model_detects_language_among_the_configured_ones(data):
    multilingual = Transcriber(WhisperSettings(model="base-multilingual"))
    turns, meta = transcribe_call(data / "calls" / "short-stereo.wav", multilingual)
    assert meta["language"] == "en" and meta["language_source"] == "detected"
    assert 0.5 < meta["language_probability"] <= 1
    assert "calling" in turns[0].text.lower()


@pytest.mark.slow
def test_manifest_language_sets_the_language_and_the_rubric_pack(data, rubric):
    from qa_pipeline.scoring import score_interactions

    multilingual = Transcriber(WhisperSettings(model="base-multilingual"))
    [call] = ingest_calls([data / "calls-cs"], multilingual).interactions
    assert call.language == "cs" and call.metadata["language_source"] == "given"
    assert call.agent_id == "a42" and call.team == "cee"
    [score] = score_interactions([call], rubric)
    assert score.language == "cs"


def test_call_metrics():
    turns = [
        Turn(speaker="agent", text="hello there how are you", start=0.0, end=3.0),
        Turn(speaker="customer", text="fine", start=2.0, end=4.0),  # 1 s over the agent
        Turn(speaker="agent", text="good", start=10.0, end=12.0),
    ]
    m = call_metrics(turns, duration=15.0, stereo=True)
    assert m["handle_time_s"] == 15.0 and m["agent_talk_s"] == 5.0 and m["customer_talk_s"] == 2.0
    assert m["agent_talk_ratio"] == pytest.approx(5 / 7, abs=1e-3)
    assert m["longest_silence_s"] == 6.0 and m["overtalk_count"] == 1
    assert m["agent_words_per_minute"] == pytest.approx(60 * 6 / 5)
    assert call_metrics(turns, 15.0, stereo=False)["overtalk_count"] is None


def test_json_manifest(tmp_path: Path):
    (tmp_path / "manifest.json").write_text(
        '[{"file": "x.wav", "call_id": "c-9", "agent_id": "a5", "team": "tech", "language": "lt"}]',
        encoding="utf-8",
    )
    details = call_details(tmp_path / "x.wav", load_manifest(tmp_path))
    assert details["call_id"] == "c-9" and details["agent_id"] == "a5" and details["language"] == "lt"


@pytest.mark.slow
def test_ingest_calls_command_takes_a_model(tmp_path: Path, data: Path):
    import json

    from typer.testing import CliRunner

    from qa_pipeline.cli import app

    out = tmp_path / "calls.jsonl"
    result = CliRunner().invoke(
        app, ["ingest", "calls", str(data / "calls-cs"), "-o", str(out), "--model", "base-multilingual"]
    )
    assert result.exit_code == 0, result.output
    [call] = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert call["language"] == "cs" and call["metadata"]["metrics"]["handle_time_s"] > 10


@pytest.mark.slow
def test_auto_model_uses_tiny_en_for_english_and_base_for_the_rest(data):
    from qa_pipeline.transcribe import AutoTranscriber, make_transcriber

    auto = make_transcriber(WhisperSettings(model="auto"))
    assert isinstance(auto, AutoTranscriber)
    turns, meta = transcribe_call(data / "calls" / "short-stereo.wav", auto)
    assert meta["language"] == "en" and meta["language_source"] == "detected"
    assert "calling" in turns[0].text.lower()
    assert auto.english._model is not None and auto.other._batched is None  # English went through tiny.en
    [call] = ingest_calls([data / "calls-cs"], auto).interactions
    assert (
        call.language == "cs" and auto.other._batched is not None
    )  # Czech went through the multilingual model
