"""Dense 8 kHz calls made of real recorded speech, for the transcription benchmark.

The demo calls are espeak voices and mostly silence; this builds calls that are neither,
from recordings of real people reading aloud, with their published transcripts:

- LJ Speech (public domain): 32 utterances of one reader, as kept in coqui-ai/TTS's test
  data (``tests/data/ljspeech/wavs``); their transcripts from NVIDIA/tacotron2's LJ Speech
  file lists (BSD 3-Clause; the text itself is public domain).
- LibriVox (public domain): 5 utterances of another reader (Sense and Sensibility), as
  kept in cmusphinx/pocketsphinx's test data (``test/data/librivox``, BSD-style licence),
  with its ``transcription`` file.

No audio or text is committed: ``prepare`` reads the fetched repositories (a clone or a
bare mirror; ``git show`` reads either) and writes the calls and their references under
``--out``. Each call is one mono 8 kHz channel (telephone bandwidth) where the two readers
take turns with 0.3 s between them, so there is speech nearly all the time.

Run: ``.venv/bin/python benchmarks/real_speech.py --tts TTS --tacotron TACOTRON2
--pocketsphinx POCKETSPHINX --out var/real-speech``, then ``bench_transcribe.py
--real-speech var/real-speech``.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import subprocess
import wave
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

RATE = 8_000
GAP_S = 0.3
CALLS = 4
REFERENCES = "references.json"


def _git(repo: Path, *args: str) -> bytes:
    """Output of a git command in a clone or a bare mirror."""
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True).stdout


def git_show(repo: Path, path: str) -> bytes:
    """A file at HEAD."""
    return _git(repo, "show", f"HEAD:{path}")


def git_ls(repo: Path, folder: str) -> list[str]:
    return sorted(_git(repo, "ls-tree", "--name-only", "HEAD", f"{folder}/").decode().split())


def head(repo: Path) -> str:
    return _git(repo, "rev-parse", "HEAD").decode().strip()


def pcm_8k(data: bytes) -> np.ndarray:
    """16-bit PCM WAV bytes as int16 samples at 8 kHz (mono)."""
    with wave.open(io.BytesIO(data)) as w:
        if w.getsampwidth() != 2:
            raise ValueError("expected 16-bit PCM")
        rate, channels = w.getframerate(), w.getnchannels()
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float64)
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    g = np.gcd(rate, RATE)
    return np.clip(resample_poly(samples, RATE // g, rate // g), -32768, 32767).astype(np.int16)


def utterances(tts: Path, tacotron: Path, pocketsphinx: Path) -> tuple[list, list]:
    """(samples, transcript) of each LJ Speech and each LibriVox utterance."""
    texts = {}
    for name in ("train", "val", "test"):
        lines = git_show(tacotron, f"filelists/ljs_audio_text_{name}_filelist.txt").decode("utf-8")
        for line in lines.splitlines():
            path, _, text = line.partition("|")
            texts[Path(path).stem] = text
    lj = [
        (pcm_8k(git_show(tts, path)), texts[Path(path).stem])
        for path in git_ls(tts, "tests/data/ljspeech/wavs")
        if path.endswith(".wav")
    ]
    librivox = []
    transcription = git_show(pocketsphinx, "test/data/librivox/transcription").decode("utf-8")
    for line in transcription.splitlines():
        m = re.match(r"<s>(.*)</s> \((.+)\)", line.strip())
        if m:
            audio = git_show(pocketsphinx, f"test/data/librivox/{m.group(2)}.wav")
            librivox.append((pcm_8k(audio), m.group(1).strip()))
    return lj, librivox


def write_wav(path: Path, samples: np.ndarray) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(samples.tobytes())


def prepare(tts: Path, tacotron: Path, pocketsphinx: Path, out: Path) -> list[dict]:
    """Write CALLS calls and their references under ``out``; return the references."""
    lj, librivox = utterances(tts, tacotron, pocketsphinx)
    gap = np.zeros(int(GAP_S * RATE), dtype=np.int16)
    out.mkdir(parents=True, exist_ok=True)
    refs = []
    for n in range(CALLS):
        # the LibriVox reader answers after every other LJ utterance, while there are answers
        turns = []
        mine_lj, mine_lv = lj[n::CALLS], librivox[n::CALLS]
        for k, item in enumerate(mine_lj):
            turns.append(item)
            if k % 2 == 1 and mine_lv:
                turns.append(mine_lv.pop(0))
        turns += mine_lv
        path = out / f"real-{n + 1}.wav"
        write_wav(path, np.concatenate([part for samples, _ in turns for part in (samples, gap)]))
        refs.append({"file": path.name, "reference": " ".join(text for _, text in turns)})
    sources = {
        "coqui-ai/TTS": {"commit": head(tts), "licence": "MPL-2.0 code; LJ Speech audio public domain"},
        "NVIDIA/tacotron2": {
            "commit": head(tacotron),
            "licence": "BSD-3-Clause; LJ Speech text public domain",
        },
        "cmusphinx/pocketsphinx": {
            "commit": head(pocketsphinx),
            "licence": "BSD-style; LibriVox public domain",
        },
    }
    (out / REFERENCES).write_text(json.dumps({"sources": sources, "calls": refs}, indent=1), encoding="utf-8")
    return refs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tts", type=Path, required=True, help="coqui-ai/TTS clone or mirror")
    parser.add_argument("--tacotron", type=Path, required=True, help="NVIDIA/tacotron2 clone or mirror")
    parser.add_argument(
        "--pocketsphinx", type=Path, required=True, help="cmusphinx/pocketsphinx clone or mirror"
    )
    parser.add_argument("--out", type=Path, default=Path("var/real-speech"))
    args = parser.parse_args()
    refs = prepare(args.tts, args.tacotron, args.pocketsphinx, args.out)
    print(f"wrote {len(refs)} calls to {args.out}")


if __name__ == "__main__":
    main()
