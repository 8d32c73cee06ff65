"""Pass 2, iccc.parsing.rules._redirects: nouns that stand for their "of" complement."""

from __future__ import annotations

import pytest
from test_rules import concepts, kinds, one, relations, tokens

from iccc.parsing.rules._redirects import find_redirects


# ---------------------------------------------------------------------------- on the token lists
@pytest.mark.parametrize("noun, tag", [("picture", "NN"), ("herd", "NN"), ("inside", "NN"), ("slice", "NN")])
def test_meta_quantifier_and_interior_nouns_redirect_to_their_of_object(noun, tag):
    t = tokens(f"""
        the     DT     det   1
        {noun}  {tag}  ROOT  1
        of      IN     prep  1
        a       DT     det   4
        dog     NN     pobj  2
    """)
    assert find_redirects(t) == ({1: 4}, set())


def test_a_proper_noun_quantifier_is_a_name_and_stays():
    t = tokens("""
        the   DT   det   1
        Pack  NNP  ROOT  1  pack
        of    IN   prep  1
        dogs  NNS  pobj  2  dog
    """)
    assert find_redirects(t) == ({}, set())


def test_relational_noun_of_a_complex_preposition_is_a_prep_noun():
    t = tokens("""
        a    DT  det   1
        cat  NN  ROOT  1
        on   IN  prep  1
        top  NN  pobj  2
        of   IN  prep  3
        a    DT  det   6
        car  NN  pobj  4
    """)
    assert find_redirects(t) == ({3: 6}, {3})


def test_relational_noun_outside_a_preposition_stays():
    t = tokens("""
        the  DT  det   1
        top  NN  ROOT  1
        of   IN  prep  1
        a    DT  det   4
        car  NN  pobj  2
    """)
    assert find_redirects(t) == ({}, set())  # "the top of a car": the top is a thing


def test_no_redirect_without_a_nominal_of_object():
    t = tokens("""
        a        DT  det   1
        picture  NN  ROOT  1
        on       IN  prep  1
        a        DT  det   4
        wall     NN  pobj  2
    """)
    assert find_redirects(t) == ({}, set())
    t = tokens("""
        a        DT  det   1
        picture  NN  ROOT  1
        of       IN  prep  1
        red      JJ  pobj  2
    """)
    assert find_redirects(t) == ({}, set())


# ---------------------------------------------------------------------------- in the concepts
def test_meta_noun_gives_way_to_its_of_complement():
    cs = concepts("""
        a        DT  det   1
        picture  NN  ROOT  1
        of       IN  prep  1
        a        DT  det   4
        dog      NN  pobj  2
    """)
    assert kinds(cs, "noun") == ["dog"]
    assert kinds(cs, "entity") == ["a dog"]


def test_quantifier_noun_gives_way_and_relations_go_to_its_complement():
    cs = concepts("""
        a          DT   det   1
        herd       NN   ROOT  1
        of         IN   prep  1
        elephants  NNS  pobj  2  elephant
        in         IN   prep  1
        a          DT   det   6
        field      NN   pobj  4
    """)
    assert kinds(cs, "noun") == ["elephants", "field"]
    assert one(cs, "noun", "elephants").lemma == "elephant"
    assert relations(cs) == [("elephants", "in", "a field")]


def test_inside_of_gives_way_to_its_complement():
    # "The inside of a room ... CD's" was swapped into "The CD of a room ... inside's"
    cs = concepts("""
        The     DT   det    1
        inside  NN   ROOT   1
        of      IN   prep   1
        a       DT   det    4
        room    NN   pobj   2
    """)
    assert kinds(cs, "noun") == ["room"]
