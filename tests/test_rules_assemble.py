"""Assembly, iccc.parsing.rules._assemble and ._proto: concept tuples become the sorted, linked
list of ``Concept`` objects; on ``assemble`` itself and on extracted concepts."""

from __future__ import annotations

import itertools
import pickle

import pytest
from spacy.tokens import Doc
from test_rules import _VOCAB, concepts, tokens

from iccc import KINDS, Concept
from iccc.parsing import extract
from iccc.parsing.rules._assemble import PLAIN_CONCEPT, assemble
from iccc.parsing.rules._proto import ATTRIBUTE, COUNT, ENTITY, FIRST, NOUN, RELATION, VERB, key

NO = -1


# ---------------------------------------------------------------------------- the sort key
def test_kind_orders_follow_kinds():
    assert [ENTITY, NOUN, COUNT, ATTRIBUTE, VERB, RELATION] == list(range(len(KINDS)))
    assert FIRST == 2


def test_key_orders_by_first_token_then_longest_then_kind():
    spans = [(f, last, k) for f in range(4) for last in range(f, 6) for k in range(len(KINDS))]
    spans += [(1000, 70_000, 0), (999, 100_000, 5)]
    by_key = sorted(spans, key=lambda s: key(*s))
    assert by_key == sorted(spans, key=lambda s: (s[0], -s[1], s[2]))


# ---------------------------------------------------------------------------- assemble
GLUED = """
    a      DT    det       3
    t+     NN    compound  3
    -+     HYPH  punct     3
    shirt  NN    nsubj     4
    hangs  VBZ   ROOT      4  hang
    on     IN    prep      4
    racks  NNS   pobj      5  rack
"""


def test_concepts_are_sorted_and_their_links_become_list_indices():
    t = tokens(GLUED)
    protos = [
        (key(6, 6, NOUN), "noun", 6, 6, 6, "rack", "entity", 6, NO, NO, False),
        (key(5, 5, RELATION), "relation", 5, 5, 5, "on", None, NO, 3, 6, False),
        (key(1, 3, NOUN), "noun", 1, 3, 3, "t-shirt", "entity", 3, NO, NO, False),
        (key(6, 6, ENTITY), "entity", 6, 6, 6, "rack", None, NO, NO, NO, False),
        (key(0, 3, ENTITY), "entity", 0, 3, 3, "a t-shirt", None, NO, NO, NO, False),
    ]
    cs = assemble(t, protos)
    assert [(c.kind, c.text, c.start, c.end) for c in cs] == [
        ("entity", "a t-shirt", 0, 9), ("noun", "t-shirt", 2, 9), ("relation", "on", 16, 18),
        ("entity", "racks", 19, 24), ("noun", "racks", 19, 24),
    ]
    assert [(c.head, c.subj, c.obj) for c in cs] == [(NO, NO, NO), (0, NO, NO), (NO, 0, 3), (NO, NO, NO), (3, NO, NO)]
    assert (cs[1].tag, cs[1].tags, cs[1].dep) == ("NN", "NN HYPH NN", "nsubj")  # the head token's tag and dep


def test_equal_keys_keep_the_order_found():
    t = tokens(GLUED)
    entities = [(key(1, 3, ENTITY), "entity", 1, 3, 3, "t-shirt", None, NO, NO, NO, False),
                (key(6, 6, ENTITY), "entity", 6, 6, 6, "rack", None, NO, NO, NO, False)]
    on = (key(5, 5, RELATION), "relation", 5, 5, 5, "on", None, NO, 3, 6, False)
    reverse = (key(5, 5, RELATION), "relation", 5, 5, 5, "on", None, NO, 6, 3, False)
    for order in itertools.permutations([on, reverse]):
        cs = assemble(t, entities + list(order))
        assert [(cs[c.subj].text, cs[c.obj].text) for c in cs if c.kind == "relation"] == [
            ("t-shirt", "racks") if p is on else ("racks", "t-shirt") for p in order
        ]


def test_links_to_concepts_that_are_not_there_are_no_links():
    t = tokens(GLUED)
    cs = assemble(t, [(key(5, 5, RELATION), "relation", 5, 5, 5, "on", None, NO, 3, 6, False),
                      (key(1, 1, ATTRIBUTE), "attribute", 1, 1, 1, "t", "noun", 3, NO, NO, False)])
    assert [(c.head, c.subj, c.obj) for c in cs] == [(NO, NO, NO), (NO, NO, NO)]


def test_concepts_are_plain_frozen_dataclasses():
    assert PLAIN_CONCEPT
    c = assemble(tokens(GLUED), [(key(4, 4, VERB), "verb", 4, 4, 4, "hang", None, NO, NO, NO, False)])[0]
    assert c == Concept("verb", "hangs", 10, 15, "hang", "VBZ", "VBZ", "ROOT")
    assert list(c.__dict__) == list(Concept.__dataclass_fields__)


# ---------------------------------------------------------------------------- in the concepts
def test_empty_and_conceptless_docs():
    assert extract(Doc(_VOCAB, words=[])) == []
    assert concepts("""
        hello  UH/INTJ  ROOT  0
    """) == []


def test_concepts_equal_constructed_ones_and_survive_pickle_and_dicts():
    cs = concepts("""
        a    DT  det   1
        dog  NN  ROOT  1
    """)
    assert cs[1] == Concept("noun", "dog", 2, 5, "dog", "NN", "NN", "ROOT", head=0)
    assert hash(cs[1]) == hash(Concept("noun", "dog", 2, 5, "dog", "NN", "NN", "ROOT", head=0))
    assert pickle.loads(pickle.dumps(cs)) == cs
    assert [Concept.from_dict(c.to_dict()) for c in cs] == cs
    with pytest.raises(AttributeError):
        cs[0].text = "x"  # still frozen
