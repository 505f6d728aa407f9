"""Call recordings (+ a manifest) -> call Interactions, through a Transcriber.

The manifest is ``manifest.csv`` (or ``manifest.json``) beside the recordings, with
columns ``file, call_id, agent_id, agent_name, team, started_at, agent_channel, language,
customer`` (all but ``file`` optional; ``language`` skips detection; ``customer`` is the
caller's number or a customer id, kept only as a keyed hash for repeat contacts).
Without a manifest row, the file name may follow ``AGENTID_YYYYMMDDTHHMMSS_CALLID.ext``;
otherwise the agent is ``unknown`` and the interaction says so in its metadata.
"""

from __future__ import annotations

import csv
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from qa_pipeline.errors import InputError
from qa_pipeline.interactions import Interaction, stable_id
from qa_pipeline.sources import IngestResult, Quarantined
from qa_pipeline.transcribe import Transcriber, make_transcriber, transcribe_call

AUDIO_SUFFIXES = {".wav", ".mp3", ".flac", ".ogg", ".opus", ".m4a"}
FILENAME_PATTERN = re.compile(r"^(?P<agent_id>[^_]+)_(?P<ts>\d{8}T\d{6})_(?P<call_id>.+)$")


def find_recordings(paths: list[Path]) -> list[Path]:
    """Return audio files under the given files/folders, sorted, manifests excluded."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += [p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES]
        elif path.suffix.lower() in AUDIO_SUFFIXES:
            found.append(path)
    return sorted(set(found))


def load_manifest(folder: Path) -> dict[str, dict[str, str]]:
    """Return manifest rows keyed by file name; an absent manifest gives ``{}``."""
    csv_path, json_path = folder / "manifest.csv", folder / "manifest.json"
    if csv_path.exists():
        with open(csv_path, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
    elif json_path.exists():
        rows = json.loads(json_path.read_text(encoding="utf-8"))
    else:
        return {}
    return {
        Path(row["file"]).name: {k: (v or "").strip() for k, v in row.items()}
        for row in rows
        if row.get("file")
    }


def call_details(path: Path, manifest: dict[str, dict[str, str]]) -> dict[str, Any]:
    """Return agent/team/call id/start for one recording from its manifest row or file name."""
    row = manifest.get(path.name)
    if row:
        started = row.get("started_at") or None
        return {
            "call_id": row.get("call_id") or path.stem,
            "agent_id": row.get("agent_id") or "unknown",
            "agent_name": row.get("agent_name") or None,
            "team": row.get("team") or None,
            "started_at": datetime.fromisoformat(started) if started else None,
            "agent_channel": row.get("agent_channel") or None,
            "language": row.get("language") or None,
            "agent_source": "manifest",
            # The caller's number or the CRM's customer id: repeat contacts (keyed at redaction).
            "customer": row.get("customer") or row.get("caller") or None,
        }
    match = FILENAME_PATTERN.match(path.stem)
    if match:
        started = datetime.strptime(match["ts"], "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
        return {
            "call_id": match["call_id"],
            "agent_id": match["agent_id"],
            "started_at": started,
            "agent_source": "filename",
        }
    return {"call_id": path.stem, "agent_id": "unknown", "agent_source": "none"}


def ingest_call(
    path: Path,
    transcriber: Transcriber,
    manifest: dict[str, dict[str, str]],
    default_agent_channel: str = "left",
) -> Interaction:
    """Transcribe one recording into an Interaction; raise InputError if it is unusable."""
    details = call_details(path, manifest)
    channel = details.pop("agent_channel", None) or default_agent_channel
    turns, meta = transcribe_call(
        path,
        transcriber,
        agent_channel=channel,
        language=details.pop("language", None),
        chunk_seconds=transcriber.settings.chunk_seconds,
    )
    meta["agent_source"] = details.pop("agent_source")
    if customer := details.pop("customer", None):
        meta["customer"] = customer
    language = meta.get("language")
    return Interaction(
        id=stable_id("call", "recording", details.pop("call_id")),
        channel="call",
        language=language,
        source=str(path),
        turns=turns,
        metadata=meta,
        **details,
    )


def ingest_calls(
    paths: list[Path], transcriber: Transcriber | None = None, default_agent_channel: str = "left"
) -> IngestResult:
    """Transcribe every recording under ``paths``; unusable ones are quarantined, not fatal.

    ``transcriber.settings.workers`` recordings are transcribed at once (threads sharing
    one model); results keep the order of the files.
    """
    from concurrent.futures import ThreadPoolExecutor

    from qa_pipeline.progress import progress

    transcriber = transcriber or make_transcriber()
    files = find_recordings(paths)
    manifests = {folder: load_manifest(folder) for folder in {p.parent for p in files}}

    def one(path: Path) -> Interaction | Quarantined:
        try:
            return ingest_call(path, transcriber, manifests[path.parent], default_agent_channel)
        except InputError as exc:
            return Quarantined.from_error("call", exc, str(path))
        except (ValueError, KeyError) as exc:  # bad manifest values
            return Quarantined("call", str(path), f"bad manifest entry: {exc}")

    result = IngestResult()
    with ThreadPoolExecutor(transcriber.settings.workers) as pool:
        for outcome in progress(pool.map(one, files), desc="transcribing calls", unit="call"):
            if isinstance(outcome, Quarantined):
                result.quarantined.append(outcome)
            else:
                result.interactions.append(outcome)
    return result
