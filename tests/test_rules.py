"""Concept extraction (``iccc.parsing.rules``) as a whole, and the hand-built parses every rule test uses.

Each ``Doc`` is written as a small table, one token a line: ``word TAG dep head [lemma]`` (heads
are absolute indices; the part of speech follows from the tag unless written ``TAG/POS``; a word
ending in ``+`` has no space after it). So every rule is tested without a model, on exactly the
parse it is meant for -- including the wrong parses of the small model that some rules repair.

The rules of each pass are tested in the file of that pass, both through :func:`extract` and on
the pass itself: ``test_rules_tokens.py`` (reading the annotation), ``test_rules_tags.py`` (pass 1,
repairs), ``test_rules_redirects.py`` (2), ``test_rules_entities.py`` (3) with
``test_rules_resolve.py`` (which entity a token stands for), ``test_rules_attributes.py`` (4),
``test_rules_relations.py`` (5) and ``test_rules_assemble.py`` (the output). This file holds what
no single pass decides: the order of the passes, the word lists, and real captions through the
real pipeline (structural invariants). Extraction speed is measured in ``benchmarks/bench_rules.py``,
not here: tests never assert times.
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from spacy.tokens import Doc
from spacy.vocab import Vocab

from iccc import Concept
from iccc.parsing import _dataset, extract, lexicon
from iccc.parsing.rules import _assemble
from iccc.parsing.rules._attributes import Attributes, find_predicative_attributes
from iccc.parsing.rules._entities import find_entities
from iccc.parsing.rules._redirects import find_redirects
from iccc.parsing.rules._relations import find_relations
from iccc.parsing.rules._tags import repair_tags
from iccc.parsing.rules._tokens import Tokens

# Penn tag -> universal part of speech, as spaCy's English attribute ruler maps them.
_POS = {
    "NN": "NOUN", "NNS": "NOUN", "NNP": "PROPN", "NNPS": "PROPN", "JJ": "ADJ", "JJR": "ADJ",
    "JJS": "ADJ", "DT": "DET", "PDT": "DET", "IN": "ADP", "RP": "ADP", "CD": "NUM", "CC": "CCONJ",
    "RB": "ADV", "PRP": "PRON", "PRP$": "PRON", "WP": "PRON", "WDT": "PRON", "EX": "PRON",
    "POS": "PART", "TO": "PART", "HYPH": "PUNCT", ".": "PUNCT", ",": "PUNCT", "MD": "AUX",
    "VB": "VERB", "VBD": "VERB", "VBG": "VERB", "VBN": "VERB", "VBP": "VERB", "VBZ": "VERB",
}
_VOCAB = Vocab()

def parse(table: str) -> Doc:
    """A parsed ``Doc`` from a ``word TAG[/POS] dep head [lemma]`` table (see module docstring)."""
    words, spaces, tags, pos, deps, heads, lemmas = [], [], [], [], [], [], []
    for line in table.strip().splitlines():
        word, tag, dep, head, *lemma = line.split()
        glued = word.endswith("+") and len(word) > 1
        word = word[:-1] if glued else word
        tag, _, upos = tag.partition("/")
        words.append(word)
        spaces.append(not glued)
        tags.append(tag)
        pos.append(upos or _POS[tag])
        deps.append(dep)
        heads.append(int(head))
        lemmas.append(lemma[0] if lemma else word.lower())
    spaces[-1] = False
    return Doc(_VOCAB, words=words, spaces=spaces, tags=tags, pos=pos, deps=deps, heads=heads, lemmas=lemmas)


def concepts(table: str) -> list[Concept]:
    doc = parse(table)
    out = extract(doc)
    check_invariants(doc.text, out)
    return out


def kinds(cs, kind):
    return [c.text for c in cs if c.kind == kind]


def one(cs, kind, text=None):
    found = [c for c in cs if c.kind == kind and (text is None or c.text == text)]
    assert len(found) == 1, (kind, text, [(c.kind, c.text) for c in cs])
    return found[0]


def relations(cs):
    """``(subject entity text, relation text, object entity text)`` of every relation; the object
    is ``None`` for a relation without one ("sitting down")."""
    return [(cs[c.subj].text, c.text, cs[c.obj].text if c.obj >= 0 else None) for c in cs if c.kind == "relation"]


def check_invariants(text: str, cs: list[Concept]) -> None:
    """What every extraction must satisfy, whatever the parse."""
    for c in cs:
        assert c.kind in ("entity", "noun", "count", "attribute", "verb", "relation"), c
        assert 0 <= c.start < c.end <= len(text), c
        assert text[c.start : c.end] == c.text, (text, c)
        assert c.text == c.text.strip() and c.text, c
        if c.kind == "noun":
            ent = cs[c.head]
            assert ent.kind == "entity" and ent.start <= c.start and ent.end == c.end, (c, ent)
        elif c.kind in ("attribute", "count"):
            assert cs[c.head].kind == "noun", c
        else:
            assert c.head == -1, c
        if c.kind == "relation" and c.obj == -1:  # a particle or adverbial: "sitting down", "up"
            assert c.subj >= 0 and cs[c.subj].kind == "entity" and not c.symmetric, c
            assert c.tags.split()[-1] in ("RP", "RB", "IN"), c
        elif c.kind == "relation":
            assert min(c.subj, c.obj) >= 0 and c.subj != c.obj, c
            assert cs[c.subj].kind == "entity" and cs[c.obj].kind == "entity", c
        else:
            assert c.subj == -1 and c.obj == -1 and not c.symmetric, c
    starts = [(c.start, -c.end) for c in cs]
    assert starts == sorted(starts), "concepts are sorted by start, longest first"
    for kind in ("noun", "attribute", "count", "verb"):
        spans = sorted((c.start, c.end) for c in cs if c.kind == kind)
        for (_, e1), (s2, _) in zip(spans, spans[1:]):
            assert e1 <= s2, (kind, text, spans)
    rels = sorted({(c.start, c.end) for c in cs if c.kind == "relation"})
    for (_, e1), (s2, _) in zip(rels, rels[1:]):
        assert e1 <= s2, ("relation spans overlap", text, rels)
    ents = [(c.start, c.end) for c in cs if c.kind == "entity"]
    for s1, e1 in ents:  # entities nest ("a man's hat", "a snow covered hill") but never cross
        for s2, e2 in ents:
            assert e1 <= s2 or e2 <= s1 or (s1 <= s2 and e2 <= e1) or (s2 <= s1 and e1 <= e2), (text, ents)



def tokens(table: str) -> Tokens:
    """The :class:`Tokens` of a table's ``Doc``, before any pass."""
    return Tokens(parse(table))


#: The passes of :func:`extract`, in order.
PASSES = ("tags", "redirects", "entities", "attributes", "relations")


def passes(table: str, last: str = "relations") -> SimpleNamespace:
    """The state of the extraction of ``table`` after pass ``last`` (one of :data:`PASSES`), made
    exactly as :func:`extract` makes it: ``tokens``, ``qualities``, ``redirect``, ``prep_nouns``,
    ``protos``, ``attributes``, ``entities`` (``None`` where that pass has not run)."""
    todo = PASSES[: PASSES.index(last) + 1]
    s = SimpleNamespace(tokens=tokens(table), qualities=None, redirect=None, prep_nouns=None, protos=[],
                        attributes=None, entities=None)
    s.qualities = repair_tags(s.tokens)
    if "redirects" in todo:
        s.redirect, s.prep_nouns = find_redirects(s.tokens)
    if "entities" in todo:
        s.attributes = Attributes(s.tokens, s.protos)
        s.entities = find_entities(s.tokens, s.redirect, s.prep_nouns, s.attributes, s.protos)
    if "attributes" in todo:
        find_predicative_attributes(s.tokens, s.entities, s.attributes, s.qualities)
    if "relations" in todo:
        find_relations(s.tokens, s.entities, s.attributes, s.protos)
    return s


def protos_of(s: SimpleNamespace, kind: str) -> list[tuple]:
    """``(first token, last token, lemma)`` of the concept tuples of ``kind`` in the order found."""
    return [(p[2], p[3], p[5]) for p in s.protos if p[1] == kind]


# ---------------------------------------------------------------------------- the passes together
TABLES = [
    """
        a        DT   det   1
        black    JJ   amod  1
        dog      NN   nsubj 2
        sitting  VBG  ROOT  2  sit
        next     RB   advmod 2
        to       IN   prep  4
        a        DT   det   9
        red      JJ   amod  9
        fire     NN   compound 9
        hydrant  NN   pobj  5
    """,
    """
        a          DT   det   1
        herd       NN   ROOT  1
        of         IN   prep  1
        elephants  NNS  pobj  2  elephant
        in         IN   prep  1
        a          DT   det   6
        field      NN   pobj  4
    """,
    """
        a        DT   det   1
        person   NN   ROOT  1
        dressed  VBN  acl   1  dress
        in       IN   prep  2
        blue     JJ   pobj  3
    """,
]


@pytest.mark.parametrize("table", TABLES)
def test_extract_runs_the_passes_in_order_and_assembles_their_concepts(table):
    s = passes(table)
    assert _assemble.assemble(s.tokens, list(s.protos)) == concepts(table)


# ---------------------------------------------------------------------------- word lists
def test_word_lists_are_lower_case_data():
    for name in dir(lexicon):
        value = getattr(lexicon, name)
        if name.isupper() and isinstance(value, frozenset) and not name.endswith(("_POS", "_DEPS")):
            for entry in value:
                words = entry if isinstance(entry, tuple) else (entry,)
                assert all(w == w.lower() for w in words), (name, entry)


def test_the_lexicon_is_public():
    assert lexicon.__all__ == sorted(lexicon.__all__)
    assert {name for name in dir(lexicon) if name.isupper()} == set(lexicon.__all__)
    assert lexicon.NUMBER_WORDS["two"] == 2


def test_the_code_digest_covers_the_rule_passes(tmp_path, monkeypatch):
    # a cached ``concepts`` column must be recomputed when any pass changes, in the subpackage too
    copy = tmp_path / "parsing"
    shutil.copytree(Path(_dataset.__file__).parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(_dataset, "__file__", str(copy / "_dataset.py"))
    _dataset.code_digest.cache_clear()
    try:
        before = _dataset.code_digest()
        with open(copy / "rules" / "_tags.py", "a", encoding="utf-8") as f:
            f.write("\n# changed\n")
        _dataset.code_digest.cache_clear()
        assert _dataset.code_digest() != before
    finally:
        _dataset.code_digest.cache_clear()


# ---------------------------------------------------------------------------- real captions
@pytest.fixture(scope="module")
def coco_val_captions(coco_dir) -> list[str]:
    """500 COCO val captions, spread over the file (every 50th)."""
    with gzip.open(coco_dir / "captions_val2017.json.gz", "rt", encoding="utf-8") as f:
        annotations = json.load(f)["annotations"]
    return [a["caption"] for a in annotations[::50][:500]]


@pytest.mark.model
def test_invariants_on_real_captions(nlp, coco_val_captions):
    n_concepts = 0
    for doc in nlp.pipe(coco_val_captions):
        cs = extract(doc)
        check_invariants(doc.text, cs)
        n_concepts += len(cs)
    assert n_concepts > 6 * len(coco_val_captions)  # entities, nouns, relations on most captions


@pytest.mark.model
def test_real_captions_give_the_expected_concepts(nlp):
    doc = nlp("A black dog sitting next to a red fire hydrant in a living room.")
    cs = extract(doc)
    check_invariants(doc.text, cs)
    assert kinds(cs, "noun") == ["dog", "fire hydrant", "living room"]
    assert kinds(cs, "attribute") == ["black", "red"]
    assert ("A black dog", "sitting next to", "a red fire hydrant") in relations(cs)
    assert one(cs, "relation", "sitting next to").symmetric

    doc = nlp("Two men riding horses on a beach.")
    cs = extract(doc)
    assert [(c.text, c.lemma) for c in cs if c.kind == "count"] == [("Two", "two")]
    assert ("Two men", "riding", "horses") in relations(cs)
    assert one(cs, "verb").lemma == "ride"
