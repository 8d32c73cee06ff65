"""Swap two concepts of the same kind inside one caption."""

from __future__ import annotations

import re
from typing import Any, Sequence

import numpy as np

from .. import semantics
from .._schema import NO_LINK, ParsedCaption
from ..base import form_of
from ..textedit import swap_spans
from ._base import Operator, Options, Prepared, Slot, slot
from ._index import CandidateIndex
from ._record import Corruption
from ._weights import WeightRequest

_ONE = Options((None,), np.ones(1))


def _noun_of_entity(parsed: ParsedCaption, e: int) -> int:
    for k, c in enumerate(parsed.concepts):
        if c.kind == "noun" and c.head == e:
            return k
    return NO_LINK


SAME_CATEGORY = True


def _fit_request(prepared: Prepared, i: int) -> WeightRequest:
    """The weights that say how well a concept fits the context of concept ``i``."""
    c = prepared.parsed.concepts[i]
    form, keys = prepared.context(i)
    return WeightRequest(c.kind, form, None, keys, False, True)


def _relative_fit(weights, other) -> float:
    """How well ``other`` fits a context whose candidate weights are ``weights``, relative to the
    best candidate there."""
    if weights is None:
        return _UNKNOWN_FIT
    pool, w, _ = weights
    j = pool.index.get(other.lemma)
    if j is None:
        return _UNKNOWN_FIT
    return float(w[j] / w.max())


#: Fit of a concept the base has no data on (rare words, empty base): low but not ruled out.
_UNKNOWN_FIT = 1e-3


_SEPARATOR = re.compile(r"^(?:\s*(?:,|;|&|\band\b|\bor\b|\bas well as\b)\s*)+$", re.I)


def coordinated(parsed: ParsedCaption, e1: int, e2: int) -> bool:
    """Whether entities ``e1`` and ``e2`` are members of one coordination ("a couch, a chair and
    a table"): the text between them is only separators and other conjoined entities (the
    parser marks list members after the first with the ``conj`` dependency)."""
    concepts = parsed.concepts
    a, b = sorted((concepts[e1], concepts[e2]), key=lambda c: c.start)
    if b.dep != "conj":
        return False
    between, pos = [], a.end
    for c in sorted((c for c in concepts if c.kind == "entity" and a.end <= c.start and c.end <= b.start),
                    key=lambda c: c.start):
        if c.dep != "conj" or c.start < pos:
            continue
        between.append(parsed.text[pos : c.start])
        pos = c.end
    between.append(parsed.text[pos : b.start])
    return all(_SEPARATOR.match(gap) for gap in between)


def symmetric_pair(parsed: ParsedCaption, e1: int, e2: int) -> bool:
    """Whether entities ``e1`` and ``e2`` are linked by a symmetric relation ("next to", "and"),
    directly or as members of one coordination; swapping them would change nothing."""
    pair = {e1, e2}
    if any(r.kind == "relation" and r.symmetric and {r.subj, r.obj} == pair for r in parsed.concepts):
        return True
    return coordinated(parsed, e1, e2)


def _overlap(a, b) -> bool:
    return a.start < b.end and b.start < a.end


class Swap(Operator):
    """Exchange two concepts of one caption: two nouns (objects), two attributes of different
    nouns, or the two arguments of a relation.

    Never a no-op: the two lemmas differ and are not synonyms; arguments of a symmetric relation
    ("next to", "near", coordination "a cat and a dog") are not swapped, as decided from the parse.

    >>> import iccc, numpy as np
    >>> parsed = iccc.parse(["A dog chasing a cat."])[0]
    >>> base = iccc.ConceptBase()
    >>> Swap(kinds=["relation"])(parsed, base, rng=np.random.default_rng(0)).corrupted_caption
    'A cat chasing a dog.'
    """

    name = "swap"
    supported_kinds = ("noun", "attribute", "relation")
    settings = ("use_context", "min_plausibility", "same_category")
    needs_base = False  # the base only weighs how plausible a swap is

    def __init__(self, kinds: Sequence[str] | None = None, *, use_context: bool = True,
                 min_plausibility: float = 0.0, same_category: bool = SAME_CATEGORY):
        super().__init__(kinds)
        self.same_category = same_category
        if not 0.0 <= min_plausibility <= 1.0:
            raise ValueError(f"`min_plausibility` should be in [0, 1], got {min_plausibility!r}.")
        self.use_context = use_context
        self.min_plausibility = min_plausibility

    def _nouns_swappable(self, parsed: ParsedCaption, i: int, j: int) -> bool:
        a, b = parsed.concepts[i], parsed.concepts[j]
        if a.kind != "noun" or b.kind != "noun" or _overlap(a, b):
            return False
        if form_of(a) != form_of(b) or a.lemma == b.lemma or semantics.related(a.lemma, b.lemma, "noun"):
            return False
        ea, eb = a.head, b.head
        if ea == NO_LINK or eb == NO_LINK or _overlap(parsed.concepts[ea], parsed.concepts[eb]):
            return False  # nested entities: "a man's hand"
        if self.same_category and semantics.category(a.lemma, "noun") != semantics.category(b.lemma, "noun"):
            return False  # "a table on a cat" reads as nonsense without the image
        return not symmetric_pair(parsed, ea, eb)

    def slots(self, parsed: ParsedCaption, index: CandidateIndex | None = None) -> list[Slot]:
        concepts = parsed.concepts
        out = []
        if "noun" in self.kinds:
            nouns = [i for i, c in enumerate(concepts) if c.kind == "noun"]
            out.extend(
                slot("noun", i, j)
                for x, i in enumerate(nouns) for j in nouns[x + 1:]
                if self._nouns_swappable(parsed, i, j)
            )
        if "attribute" in self.kinds:
            attrs = [i for i, c in enumerate(concepts) if c.kind == "attribute"]
            for x, i in enumerate(attrs):
                for j in attrs[x + 1:]:
                    a, b = concepts[i], concepts[j]
                    if a.head == b.head or a.lemma == b.lemma or _overlap(a, b):
                        continue
                    if semantics.related(a.lemma, b.lemma, "attribute"):
                        continue
                    if self.same_category and (
                        semantics.category(a.lemma, "attribute") != semantics.category(b.lemma, "attribute")
                    ):
                        continue
                    out.append(slot("attribute", i, j))
        if "relation" in self.kinds:
            for r in concepts:
                if r.kind != "relation" or r.symmetric or r.subj == NO_LINK or r.obj == NO_LINK:
                    continue
                i, j = _noun_of_entity(parsed, r.subj), _noun_of_entity(parsed, r.obj)
                if i != NO_LINK and j != NO_LINK and self._nouns_swappable(parsed, min(i, j), max(i, j)):
                    out.append(slot("relation", min(i, j), max(i, j)))
        return out

    def slot_requests(self, prepared: Prepared, slots: list[Slot]) -> list[WeightRequest] | None:
        if not self.use_context:
            return None
        return [_fit_request(prepared, i) for slot in slots for i in (slot.i, slot.j)]

    def slot_weights(self, prepared: Prepared, slots: list[Slot], index: CandidateIndex, weights: list) -> np.ndarray | None:
        """Plausibility of each swap: how well each concept fits the other's context, relative
        to the best fit there (0..1; geometric mean of the two directions). A swap that puts
        words where the corpus never has them ("a table sitting on a cat") is easy to spot
        without the image; swaps below :attr:`min_plausibility` are not made."""
        concepts = prepared.parsed.concepts
        out = np.zeros(len(slots))
        for k, pair in enumerate(slots):
            fit_ab = _relative_fit(weights[2 * k], concepts[pair.j])
            fit_ba = _relative_fit(weights[2 * k + 1], concepts[pair.i])
            score = float(np.sqrt(fit_ab * fit_ba))
            out[k] = score if score >= self.min_plausibility else 0.0
        return out

    def options(self, prepared: Prepared, slot: Slot, index: CandidateIndex, group: Any, weights) -> Options | None:
        return _ONE

    def apply(self, parsed: ParsedCaption, slot: Slot, label) -> Corruption | None:
        a, b = parsed.concepts[slot.i], parsed.concepts[slot.j]
        edit = swap_spans(parsed.text, (a.start, a.end), (b.start, b.end))
        if edit.text == parsed.text:
            return None
        return Corruption(
            caption=parsed.text, corrupted_caption=edit.text, operation=self.name, concept_kind=slot.kind,
            original=a.text, replacement=edit.text[edit.start : edit.end],
            start=a.start, end=a.end, new_start=edit.start, new_end=edit.end,
            other_start=b.start, other_end=b.end,
        )
