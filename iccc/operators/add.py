"""Add something the image does not show: an attribute on an unmodified noun, or a second object."""

from __future__ import annotations

from typing import Any, Sequence

from .._schema import ParsedCaption
from ..base import ConceptBase, form_of
from ..textedit import insert_before
from ._base import BlockedByWords, Operator, Options, Slot, pool_options
from ._record import Corruption
from ._weights import blocked_words, candidate_weights, slot_context

_OBJECT_DEPS = frozenset(("pobj", "dobj"))


class Add(Operator):
    """Insert an attribute before a noun that has none ("a dog" -> "a black dog"), or coordinate a
    plausible second object with an object entity ("on a bed" -> "on a bed and a chair").

    Inserted concepts follow the same rules as replacements: frequent, fitting the context (an
    attribute seen with that noun, an object seen in that relation), never a word of the caption
    or of a sibling caption.

    >>> import iccc, numpy as np
    >>> parsed = iccc.parse(["A dog on a bed.", "A black dog.", "A black cat."])
    >>> base = iccc.ConceptBase.from_parsed(parsed, above_mean=False)
    >>> Add(kinds=["attribute"])(parsed[0], base, rng=np.random.default_rng(0)).corrupted_caption
    'A dog on a black bed.'
    """

    name = "add"
    supported_kinds = ("attribute", "entity")

    def __init__(self, kinds: Sequence[str] | None = None, *, use_context: bool = True):
        super().__init__(kinds)
        self.use_context = use_context

    def slots(self, parsed: ParsedCaption, base: ConceptBase) -> list[Slot]:
        concepts = parsed.concepts
        out = []
        if "attribute" in self.kinds:
            modified = {c.head for c in concepts if c.kind == "attribute"}
            out.extend(
                Slot("attribute", i) for i, c in enumerate(concepts)
                if c.kind == "noun" and i not in modified and c.tag not in ("NNP", "NNPS")
            )
        if "entity" in self.kinds:
            coordinated = {x for r in concepts if r.kind == "relation" and r.tag == "CC" for x in (r.subj, r.obj)}
            out.extend(
                Slot("entity", i) for i, c in enumerate(concepts)
                if c.kind == "entity" and c.dep in _OBJECT_DEPS and i not in coordinated
                and c.tag not in ("NNP", "NNPS")
            )
        return out

    def options(self, parsed: ParsedCaption, slot: Slot, base: ConceptBase, *, group: Any = None) -> Options | None:
        c = parsed.concepts[slot.i]
        if slot.kind == "attribute":
            found = candidate_weights(
                base, "attribute", "ATTR", lemma=None, keys=(f"noun:{c.lemma}",),
                same_category=False, use_context=self.use_context,
            )
        else:
            found = candidate_weights(
                base, "entity", form_of(c), lemma=c.lemma, keys=slot_context(base, parsed, slot.i)[1],
                same_category=False, use_context=self.use_context,
            )
        if found is None:
            return None
        pool, w, cumulative = found
        return pool_options(pool, w, cumulative, BlockedByWords(pool, blocked_words(parsed.text, base, group)))

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
