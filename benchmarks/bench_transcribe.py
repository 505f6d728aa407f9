"""Transcription benchmark: real-time factor, audio hours per hour, peak memory and WER.

Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_transcribe.py``. In one
process, over the same recordings (the demo calls; the scripts they were spoken from
are the reference transcripts), it compares:

- baseline: sequential ``WhisperModel.transcribe`` with beam 5 on the whole file;
- ours, sequential: ``transcribe_call`` per channel with VAD, word times and beam 1;
- ours, shipped defaults: ``ingest_calls`` with BatchedInferencePipeline (batch 4) and
  two calls at once, one CPU thread each, sharing one model.

Then a one-hour stereo call, in a child process each, transcribed in 300 s chunks and
(for contrast) decoded whole, to show that memory stays bounded. Results are appended
to ``transcribe_results.md``.

``--real-speech DIR`` runs the same paths over calls of real recorded speech instead
(``benchmarks/real_speech.py`` builds them from public recordings and their transcripts),
and skips the one-hour runs. Both also run the shipped path with beam 1, for contrast.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import jiwer
from results_table import add_rows  # benchmarks/ is the script's folder

from qa_pipeline.settings import WhisperSettings
from qa_pipeline.sources.calls import ingest_calls
from qa_pipeline.transcribe import Transcriber, decode, transcribe_call

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).with_name("transcribe_results.md")
sys.path.insert(0, str(ROOT / "examples"))
from make_audio import CALLS  # noqa: E402  (the dialogues the demo audio was made from)

Files = list[tuple[Path, str]]


def normalise(text: str) -> str:
    """Lower case, words only: WER should count words, not punctuation."""
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())


def recordings() -> Files:
    """(file, reference transcript) for every demo call."""
    return [
        (ROOT / "examples" / "calls" / name, " ".join(line for _, line in dialogue))
        for _, name, *_rest, dialogue in CALLS
    ]


def real_recordings(folder: Path) -> Files:
    """(file, reference transcript) for every call ``real_speech.py`` wrote to ``folder``."""
    index = folder / "references.json"
    if not index.is_file():
        raise SystemExit(f"{index} not found: build the calls first with benchmarks/real_speech.py")
    return [
        (folder / c["file"], c["reference"]) for c in json.loads(index.read_text(encoding="utf-8"))["calls"]
    ]


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def row_for(label: str, files: Files, hypotheses: list[str], wall: float) -> dict:
    """Speed, WER and memory of one path, printed and returned as a results row."""
    audio_s = sum(decode(path)[0].size / 16_000 for path, _ in files)
    wer = jiwer.wer([normalise(ref) for _, ref in files], [normalise(h) for h in hypotheses])
    row = {
        "label": label,
        "audio_s": audio_s,
        "wall_s": wall,
        "rtf": audio_s / wall,
        "wer": wer,
        "rss": max_rss_mb(),
    }
    print(
        f"{label}: {audio_s:.0f} s audio in {wall:.1f} s = {row['rtf']:.1f}x real time, "
        f"WER {100 * wer:.1f}%, max RSS {row['rss']:.0f} MB"
    )
    return row


def run_each(label: str, files: Files, transcribe: Callable[[Path], str]) -> dict:
    """Transcribe the files one by one."""
    started = time.perf_counter()
    hypotheses = [transcribe(path) for path, _ in files]
    return row_for(label, files, hypotheses, time.perf_counter() - started)


def run_all(label: str, files: Files, transcribe_all: Callable[[list[Path]], list[str]]) -> dict:
    """Transcribe the whole night's files in one call."""
    started = time.perf_counter()
    hypotheses = transcribe_all([path for path, _ in files])
    return row_for(label, files, hypotheses, time.perf_counter() - started)


def one_hour(chunk_seconds: float) -> tuple[float, float]:
    """(peak RSS in MB, wall seconds) of a child process that transcribes a one-hour stereo call."""
    with tempfile.TemporaryDirectory() as tmp:
        long_call = Path(tmp) / "hour.wav"
        pieces = [str(ROOT / "examples" / "calls" / "c-1001.wav")] * 100  # 100 x 36 s = 60 min
        subprocess.run(["sox", *pieces, str(long_call)], check=True)
        code = (
            "import resource; from pathlib import Path; from qa_pipeline.transcribe import Transcriber, transcribe_call;"
            f"turns, meta = transcribe_call(Path({str(long_call)!r}), Transcriber(), chunk_seconds={chunk_seconds!r});"
            "print(meta['duration'], len(turns), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
        ).replace("inf", "float('inf')")
        started = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
        wall = time.perf_counter() - started
    duration, turns, rss = out.stdout.split()[-3:]
    print(
        f"one-hour call, chunks of {chunk_seconds} s ({float(duration) / 60:.0f} min, {turns} turns): "
        f"max RSS {float(rss):.0f} MB in {wall:.0f} s"
    )
    return float(rss), wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-hour", action="store_true", help="skip the one-hour runs (they need sox)")
    parser.add_argument("--no-record", action="store_true", help="print only; do not update the results file")
    parser.add_argument(
        "--real-speech",
        type=Path,
        metavar="DIR",
        help="calls of real speech built by benchmarks/real_speech.py",
    )
    args = parser.parse_args()
    files = real_recordings(args.real_speech) if args.real_speech else recordings()
    audio = "real speech, 4 dense 8 kHz calls: " if args.real_speech else ""

    # one model on all cores (workers=1), as plain faster-whisper would run it
    sequential = Transcriber(WhisperSettings(beam_size=5, workers=1))

    def baseline(path: Path) -> str:
        segments, _ = sequential.model.transcribe(str(path), beam_size=5, language="en")
        return " ".join(s.text for s in segments)

    single = Transcriber(WhisperSettings(batch_size=0, workers=1, beam_size=1))
    shipped = WhisperSettings()
    rows = [
        run_each(f"{audio}baseline: sequential WhisperModel.transcribe, beam 5, whole file", files, baseline),
        run_each(
            f"{audio}ours, sequential: per channel, VAD, word times, beam 1",
            files,
            lambda p: " ".join(t.text for t in transcribe_call(p, single)[0]),
        ),
        run_all(
            f"{audio}ours, shipped defaults: batched ({shipped.batch_size}), beam {shipped.beam_size}, "
            f"{shipped.workers} calls at once x 1 thread",
            files,
            ingest_all(Transcriber(shipped)),
        ),
    ]
    beam_1 = shipped.model_copy(update={"beam_size": 1})
    label = f"{audio}ours, shipped defaults but beam 1 (the default before 2026-11-24)"
    rows.append(run_all(label, files, ingest_all(Transcriber(beam_1))))
    args.no_hour = args.no_hour or bool(args.real_speech)
    if not args.no_hour and shutil.which("sox") is None:
        print("sox not found: skipping the one-hour runs (apt-get install sox)")
        args.no_hour = True
    hours = {} if args.no_hour else {c: one_hour(c) for c in (300.0, float("inf"))}
    if not args.no_record:
        record(rows, hours)


def ingest_all(transcriber: Transcriber) -> Callable[[list[Path]], list[str]]:
    """The night's path: ``ingest_calls`` over all files, text per file in their order."""

    def run(paths: list[Path]) -> list[str]:
        result = ingest_calls(paths, transcriber)
        by_source = {i.source: " ".join(t.text for t in i.turns) for i in result.interactions}
        return [by_source[str(p)] for p in paths]

    return run


HEADER = """# Transcription benchmark results

`benchmarks/bench_transcribe.py`: the 7 demo calls (stereo and 8 kHz mono, WAV and MP3,
espeak voices), bundled `tiny.en` int8 on CPU, WER against the scripts the audio was
made from (lower case, punctuation removed). Rows of one date ran in one process.
RTF = audio seconds per wall-clock second (= audio hours per hour).

| date | machine | path | audio | wall | RTF (x real time) | WER | max RSS |
|---|---|---|---|---|---|---|---|
"""


def record(rows: list[dict], hours: dict[float, tuple[float, float]]) -> None:
    """Append the rows to the results file (created with its header if missing)."""
    day, machine = (
        f"{datetime.now(UTC):%Y-%m-%d}",
        f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores",
    )
    lines = [
        f"| {day} | {machine} | {r['label']} | {r['audio_s']:.0f} s | {r['wall_s']:.1f} s | {r['rtf']:.1f} "
        f"| {100 * r['wer']:.1f}% | {r['rss']:.0f} MB (so far) |"
        for r in rows
    ]
    for chunk, (rss, wall) in hours.items():
        how = f"chunks of {chunk:.0f} s" if chunk != float("inf") else "decoded whole (for contrast)"
        lines.append(
            f"| {day} | {machine} | one-hour stereo call, shipped defaults, {how} | 3600 s | {wall:.0f} s "
            f"| {3600 / wall:.1f} | | {rss:.0f} MB (own process) |"
        )
    add_rows(RESULTS, HEADER, lines)


if __name__ == "__main__":
    main()
