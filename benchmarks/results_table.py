"""Shared by the benchmarks: add result rows to a Markdown results table."""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
from collections.abc import Callable
from pathlib import Path


def add_rows(path: Path, header: str, rows: list[str]) -> None:
    """Insert ``rows`` after the last row of the file's first table, the results table (notes
    below it stay below, and so do the tables inside them); create the file if missing."""
    text = path.read_text(encoding="utf-8") if path.exists() else header
    lines = text.rstrip("\n").split("\n")
    last_row = next(i for i, line in enumerate(lines) if line.startswith("|"))
    while last_row + 1 < len(lines) and lines[last_row + 1].startswith("|"):
        last_row += 1
    path.write_text("\n".join(lines[: last_row + 1] + rows + lines[last_row + 1 :]) + "\n", encoding="utf-8")
    print(f"recorded in {path}")


def report(path: Path, header: str, rows: list[str], record: bool = True) -> None:
    """Print the rows, and add them to the results file at ``path`` if ``record``."""
    print("\n".join(rows))
    if record:
        add_rows(path, header, rows)


def database_arguments(description: str) -> argparse.ArgumentParser:
    """The options of the benchmarks that load N interactions into SQLite and PostgreSQL."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=1_000_000, help="interactions to load (default 1,000,000)")
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"])
    parser.add_argument(
        "--no-record", action="store_true", help="print the rows, do not add them to the results"
    )
    parser.add_argument("--workdir", type=Path, help="keep the databases here (default: a temporary folder)")
    parser.add_argument("--reuse", action="store_true", help="with --workdir: use what an earlier run loaded")
    return parser


def run_each(args: argparse.Namespace, run: Callable[..., list[str]], results: Path, header: str) -> None:
    """Run the benchmark on each database asked for, in its own folder (``--workdir``/DB, kept,
    or a temporary one), print its rows and record them unless ``--no-record``."""
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    for db in args.db:
        with tempfile.TemporaryDirectory(prefix="qa-bench-") as scratch:
            workdir = (args.workdir.resolve() / db) if args.workdir else Path(scratch)
            workdir.mkdir(parents=True, exist_ok=True)
            rows = run(db, args.n, workdir, args.reuse)
        report(results, header, rows, record=not args.no_record)
