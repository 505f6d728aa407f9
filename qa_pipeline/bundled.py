"""Files shipped with qa-pipeline: the default rubrics and the trained models.

In the source tree they sit beside the package (``rubrics/``, ``models/``); the wheel maps
them into it (``qa_pipeline/rubrics/``, ``qa_pipeline/model_files/``; see pyproject.toml),
so an installed copy finds them without the checkout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

PACKAGE = Path(__file__).resolve().parent
# The folder name in the source tree -> the one inside the installed package.
_INSTALLED = {"rubrics": "rubrics", "models": "model_files"}


def bundled(kind: Literal["rubrics", "models"], name: str) -> Path:
    """The shipped file ``name`` of ``rubrics`` or ``models``: in the installed package, or
    else in the source checkout."""
    installed = PACKAGE / _INSTALLED[kind] / name
    return installed if installed.exists() else PACKAGE.parent / kind / name
