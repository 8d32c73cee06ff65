"""Change the grammatical number of an entity, with everything that agrees with it.

"A dog is sitting on a bench." -> "Two dogs are sitting on a bench.", "Two cats sleep on a
couch." -> "A cat sleeps on a couch.", "a man holding an umbrella" -> "a man holding two
umbrellas". One edit changes, together:

- the determiner or count: "a"/"an", "one", "a single" <-> a count word or a bare plural
  (:data:`PLURAL_COUNTS`), a count > 1, digits, "several"/"some"/"many" or a bare plural ->
  "a"/"one" (:data:`SINGULAR_COUNTS`); "this" <-> "these", "that" <-> "those"; "the" and
  possessives stay ("the dog" <-> "the dogs", "their two dogs" -> "their dog");
- the noun (:mod:`iccc.inflection`, irregulars included: "man" <-> "men", "person" <-> "people");
- the finite verb whose subject the entity is ("is"/"are", "was"/"were", "has"/"have",
  "sits"/"sit", verbs coordinated with it: "sits and watches"), the verb of "there is a dog",
  and of a relative clause on the entity ("a bus that is parked");
- possessive, object and reflexive pronouns that refer to it, when the reference is clear
  ("with its toy" -> "with their toy"; "A man with his dog" -> "Two men with their dog").

Only what can be fixed reliably from the parse is edited; otherwise the entity has no slot: mass,
unique, invariant and plural-only nouns (:func:`iccc.inflection.countable`), proper nouns,
possessors and compound modifiers ("dog food"), nested entities ("a dog's bone"), quantified
complements ("a group of people"), determiners like "each", "both", "no", a subject whose verb
cannot be found past a relative clause, a subject pronoun that may refer to the entity ("it is"),
a predicate noun ("a dog is a pet"), a number word in the noun phrase besides the count ("two or
three", "other", "lone"), words that need a plural ("each other", "together", "both") for a
plural made singular, and a caption whose agreement is already broken ("a dogs", "dogs is").

The record is a replacement of the smallest span covering every change, so its target reads
like the other operators': ``"Two dogs are" should be "A dog is".``

The operator needs no concept base. The count of a new plural is drawn from fixed weights, as
real plurals are written (:data:`PLURAL_COUNTS` inside a sentence: mostly bare; :data:`OPENING_COUNTS`
for one that opens a sentence: mostly "two"), as is the determiner of a new singular
(:data:`SINGULAR_COUNTS`); all are settings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from .. import inflection, semantics
from .._schema import Concept, ParsedCaption
from ..parsing.lexicon import (
    ABSOLUTE_PREDICATIVES,
    COMPLEX_PREP_NOUNS,
    INTERIOR_NOUNS,
    META_NOUNS,
    NUMBER_WORDS,
    PREDICATIVE_ADJECTIVES,
)
from ..textedit import fit_case, indefinite_article, mid_sentence, shouted
from ._base import Operator, Options, Prepared, Slot, slot
from ._index import CandidateIndex, evict_older_half
from ._record import Corruption
from .swap import coordinated

#: Determiners of a new plural made from "a"/"an" inside a sentence, and their weights ("": a
#: bare plural, "dogs"): as the plurals that the balanced operator makes singular are written
#: there, so that the words of a new plural do not tell a negative from a real plural. Measured
#: on 47k COCO captions (val2017 + Karpathy test, ``benchmarks/bench_rare.py``), the real plurals
#: of the singular edits inside a sentence: bare 78%, "two" 7.5%, "some" 6.9%, "several" 2.1%,
#: "many" 2.1%, "three" 1.4%, "four" 0.7%. (The earlier table, "two" 38% / bare 30%, put "two"
#: in 39% of new plurals against 7.5% of real ones: a blind classifier's best cue.)
PLURAL_COUNTS: tuple[tuple[str, float], ...] = (
    ("", 0.78), ("two", 0.075), ("some", 0.07), ("several", 0.021), ("many", 0.021), ("three", 0.014),
    ("four", 0.007))
#: The same for a new plural that opens a sentence ("A dog ..." -> "Two dogs ..."), where a bare
#: plural is not made (it reads as a verb: "Park benches with graffiti"): real plurals that open
#: a caption are written "two" 44%, "three" 10%, "several" 7%, "some" 5%, "many" 3%, "four" 3%,
#: bare 25% (same measurement); without the bare ones, the weights below.
OPENING_COUNTS: tuple[tuple[str, float], ...] = (
    ("two", 0.59), ("three", 0.135), ("several", 0.095), ("some", 0.065), ("many", 0.045), ("four", 0.04))
#: Determiners of a new singular made from a count, a quantifier or a bare plural, and their
#: weights: "a"/"an" only by default ("one dog" is rare in captions, so a blind model spots it).
SINGULAR_COUNTS: tuple[tuple[str, float], ...] = (("a", 1.0),)

_DIGITS = {"two": "2", "three": "3", "four": "4"}
_PLURAL_WORDS = "two|three|four|several|some|many|"
_PLURAL_DEMONSTRATIVE = {"this": "these", "that": "those"}
_SINGULAR_DEMONSTRATIVE = {"these": "this", "those": "that"}
_POSSESSIVES = frozenset("his her its their my our your".split())
#: Plural quantifiers that become "a"/"one" in the singular.
_PLURAL_QUANTIFIERS = frozenset("several some many multiple numerous".split())
#: Words that make a noun phrase's number part of its meaning or leave it ambiguous: no slot.
_BLOCKING_MODIFIERS = frozenset(
    """or and to of other another only lone single solitary sole solo individual few couple lot lots
    dozen dozens hundred hundreds thousand thousands pair group both all each every same identical
    matching twin similar different various assorted numerous multiple several many more most
    extra additional""".split()
) | frozenset(NUMBER_WORDS)
#: Words elsewhere in the caption that need a plural: no plural is made singular next to them.
_NEEDS_PLURAL = frozenset(
    "together each both all other others another one respective respectively apart alike different".split()
)
#: Prepositions whose object must be plural.
_PLURAL_PREPOSITIONS = frozenset("between among amongst".split())
#: Nouns before "of" that keep their complement a free noun phrase ("in front of a car",
#: "a picture of a dog"); after any other "of" ("a group of", "one of", "full of") no slot.
_OF_HEADS = COMPLEX_PREP_NOUNS | INTERIOR_NOUNS | META_NOUNS | frozenset(("out", "ahead"))

#: Body parts an owner has one of: "its head" has no plural.
_ONE_PER_OWNER = frozenset(
    """head face neck mouth nose back tail body chest belly stomach forehead chin tongue waist lap torso
    mane trunk beak bill snout muzzle throat spine""".split()
)
_SUBJECT_DEPS = frozenset(("nsubj", "nsubjpass"))
_NO_SLOT_DEPS = frozenset(("compound", "poss", "nmod", "amod", "npadvmod"))
_RELATIVE = frozenset(("that", "which", "who"))
_RELATIVE_CONTRACTED = frozenset(f"{r}'{v}" for r in _RELATIVE for v in ("s", "re", "ve"))
_SUBJECT_PRONOUNS = frozenset("he she it they we i you this these those it's he's she's they're".split())
_SENTENCE_END = frozenset(".!?;:")
_ADVERBS = frozenset("also still just not never always now currently really often usually only even".split())
_COORDINATORS = frozenset(("and", "but", "or"))
#: Finite forms of the verbs that frame a caption (not concepts): they agree with their subject.
_META_FINITE = {"shows": "show", "depicts": "depict", "features": "feature", "portrays": "portray",
                "captures": "capture", "displays": "display"}
_META_FINITE.update({base: base for base in list(_META_FINITE.values())})

_THERE = re.compile(r"(?:^|(?<=\W))(there|here)\s+(is|are|was|were|isn't|aren't|wasn't|weren't)\s+"
                    r"(?:(?:also|still|now|just)\s+)?$", re.I)
_THERE_S = re.compile(r"(?:^|(?<=\W))(there|here)(['\u2019]s)\s+$", re.I)
_WORD = re.compile(r"[A-Za-z0-9]+(?:['\u2019][A-Za-z]+)*|[^\sA-Za-z0-9]")
_LETTERS = re.compile(r"[A-Za-z]+$")

_MALE = frozenset(
    """man boy guy gentleman father dad son husband king prince brother uncle grandfather grandpa
    nephew groom bridegroom monk priest policeman fireman businessman sportsman cowboy fisherman
    snowman""".split()
)
_FEMALE = frozenset(
    """woman girl lady mother mom mum daughter wife queen princess sister aunt grandmother grandma
    niece bride nun policewoman businesswoman waitress actress cowgirl ballerina""".split()
)
#: Pronouns by number; each maps to its form in the other number (``None``: no safe rewrite).
_SINGULAR_PRONOUNS = {"his": "their", "its": "their", "him": "them", "himself": "themselves",
                      "herself": "themselves", "itself": "themselves", "her": None,
                      "he": None, "she": None, "it": None, "it's": None, "he's": None, "she's": None,
                      "it\u2019s": None, "he\u2019s": None, "she\u2019s": None}
_PLURAL_PRONOUNS = {"their": None, "them": None, "themselves": None, "they": None, "they're": None,
                    "they've": None, "they\u2019re": None, "they\u2019ve": None}
_PRONOUN_GENDER = {"his": "m", "him": "m", "himself": "m", "he": "m", "her": "f", "herself": "f", "she": "f",
                   "its": "n", "it": "n", "itself": "n"}
_PRONOUN_GENDER.update({f"{p}{a}s": g for p, g in (("it", "n"), ("he", "m"), ("she", "f")) for a in "'\u2019"})
_SINGULAR_FORMS = {"their": {"m": "his", "f": "her", "n": "its"}, "them": {"m": "him", "f": "her", "n": "it"},
                   "themselves": {"m": "himself", "f": "herself", "n": "itself"}}


@dataclass(frozen=True)
class Change:
    """One edit of the caption: ``text[start:end]`` becomes ``new`` (already cased for its place)."""

    start: int
    end: int
    new: str
    role: str  # "noun phrase", "verb" or "pronoun"


def apply_changes(text: str, changes: Sequence[Change]) -> tuple[str, list[tuple[int, int]]]:
    """``text`` with non-overlapping ``changes`` made, and where each change's new text lies in it.

    >>> apply_changes("A dog is here.", [Change(0, 5, "Two dogs", "noun phrase"), Change(6, 8, "are", "verb")])
    ('Two dogs are here.', [(0, 8), (9, 12)])
    """
    if not isinstance(text, str):
        raise TypeError(f"`text` must be a str, got {type(text).__name__}: {text!r:.80}.")
    ordered = sorted(changes, key=lambda c: c.start)
    pieces, spans, pos, shift = [], [], 0, 0
    for c in ordered:
        if not (pos <= c.start <= c.end <= len(text)):
            raise ValueError(f"`changes` must be non-overlapping spans within the text, got {c!r} after offset {pos}.")
        pieces.append(text[pos : c.start])
        spans.append((c.start + shift, c.start + shift + len(c.new)))
        pieces.append(c.new)
        shift += len(c.new) - (c.end - c.start)
        pos = c.end
    pieces.append(text[pos:])
    by_order = {id(c): s for c, s in zip(ordered, spans)}
    return "".join(pieces), [by_order[id(c)] for c in changes]


@dataclass(frozen=True)
class _Word:
    start: int
    end: int
    text: str

    @property
    def lower(self) -> str:
        return self.text.lower()


@dataclass(frozen=True)
class Plan:
    """What changing the number of one entity edits; only the new determiner is left to choose
    (from :attr:`labels`, by :attr:`weights`).

    Attributes:
        entity, noun: indices of the entity concept and of its noun.
        to_plural: the direction of the change.
        labels, weights: the options for the new determiner: words of :data:`PLURAL_COUNTS` or
            :data:`SINGULAR_COUNTS`, or ``(None,)`` when it is fixed (:attr:`fixed_det`).
        np_start, np_end: the noun phrase (determiner to noun) in the caption.
        fixed_det: the new determiner when there is no choice ("these" for "this", "the" for
            "the", a possessive); ``None``: a label decides.
        middle: the noun phrase's words between the determiner and the noun, mid-sentence form.
        new_noun: the noun in the new number, mid-sentence form.
        count_style: ``"digit"`` when the old count was written in digits (a new count is too),
            else ``"word"``.
        others: the verb and pronoun changes.
    """

    entity: int
    noun: int
    to_plural: bool
    labels: tuple
    weights: tuple
    np_start: int
    np_end: int
    fixed_det: str | None
    middle: str
    new_noun: str
    count_style: str
    others: tuple[Change, ...]

    def changes(self, text: str, label: Any) -> list[Change]:
        """Every change for the determiner option ``label`` (one of :attr:`labels`)."""
        if label not in self.labels:
            raise ValueError(f"`label` must be one of {self.labels!r}, got {label!r}.")
        det = self.fixed_det if self.fixed_det is not None else label
        if det is None:
            det = ""
        if det in _DIGITS and self.count_style == "digit":
            det = _DIGITS[det]
        if det == "one" and self.count_style == "digit":
            det = "1"
        rest = (self.middle + self.new_noun).lstrip()
        if det == "a":
            following = rest.split(" ", 1)[0]
            det = indefinite_article(following.lower() if shouted(text) else following)
        phrase = f"{det} {rest}" if det else rest
        old = text[self.np_start : self.np_end]
        new = fit_case(text, self.np_start, old, phrase)
        if new[:1].islower() and not old[:1].isalpha() and _sentence_start(text, self.np_start):
            new = new[0].upper() + new[1:]  # "3 dogs run" -> "A dog runs"
        return [Change(self.np_start, self.np_end, new, "noun phrase"), *self.others]


def _words(text: str) -> list[_Word]:
    return [_Word(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)]


def _person_gender(lemma: str) -> str | None:
    """``"m"``/``"f"`` for a person of known sex, ``"p"`` for another person, ``None`` otherwise."""
    head = lemma.rsplit(" ", 1)[-1]
    if head in _MALE or (head.endswith("man") and not head.endswith("woman") and head in _MALE):
        return "m"
    if head in _FEMALE or head.endswith("woman"):
        return "f"
    if semantics.category(lemma, "noun") in ("person", "person-role") or head in ("person", "people"):
        return "p"
    return None


def _compatible(noun: Concept, pronoun: str) -> bool:
    """Whether ``pronoun`` (lower case, either number) may refer to ``noun``'s entity."""
    if pronoun in _PLURAL_PRONOUNS:
        return noun.plural
    if noun.plural:
        return False
    gender = _PRONOUN_GENDER[pronoun]
    person = _person_gender(noun.lemma)
    if gender == "n":
        return person is None
    if person is None:  # animals may be "he"/"she" too
        return semantics.category(noun.lemma, "noun") == "animal"
    return person in ("p", gender)


class _Caption:
    """What the plans of one caption share: its words, and its concepts by position."""

    def __init__(self, parsed: ParsedCaption):
        self.parsed = parsed
        self.text = parsed.text
        self.words = _words(parsed.text)
        concepts = parsed.concepts
        self.entities = [i for i, c in enumerate(concepts) if c.kind == "entity"]
        self.noun_of: dict[int, int] = {}
        for i, c in enumerate(concepts):
            if c.kind == "noun" and c.head >= 0 and concepts[c.head].end == c.end:
                self.noun_of.setdefault(c.head, i)
        self.verb_at = {c.start: c for c in concepts if c.kind == "verb"}
        self.entity_at = {concepts[i].start: i for i in self.entities}
        self.noun_at = {c.start: c for c in concepts if c.kind == "noun"}

    def inside_entity(self, start: int, end: int, but: int) -> bool:
        concepts = self.parsed.concepts
        return any(k != but and concepts[k].start <= start and end <= concepts[k].end for k in self.entities)

    def word_index(self, offset: int) -> int:
        """Index of the first word starting at or after ``offset``."""
        for k, w in enumerate(self.words):
            if w.start >= offset:
                return k
        return len(self.words)


class _NoSlot(Exception):
    """Raised inside planning when agreement cannot be fixed reliably (caught in :func:`plan`)."""


def plan(parsed: ParsedCaption, i: int, *, plural_counts=PLURAL_COUNTS, singular_counts=SINGULAR_COUNTS,
         opening_counts=OPENING_COUNTS, caption: _Caption | None = None) -> Plan | None:
    """How to change the number of entity ``i`` of ``parsed`` (``None``: it has no slot).

    >>> import iccc
    >>> p = iccc.parse(["Two cats sleep on a couch."])[0]
    >>> pl = plan(p, 0); pl.to_plural, [c.new for c in pl.changes(p.text, "a")]
    (False, ['A cat', 'sleeps'])
    """
    if not isinstance(parsed, ParsedCaption):
        raise TypeError(f"`parsed` must be an iccc.ParsedCaption, got {type(parsed).__name__}: {parsed!r:.80}.")
    if not (isinstance(i, int) and 0 <= i < len(parsed.concepts)) or parsed.concepts[i].kind != "entity":
        raise ValueError(f"`i` must be the index of an entity concept of `parsed`, got {i!r}.")
    try:
        return _plan(caption or _Caption(parsed), i, plural_counts, singular_counts, opening_counts)
    except _NoSlot:
        return None


def _plan(cap: _Caption, i: int, plural_counts, singular_counts, opening_counts) -> Plan | None:
    parsed, text = cap.parsed, cap.text
    concepts = parsed.concepts
    entity = concepts[i]
    n = cap.noun_of.get(i)
    if n is None or entity.dep in _NO_SLOT_DEPS:
        return None
    noun = concepts[n]
    if noun.tag not in ("NN", "NNS") or cap.inside_entity(entity.start, entity.end, i):
        return None
    if any(k != i and entity.start <= concepts[k].start and concepts[k].end <= entity.end for k in cap.entities):
        return None  # a nested entity: "a dog's bone"
    to_plural = noun.tag == "NN"
    head = _head(noun)
    if head in META_NOUNS or (head.endswith("ing") and inflection.IRREGULAR_SINGULARS.get(head, head) not in inflection.ING_NOUNS
                              and head[:-1] not in inflection.ING_NOUNS):
        return None
    if _suspect_noun(parsed, noun):
        return None
    new_noun = _inflected_noun(text, noun, to_plural)
    if new_noun is None:
        return None
    after = text[entity.end :]
    if re.match(r"['\u2019]", after) or (re.match(r"\s+\S", after) and _next_is_noun(cap, entity.end)):
        return None  # a possessor ("a dog's"), or a modifier of a following noun
    # ---- the determiner
    np = mid_sentence(text, entity.start, text[entity.start : noun.start])
    words = np.split()
    lower = [w.lower() for w in words]
    first = lower[0] if lower else ""
    fixed_det: str | None = None
    labels: tuple = (None,)
    weights: tuple = (1.0,)
    count_style = "word"
    drop = 0  # words at the start of the phrase that the new determiner replaces
    opening = to_plural and _sentence_start(text, entity.start)
    if opening:
        plural_counts = opening_counts
    if to_plural:
        if first in ("a", "an") and lower[1:2] == ["single"]:
            drop, labels, weights = 2, *_numbers_only(plural_counts)
        elif first in ("a", "an"):
            drop, labels, weights = 1, *_split(plural_counts)
        elif first == "one" or first == "1":
            drop, labels, weights = 1, *_numbers_only(plural_counts)
            count_style = "digit" if first == "1" else "word"
        elif first in _PLURAL_DEMONSTRATIVE:
            drop, fixed_det = 1, _PLURAL_DEMONSTRATIVE[first]
        elif first == "the" or first in _POSSESSIVES:
            drop, fixed_det = 1, words[0]
        else:
            return None  # bare singulars are names or mass nouns; "each", "no", "another": no number change
    else:
        value = NUMBER_WORDS.get(first) if not first.isdigit() else int(first)
        count_style = "digit" if first.isdigit() else "word"
        if first in ("a",) and lower[1:2] == ["few"]:
            drop, labels, weights = 2, *_split(singular_counts)
        elif value is not None and value > 1 and first != "dozen":
            drop, labels, weights = 1, *_split(singular_counts)
        elif first in _PLURAL_QUANTIFIERS:
            drop, labels, weights = 1, *_split(singular_counts)
        elif first in _SINGULAR_DEMONSTRATIVE:
            drop, fixed_det = 1, _SINGULAR_DEMONSTRATIVE[first]
        elif first == "the" or first in _POSSESSIVES:
            drop, fixed_det = 1, words[0]
            second = lower[1] if len(lower) > 1 else ""
            if (second.isdigit() and int(second) > 1) or NUMBER_WORDS.get(second, 0) > 1:
                drop = 2  # "the two dogs" -> "the dog"
        elif not words or not _determiner_like(first):
            drop, labels, weights = 0, *_split(singular_counts)  # a bare plural, "dogs", "black dogs"
        else:
            return None
    if opening and "" in labels:
        # a bare plural opening a fragment reads as a verb ("Park benches with graffiti")
        kept = [(w, p) for w, p in zip(labels, weights) if w != ""]
        labels, weights = tuple(w for w, _ in kept), tuple(p for _, p in kept)
    if to_plural and first in _POSSESSIVES and _head(noun) in _ONE_PER_OWNER:
        return None  # "its back" -> "its backs"
    modifiers = lower[drop:]
    if any(w in _BLOCKING_MODIFIERS or w.isdigit() or "'" in w or "\u2019" in w or "-" == w for w in modifiers):
        return None
    if _count_inside(cap, entity, noun, drop, words):
        return None
    middle = _after_words(np, drop)
    # ---- the context: what the noun phrase follows, what follows it
    before = text[: entity.start]
    prev = _previous_word(before)
    if prev == "of" and _previous_word(before[: before.lower().rstrip().rfind("of")]) not in _OF_HEADS:
        return None
    if not to_plural and prev in _PLURAL_PREPOSITIONS:
        return None
    if not to_plural and _needs_plural_nearby(cap, i):
        return None
    others = list(_verb_changes(cap, i, noun, to_plural))
    others.extend(_pronoun_changes(cap, i, noun, to_plural))
    return Plan(i, n, to_plural, labels, weights, entity.start, entity.end, fixed_det, middle, new_noun,
                count_style, tuple(others))


def _head(noun: Concept) -> str:
    """The noun's last word, lower case ("hydrant" of "fire hydrant")."""
    found = _LETTERS.search(noun.lemma)
    return found.group() if found else ""


#: Last words of a "noun" that are an adjective the parser took for one: "his shirt open" parsed
#: as the noun "shirt open" (its plural would be "shirt opens"), "arms wide", "legs crossed".
_ADJECTIVE_HEADS = (PREDICATIVE_ADJECTIVES - {"present", "free", "cold"}) | (ABSOLUTE_PREDICATIVES - {"spread"})


def _suspect_noun(parsed: ParsedCaption, noun: Concept) -> bool:
    """Whether a noun is probably a misparse that swallowed a verb: a compound with a plural
    modifier ("shorts bends"), or one that leaves the caption without a verb; or that swallowed
    an adjective after it ("his shirt open", :data:`_ADJECTIVE_HEADS`)."""
    return ("NNS" in noun.tags.split()[:-1] or _head(noun) in _ADJECTIVE_HEADS
            or _verb_in_compound(parsed, noun))


def _verb_in_compound(parsed: ParsedCaption, noun: Concept) -> bool:
    """Whether a compound noun probably swallowed the caption's verb: "a giraffe stand next to each
    other" parsed with the noun "giraffe stand" and no verb at all."""
    if " " not in noun.lemma or any(c.kind == "verb" for c in parsed.concepts):
        return False
    if not semantics.wordnet_available() or semantics.in_wordnet(noun.lemma, "noun"):
        return False
    return semantics.in_wordnet(_head(noun), "verb")


def _split(table) -> tuple[tuple, tuple]:
    return tuple(w for w, _ in table), tuple(float(p) for _, p in table)


def _numbers_only(table) -> tuple[tuple, tuple]:
    """The options of a plural made from "one"/"a single": number words only."""
    kept = [(w, p) for w, p in table if w in NUMBER_WORDS]
    if not kept:
        raise _NoSlot
    return _split(kept)


def _determiner_like(word: str) -> bool:
    return word in ("a", "an", "each", "every", "no", "any", "another", "either", "neither", "both", "all",
                    "what", "which", "whose") or word in _POSSESSIVES or word in NUMBER_WORDS


def _after_words(phrase: str, k: int) -> str:
    """``phrase`` without its first ``k`` words (keeping the spacing of the rest), plus the space
    before the noun."""
    rest = phrase
    for _ in range(k):
        rest = rest.lstrip()
        cut = rest.find(" ")
        rest = "" if cut < 0 else rest[cut:]
    return rest.lstrip()


def _count_inside(cap: _Caption, entity: Concept, noun: Concept, drop: int, words: list[str]) -> bool:
    """Whether a count concept of the entity lies beyond the words the determiner replaces
    ("exactly 12 birds": not handled)."""
    covered = entity.start + sum(len(w) + 1 for w in words[:drop])
    return any(c.kind == "count" and entity.start <= c.start < noun.start and c.start >= covered
               for c in cap.parsed.concepts)


def _previous_word(before: str) -> str:
    found = re.search(r"([A-Za-z']+)\W*$", before)
    return found.group(1).lower() if found else ""


def _next_is_noun(cap: _Caption, end: int) -> bool:
    k = cap.word_index(end)
    return k < len(cap.words) and cap.words[k].start in cap.noun_at


def _needs_plural_nearby(cap: _Caption, i: int) -> bool:
    entity = cap.parsed.concepts[i]
    for w in cap.words:
        if w.lower in _NEEDS_PLURAL and not (entity.start <= w.start < entity.end):
            if not cap.inside_entity(w.start, w.end, -1):
                return True
    return False


def _inflected_noun(text: str, noun: Concept, to_plural: bool) -> str | None:
    """The noun's text in the other number, mid-sentence; ``None`` when it cannot change."""
    surface = noun.text
    found = _LETTERS.search(surface)
    lemma_found = _LETTERS.search(noun.lemma)
    if not found or not lemma_found:
        return None
    head, lemma = found.group(), lemma_found.group()
    if head[:1].isupper() and not shouted(text) and not _sentence_start(text, noun.start + found.start()):
        return None  # a name ("a Honda"), or an acronym
    low = head.lower()
    if not inflection.countable(low):
        return None  # "glasses" (plural only) even where the lemma is "glass"
    if to_plural:
        if low != lemma:
            return None
        new = inflection.pluralize(head)
        singular = low
    else:
        if lemma != low and (inflection.pluralize(lemma) or "").lower() == low:
            new, singular = inflection.recase(head, lemma), lemma
        else:
            new = inflection.singularize(head)
            if new is None or (inflection.pluralize(new) or "").lower() != low or lemma not in (low, new.lower()):
                return None
            singular = new.lower()
    if new is None or not inflection.countable(singular):
        return None
    if semantics.wordnet_available() and not semantics.in_wordnet(singular, "noun"):
        return None  # a misparse ("sheep grazes" as one noun) or a word we cannot check
    return mid_sentence(text, noun.start, surface[: found.start()] + new)


def _sentence_start(text: str, start: int) -> bool:
    i = start
    while i > 0 and text[i - 1].isspace():
        i -= 1
    return i == 0 or text[i - 1] in ".!?"


# ------------------------------------------------------------------ verbs
def _verb_changes(cap: _Caption, i: int, noun: Concept, to_plural: bool):
    parsed, text = cap.parsed, cap.text
    entity = parsed.concepts[i]
    concepts = parsed.concepts
    before = text[: entity.start]
    there = _THERE.search(before)
    there_s = _THERE_S.search(before) if there is None else None
    heads_coordination = any(
        concepts[k].dep == "conj" and concepts[k].start > entity.end and coordinated(parsed, i, k)
        for k in cap.entities
    )
    if heads_coordination and _coordinator_after(cap, entity.end) == "or":
        raise _NoSlot  # "a dog or a cat is": the verb agrees with the nearest
    if there is not None:
        verb = there.group(2)
        start = there.start(2)
        yield _finite_change(cap, _Word(start, start + len(verb), verb), None, to_plural)
    elif there_s is not None:
        if to_plural:  # "There's a dog" -> "There are two dogs"
            word = there_s.group(1)
            new = word + (" ARE" if shouted(text) else " are")
            yield Change(there_s.start(1), there_s.end(2), new, "verb")
    elif entity.dep == "attr":
        raise _NoSlot  # a predicate noun: "this is a dog"
    elif entity.dep == "conj":
        first = [k for k in cap.entities if concepts[k].end <= entity.start and coordinated(parsed, k, i)]
        if not (first and concepts[first[0]].dep in _SUBJECT_DEPS) and _finite_next(cap, entity.end):
            raise _NoSlot  # "chairs and two women sit": whose verb is it?
    elif entity.dep in _SUBJECT_DEPS or entity.dep == "ROOT":
        if not heads_coordination and entity.dep != "conj":
            yield from _subject_verbs(cap, i, to_plural)
    # a relative clause on the entity: "a bus that is parked", "dogs which sit"
    k = cap.word_index(entity.end)
    words = cap.words
    if k < len(words) and words[k].text == ",":
        k += 1
    if k < len(words) and words[k].lower.replace("\u2019", "'") in _RELATIVE_CONTRACTED:
        raise _NoSlot  # "a girl who's holding": the contraction has no plural we write safely
    if k < len(words) and words[k].lower in _RELATIVE:
        if entity.dep in _SUBJECT_DEPS:
            raise _NoSlot  # its own verb lies past the clause
        k += 1
        while k < len(words) and words[k].lower in _ADVERBS:
            k += 1
        if k < len(words):
            found = _finite_kind(cap, words[k])
            if found == "agrees":
                yield _finite_change(cap, words[k], cap.verb_at.get(words[k].start), to_plural)


def _finite_next(cap: _Caption, end: int) -> bool:
    k = cap.word_index(end)
    while k < len(cap.words) and cap.words[k].lower in _ADVERBS:
        k += 1
    return k < len(cap.words) and _finite_kind(cap, cap.words[k]) == "agrees"


def _coordinator_after(cap: _Caption, end: int) -> str:
    k = cap.word_index(end)
    while k < len(cap.words) and cap.words[k].text == ",":
        k += 1
    return cap.words[k].lower if k < len(cap.words) else ""


def _finite_kind(cap: _Caption, w: _Word) -> str | None:
    """``"agrees"`` for a finite verb that agrees in number, ``"numberless"`` for a modal or a past
    tense other than "was"/"were", ``None`` for anything else."""
    low = w.lower
    if inflection.number_variant(low) is not None or low in _META_FINITE:
        return "agrees"
    if low in inflection.NUMBERLESS_FINITE:
        return "numberless"
    verb = cap.verb_at.get(w.start)
    if verb is not None:
        if verb.tag in ("VBZ", "VBP"):
            return "agrees"
        if verb.tag in ("VBD", "MD"):
            return "numberless"
    return None


def _subject_verbs(cap: _Caption, i: int, to_plural: bool):
    """The finite verbs whose subject entity ``i`` is: the first after it (past its modifiers)
    and those coordinated with that one ("sits and watches")."""
    parsed = cap.parsed
    entity = parsed.concepts[i]
    words = cap.words
    found: list[_Word] = []
    numberless = False
    expecting = False  # after "and": a finite verb here shares the subject
    for k in range(cap.word_index(entity.end), len(words)):
        w = words[k]
        low = w.lower
        if w.text in _SENTENCE_END:
            break
        if low in _RELATIVE:
            if not found and not numberless and entity.dep in _SUBJECT_DEPS:
                raise _NoSlot  # the verb we look for may lie past the clause
            break
        other = cap.entity_at.get(w.start)
        if other is not None and other != i:
            if parsed.concepts[other].dep in _SUBJECT_DEPS:
                break
            expecting = False
            continue
        if low in _SUBJECT_PRONOUNS:
            break
        kind = _finite_kind(cap, w)
        if kind is not None:
            if found or numberless:
                if not expecting:
                    break
            if kind == "numberless":
                numberless = True
            else:
                found.append(w)
            expecting = False
            continue
        if expecting and _maybe_verb(cap, w):
            raise _NoSlot  # "is tidy and comes equipped": a verb the parse did not mark
        if low in _COORDINATORS and (found or numberless):
            expecting = True
    if not found and not numberless and any(
            c.kind == "noun" and c.start >= entity.end and _suspect_noun(parsed, c) for c in parsed.concepts):
        raise _NoSlot  # the verb may hide in a misparsed noun after the subject
    for w in found:
        change = _finite_change(cap, w, cap.verb_at.get(w.start), to_plural)
        if change.new.lower() in ("are", "were", "is", "was"):
            _check_no_predicate_noun(cap, w)
        yield change


def _maybe_verb(cap: _Caption, w: _Word) -> bool:
    """Whether a word outside every concept may be a finite verb (WordNet knows it, or the base
    form its "-s" hides, as a verb)."""
    if w.lower in _ADVERBS or not w.text.isalpha() or any(
            c.start <= w.start < c.end for c in cap.parsed.concepts):
        return False
    if not semantics.wordnet_available():
        return False
    base = inflection.base_form(w.lower) or w.lower
    return semantics.in_wordnet(base, "verb")


def _check_no_predicate_noun(cap: _Caption, verb: _Word) -> None:
    k = cap.word_index(verb.end)
    while k < len(cap.words) and cap.words[k].lower in _ADVERBS:
        k += 1
    if k < len(cap.words):
        other = cap.entity_at.get(cap.words[k].start)
        if other is not None and cap.parsed.concepts[other].dep == "attr":
            raise _NoSlot  # "a dog is a pet" -> "two dogs are a pet"


def _finite_change(cap: _Caption, w: _Word, verb: Concept | None, to_plural: bool) -> Change:
    """The change of one finite verb to the new number; :class:`_NoSlot` when it does not agree
    with the old number now (the caption's agreement is already broken) or has no safe form."""
    low = w.lower
    new: str | None = None
    if low in inflection.SINGULAR_TO_PLURAL_VERBS:
        new = inflection.SINGULAR_TO_PLURAL_VERBS[low] if to_plural else None
    elif low in inflection.PLURAL_TO_SINGULAR_VERBS:
        new = None if to_plural else inflection.PLURAL_TO_SINGULAR_VERBS[low]
    elif low in _META_FINITE:
        base = _META_FINITE[low]
        is_3sg = low != base
        new = (base if is_3sg else None) if to_plural else (None if is_3sg else inflection.third_person(base))
    else:
        lemma = verb.lemma.split(" ", 1)[0] if verb is not None else ""
        if to_plural:
            if verb is None or verb.tag != "VBZ":
                raise _NoSlot
            if lemma and inflection.third_person(lemma) == low:
                new = lemma
            else:
                base = inflection.base_form(low)
                new = base if base and inflection.third_person(base) == low else None
        else:
            if verb is None or verb.tag != "VBP" or (lemma and lemma != low):
                raise _NoSlot
            new = inflection.third_person(low)
    if new is None:
        raise _NoSlot
    return Change(w.start, w.end, fit_case(cap.text, w.start, w.text, inflection.recase(w.text, new)), "verb")


# ------------------------------------------------------------------ pronouns
def _pronoun_changes(cap: _Caption, i: int, noun: Concept, to_plural: bool):
    """Pronouns after the entity that refer to it, in the new number. The antecedent of a
    pronoun is the one subject among the compatible entities before it, else the only compatible
    entity; a pronoun that may refer to the entity but has no safe form in the new number (a
    subject pronoun, "their" of a person of unknown sex) leaves it without a slot."""
    parsed, text = cap.parsed, cap.text
    concepts = parsed.concepts
    entity = concepts[i]
    table = _SINGULAR_PRONOUNS if not noun.plural else _PLURAL_PRONOUNS
    for w in cap.words:
        if w.start < entity.end or w.lower not in table:
            continue
        candidates = []
        for k in cap.entities:
            nk = cap.noun_of.get(k)
            if nk is None or concepts[k].end > w.start:
                continue
            if _compatible(concepts[nk], w.lower):
                candidates.append(k)
        if i not in candidates:
            continue
        subjects = [k for k in candidates if concepts[k].dep in _SUBJECT_DEPS or concepts[k].dep == "ROOT"]
        antecedent = subjects[0] if len(subjects) == 1 else (candidates[0] if len(candidates) == 1 else None)
        if antecedent is None:
            raise _NoSlot  # ambiguous
        if antecedent != i:
            continue
        new = _pronoun_form(cap, w, noun)
        if new is None:
            raise _NoSlot
        yield Change(w.start, w.end, fit_case(text, w.start, w.text, inflection.recase(w.text, new)), "pronoun")


def _pronoun_form(cap: _Caption, w: _Word, noun: Concept) -> str | None:
    low = w.lower
    if not noun.plural:
        if low == "her":  # possessive when it opens a noun phrase: "her bag" -> "their bag"
            return "their" if w.start in cap.entity_at else "them"
        return _SINGULAR_PRONOUNS[low]
    forms = _SINGULAR_FORMS.get(low)
    if forms is None:
        return None
    person = _person_gender(noun.lemma)
    gender = "n" if person is None else person
    return forms.get(gender)


# ------------------------------------------------------------------ the operator
def _siblings_say(parsed: ParsedCaption, found: Plan, index: CandidateIndex, group: Any) -> bool:
    """Whether another caption of the image may say what the edit would (the sibling-caption
    guard, for number): the new plural appears in one as written ("dogs"), or the new singular
    does (:meth:`iccc.ConceptBase.group_singulars`: "a dog", not the "dog" a sibling's "dogs"
    lists among its content words)."""
    if group is None:
        return False
    new = found.new_noun.strip().lower().rsplit(" ", 1)[-1]
    if found.to_plural:
        return new in index.base.group_words(group)
    return new in index.base.group_singulars(group)


#: Plans by caption object (see :meth:`Number._plans`); the older half goes at the limit.
_PLAN_MEMO: dict = {}
_PLAN_MEMO_LIMIT = 50_000

def _checked_table(value, name: str, allowed: str) -> tuple[tuple[str, float], ...]:
    items = value.items() if isinstance(value, Mapping) else value
    try:
        table = tuple((str(w), float(p)) for w, p in items)
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` must map words to weights, got {value!r}.") from None
    bad = [w for w, _ in table if w not in allowed.split("|")]
    if bad or not table:
        shown = ", ".join(repr(w) for w in allowed.split("|"))
        raise ValueError(f"`{name}` has unknown word(s) {bad or list(table)!r}; allowed: {shown}.")
    if any(not (p >= 0) for _, p in table) or not sum(p for _, p in table) > 0:
        raise ValueError(f"`{name}` weights must be >= 0 with a positive sum, got {value!r}.")
    return table


class Number(Operator):
    """Change the grammatical number of an entity and of what agrees with it: "a dog is" <->
    "two dogs are" (see the module docstring for what changes and when there is no slot).

    Args:
        kinds: only ``"entity"``.
        plural_counts: the new determiner of a plural made from "a"/"an" inside a sentence, with
            weights: "two", "three", "four", "several", "some", "many" or "" (a bare plural); from
            "one"/"a single" only the number words.
        opening_counts: the same for a plural that opens a sentence (a bare plural is never made there).
        singular_counts: the new determiner of a singular made from a count or bare plural:
            "a" (or "an") or "one", with weights.

    >>> import iccc, numpy as np
    >>> parsed = iccc.parse(["Two cats are sleeping on the grass."])[0]
    >>> record = Number()(parsed, iccc.ConceptBase(), rng=np.random.default_rng(0))
    >>> record.corrupted_caption, record.target
    ('A cat is sleeping on the grass.', '"A cat is" should be "Two cats are".')
    """

    name = "number"
    supported_kinds = ("entity",)
    settings = ("plural_counts", "singular_counts", "opening_counts")
    needs_base = False
    directions = ("plural", "singular")

    def __init__(self, kinds: Sequence[str] | None = None, *,
                 plural_counts: Mapping[str, float] | Sequence[tuple[str, float]] = PLURAL_COUNTS,
                 singular_counts: Mapping[str, float] | Sequence[tuple[str, float]] = SINGULAR_COUNTS,
                 opening_counts: Mapping[str, float] | Sequence[tuple[str, float]] = OPENING_COUNTS):
        super().__init__(kinds)
        self.plural_counts = _checked_table(plural_counts, "plural_counts", _PLURAL_WORDS)
        self.singular_counts = _checked_table(singular_counts, "singular_counts", "a|one")
        self.opening_counts = _checked_table(opening_counts, "opening_counts", _PLURAL_WORDS)

    def plan(self, parsed: ParsedCaption, i: int) -> Plan | None:
        """:func:`plan` with this operator's settings (computed once per caption object: slots,
        directions, options and the edit all read it)."""
        return self._plans(parsed).get(i)

    def _plans(self, parsed: ParsedCaption) -> dict[int, Plan]:
        """``{entity index: plan}`` of every entity with a slot (a pure function of the caption
        and the settings, remembered in a bounded module memo keyed by the caption object)."""
        key = (id(parsed), self.plural_counts, self.singular_counts, self.opening_counts)
        found = _PLAN_MEMO.get(key)
        if found is not None and found[0] is parsed:
            return found[1]
        if not isinstance(parsed, ParsedCaption):
            raise TypeError(f"`parsed` must be an iccc.ParsedCaption, got {type(parsed).__name__}: {parsed!r:.80}.")
        cap = _Caption(parsed)
        plans = {}
        for i in cap.entities:
            found_plan = plan(parsed, i, plural_counts=self.plural_counts, singular_counts=self.singular_counts,
                              opening_counts=self.opening_counts, caption=cap)
            if found_plan is not None:
                plans[i] = found_plan
        if len(_PLAN_MEMO) >= _PLAN_MEMO_LIMIT:
            evict_older_half(_PLAN_MEMO)
        _PLAN_MEMO[key] = (parsed, plans)  # keeps the caption alive, so its id is not reused meanwhile
        return plans

    def slots(self, parsed: ParsedCaption, index: CandidateIndex | None = None) -> list[Slot]:
        return [slot("entity", i) for i in self._plans(parsed)]

    def direction(self, parsed: ParsedCaption, slot: Slot) -> str | None:
        """``"plural"`` (the edit makes the entity plural) or ``"singular"``."""
        found = self.plan(parsed, slot.i)
        return None if found is None else ("plural" if found.to_plural else "singular")

    def direction_group(self, parsed: ParsedCaption, slot: Slot) -> str | None:
        """The noun's lemma: each noun is made plural about as often as singular."""
        found = self.plan(parsed, slot.i)
        return None if found is None else parsed.concepts[found.noun].lemma.lower()

    def siblings_allow(self, parsed: ParsedCaption, slot: Slot, index: CandidateIndex, group: Any) -> bool:
        """No edit to a number another caption of the image writes (:func:`_siblings_say`)."""
        found = self.plan(parsed, slot.i)
        return found is not None and not _siblings_say(parsed, found, index, group)

    def options(self, prepared: Prepared, slot: Slot, index: CandidateIndex, group: Any, weights) -> Options | None:
        found = self.plan(prepared.parsed, slot.i)
        if found is None or not self.siblings_allow(prepared.parsed, slot, index, group):
            return None
        w = np.array(found.weights, dtype=float)
        return Options(found.labels, w) if w.sum() > 0 else None

    def apply(self, parsed: ParsedCaption, slot: Slot, label) -> Corruption | None:
        found = self.plan(parsed, slot.i)
        if found is None:
            return None
        text = parsed.text
        changes = found.changes(text, label)
        corrupted, _spans = apply_changes(text, changes)
        if corrupted == text:
            return None
        start = min(c.start for c in changes)
        end = max(c.end for c in changes)
        new_end = end + len(corrupted) - len(text)
        return Corruption(
            caption=text, corrupted_caption=corrupted, operation=self.name, concept_kind="entity",
            original=text[start:end], replacement=corrupted[start:new_end], start=start, end=end,
            new_start=start, new_end=new_end,
        )
