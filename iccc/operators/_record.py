"""The corruption record: what was changed, where, and the correction target."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._schema import filled

#: Correction target templates (the paper's phrasing).
REPLACE_TARGET = '"{new}" should be "{old}".'
SWAP_TARGET = '"{a}" and "{b}" are swapped.'


@dataclass(frozen=True)
class Corruption:
    """One corrupted caption and how to correct it.

    Attributes:
        caption: the original caption.
        corrupted_caption: the caption after the edit.
        operation: ``"replace"``, ``"swap"`` or ``"add"``.
        concept_kind: kind of the edited concept (for ``add``: ``"attribute"`` or ``"entity"``).
        original: the edited text in ``caption`` (for a swap: the first of the two spans).
        replacement: the text now at that place in ``corrupted_caption``.
        start, end: offsets of ``original`` in ``caption``.
        new_start, new_end: offsets of ``replacement`` in ``corrupted_caption``.
        other_start, other_end: for a swap, the second span in ``caption``; else ``-1``.
        target: the correction, e.g. ``"cat" should be "dog".``.

    >>> c = Corruption("A dog.", "A cat.", "replace", "noun", "dog", "cat", 2, 5, 2, 5)
    >>> c.target
    '"cat" should be "dog".'
    """

    caption: str
    corrupted_caption: str
    operation: str
    concept_kind: str
    original: str
    replacement: str
    start: int
    end: int
    new_start: int
    new_end: int
    other_start: int = -1
    other_end: int = -1
    target: str = ""

    def __post_init__(self):
        if not self.target:
            if self.operation == "swap":
                a = self.corrupted_caption[self.new_start : self.new_end]
                b = self.original
                object.__setattr__(self, "target", SWAP_TARGET.format(a=a, b=b))
            else:
                object.__setattr__(self, "target", REPLACE_TARGET.format(new=self.replacement, old=self.original))

    @classmethod
    def replaced(cls, caption: str, corrupted_caption: str, concept_kind: str, original: str, replacement: str,
                 start: int, end: int, new_start: int, new_end: int) -> Corruption:
        """A ``"replace"`` record, built without the frozen dataclass's per-field ``__setattr__``
        (one is built for every corruption; the fields are the same as the constructor's)."""
        return filled(cls, dict(
            caption=caption, corrupted_caption=corrupted_caption, operation="replace", concept_kind=concept_kind,
            original=original, replacement=replacement, start=start, end=end, new_start=new_start,
            new_end=new_end, other_start=-1, other_end=-1,
            target=REPLACE_TARGET.format(new=replacement, old=original),
        ))

    @property
    def corrected_caption(self) -> str:
        """The caption the correction restores (always ``caption``)."""
        return self.caption

    def to_dict(self) -> dict[str, Any]:
        # every field is a str or an int: no need for asdict's recursive deep copy (slow)
        return {name: getattr(self, name) for name in _FIELDS}


_FIELDS = tuple(Corruption.__dataclass_fields__)
