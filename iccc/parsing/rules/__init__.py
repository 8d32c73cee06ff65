"""Concept extraction rules over a dependency-parsed spaCy ``Doc``: :func:`extract`.

The rules read only token annotation (text, offsets, ``DEP``, ``POS``, ``TAG``, ``LEMMA``,
``HEAD``), so they work on hand-built ``Doc`` objects and on any English pipeline with a tagger and
a parser. Word lists live in :mod:`iccc.parsing.lexicon`. The annotation is read once, with one
``Doc.to_array`` call, into plain lists that all passes work on (:class:`~._tokens.Tokens`):
extraction stays a small part of the parse (``benchmarks/bench_rules.py`` measures each pass).

The passes, in order, one module each; what each reads and adds is in its signature:

1. :mod:`._tags` -- **repairs** of the small model's slips on caption fragments, made on the
   lists (the ``Doc`` is never changed); returns the colours standing in noun slots.
2. :mod:`._redirects` -- **redirects**: meta, quantifier and relational nouns that stand for their
   "of" complement ("a picture of X", "a herd of X", "on top of X").
3. :mod:`._entities` -- **entities and nouns** (with their counts, and the attributes of their
   modifiers through :mod:`._attributes`); :mod:`._resolve` answers which entity a token stands
   for.
4. :mod:`._attributes` -- **predicative attributes** ("the sky is blue", "dressed in blue").
5. :mod:`._relations` -- **verbs and relations**.

:mod:`._assemble` then sorts the concept tuples (:mod:`._proto`) and makes the concepts.

Output: a list of :class:`iccc.Concept`, sorted by (start, longest first, kind), with links
(``head``, ``subj``, ``obj``) as indices into that list. Spans are exact (``text[start:end] ==
concept.text``), contiguous, and never overlap within a kind, except entities, which may nest ("a
man's hat", "a snow covered hill").

A relation links a subject and an object entity, except a particle or directional adverbial that
no object follows: "a man sitting down", "a cat looking out", "throws the ball up" (the "up") are
relations with ``obj == -1`` (:data:`iccc._schema.NO_LINK`), their subject the verb's subject
(:mod:`._relations`). Counts are numerals, digits and "a single" ("one" too: value 1).
"""

from __future__ import annotations

from ..._schema import Concept
from ._assemble import assemble
from ._attributes import Attributes, find_predicative_attributes
from ._entities import find_entities
from ._redirects import find_redirects
from ._relations import find_relations
from ._tags import repair_tags
from ._tokens import Tokens
from ._tokens import clear_caches as clear_caches


def extract(doc) -> list[Concept]:
    """Concepts of a parsed ``Doc`` (needs ``TAG``, ``POS``, ``DEP`` and ``LEMMA`` annotation).

    >>> from spacy.tokens import Doc
    >>> from spacy.vocab import Vocab
    >>> doc = Doc(Vocab(), words=["a", "black", "dog"], heads=[2, 2, 2],
    ...           deps=["det", "amod", "ROOT"], pos=["DET", "ADJ", "NOUN"],
    ...           tags=["DT", "JJ", "NN"], lemmas=["a", "black", "dog"])
    >>> [(c.kind, c.text) for c in extract(doc)]
    [('entity', 'a black dog'), ('attribute', 'black'), ('noun', 'dog')]
    """
    tokens = Tokens(doc)
    if not tokens.n:
        return []
    qualities = repair_tags(tokens)
    redirect, prep_nouns = find_redirects(tokens)
    protos: list[tuple] = []
    attributes = Attributes(tokens, protos)
    entities = find_entities(tokens, redirect, prep_nouns, attributes, protos)
    find_predicative_attributes(tokens, entities, attributes, qualities)
    find_relations(tokens, entities, attributes, protos)
    return assemble(tokens, protos)


__all__ = ["clear_caches", "extract"]
