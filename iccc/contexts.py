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


def _noun_of_entity(parsed: ParsedCaption, entity: int) -> int:
    for i, c in enumerate(parsed.concepts):
        if c.kind == "noun" and c.head == entity:
            return i
    return NO_LINK


def _entity_of(parsed: ParsedCaption, i: int) -> int:
    c = parsed.concepts[i]
    if c.kind == "entity":
        return i
    if c.kind == "noun":
        return c.head
    return NO_LINK


def _lemma_at(parsed: ParsedCaption, i: int) -> str | None:
    return parsed.concepts[i].lemma if 0 <= i < len(parsed.concepts) else None


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
    concepts = parsed.concepts
    c = concepts[i]
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
    if c.kind in ("noun", "entity"):
        entity = _entity_of(parsed, i)
        noun = i if c.kind == "noun" else _noun_of_entity(parsed, i)
        for r in concepts:
            if r.kind != "relation" or r.tag == "CC":
                continue
            if r.subj == entity:
                keys.append(f"subj-of:{r.lemma}")
            if r.obj == entity:
                keys.append(f"obj-of:{r.lemma}")
        if c.kind == "noun":
            for a in concepts:
                if a.kind == "attribute" and a.head == noun:
                    keys.append(f"attr:{a.lemma}")
    elif c.kind in ("attribute", "count"):
        lemma = _lemma_at(parsed, c.head)
        if lemma is not None:
            keys.append(f"noun:{lemma}")
            _add_category(keys, "noun-cat", lemma)
    elif c.kind == "relation":
        for role, entity in (("subj", c.subj), ("obj", c.obj)):
            noun = _noun_of_entity(parsed, entity) if entity != NO_LINK else NO_LINK
            lemma = _lemma_at(parsed, noun)
            if lemma is not None:
                keys.append(f"{role}:{lemma}")
                _add_category(keys, f"{role}-cat", lemma)
    elif c.kind == "verb":
        for r in concepts:
            if r.kind == "relation" and r.start == c.start:
                for role, entity in (("subj", r.subj), ("obj", r.obj)):
                    lemma = _lemma_at(parsed, _noun_of_entity(parsed, entity))
                    if lemma is not None:
                        keys.append(f"{role}:{lemma}")
                        _add_category(keys, f"{role}-cat", lemma)
                break
    return tuple(dict.fromkeys(keys))
