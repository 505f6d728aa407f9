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
import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from qa_pipeline.errors import InputError
from qa_pipeline.interactions import Interaction, stable_id
from qa_pipeline.sources import IngestResult, Quarantined
from qa_pipeline.sources.encodings import decode_bytes
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
    """Return manifest rows keyed by file name; an absent manifest gives ``{}``.

    A manifest saved by a spreadsheet in a legacy encoding (Windows-1250, Latin-1) is read
    in the encoding it uses. A file named by two rows maps to an InputError (which of them is
    right cannot be known); an unreadable manifest raises InputError.
    """
    csv_path, json_path = folder / "manifest.csv", folder / "manifest.json"
    path = csv_path if csv_path.exists() else json_path if json_path.exists() else None
    if path is None:
        return {}
    try:
        text, _ = decode_bytes(path.read_bytes())
        rows = list(csv.DictReader(io.StringIO(text, newline=""))) if path is csv_path else json.loads(text)
    except (OSError, csv.Error, json.JSONDecodeError, RecursionError) as exc:
        raise InputError(f"cannot read the call manifest {path} ({exc})", source=str(path)) from exc
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise InputError(f"call manifest {path}: expected a list of rows with 'file'", source=str(path))
    found: dict[str, Any] = {}
    for number, row in enumerate(rows, start=1):
        if not row.get("file"):
            continue
        name = Path(str(row["file"])).name
        entry = {str(k): str(v or "").strip() for k, v in row.items() if k is not None}
        if name in found:
            found[name] = InputError(
                f"the call manifest {path} has more than one row for {name} (row {number})"
            )
        else:
            found[name] = entry
    return found


def call_details(path: Path, manifest: dict[str, dict[str, str]]) -> dict[str, Any]:
    """Return agent/team/call id/start for one recording from its manifest row or file name."""
    row = manifest.get(path.name)
    if isinstance(row, InputError):
        raise row
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
        return {
            "call_id": match["call_id"],
            "agent_id": match["agent_id"],
            "started_at": datetime.strptime(match["ts"], "%Y%m%dT%H%M%S").replace(tzinfo=UTC),
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
    manifests: dict[Path, Any] = {}
    for folder in {p.parent for p in files}:
        try:
            manifests[folder] = load_manifest(folder)
        except InputError as exc:
            manifests[folder] = exc  # every recording of the folder is quarantined with it

    def one(path: Path) -> Interaction | Quarantined:
        try:
            if isinstance(manifests[path.parent], InputError):
                raise manifests[path.parent]
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
