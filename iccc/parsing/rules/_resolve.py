"""The entities found by pass 3, and which entity a token stands for.

:class:`Entities` is what the entity pass (:mod:`._entities`) builds and the attribute and
relation passes read: the entity of a token (through redirects, compound parts, relative and
resumptive pronouns), the subject of a verb, the partner of a coordinated entity.
"""

from __future__ import annotations

from .. import lexicon as lex
from ._tokens import Tokens

NOUN_MODIFIER_DEPS = frozenset(("compound", "amod", "nmod"))
# Clausal dependents of an entity whose verb takes the entity as subject: "a man riding a horse",
# and (after part-of-speech repair) "log/VB leaning/xcomp against a fence".
_ENTITY_CLAUSE_DEPS = frozenset("acl relcl xcomp advcl dep conj".split())
# Left dependents of a subjectless root verb that are its subject in a fragment ("man/npadvmod
# riding a horse", "eggs/compound cooking in a pan", "gray seagull/amod standing on a pole").
_FRAGMENT_SUBJECT_DEPS = frozenset(("npadvmod", "nmod", "dep", "compound", "amod"))
# Dependents whose subject is their head's: "sitting and/conj eating", "trying to/xcomp eat",
# "ready/acomp to eat".
_CHAINED_CLAUSE_DEPS = frozenset(("conj", "xcomp", "advcl", "acomp", "oprd"))


class Entities:
    """The entities of one caption by head token, and look-ups of the entity a token stands for.

    Attributes:
        tokens: the caption's :class:`~._tokens.Tokens`.
        heads: entity head -> its concept tuple (see :mod:`._proto`).
        noun_first: entity head -> first token of its noun span.
        redirect: quantifier / meta noun -> the noun standing in for it (pass 2).
        prep_nouns: "top" in "on top of": part of a relation, not an entity (pass 2).
    """

    __slots__ = ("tokens", "heads", "noun_first", "redirect", "prep_nouns")

    def __init__(self, tokens: Tokens, redirect: dict[int, int], prep_nouns: set[int]):
        self.tokens = tokens
        self.heads: dict[int, tuple] = {}
        self.noun_first: dict[int, int] = {}
        self.redirect = redirect
        self.prep_nouns = prep_nouns

    def resolve(self, i: int) -> int:
        """Follow quantifier/meta redirects: "a herd of elephants" -> elephants."""
        seen = set()
        while i in self.redirect and i not in seen:
            seen.add(i)
            i = self.redirect[i]
        return i

    def entity(self, i: int):
        """Token index of the entity head that token ``i`` stands for, or ``None``."""
        t = self.tokens
        if i in self.heads and t.dep[i] not in NOUN_MODIFIER_DEPS and i not in self.redirect:
            return i  # the common case, decided as below
        if i in self.redirect:
            i = self.resolve(i)
        head, dep = t.head, t.dep
        h = head[i]
        if dep[i] in NOUN_MODIFIER_DEPS and h in self.heads and self.noun_first[h] <= i:
            i = h
        if i in self.heads:
            return i
        low = t.lower[i]
        if low in lex.RELATIVE_PRONOUNS:
            if dep[h] == "relcl":
                return self.entity(head[h])  # "a man who is riding", "the ball that he holds"
            if dep[i] == "pobj" and dep[head[h]] == "relcl":
                return self.entity(head[head[h]])  # "a game in which the batter swung"
        if low in lex.RESUMPTIVE_PRONOUNS and dep[i] == "pobj" and h != head[h]:
            return self.antecedent(i)
        return None

    def subject(self, v: int, depth: int = 0):
        """Entity head index of the subject of verb ``v``, or ``None``."""
        if depth > 6:
            return None
        t = self.tokens
        dep, children = t.dep, t.children
        for c in children[v]:
            if dep[c] in lex.SUBJECT_DEPS:
                return self.entity(c)
            if dep[c] == "expl":
                for other in children[v]:
                    if dep[other] == "attr":
                        return self.entity(other)
        h = t.head[v]
        if h == v:
            # Fragments such as "Man riding a horse" sometimes come out with the noun as a
            # dependent of the verb; a nominal left of the verb is its subject.
            for c in children[v]:
                if c < v and dep[c] in _FRAGMENT_SUBJECT_DEPS:
                    e = self.entity(c)
                    if e is not None:
                        return e
            return None
        if dep[v] in _ENTITY_CLAUSE_DEPS and h in self.heads or dep[v] in lex.NOUN_CLAUSE_DEPS:
            if dep[v] == "acl":
                pair = self.with_pair(v)
                if pair is not None:
                    if t.resumes(v):  # "a suitcase with a cat sitting on it": the cat sits
                        return self.entity(pair[1])
                    if t.tag[v] == "VBG" and pair[1] == h:  # "a man with a bag walking"
                        return self.entity(pair[0])
            return self.entity(h)
        if dep[v] in _CHAINED_CLAUSE_DEPS:
            # "a man getting ready/acomp to eat/xcomp a pizza": the man eats
            return self.subject(h, depth + 1)
        return None

    def with_pair(self, v: int):
        """For a participle ``v`` after "X with/in Y" or "X wearing Y": the token pair (carrier X,
        accessory Y), or ``None``.

        "a man with a bag walking", "a girl in a bikini throwing", "a suitcase with a cat sitting
        on it" (participle on Y), "an apple with eyes drawn on it" (participle hung on X)."""
        t = self.tokens
        h = t.head[v]
        w = t.head[h]
        if t.dep[h] == "pobj" and t.lower[w] in lex.CARRIER_PREPS and t.dep[w] == "prep":
            return t.head[w], h
        if t.dep[h] == "dobj" and t.lemma[w] in lex.WEAR_VERBS and t.dep[v] == "acl":
            # "a man wearing red shoes walking across the street": the wearer walks
            carrier = self.subject(w)
            if carrier is not None:
                return carrier, h
        for w in t.children[h]:
            if w < v and t.dep[w] == "prep" and t.lower[w] in lex.ACCESSORY_PREPS:
                for y in t.children[w]:
                    if t.dep[y] == "pobj" and y == v - 1:
                        return h, y
        return None

    def antecedent(self, i: int):
        """The entity a resumptive "it"/"them" stands for: "a table with laptops on it",
        "a suitcase with a cat sitting on it", "the woman has a plate in front of her"."""
        t = self.tokens
        g = t.head[t.head[i]]  # pronoun <- prep <- governor
        if g in self.prep_nouns:  # "in front of her": pronoun <- of <- front <- in <- governor
            g = t.head[t.head[g]]
        if t.verbal[g] and t.dep[g] == "acl":
            pair = self.with_pair(g)
            return self.entity(pair[0]) if pair else None
        if t.verbal[g] and t.lemma[g] == "have":
            return self.subject(g)  # "the building has bricks on/->has it": the building's
        if not t.nominal[g]:
            return None
        h = t.head[g]
        if t.dep[g] == "pobj" and t.lower[h] in lex.ACCESSORY_PREPS and t.dep[h] == "prep":
            return self.entity(t.head[h])
        if t.dep[g] == "dobj" and t.lemma[h] == "have":
            return self.subject(h)
        return None

    def partner(self, e: int):
        """The entity coordinated with entity ``e`` ("a cat and a dog"), if any."""
        t = self.tokens
        for c in t.children[e]:
            if t.dep[c] == "conj" and c in self.heads:
                return c
        if t.dep[e] == "conj" and t.head[e] in self.heads:
            return t.head[e]
        return None
