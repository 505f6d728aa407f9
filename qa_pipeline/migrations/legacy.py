"""Upgrading databases made before migrations existed (releases up to 0.1)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, inspect
from sqlalchemy.schema import CreateColumn

from qa_pipeline.migrations import baseline


def add_missing_columns(engine: Engine) -> list[str]:
    """Add the nullable baseline columns an early release's tables lack; returns ``table.column``."""
    inspector = inspect(engine)
    added = []
    with engine.begin() as conn:
        for table in baseline.metadata.sorted_tables:
            if not inspector.has_table(table.name):
                continue
            existing = {c["name"] for c in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name not in existing and column.nullable:
                    ddl = CreateColumn(column).compile(dialect=engine.dialect)
                    conn.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN {ddl}")
                    added.append(f"{table.name}.{column.name}")
        if "scores.scored_at" in added:
            # Every read takes an interaction's newest score by this time: one left empty would
            # never be read (pages, search). The upgrade's time is the best known for them.
            scores = baseline.metadata.tables["scores"]
            conn.execute(
                scores.update().where(scores.c.scored_at.is_(None)).values(scored_at=datetime.now(UTC))
            )
    return added
