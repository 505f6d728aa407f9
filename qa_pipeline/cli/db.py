"""qa db upgrade | status | recount: the results database's schema, and its day totals."""

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


@db_app.command("recount")
@friendly
def db_recount(config: ConfigOption = None) -> None:
    """Count the agent and team pages' day totals again from each interaction's newest score.

    Every write keeps them in step, and the upgrade that adds them counts them once; run this
    only if the database was changed by hand (rows deleted or edited in SQL)."""
    store = store_for(config)
    counted = store.rebuild_totals()
    typer.echo(f"{store.display_url}: day totals counted again from {counted} interactions' newest scores")
