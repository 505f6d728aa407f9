"""Alembic environment: runs migrations on the engine ``migrations.alembic_config`` carries."""

from alembic import context

from qa_pipeline.schema import metadata

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    if connection.dialect.name == "postgresql":
        # Two workers starting at once must not both migrate.
        connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7301001)")
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
