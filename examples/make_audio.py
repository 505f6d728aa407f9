"""Generate the demo call recordings with espeak-ng and sox.

Run from the repository root: ``python examples/make_audio.py``. Needs the Debian
packages espeak-ng, sox and libsox-fmt-mp3. The output is committed, so neither the
demo nor the tests need these tools; this script documents how the audio was made
and lets anyone regenerate it.

Each call is a scripted dialogue. Agent and customer speak with different voices;
stereo calls put the agent on the left channel and the customer on the right, as
contact-centre recorders do; mono calls are mixed and band-limited to 8 kHz
telephone audio. The manifest (``manifest.csv``) maps files to agents.
"""

from __future__ import annotations

import csv
import subprocess
import tempfile
from pathlib import Path

OUT = Path(__file__).parent / "calls"
AGENT_VOICE = "en-us"
CUSTOMER_VOICE = "en-gb"
GAP_SECONDS = 0.7

# (call_id, file name, agent_id, agent_name, team, started_at, layout, dialogue)
# layout: "stereo" (agent left, 16 kHz), "mono8k" (mixed, 8 kHz telephone)
CALLS = [
    (
        "c-1001",
        "c-1001.wav",
        "a17",
        "Sarah K.",
        "billing",
        "2026-11-20T09:02:00Z",
        "stereo",
        [
            (
                "A",
                "Good morning, thank you for calling Acme billing, my name is Sarah. How can I help you today?",
            ),
            ("C", "Hi Sarah. I was charged twice for my subscription this month."),
            (
                "A",
                "I'm so sorry to hear that, I understand how frustrating that must be. Let me check your account.",
            ),
            ("C", "Thanks. It's the account ending in four two."),
            (
                "A",
                "I can see the duplicate charge. I have issued a refund today and you will see it in three to five days.",
            ),
            ("C", "Great, that's everything I needed."),
            ("A", "Thank you for calling Acme, have a wonderful day."),
        ],
    ),
    (
        "c-1002",
        "c-1002.wav",
        "a21",
        "Tom N.",
        "billing",
        "2026-11-20T10:15:00Z",
        "mono8k",
        [
            ("A", "Acme billing, Tom speaking."),
            ("C", "Hello. My invoice shows a late fee but I paid on time."),
            ("A", "Okay. What is the invoice number?"),
            ("C", "It is number eight eight one."),
            ("A", "The fee was added by the system. You have to call back after it updates."),
            ("C", "So nothing is fixed then."),
            ("A", "Bye."),
        ],
    ),
    (
        "c-1003",
        "c-1003.mp3",
        "a08",
        "Mark D.",
        "tech",
        "2026-11-20T11:40:00Z",
        "stereo",
        [
            ("A", "Hello and welcome to Acme support, this is Mark."),
            ("C", "My router keeps dropping the connection every evening."),
            ("A", "That sounds really annoying, I'm sorry about that. I'd be happy to help."),
            ("A", "Please restart the router while I reset the line from here."),
            ("C", "Okay, it is restarting now. The light is green."),
            ("A", "The line is reset and the issue is resolved. Is there anything else I can help you with?"),
            ("C", "No, that's all."),
            ("A", "Thanks for calling, take care."),
        ],
    ),
    (
        "c-1004",
        "c-1004.wav",
        "a33",
        "Lina P.",
        "tech",
        "2026-11-20T13:05:00Z",
        "mono8k",
        [
            ("A", "Good afternoon, Acme support, my name is Lina."),
            ("C", "I cannot log in to the app since the update."),
            ("A", "I understand, that must be frustrating. Let's get that sorted."),
            ("A", "I have sent a password reset link to your email."),
            ("C", "Got it, I am in now."),
            ("A", "Wonderful. Thank you for your patience and have a nice evening."),
        ],
    ),
    (
        "c-1005",
        "c-1005.mp3",
        "a08",
        "Mark D.",
        "tech",
        "2026-11-20T15:22:00Z",
        "mono8k",
        [
            ("A", "Support."),
            ("C", "My internet has been down since this morning and I work from home."),
            ("A", "Calm down. That's not my department, you have to call the network team."),
            ("C", "Can I speak to a manager please?"),
            ("A", "There's nothing I can do."),
        ],
    ),
    (
        "c-1006",
        "c-1006.wav",
        "a21",
        "Tom N.",
        "billing",
        "2026-11-20T16:48:00Z",
        "stereo",
        [
            ("A", "Hi, thanks for calling Acme, this is Tom."),
            ("C", "I want to change my payment card."),
            ("A", "Sure, I can help with that. I have updated the card on your account."),
            ("C", "Thank you."),
            ("A", "You're welcome, goodbye."),
        ],
    ),
    (
        "c-1007",
        "c-1007.wav",
        "a17",
        "Sarah K.",
        "billing",
        "2026-11-20T17:30:00Z",
        "stereo",
        [
            ("A", "Good evening, thank you for calling Acme, Sarah speaking."),
            ("C", "I was told my refund would arrive last week and it still has not."),
            ("A", "I apologize for the delay, I can see why that is upsetting."),
            ("A", "I will escalate this to our payments team and call you back tomorrow."),
            ("C", "Fine."),
            ("A", "Thank you for your patience."),
        ],
    ),
]


def speak(text: str, voice: str, path: Path) -> None:
    """Render one utterance to a 16 kHz mono WAV file."""
    raw = path.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-s", "165", "-w", str(raw), text], check=True)
    subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", str(path)], check=True)
    raw.unlink()


def duration(path: Path) -> float:
    """Length of an audio file in seconds."""
    out = subprocess.run(["soxi", "-D", str(path)], check=True, capture_output=True, text=True)
    return float(out.stdout)


def build_call(dialogue, layout: str, target: Path, work: Path, voices=(AGENT_VOICE, CUSTOMER_VOICE)) -> None:
    """Assemble a dialogue into a stereo or 8 kHz mono recording at ``target``."""
    left, right = [], []  # per-channel pieces: agent left, customer right
    for i, (who, text) in enumerate(dialogue):
        clip = work / f"u{i}.wav"
        speak(text, voices[0] if who == "A" else voices[1], clip)
        silence = work / f"s{i}.wav"
        subprocess.run(
            ["sox", "-n", "-r", "16000", "-c", "1", str(silence), "trim", "0", str(duration(clip))],
            check=True,
        )
        gap = work / f"g{i}.wav"
        subprocess.run(
            ["sox", "-n", "-r", "16000", "-c", "1", str(gap), "trim", "0", str(GAP_SECONDS)], check=True
        )
        speaking, quiet = (left, right) if who == "A" else (right, left)
        speaking += [clip, gap]
        quiet += [silence, gap]
    lpath, rpath = work / "left.wav", work / "right.wav"
    subprocess.run(["sox", *map(str, left), str(lpath)], check=True)
    subprocess.run(["sox", *map(str, right), str(rpath)], check=True)
    if layout == "stereo":
        subprocess.run(["sox", "-M", str(lpath), str(rpath), str(target)], check=True)
    else:
        # Mixed to one channel at the 8 kHz rate of a phone line. A 300-3400 Hz band-pass
        # on top made espeak's synthetic voice unintelligible even to people.
        subprocess.run(
            ["sox", "-m", str(lpath), str(rpath), "-r", "8000", "-c", "1", str(target)], check=True
        )


def write_broken_files() -> None:
    """Broken inputs the demo must quarantine, not crash on."""
    (OUT / "c-1098.mp3").write_bytes(b"ID3\x03\x00 this is not really an mp3 file \x00" * 20)
    (OUT / "c-1099.wav").write_bytes(b"")  # empty recording


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for call_id, name, agent_id, agent_name, team, started, layout, dialogue in CALLS:
            work = Path(tmp) / call_id
            work.mkdir()
            build_call(dialogue, layout, OUT / name, work)
            rows.append(
                {
                    "file": name,
                    "call_id": call_id,
                    "agent_id": agent_id,
                    "agent_name": agent_name,
                    "team": team,
                    "started_at": started,
                    "agent_channel": "left" if layout == "stereo" else "",
                }
            )
    write_broken_files()
    rows += [
        {
            "file": "c-1098.mp3",
            "call_id": "c-1098",
            "agent_id": "a33",
            "agent_name": "Lina P.",
            "team": "tech",
            "started_at": "2026-11-20T18:00:00Z",
            "agent_channel": "",
        },
        {
            "file": "c-1099.wav",
            "call_id": "c-1099",
            "agent_id": "a17",
            "agent_name": "Sarah K.",
            "team": "billing",
            "started_at": "2026-11-20T18:10:00Z",
            "agent_channel": "",
        },
    ]
    with open(OUT / "manifest.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} recordings and manifest.csv to {OUT}")


if __name__ == "__main__":
    main()
