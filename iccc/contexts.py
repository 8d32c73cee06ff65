"""Context keys of a concept inside its caption: what a replacement has to fit.

A replacement that is common in the same context (the verb whose object it is, the noun an
attribute modifies, the arguments of a relation, the words right before and after it) reads like
a real caption, so a text-only model cannot single it out. Pure functions over :class:`iccc.ParsedCaption`.
"""

from __future__ import annotations

import re

from ._schema import NO_LINK, ParsedCaption
from .semantics import category

_TOKEN = re.compile(r"[A-Za-z0-9']+|[^\sA-Za-z0-9']")
_WINDOW = 32  # characters looked at on each side for neighbouring words
# Skipped when looking for the next word: "holding a racquet" -> R1:racquet.
_DETERMINERS = frozenset("a an the his her their its my your our this that these those some".split())


def neighbour_keys(text: str, start: int, end: int) -> tuple[str, str]:
    """``L2:`` the two tokens before ``start`` and ``R1:`` the first token after ``end`` that is not
    a determiner (lower-cased; ``<s>``/``</s>`` at the edges): the n-gram context a text-only
    model judges a word by.

    >>> neighbour_keys("A man riding a horse.", 15, 20), neighbour_keys("A man riding a horse.", 6, 12)
    (('L2:riding a', 'R1:.'), ('L2:a man', 'R1:horse'))
    """
    left = _TOKEN.findall(text[max(0, start - _WINDOW) : start].lower())[-2:]
    if len(left) < 2:
        left = ["<s>"] * (2 - len(left)) + left
    right = [t for t in _TOKEN.findall(text[end : end + _WINDOW].lower()) if t not in _DETERMINERS][:1]
    return "L2:" + " ".join(left), "R1:" + (right[0] if right else "</s>")


def edge_keys(text: str, start: int, end: int) -> tuple[str, str]:
    """``L1:`` the token right before ``start`` and ``N1:`` the token right after ``end`` (lower-cased,
    determiners included; ``<s>``/``</s>`` at the edges): the word bigrams a replacement forms.

    >>> edge_keys("A man riding a horse.", 6, 12)
    ('L1:man', 'N1:a')
    """
    left = _TOKEN.findall(text[max(0, start - _WINDOW) : start].lower())[-1:]
    right = _TOKEN.findall(text[end : end + _WINDOW].lower())[:1]
    return "L1:" + (left[0] if left else "<s>"), "N1:" + (right[0] if right else "</s>")


def _add_category(keys: list, prefix: str, lemma: str) -> None:
    found = category(lemma, "noun")
    if found is not None:
        keys.append(f"{prefix}:{found}")


class _Links:
    """What the context keys of a caption's concepts look up, indexed once per caption: the first
    noun of each entity, the relations (coordination apart), the attribute lemmas by their noun
    and the lemma of every concept."""

    __slots__ = ("noun_of", "relations", "verb_relation", "attributes", "lemmas")

    def __init__(self, concepts):
        self.noun_of: dict[int, int] = {}
        self.relations: list = []
        self.verb_relation: dict[int, object] = {}  # start offset -> first relation starting there
        self.attributes: dict[int, list[str]] = {}
        self.lemmas = [c.lemma for c in concepts]
        for j, c in enumerate(concepts):
            kind = c.kind
            if kind == "noun":
                self.noun_of.setdefault(c.head, j)
            elif kind == "attribute":
                self.attributes.setdefault(c.head, []).append(c.lemma)
            elif kind == "relation":
                self.verb_relation.setdefault(c.start, c)
                if c.tag != "CC":
                    self.relations.append(c)

    def lemma(self, i: int) -> str | None:
        return self.lemmas[i] if 0 <= i < len(self.lemmas) else None


def context_keys(parsed: ParsedCaption, i: int) -> tuple[str, ...]:
    """Context keys of concept ``i`` (see module docstring).

    >>> from iccc import Concept, ParsedCaption
    >>> cs = (Concept("entity", "A man", 0, 5, "a man", "NN", "DT NN", "ROOT"),
    ...       Concept("noun", "man", 2, 5, "man", "NN", "NN", "ROOT", head=0),
    ...       Concept("relation", "riding", 6, 12, "ride", "VBG", "VBG", "acl", subj=0, obj=3),
    ...       Concept("entity", "a horse", 13, 20, "a horse", "NN", "DT NN", "dobj"),
    ...       Concept("noun", "horse", 15, 20, "horse", "NN", "NN", "dobj", head=3))
    >>> p = ParsedCaption("A man riding a horse", cs)
    >>> context_keys(p, 4)
    ('L2:riding a', 'R1:</s>', 'L1:a', 'N1:</s>', 'obj-of:ride')
    >>> [k for k in context_keys(p, 2) if "-cat:" not in k]  # categories need WordNet
    ['L2:a man', 'R1:horse', 'L1:man', 'N1:a', 'subj:man', 'obj:horse']
    """
    return _keys(parsed, _Links(parsed.concepts), i)


def caption_context_keys(parsed: ParsedCaption) -> list[tuple[str, ...]]:
    """:func:`context_keys` of every concept of ``parsed``, in order (the caption's links indexed
    once: what counting a concept base does for each caption).

    >>> from iccc import parse
    >>> p = parse(["A man riding a horse."])[0]
    >>> caption_context_keys(p) == [context_keys(p, i) for i in range(len(p))]
    True
    """
    links = _Links(parsed.concepts)
    return [_keys(parsed, links, i) for i in range(len(parsed.concepts))]


def _keys(parsed: ParsedCaption, links: _Links, i: int) -> tuple[str, ...]:
    c = parsed.concepts[i]
    # the n-gram context (neighbour_keys), then the word bigrams the concept forms (edge_keys:
    # what a bigram classifier sees; their balance factors are looked up under these keys, too),
    # from one tokenisation of each side
    text = parsed.text
    left = _TOKEN.findall(text[max(0, c.start - _WINDOW) : c.start].lower())[-2:]
    after = _TOKEN.findall(text[c.end : c.end + _WINDOW].lower())
    right = next((t for t in after if t not in _DETERMINERS), "</s>")
    keys: list[str] = [
        "L2:" + " ".join(["<s>"] * (2 - len(left)) + left),
        "R1:" + right,
        "L1:" + (left[-1] if left else "<s>"),
        "N1:" + (after[0] if after else "</s>"),
    ]
    kind = c.kind
    if kind in ("noun", "entity"):
        entity = i if kind == "entity" else c.head
        noun = i if kind == "noun" else links.noun_of.get(i, NO_LINK)
        for r in links.relations:
            if r.subj == entity:
                keys.append(f"subj-of:{r.lemma}")
            if r.obj == entity:
                keys.append(f"obj-of:{r.lemma}")
        if kind == "noun":
            keys.extend(f"attr:{a}" for a in links.attributes.get(noun, ()))
    elif kind in ("attribute", "count"):
        lemma = links.lemma(c.head)
        if lemma is not None:
            keys.append(f"noun:{lemma}")
            _add_category(keys, "noun-cat", lemma)
    elif kind == "relation":
        for role, entity in (("subj", c.subj), ("obj", c.obj)):
            lemma = links.lemma(links.noun_of.get(entity, NO_LINK)) if entity != NO_LINK else None
            if lemma is not None:
                keys.append(f"{role}:{lemma}")
                _add_category(keys, f"{role}-cat", lemma)
    elif kind == "verb":
        r = links.verb_relation.get(c.start)
        if r is not None:
            for role, entity in (("subj", r.subj), ("obj", r.obj)):
                lemma = links.lemma(links.noun_of.get(entity, NO_LINK))
                if lemma is not None:
                    keys.append(f"{role}:{lemma}")
                    _add_category(keys, f"{role}-cat", lemma)
    return tuple(dict.fromkeys(keys))
