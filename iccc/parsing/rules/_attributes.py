"""Attributes: the adjectives (and colour/material words) that describe a noun.

:class:`Attributes` adds attribute concepts for the entity pass, which meets adjectival modifiers
as it builds each entity: coordinated and stacked adjectives ("a black and white dog"), whole
hyphenated words ("short-sleeved"), "odd looking" and shaded colours ("light blue", "dark
colored") as one attribute; a participle that relates a
nominal it governs ("snow covered mountain") is queued as a relation instead. Pass 4,
:func:`find_predicative_attributes`, adds those not next to their noun: predicative adjectives
("the sky is blue", "painted white") and colours in noun slots ("dressed in blue").
"""

from __future__ import annotations

from itertools import compress

from ..._schema import NO_LINK
from .. import lexicon as lex
from ._proto import ATTRIBUTE, key
from ._resolve import Entities
from ._tokens import MAX_WORD_CHARS, Tokens

_ATTRIBUTE_BAD_POS = frozenset(("DET", "PRON", "NUM", "ADP", "CCONJ", "PART", "SCONJ", "PUNCT", "SYM"))
_PREDICATE_DEPS = frozenset(("acomp", "oprd"))


class Attributes:
    """The attributes of one caption, appended to ``protos`` as they are found.

    Attributes:
        tokens: the caption's :class:`~._tokens.Tokens`.
        protos: the concept tuples of the caption (see :mod:`._proto`), shared by all passes.
        used: tokens already part of an attribute.
        relation_verbs: participles that relate instead ("covered" in "snow covered mountain").
        participles: ``(nominal, participle, noun)`` relations queued for the relation pass.
    """

    __slots__ = ("tokens", "protos", "used", "relation_verbs", "participles")

    def __init__(self, tokens: Tokens, protos: list[tuple]):
        self.tokens = tokens
        self.protos = protos
        self.used: set[int] = set()
        self.relation_verbs: set[int] = set()
        self.participles: list[tuple[int, int, int]] = []

    def add_modifier(self, a: int, h: int) -> None:
        """An adjectival modifier ``a`` of noun ``h``, its coordinated and stacked adjectives."""
        if self.relation_participle(a, h):
            return
        self.add(a, h)
        t = self.tokens
        for c in t.children[a]:
            if c >= h:
                continue
            d = t.dep[c]
            if d == "conj":
                self.add(c, h)
                # "red, white/conj->red and blue/conj->white tail": a list chains its conjuncts
                for k in t.children[c]:
                    if c < k < h and t.dep[k] == "conj" and t.pos[k] == "ADJ":
                        self.add(k, h)
            elif d == "amod" and t.pos[c] == "ADJ" and t.lower[c] not in lex.DEGREE_ADJECTIVES:
                # "white/amod->sleeveless shirt": a stacked adjective the parser hung on its neighbour
                self.add(c, h)

    def relation_participle(self, a: int, h: int) -> bool:
        """Whether participle ``a`` relates a nominal it governs to noun ``h`` ("snow covered
        mountain": snow covers the mountain); if so, queues that relation."""
        t = self.tokens
        if t.tag[a] != "VBN":
            return False
        for c in t.children[a]:
            if c < a and t.nominal[c] and t.dep[c] in ("npadvmod", "compound", "nmod", "dobj"):
                self.relation_verbs.add(a)
                self.participles.append((c, a, h))
                return True
        return False

    def add(self, a: int, noun: int, state: bool = False) -> None:
        """Token ``a`` as an attribute of noun ``noun``, unless it is no attribute or is used.
        ``state``: ``a`` is a state adverb of ``STATE_ADVERBS`` ("the seat is up"), whatever its
        part of speech."""
        t, used = self.tokens, self.used
        lower = t.lower
        low = lower[a]
        lemma = t.lemma[a]
        if a in used or lemma in lex.ATTRIBUTE_STOP or low in lex.ATTRIBUTE_STOP:
            return
        if not low.isalpha() or len(low) > MAX_WORD_CHARS or t.pos[a] in _ATTRIBUTE_BAD_POS and not state:
            return
        if t.nominal[a] and low not in lex.NOUN_ATTRIBUTES:
            return  # nouns in adjective slots are compounds, not attributes
        if a + 2 < t.n and lower[a + 1] == "-" and t.hyphen_joined(a + 1):
            return  # the first part of a hyphenated word ("middle" of "middle-aged")
        if a + 1 < noun and lower[a + 1] in lex.LINKING_PARTICIPLES and self._linked(a, a + 1):
            return  # "odd" of "odd looking": the two are one attribute (below)
        if low in lex.SHADE_WORDS and self._shade_of(a, a + 1, noun):
            return  # "light" of "light blue": the colour takes it in (below)
        first = a
        if low in lex.SHADED_WORDS and a > 0 and self._shade_of(a - 1, a, noun) and a - 1 not in used:
            first = a - 1  # "a light blue shirt", "dark colored trees": one attribute
        elif low in lex.LINKING_PARTICIPLES:
            if not (a > 0 and self._linked(a - 1, a)) or a - 1 in used:
                return  # "looking" alone describes nothing
            first = a - 1  # "an odd looking toilet": one attribute, "odd looking"
        # hyphenated adjectives stay whole: "short-sleeved", "multi-colored", "black-and-white"
        while first >= 2 and lower[first - 1] == "-" and t.hyphen_joined(first - 1) and lower[first - 2].isalpha():
            first -= 2
        if first < a:
            if any(i in used for i in range(first, a)):
                return
            used.update(range(first, a))
        used.add(a)
        if t.tag[a] in ("VBN", "VBG"):
            lemma = low  # a participle used as an adjective keeps its form: "parked", "sliding"
        if first < a:
            lemma = t.words(first, a, low)
        self.protos.append(
            (key(first, a, ATTRIBUTE), "attribute", first, a, a, lemma, "noun", noun, NO_LINK, NO_LINK, False)
        )

    def _shade_of(self, j: int, a: int, noun: int) -> bool:
        """Whether shade word ``j`` ("light", "dark", "bright") grades the colour ``a`` right after
        it ("light blue", "dark colored") rather than the noun."""
        t = self.tokens
        return (
            j + 1 == a
            and a < t.n
            and a != noun
            and t.space[j]
            and t.lower[j] in lex.SHADE_WORDS
            and t.lower[a] in lex.SHADED_WORDS
            and t.head[j] in (a, noun)
        )

    def _linked(self, j: int, a: int) -> bool:
        """Whether adjective/adverb ``j`` right before linking participle ``a`` forms one
        attribute with it ("odd looking", "funny looking")."""
        t = self.tokens
        return (
            j + 1 == a
            and t.space[j]
            and t.pos[j] in ("ADJ", "ADV")
            and t.lower[j].isalpha()
            and t.lower[j] not in lex.ATTRIBUTE_STOP
            and t.head[j] in (a, t.head[a])
            and t.pos[a] == "VERB"
        )


def find_predicative_attributes(t: Tokens, entities: Entities, attributes: Attributes, qualities: list[int]) -> None:
    """Pass 4: attributes not next to their noun, given to the entity they describe.

    ``qualities`` are the colours in noun slots found by the tag repairs ("a person dressed in
    blue": the person's); adjectives under ``acomp``/``oprd`` describe the verb's subject ("the
    sky is blue").
    """
    dep, pos = t.dep, t.pos
    if not qualities and _PREDICATE_DEPS.isdisjoint(dep) and lex.STATE_ADVERBS.isdisjoint(t.lower):
        return  # the common case: no colour in a noun slot, no "is blue", no "is up"
    _state_adverbs(t, entities, attributes)
    for i in qualities:
        g = t.head[i]
        if dep[i] == "conj":
            continue
        if dep[i] == "pobj":
            g = t.head[g]
        owner = (
            entities.entity(g)
            if t.nominal[g]
            else entities.subject(g)
            if t.verbal[g] or pos[g] == "AUX"
            else None
        )
        if owner is not None:
            attributes.add(i, owner)
            for c in t.children[i]:
                if c in qualities:
                    attributes.add(c, owner)
    for i in compress(range(t.n), map(_PREDICATE_DEPS.__contains__, dep)):
        if pos[i] != "ADJ" or t.nominal[i]:
            continue
        v = t.head[i]
        if t.lemma[v] in lex.META_VERBS:
            continue
        subj = entities.subject(v)
        if subj is None:
            continue
        attributes.add(i, subj)
        for c in t.children[i]:
            if dep[c] == "conj" and pos[c] == "ADJ":
                attributes.add(c, subj)


def _state_adverbs(t: Tokens, entities: Entities, attributes: Attributes) -> None:
    """A state adverb of ``STATE_ADVERBS`` predicated of a thing is its attribute: after "be"
    ("the toilet seat is down", "three lights are on", "people are outside") or right after the
    object of "with" ("a toilet with the seat up", "a man with his hand up": whether the parser
    hangs it on the object or on the carrier). It must stand alone (no object of its own:
    "is up against the wall" is a relation)."""
    dep, lower, head, children = t.dep, t.lower, t.head, t.children
    for i in range(1, t.n):
        if lower[i] not in lex.STATE_ADVERBS or children[i] or dep[i] not in ("advmod", "prt", "acomp"):
            continue
        h = head[i]
        if t.lemma[h] == "be" and h < i:
            owner = entities.subject(h)
        elif (
            dep[i - 1] == "pobj"
            and lower[head[i - 1]] in lex.ACCESSORY_PREPS
            and h in (i - 1, head[head[i - 1]])  # "with the seat up/->seat", "with hand up/->man"
        ):
            owner = entities.entity(i - 1)
        else:
            continue
        if owner is not None:
            attributes.add(i, owner, state=True)
