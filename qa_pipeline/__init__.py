"""qa-pipeline: score every customer interaction against a QA rubric."""

__version__ = "0.1.0"
