"""Where the built-in plug-ins live, in one place: per extension point, the modules whose
``@registry.register(...)`` decorators add them, exactly as an outside package's would.

Outside packages declare theirs as entry points in the same groups, e.g. in their
pyproject.toml::

    [project.entry-points."qa_pipeline.chat_formats"]
    tsv = "qa_tsv:read_tsv"

A registry imports these modules, then loads the entry points, the first time it is asked
for a name (``qa_pipeline.registry.Registry``). This module imports nothing.
"""

from __future__ import annotations

BUILTINS: dict[str, tuple[str, ...]] = {
    # path -> IngestResult: a help-desk or chat export format (qa ingest chats --format NAME)
    "qa_pipeline.chat_formats": (
        "qa_pipeline.sources.chats",
        "qa_pipeline.sources.zendesk",
        "qa_pipeline.sources.intercom",
        "qa_pipeline.sources.freshdesk",
    ),
    # path -> (messages, quarantined): a mail store
    "qa_pipeline.email_readers": ("qa_pipeline.sources.emails",),
    # (pager, listed record, listing URL) -> full record: what an API pull fetches per record
    "qa_pipeline.pull_expanders": (
        "qa_pipeline.sources.zendesk",
        "qa_pipeline.sources.intercom",
        "qa_pipeline.sources.freshdesk",
    ),
    # a Transcriber class: WhisperSettings -> transcribe(path) -> segments
    "qa_pipeline.transcribers": ("qa_pipeline.transcribe",),
    # a Store class (url -> store.Store's methods), by database URL scheme: where results live
    "qa_pipeline.storage_backends": ("qa_pipeline.store",),
    # full-text search per SQLAlchemy dialect: moment() and match() (search.SearchBackend)
    "qa_pipeline.search_backends": ("qa_pipeline.store.search_sqlite", "qa_pipeline.store.search_postgres"),
    # a rubric criterion's method: needs_classifier, revisit(), explain() (methods.CriterionMethod)
    "qa_pipeline.criterion_methods": ("qa_pipeline.methods",),
    # (url, summary, timeout) -> None, by URL scheme: where the nightly flag summary goes
    "qa_pipeline.alert_sinks": ("qa_pipeline.alerts",),
    # public corpora that qa corpus prepare turns into labels (corpora.core.register)
    "qa_pipeline.corpora": (
        "qa_pipeline.corpora.epitome",
        "qa_pipeline.corpora.esconv",
        "qa_pipeline.corpora.midas",
        "qa_pipeline.corpora.multidogo",
        "qa_pipeline.corpora.multiwoz",
        "qa_pipeline.corpora.topical",
        "qa_pipeline.corpora.tydip",
        "qa_pipeline.corpora.uss",
    ),
}
