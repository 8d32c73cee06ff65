"""A concept under construction: the plain tuple the passes append and :mod:`._assemble` turns
into :class:`iccc.Concept` objects (a tuple is cheaper to make than an object).

Fields, in order::

    (sort key, kind, first token, last token (inclusive), head token (its tag/dep describe the
     span), lemma, link kind ("entity"/"noun"/None), link token, subject entity head, object
     entity head, symmetric)

The link is the concept this one belongs to: the entity of a noun, the noun of an attribute or a
count. The sort key (:func:`key`) orders by (first token, longest first, kind).
"""

from __future__ import annotations

from ..._schema import KINDS

#: Index of the first-token field.
FIRST = 2

_ORDER = {k: i for i, k in enumerate(KINDS)}
ENTITY, NOUN, COUNT = _ORDER["entity"], _ORDER["noun"], _ORDER["count"]
ATTRIBUTE, VERB, RELATION = _ORDER["attribute"], _ORDER["verb"], _ORDER["relation"]


def key(first: int, last: int, kind: int) -> int:
    """Sort key of a concept spanning tokens ``first`` to ``last``: by first token, then the longest
    first, then ``kind`` (its place in :data:`iccc.KINDS`, e.g. :data:`ENTITY`).

    >>> spans = [(0, 1, NOUN), (1, 1, ATTRIBUTE), (0, 2, ENTITY), (0, 1, ENTITY)]
    >>> sorted(spans, key=lambda span: key(*span))
    [(0, 2, 0), (0, 1, 0), (0, 1, 1), (1, 1, 3)]
    """
    # "last" stays below 2**32 tokens, so the first token always decides first
    return (first << 35) - (last << 3) + kind
