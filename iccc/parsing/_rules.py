"""Concept extraction rules over a dependency-parsed spaCy ``Doc``.

The rules read only token annotation (text, offsets, ``DEP``, ``POS``, ``TAG``, ``LEMMA``,
``HEAD``), so they work on hand-built ``Doc`` objects and on any English pipeline with a tagger and
a parser. Word lists live in :mod:`iccc.parsing._lexicon`. The annotation is read once, with one
``Doc.to_array`` call, into plain lists that all rules work on: extraction stays a small part of the
parse (``benchmarks/bench_extract.py`` measures it).

Passes, in order:

1. **Repairs** of the small model's slips on caption fragments, on those lists (the ``Doc`` is
   never changed): a noun tagged as an adjective or verb in an argument slot ("on skateboard/JJ",
   "lamp near building/VBG"), at the start of a caption ("spoon/VB on the table") or after a
   determiner ("a can/MD"); an "-ing" noun that is a verb ("a man skiing/NN down a hill",
   "adult giraffe grazing/NN on a tree"); subject + verb that are one compound ("bathroom/nsubj
   sink/VBP", "a toilet lid" with two subjects); a noun "taking an object" ("glass windows/dobj");
   a caption-initial participle ("parked/VBD black car"); a clause with two subjects, which is
   a relative clause without "that" ("the table the food is on"); a colour in a noun slot, which
   is an attribute ("dressed in blue").
2. **Redirects**: meta nouns ("a picture of X"), quantifier and partitive nouns ("a herd of X",
   "a slice of X") and the relational nouns of complex prepositions ("on top of X") stand for
   their "of" complement.
3. **Entities and nouns**: every remaining nominal head. The noun span takes contiguous compounds
   ("fire hydrant", "living room", "t-shirt"), position words ("front tire"), purpose gerunds
   ("cutting board") and fixed pairs ("hot dog"); the entity span adds determiners, adjectives,
   numerals and possessives. Leading colour/material nouns are attributes ("metal pole").
4. **Attributes and counts**: adjectival modifiers with coordinated and stacked adjectives, whole
   hyphenated words ("short-sleeved"), predicative adjectives ("the sky is blue", "painted
   white"), numerals.
5. **Verbs and relations**: verb + direct object ("holding a cup"); verb + preposition kept
   contiguous ("sitting on"), else the bare preposition; two-word and complex prepositions ("next
   to", "on top of"); stranded prepositions and objects of relative clauses ("the sofa the man is
   sitting on", "the ball the boy holds", "a game in which ..."); resumptive pronouns ("a table
   with laptops on it": laptops on table); reciprocals ("a cat and a dog next to each other");
   participle compounds ("snow covered mountain"); coordination ("a cat and a dog", symmetric).
   A participle after "X with/in Y" or after a worn object describes X ("a man with a bag walking
   down the street").

Output: a list of :class:`iccc.Concept`, sorted by (start, longest first, kind), with links
(``head``, ``subj``, ``obj``) as indices into that list. Spans are exact (``text[start:end] ==
concept.text``), contiguous, and never overlap within a kind, except entities, which may nest ("a
man's hat", "a snow covered hill").
"""

from __future__ import annotations

from itertools import compress
from operator import add, itemgetter, not_, or_

from .._schema import KINDS, NO_LINK, Concept
from . import _lexicon as lex

_NOMINAL_POS = frozenset(("NOUN", "PROPN"))
_VERB_CLAUSE_DEPS = frozenset("ROOT acl relcl advcl conj xcomp ccomp pcomp csubj parataxis dep".split())
# Clausal dependents of an entity whose verb takes the entity as subject: "a man riding a horse",
# and (after part-of-speech repair) "log/VB leaning/xcomp against a fence".
_ENTITY_CLAUSE_DEPS = frozenset("acl relcl xcomp advcl dep conj".split())
_COMPOUND_DEPS = frozenset(("compound",))
_NOUN_MODIFIER_DEPS = frozenset(("compound", "amod", "nmod"))
_SPAN_DEPS = _COMPOUND_DEPS | _NOUN_MODIFIER_DEPS
_ARGUMENT_DEPS = frozenset(("pobj", "dobj"))
_GERUND_CLAUSE_DEPS = frozenset(("acl", "relcl", "advcl", "xcomp"))
# Parts of speech the repairs never touch (checked first: most tokens are these).
_NEVER_REPAIRED_POS = frozenset("DET ADP PUNCT CCONJ SCONJ PRON PART NUM SPACE SYM INTJ X".split())
# Dependency labels under which an adjective/verb may be a misread noun (see _is_misread_noun).
_REPAIR_DEPS = frozenset(("pobj", "dobj", "ROOT", "conj"))
# Children that show a verb really is a verb (a subject, an object, an auxiliary, ...).
_FINITE_MARKS = lex.SUBJECT_DEPS | {"aux", "auxpass", "expl"}
_COMMAND_MARKS = lex.OBJECT_DEPS | {"expl", "aux", "neg", "ccomp"}
_CLAUSE_MARKS = lex.OBJECT_DEPS | {"aux", "auxpass", "neg", "xcomp", "ccomp"}
# Left dependents of a subjectless root verb that are its subject in a fragment ("man/npadvmod
# riding a horse", "eggs/compound cooking in a pan", "gray seagull/amod standing on a pole").
_FRAGMENT_SUBJECT_DEPS = frozenset(("npadvmod", "nmod", "dep", "compound", "amod"))
_REPAIR_POS = frozenset(("ADJ", "ADV", "VERB", "AUX"))
# Dependency labels of the tokens that may start a relation (besides verbs).
_RELATION_DEPS = frozenset(("relcl", "prep", "agent", "prt", "conj", "appos"))
_PREDICATE_DEPS = frozenset(("acomp", "oprd"))
_REDIRECT_LEMMAS = lex.META_NOUNS | lex.QUANTIFIER_NOUNS | lex.COMPLEX_PREP_NOUNS | lex.INTERIOR_NOUNS
# Dependency labels under which a bare noun-tagged adjective ("stands motionless/dobj") is predicative.
_PREDICATIVE_SLOT_DEPS = frozenset(("dobj", "attr", "oprd", "npadvmod"))
_BASE_VERB_TAGS = frozenset(("VB", "VBP", "VBZ", "MD"))
_ATTRIBUTE_BAD_POS = frozenset(("DET", "PRON", "NUM", "ADP", "CCONJ", "PART", "SCONJ", "PUNCT", "SYM"))
_NUMBER_WORDS = lex.NUMBER_WORDS
_SYMMETRIC = lex.SYMMETRIC_RELATIONS
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
_MAX_WORD_CHARS = 40  # longer "words" are noise (URLs, runs of characters), never concepts


_LEAF = ()  # the children of a token without any (never changed: _reattach replaces it)
_ATTRS: list = []  # spaCy attribute ids read per token; filled on first use (spaCy loads lazily)

# Caches shared by all docs (string hashes do not depend on the vocabulary), cleared together when
# they grow past _CACHE_MAX entries: hash (or part-of-speech id) -> string; ORTH hash -> lower-cased
# text; (ORTH hash, LEMMA hash) -> the lemma the rules use.
_STRINGS: dict[int, str] = {}
_LOWER: dict[int, str] = {}
_LEMMAS: dict[tuple[int, int], str] = {}
_STRING_OF = _STRINGS.__getitem__
_LOWER_OF = _LOWER.__getitem__
_LEMMA_OF = _LEMMAS.__getitem__
_CACHE_MAX = 200_000


def _learn(cols: list, store) -> None:
    """Fill the caches for the hashes of one doc (the slow path of :class:`_Extractor`)."""
    if len(_STRINGS) > _CACHE_MAX or len(_LEMMAS) > _CACHE_MAX:
        _STRINGS.clear()
        _LOWER.clear()
        _LEMMAS.clear()
    for column in cols[:5]:
        for h in column:
            if h not in _STRINGS:
                _STRINGS[h] = store[h]
    fixes = lex.LEMMA_FIXES
    for o, m in zip(cols[0], cols[4]):
        low = _LOWER.get(o)
        if low is None:
            low = _LOWER[o] = _STRINGS[o].lower()  # spaCy's LOWER is exactly this
        if (o, m) not in _LEMMAS:
            lem = _STRINGS[m]
            _LEMMAS[o, m] = fixes.get(low) or (lem.lower() if lem and lem != "-PRON-" else low)


# A concept under construction is a plain tuple (cheaper to make than an object):
# (sort key, kind, first token, last token (inclusive), head token (its tag/dep describe the span),
#  lemma, link kind ("entity"/"noun"/None), link token, subject entity head, object entity head,
#  symmetric). The link is the concept this one belongs to: the entity of a noun, the noun of an
#  attribute or a count. The sort key orders by (first, longest first, kind).
_KEY, _KIND, _FIRST, _LAST, _HEAD_TOK = 0, 1, 2, 3, 4
_ORDER = {k: i for i, k in enumerate(KINDS)}
_ENTITY, _NOUN, _COUNT, _ATTRIBUTE, _VERB, _RELATION = (_ORDER[k] for k in KINDS)


def _key(first: int, last: int, order: int) -> int:
    # "last" stays below 2**32 tokens, so the first token always decides first
    return (first << 35) - (last << 3) + order


class _Extractor:
    """The state of one extraction: the doc's annotation as lists, and the concepts found so far."""

    # Slots: an instance is made per caption; fixed slots make it and its attribute reads cheaper.
    __slots__ = (
        "n", "text", "dep", "pos", "tag", "lemma", "lower", "head", "idx", "space", "children", "nominal",
        "verbal", "protos", "entity_heads", "noun_first", "redirect", "prep_nouns", "attributes",
        "relation_verbs", "qualities", "relation_keys", "pending_participles",
    )

    def __init__(self, doc):
        # All annotation in one ``to_array`` call, mapped to strings through shared caches (C-level
        # ``map`` over dict look-ups): far cheaper than reading it token by token (``t.dep_``,
        # ``t.head.i``, ...), where every attribute is a string-store lookup and every ``head`` a
        # new Token object.
        self.n = n = len(doc)
        if not _ATTRS:
            from spacy.attrs import DEP, HEAD, IDX, LEMMA, ORTH, POS, SPACY, TAG

            _ATTRS.extend((ORTH, DEP, POS, TAG, LEMMA, HEAD, IDX, SPACY))
        if n:
            array = doc.to_array(_ATTRS)
            cols = array.T.tolist()
            offsets = array.view("i8")[:, 5].tolist()  # HEAD: the signed offset to the head
        else:
            cols = [[] for _ in _ATTRS]
            offsets = []
        orth = cols[0]
        try:
            self.text = list(map(_STRING_OF, orth))
            self.dep = list(map(_STRING_OF, cols[1]))
            self.pos = pos = list(map(_STRING_OF, cols[2]))
            self.tag = list(map(_STRING_OF, cols[3]))
            self.lemma = list(map(_LEMMA_OF, zip(orth, cols[4])))
        except KeyError:
            _learn(cols, doc.vocab.strings)
            self.text = list(map(_STRING_OF, orth))
            self.dep = list(map(_STRING_OF, cols[1]))
            self.pos = pos = list(map(_STRING_OF, cols[2]))
            self.tag = list(map(_STRING_OF, cols[3]))
            self.lemma = list(map(_LEMMA_OF, zip(orth, cols[4])))
        self.lower = list(map(_LOWER_OF, orth))
        self.head = list(map(add, range(n), offsets))
        self.idx = cols[6]
        self.space = cols[7]  # 1 where a space follows the token (used as a truth value)
        # children in order: every token but a root (offset 0) goes to its head's list; the
        # leaves (about half the tokens) share one empty tuple, fewer objects to make and collect
        self.children = children = [_LEAF] * n
        for i, off in enumerate(offsets):
            if off:
                kids = children[i + off]
                if kids:
                    kids.append(i)
                else:
                    children[i + off] = [i]
        self.nominal = list(map(_NOMINAL_POS.__contains__, pos))
        self.verbal = list(map("VERB".__eq__, pos))
        self.protos: list[tuple] = []
        self.entity_heads: dict[int, tuple] = {}  # entity head -> its entity tuple
        self.noun_first: dict[int, int] = {}  # entity head -> first token of its noun span
        self.redirect: dict[int, int] = {}  # quantifier / meta noun -> the noun standing in for it
        self.prep_nouns: set[int] = set()  # "top" in "on top of": part of a relation
        self.attributes: set[int] = set()  # tokens already used as attributes
        self.relation_verbs: set[int] = set()  # participles used as relations ("snow covered")
        self.qualities: list[int] = []  # colours in noun slots: "dressed in blue"
        self.relation_keys: set[tuple] = set()  # (first, last, subj, obj) of relations found
        self.pending_participles: list[tuple[int, int, int]] = []  # (nominal, participle, noun)

    # ------------------------------------------------------------------ helpers
    def inside(self, i: int, h: int) -> bool:
        """Whether token ``i`` is in the subtree of token ``h``."""
        head = self.head
        for _ in range(64):
            if i == h:
                return True
            if head[i] == i:
                return False
            i = head[i]
        return False

    def left_edge(self, i: int) -> int:
        """Leftmost token of the subtree of ``i``."""
        children = self.children
        edge = i
        stack = [i]
        while stack:
            for c in children[stack.pop()]:
                if c < edge:
                    edge = c
                if children[c]:
                    stack.append(c)
        return edge

    def has_child(self, i: int, deps) -> bool:
        dep = self.dep
        for c in self.children[i]:
            if dep[c] in deps:
                return True
        return False

    def of_object(self, i: int):
        """The nominal object of token ``i``'s "of" complement, if any."""
        for c in self.children[i]:
            if c > i and self.dep[c] == "prep" and self.lower[c] == "of":
                for g in self.children[c]:
                    if self.dep[g] == "pobj" and (self.nominal[g] or self.pos[g] in ("PRON", "NUM")):
                        return g
        return None

    def resolve(self, i: int) -> int:
        """Follow quantifier/meta redirects: "a herd of elephants" -> elephants."""
        seen = set()
        while i in self.redirect and i not in seen:
            seen.add(i)
            i = self.redirect[i]
        return i

    def entity(self, i):
        """Token index of the entity head that token ``i`` stands for, or ``None``."""
        if i in self.entity_heads and self.dep[i] not in _NOUN_MODIFIER_DEPS and i not in self.redirect:
            return i  # the common case, decided as below
        if i is None:
            return None
        if i in self.redirect:
            i = self.resolve(i)
        h = self.head[i]
        if self.dep[i] in _NOUN_MODIFIER_DEPS and h in self.entity_heads and self.noun_first[h] <= i:
            i = h
        if i in self.entity_heads:
            return i
        if self.lower[i] in lex.RELATIVE_PRONOUNS:
            if self.dep[h] == "relcl":
                return self.entity(self.head[h])  # "a man who is riding", "the ball that he holds"
            if self.dep[i] == "pobj" and self.dep[self.head[h]] == "relcl":
                return self.entity(self.head[self.head[h]])  # "a game in which the batter swung"
        if self.lower[i] in lex.RESUMPTIVE_PRONOUNS and self.dep[i] == "pobj" and h != self.head[h]:
            return self.antecedent(i)
        return None

    def subject(self, v: int, depth: int = 0):
        """Entity head index of the subject of verb ``v``, or ``None``."""
        if depth > 6:
            return None
        dep, children = self.dep, self.children
        for c in children[v]:
            if dep[c] in lex.SUBJECT_DEPS:
                return self.entity(c)
            if dep[c] == "expl":
                for other in children[v]:
                    if dep[other] == "attr":
                        return self.entity(other)
        h = self.head[v]
        if h == v:
            # Fragments such as "Man riding a horse" sometimes come out with the noun as a
            # dependent of the verb; a nominal left of the verb is its subject.
            for c in children[v]:
                if c < v and dep[c] in _FRAGMENT_SUBJECT_DEPS:
                    e = self.entity(c)
                    if e is not None:
                        return e
            return None
        if dep[v] in _ENTITY_CLAUSE_DEPS and h in self.entity_heads or dep[v] in lex.NOUN_CLAUSE_DEPS:
            if dep[v] == "acl":
                pair = self.with_pair(v)
                if pair is not None:
                    if self._resumes(v):  # "a suitcase with a cat sitting on it": the cat sits
                        return self.entity(pair[1])
                    if self.tag[v] == "VBG" and pair[1] == h:  # "a man with a bag walking"
                        return self.entity(pair[0])
            return self.entity(h)
        if dep[v] in ("conj", "xcomp", "advcl"):
            return self.subject(h, depth + 1)
        return None

    def _resumes(self, g: int) -> bool:
        """Whether ``g`` has a preposition whose object is a resumptive pronoun ("on it")."""
        for p in self.children[g]:
            if self.dep[p] == "prep":
                for o in self.children[p]:
                    if self.dep[o] == "pobj" and self.lower[o] in lex.RESUMPTIVE_PRONOUNS:
                        return True
        return False

    def with_pair(self, v: int):
        """For a participle ``v`` after "X with/in Y" or "X wearing Y": the token pair (carrier X,
        accessory Y), or ``None``.

        "a man with a bag walking", "a girl in a bikini throwing", "a suitcase with a cat sitting
        on it" (participle on Y), "an apple with eyes drawn on it" (participle hung on X)."""
        h = self.head[v]
        w = self.head[h]
        if self.dep[h] == "pobj" and self.lower[w] in lex.CARRIER_PREPS and self.dep[w] == "prep":
            return self.head[w], h
        if self.dep[h] == "dobj" and self.lemma[w] in lex.WEAR_VERBS and self.dep[v] == "acl":
            # "a man wearing red shoes walking across the street": the wearer walks
            carrier = self.subject(w)
            if carrier is not None:
                return carrier, h
        for w in self.children[h]:
            if w < v and self.dep[w] == "prep" and self.lower[w] in lex.ACCESSORY_PREPS:
                for y in self.children[w]:
                    if self.dep[y] == "pobj" and y == v - 1:
                        return h, y
        return None

    def antecedent(self, i: int):
        """The entity a resumptive "it"/"them" stands for: "a table with laptops on it",
        "a suitcase with a cat sitting on it", "the woman has a plate in front of her"."""
        g = self.head[self.head[i]]  # pronoun <- prep <- governor
        if g in self.prep_nouns:  # "in front of her": pronoun <- of <- front <- in <- governor
            g = self.head[self.head[g]]
        if self.verbal[g] and self.dep[g] == "acl":
            pair = self.with_pair(g)
            return self.entity(pair[0]) if pair else None
        if not self.nominal[g]:
            return None
        h = self.head[g]
        if self.dep[g] == "pobj" and self.lower[h] in lex.ACCESSORY_PREPS and self.dep[h] == "prep":
            return self.entity(self.head[h])
        if self.dep[g] == "dobj" and self.lemma[h] == "have":
            return self.subject(h)
        return None

    def _relation(self, first, last, head_tok, lemma, subj, obj, symmetric=False):
        key = (first, last, subj, obj)
        if key not in self.relation_keys:
            self.relation_keys.add(key)
            self.protos.append(
                ((first << 35) - (last << 3) + _RELATION, "relation", first, last, head_tok, lemma, None, NO_LINK,
                 subj, obj, symmetric)
            )

    def words(self, first: int, last: int, lemma_last: str | None = None) -> str:
        """Lower-cased words of a token range joined as in the text (one space where there is
        any whitespace), the last replaced by ``lemma_last``."""
        lower = self.lower
        last_word = lower[last] if lemma_last is None else lemma_last
        if first == last:
            return last_word
        space = self.space
        if all(space[first:last]):
            return " ".join(lower[first:last]) + " " + last_word
        return "".join([lower[i] + " " if space[i] else lower[i] for i in range(first, last)]) + last_word

    # ------------------------------------------------------------------ pass 1: repairs
    def repair_tags(self):
        """Fix part-of-speech and attachment slips of the parser on caption fragments."""
        pos, tag, dep, lower, head, children = (
            self.pos,
            self.tag,
            self.dep,
            self.lower,
            self.head,
            self.children,
        )
        n = self.n
        first_word = None
        for i, p in enumerate(pos):
            if p != "PUNCT" and p != "SPACE" and p != "DET":
                first_word = i
                break
        # the parts of speech the repairs never touch are most tokens: skip them at C level
        for i in compress(range(n), map(not_, map(_NEVER_REPAIRED_POS.__contains__, pos))):
            p = pos[i]
            d, t = dep[i], tag[i]
            if (
                (p == "VERB" or p == "AUX")
                and len(children[i]) > 1
                and dep.count("nsubj") + dep.count("nsubjpass") > 1  # it needs two subjects
                and self._reduced_relative(i)
            ):
                continue
            if d == "ROOT":
                if i == first_word and (t == "VBN" or t == "VBD") and self._leading_participle(i):
                    continue
                if (t == "VBG" or t == "NN") and _looks_like_gerund(lower[i]):
                    subj = self._gerund_subject(i)
                    if subj is not None:
                        # "adult giraffe grazing/NN on a tree", "a spoon/compound laying on a
                        # table": the "-ing" word is the verb, the noun before it its subject.
                        self._make_verb(i)
                        for c in list(children[i]):
                            if c < subj:
                                self._reattach(c, subj, dep[c])
                        self._reattach(subj, i, "nsubj")
                        continue
            if p in _REPAIR_POS:
                if (d in _REPAIR_DEPS or t == "MD") and self._is_misread_noun(i, i == first_word):
                    self._make_noun(i)
                elif (t == "VBP" or t == "VB") and self._is_misread_compound(i):
                    # "bathroom/nsubj sink/VBP on wall": a singular noun cannot be the subject of
                    # a plural-agreement verb; the two are one compound noun.
                    self._make_noun(i)
                    dep[i - 1] = "compound"
                elif i == first_word and t == "VBG" and self._is_gerund_compound(i):
                    # "cutting/VBG board/dobj on the counter" -> the noun "cutting board"
                    self._into_compound(i)
                    self.verbal[i] = False
            elif p in _NOMINAL_POS:
                if t == "NN" and not children[i] and _adjective_form(lower[i]):
                    # "stands motionless/NN", "is shirtless/NN": an adjective, not a thing
                    self.nominal[i] = False
                    pos[i], tag[i] = "ADJ", "JJ"
                    if d in _PREDICATIVE_SLOT_DEPS:
                        dep[i] = "acomp"
                elif (
                    t == "NN"
                    and d in _GERUND_CLAUSE_DEPS
                    and _looks_like_gerund(lower[i])
                    and not self.has_child(i, ("det", "poss", "amod"))
                ):
                    self._make_verb(i)  # "a man in a red shirt skiing/NN down a hill"
                elif i + 1 < n and head[i + 1] == i and self.nominal[i + 1] and (
                    dep[i + 1] == "dobj" or (dep[i + 1] == "amod" and tag[i + 1] in ("NN", "NNS"))
                ):
                    # nouns take no objects ("glass windows/dobj"), and a noun right after a noun
                    # is its head, not its adjective ("a red fire hydrant/amod->fire")
                    self._into_compound(i)
            if lower[i] in lex.NOUN_ATTRIBUTES and self._is_bare_quality(i):
                # "a person dressed in blue", "the step is stone": a colour (or a predicative
                # material) names a quality of the thing, not a thing.
                self.nominal[i] = False
                self.qualities.append(i)

    def _reduced_relative(self, v: int) -> bool:
        """A clause has one subject; when the parser gives it two ("the table the food is on",
        "black camera the hand is holding"), the first is the noun a relative clause without "that"
        modifies: makes ``v`` a relative clause of that noun. Two adjacent subjects ("a toilet lid
        is closed") are one compound noun."""
        subjects = [c for c in self.children[v] if c < v and self.dep[c] in ("nsubj", "nsubjpass")]
        if len(subjects) < 2 or not self.nominal[subjects[0]] or self.has_child(v, ("dobj",)):
            return False
        noun = subjects[0]
        if self._has_prep_object(v):
            return False  # "a drawing, people pulled into a station": not a relative clause
        if subjects[1] == noun + 1:
            if self.nominal[noun + 1]:
                self._reattach(noun, noun + 1, "compound")  # "a toilet/nsubj lid/nsubj is closed"
                for c in list(self.children[noun]):
                    self._reattach(c, noun + 1, self.dep[c])
            return False
        self._reattach(noun, self.head[v] if self.head[v] != v else noun, self.dep[v])
        for c in list(self.children[v]):
            if c < noun:
                self._reattach(c, noun, self.dep[c])
        self._reattach(v, noun, "relcl")
        return True

    def _leading_participle(self, v: int) -> bool:
        """A caption-initial participle with an object and no subject modifies that object
        ("parked/VBD black car beside a building"): makes ``v`` an adjectival modifier of it."""
        objects = [c for c in self.children[v] if self.dep[c] == "dobj" and self.nominal[c]]
        if (
            len(objects) != 1
            or self.has_child(v, _FINITE_MARKS)
            or any(
                self.pos[k] not in ("DET", "ADJ", "NUM") and self.dep[k] not in ("amod", "compound")
                for k in range(v + 1, objects[0])
            )
        ):
            return False
        n = objects[0]
        self._reattach(n, n, "ROOT")
        for c in list(self.children[v]):
            self._reattach(c, n, self.dep[c])
        self._reattach(v, n, "amod")
        self.verbal[v] = False
        self.tag[v] = "VBN"
        return True

    def _has_prep_object(self, v: int) -> bool:
        """Whether verb ``v`` has a prepositional phrase with an object ("creeping behind the
        buildings")."""
        dep = self.dep
        for c in self.children[v]:
            if dep[c] == "prep" and any(dep[o] == "pobj" for o in self.children[c]):
                return True
        return False

    def _is_bare_quality(self, i: int) -> bool:
        d = self.dep[i]
        if d not in ("attr", "pobj", "dobj", "conj") or self.has_child(
            i, ("det", "poss", "compound", "prep")
        ):
            return False
        if d == "conj":
            return bool(self.qualities) and self.head[i] == self.qualities[-1]
        if d == "attr":
            return self.lemma[self.head[i]] == "be"
        return self.lower[i] in lex.COLOUR_WORDS and (d == "dobj" or self.lower[self.head[i]] not in ("of",))

    def _into_compound(self, i: int):
        """Make token ``i`` a compound of the token after it, which takes over its place."""
        j = i + 1
        self._reattach(j, self.head[i] if self.head[i] != i else j, self.dep[i])
        for c in list(self.children[i]):
            if c != j:
                self._reattach(c, j, self.dep[c])
        self._reattach(i, j, "compound")

    def _make_verb(self, i: int):
        if not self.verbal[i]:
            self.lemma[i] = _gerund_lemma(self.lower[i])
        self.nominal[i] = False
        self.verbal[i] = True
        self.tag[i] = "VBG"

    def _gerund_subject(self, i: int):
        """The noun directly before root "-ing" noun ``i`` that is really its subject, if any."""
        j = i - 1
        if (
            j < 0
            or self.head[j] != i
            or self.dep[j] not in ("compound", "amod", "nmod")
            or not self.nominal[j]
            or self.lower[j] in lex.NOUN_ATTRIBUTES
            or not any(self.dep[c] == "prep" and c > i for c in self.children[i])
        ):
            return None
        return j

    def _make_noun(self, i: int):
        plural = self.tag[i] == "VBZ"
        self.nominal[i] = True
        self.verbal[i] = False
        self.tag[i] = "NNS" if plural else "NN"
        if not plural:  # the verb lemma of "drops/VBZ" is the noun lemma; that of "building" is not
            self.lemma[i] = lex.LEMMA_FIXES.get(self.lower[i], self.lower[i])

    def _reattach(self, i: int, new_head: int, label: str):
        old = self.head[i]
        if old != i:
            self.children[old].remove(i)
        self.head[i] = new_head
        self.dep[i] = label
        if new_head != i:
            kids = self.children[new_head]
            if kids:
                kids.append(i)
                kids.sort()
            else:  # a leaf (the shared empty tuple) or a list emptied by earlier moves
                self.children[new_head] = [i]

    def _is_misread_noun(self, i: int, first_word: bool) -> bool:
        low, tag, dep = self.lower[i], self.tag[i], self.dep[i]
        if not low.isalpha() or low in lex.NOT_NOUNS:
            return False
        determined = self.has_child(i, ("det", "poss"))
        if tag == "MD":
            return determined or self.has_child(i, ("amod", "compound"))  # "a can", "trash can"
        if self.has_child(i, lex.SUBJECT_DEPS):
            return False
        if dep in _ARGUMENT_DEPS:
            if self.pos[i] in ("ADJ", "ADV"):
                return not self.has_child(i, ("advmod", "npadvmod", "prep"))
            if tag in _BASE_VERB_TAGS:
                return not self.has_child(i, lex.OBJECT_DEPS)
            if determined or self.has_child(i, ("amod", "compound")):
                return True  # "the building"
            # a bare "-ing" object of a spatial preposition: "lamp near building/VBG"
            h = self.head[i]
            return (
                tag == "VBG"
                and dep == "pobj"
                and self.lower[h] not in lex.GERUND_PREPS
                and all(self.dep[c] in ("det", "amod", "compound", "poss") for c in self.children[i])
            )
        if dep == "ROOT" and tag in ("VB", "VBP", "VBZ") and first_word:
            # Captions describe, they do not command: a caption-initial base-form "verb" with
            # no subject and no object is a noun ("spoon on the table", "oranges/VBZ in a bowl").
            return not self.has_child(i, _COMMAND_MARKS)
        if dep == "ROOT" and tag in ("VBN", "VBD") and self.pos[i] == "VERB":
            # "a small moped/VBN parked on the sidewalk": a participle takes no article
            return any(self.dep[c] == "det" and self.lower[c] in ("a", "an", "the") for c in self.children[i]) and (
                not self.has_child(i, lex.OBJECT_DEPS | {"aux", "auxpass"})
            )
        if dep == "ROOT" and tag in ("VB", "VBP", "VBG") and self.pos[i] == "VERB":
            # "a railing on top", "white railing on top of a train"
            adjectival = any(
                self.dep[c] == "amod" and (self.pos[c] == "ADJ" or self.lower[c] in lex.NOUN_ATTRIBUTES)
                for c in self.children[i]
            )
            return (determined or adjectival) and not self.has_child(i, lex.OBJECT_DEPS)
        if dep == "conj" and tag in ("VB", "VBP") and self.nominal[self.head[i]]:
            return not self.has_child(i, lex.OBJECT_DEPS)  # "a knife and fork/VB"
        return False

    def _is_misread_compound(self, i: int) -> bool:
        if self.tag[i] not in ("VBP", "VB") or self.pos[i] != "VERB" or i == 0:
            return False
        j = i - 1
        return (
            self.dep[j] == "nsubj"
            and self.head[j] == i
            and self.tag[j] in ("NN", "NNP")
            and not self.has_child(i, _CLAUSE_MARKS)
        )

    def _is_gerund_compound(self, i: int) -> bool:
        j = i + 1
        return (
            self.lower[i] in lex.GERUND_MODIFIERS
            and self.tag[i] == "VBG"
            and j < self.n
            and self.head[j] == i
            and self.dep[j] == "dobj"
            and self.pos[j] == "NOUN"
            and not self.has_child(i, lex.SUBJECT_DEPS)
        )

    # ------------------------------------------------------------------ pass 2: redirects
    def find_redirects(self):
        lemmas = self.lemma
        for i in compress(range(self.n), self.nominal):
            lemma = lemmas[i]
            if lemma not in _REDIRECT_LEMMAS:
                continue
            target = self.of_object(i)
            if target is None:
                continue
            h = self.head[i]
            if lemma in lex.META_NOUNS or (lemma in lex.QUANTIFIER_NOUNS and self.tag[i] != "NNP"):
                self.redirect[i] = target
            elif (
                lemma in lex.COMPLEX_PREP_NOUNS
                and self.dep[i] == "pobj"
                and self.pos[h] == "ADP"
                and self.lower[h] != "of"
            ):
                self.prep_nouns.add(i)
                self.redirect[i] = target
            elif lemma in lex.INTERIOR_NOUNS:
                self.redirect[i] = target  # "the inside of a room": the room

    # ------------------------------------------------------------------ pass 3: entities
    def find_entities(self):
        nominal, dep, head, lemmas, lower = self.nominal, self.dep, self.head, self.lemma, self.lower
        redirect, prep_nouns = self.redirect, self.prep_nouns
        n = self.n
        covered = n  # first token of the leftmost noun span so far: heads are visited right to left
        for i in compress(range(n - 1, -1, -1), reversed(nominal)):
            if i >= covered or i in redirect or i in prep_nouns:
                continue
            h = head[i]
            if h > i and dep[i] in _NOUN_MODIFIER_DEPS and (nominal[h] or self._in_compound_chain(h)):
                continue  # part of (or modifier of) a noun to its right: "fire" in "fire hydrant"
            lemma = lemmas[i]
            low = lower[i]
            if (
                lemma in lex.NON_ENTITY_NOUNS
                or len(low) > _MAX_WORD_CHARS
                or not (low.isalpha() or any(ch.isalpha() for ch in low))
            ):
                continue
            if dep[i] == "pobj" and lemma in _PLACE_LEMMAS and self._is_place_adverbial(i, lemma):
                continue
            self._add_entity(i)
            covered = self.noun_first[i]

    def _apostrophe_plural(self, i: int) -> bool:
        """Whether noun ``i`` is followed by a possessive "'s" that possesses nothing ("a
        collection of CD's", "holding ski's"): a plural written with an apostrophe."""
        j = i + 1
        return (
            j < self.n
            and self.lower[j] in _APOSTROPHE_S
            and self.head[j] == i
            and self.dep[j] == "case"
            and self.dep[i] != "poss"
            and not self.space[i]
        )

    def _in_compound_chain(self, j: int) -> bool:
        """Whether token ``j`` is a compound part of a noun to its right ("cooking" in "kitchen
        cooking food", both compounds)."""
        dep, head, nominal = self.dep, self.head, self.nominal
        for _ in range(8):
            if dep[j] not in _COMPOUND_DEPS or head[j] <= j:
                return False
            j = head[j]
            if nominal[j]:
                return True
        return False

    def _is_place_adverbial(self, i: int, lemma: str) -> bool:
        """Whether pobj ``i`` names a position, not a thing: "on top", "on the left", "in the
        distance"."""
        if lemma in lex.SCENE_NOUNS:
            return True
        return (
            lemma in lex.COMPLEX_PREP_NOUNS
            and self.of_object(i) is None
            and not self.has_child(i, ("compound", "poss"))
        )

    def _noun_span_first(self, h: int) -> int:
        """First token of the noun span of head ``h``: contiguous compounds to its left."""
        dep, pos, lower, nominal = self.dep, self.pos, self.lower, self.nominal
        if h == 0 or dep[h - 1] not in _SPAN_DEPS and lower[h - 1] != "-":
            return h  # the common case: nothing glued to the head
        first = h
        while first > 0:
            j = first - 1
            if lower[j] == "-" and j >= 1 and self.inside(j - 1, h) and self._hyphen_joined(j):
                first = j - 1
            elif (
                self.head[j] > j
                and self.inside(j, h)
                and (
                    dep[j] in _COMPOUND_DEPS
                    and pos[j] in lex.COMPOUND_POS
                    or dep[j] in _NOUN_MODIFIER_DEPS
                    and nominal[j]
                    and lower[j] not in lex.NOUN_ATTRIBUTES
                    or dep[j] == "amod"
                    and self._lexical_compound(j)
                )
            ):
                first = j
            else:
                break
        return first

    def _lexical_compound(self, j: int) -> bool:
        """Whether adjectival modifier ``j`` is part of the noun after it: a position word ("front
        tire", "left hand"), a purpose gerund ("cutting board") or a fixed pair ("hot dog",
        "swimming pool")."""
        low = self.lower[j]
        return (
            low in lex.POSITION_WORDS
            or low in lex.GERUND_MODIFIERS
            and self.tag[j] in ("VBG", "NN")
            or low + " " + self.lower[j + 1] in lex.FIXED_COMPOUNDS
        )

    def _hyphen_joined(self, j: int) -> bool:
        return not self.space[j - 1] and not self.space[j]

    def _add_entity(self, h: int):
        dep, lower = self.dep, self.lower
        j = h - 1
        if h == 0 or dep[j] not in _SPAN_DEPS and lower[j] != "-":
            first = h  # the common case: nothing glued to the head
        elif dep[j] == "amod" and not self.nominal[j] and lower[j] not in _GLUED_ADJECTIVES and lower[j] != "-":
            first = h  # "a red car": a plain adjective, which _noun_span_first would stop at
        else:
            first = self._noun_span_first(h)
        # colour/material words leading the compound are attributes ("metal pole")
        noun_attrs = []
        while first < h and lower[first] in lex.NOUN_ATTRIBUTES and self.space[first]:
            noun_attrs.append(first)
            first += 1
        # entity span: left modifiers (determiner, adjectives, numerals, possessives)
        # (of the head, or of a compound part the parser hung them on: "a/det->fire fire hydrant")
        ent_first = first
        children = self.children
        left_deps = lex.ENTITY_LEFT_DEPS
        for k in range(first, h + 1):
            for c in children[k]:
                if c >= ent_first:
                    break  # children are sorted
                if dep[c] in left_deps:
                    ent_first = self.left_edge(c) if children[c] else c
        if ent_first < h:
            pos = self.pos
            while ent_first < h and pos[ent_first] in ("PUNCT", "SPACE"):
                ent_first += 1
            # keep the entity contiguous: every token in it must hang under the head
            head = self.head
            for i in range(ent_first, h):
                if head[i] != h and not self.inside(i, h):
                    ent_first = i + 1

        last = h
        if h + 1 < self.n and lower[h + 1] in _APOSTROPHE_S and self._apostrophe_plural(h):
            # "CD's": the "'s" belongs to the noun, a plural ("CDs" is what replaces it)
            last = h + 1
            self.tag[h] = "NNS"
        lemma_h = self.lemma[h]
        noun_lemma = lemma_h if first == h else self.words(first, h, lemma_h)
        # the entity's words run on into the noun's: one join gives both (as ``words`` does)
        if ent_first >= first:
            ent_lemma = noun_lemma
        elif all(self.space[ent_first:h]):
            ent_lemma = " ".join(lower[ent_first:h]) + " " + lemma_h
        else:
            ent_lemma = self.words(ent_first, h, lemma_h)
        ent = ((ent_first << 35) - (last << 3), "entity", ent_first, last, h, ent_lemma, None, NO_LINK, NO_LINK, NO_LINK, False)
        protos = self.protos
        protos.append(ent)
        self.entity_heads[h] = ent
        self.noun_first[h] = first
        protos.append(((first << 35) - (last << 3) + _NOUN, "noun", first, last, h, noun_lemma, "entity", h, NO_LINK, NO_LINK, False))

        for t in noun_attrs:
            self.add_attribute(t, h)
        if ent_first == first:
            return
        # modifiers of the head, and those the parser hung on a compound part ("a red/amod->fire
        # fire hydrant")
        for k in range(first, h + 1):
            for c in children[k]:
                if c >= first:
                    break  # children are sorted
                if c < ent_first:
                    continue
                d = dep[c]
                if d in lex.ATTRIBUTE_DEPS:
                    self._add_modifier(c, h)
                elif d in ("nummod", "det", "quantmod") and (lower[c] in _NUMBER_WORDS or lower[c].isdigit()):
                    protos.append(
                        ((c << 35) - (c << 3) + _COUNT, "count", c, c, c, lower[c], "noun", h, NO_LINK, NO_LINK, False)
                    )

    def _add_modifier(self, a: int, h: int):
        """An adjectival modifier of noun ``h``, its coordinated and stacked adjectives."""
        if self.relation_participle(a, h):
            return
        self.add_attribute(a, h)
        for c in self.children[a]:
            if c >= h:
                continue
            d = self.dep[c]
            if d == "conj":
                self.add_attribute(c, h)
            elif d == "amod" and self.pos[c] == "ADJ" and self.lower[c] not in lex.DEGREE_ADJECTIVES:
                # "white/amod->sleeveless shirt": a stacked adjective the parser hung on its neighbour
                self.add_attribute(c, h)

    def relation_participle(self, a: int, h: int) -> bool:
        """Whether participle ``a`` relates a nominal it governs to noun ``h`` ("snow covered
        mountain": snow covers the mountain); if so, queues that relation."""
        if self.tag[a] != "VBN":
            return False
        for c in self.children[a]:
            if c < a and self.nominal[c] and self.dep[c] in ("npadvmod", "compound", "nmod", "dobj"):
                self.relation_verbs.add(a)
                self.pending_participles.append((c, a, h))
                return True
        return False

    def add_attribute(self, a: int, noun: int):
        lower, attributes = self.lower, self.attributes
        low = lower[a]
        lemma = self.lemma[a]
        if a in attributes or lemma in lex.ATTRIBUTE_STOP or low in lex.ATTRIBUTE_STOP:
            return
        if not low.isalpha() or len(low) > _MAX_WORD_CHARS or self.pos[a] in _ATTRIBUTE_BAD_POS:
            return
        if self.nominal[a] and low not in lex.NOUN_ATTRIBUTES:
            return  # nouns in adjective slots are compounds, not attributes
        if a + 2 < self.n and lower[a + 1] == "-" and self._hyphen_joined(a + 1):
            return  # the first part of a hyphenated word ("middle" of "middle-aged")
        if a + 1 < noun and lower[a + 1] in lex.LINKING_PARTICIPLES and self._linked(a, a + 1):
            return  # "odd" of "odd looking": the two are one attribute (below)
        first = a
        if low in lex.LINKING_PARTICIPLES:
            if not (a > 0 and self._linked(a - 1, a)) or a - 1 in attributes:
                return  # "looking" alone describes nothing
            first = a - 1  # "an odd looking toilet": one attribute, "odd looking"
        # hyphenated adjectives stay whole: "short-sleeved", "multi-colored", "black-and-white"
        while first >= 2 and lower[first - 1] == "-" and self._hyphen_joined(first - 1) and lower[first - 2].isalpha():
            first -= 2
        if first < a:
            if any(i in attributes for i in range(first, a)):
                return
            attributes.update(range(first, a))
        attributes.add(a)
        if self.tag[a] in ("VBN", "VBG"):
            lemma = low  # a participle used as an adjective keeps its form: "parked", "sliding"
        if first < a:
            lemma = self.words(first, a, low)
        self.protos.append(
            ((first << 35) - (a << 3) + _ATTRIBUTE, "attribute", first, a, a, lemma, "noun", noun, NO_LINK, NO_LINK, False)
        )

    def _linked(self, j: int, a: int) -> bool:
        """Whether adjective/adverb ``j`` right before linking participle ``a`` forms one
        attribute with it ("odd looking", "funny looking")."""
        return (
            j + 1 == a
            and self.space[j]
            and self.pos[j] in ("ADJ", "ADV")
            and self.lower[j].isalpha()
            and self.lower[j] not in lex.ATTRIBUTE_STOP
            and self.head[j] in (a, self.head[a])
            and self.pos[a] == "VERB"
        )

    def find_predicative_attributes(self):
        dep, pos = self.dep, self.pos
        if not self.qualities and _PREDICATE_DEPS.isdisjoint(dep):
            return  # the common case: no colour in a noun slot, no "is blue"
        for i in self.qualities:
            g = self.head[i]
            if dep[i] == "conj":
                continue
            if dep[i] == "pobj":
                g = self.head[g]
            owner = (
                self.entity(g)
                if self.nominal[g]
                else self.subject(g)
                if self.verbal[g] or pos[g] == "AUX"
                else None
            )
            if owner is not None:
                self.add_attribute(i, owner)
                for c in self.children[i]:
                    if c in self.qualities:
                        self.add_attribute(c, owner)
        for i in compress(range(self.n), map(_PREDICATE_DEPS.__contains__, dep)):
            if pos[i] != "ADJ" or self.nominal[i]:
                continue
            v = self.head[i]
            if self.lemma[v] in lex.META_VERBS:
                continue
            subj = self.subject(v)
            if subj is None:
                continue
            self.add_attribute(i, subj)
            for c in self.children[i]:
                if dep[c] == "conj" and pos[c] == "ADJ":
                    self.add_attribute(c, subj)

    # ------------------------------------------------------------------ pass 5: relations
    def find_verbs_and_relations(self):
        dep, pos, lemma, verbal = self.dep, self.pos, self.lemma, self.verbal
        # only verbs and tokens whose label may start a relation (most tokens are neither)
        for i in compress(range(self.n), map(or_, map(_RELATION_DEPS.__contains__, dep), verbal)):
            d = dep[i]
            if verbal[i] and d in _VERB_CLAUSE_DEPS and i not in self.relation_verbs:
                lem = lemma[i]
                if lem not in lex.META_VERBS and lem != "be":
                    self.protos.append(((i << 35) - (i << 3) + _VERB, "verb", i, i, i, lem, None, NO_LINK, NO_LINK, NO_LINK, False))
                    self._verb_relations(i, lem)
            if d == "relcl":
                self._relative_clause_relation(i)
            if (
                (d in ("prep", "agent") or d == "prt" and self.has_child(i, ("pobj",)))
                and pos[i] in ("ADP", "SCONJ", "ADV")
                and i not in self.prep_nouns
            ):
                self._prep_relation(i)
            elif d in ("conj", "appos") and i in self.entity_heads:
                self._coordination_relation(i)
        for m, a, h in self.pending_participles:
            subj = self.entity(m)
            if subj is not None and subj != h:
                self._relation(a, a, a, lemma[a], subj, h)

    def _particles_end(self, v: int) -> int:
        """Last token of the verb's contiguous particles: "picking up", "walking down (the steps)"."""
        last = v
        dep = self.dep
        for c in self.children[v]:
            if c == last + 1 and (dep[c] == "prt" or dep[c] == "prep" and not self.children[c]):
                last = c
        return last

    def _verb_relations(self, v: int, lem: str):
        dep = self.dep
        objects = [c for c in self.children[v] if c > v and dep[c] == "dobj"]
        if not objects:
            return  # most verbs: no object (the lookups below have no side effects)
        subj = self.subject(v)
        if subj is None:
            return
        last = self._particles_end(v)
        rel_lemma = " ".join([lem] + self.lower[v + 1 : last + 1])
        for c in objects:
            if lem == "have" and self._resumes(c):
                continue  # "the pot has flowers in it": the relation is "in", not "has"
            obj = self.entity(c)
            if obj is not None and obj != subj:
                self._relation(v, last, v, rel_lemma, subj, obj)

    def _relative_clause_relation(self, v: int):
        """The noun a relative clause modifies is the object of its verb or of its stranded
        preposition: "the ball the boy is holding", "the sofa the man is sitting on", "the grass
        that the equipment is on"."""
        dep, lower = self.dep, self.lower
        for c in self.children[v]:
            if dep[c] == "dobj" or lower[c] in lex.RELATIVE_ADVERBS:
                return
            if dep[c] == "prep" and any(lower[o] in lex.RELATIVE_PRONOUNS for o in self.children[c]):
                return  # "in which ...": the preposition relates the noun

        subj = self.subject(v)
        obj = self.entity(self.head[v])
        if subj is None or obj is None or obj == subj:
            return
        lem = self.lemma[v]
        verbal = self.verbal[v] and lem != "be" and lem not in lex.META_VERBS
        stranded = [
            c
            for c in self.children[v]
            if c > v and dep[c] in ("prep", "prt") and lower[c] in lex.STRANDED_PREPS and not self.children[c]
        ]
        two_word = [  # "the building the bikes are parked next to"
            (a, c)
            for a in self.children[v]
            if a > v and dep[a] == "advmod"
            for c in self.children[a]
            if c == a + 1 and (lower[a], lower[c]) in lex.TWO_WORD_PREPS and not self.children[c]
        ]
        if stranded or two_word:
            p_first, p = two_word[-1] if two_word else (stranded[-1], stranded[-1])
            if verbal and all(dep[k] in ("prt", "prep") for k in range(v + 1, p_first)):
                first, words = v, " ".join([lem] + lower[v + 1 : p + 1])
            else:
                first, words = p_first, " ".join(lower[p_first : p + 1])
            self._relation(first, p, first, words, subj, obj, _symmetric(words, " ".join(lower[p_first : p + 1])))
        elif verbal and lem not in lex.INTRANSITIVE_VERBS and not self._has_prep_object(v):
            last = self._particles_end(v)
            words = " ".join([lem] + lower[v + 1 : last + 1])
            self._relation(v, last, v, words, subj, obj)

    def _prep_relation(self, p: int):
        dep, lower, pos = self.dep, self.lower, self.pos
        low = lower[p]
        if low in lex.NON_RELATION_PREPS and not (low == "of" and self.verbal[self.head[p]]):
            return
        pobj = None
        for c in self.children[p]:
            if dep[c] == "pobj":
                pobj = c
                break
        last = p
        if pobj is None:
            # "in between the tracks": "between" may be the pobj-bearing child of "in"
            inner = next((c for c in self.children[p] if dep[c] == "prep"), None)
            if inner is not None and (low, lower[inner]) in lex.TWO_WORD_PREPS:
                pobj = next((c for c in self.children[inner] if dep[c] == "pobj"), None)
                last = inner
            if pobj is None:
                return
        first = p
        gov = self.head[p]
        if (lower[gov], low) in lex.TWO_WORD_PREPS and gov == p - 1:
            first = gov
            gov = self.head[gov]
        # complex preposition: "on top of", "in front of", "in the middle of"
        if pobj in self.prep_nouns:
            of = next(c for c in self.children[pobj] if c > pobj and dep[c] == "prep" and lower[c] == "of")
            last = of
            pobj = next(c for c in self.children[of] if dep[c] == "pobj")
        if low in lex.ACCESSORY_PREPS and (
            self._resumes(pobj) or any(self.dep[c] == "acl" and self._resumes(c) for c in self.children[pobj])
        ):
            return  # "a table with laptops on it": the relation is "on", not "with"
        reciprocal = lower[pobj] in lex.RECIPROCALS
        obj = None if reciprocal else self.entity(pobj)
        if obj is None and not reciprocal:
            return
        if self.nominal[gov]:
            subj = self.entity(gov)
        elif pos[gov] in ("VERB", "AUX") or self.verbal[gov]:
            subj = self.subject(gov)
            # a verb directly before its preposition belongs to the relation: "sitting on"
            if (
                self.verbal[gov]
                and gov < first
                and self.lemma[gov] != "be"
                and self.lemma[gov] not in lex.META_VERBS
                and gov not in self.relation_verbs
                and (gov + 1 == first or all(dep[k] == "prt" for k in range(gov + 1, first)))
                and not self.has_child(gov, ("dobj",))  # "climbing" relates the object
            ):
                first = gov
        else:
            return
        if reciprocal and subj is not None:
            obj = self.partner(subj)  # "a toilet and a sink next to each other"
        if subj is None or obj is None or subj == obj:
            return
        if first == last and not self.verbal[p]:
            rel_lemma = prep_part = low  # a one-word preposition, the common case
        elif first == p - 1 and last == p and self.verbal[first] and not self.verbal[p]:
            rel_lemma = self.lemma[first] + " " + low  # a verb and its preposition: "sit on"
            prep_part = low
        else:
            verbal = self.verbal
            rel_lemma = " ".join([self.lemma[k] if verbal[k] else lower[k] for k in range(first, last + 1)])
            prep_part = " ".join([lower[k] for k in range(first, last + 1) if not verbal[k]])
        head_tok = gov if first == gov else p
        symmetric = rel_lemma in _SYMMETRIC or prep_part in _SYMMETRIC  # _symmetric, inlined
        self._relation(first, last, head_tok, rel_lemma, subj, obj, symmetric)

    def partner(self, e: int):
        """The entity coordinated with entity ``e`` ("a cat and a dog"), if any."""
        for c in self.children[e]:
            if self.dep[c] == "conj" and c in self.entity_heads:
                return c
        if self.dep[e] == "conj" and self.head[e] in self.entity_heads:
            return self.head[e]
        return None

    def _coordination_relation(self, noun: int):
        """A symmetric relation spanning the conjunction: "a cat and a dog"."""
        first_conjunct = self.head[noun]
        # "a cat and a dog"; in "a cat, a dog and a bird" the "and" may hang on either conjunct
        dep = self.dep
        before = self.entity_heads[noun][_FIRST] - 1
        if before > 0 and dep[before] == "cc" and self.head[before] in self.entity_heads:
            # "holding a ball and/cc->ball a racket/conj->man": the parser hung the second conjunct
            # too high; the conjunction shows which noun it is coordinated with.
            first_conjunct = self.head[before]
        if first_conjunct not in self.entity_heads or first_conjunct == noun:
            return
        cc = [c for c in self.children[first_conjunct] if dep[c] == "cc" and first_conjunct < c]
        cc += [c for c in self.children[noun] if dep[c] == "cc" and c > noun]
        if not cc:
            return
        between = [c for c in cc if c < noun]
        word = max(between) if between else min(cc)
        self._relation(word, word, word, self.lower[word], first_conjunct, noun, True)

    # ------------------------------------------------------------------ output
    def run(self) -> list[Concept]:
        if not self.n:
            return []
        self.repair_tags()
        self.find_redirects()
        self.find_entities()
        self.find_predicative_attributes()
        self.find_verbs_and_relations()
        return self._finish()

    def _finish(self) -> list[Concept]:
        protos = self.protos
        idx, text, tag, dep, space = self.idx, self.text, self.tag, self.dep, self.space
        protos.sort(key=_SORT_KEY)  # stable: concepts with equal keys stay in the order found
        entity_at, noun_at = {}, {}
        for i, p in enumerate(protos):
            kind = p[1]
            if kind == "entity":
                entity_at[p[4]] = i
            elif kind == "noun":
                noun_at[p[4]] = i
        get_entity = entity_at.get
        out = []
        append = out.append
        new, plain = _new, _PLAIN_CONCEPT
        for _, kind, first, last, h, lemma, link_kind, link, subj, obj, symmetric in protos:
            start = idx[first]
            t = tag[h]
            if first == last:
                span = text[first]
                tags = t
            else:  # the caption's text: tokens and the single spaces spaCy records after them
                if all(space[first:last]):
                    span = " ".join(text[first : last + 1])
                else:
                    span = "".join([text[k] + " " if space[k] else text[k] for k in range(first, last)]) + text[last]
                tags = " ".join(tag[first : last + 1])
            if link_kind is None:
                head = NO_LINK
            elif link_kind == "noun":
                head = noun_at.get(link, NO_LINK)
            else:
                head = get_entity(link, NO_LINK)
            if subj >= 0:  # a relation (the others hold NO_LINK, which is negative)
                subj = get_entity(subj, NO_LINK)
                obj = get_entity(obj, NO_LINK)
            if not plain:  # pragma: no cover
                append(Concept(kind, span, start, start + len(span), lemma, t, tags, dep[h], head, subj, obj, symmetric))
                continue
            # fill a bare concept's dict in field order (see _new below)
            c = new(Concept)
            fields = c.__dict__
            fields["kind"] = kind
            fields["text"] = span
            fields["start"] = start
            fields["end"] = start + len(span)
            fields["lemma"] = lemma
            fields["tag"] = t
            fields["tags"] = tags
            fields["dep"] = dep[h]
            fields["head"] = head
            fields["subj"] = subj
            fields["obj"] = obj
            fields["symmetric"] = symmetric
            append(c)
        return out


_SORT_KEY = itemgetter(0)


# Concepts are built by filling the instance dict of a bare ``Concept``: a frozen dataclass sets
# each field through ``object.__setattr__``, four times slower, and this is a hot loop. Setting
# the items one by one, in field order, keeps the dict's keys shared with all other concepts
# (a third of the memory of a dict built apart, and faster to make). The result is the same object
# (equality, hashing, pickling) as long as ``Concept`` stays a plain frozen dataclass (else the
# constructor is used); ``tests/test_rules.py`` checks it.
_new = object.__new__
_PLAIN_CONCEPT = not hasattr(Concept, "__slots__") and not hasattr(Concept, "__post_init__")


def _looks_like_gerund(lower: str) -> bool:
    """An "-ing" word that is not a known "-ing" noun ("building", "ceiling", "ring")."""
    return len(lower) > 5 and lower.endswith("ing") and lower not in lex.ING_NOUNS


def _adjective_form(lower: str) -> bool:
    """A word with an adjective ending ("motionless", "unconscious"); see ``ADJECTIVE_ENDINGS``."""
    return len(lower) > 6 and lower.isalpha() and lower.endswith(lex.ADJECTIVE_ENDINGS)


def _gerund_lemma(word: str) -> str:
    """Verb lemma of an "-ing" form the tagger called a noun (its lemma is then the word itself):
    "playing" -> "play", "sitting" -> "sit", "hiking" -> "hike"."""
    fixed = lex.LEMMA_FIXES.get(word)
    if fixed or not word.endswith("ing"):
        return fixed or word
    stem = word[:-3]
    vowels = "aeiou"
    if len(stem) >= 3 and stem[-1] == stem[-2] and stem[-1] not in vowels + "lsz":
        return stem[:-1]  # running -> run
    if (
        2 <= len(stem) <= 4
        and stem[-1] not in vowels + "wxy"
        and stem[-2] in vowels
        and (len(stem) == 2 or stem[-3] not in vowels)
    ):
        return stem + "e"  # hiking -> hike, riding -> ride
    return stem


def _symmetric(rel_lemma: str, prep_part: str) -> bool:
    return rel_lemma in lex.SYMMETRIC_RELATIONS or prep_part in lex.SYMMETRIC_RELATIONS


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
    return _Extractor(doc).run()
