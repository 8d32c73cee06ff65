"""Argument checks shared by the modules of :mod:`iccc.dataset`: one message per kind of mistake.

Each check names the argument, shows the value with ``!r`` and returns it normalised (a Python
``int`` or ``float``), so a caller writes ``seed = check_count("seed", seed)``.

>>> check_p("p_swap", 0.15), check_count("epoch", 2), check_positive("batch_size", 8)
(0.15, 2, 8)
>>> check_p("p_correction", 1.5)
Traceback (most recent call last):
...
ValueError: `p_correction` should be a probability in [0, 1], got 1.5.
"""

from __future__ import annotations

import numpy as np

from ..streams import check_non_negative

#: A seed, an epoch, a count: a non-negative integer (the check :mod:`iccc.streams` applies to
#: its seeds, epochs and rows, so the messages agree).
check_count = check_non_negative


def check_p(name: str, value) -> float:
    """``value`` as a float when it is a probability in [0, 1] (a number, not a bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ValueError(f"`{name}` should be a probability in [0, 1], got {value!r}.")
    return float(value)


def check_positive(name: str, value, *, optional: bool = False) -> int | None:
    """``value`` as an int when it is a positive integer (``None`` too, when ``optional``)."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        allowed = "a positive integer or None" if optional else "a positive integer"
        raise ValueError(f"`{name}` should be {allowed}, got {value!r}.")
    return int(value)


def check_bool(name: str, value) -> bool:
    """``value`` when it is ``True`` or ``False`` (not any truthy value)."""
    if not isinstance(value, bool):
        raise TypeError(f"`{name}` should be True or False, got {value!r}.")
    return value


def check_column(name: str, value, *, optional: bool = False) -> str | None:
    """``value`` when it is a column name (a non-empty string; ``None`` too, when ``optional``)."""
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        allowed = "a non-empty string or None" if optional else "a non-empty string"
        raise TypeError(f"`{name}` should be {allowed} (a column name), got {value!r}.")
    return value
