"""Shared by the benchmarks: add result rows to a Markdown results table."""

from __future__ import annotations

from pathlib import Path


def add_rows(path: Path, header: str, rows: list[str]) -> None:
    """Insert ``rows`` after the table's last row (notes below it stay below); create the file if missing."""
    text = path.read_text(encoding="utf-8") if path.exists() else header
    lines = text.rstrip("\n").split("\n")
    last_row = max(i for i, line in enumerate(lines) if line.startswith("|"))
    path.write_text("\n".join(lines[: last_row + 1] + rows + lines[last_row + 1 :]) + "\n", encoding="utf-8")
    print(f"recorded in {path}")
