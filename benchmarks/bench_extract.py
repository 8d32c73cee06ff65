"""Concept extraction accuracy against FACTUAL gold scene graphs, with an error analysis.

FACTUAL (Li et al. 2023) annotates Visual Genome region captions with scene graphs:
``( stove , is , white ) , ( stove , in , kitchen )``. We parse each caption with the default
pipeline (``iccc.load_parser()``), run ``iccc.parsing.extract`` and compare our concepts with the
gold graph.

Usage::

    python benchmarks/bench_extract.py             # full dev split (1,000 captions) -> results/extract.json
    python benchmarks/bench_extract.py --quick     # first 200 dev captions (CI) -> results/extract_quick.json
    python benchmarks/bench_extract.py --split train --limit 4000 --show 10   # tune on TRAIN, never on dev

Rules are tuned while looking at the train split only; numbers are reported on dev.

Matching (per caption, then micro-averaged over the split)
----------------------------------------------------------
Noun key, ``key(x)``: lower-cased words joined by one space, the last word (the head) reduced to
its noun lemma: ``LEMMA_FIXES`` of ``iccc/parsing/lexicon.py`` first ("glasses", "pants" stay),
else the shortest WordNet base form (NLTK ``morphy``, data from ``../shared/data/nltk_data``) or the
spaCy rule lemmatiser's guess ("leaves" -> "leaf", "teeth" -> "tooth", "bus" stays "bus"). The same
function is applied to gold names and to our noun concepts' ``lemma``; it is idempotent, so a
lemmatiser slip of ours ("kites" -> "kit") still counts as an error.

* **objects**: the set of keys of all gold objects (relation arguments, attribute holders, bare
  ``( object )`` tuples) against the set of keys of our ``noun`` concepts (compounds kept:
  "fire hydrant").
* **attributes**: gold ``( object , is , value )`` pairs ``(key(object), value)`` against our
  ``attribute`` and ``count`` concepts, each paired with the key of the noun it belongs to (its
  ``head`` link). A value matches our attribute's lemma or its lower-cased text ("larger" matches
  our "larger"/"large"). Counts are compared as digits: FACTUAL writes ``( boats , is , 5 )``, our
  count "five" becomes "5" (a count phrase also matches its last word: "a single" ~ "single").
* **relations**: gold ``( subject , predicate , object )`` triples (predicate not ``is``) against our
  ``relation`` concepts as ``(key(subject's noun), lemma, key(object's noun))``. Arguments must
  match exactly (by key); articles inside predicates are dropped on both sides. Coordination
  relations ("and"/"or") are not scored (FACTUAL has no such predicate); instead they are
  *expanded* as FACTUAL does: a relation whose subject or object is coordinated with other entities
  also holds for each of them ("trees and bushes growing on a lawn" gives two triples).
  Matching is one-to-one and greedy, exact triples first.

Lenient predicate matching. ``relations_strict`` counts only identical predicates; the
``relation_matches`` table in the JSON counts each kind of lenient match:

1. ``prep``: one predicate is the other without its leading verb -- the shorter is a word suffix
   of the longer and starts with a preposition ("sit on" ~ "on", "stand next to" ~ "next to") --
   or the other plus one trailing preposition ("ride" ~ "ride on"). Never "sit on" ~ "lay on".
2. ``style``, FACTUAL's spelling of the same predicate: synonymous prepositions unified ("beneath",
   "underneath", "below" -> "under"; "inside", "within" -> "in"; "atop" -> "on top of"); a particle before a preposition
   dropped ("sit down on" ~ "sit on", "come out from" ~ "come from"); the preposition in front of a relational noun ignored ("in
   the middle of" ~ "on middle of", "to the left of" ~ "at the left of"); and these equivalents:
   "lie" ~ "lay" (FACTUAL writes "lay on" for "lying on"), "with" ~ "have"/"wear", "in" ~ "wear",
   "dress in" ~ "wear" (FACTUAL turns "man with glasses" into ``( man , have , glasses )`` and "man
   in a red shirt" into ``( man , wear , shirt )``).
3. ``passive``: a passive participle + "by" is scored active with the arguments swapped, as FACTUAL
   writes it ("cliff surrounded by water" -> ``( water , surround , cliff )``; also "covered
   in/with"); the triple as written matches too, since "by" may be a place ("parked by the road").

Derived relations (FACTUAL's ``have`` style). They are computed here from our concepts and the
caption text -- the extractor does not produce them, they would be junk spans to corrupt -- and
are scored as predictions like any other (false positives included):

* "X of Y" (entity X, "of", entity Y) gives ``( Y , have , X )``: "front tire of a bicycle" ->
  ``( bicycle , have , front tire )``; for a container X ("a glass of wine") ``( Y , in , X )``
  ("on" for plates and trays), which FACTUAL also writes ``( X , have , Y )`` (the glass has
  wine): either triple matches, as for passives.
* possessives (an entity nested at the start of another, then "'s"/"'") give ``( owner , have ,
  thing )``: "a man's white shoe" -> ``( man , have , shoe )``.

Alignment with the gold segmentation. FACTUAL splits some compounds that we keep whole. Before
scoring, a noun of ours "A B" whose key is not a gold object is re-segmented the gold way when the
gold graph shows that analysis: ``( A , have , B )`` ("clock face", "tree branch") gives objects A
and B plus that relation; ``( B , is , A )`` ("baby elephants") gives object B plus that
attribute; ``( A , is , B )`` ("ham pieces") gives object A plus that attribute; any other gold
relation between A and B ("bathroom sink": ``( sink , in , bathroom )``, "train station":
``( station , for , train )``) gives objects A and B but *not* that relation, which stays a miss
(its predicate is gold's, not ours); and "A B" spelled "AB" in gold ("surf board", "side walk")
takes the gold spelling. Only the segmentation comes from gold, the words are ours;
``compounds_aligned_to_gold_style`` counts these.

Macro F1 is the mean of the object, attribute and (lenient) relation F1.

Error analysis: every false negative and false positive is put in one category (the first rule of
``classify_*`` that applies), counted, and a few examples are kept.

Speed: spaCy's parse (``nlp.pipe``, batches of 256) and ``extract`` over the parsed docs are timed
in CPU time of this process, alternating per batch, best of 3 each; ``extract_pct_of_parse`` is
their ratio.
"""

from __future__ import annotations

import argparse
import csv
import datetime as _dt
import gzip
import json
import os
import platform
import re
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "factual" / "factual_sg" / "random"
RESULTS = ROOT / "benchmarks" / "results"

_TUPLE = re.compile(r"\(([^()]*)\)")
_ARTICLES = frozenset(("the", "a", "an"))
# Words a predicate's prepositional part may start with ("sit on top of" -> "on top of").
_PREP_START = frozenset(
    """on in at by near next under over above below behind beside besides between among inside
    outside into onto through across along alongside around against from to with without off
    out up down toward towards beneath underneath atop past beyond within upon for of close
    in front adjacent away""".split()
)
# FACTUAL annotation-style equivalents: our predicate -> gold predicates it may stand for.
_EQUIVALENT_PREDICATES = {
    "lie": {"lay"},
    "with": {"have", "wear"},
    "in": {"wear"},
    "dress in": {"wear"},
}
# "a glass of wine" is ( wine , in , glass ), not ( glass , have , wine ): "X of Y" with a
# container X gives "in" (or "on" for flat ones) instead of "have".
_CONTAINERS = {
    **dict.fromkeys(
        """glass cup bowl bottle jar mug box bag basket bucket pot can carton pitcher vase tub crate
        container pan jug bin barrel""".split(),
        "in",
    ),
    **dict.fromkeys("plate tray platter dish".split(), "on"),
}
# Particles dropped before a preposition ("sit down on" ~ "sit on", "come out from" ~ "come from").
_PARTICLES = frozenset("down up out off over away back around".split())
# Synonymous prepositions FACTUAL writes one way ("beneath the sign" -> "under").
_PREPOSITION_SYNONYMS = {
    "beneath": "under", "underneath": "under", "below": "under", "atop": "on top of",
    "inside": "in", "within": "in",
}
# Passive participles FACTUAL turns active with the arguments swapped, for these prepositions:
# "tree covered in snow" -> ( snow , cover , tree ). "by" does it for every verb.
_PASSIVE_PREPS = {"by": None, "in": {"cover"}, "with": {"cover"}}
_COUNT_WORDS = None  # filled from the lexicon in main()


# ---------------------------------------------------------------------------- data
def read_factual(split: str, limit: int | None = None) -> list[tuple[str, str]]:
    """(caption, scene graph) rows of a FACTUAL split: ``dev`` or ``train``."""
    path = DATA / ("dev.csv" if split == "dev" else f"{split}.csv.gz")
    if not path.exists():
        sys.exit(f"FACTUAL {split!r} split not found at {path}; see ../shared/data/factual/README.md.")
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as f:
        rows = [(r["caption"], r["scene_graph"]) for r in csv.DictReader(f)]
    return rows[:limit] if limit else rows


@dataclass
class Gold:
    objects: set = field(default_factory=set)  # keys
    attributes: set = field(default_factory=set)  # (key, value)
    relations: set = field(default_factory=set)  # (key, predicate, key)
    names: dict = field(default_factory=dict)  # key -> gold surface name


def parse_graph(graph: str, norm) -> Gold:
    gold = Gold()

    def obj(name):
        k = norm.noun(name)
        gold.objects.add(k)
        gold.names.setdefault(k, name.strip().lower())
        return k

    for body in _TUPLE.findall(graph):
        parts = [p.strip() for p in body.split(" , ")]
        if len(parts) == 1 and parts[0]:
            obj(parts[0])
        elif len(parts) == 3 and all(parts):
            s, p, o = parts
            if p == "is":
                gold.attributes.add((obj(s), o.lower()))
            else:
                gold.relations.add((obj(s), predicate_key(p), obj(o)))
    return gold


def predicate_key(pred: str) -> str:
    return " ".join(w for w in pred.lower().split() if w not in _ARTICLES)


class Normaliser:
    """``key()`` of the module docstring: lower-case words, head noun reduced to its lemma.

    The head's candidates are WordNet's noun base forms (NLTK ``morphy``, data from
    ``../shared/data/nltk_data``) plus the spaCy rule lemmatiser's guess when WordNet knows it as a
    noun (or WordNet has nothing); the shortest wins ("leaves" -> "leaf", "teeth" -> "tooth",
    "bus" stays "bus"). ``LEMMA_FIXES`` go first. The same function is applied to gold names and to
    our noun lemmas, and it is idempotent, so already-lemmatised nouns keep their key.
    """

    def __init__(self, nlp):
        from spacy.tokens import Doc

        from iccc.parsing import lexicon as lex

        self._doc = Doc
        self._vocab = nlp.vocab
        self._fixes = lex.LEMMA_FIXES
        self._lemmatizer = nlp.get_pipe("lemmatizer") if "lemmatizer" in nlp.pipe_names else None
        self._cache: dict[str, str] = {}
        self.wordnet = None
        nltk_data = ROOT.parent / "shared" / "data" / "nltk_data"
        if nltk_data.is_dir():
            os.environ.setdefault("NLTK_DATA", str(nltk_data))
        try:
            from nltk.corpus import wordnet

            wordnet.ensure_loaded()
            self.wordnet = wordnet
        except (ImportError, LookupError):  # fall back to the spaCy rule lemmatiser alone
            pass
        self.name = "wordnet+spacy-rule" if self.wordnet else "spacy-rule"

    def word(self, w: str) -> str:
        if w in self._fixes:
            return self._fixes[w]
        if not w.isalpha():
            return w
        candidates = set(self.wordnet._morphy(w, "n")) if self.wordnet else set()
        if self._lemmatizer is not None:
            guess = self._lemmatizer.rule_lemmatize(self._doc(self._vocab, words=[w], pos=["NOUN"])[0])
            guess = guess[0].lower() if guess else w
            if not candidates or (self.wordnet and self.wordnet._morphy(guess, "n")):
                candidates.add(guess)
        return min(candidates, key=lambda c: (len(c), c)) if candidates else w

    def noun(self, phrase: str) -> str:
        phrase = " ".join(phrase.lower().split())
        out = self._cache.get(phrase)
        if out is None:
            words = phrase.split(" ")
            words[-1] = self.word(words[-1])
            out = self._cache[phrase] = " ".join(words)
        return out


# ---------------------------------------------------------------------------- predictions
@dataclass
class Pred:
    objects: dict = field(default_factory=dict)  # key -> noun concept
    attributes: list = field(default_factory=list)  # (key, {forms}, concept)
    relations: list = field(default_factory=list)  # (key, predicate, key, source)


def predictions(text: str, concepts, norm) -> Pred:
    pred = Pred()
    noun_of_entity = {}
    for c in concepts:
        if c.kind == "noun":
            k = norm.noun(c.lemma)
            pred.objects.setdefault(k, c)
            noun_of_entity[c.head] = k
    noun_key = {i: norm.noun(c.lemma) for i, c in enumerate(concepts) if c.kind == "noun"}
    for c in concepts:
        if c.kind == "attribute" and c.head in noun_key:
            pred.attributes.append((noun_key[c.head], {c.lemma, c.text.lower()}, c))
        elif c.kind == "count" and c.head in noun_key:
            value = _COUNT_WORDS.get(c.lemma, c.lemma)
            # "a single bed": FACTUAL writes ( bed , is , single ) where it writes anything
            pred.attributes.append((noun_key[c.head], {str(value), c.lemma.split(" ")[-1]}, c))

    # coordination groups: entities joined by and/or relations
    group: dict[int, set] = {}
    for c in concepts:
        if c.kind == "relation" and c.lemma in ("and", "or") and c.subj >= 0 and c.obj >= 0:
            merged = group.get(c.subj, {c.subj}) | group.get(c.obj, {c.obj})
            for e in merged:
                group[e] = merged
    seen = set()

    def add(s_ent, p, o_ent, source, alt=None, alt_triple=None):
        s, o = noun_of_entity.get(s_ent), noun_of_entity.get(o_ent)
        if s is None or o is None or (s, p, o) in seen:
            return
        seen.add((s, p, o))
        alts = ((o, alt, s),) if alt else ()
        if alt_triple:
            alts += ((noun_of_entity.get(alt_triple[0]), alt_triple[1], noun_of_entity.get(alt_triple[2])),)
        pred.relations.append((s, p, o, source, alts))

    for c in concepts:
        if c.kind != "relation" or c.lemma in ("and", "or"):
            continue
        p = predicate_key(c.lemma)
        words = p.split(" ")
        passive = len(words) == 2 and c.tags.split(" ")[0] == "VBN" and words[1] in _PASSIVE_PREPS
        alt = None
        if passive and (_PASSIVE_PREPS[words[1]] is None or words[0] in _PASSIVE_PREPS[words[1]]):
            # "cliff surrounded by water" -> ( water , surround , cliff ); "by" may also be
            # a place ("parked by the road"), so the triple as written matches too
            c_subj, c_obj, alt, p, source = c.obj, c.subj, p, words[0], "passive"
        else:
            c_subj, c_obj, source = c.subj, c.obj, "relation"
        add(c_subj, p, c_obj, source, alt)
        for s in group.get(c_subj, {c_subj}):
            for o in group.get(c_obj, {c_obj}):
                if (s, o) != (c_subj, c_obj) and s != o:
                    add(s, p, o, "coordination", alt)

    # FACTUAL "have" style: "X of Y" and possessives
    entities = [(i, c) for i, c in enumerate(concepts) if c.kind == "entity"]
    for i, a in entities:
        for j, b in entities:
            if b.start >= a.end and re.fullmatch(r"\s+of\s+", text[a.end : b.start]):
                container = _CONTAINERS.get(noun_of_entity.get(i))
                if container:
                    add(j, container, i, "of", alt_triple=(i, "have", j))  # or: the glass has wine
                else:
                    add(j, "have", i, "of")
            if i != j and a.start <= b.start and b.end < a.end and b.start == a.start:
                if re.match(r"\s*'s?\b|\s*'", text[b.end : a.end]):
                    add(j, "have", i, "possessive")
    return pred


def align_compounds(pred: Pred, gold: Gold, norm) -> int:
    """Re-segment our compound nouns the way this gold graph does (see module docstring)."""
    changed = 0
    glued = {k.replace(" ", ""): k for k in gold.objects}
    for key in list(pred.objects):
        if key in gold.objects or " " not in key:
            continue
        if glued.get(key.replace(" ", "")) not in (None, key):
            rename(pred, key, glued[key.replace(" ", "")])  # "surf board" = "surfboard"
            changed += 1
            continue
        words = key.split(" ")
        for cut in range(1, len(words)):
            left, right = " ".join(words[:cut]), " ".join(words[cut:])
            left_k = norm.noun(left)  # "elephants tail": FACTUAL writes ( elephant , have , tail )
            if right in gold.objects:
                if left_k in gold.objects and (left_k, "have", right) in gold.relations:
                    rename(pred, key, right)
                    pred.objects.setdefault(left_k, pred.objects[right])
                    pred.relations.append((left_k, "have", right, "compound", ()))
                    changed += 1
                    break
                if (right, left) in gold.attributes:  # "baby elephants"
                    rename(pred, key, right)
                    pred.attributes.append((right, {left}, pred.objects[right]))
                    changed += 1
                    break
                if left_k in gold.objects and any(
                    {g[0], g[2]} == {left_k, right} for g in gold.relations
                ):
                    # "bathroom sink": ( sink , in , bathroom ) -- the segmentation only; the
                    # relation between the parts is not ours, it stays a miss
                    rename(pred, key, right)
                    pred.objects.setdefault(left_k, pred.objects[right])
                    changed += 1
                    break
            value = next((v for k, v in gold.attributes if k == left_k and norm.noun(v) == right), None)
            if left_k in gold.objects and value:  # "ham pieces": ( ham , is , pieces )
                rename(pred, key, left_k)
                pred.attributes.append((left_k, {value}, pred.objects[left_k]))
                changed += 1
                break
        else:
            # "wine menu" where the graph names only ( menu ) and "wine" nowhere: the annotator
            # named the object by its head
            mentioned = gold_words(gold)
            for cut in range(1, len(words)):
                right = " ".join(words[cut:])
                if right in gold.objects and mentioned.isdisjoint(words[:cut]):
                    rename(pred, key, right)
                    changed += 1
                    break
    return changed


def gold_words(gold: Gold) -> set:
    """Every word of a gold graph: object names and keys, attribute values, predicates."""
    words = set()
    for name in (*gold.objects, *gold.names.values()):
        words.update(name.split(" "))
    for _, value in gold.attributes:
        words.update(value.split(" "))
    for _, p, _ in gold.relations:
        words.update(p.split(" "))
    return words


def rename(pred: Pred, old: str, new: str) -> None:
    concept = pred.objects.pop(old)
    pred.objects.setdefault(new, concept)
    pred.attributes = [(new if k == old else k, v, c) for k, v, c in pred.attributes]

    def r(k):
        return new if k == old else k

    pred.relations = [
        (r(s), p, r(o), src, tuple((r(a), q, r(b)) for a, q, b in alts))
        for s, p, o, src, alts in pred.relations
    ]


# ---------------------------------------------------------------------------- matching
def canonical_predicate(pred: str) -> str:
    """FACTUAL-style spelling of a predicate: synonymous prepositions unified ("beneath" ->
    "under"), a particle before a preposition dropped ("sit down on" -> "sit on"), and the
    preposition before a relational noun ignored ("in the middle of" -> "* middle of")."""
    words = [w for part in pred.split(" ") for w in _PREPOSITION_SYNONYMS.get(part, part).split(" ")]
    if len(words) >= 3 and words[1] in _PARTICLES and words[2] in _PREP_START:
        del words[1]
    if len(words) >= 3 and words[-1] == "of" and words[-3] in _PREP_START:
        words[-3] = "*"
    return " ".join(words)


def _suffix_match(a: str, b: str) -> bool:
    for longer, shorter in ((a, b), (b, a)):
        if longer.endswith(" " + shorter) and shorter.split(" ")[0] in _PREP_START | {"*"}:
            return True  # "sit on" ~ "on"
        rest = longer[len(shorter) + 1 :]
        if longer.startswith(shorter + " ") and " " not in rest and rest in _PREP_START:
            return True  # "ride" ~ "ride on"
    return False


def predicate_match(ours: str, gold: str) -> str | None:
    """How our predicate matches a gold one: "exact", "prep", "style" or None."""
    if ours == gold:
        return "exact"
    if _suffix_match(ours, gold):
        return "prep"
    ours_c, gold_c = canonical_predicate(ours), canonical_predicate(gold)
    if ours_c == gold_c or _suffix_match(ours_c, gold_c):
        return "style"
    if gold in _EQUIVALENT_PREDICATES.get(ours, ()):
        return "style"
    for ow, gw in ((ours.split(" "), gold.split(" ")), (ours_c.split(" "), gold_c.split(" "))):
        if ow[0] in _EQUIVALENT_PREDICATES and gw[0] in _EQUIVALENT_PREDICATES[ow[0]] and ow[1:] == gw[1:]:
            return "style"  # "lie on" ~ "lay on", "lie down in" ~ "lay in"
    return None


def match_relations(pred: Pred, gold: Gold):
    """Greedy one-to-one matching; exact predicates first. Returns (pairs, unmatched pred, unmatched gold)."""
    free_gold = set(gold.relations)
    pairs, rest = [], []
    for r in pred.relations:
        hit = next((t for t in (r[:3], *r[4]) if t in free_gold), None)
        if hit:
            free_gold.discard(hit)
            pairs.append((r, hit, "exact"))
        else:
            rest.append(r)
    unmatched = []
    for r in rest:
        hit = None
        for s, p, o in (r[:3], *r[4]):
            for g in sorted(free_gold):
                if g[0] == s and g[2] == o:
                    how = predicate_match(p, g[1])
                    if how:
                        hit = (g, how)
                        break
            if hit:
                break
        if hit:
            free_gold.discard(hit[0])
            pairs.append((r, hit[0], hit[1]))
        else:
            unmatched.append(r)
    return pairs, unmatched, sorted(free_gold)


def match_attributes(pred: Pred, gold: Gold):
    free_gold = set(gold.attributes)
    tp, fp = 0, []
    for k, forms, c in pred.attributes:
        hit = next((g for g in sorted(free_gold) if g[0] == k and g[1] in forms), None)
        if hit:
            free_gold.discard(hit)
            tp += 1
        else:
            fp.append((k, c.text.lower(), c))
    return tp, fp, sorted(free_gold)


# ---------------------------------------------------------------------------- error analysis
def token_for(doc, phrase: str):
    """The doc token whose lower text is the last word of ``phrase`` (or whose lemma is)."""
    last = phrase.split(" ")[-1]
    for t in doc:
        if t.lower_ == last or t.lemma_.lower() == last:
            return t
    return None


def classify_missed_object(key, gold, pred, doc, norm):
    name = gold.names.get(key, key)
    heads = {k.split(" ")[-1]: k for k in pred.objects}
    head = key.split(" ")[-1]
    if head in heads or any(k.endswith(" " + head) or key.endswith(" " + k) for k in pred.objects):
        return "compound boundary differs"
    surface = {c.text.lower(): k for k, c in pred.objects.items()}
    if name in surface or any(norm.noun(s) == key for s in surface):
        return "lemma mismatch"
    tok = token_for(doc, name)
    if tok is None:
        return "gold object not in caption (inferred/typo)"
    from iccc.parsing import lexicon as lex

    lemma = tok.lemma_.lower()
    if lemma in lex.META_NOUNS or lemma in lex.QUANTIFIER_NOUNS or lemma in lex.COMPLEX_PREP_NOUNS:
        return "filtered by rule (meta/quantifier/complex-prep noun)"
    if tok.pos_ == "PRON":
        return "pronoun (not an entity by design)"
    if tok.pos_ not in ("NOUN", "PROPN"):
        return f"tagger: gold noun tagged {tok.pos_}"
    return "other"


def classify_spurious_object(key, concept, gold, doc):
    head = key.split(" ")[-1]
    if any(g.split(" ")[-1] == head or g.endswith(" " + key) or key.endswith(" " + g) for g in gold.objects):
        return "compound boundary differs"
    if any(g[1] == head or g[1] == key for g in gold.attributes):
        return "gold calls it an attribute"
    tok = doc.char_span(concept.start, concept.end, alignment_mode="expand")
    tok = tok.root if tok is not None else None
    if tok is not None and tok.tag_ in ("VBG", "VBN", "JJ") or (tok is not None and tok.pos_ == "VERB"):
        return "tagger: non-noun taken as noun"
    return "object not in gold (annotator left it out)"


def classify_missed_attribute(g, pred, doc):
    key, value = g
    if value.isdigit():
        return "count missed"
    if key not in pred.objects:
        return "holder object missed"
    if any(value in forms for _, forms, _ in pred.attributes):
        return "attached to another object (parser attachment)"
    if " " in value:
        return "multi-word gold value"
    tok = token_for(doc, value)
    if tok is None:
        return "gold value not in caption (inferred/typo)"
    if tok.pos_ in ("NOUN", "PROPN"):
        return "noun modifier (compound) as attribute in gold"
    if tok.pos_ == "VERB":
        return "verb form (participle) as attribute in gold"
    if tok.dep_ in ("acomp", "conj", "advmod", "amod"):
        return f"adjective missed ({tok.dep_})"
    return "other"


def classify_spurious_attribute(item, gold):
    key, text, c = item
    if key not in gold.objects:
        return "holder object not in gold"
    if any(g[1] == text or g[1] == c.lemma for g in gold.attributes):
        return "attached to another object (parser attachment)"
    if c.kind == "count":
        return "count not in gold"
    return "attribute not in gold (annotator left it out)"


def classify_missed_relation(g, pred, pairs_gold, gold, doc):
    s, p, o = g
    if p == "have":
        return "gold 'have' (possession/part style, no surface relation)"
    if s not in pred.objects or o not in pred.objects:
        return "argument object missed"
    same_args = [r for r in pred.relations if r[0] == s and r[2] == o]
    if same_args:
        return "predicate differs"
    words = set(t.lower_ for t in doc) | set(t.lemma_.lower() for t in doc)
    if not any(w in words for w in p.split(" ") if w not in _PREP_START) and not any(
        w in words for w in p.split(" ")
    ):
        return "gold predicate not in caption (inferred)"
    if any(predicate_match(r[1], p) and (r[0] == s) != (r[2] == o) for r in pred.relations):
        return "attachment: other argument differs"
    return "relation missed"


def classify_spurious_relation(r, gold):
    s, p, o, source, _ = r
    if source in ("of", "possessive", "compound"):
        return f"derived '{source}' have-relation not in gold"
    if s not in gold.objects or o not in gold.objects:
        return "argument not a gold object"
    if any(g[0] == s and g[2] == o for g in gold.relations):
        return "predicate differs"
    if any(predicate_match(p, g[1]) and (g[0] == s) != (g[2] == o) for g in gold.relations):
        return "attachment: other argument differs"
    if source == "coordination":
        return "coordination expansion not in gold"
    return "relation not in gold (annotator left it out)"


# ---------------------------------------------------------------------------- scoring
class Score:
    def __init__(self):
        self.tp = self.n_pred = self.n_gold = 0

    def add(self, tp, n_pred, n_gold):
        self.tp += tp
        self.n_pred += n_pred
        self.n_gold += n_gold

    def prf(self):
        p = self.tp / self.n_pred if self.n_pred else 0.0
        r = self.tp / self.n_gold if self.n_gold else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return {
            "precision": round(p, 4),
            "recall": round(r, 4),
            "f1": round(f, 4),
            "tp": self.tp,
            "pred": self.n_pred,
            "gold": self.n_gold,
        }


class Errors:
    def __init__(self, keep: int):
        self.keep = keep
        self.counts: dict[str, Counter] = defaultdict(Counter)
        self.examples: dict[tuple, list] = defaultdict(list)

    def add(self, kind, category, caption, item):
        self.counts[kind][category] += 1
        ex = self.examples[(kind, category)]
        if len(ex) < self.keep:
            ex.append({"caption": caption, "item": item})

    def to_json(self):
        return {
            kind: [
                {"category": cat, "count": n, "examples": self.examples[(kind, cat)]}
                for cat, n in counts.most_common()
            ]
            for kind, counts in sorted(self.counts.items())
        }


def evaluate(rows, docs, concepts_per_doc, norm, keep_examples=3):
    scores = {k: Score() for k in ("objects", "attributes", "relations", "relations_strict")}
    how_counts = Counter()
    errors = Errors(keep_examples)
    aligned = 0
    for (caption, graph), doc, concepts in zip(rows, docs, concepts_per_doc):
        gold = parse_graph(graph, norm)
        pred = predictions(caption, concepts, norm)
        aligned += align_compounds(pred, gold, norm)

        # objects
        tp = len(set(pred.objects) & gold.objects)
        scores["objects"].add(tp, len(pred.objects), len(gold.objects))
        for k in sorted(gold.objects - set(pred.objects)):
            errors.add("objects FN", classify_missed_object(k, gold, pred, doc, norm), caption, k)
        for k in sorted(set(pred.objects) - gold.objects):
            errors.add("objects FP", classify_spurious_object(k, pred.objects[k], gold, doc), caption, k)

        # attributes
        tp, fp, fn = match_attributes(pred, gold)
        scores["attributes"].add(tp, len(pred.attributes), len(gold.attributes))
        for g in fn:
            errors.add("attributes FN", classify_missed_attribute(g, pred, doc), caption, list(g))
        for item in fp:
            errors.add("attributes FP", classify_spurious_attribute(item, gold), caption, list(item[:2]))

        # relations
        pairs, fp, fn = match_relations(pred, gold)
        scores["relations"].add(len(pairs), len(pred.relations), len(gold.relations))
        strict = sum(1 for _, _, how in pairs if how == "exact")
        scores["relations_strict"].add(strict, len(pred.relations), len(gold.relations))
        how_counts.update(f"{how} ({r[3]})" for r, _, how in pairs)
        for g in fn:
            errors.add("relations FN", classify_missed_relation(g, pred, pairs, gold, doc), caption, list(g))
        for r in fp:
            errors.add("relations FP", classify_spurious_relation(r, gold), caption, list(r[:4]))

    result = {k: s.prf() for k, s in scores.items()}
    result["macro_f1"] = round(sum(result[k]["f1"] for k in ("objects", "attributes", "relations")) / 3, 4)
    result["relation_matches"] = dict(how_counts.most_common())
    result["compounds_aligned_to_gold_style"] = aligned
    return result, errors


# ---------------------------------------------------------------------------- timing
def time_extract(nlp, captions, extract, rounds=3, chunk=256):
    """Parse ``captions`` and run ``extract`` on the docs, timing both in CPU time of this process
    (``time.process_time``: the machine may be shared), alternating per chunk of ``chunk`` captions
    (the pipeline's batch size), best of ``rounds`` runs each.

    Returns (docs, concepts, parse seconds, extract seconds).
    """
    docs, concepts = [], []
    parse_s = extract_s = 0.0
    for k in range(0, len(captions), chunk):
        texts = captions[k : k + chunk]
        best_parse = best_extract = float("inf")
        for _ in range(rounds):
            t0 = time.process_time()
            part = list(nlp.pipe(texts, batch_size=chunk))
            t1 = time.process_time()
            out = [extract(d) for d in part]
            t2 = time.process_time()
            best_parse = min(best_parse, t1 - t0)
            best_extract = min(best_extract, t2 - t1)
        parse_s += best_parse
        extract_s += best_extract
        docs += part
        concepts += out
    return docs, concepts, parse_s, extract_s


def print_report(result, errors, timing, top=6, show=0):
    print(f"\n{'kind':<18}{'P':>8}{'R':>8}{'F1':>8}{'pred':>7}{'gold':>7}")
    for k in ("objects", "attributes", "relations", "relations_strict"):
        r = result[k]
        print(f"{k:<18}{r['precision']:>8.3f}{r['recall']:>8.3f}{r['f1']:>8.3f}{r['pred']:>7}{r['gold']:>7}")
    print(f"{'macro F1':<18}{'':>16}{result['macro_f1']:>8.3f}")
    print(f"\nrelation matches: {result['relation_matches']}")
    print(f"compounds aligned to gold style: {result['compounds_aligned_to_gold_style']}")
    print(
        f"\nextract(): {timing['extract_ms_per_caption']:.3f} ms/caption = {timing['extract_pct_of_parse']:.2f}% "
        f"of spaCy's parse ({timing['parse_ms_per_caption']:.3f} ms/caption, CPU time)"
    )
    for kind, cats in errors.to_json().items():
        total = sum(c["count"] for c in cats)
        print(f"\n{kind} ({total})")
        for c in cats[: top if not show else None]:
            print(f"  {c['count']:>5}  {c['category']}")
            for ex in c["examples"][: (show or 1)]:
                print(f"           {ex['caption']!r}  ->  {ex['item']}")


def main(argv=None):
    global _COUNT_WORDS
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="first 200 dev captions (for CI)")
    ap.add_argument("--split", default="dev", choices=("dev", "train"))
    ap.add_argument("--limit", type=int, default=None, help="first N captions of the split")
    ap.add_argument("--nlp", default=None, help="spaCy pipeline name or path (default: iccc.load_parser())")
    ap.add_argument("--out", default=None, help="JSON output path")
    ap.add_argument("--show", type=int, default=0, help="print N examples per error category")
    ap.add_argument("--examples", type=int, default=5, help="examples kept per error category in the JSON")
    args = ap.parse_args(argv)

    import spacy

    import iccc
    from iccc.parsing import extract
    from iccc.parsing import lexicon as lex
    from iccc.parsing._loader import pipeline_name

    _COUNT_WORDS = lex.NUMBER_WORDS
    limit = 200 if args.quick and args.limit is None else args.limit
    rows = read_factual(args.split, limit)
    nlp = iccc.load_parser(args.nlp)
    norm = Normaliser(nlp)
    captions = [c for c, _ in rows]
    docs, concepts, parse_s, extract_s = time_extract(nlp, captions, extract)
    n = len(captions)
    timing = {
        "captions": n,
        "clock": "process CPU time, alternating batches of 256, best of 3 each",
        "parse_ms_per_caption": round(1000 * parse_s / n, 4),
        "extract_ms_per_caption": round(1000 * extract_s / n, 4),
        "extract_pct_of_parse": round(100 * extract_s / parse_s, 2),
    }
    result, errors = evaluate(rows, docs, concepts, norm, keep_examples=max(args.examples, args.show))
    print(f"FACTUAL {args.split}: {len(rows)} captions, pipeline {pipeline_name(nlp)}")
    print_report(result, errors, timing, show=args.show)

    out = Path(args.out) if args.out else RESULTS / ("extract_quick.json" if args.quick else "extract.json")
    if args.split != "dev" and not args.out:
        out = RESULTS / f"extract_{args.split}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": "concept extraction vs FACTUAL gold scene graphs",
        "split": args.split,
        "captions": len(rows),
        "mode": "quick" if args.quick else "full",
        "pipeline": pipeline_name(nlp),
        "spacy": spacy.__version__,
        "noun_normaliser": norm.name,
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
        },
        "scores": result,
        "timing": timing,
        "errors": errors.to_json(),
    }
    out.write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nsaved {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return payload


if __name__ == "__main__":
    main()
