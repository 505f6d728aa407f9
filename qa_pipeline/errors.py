"""Every exception the library raises on purpose. Each message says what to do next."""

from __future__ import annotations


class QAError(Exception):
    """Base class: the CLI turns any of these into a one-line error and exit code 2."""


class ConfigError(QAError):
    """The settings or a config file are wrong."""


class InputError(QAError):
    """One input (file or record) cannot be used. Callers quarantine it and go on."""

    def __init__(
        self, reason: str, *, source: str = "", record: str | None = None, position: int | None = None
    ):
        super().__init__(reason)
        self.reason = reason
        self.source = source
        self.record = record
        self.position = position  # line, record or message number in the source


class RubricError(QAError):
    """A rubric file is invalid; the message names the file, criterion and field."""


class ModelError(QAError):
    """A model (Whisper or classifier) cannot be found or loaded."""
