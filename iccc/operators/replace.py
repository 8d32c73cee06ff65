"""Replace one concept by another of the same kind and grammatical form."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .._schema import ParsedCaption
from ..base import LIGHT_VERBS, removal_table
from ..parsing.lexicon import NUMBER_WORDS
from ..textedit import replace_span
from ._base import BlockedByWords, Operator, Options, Prepared, Slot, pool_options, slot
from ._index import CandidateIndex
from ._record import Corruption
from ._weights import WeightRequest

#: Comparative and superlative adjectives: their lemma's surface would drop the degree.
_GRADED_TAGS = frozenset(("JJR", "JJS", "RBR", "RBS"))


def count_value(text: str) -> int | None:
    """Numeric value of a count word or digits ("two" -> 2, "12" -> 12), else ``None``.

    >>> count_value("Two"), count_value("12"), count_value("many")
    (2, 12, None)
    """
    lower = text.lower()
    if lower.isdigit():
        return int(lower)
    return NUMBER_WORDS.get(lower)


class Replace(Operator):
    """Replace an entity, noun, attribute, verb, relation or count by another of the same kind.

    The replacement has the same grammatical form (singular/plural noun, verb tag and
    transitivity, relation with or without a verb, count agreeing with its noun), is never the
    same lemma, a synonym, hypernym or hyponym, nor a word used by a sibling caption of the same
    image, nor a name ("Big Ben", "the Wii") in place of a common noun; it is drawn by corpus
    frequency times fit to the concept's context, in the same semantic category: attributes and
    counts with a semantic category are replaced within it or not at all (another concept is
    edited then), nouns and entities keep to it when it holds a fair share of the weight (see
    :mod:`iccc.operators._weights`). Comparative and superlative attributes ("smaller") are not
    replaced: the base knows their lemma's form only.

    Args:
        kinds: concept kinds to replace (default: all six).
        same_category: keep replacements in the original's semantic category (see above).
        use_context: weight candidates by how well they fit the concept's context.
        vision: an :class:`iccc.vision.ImagePrior`: a share of the weight goes to the concepts of
            the row's image's scene (:meth:`iccc.vision.ImagePrior.reweight`); ``None``: text only.

    >>> import iccc, numpy as np
    >>> parsed = iccc.parse(["A red car on a street.", "A blue bus on a road.", "A red bus."])
    >>> base = iccc.ConceptBase.from_parsed(parsed, above_mean=False)
    >>> Replace(kinds=["attribute"])(parsed[0], base, rng=np.random.default_rng(0)).corrupted_caption
    'A blue car on a street.'
    """

    name = "replace"
    supported_kinds = ("entity", "noun", "attribute", "verb", "relation", "count")
    settings = ("same_category", "use_context", "vision")

    def __init__(self, kinds: Sequence[str] | None = None, *, same_category: bool = True, use_context: bool = True,
                 vision: Any = None):
        super().__init__(kinds)
        self.same_category = same_category
        self.use_context = use_context
        self.vision = vision

    def slots(self, parsed: ParsedCaption, index: CandidateIndex | None = None) -> list[Slot]:
        out = []
        for i, c in enumerate(parsed.concepts):
            if c.kind not in self.kinds:
                continue
            if c.kind == "relation" and c.tag == "CC":
                continue  # "and" in "a cat and a dog" has no meaningful replacement
            if c.kind == "verb" and c.lemma in LIGHT_VERBS:
                continue  # "has", "is": no action to get wrong
            if c.kind == "attribute" and c.tag in _GRADED_TAGS:
                continue  # "a much smaller truck": the base holds lemmas ("small"), not this form
            if c.kind == "count":
                value = count_value(c.text)
                if value is None or value == 1:
                    continue  # "one dog": any other count would need a plural noun
            out.append(slot(c.kind, i))
        return out

    def slot_acceptance(self, parsed: ParsedCaption, slots: list[Slot], index: CandidateIndex) -> list[float] | None:
        """The removal factors of :func:`iccc.balance.balance_insertions` (capped at 1): a lemma
        that corruptions remove far more often than they insert it ("two" among counts) is
        edited less often, so that removals and insertions of each lemma stay in balance."""
        balance = index.base.balance
        if not balance:
            return None
        tables = [balance.get(removal_table(slot.kind)) for slot in slots]
        if not any(tables):
            return None
        return [min(1.0, t.get(parsed.concepts[slot.i].lemma, 1.0)) if t else 1.0 for slot, t in zip(slots, tables)]

    def request(self, prepared: Prepared, slot: Slot) -> WeightRequest:
        c = prepared.parsed.concepts[slot.i]
        form, keys = prepared.context(slot.i)
        return WeightRequest(c.kind, form, c.lemma, keys, self.same_category, self.use_context)

    def options(self, prepared: Prepared, slot: Slot, index: CandidateIndex, group: Any, weights) -> Options | None:
        if weights is None:
            return None
        c = prepared.parsed.concepts[slot.i]
        pool, w, cumulative = weights
        blocked = BlockedByWords(pool, prepared.blocked_words(index, group))
        if c.kind == "count":
            # counts > 1 only (the noun is plural); never the same number in another spelling
            old = count_value(c.text)
            values = np.array([(count_value(s) or 0) for s in pool.surfaces])
            w = w * ((values > 1) & (values != old))
            if not w.sum() > 0:
                return None
            cumulative = np.cumsum(w)
        if self.vision is not None:
            w, cumulative = self.vision.reweight(pool, w, cumulative, c.kind, group)
        return pool_options(pool, w, cumulative, blocked)

    def apply(self, parsed: ParsedCaption, slot: Slot, label) -> Corruption | None:
        c = parsed.concepts[slot.i]
        _lemma, surface = label
        edit = replace_span(parsed.text, c.start, c.end, surface)
        if edit.text == parsed.text:
            return None
        return Corruption.replaced(parsed.text, edit.text, c.kind, c.text, edit.text[edit.start : edit.end],
                                   c.start, c.end, edit.start, edit.end)
