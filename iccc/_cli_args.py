"""Helpers shared by the ``iccc`` subcommands: argparse ``type=`` checks and summary shortening.

The ``type=`` functions turn an option's text into a value or raise ``argparse.ArgumentTypeError``,
so argparse answers ``iccc <cmd>: error: argument --seed: should be a non-negative integer
(0, 1, 2, ...), got '-1'`` with exit code 2 before any work starts::

    p.add_argument("--seed", type=non_negative_int, default=0, help="...")

>>> non_negative_int("3"), positive_int("1"), probability("0.25")
(3, 1, 0.25)
>>> shorten("a dog " * 100, 20)
'a dog a dog a dog a…'
"""

from __future__ import annotations

import argparse
import math

#: Characters of one caption shown in a printed summary (examples longer than this are cut).
SUMMARY_WIDTH = 200
ELLIPSIS = "…"


def _integer(text: str, low: int, allowed: str) -> int:
    try:
        value = int(str(text).strip(), 10)
    except ValueError:
        value = None
    if value is None or value < low:
        raise argparse.ArgumentTypeError(f"should be {allowed}, got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    """An option value that is a whole number >= 0 (seeds, epochs, example counts)."""
    return _integer(text, 0, "a non-negative integer (0, 1, 2, ...)")


def positive_int(text: str) -> int:
    """An option value that is a whole number >= 1 (batch sizes, process counts, limits)."""
    return _integer(text, 1, "a positive integer (1, 2, 3, ...)")


def probability(text: str) -> float:
    """An option value that is a number in [0, 1] (shares of samples)."""
    try:
        value = float(str(text).strip())
    except ValueError:
        value = math.nan
    if not 0.0 <= value <= 1.0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"should be a number in [0, 1], got {text!r}")
    return value


def no_rows_error(source, task: str = "work on") -> ValueError:
    """The error of a command given an input without a single row (an empty, blank or header-only file):
    ``'empty.txt': the input has no rows (no captions to parse).``"""
    return ValueError(f"{str(source)!r}: the input has no rows (no captions to {task}).")


def shorten(text, width: int = SUMMARY_WIDTH) -> str:
    """``text`` on one line (whitespace runs collapsed) and at most ``width`` characters, cut with an
    ellipsis: for printing captions of any length in a summary. Non-strings are shown with ``repr``."""
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise ValueError(f"`width` should be a positive int, got {width!r}.")
    if not isinstance(text, str):
        text = repr(text)
    # look at a bounded prefix only: a 100,000-character caption is not split as a whole
    head = " ".join(text[: 4 * width + 64].split())
    if len(head) <= width and len(text) <= 4 * width + 64:
        return head
    return head[: width - 1].rstrip() + ELLIPSIS
