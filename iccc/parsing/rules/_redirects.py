"""Pass 2, redirects: nouns that stand for their "of" complement.

Meta nouns ("a picture of X"), quantifier and partitive nouns ("a herd of X", "a slice of X"),
interior nouns ("the inside of X") and the relational nouns of complex prepositions ("on top of
X") are no entities of their own: the complement takes their place, in relations too.
"""

from __future__ import annotations

from itertools import compress

from .. import lexicon as lex
from ._tokens import Tokens

_REDIRECT_LEMMAS = lex.META_NOUNS | lex.QUANTIFIER_NOUNS | lex.COMPLEX_PREP_NOUNS | lex.INTERIOR_NOUNS


def find_redirects(t: Tokens) -> tuple[dict[int, int], set[int]]:
    """``(redirect, prep_nouns)``: noun -> the "of" object standing in for it, and the nouns that
    are part of a complex preposition ("top" in "on top of"), which a relation takes in.

    >>> from spacy.tokens import Doc
    >>> from spacy.vocab import Vocab
    >>> t = Tokens(Doc(Vocab(), words=["herd", "of", "elephants"], heads=[0, 0, 1],
    ...                deps=["ROOT", "prep", "pobj"], pos=["NOUN", "ADP", "NOUN"],
    ...                tags=["NN", "IN", "NNS"], lemmas=["herd", "of", "elephant"]))
    >>> find_redirects(t)
    ({0: 2}, set())
    """
    redirect: dict[int, int] = {}
    prep_nouns: set[int] = set()
    lemmas = t.lemma
    for i in compress(range(t.n), t.nominal):
        lemma = lemmas[i]
        if lemma not in _REDIRECT_LEMMAS:
            continue
        target = t.of_object(i)
        if target is None:
            continue
        h = t.head[i]
        if lemma in lex.META_NOUNS or (lemma in lex.QUANTIFIER_NOUNS and t.tag[i] != "NNP"):
            redirect[i] = target
        elif lemma in lex.COMPLEX_PREP_NOUNS and t.dep[i] == "pobj" and t.pos[h] == "ADP" and t.lower[h] != "of":
            prep_nouns.add(i)
            redirect[i] = target
        elif lemma in lex.INTERIOR_NOUNS:
            redirect[i] = target  # "the inside of a room": the room
    return redirect, prep_nouns
