"""Named plug-ins of one kind, built-in or from other packages (entry points)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Generic, TypeVar

from qa_pipeline.errors import ConfigError
from qa_pipeline.registrations import BUILTINS

T = TypeVar("T")


class Registry(Generic[T]):
    """Plug-ins of one extension point, by name.

    ``group`` is the entry-point group outside packages register under; the built-ins are
    the modules ``registrations.BUILTINS`` lists for it. Both are loaded on the first
    ``get`` or ``names``; a plug-in that fails to load is an error only when it is asked for.
    """

    def __init__(self, kind: str, group: str):
        self.kind = kind
        self.group = group
        self._items: dict[str, T] = {}
        self._broken: dict[str, str] = {}
        self._discovered = False

    def register(self, name: str) -> Callable[[T], T]:
        def decorate(item: T) -> T:
            self._items[name] = item
            return item

        return decorate

    def _discover(self) -> None:
        if self._discovered:
            return
        self._discovered = True
        for module in BUILTINS.get(self.group, ()):
            importlib.import_module(module)
        for point in entry_points(group=self.group):
            if point.name in self._items:
                continue  # a built-in of the same name stays; the plug-in needs another name
            try:
                self._items[point.name] = point.load()
            except Exception as exc:  # another package's bug: reported when its name is used
                self._broken[point.name] = f"{point.value} cannot be loaded ({type(exc).__name__}: {exc})"

    def get(self, name: str) -> T:
        """The plug-in registered as ``name``; ConfigError naming the known ones if none is."""
        self._discover()
        if name in self._items:
            return self._items[name]
        if name in self._broken:
            raise ConfigError(f"{self.kind} '{name}': {self._broken[name]}")
        known = ", ".join(sorted(self._items)) or "none"
        raise ConfigError(f"unknown {self.kind} '{name}'; known: {known}")

    def names(self) -> list[str]:
        """Every registered name, built-in and from other packages."""
        self._discover()
        return sorted(self._items)
