"""A qa.toml for a test night: its own database and data folder, acme.example's agents."""

from __future__ import annotations

from pathlib import Path


def write_config(folder: Path, body: str, database_url: str | None = None) -> Path:
    """Write ``folder/qa.toml``: a SQLite database in ``folder`` (or ``database_url``), the data
    folder ``folder/var``, mail agents by the domain acme.example, then ``body`` (settings and
    a ``[sources]`` table). Returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "qa.toml"
    url = database_url or f"sqlite:///{folder / 'qa.db'}"
    config.write_text(
        f'database_url = "{url}"\ndata_dir = "{folder / "var"}"\nagent_domains = ["acme.example"]\n'
        + body.lstrip("\n"),
        encoding="utf-8",
    )
    return config
