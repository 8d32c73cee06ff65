"""The row keys of a batch (see :mod:`iccc.rowkeys`): the id column's integers when one is named,
else the content key of caption + image id."""

from __future__ import annotations

from typing import Mapping

import numpy as np

from ..rowkeys import content_keys, id_keys


def batch_keys(batch: Mapping[str, list], *, caption_column: str, group_column: str | None,
               id_column: str | None) -> np.ndarray:
    """One ``int64`` key per row of ``batch`` (a dict of column lists).

    >>> batch_keys({"row": [3, 4], "caption": ["a", "b"]}, caption_column="caption", group_column=None,
    ...            id_column="row").tolist()
    [3, 4]
    """
    if id_column is not None:
        return id_keys(batch[id_column], name=id_column)
    return content_keys(batch[caption_column], batch[group_column] if group_column else None)
