"""Public corpora turned into classifier labels: ``qa corpus prepare NAME PATH``.

Each corpus is one registered :class:`Corpus`: where it lives (a public GitHub
repository), its licence, and a reader that turns a checkout of it into labels whose
pass/fail comes from the corpus's own annotators (a dialogue act, a support strategy, a
politeness rating), never from our rules. Every label names its dialogue, and a dialogue's
split (train / valid / test) is a hash of its id, so one dialogue never sits on both sides
and re-preparing gives the same split.

No corpus text is committed to this repository: a user fetches the corpus, prepares it
into ``var/corpora/NAME.jsonl`` with a manifest (repository, commit, licence, counts), and
``qa train`` / ``qa evaluate`` read those files.

Some corpora are reserved for independent evaluation of this project (see RESERVED):
preparing them is refused, so they cannot reach training, thresholds or error analysis.
"""

from qa_pipeline.corpora.core import (  # the package's public names
    CORPORA,
    RESERVED,
    SPLIT_CAPS,
    SPLITS,
    Corpus,
    Prepared,
    corpus_label,
    count_labels,
    count_outcomes,
    describe,
    files_under,
    git_commit,
    known_corpora,
    manifest_path,
    prepare_corpus,
    read_corpora,
    read_outcomes,
    register,
    reserved_reason,
    sample_split,
    split_of,
    threshold_split,
    training_splits,
)

__all__ = [
    "CORPORA",
    "RESERVED",
    "SPLITS",
    "SPLIT_CAPS",
    "Corpus",
    "Prepared",
    "corpus_label",
    "count_labels",
    "count_outcomes",
    "describe",
    "files_under",
    "git_commit",
    "known_corpora",
    "manifest_path",
    "prepare_corpus",
    "read_corpora",
    "read_outcomes",
    "register",
    "reserved_reason",
    "sample_split",
    "split_of",
    "threshold_split",
    "training_splits",
]
