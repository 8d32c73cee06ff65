"""Pass 3, entities and nouns: every remaining nominal head, with its counts and attributes.

The noun span takes contiguous compounds ("fire hydrant", "living room", "t-shirt"), position
words ("front tire"), purpose gerunds ("cutting board") and fixed pairs ("hot dog"); the entity
span adds determiners, adjectives, numerals and possessives. Leading colour/material nouns are
attributes ("metal pole"); numerals are counts of the noun; adjectival modifiers go to
:class:`~._attributes.Attributes`.
"""

from __future__ import annotations

from itertools import compress

from ..._schema import NO_LINK
from .. import lexicon as lex
from ._attributes import Attributes
from ._proto import COUNT, ENTITY, NOUN, key
from ._resolve import NOUN_MODIFIER_DEPS, Entities
from ._tokens import MAX_WORD_CHARS, Tokens

_COMPOUND_DEPS = frozenset(("compound",))
_SPAN_DEPS = _COMPOUND_DEPS | NOUN_MODIFIER_DEPS
_PLACE_LEMMAS = lex.SCENE_NOUNS | lex.COMPLEX_PREP_NOUNS  # the only lemmas _is_place_adverbial accepts
# Words an adjectival modifier must be for _noun_span_first to take it into the noun (see
# _lexical_compound): position words, purpose gerunds, and every word sequence a fixed compound
# continues after.
_GLUED_ADJECTIVES = (
    lex.POSITION_WORDS
    | lex.GERUND_MODIFIERS
    | {pair[:k] for pair in lex.FIXED_COMPOUNDS for k, ch in enumerate(pair) if ch == " "}
)
_APOSTROPHE_S = frozenset(("'s", "\u2019s"))


def find_entities(
    t: Tokens, redirect: dict[int, int], prep_nouns: set[int], attributes: Attributes, protos: list[tuple]
) -> Entities:
    """Append the entity, noun and count concepts of ``t`` to ``protos`` (and the attributes of
    their modifiers through ``attributes``); return the :class:`~._resolve.Entities` found.

    ``redirect`` and ``prep_nouns`` come from pass 2: those nouns are no entities.

    >>> from spacy.tokens import Doc
    >>> from spacy.vocab import Vocab
    >>> t = Tokens(Doc(Vocab(), words=["a", "fire", "hydrant"], heads=[2, 2, 2],
    ...                deps=["det", "compound", "ROOT"], pos=["DET", "NOUN", "NOUN"],
    ...                tags=["DT", "NN", "NN"], lemmas=["a", "fire", "hydrant"]))
    >>> protos = []
    >>> entities = find_entities(t, {}, set(), Attributes(t, protos), protos)
    >>> [(p[1], p[5]) for p in protos], entities.noun_first
    ([('entity', 'a fire hydrant'), ('noun', 'fire hydrant')], {2: 1})
    """
    entities = Entities(t, redirect, prep_nouns)
    nominal, dep, head, lemmas, lower = t.nominal, t.dep, t.head, t.lemma, t.lower
    n = t.n
    covered = n  # first token of the leftmost noun span so far: heads are visited right to left
    for i in compress(range(n - 1, -1, -1), reversed(nominal)):
        if i >= covered or i in redirect or i in prep_nouns:
            continue
        h = head[i]
        if h > i and dep[i] in NOUN_MODIFIER_DEPS and (nominal[h] or _in_compound_chain(t, h)):
            continue  # part of (or modifier of) a noun to its right: "fire" in "fire hydrant"
        lemma = lemmas[i]
        low = lower[i]
        if (
            lemma in lex.NON_ENTITY_NOUNS
            or len(low) > MAX_WORD_CHARS
            or not (low.isalpha() or any(ch.isalpha() for ch in low))
        ):
            continue
        if dep[i] == "pobj" and lemma in _PLACE_LEMMAS and _is_place_adverbial(t, i, lemma):
            continue
        _add_entity(t, entities, attributes, protos, i)
        covered = entities.noun_first[i]
    if redirect:
        _quantified_attributes(t, entities, attributes)
    return entities


def _quantified_attributes(t: Tokens, entities: Entities, attributes: Attributes) -> None:
    """Adjectives of a quantifier noun describe what it quantifies: "small patches of grass" (the
    grass is small), "a large piece of red candy"."""
    dep, pos, lemma = t.dep, t.pos, t.lemma
    for q in entities.redirect:
        if lemma[q] not in lex.QUANTIFIER_NOUNS:
            continue
        owner = entities.entity(q)
        if owner is None:
            continue
        for c in t.children[q]:
            if c < q and dep[c] in lex.ATTRIBUTE_DEPS and pos[c] == "ADJ" and lemma[c] not in lex.QUANTITY_ADJECTIVES:
                attributes.add_modifier(c, owner)


def _add_entity(t: Tokens, entities: Entities, attributes: Attributes, protos: list[tuple], h: int) -> None:
    dep, lower = t.dep, t.lower
    j = h - 1
    if h == 0 or dep[j] not in _SPAN_DEPS and lower[j] != "-":
        first = h  # the common case: nothing glued to the head
    elif dep[j] == "amod" and not t.nominal[j] and lower[j] not in _GLUED_ADJECTIVES and lower[j] != "-":
        first = h  # "a red car": a plain adjective, which _noun_span_first would stop at
    else:
        first = _noun_span_first(t, h)
    # colour/material words leading the compound are attributes ("metal pole")
    noun_attrs = []
    while (
        first < h
        and lower[first] in lex.NOUN_ATTRIBUTES
        and t.space[first]
        and lower[first] + " " + lower[first + 1] not in lex.FIXED_COMPOUNDS  # "orange juice"
    ):
        noun_attrs.append(first)
        first += 1
    # entity span: left modifiers (determiner, adjectives, numerals, possessives)
    # (of the head, or of a compound part the parser hung them on: "a/det->fire fire hydrant")
    ent_first = first
    children = t.children
    left_deps = lex.ENTITY_LEFT_DEPS
    for k in range(first, h + 1):
        for c in children[k]:
            if c >= ent_first:
                break  # children are sorted
            if dep[c] in left_deps:
                ent_first = t.left_edge(c) if children[c] else c
    if ent_first < h:
        pos = t.pos
        while ent_first < h and pos[ent_first] in ("PUNCT", "SPACE"):
            ent_first += 1
        # keep the entity contiguous: every token in it must hang under the head
        head = t.head
        for i in range(ent_first, h):
            if head[i] != h and not t.inside(i, h):
                ent_first = i + 1

    last = h
    if h + 1 < t.n and lower[h + 1] in _APOSTROPHE_S and _apostrophe_plural(t, h):
        # "CD's": the "'s" belongs to the noun, a plural ("CDs" is what replaces it)
        last = h + 1
        t.tag[h] = "NNS"
    lemma_h = t.lemma[h]
    noun_lemma = lemma_h if first == h else t.words(first, h, lemma_h)
    # the entity's words run on into the noun's: one join gives both (as ``words`` does)
    if ent_first >= first:
        ent_lemma = noun_lemma
    elif all(t.space[ent_first:h]):
        ent_lemma = " ".join(lower[ent_first:h]) + " " + lemma_h
    else:
        ent_lemma = t.words(ent_first, h, lemma_h)
    ent = (key(ent_first, last, ENTITY), "entity", ent_first, last, h, ent_lemma, None, NO_LINK, NO_LINK, NO_LINK, False)
    protos.append(ent)
    entities.heads[h] = ent
    entities.noun_first[h] = first
    protos.append((key(first, last, NOUN), "noun", first, last, h, noun_lemma, "entity", h, NO_LINK, NO_LINK, False))

    for a in noun_attrs:
        attributes.add(a, h)
    if ent_first == first:
        return
    # modifiers of the head, and those the parser hung on a compound part ("a red/amod->fire
    # fire hydrant")
    # (and of a leading colour/material: "black/amod->metal metal pole")
    for k in range(noun_attrs[0] if noun_attrs else first, h + 1):
        for c in children[k]:
            if c >= first:
                break  # children are sorted
            if c < ent_first or c in noun_attrs:
                continue
            d = dep[c]
            if d in lex.ATTRIBUTE_DEPS and c > ent_first and lower[c - 1] + " " + lower[c] in lex.NUMBER_WORDS:
                # "a single dog": the article and "single" are one count, as "one" is
                lemma = lower[c - 1] + " " + lower[c]
                protos.append((key(c - 1, c, COUNT), "count", c - 1, c, c, lemma, "noun", h, NO_LINK, NO_LINK, False))
            elif d in lex.ATTRIBUTE_DEPS:
                attributes.add_modifier(c, h)
            elif d in ("nummod", "det", "quantmod") and (lower[c] in lex.NUMBER_WORDS or lower[c].isdigit()):
                protos.append((key(c, c, COUNT), "count", c, c, c, lower[c], "noun", h, NO_LINK, NO_LINK, False))


def _apostrophe_plural(t: Tokens, i: int) -> bool:
    """Whether noun ``i`` is followed by a possessive "'s" that possesses nothing ("a
    collection of CD's", "holding ski's"): a plural written with an apostrophe."""
    j = i + 1
    return (
        j < t.n
        and t.lower[j] in _APOSTROPHE_S
        and t.head[j] == i
        and t.dep[j] == "case"
        and t.dep[i] != "poss"
        and not t.space[i]
    )


def _in_compound_chain(t: Tokens, j: int) -> bool:
    """Whether token ``j`` is a compound part of a noun to its right ("cooking" in "kitchen
    cooking food", both compounds)."""
    dep, head, nominal = t.dep, t.head, t.nominal
    for _ in range(8):
        if dep[j] not in _COMPOUND_DEPS or head[j] <= j:
            return False
        j = head[j]
        if nominal[j]:
            return True
    return False


def _is_place_adverbial(t: Tokens, i: int, lemma: str) -> bool:
    """Whether pobj ``i`` names a position, not a thing: "on top", "on the left", "in the
    distance"."""
    if lemma in lex.SCENE_NOUNS:
        return True
    return lemma in lex.COMPLEX_PREP_NOUNS and t.of_object(i) is None and not t.has_child(i, ("compound", "poss"))


def _noun_span_first(t: Tokens, h: int) -> int:
    """First token of the noun span of head ``h``: contiguous compounds to its left."""
    dep, pos, lower, nominal = t.dep, t.pos, t.lower, t.nominal
    if h == 0 or dep[h - 1] not in _SPAN_DEPS and lower[h - 1] != "-":
        return h  # the common case: nothing glued to the head
    first = h
    while first > 0:
        j = first - 1
        if lower[j] == "-" and j >= 1 and t.inside(j - 1, h) and t.hyphen_joined(j):
            first = j - 1
        elif (
            t.head[j] > j
            and t.inside(j, h)
            and (
                dep[j] in _COMPOUND_DEPS
                and pos[j] in lex.COMPOUND_POS
                or dep[j] in NOUN_MODIFIER_DEPS
                and nominal[j]
                and lower[j] not in lex.NOUN_ATTRIBUTES
                or dep[j] == "amod"
                and _lexical_compound(t, j)
            )
        ):
            first = j
        else:
            break
    return first


def _lexical_compound(t: Tokens, j: int) -> bool:
    """Whether adjectival modifier ``j`` is part of the noun after it: a position word ("front
    tire", "left hand"), a purpose gerund ("cutting board") or a fixed pair ("hot dog",
    "swimming pool")."""
    low = t.lower[j]
    return (
        low in lex.POSITION_WORDS
        or low in lex.GERUND_MODIFIERS
        and t.tag[j] in ("VBG", "NN")
        or low + " " + t.lower[j + 1] in lex.FIXED_COMPOUNDS
    )
