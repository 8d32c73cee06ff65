"""Add something the image does not show: an attribute on an unmodified noun, or a second object."""

from __future__ import annotations

from typing import Any, Sequence

from .._schema import ParsedCaption
from ..textedit import insert_before
from ._base import BlockedByWords, Operator, Options, Prepared, Slot, pool_options, slot
from ._index import CandidateIndex
from ._record import Corruption
from ._weights import WeightRequest

_OBJECT_DEPS = frozenset(("pobj", "dobj"))


class Add(Operator):
    """Insert an attribute before a noun that has none ("a dog" -> "a black dog"), or coordinate a
    plausible second object with an object entity ("on a bed" -> "on a bed and a chair").

    Inserted concepts follow the same rules as replacements: frequent, fitting the context (an
    attribute seen with that noun, an object seen in that relation), never a word of the caption
    or of a sibling caption. With ``vision`` (an :class:`iccc.vision.ImagePrior`) a share of the
    weight goes to the concepts of the row's image's scene.

    >>> import iccc, numpy as np
    >>> parsed = iccc.parse(["A dog on a bed.", "A black dog.", "A black cat."])
    >>> base = iccc.ConceptBase.from_parsed(parsed, above_mean=False)
    >>> Add(kinds=["attribute"])(parsed[0], base, rng=np.random.default_rng(0)).corrupted_caption
    'A dog on a black bed.'
    """

    name = "add"
    supported_kinds = ("attribute", "entity")
    settings = ("use_context", "vision")

    def __init__(self, kinds: Sequence[str] | None = None, *, use_context: bool = True, vision: Any = None):
        super().__init__(kinds)
        self.use_context = use_context
        self.vision = vision

    def slots(self, parsed: ParsedCaption, index: CandidateIndex | None = None) -> list[Slot]:
        concepts = parsed.concepts
        out = []
        if "attribute" in self.kinds:
            modified = {c.head for c in concepts if c.kind == "attribute"}
            out.extend(
                slot("attribute", i) for i, c in enumerate(concepts)
                if c.kind == "noun" and i not in modified and c.tag not in ("NNP", "NNPS")
            )
        if "entity" in self.kinds:
            coordinated = {x for r in concepts if r.kind == "relation" and r.tag == "CC" for x in (r.subj, r.obj)}
            out.extend(
                slot("entity", i) for i, c in enumerate(concepts)
                if c.kind == "entity" and c.dep in _OBJECT_DEPS and i not in coordinated
                and c.tag not in ("NNP", "NNPS")
            )
        return out

    def request(self, prepared: Prepared, slot: Slot) -> WeightRequest:
        c = prepared.parsed.concepts[slot.i]
        if slot.kind == "attribute":
            return WeightRequest("attribute", "ATTR", None, (f"noun:{c.lemma}",), False, self.use_context)
        form, keys = prepared.context(slot.i)
        return WeightRequest("entity", form, c.lemma, keys, False, self.use_context)

    def options(self, prepared: Prepared, slot: Slot, index: CandidateIndex, group: Any, weights) -> Options | None:
        if weights is None:
            return None
        pool, w, cumulative = weights
        if self.vision is not None:
            w, cumulative = self.vision.reweight(pool, w, cumulative, slot.kind, group)
        return pool_options(pool, w, cumulative, BlockedByWords(pool, prepared.blocked_words(index, group)))

    def apply(self, parsed: ParsedCaption, slot: Slot, label) -> Corruption | None:
        c = parsed.concepts[slot.i]
        _lemma, surface = label
        text = parsed.text
        if slot.kind == "attribute":
            edit = insert_before(text, c.start, surface)
            original = text[c.start : c.end]
            replacement = edit.text[edit.start : edit.end + 1 + (c.end - c.start)]
            return Corruption(
                caption=text, corrupted_caption=edit.text, operation=self.name, concept_kind="attribute",
                original=original, replacement=replacement, start=c.start, end=c.end,
                new_start=edit.start, new_end=edit.start + len(replacement),
            )
        addition = " and " + surface
        corrupted = text[: c.end] + addition + text[c.end :]
        return Corruption(
            caption=text, corrupted_caption=corrupted, operation=self.name, concept_kind="entity",
            original=c.text, replacement=c.text + addition, start=c.start, end=c.end,
            new_start=c.start, new_end=c.end + len(addition),
        )
