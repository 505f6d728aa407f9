"""qa db upgrade | status: the results database's schema."""

from __future__ import annotations

import typer

from qa_pipeline.cli._app import (
    ConfigOption,
    db_app,
    friendly,
)


@db_app.command("upgrade")
@friendly
def db_upgrade(config: ConfigOption = None) -> None:
    """Migrate the database in database_url to this version's schema (commands do it on start too)."""
    from qa_pipeline.migrations import current_revision
    from qa_pipeline.settings import load_settings
    from qa_pipeline.store import connect

    engine = connect(load_settings(config).database_url)
    typer.echo(
        f"{engine.url.render_as_string(hide_password=True)}: schema revision {current_revision(engine)}"
    )


@db_app.command("status")
@friendly
def db_status(config: ConfigOption = None) -> None:
    """Show the database's schema revision and the newest one, without changing anything."""
    from sqlalchemy import create_engine

    from qa_pipeline.migrations import current_revision, head_revision
    from qa_pipeline.settings import load_settings

    engine = create_engine(load_settings(config).database_url)
    current, head = current_revision(engine), head_revision()
    state = "up to date" if current == head else "needs `qa db upgrade`"
    typer.echo(
        f"{engine.url.render_as_string(hide_password=True)}: revision {current or 'none'}, "
        f"newest {head} ({state})"
    )
