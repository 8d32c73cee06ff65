"""Small helpers shared by test modules (not fixtures)."""

from __future__ import annotations

import contextlib
import gzip
import signal
from pathlib import Path


def write(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` byte for byte (gzipped when it ends in ``.gz``); returns ``path``."""
    if path.suffix == ".gz":
        with gzip.open(path, "wt", encoding="utf-8", newline="") as f:
            f.write(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")
    return path


@contextlib.contextmanager
def deadline(seconds: int, error: type[BaseException] = TimeoutError):
    """Raise ``error`` in the test when the block runs longer than ``seconds`` (SIGALRM: a hang in
    Python code is interrupted, not waited for)."""

    def expired(signum, frame):
        raise error(f"still running after {seconds}s: a hang")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
