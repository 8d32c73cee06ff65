"""Pass 5, verbs and relations between entities.

Verb + direct object ("holding a cup"); verb + preposition kept contiguous ("sitting on"), else the
bare preposition; two-word and complex prepositions ("next to", "on top of"); stranded
prepositions and objects of relative clauses ("the sofa the man is sitting on", "the ball the boy
holds", "a game in which ..."); resumptive pronouns ("a table with laptops on it": laptops on
table); reciprocals ("a cat and a dog next to each other"); participle compounds ("snow covered
mountain", queued by the attribute code); coordination ("a cat and a dog", symmetric). A
participle after "X with/in Y" or after a worn object describes X ("a man with a bag walking
down the street").

Particles and directional adverbials that no object follows are relations too, **without an
object** (``obj == -1``): the verb and its contiguous particles ("sitting down", "standing up",
"looking out", "walking away") when nothing else relates them, or a particle on its own when an
object stands between it and its verb ("throws the ball up": the relation "throws" links the
ball, the relation "up" has the thrower as subject). Their subject is the verb's subject, they
are never symmetric, and the operators that need two arguments (swaps) skip them.
"""

from __future__ import annotations

from itertools import compress
from operator import or_

from ..._schema import NO_LINK
from .. import lexicon as lex
from ._attributes import Attributes
from ._proto import FIRST, RELATION, VERB, key
from ._resolve import Entities
from ._tokens import Tokens

_VERB_CLAUSE_DEPS = frozenset("ROOT acl relcl advcl conj xcomp ccomp pcomp csubj parataxis dep".split())
# Dependency labels of the tokens that may start a relation (besides verbs).
_RELATION_DEPS = frozenset(("relcl", "prep", "agent", "prt", "conj", "appos"))


def symmetric(rel_lemma: str, prep_part: str) -> bool:
    """Whether a relation is symmetric, by its lemma or by its prepositional part ("sitting next
    to": "next to").

    >>> symmetric("sit next to", "next to"), symmetric("with", "with")
    (True, False)
    """
    return rel_lemma in lex.SYMMETRIC_RELATIONS or prep_part in lex.SYMMETRIC_RELATIONS


def find_relations(t: Tokens, entities: Entities, attributes: Attributes, protos: list[tuple]) -> None:
    """Append the verb and relation concepts of ``t`` to ``protos``.

    ``entities`` are those of pass 3; ``attributes`` holds the participles that relate
    (``relation_verbs``, no verb concepts of their own) and their queued relations.
    """
    _Relations(t, entities, protos, attributes.relation_verbs).run(attributes.participles)


class _Relations:
    """The relation pass over one caption: what it reads, and the relations found so far."""

    __slots__ = ("tokens", "entities", "protos", "relation_verbs", "keys", "verbs")

    def __init__(self, tokens: Tokens, entities: Entities, protos: list[tuple], relation_verbs: set[int]):
        self.tokens = tokens
        self.entities = entities
        self.protos = protos
        self.relation_verbs = relation_verbs
        self.keys: set[tuple] = set()  # (first, last, subj, obj) of relations found
        self.verbs: list[tuple[int, str]] = []  # (token, lemma) of the verb concepts, in order

    def run(self, participles: list[tuple[int, int, int]]) -> None:
        t = self.tokens
        dep, pos, lemma, verbal = t.dep, t.pos, t.lemma, t.verbal
        relation_verbs, prep_nouns = self.relation_verbs, self.entities.prep_nouns
        # only verbs and tokens whose label may start a relation (most tokens are neither)
        for i in compress(range(t.n), map(or_, map(_RELATION_DEPS.__contains__, dep), verbal)):
            d = dep[i]
            if verbal[i] and d in _VERB_CLAUSE_DEPS and i not in relation_verbs:
                lem = lemma[i]
                if lem != "be" and (lem not in lex.META_VERBS or self._depicting(i)):
                    self.protos.append((key(i, i, VERB), "verb", i, i, i, lem, None, NO_LINK, NO_LINK, NO_LINK, False))
                    self._verb_relations(i, lem)
                    self.verbs.append((i, lem))
            if d == "relcl":
                self._relative_clause_relation(i)
            if (
                (d in ("prep", "agent") or d == "prt" and t.has_child(i, ("pobj",)))
                and (pos[i] in ("ADP", "SCONJ", "ADV") or pos[i] == "ADJ" and lemma[i] in lex.ADJECTIVE_TAGGED_PREPS)
                and i not in prep_nouns
            ):
                self._prep_relation(i)
            elif d in ("conj", "appos") and i in self.entities.heads:
                self._coordination_relation(i)
        for m, a, h in participles:
            subj = self.entities.entity(m)
            if subj is not None and subj != h:
                self._add(a, a, a, lemma[a], subj, h)
        if self.verbs:
            self._particle_relations()

    def _depicting(self, v: int) -> bool:
        """Whether a verb of ``META_VERBS`` says what a thing in the image shows rather than what
        the image shows: "a mannequin displaying an outfit", "a tower featuring a clock" (not "a
        photo showing a dog", nor a caption without a subject)."""
        subj = self.entities.subject(v)
        return subj is not None and self.tokens.lemma[subj] not in lex.META_NOUNS

    def _add(self, first, last, head_tok, lemma, subj, obj, is_symmetric=False) -> None:
        rel = (first, last, subj, obj)
        if rel not in self.keys:
            self.keys.add(rel)
            self.protos.append(
                (key(first, last, RELATION), "relation", first, last, head_tok, lemma, None, NO_LINK, subj, obj,
                 is_symmetric)
            )

    def _particles_end(self, v: int) -> int:
        """Last token of the verb's contiguous particles: "picking up", "walking down (the steps)"."""
        t = self.tokens
        last = v
        dep = t.dep
        for c in t.children[v]:
            if c == last + 1 and (dep[c] == "prt" or dep[c] == "prep" and not t.children[c]):
                last = c
        return last

    def _adverbial_end(self, v: int) -> int:
        """Last token of the particles and directional adverbs right after verb ``v`` that stand
        alone (no object of their own): "sitting down", "walking away", "looking out"."""
        t = self.tokens
        dep, lower, children = t.dep, t.lower, t.children
        last = v
        for c in children[v]:
            if c <= v:
                continue
            if c != last + 1 or children[c]:
                break
            d = dep[c]
            if d == "prt" or d in ("advmod", "prep") and lower[c] in lex.DIRECTIONAL_ADVERBS:
                last = c
            else:
                break
        return last

    def _particle_relations(self) -> None:
        """Relations without an object: a verb and its particles or directional adverbs where no
        relation covers them ("a man sitting down"), and a particle its verb's object separates
        from it ("throws the ball up"). See the module docstring."""
        t, entities = self.tokens, self.entities
        dep, lower, children = t.dep, t.lower, t.children
        covered: set[int] = set()
        for first, last, _subj, _obj in self.keys:
            covered.update(range(first, last + 1))
        for v, lem in self.verbs:
            objects = [c for c in children[v] if c > v and dep[c] == "dobj"]
            # with an object, the particles right after the verb are part of a transitive verb
            # ("picking up trash"), and only a particle after the object stands apart
            end = self._adverbial_end(v) if not objects else v
            separated = [
                c for c in children[v]
                if objects and c > objects[0] and dep[c] == "prt" and not children[c] and c not in covered
            ]
            if end == v and not separated:
                continue
            subj = entities.subject(v)
            if subj is None:
                continue
            if end > v and covered.isdisjoint(range(v, end + 1)):
                self._add(v, end, v, " ".join([lem] + lower[v + 1 : end + 1]), subj, NO_LINK)
                covered.update(range(v, end + 1))
            for c in separated:
                self._add(c, c, c, lower[c], subj, NO_LINK)
                covered.add(c)

    def _verb_relations(self, v: int, lem: str) -> None:
        t = self.tokens
        dep = t.dep
        objects = [c for c in t.children[v] if c > v and dep[c] == "dobj"]
        if not objects:
            return  # most verbs: no object (the lookups below have no side effects)
        entities = self.entities
        subj = entities.subject(v)
        if subj is None:
            return
        last = self._particles_end(v)
        rel_lemma = " ".join([lem] + t.lower[v + 1 : last + 1])
        for c in objects:
            if lem == "have" and (t.resumes(c) or t.resumes(v)):
                continue  # "the pot has flowers in it": the relation is "in", not "has"
            obj = entities.entity(c)
            if obj is not None and obj != subj:
                self._add(v, last, v, rel_lemma, subj, obj)

    def _relative_clause_relation(self, v: int) -> None:
        """The noun a relative clause modifies is the object of its verb or of its stranded
        preposition: "the ball the boy is holding", "the sofa the man is sitting on", "the grass
        that the equipment is on"."""
        t = self.tokens
        dep, lower, children = t.dep, t.lower, t.children
        for c in children[v]:
            if dep[c] == "dobj" or lower[c] in lex.RELATIVE_ADVERBS:
                return
            if dep[c] == "prep" and any(lower[o] in lex.RELATIVE_PRONOUNS for o in children[c]):
                return  # "in which ...": the preposition relates the noun

        subj = self.entities.subject(v)
        obj = self.entities.entity(t.head[v])
        if subj is None or obj is None or obj == subj:
            return
        lem = t.lemma[v]
        verbal = t.verbal[v] and lem != "be" and lem not in lex.META_VERBS
        stranded = [
            c
            for c in children[v]
            if c > v and dep[c] in ("prep", "prt") and lower[c] in lex.STRANDED_PREPS and not children[c]
        ]
        two_word = [  # "the building the bikes are parked next to"
            (a, c)
            for a in children[v]
            if a > v and dep[a] == "advmod"
            for c in children[a]
            if c == a + 1 and (lower[a], lower[c]) in lex.TWO_WORD_PREPS and not children[c]
        ]
        if stranded or two_word:
            p_first, p = two_word[-1] if two_word else (stranded[-1], stranded[-1])
            if verbal and all(dep[k] in ("prt", "prep") for k in range(v + 1, p_first)):
                first, words = v, " ".join([lem] + lower[v + 1 : p + 1])
            else:
                first, words = p_first, " ".join(lower[p_first : p + 1])
            self._add(first, p, first, words, subj, obj, symmetric(words, " ".join(lower[p_first : p + 1])))
        elif verbal and lem not in lex.INTRANSITIVE_VERBS and not t.has_prep_object(v):
            last = self._particles_end(v)
            words = " ".join([lem] + lower[v + 1 : last + 1])
            self._add(v, last, v, words, subj, obj)

    def _prep_relation(self, p: int) -> None:
        t, entities = self.tokens, self.entities
        dep, lower, pos, children, verbal = t.dep, t.lower, t.pos, t.children, t.verbal
        low = lower[p]
        if low in lex.NON_RELATION_PREPS and not self._relating_preposition(p, low):
            return
        pobj = None
        for c in children[p]:
            if dep[c] == "pobj":
                pobj = c
                break
        last = p
        if pobj is None:
            # "in between the tracks": "between" may be the pobj-bearing child of "in"
            inner = next((c for c in children[p] if dep[c] == "prep"), None)
            if inner is not None and (low, lower[inner]) in lex.TWO_WORD_PREPS:
                pobj = next((c for c in children[inner] if dep[c] == "pobj"), None)
                last = inner
            if pobj is None:
                return
        first = p
        gov = t.head[p]
        if gov == p - 1 and (
            (lower[gov], low) in lex.TWO_WORD_PREPS
            or dep[gov] == "advmod" and pos[gov] == "ADV" and lower[gov] in lex.DIRECTIONAL_ADVERBS
        ):
            first = gov  # "next to", "up/advmod against the wall"
            gov = t.head[gov]
        elif (
            gov == p - 1
            and dep[gov] == "prep"
            and lower[gov] in lex.SOURCE_PREPS
            and not t.has_child(gov, ("pobj",))
        ):
            first = gov  # "looking at cows from/->looking inside/->from a car"
            gov = t.head[gov]
        # complex preposition: "on top of", "in front of", "in the middle of"
        if pobj in entities.prep_nouns:
            of = next(c for c in children[pobj] if c > pobj and dep[c] == "prep" and lower[c] == "of")
            last = of
            pobj = next(c for c in children[of] if dep[c] == "pobj")
        if low in lex.ACCESSORY_PREPS and (
            t.resumes(pobj)
            or any(dep[c] == "acl" and t.resumes(c) for c in children[pobj])
            or t.nominal[gov] and self._resumed_after(gov, p)
        ):
            return  # "a table with laptops on it": the relation is "on", not "with"
        reciprocal = lower[pobj] in lex.RECIPROCALS
        obj = None if reciprocal else entities.entity(pobj)
        accessory = None
        if obj is None and not reciprocal and t.nominal[gov] and lower[pobj] in lex.RESUMPTIVE_PRONOUNS:
            # "a red chair with a white dog on/chair it": the dog is on the chair
            accessory = self._accessory_before(gov, p)
            obj = entities.entity(gov) if accessory is not None else None
        if obj is None and not reciprocal:
            return
        if accessory is not None:
            subj = accessory
        elif t.nominal[gov]:
            subj = entities.entity(gov)
        elif pos[gov] in ("VERB", "AUX") or verbal[gov]:
            subj = self._held_object(gov, p, pobj)
            if subj is None:
                subj = entities.subject(gov)
            # a verb directly before its preposition belongs to the relation: "sitting on"
            if (
                verbal[gov]
                and gov < first
                and t.lemma[gov] != "be"
                and t.lemma[gov] not in lex.META_VERBS
                and gov not in self.relation_verbs
                and (gov + 1 == first or all(dep[k] == "prt" for k in range(gov + 1, first)))
                and not t.has_child(gov, ("dobj",))  # "climbing" relates the object
            ):
                first = gov
        elif pos[gov] == "ADJ" and dep[gov] in ("acomp", "oprd"):
            subj = entities.subject(gov)  # "a roof is visible/acomp behind the wall"
        elif pos[gov] in ("ADV", "ADP") and t.head[gov] == gov:
            # a preposition or adverb read as the root of a fragment: "a trash can/nsubj
            # next/ROOT to the stove", "four people/npadvmod out/ROOT in the snow"; right after
            # the object of "with", it is that object's ("a woman with her hair up in a bun")
            before = gov - 1
            if dep[before] == "pobj" and lower[t.head[before]] in lex.ACCESSORY_PREPS:
                subj = entities.entity(before)
            else:
                subj = entities.subject(gov)
        else:
            return
        part = p - 1
        if (
            subj is not None
            and dep[part] == "pobj"
            and t.lemma[part] in lex.BODY_PARTS
            and lower[t.head[part]] in lex.ACCESSORY_PREPS
            and t.head[t.head[part]] == t.head[p]
        ):
            # "a man with his hands in his pockets", "standing with two feet on a surfboard": the
            # preposition right after a body part that "with" gives places the part
            subj = entities.entity(part)
        if reciprocal and subj is not None:
            obj = entities.partner(subj)  # "a toilet and a sink next to each other"
        if subj is None or obj is None or subj == obj:
            return
        if first == last and not verbal[p]:
            rel_lemma = prep_part = low  # a one-word preposition, the common case
        elif first == p - 1 and last == p and verbal[first] and not verbal[p]:
            rel_lemma = t.lemma[first] + " " + low  # a verb and its preposition: "sit on"
            prep_part = low
        else:
            rel_lemma = " ".join([t.lemma[k] if verbal[k] else lower[k] for k in range(first, last + 1)])
            prep_part = " ".join([lower[k] for k in range(first, last + 1) if not verbal[k]])
        head_tok = gov if first == gov else p
        self._add(first, last, head_tok, rel_lemma, subj, obj, symmetric(rel_lemma, prep_part))

    def _relating_preposition(self, p: int, low: str) -> bool:
        """Whether preposition ``p`` of ``NON_RELATION_PREPS`` relates all the same: "of" after a
        verb ("a floor made of tile") or ending a complex preposition ("food inside of a bowl",
        "cheese coming off of the food"), and "for" right after the verb it completes ("a person
        waiting for the train", "a man reaching for a ball")."""
        t = self.tokens
        g = t.head[p]
        if low == "of":
            return t.verbal[g] or g == p - 1 and (t.lower[g], low) in lex.TWO_WORD_PREPS
        return low == "for" and g == p - 1 and t.verbal[g] and t.lemma[g] in lex.FOR_VERBS

    def _resumed_after(self, g: int, p: int) -> bool:
        """Whether noun ``g`` has a preposition after ``p`` whose object is a resumptive pronoun
        ("a chair with a dog on it")."""
        t = self.tokens
        for q in t.children[g]:
            if q > p and t.dep[q] == "prep":
                for o in t.children[q]:
                    if t.dep[o] == "pobj" and t.lower[o] in lex.RESUMPTIVE_PRONOUNS:
                        return True
        return False

    def _accessory_before(self, g: int, p: int):
        """The entity of the "with" object of noun ``g`` before preposition ``p``, or ``None``."""
        t = self.tokens
        for w in t.children[g]:
            if w < p and t.dep[w] == "prep" and t.lower[w] in lex.ACCESSORY_PREPS:
                for y in t.children[w]:
                    if t.dep[y] == "pobj":
                        return self.entities.entity(y)
        return None

    def _held_object(self, v: int, p: int, pobj: int):
        """The entity a preposition after verb ``v``'s object places: "the elephant has food in
        its mouth" (the food is in the mouth), "a person carrying a dog on his back", "a cat
        resting its head on a keyboard"; ``None`` where the preposition places the subject
        ("a man riding a horse on the beach").

        It does for the verbs of ``HOLDING_VERBS``, and for any verb when the object or the
        place is possessed ("his back", "its head") or the place is a body part ("holding papers
        in hand"), except "with" (an instrument)."""
        t = self.tokens
        if t.lower[p] in lex.ACCESSORY_PREPS:
            return None
        objects = [c for c in t.children[v] if v < c < p and t.dep[c] == "dobj"]
        if not objects:
            return None
        if t.lemma[v] not in lex.HOLDING_VERBS and not (
            t.has_child(pobj, ("poss",)) or t.has_child(objects[-1], ("poss",)) or t.lemma[pobj] in lex.BODY_PARTS
        ):
            return None
        return self.entities.entity(objects[-1])

    def _coordination_relation(self, noun: int) -> None:
        """A symmetric relation spanning the conjunction: "a cat and a dog"."""
        t, heads = self.tokens, self.entities.heads
        first_conjunct = t.head[noun]
        # "a cat and a dog"; in "a cat, a dog and a bird" the "and" may hang on either conjunct
        dep = t.dep
        before = heads[noun][FIRST] - 1
        if before > 0 and dep[before] == "cc" and t.head[before] in heads:
            # "holding a ball and/cc->ball a racket/conj->man": the parser hung the second conjunct
            # too high; the conjunction shows which noun it is coordinated with.
            first_conjunct = t.head[before]
        if first_conjunct not in heads or first_conjunct == noun:
            return
        cc = [c for c in t.children[first_conjunct] if dep[c] == "cc" and first_conjunct < c]
        cc += [c for c in t.children[noun] if dep[c] == "cc" and c > noun]
        if not cc:
            return
        between = [c for c in cc if c < noun]
        word = max(between) if between else min(cc)
        self._add(word, word, word, t.lower[word], first_conjunct, noun, True)
