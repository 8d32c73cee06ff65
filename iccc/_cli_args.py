"""Helpers shared by the ``iccc`` subcommands: argparse ``type=`` checks, the help of the options every
caption-reading subcommand has, library defaults (:func:`default_of`) and summary shortening.

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
import inspect
import math

from .io import FILE_SUFFIXES, ROW_KINDS
from .parsing import DEFAULT_PIPELINES

#: Help of the INPUT of every subcommand that reads captions (all read them with iccc.io).
INPUT_HELP = ("caption file or folder: COCO captions_*.json, Karpathy/LAVIS JSON, .jsonl/.csv/.tsv/.txt, Flickr "
              ".token.txt, .parquet (text formats optionally .gz), a folder with a captions file")
#: Help of ``-o`` of the subcommands writing one row per input row (iccc parse, iccc corrupt).
ROWS_OUTPUT_HELP = "; the format follows the name: " + ", ".join(
    "/".join(FILE_SUFFIXES[kind]) for kind in ROW_KINDS)

#: Help of ``--model`` (the spaCy pipeline) of every subcommand that parses captions.
MODEL_HELP = f"spaCy pipeline name or path (default: the first installed of {', '.join(DEFAULT_PIPELINES)})"

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


def mix_shares(text: str) -> dict[str, float]:
    """An option value ``operation=share,...`` (``--mix``): the shares of the corrections.

    >>> mix_shares("number=0.2, existence=0")
    {'number': 0.2, 'existence': 0.0}
    """
    out = {}
    for part in str(text).split(","):
        if not part.strip():
            continue
        name, eq, value = part.partition("=")
        if not eq or not name.strip():
            raise argparse.ArgumentTypeError(f"should be operation=share,... (e.g. number=0.2), got {text!r}")
        out[name.strip()] = probability(value)
    if not out:
        raise argparse.ArgumentTypeError(f"should name at least one operation=share, got {text!r}")
    return out


def default_of(function, name: str):
    """The default of the parameter ``name`` of ``function`` (a class: of its ``__init__``): an option
    whose default is the library's takes it from there, so the value is written once.

    >>> from iccc.corrupt import Corruptor
    >>> default_of(Corruptor, "p_add")
    0.03
    """
    default = inspect.signature(function).parameters[name].default
    if default is inspect.Parameter.empty:
        raise ValueError(f"{function.__qualname__}() has no default for {name!r}.")
    return default


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
