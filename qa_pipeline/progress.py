"""Progress bars for long work: shown on a terminal, silent in logs and tests."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")


def progress(items: Iterable[T], desc: str, unit: str = "item") -> Iterator[T]:
    """Wrap ``items`` in a progress bar; ``disable=None`` hides it when stderr is not a TTY."""
    yield from tqdm(items, desc=desc, unit=unit, disable=None, leave=False)
