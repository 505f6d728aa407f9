"""Rubric schema, loading and validation. A rubric is YAML in ``rubrics/``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from qa_pipeline.errors import RubricError

ALL_CHANNELS = ["call", "chat", "email"]


class Window(BaseModel):
    """Which of the criterion's turns it reads. Empty: anywhere in the interaction."""

    model_config = {"extra": "forbid"}

    first_turns: int | None = Field(default=None, ge=1)
    last_turns: int | None = Field(default=None, ge=1)


class Criterion(BaseModel):
    """One thing the rubric checks, with its phrases per language."""

    model_config = {"extra": "forbid"}

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    description: str = ""
    weight: float = Field(gt=0)
    critical: bool = False
    channels: list[Literal["call", "chat", "email"]] = Field(default_factory=lambda: list(ALL_CHANNELS))
    speaker: Literal["agent", "customer"] = "agent"
    window: Window = Field(default_factory=Window)
    method: Literal["rule"] = "rule"
    phrases: dict[str, list[str]]
    negative: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("phrases")
    @classmethod
    def _some_phrases(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        if not any(value.values()):
            raise ValueError("needs at least one phrase in at least one language")
        return value


class Rubric(BaseModel):
    """A versioned set of criteria."""

    model_config = {"extra": "forbid"}

    id: str
    version: int = Field(ge=1)
    name: str
    description: str = ""
    languages: list[str]
    criteria: list[Criterion] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> Rubric:
        ids = [c.id for c in self.criteria]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"criterion ids must be unique; repeated: {', '.join(dupes)}")
        return self

    @property
    def ref(self) -> str:
        """``id@version``, as written into every Score."""
        return f"{self.id}@{self.version}"


def _describe(error: dict, data: dict) -> str:
    loc = list(error["loc"])
    where = ""
    if len(loc) >= 2 and loc[0] == "criteria" and isinstance(loc[1], int):
        try:
            cid = data["criteria"][loc[1]].get("id", f"#{loc[1]}")
        except (IndexError, AttributeError, KeyError):
            cid = f"#{loc[1]}"
        where = f"criterion '{cid}', "
        loc = loc[2:]
    field = ".".join(str(p) for p in loc) or "(top level)"
    return f"{where}field '{field}': {error['msg']}"


def load_rubric(path: Path) -> Rubric:
    """Load and validate a rubric; RubricError names the file, criterion and field."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RubricError(f"rubric {path} not found; check the path or the 'rubric' setting") from None
    except yaml.YAMLError as exc:
        raise RubricError(f"{path}: not valid YAML ({exc})") from exc
    if not isinstance(data, dict):
        raise RubricError(f"{path}: expected a mapping with id, version, name, languages, criteria")
    try:
        return Rubric.model_validate(data)
    except ValidationError as exc:
        raise RubricError(f"{path}: {_describe(exc.errors()[0], data)}") from exc


@lru_cache(maxsize=16)
def cached_rubric(path: Path) -> Rubric:
    """load_rubric, once per path per process."""
    return load_rubric(path)
