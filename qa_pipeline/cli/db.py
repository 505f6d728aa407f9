"""qa db upgrade | status: the results database's schema."""

from __future__ import annotations

import typer

from qa_pipeline.cli._app import (
    ConfigOption,
    db_app,
    friendly,
    store_for,
)


@db_app.command("upgrade")
@friendly
def db_upgrade(config: ConfigOption = None) -> None:
    """Migrate the database in database_url to this version's schema (commands do it on start too)."""
    store = store_for(config)  # opening a store migrates it
    typer.echo(f"{store.display_url}: schema revision {store.revision()[0]}")


@db_app.command("status")
@friendly
def db_status(config: ConfigOption = None) -> None:
    """Show the database's schema revision and the newest one, without changing anything."""
    from qa_pipeline.settings import load_settings
    from qa_pipeline.store.engine import peek

    shown, current, head = peek(load_settings(config).database_url)
    state = "up to date" if current == head else "needs `qa db upgrade`"
    typer.echo(f"{shown}: revision {current or 'none'}, newest {head} ({state})")
