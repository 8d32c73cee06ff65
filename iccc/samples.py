"""The built-in sample: captions written for this project, shipped with the package."""

from __future__ import annotations

from importlib import resources


def sample_captions() -> list[dict]:
    """Built-in caption rows ``{"image_id": int, "caption": str}``, several captions per image.

    >>> rows = sample_captions()
    >>> len(rows) >= 100 and set(rows[0]) == {"image_id", "caption"}
    True
    """
    rows = []
    text = resources.files("iccc.data").joinpath("sample_captions.tsv").read_text(encoding="utf-8")
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        image_id, caption = line.split("\t", 1)
        rows.append({"image_id": int(image_id), "caption": caption})
    return rows
