"""Schema migrations (Alembic), run by ``store.connect`` and by ``qa db upgrade``.

Revisions live in ``versions/``; write a new one for every schema change (``store.metadata``
stays the description of the newest schema, and a test checks the two agree).
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

# The revision that matches the schema the releases before migrations created.
BASELINE = "0001"


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration for our scripts, bound to ``engine`` (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", "qa_pipeline:migrations")
    config.attributes["engine"] = engine
    return config


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty (or pre-migration) database."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    """The newest revision this version of qa-pipeline knows."""
    head = ScriptDirectory.from_config(alembic_config(None)).get_current_head()  # type: ignore[arg-type]
    assert head is not None, "qa_pipeline/migrations/versions holds no revision"
    return head


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database to ``revision``.

    A database made before migrations existed (tables, no ``alembic_version``) first gets
    the nullable columns and tables later releases added, is stamped with the baseline, then upgraded.
    """
    from qa_pipeline.migrations import baseline

    config = alembic_config(engine)
    names = set(inspect(engine).get_table_names())
    if names & set(baseline.metadata.tables) and "alembic_version" not in names:
        from qa_pipeline.migrations.legacy import add_missing_columns

        add_missing_columns(engine)
        baseline.metadata.create_all(engine)  # the baseline tables an early release lacked
        command.stamp(config, BASELINE)
    command.upgrade(config, revision)
