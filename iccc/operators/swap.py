"""Swap two concepts of the same kind inside one caption.

A swap keeps every word of the caption, so a text-only model can only spot it by word order: a
swap that puts words where captions never have them ("a table sitting on a cat") is easy to
spot, one whose words fit each other's places ("a cat chasing a dog" for "a dog chasing a cat")
is not. Which pairs may be swapped is therefore decided by the context model of the concept base
(:mod:`iccc.contexts`, the fit weights of :mod:`iccc.operators._weights`): the *plausibility* of
a swap is how well each concept fits the other's place relative to how well the original fits
there, ``min(1, fit(b at a) / fit(a at a) * fit(a at b) / fit(b at b))`` (1: the swapped caption
reads as typical as the real one). Pairs of any semantic category are swapped when plausible
enough (:data:`MIN_PLAUSIBILITY`): two nouns, the attributes of two nouns (attribute binding:
"a red car and a wooden bench" -> "a wooden car and a red bench"), the two arguments of a
relation. Without data on the words (an empty base, a kind the base has no pool for, or
``use_context=False``) only concepts of one semantic category are swapped, as in the paper.

On COCO val2017 (benchmarks/bench_quality.py's trigram LM, trained on other COCO captions) the
LM tells real from swapped captions in 0.67 of the pairs at the default threshold (a balanced
base built from the captions), where swaps of one category, unfiltered, score 0.80 and
SugarCrepe's swaps about 0.68; about 5% of the captions have such a swap
(``iccc.balance.calibrate_mix`` measures it on a build's captions).
"""

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


#: Whether :class:`Swap` keeps to one semantic category even where the context model finds a
#: swap across categories plausible.
SAME_CATEGORY = False
#: Swaps less plausible than this are not made (see the module docstring). Chosen on COCO
#: val2017 against a trigram LM trained on other captions (benchmarks/bench_quality.py): e ** -3,
#: where the LM's pairwise accuracy on the swaps of a frequency-balanced build stays under 0.70
#: (e ** -3.5 kept 6.7% of the captions at 0.71, e ** -4 7.4% at 0.72 without balancing).
MIN_PLAUSIBILITY = 0.05


def _fit_request(prepared: Prepared, i: int) -> WeightRequest:
    """The weights that say how well a concept fits the context of concept ``i``."""
    c = prepared.parsed.concepts[i]
    form, keys = prepared.context(i)
    return WeightRequest(c.kind, form, None, keys, False, True)


def _fit(weights, concept) -> float | None:
    """The fit weight of ``concept``'s lemma in a context whose candidate weights are ``weights``
    (``None``: the pool does not hold the lemma, a word too rare to judge)."""
    pool, w, _ = weights
    j = pool.index.get(concept.lemma)
    return None if j is None else float(w[j])


def plausibility(weights_i, weights_j, a, b) -> float | None:
    """How plausible swapping concepts ``a`` and ``b`` is, in [0, 1], from the fit weights of
    their two places (``weights_i``: ``a``'s context, ``weights_j``: ``b``'s; see the module
    docstring): ``min(1, fit(b at a) / fit(a at a) * fit(a at b) / fit(b at b))``. ``None``
    when either place has no weights (no data on the kind); 0 when a lemma is not in the pool.

    >>> import numpy as np
    >>> from types import SimpleNamespace as NS
    >>> pool = NS(index={"dog": 0, "cat": 1})
    >>> at_dog, at_cat = (pool, np.array([4.0, 2.0]), None), (pool, np.array([1.0, 1.0]), None)
    >>> plausibility(at_dog, at_cat, NS(lemma="dog"), NS(lemma="cat"))
    0.5
    """
    if weights_i is None or weights_j is None:
        return None
    fits = (_fit(weights_i, b), _fit(weights_i, a), _fit(weights_j, a), _fit(weights_j, b))
    if any(f is None for f in fits) or not (fits[1] > 0 and fits[3] > 0):
        return 0.0
    return float(min(1.0, fits[0] / fits[1] * fits[2] / fits[3]))


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


def _same_category(a, b) -> bool:
    """Whether concepts ``a`` and ``b`` (of one kind) share a semantic category (:mod:`iccc.semantics`)."""
    return semantics.category(a.lemma, a.kind) == semantics.category(b.lemma, b.kind)


class Swap(Operator):
    """Exchange two concepts of one caption: two nouns (objects), two attributes of different
    nouns (attribute binding), or the two arguments of a relation.

    Never a no-op: the two lemmas differ and are not synonyms; arguments of a symmetric relation
    ("next to", "near", coordination "a cat and a dog") are not swapped, as decided from the parse.
    A pair is swapped when the context model finds the swap plausible (at least
    ``min_plausibility``, see the module docstring), whatever the categories of its concepts;
    without data on the words (or ``use_context=False``) only within one semantic category.
    Plausible swaps are also tried first (a row's slot is drawn by plausibility).

    Args:
        kinds: any of ``"noun"``, ``"attribute"``, ``"relation"``.
        use_context: judge swaps by the context model (else: one category, tried uniformly).
        min_plausibility: swaps less plausible than this are not made (default
            :data:`MIN_PLAUSIBILITY`; 0 keeps every pair the base has data on).
        same_category: keep to one semantic category even where a swap across categories is plausible.

    >>> import iccc, numpy as np
    >>> parsed = iccc.parse(["A dog chasing a cat."])[0]
    >>> base = iccc.ConceptBase()
    >>> Swap(kinds=["relation"])(parsed, base, rng=np.random.default_rng(0)).corrupted_caption
    'A cat chasing a dog.'
    """

    name = "swap"
    supported_kinds = ("noun", "attribute", "relation")
    # not ``same_category``: the engine's setting is about replacements; swaps are judged by plausibility
    settings = ("use_context", "min_plausibility")
    needs_base = False  # the base only weighs how plausible a swap is

    def __init__(self, kinds: Sequence[str] | None = None, *, use_context: bool = True,
                 min_plausibility: float = MIN_PLAUSIBILITY, same_category: bool = SAME_CATEGORY):
        super().__init__(kinds)
        if not isinstance(same_category, bool):
            raise TypeError(f"`same_category` should be True or False, got {same_category!r}.")
        if not isinstance(use_context, bool):
            raise TypeError(f"`use_context` should be True or False, got {use_context!r}.")
        if isinstance(min_plausibility, bool) or not isinstance(min_plausibility, (int, float)) \
                or not 0.0 <= min_plausibility <= 1.0:
            raise ValueError(f"`min_plausibility` should be in [0, 1], got {min_plausibility!r}.")
        self.same_category = same_category
        self.use_context = use_context
        self.min_plausibility = float(min_plausibility)

    @property
    def _strict(self) -> bool:
        """Whether pairs must be of one category before any weighing (no context model to judge them)."""
        return self.same_category or not self.use_context

    def _nouns_swappable(self, parsed: ParsedCaption, i: int, j: int) -> bool:
        a, b = parsed.concepts[i], parsed.concepts[j]
        if a.kind != "noun" or b.kind != "noun" or _overlap(a, b):
            return False
        if form_of(a) != form_of(b) or a.lemma == b.lemma or semantics.related(a.lemma, b.lemma, "noun"):
            return False
        ea, eb = a.head, b.head
        if ea == NO_LINK or eb == NO_LINK or _overlap(parsed.concepts[ea], parsed.concepts[eb]):
            return False  # nested entities: "a man's hand"
        if self._strict and not _same_category(a, b):
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
                    if self._strict and not _same_category(a, b):
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
        """The :func:`plausibility` of each swap, 0 below :attr:`min_plausibility` (the slot is not
        swapped). A pair the base has no data on (no pool for its kind) keeps weight 1 when its
        concepts share a semantic category, else 0."""
        concepts = prepared.parsed.concepts
        out = np.zeros(len(slots))
        for k, pair in enumerate(slots):
            a, b = concepts[pair.i], concepts[pair.j]
            score = plausibility(weights[2 * k], weights[2 * k + 1], a, b)
            if score is None:
                out[k] = 1.0 if _same_category(a, b) else 0.0
            elif score > 0 and score >= self.min_plausibility:
                out[k] = score
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
