"""Regular expressions that users write (``redact_patterns``, REGEX in rubric token patterns).

A user's pattern is checked when the config or rubric loads, so a mistake is an error at
start, not a hang at 3 a.m.: it must compile, and it must not be able to backtrack
exponentially (a quantified group that itself holds an unbounded quantifier, ``(a+)+``, or a
back-reference). Patterns that pass still run under a time limit (the ``regex`` engine's
``timeout``), so no input can hold a run for longer than that; the caller quarantines the
record that hit it.
"""

from __future__ import annotations

import re
from re import _constants as sre_constants  # type: ignore[attr-defined]  # the stdlib's own parser
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

import regex

# Seconds one user pattern may spend on one text; far above what a sane pattern needs.
TIME_LIMIT_S = 1.0
_REPEATS = {sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, sre_constants.POSSESSIVE_REPEAT}
_UNBOUNDED = 10  # a repeat allowing more than this many counts as unbounded


def _first_op(items: Any) -> Any:
    """The operator a parsed pattern starts with, looking into groups."""
    while items:
        op, arg = items[0]
        if op != sre_constants.SUBPATTERN:
            return op
        items = arg[-1]
    return None


def _walk(items: Any, inside_repeat: bool) -> str | None:
    """Why the parsed pattern can backtrack exponentially, or None."""
    for op, arg in items:
        if op == sre_constants.GROUPREF or op == sre_constants.GROUPREF_EXISTS:
            return "it uses a back-reference"
        if op in _REPEATS:
            _low, high, body = arg
            unbounded = high == sre_constants.MAXREPEAT or high > _UNBOUNDED
            if inside_repeat and unbounded:
                return "a repeated group holds another unbounded repeat, e.g. (a+)+"
            # An iteration that starts with a fixed character ("(\.[a-z]+)+") is delimited: the
            # engine cannot split the same text into iterations in many ways.
            delimited = _first_op(body) in (sre_constants.LITERAL, sre_constants.IN)
            problem = _walk(body, (inside_repeat or unbounded) and not delimited)
            if problem:
                return problem
        elif op == sre_constants.SUBPATTERN:
            problem = _walk(arg[-1], inside_repeat)
            if problem:
                return problem
        elif op == sre_constants.BRANCH:
            for branch in arg[1]:
                problem = _walk(branch, inside_repeat)
                if problem:
                    return problem
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            problem = _walk(arg[1], inside_repeat)
            if problem:
                return problem
    return None


def check_pattern(pattern: str) -> str | None:
    """Why ``pattern`` cannot be used (does not compile, or may take exponential time), or None."""
    try:
        parsed = sre_parse.parse(pattern)
        regex.compile(pattern)
    except (re.error, regex.error, RecursionError, OverflowError) as exc:
        return f"it is not a regular expression ({exc})"
    problem = _walk(parsed, inside_repeat=False)
    return f"{problem}, which can take exponential time on some inputs" if problem else None


def compile_pattern(pattern: str) -> regex.Pattern[str]:
    """Compile a checked user pattern with the ``regex`` engine (Unicode classes, ``timeout``)."""
    problem = check_pattern(pattern)
    if problem:
        raise ValueError(f"{pattern!r}: {problem}")
    return regex.compile(pattern)
