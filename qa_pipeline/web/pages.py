"""The page templates, for the web app and the static scorecards alike: one Jinja2
environment over ``web/templates`` with autoescaping on, so both render the same pages."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jinja2

TEMPLATES = Path(__file__).parent / "templates"
STYLESHEET = Path(__file__).parent / "static" / "app.css"


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.Undefined,
    )
