"""Pass 1, repairs: the small model's part-of-speech and attachment slips on caption fragments.

:func:`repair_tags` rewrites a :class:`~._tokens.Tokens` in place (the ``Doc`` is never changed):

- a noun tagged as an adjective or verb in an argument slot ("on skateboard/JJ", "lamp near
  building/VBG"), at the start of a caption ("spoon/VB on the table") or after a determiner ("a
  can/MD");
- an "-ing" noun that is a verb ("a man skiing/NN down a hill", "adult giraffe grazing/NN on a
  tree");
- subject + verb that are one compound ("bathroom/nsubj sink/VBP", "a toilet lid" with two
  subjects); a noun "taking an object" ("glass windows/dobj");
- a caption-initial participle ("parked/VBD black car");
- a clause with two subjects, which is a relative clause without "that" ("the table the food is on");
- an adjective-ending word tagged as a noun ("stands motionless/NN");
- a colour in a noun slot, which is a quality, not a thing ("dressed in blue"): returned, for the
  attribute pass.
"""

from __future__ import annotations

from itertools import compress
from operator import not_

from .. import lexicon as lex
from ._tokens import NOMINAL_POS, Tokens

# Parts of speech the repairs never touch (checked first: most tokens are these).
_NEVER_REPAIRED_POS = frozenset("DET ADP PUNCT CCONJ SCONJ PRON PART NUM SPACE SYM INTJ X".split())
# Dependency labels under which an adjective/verb may be a misread noun (see _is_misread_noun).
_REPAIR_DEPS = frozenset(("pobj", "dobj", "ROOT", "conj", "pcomp", "nsubj"))
# Prepositions that place a thing, after which an adjective-tagged caption opener is a noun
# ("windscreen/JJ on the train"); not those an adjective takes ("close to", "full with").
_PLACING_PREPS = lex.STRANDED_PREPS - {"with", "to", "from", "toward", "towards", "by"}
_REPAIR_POS = frozenset(("ADJ", "ADV", "VERB", "AUX"))
_ARGUMENT_DEPS = frozenset(("pobj", "dobj"))
_GERUND_CLAUSE_DEPS = frozenset(("acl", "relcl", "advcl", "xcomp"))
# Dependency labels under which a bare noun-tagged adjective ("stands motionless/dobj") is predicative.
_PREDICATIVE_SLOT_DEPS = frozenset(("dobj", "attr", "oprd", "npadvmod"))
_BASE_VERB_TAGS = frozenset(("VB", "VBP", "VBZ", "MD"))
# Labels the parser gives the subject of a participle it read as a modifier ("a giraffe/npadvmod
# eating grass", "batter/amod holding bat").
_SUBJECT_SLOT_DEPS = frozenset(("npadvmod", "nmod", "compound", "amod", "dep", "nsubj"))
# Children that show a verb really is a verb (a subject, an object, an auxiliary, ...).
_FINITE_MARKS = lex.SUBJECT_DEPS | {"aux", "auxpass", "expl"}
_COMMAND_MARKS = lex.OBJECT_DEPS | {"expl", "aux", "neg", "ccomp"}
_CLAUSE_MARKS = lex.OBJECT_DEPS | {"aux", "auxpass", "neg", "xcomp", "ccomp"}


def repair_tags(t: Tokens) -> list[int]:
    """Fix part-of-speech and attachment slips of the parser on caption fragments, in ``t``.

    Returns the colour (or predicative material) tokens in noun slots, in order: qualities of a
    thing, not things ("a person dressed in blue", "the step is stone"). They are no longer
    nominal; the attribute pass gives them to their owner.

    >>> from spacy.tokens import Doc
    >>> from spacy.vocab import Vocab
    >>> t = Tokens(Doc(Vocab(), words=["spoon", "on", "table"], heads=[0, 0, 1],
    ...                deps=["ROOT", "prep", "pobj"], pos=["VERB", "ADP", "NOUN"],
    ...                tags=["VB", "IN", "NN"], lemmas=["spoon", "on", "table"]))
    >>> repair_tags(t), t.tag[0], t.nominal[0]
    ([], 'NN', True)
    """
    pos, tag, dep, lower, head, children = t.pos, t.tag, t.dep, t.lower, t.head, t.children
    n = t.n
    qualities: list[int] = []
    first_word = None
    for i, p in enumerate(pos):
        if p != "PUNCT" and p != "SPACE" and p != "DET":
            first_word = i
            break
    if "VBG" in tag:
        _colour_before_participle(t)
    if "TO" in tag:
        _infinitive_read_for_to(t)
    # the parts of speech the repairs never touch are most tokens: skip them at C level
    for i in compress(range(n), map(not_, map(_NEVER_REPAIRED_POS.__contains__, pos))):
        p = pos[i]
        d, tg = dep[i], tag[i]
        if (
            (p == "VERB" or p == "AUX")
            and len(children[i]) > 1
            and dep.count("nsubj") + dep.count("nsubjpass") > 1  # it needs two subjects
            and _reduced_relative(t, i)
        ):
            continue
        if d == "ROOT":
            if i == first_word and (tg == "VBN" or tg == "VBD") and _leading_participle(t, i):
                continue
            if tg == "VBN" and _had_participle(t, i):
                continue
            if (tg == "VBG" or tg == "NN") and _looks_like_gerund(lower[i]):
                subj = _gerund_subject(t, i)
                if subj is not None:
                    # "adult giraffe grazing/NN on a tree", "a spoon/compound laying on a
                    # table": the "-ing" word is the verb, the noun before it its subject.
                    _make_verb(t, i)
                    for c in list(children[i]):
                        if c < subj:
                            t.reattach(c, subj, dep[c])
                    t.reattach(subj, i, "nsubj")
                    continue
        if d == "amod" and tg == "VBG" and _subject_participle(t, i):
            continue
        if tg == "VBG" and p == "VERB" and children[i]:
            _object_read_as_adverbial(t, i)
        if d == "advmod" and (p == "ADV" or p == "ADJ") and _adjective_read_as_adverb(t, i):
            continue
        if p in _REPAIR_POS:
            if (d in _REPAIR_DEPS or tg == "MD") and _is_misread_noun(t, i, i == first_word):
                _make_noun(t, i)
                if d == "pcomp":
                    dep[i] = "pobj"  # "lamp by building/VBG/pcomp"
            elif (tg == "VBP" or tg == "VB") and _is_misread_compound(t, i):
                # "bathroom/nsubj sink/VBP on wall": a singular noun cannot be the subject of
                # a plural-agreement verb; the two are one compound noun.
                _make_noun(t, i)
                dep[i - 1] = "compound"
            elif i == first_word and tg == "VBG" and _is_gerund_compound(t, i):
                # "cutting/VBG board/dobj on the counter" -> the noun "cutting board"
                _into_compound(t, i)
                t.verbal[i] = False
            elif _is_misread_compound_head(t, i):
                # "fire hydrant/RB", "garbage can/MD in a cage": a noun read as an adverb or a
                # modal after the noun it is the head of
                _make_noun(t, i)
                _onto_compound(t, i)
        elif p in NOMINAL_POS:
            if tg == "NN" and not children[i] and _adjective_form(lower[i]):
                # "stands motionless/NN", "is shirtless/NN": an adjective, not a thing
                t.nominal[i] = False
                pos[i], tag[i] = "ADJ", "JJ"
                if d in _PREDICATIVE_SLOT_DEPS:
                    dep[i] = "acomp"
            elif (
                tg == "NN"
                and d in _GERUND_CLAUSE_DEPS
                and _looks_like_gerund(lower[i])
                and not t.has_child(i, ("det", "poss", "amod"))
            ):
                _make_verb(t, i)  # "a man in a red shirt skiing/NN down a hill"
            elif i + 1 < n and head[i + 1] == i and t.nominal[i + 1] and (
                dep[i + 1] == "dobj" or (dep[i + 1] == "amod" and tag[i + 1] in ("NN", "NNS"))
            ):
                # nouns take no objects ("glass windows/dobj"), and a noun right after a noun
                # is its head, not its adjective ("a red fire hydrant/amod->fire")
                _into_compound(t, i)
        if lower[i] in lex.NOUN_ATTRIBUTES and _is_bare_quality(t, i, qualities):
            # "a person dressed in blue", "the step is stone": a colour (or a predicative
            # material) names a quality of the thing, not a thing.
            t.nominal[i] = False
            qualities.append(i)
    _noun_subject_of_preposition(t)
    _compound_relative(t, first_word)
    return qualities


# ---------------------------------------------------------------------- word shapes
def _looks_like_gerund(lower: str) -> bool:
    """An "-ing" word that is not a known "-ing" noun ("building", "ceiling", "ring")."""
    return len(lower) > 5 and lower.endswith("ing") and lower not in lex.ING_NOUNS


def _noun_like_adverb(lower: str) -> bool:
    """A word tagged as an adverb that may be a misread noun ("surfboard", "hydrant"): not a
    known adverb, not an "-ly" word."""
    return (
        len(lower) > 3
        and lower.isalpha()
        and not lower.endswith("ly")
        and lower not in lex.NOT_NOUNS
        and lower not in lex.DIRECTIONAL_ADVERBS
        and lower not in lex.TRUE_ADVERBS
    )


def _noun_like_adjective(lower: str) -> bool:
    """A word tagged as an adjective that may be a misread noun ("windscreen", "urinal"): no
    adjective ending, no predicative adjective ("asleep", "ready"), no colour."""
    return (
        len(lower) > 2
        and lower.isalpha()
        and not lower.endswith(lex.ADJECTIVE_SUFFIXES)
        and lower not in lex.PREDICATIVE_ADJECTIVES
        and lower not in lex.NOUN_ATTRIBUTES
        and lower not in lex.NOT_NOUNS
        and lower not in lex.TRUE_ADVERBS
    )


def _adjective_form(lower: str) -> bool:
    """A word with an adjective ending ("motionless", "unconscious"); see ``ADJECTIVE_ENDINGS``."""
    return len(lower) > 6 and lower.isalpha() and lower.endswith(lex.ADJECTIVE_ENDINGS)


def gerund_lemma(word: str) -> str:
    """Verb lemma of an "-ing" form the tagger called a noun (its lemma is then the word itself).

    >>> [gerund_lemma(w) for w in ("playing", "sitting", "hiking", "riding", "table")]
    ['play', 'sit', 'hike', 'ride', 'table']
    """
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


# ---------------------------------------------------------------------- what is misread
def _is_misread_noun(t: Tokens, i: int, first_word: bool) -> bool:
    low, tag, dep = t.lower[i], t.tag[i], t.dep[i]
    if not low.isalpha() or low in lex.NOT_NOUNS:
        return False
    determined = t.has_child(i, ("det", "poss"))
    if tag == "MD":
        return determined or t.has_child(i, ("amod", "compound"))  # "a can", "trash can"
    if t.has_child(i, lex.SUBJECT_DEPS):
        return False
    if dep == "pcomp":
        # "lamp by building/VBG": a known "-ing" noun as the object of a preposition
        return tag == "VBG" and low in lex.ING_NOUNS and not t.has_child(i, lex.OBJECT_DEPS)
    if dep in _ARGUMENT_DEPS:
        if t.pos[i] in ("ADJ", "ADV"):
            return not t.has_child(i, ("advmod", "npadvmod", "prep"))
        if tag in _BASE_VERB_TAGS:
            return not t.has_child(i, lex.OBJECT_DEPS)
        if determined or t.has_child(i, ("amod", "compound")):
            return True  # "the building"
        # a bare "-ing" object of a spatial preposition: "lamp near building/VBG"
        h = t.head[i]
        return (
            tag == "VBG"
            and dep == "pobj"
            and t.lower[h] not in lex.GERUND_PREPS
            and all(t.dep[c] in ("det", "amod", "compound", "poss") for c in t.children[i])
        )
    if dep == "ROOT" and tag in ("VB", "VBP", "VBZ") and first_word:
        # Captions describe, they do not command: a caption-initial base-form "verb" with
        # no subject and no object is a noun ("spoon on the table", "oranges/VBZ in a bowl").
        return not t.has_child(i, _COMMAND_MARKS)
    if dep == "ROOT" and tag in ("VBN", "VBD") and t.pos[i] == "VERB":
        # "a small moped/VBN parked on the sidewalk": a participle takes no article
        return any(t.dep[c] == "det" and t.lower[c] in ("a", "an", "the") for c in t.children[i]) and (
            not t.has_child(i, lex.OBJECT_DEPS | {"aux", "auxpass"})
        )
    if dep == "ROOT" and tag in ("VB", "VBP", "VBG") and t.pos[i] == "VERB":
        # "a railing on top", "white railing on top of a train"
        adjectival = any(
            t.dep[c] == "amod" and (t.pos[c] == "ADJ" or t.lower[c] in lex.NOUN_ATTRIBUTES)
            for c in t.children[i]
        )
        # "building/VBG across from water": a known "-ing" noun opening the caption
        known = tag == "VBG" and first_word and low in lex.ING_NOUNS
        return (determined or adjectival or known) and not t.has_child(i, lex.OBJECT_DEPS)
    if dep == "ROOT" and tag == "RB" and t.pos[i] == "ADV" and _noun_like_adverb(low):
        # "blue surfboard/RB on the water", "surfboard/RB in the sand"
        return (
            determined
            or t.has_child(i, ("amod", "compound"))
            or first_word and t.has_child(i, ("prep",)) and not t.has_child(i, ("advmod", "npadvmod"))
        )
    if dep == "nsubj" and tag == "RB" and _noun_like_adverb(low):
        return all(t.dep[c] == "det" for c in t.children[i])  # "skateboard/RB has red wheels"
    if tag == "JJ" and (dep == "ROOT" and first_word or dep == "nsubj") and _noun_like_adjective(low):
        # "windscreen/JJ on the train", "human/JJ behind counter": a caption opens with a thing,
        # placed by a preposition; "urinal/JJ/nsubj is against the wall": an adjective is no subject
        kids = t.children[i]
        if dep == "nsubj":
            return all(t.dep[c] == "det" for c in kids)
        preps = [c for c in kids if t.dep[c] == "prep"]
        return (
            bool(preps)
            and all(t.dep[c] in ("prep", "det", "punct") for c in kids)
            and all(t.lower[c] in _PLACING_PREPS and t.has_child(c, ("pobj",)) for c in preps)
        )
    if dep == "conj" and tag in ("VB", "VBP") and t.nominal[t.head[i]]:
        return not t.has_child(i, lex.OBJECT_DEPS)  # "a knife and fork/VB"
    return False


def _is_misread_compound(t: Tokens, i: int) -> bool:
    if t.tag[i] not in ("VBP", "VB") or t.pos[i] != "VERB" or i == 0:
        return False
    j = i - 1
    # "bathroom/compound mirror/VBP hanging/xcomp on wall": the clause is the participle's
    marks = _CLAUSE_MARKS - {"xcomp"} if all(t.tag[c] == "VBG" for c in t.children[i] if t.dep[c] == "xcomp") else _CLAUSE_MARKS
    return (
        t.dep[j] in ("nsubj", "compound")
        and t.head[j] == i
        and t.tag[j] in ("NN", "NNP")
        and not t.has_child(i, marks)
    )


def _is_misread_compound_head(t: Tokens, i: int) -> bool:
    """Whether leaf ``i``, tagged as an adverb or a modal, is the head noun of a compound with the
    noun before it: "fire hydrant/RB", "trash can/MD"."""
    j = i - 1
    if j < 0 or not t.nominal[j] or not t.space[j] or t.lower[j] in lex.NOUN_ATTRIBUTES:
        return False
    if any(c < i for c in t.children[i]) or t.children[i] and t.tag[i] != "RB":
        return False
    # "the fire hydrant/RB beside/->hydrant the stork", "a fire hydrant/RB->next next/->fire to a
    # road": what follows may hang on either
    if t.dep[j] == "poss" or any(
        c > j and c != i and t.head[i] != c and t.pos[c] != "PUNCT" for c in t.children[j]
    ):
        return False
    low = t.lower[i]
    if t.tag[i] == "MD":
        # a modal of a real verb stays one ("the dog can jump")
        return low == "can" and (t.lower[j] in lex.CAN_COMPOUNDS or not t.verbal[t.head[i]])
    return (
        t.tag[i] == "RB"
        and t.pos[i] == "ADV"
        and t.dep[i] in ("advmod", "appos", "npadvmod")
        and _noun_like_adverb(low)
    )


def _is_gerund_compound(t: Tokens, i: int) -> bool:
    j = i + 1
    return (
        t.lower[i] in lex.GERUND_MODIFIERS
        and t.tag[i] == "VBG"
        and j < t.n
        and t.head[j] == i
        and t.dep[j] == "dobj"
        and t.pos[j] == "NOUN"
        and not t.has_child(i, lex.SUBJECT_DEPS)
    )


def _gerund_subject(t: Tokens, i: int):
    """The noun directly before root "-ing" noun ``i`` that is really its subject, if any."""
    j = i - 1
    if (
        j < 0
        or t.head[j] != i
        or t.dep[j] not in ("compound", "amod", "nmod")
        or not t.nominal[j]
        or t.lower[j] in lex.NOUN_ATTRIBUTES
        or not any(t.dep[c] == "prep" and c > i for c in t.children[i])
    ):
        return None
    return j


def _is_bare_quality(t: Tokens, i: int, qualities: list[int]) -> bool:
    d = t.dep[i]
    if d not in ("attr", "pobj", "dobj", "conj") or t.has_child(i, ("det", "poss", "compound", "prep")):
        return False
    if d == "conj":
        return bool(qualities) and t.head[i] == qualities[-1]
    if d == "attr":
        return t.lemma[t.head[i]] == "be"
    return t.lower[i] in lex.COLOUR_WORDS and (d == "dobj" or t.lower[t.head[i]] not in ("of",))


# ---------------------------------------------------------------------- restructuring
def _reduced_relative(t: Tokens, v: int) -> bool:
    """A clause has one subject; when the parser gives it two ("the table the food is on",
    "black camera the hand is holding"), the first is the noun a relative clause without "that"
    modifies: makes ``v`` a relative clause of that noun. Two adjacent subjects ("a toilet lid
    is closed") are one compound noun."""
    subjects = [c for c in t.children[v] if c < v and t.dep[c] in ("nsubj", "nsubjpass")]
    if len(subjects) < 2 or not t.nominal[subjects[0]] or t.has_child(v, ("dobj",)):
        return False
    noun = subjects[0]
    if t.has_prep_object(v):
        return False  # "a drawing, people pulled into a station": not a relative clause
    if subjects[1] == noun + 1:
        if t.nominal[noun + 1]:
            t.reattach(noun, noun + 1, "compound")  # "a toilet/nsubj lid/nsubj is closed"
            for c in list(t.children[noun]):
                t.reattach(c, noun + 1, t.dep[c])
        return False
    t.reattach(noun, t.head[v] if t.head[v] != v else noun, t.dep[v])
    for c in list(t.children[v]):
        if c < noun:
            t.reattach(c, noun, t.dep[c])
    t.reattach(v, noun, "relcl")
    return True


def _subject_participle(t: Tokens, v: int) -> bool:
    """A noun, an "-ing" participle and a noun, read by the parser as one noun phrase ("a
    giraffe/npadvmod eating/amod grass", "batter/amod holding/amod bat", "tennis player/compound
    swinging/amod racket"), are a subject, its verb and its object: makes ``v`` a clause of the
    first noun with the second as its object. Not for "-ing" words that name a kind ("cutting
    board", "swimming pool") or a colour or material before them ("metal folding chair"). The
    first noun may be the root the second hangs on ("zebra/ROOT eating/amod grass/appos") or the
    object of a preposition ("near bowl/pobj holding/amod pastry")."""
    n2 = t.head[v]
    s = v - 1
    if n2 <= v or s < 0 or not t.nominal[n2] or not t.nominal[s] or not t.space[s]:
        return False
    rooted = (  # the first noun keeps its place: a root, or the object of a preposition
        t.head[s] == s and t.head[n2] == s and t.dep[n2] in ("appos", "dep", "npadvmod", "conj")
        or t.dep[s] == "pobj" and not t.children[s] and t.dep[n2] in ("dobj", "pobj", "appos", "conj", "npadvmod")
    )
    low = t.lower[v]
    if (
        low in lex.GERUND_MODIFIERS
        or low in lex.LINKING_PARTICIPLES
        or low in lex.ING_NOUNS
        or low + " " + t.lower[v + 1] in lex.FIXED_COMPOUNDS
        or t.lower[s] in lex.NOUN_ATTRIBUTES
        or not rooted and (t.head[s] not in (v, n2) or t.dep[s] not in _SUBJECT_SLOT_DEPS)
        or t.dep[s] == "compound" and t.head[s] == v  # "baseball batting helmet"
        or any(t.head[k] != n2 or t.pos[k] not in ("DET", "ADJ", "NUM") for k in range(v + 1, n2))
        or t.children[v] and any(c > v for c in t.children[v])
    ):
        return False
    if not rooted:
        t.reattach(s, t.head[n2] if t.head[n2] != n2 else s, t.dep[n2])
    for c in list(t.children[n2]):
        if c < s:
            t.reattach(c, s, t.dep[c])  # "a" of "a giraffe eating grass", hung on the last noun
    for c in list(t.children[v]):
        if c < s:
            t.reattach(c, s, t.dep[c])
    t.reattach(v, s, "acl")
    t.reattach(n2, v, "dobj")
    return True


def _had_participle(t: Tokens, v: int) -> bool:
    """ "has/aux rounded/VBN windows": a participle right before a bare object of "have" is an
    adjective of the object, not a perfect tense ("the church has rounded windows", "the boy has
    cut brown hair"); makes "have" the verb and ``v`` a modifier of the object. A determined
    object keeps the perfect tense ("the man has opened the door")."""
    a = v - 1
    objects = [c for c in t.children[v] if c > v and t.dep[c] == "dobj" and t.nominal[c]]
    if (
        a < 0
        or t.lemma[a] != "have"
        or t.dep[a] != "aux"
        or t.head[a] != v
        or len(objects) != 1
        or t.has_child(v, ("auxpass", "neg"))
    ):
        return False
    n = objects[0]
    if any(t.head[k] != n or t.pos[k] not in ("ADJ", "NUM") and t.dep[k] != "compound" for k in range(v + 1, n)):
        return False
    if t.has_child(n, ("det", "poss")):
        return False
    t.reattach(a, a, "ROOT")
    for c in list(t.children[v]):
        if c != a:
            t.reattach(c, a, t.dep[c])
    t.reattach(v, n, "amod")
    t.pos[a], t.tag[a] = "VERB", t.tag[a]
    t.verbal[a] = True
    t.verbal[v] = False
    return True


def _adjective_read_as_adverb(t: Tokens, i: int) -> bool:
    """ "pretty/advmod bird", "long/RB beard", "dead/advmod fallen tree": an adverb does not
    modify a noun, and an adjective hung on another adjective of a noun is stacked on it. Makes
    leaf ``i`` an adjectival modifier (of the noun, or stacked on the adjective)."""
    h = t.head[i]
    low = t.lower[i]
    if (
        h <= i
        or t.children[i]
        or not low.isalpha()
        or low in lex.TRUE_ADVERBS
        or low in lex.DIRECTIONAL_ADVERBS
        or low in lex.NOT_NOUNS
        or low in lex.DEGREE_ADJECTIVES
        or low in lex.ATTRIBUTE_STOP
        or any(t.pos[k] not in ("ADJ", "NOUN", "PROPN", "PUNCT") for k in range(i + 1, h))
    ):
        return False
    if t.nominal[h]:
        if t.pos[i] == "ADV" and low.endswith("ly") and low not in lex.LY_ADJECTIVES:
            return False  # "mostly/advmod sand"
    elif not (t.pos[i] == "ADJ" and t.pos[h] == "ADJ" and t.dep[h] == "amod" and t.nominal[t.head[h]]):
        return False
    t.dep[i] = "amod"
    t.pos[i], t.tag[i] = "ADJ", "JJ"
    return True


def _object_read_as_adverbial(t: Tokens, v: int) -> None:
    """ "holding large donut/npadvmod": a bare noun phrase right after a transitive "-ing" verb
    is its object, not an adverbial (unless it names a way or a time: "walking this way"); so is
    a noun-like "adverb" right after it ("riding skateboard/RB")."""
    if t.lemma[v] in lex.INTRANSITIVE_VERBS or t.has_child(v, ("dobj",)):
        return
    c = v + 1
    if (
        c < t.n
        and t.head[c] == v
        and t.dep[c] == "advmod"
        and t.tag[c] == "RB"
        and not t.children[c]
        and _noun_like_adverb(t.lower[c])
    ):
        _make_noun(t, c)  # "man riding skateboard/RB/advmod": the object, read as an adverb
        t.dep[c] = "dobj"
        return
    for c in t.children[v]:
        if c > v and t.dep[c] == "npadvmod" and t.nominal[c]:
            if t.lemma[c] in lex.ADVERBIAL_NOUNS or t.lower[c] in lex.NOT_NOUNS:
                return
            if all(t.head[k] == c and t.pos[k] in ("DET", "ADJ", "NUM", "NOUN", "PROPN") for k in range(v + 1, c)):
                t.dep[c] = "dobj"
            return


def _leading_participle(t: Tokens, v: int) -> bool:
    """A caption-initial participle with an object and no subject modifies that object
    ("parked/VBD black car beside a building"): makes ``v`` an adjectival modifier of it."""
    objects = [c for c in t.children[v] if t.dep[c] == "dobj" and t.nominal[c]]
    if (
        len(objects) != 1
        or t.has_child(v, _FINITE_MARKS)
        or any(
            t.pos[k] not in ("DET", "ADJ", "NUM") and t.dep[k] not in ("amod", "compound")
            for k in range(v + 1, objects[0])
        )
    ):
        return False
    n = objects[0]
    t.reattach(n, n, "ROOT")
    for c in list(t.children[v]):
        t.reattach(c, n, t.dep[c])
    t.reattach(v, n, "amod")
    t.verbal[v] = False
    t.tag[v] = "VBN"
    return True


def _noun_subject_of_preposition(t: Tokens) -> None:
    """A preposition read as the root with a noun subject ("garbage can/nsubj in/ROOT a cage")
    is that noun's modifier: makes the noun the root and the preposition its ``prep``."""
    for r in range(t.n):
        if t.head[r] == r and t.pos[r] == "ADP" and t.dep[r] == "ROOT":
            break
    else:
        return
    subjects = [c for c in t.children[r] if c < r and t.dep[c] == "nsubj" and t.nominal[c]]
    if len(subjects) != 1 or not t.has_child(r, ("pobj",)):
        return
    s = subjects[0]
    t.reattach(s, s, "ROOT")
    for c in list(t.children[r]):
        if c != s and t.dep[c] != "pobj":
            t.reattach(c, s, t.dep[c])
    t.reattach(r, s, "prep")


def _compound_relative(t: Tokens, first_word) -> None:
    """ "coat/compound man is wearing", "street/compound people walk on", "path/npadvmod the horse
    is on": a caption that opens with a noun, then a clause whose verb ends it with a stranded
    preposition (or a wearing or holding verb without an object) is a relative clause without
    "that" of that noun; the parser read the two nouns as one compound, or the first as an
    adverbial of the clause. Makes the first noun the root and the clause its ``relcl``."""
    a = first_word
    while a is not None and a + 2 < t.n and not t.nominal[a] and (t.pos[a] in ("ADJ", "NUM") or t.dep[a] == "amod") and t.head[a] > a:
        a += 1  # "striped couch man is sitting on", "blue pillow the dog is on"
    if a is None or a + 2 >= t.n or not t.nominal[a] or t.lower[a] in lex.NOUN_ATTRIBUTES:
        return
    b = a + 1
    if t.dep[a] == "compound":
        v = t.head[b]
        if t.head[a] != b or t.dep[b] != "nsubj" or not t.nominal[b]:
            return
        if t.lower[a] + " " + t.lower[b] in lex.FIXED_COMPOUNDS:
            return
    elif t.dep[a] in ("npadvmod", "dep", "nmod"):
        # "path/npadvmod the horse/nsubj is on": the clause has a subject of its own
        v = t.head[a]
        if not any(c > a and t.dep[c] == "nsubj" and t.nominal[c] for c in t.children[v]):
            return
    else:
        return
    if t.head[v] != v or not (t.verbal[v] or t.lemma[v] == "be" and t.dep[a] != "compound"):
        return  # "the toilet/compound seat is on": a compound subject and its state
    last = t.n - 1
    while last > v and t.pos[last] == "PUNCT":
        last -= 1
    if t.has_child(v, ("dobj", "ccomp", "xcomp")) or t.has_prep_object(v):
        return
    if last > v:
        if t.head[last] != v or t.children[last] or t.lower[last] not in lex.STRANDED_PREPS:
            return
        if t.dep[last] == "advmod":
            t.dep[last] = "prep"  # "sky airplane is flying through/advmod"
    elif t.lemma[v] not in lex.HELD_VERBS:
        return
    t.reattach(a, a, "ROOT")
    for c in list(t.children[v]) + list(t.children[b]):
        if t.pos[c] == "PUNCT" or c < a:
            t.reattach(c, a, t.dep[c])  # "striped/amod->man couch man": the modifiers before it
    t.reattach(v, a, "relcl")


def _colour_before_participle(t: Tokens) -> None:
    """ "a man in black/amod holding/amod child/pobj": a colour right after "in", then a participle
    and a noun, read as one noun phrase, are the colour the person is in (a quality), and a
    clause of that person with the noun as object. Makes the colour the object of "in" and the
    participle a clause of the noun before "in"."""
    dep, head, tag, lower = t.dep, t.head, t.tag, t.lower
    for v in range(2, t.n - 1):
        if tag[v] != "VBG" or dep[v] != "amod":
            continue
        c, p, n2 = v - 1, v - 2, head[v]
        g = head[p]
        if (
            lower[c] not in lex.COLOUR_WORDS
            or head[c] not in (n2, v)
            or n2 <= v
            or head[n2] != p
            or dep[n2] != "pobj"
            or lower[p] not in lex.CARRIER_PREPS
            or g == p
            or not t.nominal[g]
            or any(k != c for k in t.children[v])
            or any(head[k] != n2 or t.pos[k] not in ("DET", "ADJ", "NUM") for k in range(v + 1, n2))
            or lower[v] in lex.GERUND_MODIFIERS
            or lower[v] in lex.ING_NOUNS
        ):
            continue
        t.reattach(n2, v, "dobj")
        t.reattach(c, p, "pobj")
        t.reattach(v, g, "acl")
        t.verbal[v] = True
        t.pos[v] = "VERB"


def _infinitive_read_for_to(t: Tokens) -> None:
    """ "a bush next to/aux grey/VB pole/dobj": after "next"/"close", "to" is a preposition, and
    the "verb" after it with an object is a modifier of that object (a colour or a compound
    noun). Makes the noun the object of "to"."""
    dep, head, tag, lower = t.dep, t.head, t.tag, t.lower
    for i in range(1, t.n - 1):
        if tag[i] != "TO" or dep[i] != "aux" or (lower[i - 1], "to") not in lex.TWO_WORD_PREPS:
            continue
        v = i + 1
        if head[i] != v or tag[v] not in ("VB", "VBP") or t.has_child(v, _FINITE_MARKS - {"aux"}):
            continue
        if lower[v] in lex.RECIPROCALS and not any(c != i for c in t.children[v]):
            # "standing next to/aux eachother/VB": the reciprocal is the object of "to"
            t.reattach(i, i - 1, "prep")
            t.pos[i], tag[i] = "ADP", "IN"
            t.reattach(v, i, "pobj")
            t.pos[v], tag[v] = "PRON", "PRP"
            t.verbal[v] = False
            continue
        objects = [c for c in t.children[v] if c > v and dep[c] == "dobj" and t.nominal[c]]
        if not objects and all(c == i for c in t.children[v]) and lower[v].isalpha() and lower[v] not in lex.NOT_NOUNS:
            # "pole next to/aux sign/VB": the "verb" is the noun after the preposition
            t.reattach(i, i - 1, "prep")
            t.pos[i], tag[i] = "ADP", "IN"
            if head[i - 1] == v:
                t.reattach(i - 1, head[v] if head[v] != v else i - 1, dep[v] if head[v] != v else "ROOT")
            t.reattach(v, i, "pobj")
            _make_noun(t, v)
            t.pos[v] = "NOUN"
            continue
        if len(objects) != 1 or any(c < i for c in t.children[v]):
            continue
        n = objects[0]
        g = head[v]
        t.reattach(n, i, "pobj")
        t.reattach(i, i - 1, "prep")
        t.pos[i], tag[i] = "ADP", "IN"
        if head[i - 1] == v:
            t.reattach(i - 1, g if g != v else i - 1, dep[v] if g != v else "ROOT")
        for c in list(t.children[v]):
            t.reattach(c, n, dep[c])
        t.verbal[v] = False
        if lower[v] in lex.NOUN_ATTRIBUTES or lower[v] in lex.COLOUR_WORDS:
            t.pos[v], tag[v] = "ADJ", "JJ"
            t.reattach(v, n, "amod")
        else:
            t.pos[v], tag[v] = "NOUN", "NN"
            t.nominal[v] = True
            t.lemma[v] = lower[v]
            t.reattach(v, n, "compound")


def _onto_compound(t: Tokens, i: int) -> None:
    """Make the token before ``i`` a compound of ``i``, which takes over its place."""
    j = i - 1
    t.reattach(i, t.head[j] if t.head[j] != j else i, t.dep[j])
    for c in list(t.children[j]):
        t.reattach(c, i, t.dep[c])
    t.reattach(j, i, "compound")


def _into_compound(t: Tokens, i: int) -> None:
    """Make token ``i`` a compound of the token after it, which takes over its place."""
    j = i + 1
    t.reattach(j, t.head[i] if t.head[i] != i else j, t.dep[i])
    for c in list(t.children[i]):
        if c != j:
            t.reattach(c, j, t.dep[c])
    t.reattach(i, j, "compound")


def _make_verb(t: Tokens, i: int) -> None:
    if not t.verbal[i]:
        t.lemma[i] = gerund_lemma(t.lower[i])
    t.nominal[i] = False
    t.verbal[i] = True
    t.tag[i] = "VBG"


def _make_noun(t: Tokens, i: int) -> None:
    plural = t.tag[i] == "VBZ"
    t.nominal[i] = True
    t.verbal[i] = False
    t.tag[i] = "NNS" if plural else "NN"
    if not plural:  # the verb lemma of "drops/VBZ" is the noun lemma; that of "building" is not
        t.lemma[i] = lex.LEMMA_FIXES.get(t.lower[i], t.lower[i])
