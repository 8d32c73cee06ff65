"""Small helpers shared by test modules (not fixtures)."""

from __future__ import annotations

import gzip
from pathlib import Path


def write(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` byte for byte (gzipped when it ends in ``.gz``); returns ``path``."""
    if path.suffix == ".gz":
        with gzip.open(path, "wt", encoding="utf-8", newline="") as f:
            f.write(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")
    return path
