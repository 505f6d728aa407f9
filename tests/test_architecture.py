"""The layering holds: the import-linter contracts in pyproject.toml (no cycles, data contracts
that import nothing of the project, storage without NLP) are kept."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_the_architecture_contracts_are_kept():
    done = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert "Contracts: 3 kept, 0 broken." in done.stdout


def test_the_store_does_not_load_spacy():
    probe = "import sys, qa_pipeline.store, qa_pipeline.search, qa_pipeline.scorecards; print('spacy' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "False", done.stderr


def test_sql_lives_behind_the_store():
    """Only the store package, the schema and its migrations import SQLAlchemy or Alembic:
    everything else reads and writes through ``store.Store``."""
    import ast

    allowed = ("qa_pipeline/store/", "qa_pipeline/schema.py", "qa_pipeline/migrations/")
    importers = []
    for path in sorted((ROOT / "qa_pipeline").rglob("*.py")) + sorted((ROOT / "flows").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(n.split(".")[0] in ("sqlalchemy", "alembic") for n in names):
                importers.append(f"{relative}:{node.lineno}")
    assert {o.split(":")[0] for o in importers if not o.startswith(allowed)} == set()
    assert any(o.startswith("qa_pipeline/store/") for o in importers)  # the scan does see imports
