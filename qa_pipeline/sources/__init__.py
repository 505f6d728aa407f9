"""Raw sources -> Interactions. Built-in formats register here exactly as a user's would.

A chat reader is ``read(path, settings) -> IngestResult`` (settings may be None: defaults).
A mail reader is ``read(path) -> (messages, quarantined)``, chosen by the file's suffix
(``.eml`` -> "eml"; a file with no reader for its suffix is read as an mbox); the messages of
all files are threaded together. Register one with
``@chat_formats.register("name")`` in a module ``registrations.py`` lists, or as an entry
point in the group ``qa_pipeline.chat_formats`` from another package; ``qa ingest chats
--format name`` then finds it.
"""

from __future__ import annotations

from collections.abc import Callable

from qa_pipeline.contracts import (  # noqa: F401  (re-exported: where readers import them from)
    RECORD_COPY_CHARS,
    IngestResult,
    Quarantined,
    storable,
)
from qa_pipeline.registry import Registry

chat_formats: Registry[Callable[..., IngestResult]] = Registry("chat format", "qa_pipeline.chat_formats")
email_readers: Registry[Callable[..., tuple[list, list[Quarantined]]]] = Registry(
    "email reader", "qa_pipeline.email_readers"
)
