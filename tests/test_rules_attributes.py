"""Attributes, iccc.parsing.rules._attributes: ``Attributes`` (the modifiers the entity pass
meets) and pass 4, ``find_predicative_attributes``, on the passes themselves and in the concepts."""

from __future__ import annotations

import pytest
from test_rules import concepts, kinds, one, passes, protos_of, relations, tokens

from iccc.parsing.rules._attributes import Attributes, find_predicative_attributes


def added(table: str, *pairs: tuple[int, int]) -> list[tuple]:
    """``(first, last, lemma, noun)`` of the attributes that ``Attributes.add(a, noun)`` makes of
    each ``(a, noun)`` pair, in turn, on ``table``'s tokens."""
    t = tokens(table)
    protos: list[tuple] = []
    attributes = Attributes(t, protos)
    for a, noun in pairs:
        attributes.add(a, noun)
    return [(p[2], p[3], p[5], p[7]) for p in protos]


# ---------------------------------------------------------------------------- Attributes.add
def test_an_adjective_is_an_attribute_of_the_noun_once():
    table = """
        a      DT  det   2
        black  JJ  amod  2
        dog    NN  ROOT  2
    """
    assert added(table, (1, 2)) == [(1, 1, "black", 2)]
    assert added(table, (1, 2), (1, 2)) == [(1, 1, "black", 2)]  # a token is used once


@pytest.mark.parametrize(
    "word, tag",
    [("other", "JJ"), ("top", "JJ"), ("3d", "JJ"), ("a", "DT"), ("fire", "NN"), ("x" * 41, "JJ")],
)
def test_stop_words_determiners_nouns_and_non_words_are_no_attributes(word, tag):
    assert added(f"""
        {word}  {tag}  amod  1
        dog     NN     ROOT  1
    """, (0, 1)) == []


def test_colour_and_material_nouns_are_attributes():
    assert added("""
        metal  NN  compound  1
        pole   NN  ROOT      1
    """, (0, 1)) == [(0, 0, "metal", 1)]


def test_hyphenated_adjectives_stay_whole_and_their_first_part_is_none():
    table = """
        a        DT    det    4
        middle+  JJ    amod   3
        -+       HYPH  punct  3
        aged     JJ    amod   4
        man      NN    ROOT   4
    """
    assert added(table, (1, 4)) == []
    assert added(table, (3, 4)) == [(1, 3, "middle-aged", 4)]


def test_a_linking_participle_joins_the_adjective_before_it_or_is_nothing():
    table = """
        an       DT   det    3
        odd      JJ   amod   3
        looking  VBG  amod   3  look
        toilet   NN   ROOT   3
    """
    assert added(table, (1, 3)) == []  # "odd" waits for "looking"
    assert added(table, (1, 3), (2, 3)) == [(1, 2, "odd looking", 3)]
    assert added("""
        a        DT   det    2
        looking  VBG  amod   2  look
        glass    NN   ROOT   2
    """, (1, 2)) == []


def test_a_participle_keeps_its_form():
    assert added("""
        parked  VBN  amod  1  park
        car     NN   ROOT  1
    """, (0, 1)) == [(0, 0, "parked", 1)]


def test_add_modifier_takes_coordinated_and_stacked_adjectives_but_not_degree_words():
    t = tokens("""
        a           DT  det   6
        light       JJ  amod  2
        white       JJ  amod  3
        sleeveless  JJ  amod  6
        and         CC  cc    3
        long        JJ  conj  3
        shirt       NN  ROOT  6
    """)
    protos: list[tuple] = []
    attributes = Attributes(t, protos)
    attributes.add_modifier(3, 6)
    # "light" grades the colour after it: one attribute "light white", never "light" alone
    assert [p[5] for p in protos] == ["sleeveless", "light white", "long"]
    assert attributes.used == {1, 2, 3, 5}


def test_a_participle_that_relates_a_nominal_is_queued_as_a_relation():
    t = tokens("""
        a         DT   det       3
        snow      NN   npadvmod  2
        covered   VBN  amod      3  cover
        mountain  NN   ROOT      3
    """)
    protos: list[tuple] = []
    attributes = Attributes(t, protos)
    attributes.add_modifier(2, 3)
    assert protos == [] and attributes.relation_verbs == {2} and attributes.participles == [(1, 2, 3)]


# ---------------------------------------------------------------------------- pass 4
def test_predicative_adjectives_go_to_the_subject():
    s = passes("""
        the     DT   det    1
        sky     NN   nsubj  2
        is      VBZ/AUX  ROOT   2  be
        blue    JJ   acomp  2
        and     CC   cc     3
        cloudy  JJ   conj   3
    """, "entities")
    assert protos_of(s, "attribute") == []
    find_predicative_attributes(s.tokens, s.entities, s.attributes, s.qualities)
    assert [(p[2], p[5], p[7]) for p in s.protos if p[1] == "attribute"] == [(3, "blue", 1), (5, "cloudy", 1)]


def test_qualities_go_to_the_entity_or_the_subject_they_describe():
    s = passes("""
        a        DT   det    1
        person   NN   ROOT   1
        dressed  VBN  acl    1  dress
        in       IN   prep   2
        blue     NN   pobj   3
    """, "entities")
    assert s.qualities == [4]
    find_predicative_attributes(s.tokens, s.entities, s.attributes, s.qualities)
    assert [(p[2], p[5], p[7]) for p in s.protos if p[1] == "attribute"] == [(4, "blue", 1)]


def test_adjectives_under_meta_verbs_describe_nothing():
    s = passes("""
        a       DT   det    1
        photo   NN   nsubj  2
        shows   VBZ  ROOT   2  show
        blue    JJ   oprd   2
    """, "entities")
    before = list(s.protos)
    find_predicative_attributes(s.tokens, s.entities, s.attributes, s.qualities)
    assert s.protos == before


# ---------------------------------------------------------------------------- in the concepts
def test_coordinated_and_stacked_adjectives_are_all_attributes():
    cs = concepts("""
        a           DT  det   5
        white       JJ  amod  2
        sleeveless  JJ  amod  5
        and         CC  cc    2
        long        JJ  conj  2
        shirt       NN  ROOT  5
    """)
    assert kinds(cs, "attribute") == ["white", "sleeveless", "long"]
    assert all(cs[a.head].text == "shirt" for a in cs if a.kind == "attribute")


def test_degree_adjective_is_not_lifted_to_the_noun():
    # hung on the colour, the shade is part of it ("light blue"), never an attribute of the shirt
    cs = concepts("""
        a      DT  det   2
        light  JJ  amod  2
        blue   JJ  amod  3
        shirt  NN  ROOT  3
    """)
    assert kinds(cs, "attribute") == ["light blue"]
    cs = concepts("""
        a     DT  det   2
        very  JJ  amod  2
        tall  JJ  amod  3
        man   NN  ROOT  3
    """)
    assert kinds(cs, "attribute") == ["tall"]


def test_predicative_adjectives_describe_the_subject():
    cs = concepts("""
        the  DT   det    1
        sky  NN   nsubj  2
        is   VBZ/AUX  ROOT   2  be
        blue  JJ  acomp  2
        and  CC   cc     3
        cloudy  JJ  conj  3
    """)
    assert kinds(cs, "attribute") == ["blue", "cloudy"]
    assert {cs[a.head].text for a in cs if a.kind == "attribute"} == {"sky"}
    assert kinds(cs, "verb") == []  # "be" is not a verb concept


def test_colour_in_a_noun_slot_is_an_attribute_of_the_wearer():
    cs = concepts("""
        a        DT   det    1
        person   NN   ROOT   1
        dressed  VBN  acl    1  dress
        in       IN   prep   2
        blue     JJ   pobj   3
    """)
    assert kinds(cs, "entity") == ["a person"]
    assert cs[one(cs, "attribute", "blue").head].text == "person"
    assert relations(cs) == []


def test_participle_modifier_keeps_its_form_as_attribute_lemma():
    cs = concepts("""
        a       DT   det   2
        parked  VBN  amod  2  park
        car     NN   ROOT  2
    """)
    assert one(cs, "attribute").lemma == "parked"


def test_first_part_of_a_hyphenated_adjective_is_no_attribute_of_its_own():
    cs = concepts("""
        a        DT    det    4
        middle+  JJ    amod   3
        -+       HYPH  punct  3
        aged     JJ    amod   4
        man      NN    ROOT   4
    """)
    assert kinds(cs, "attribute") == ["middle-aged"]


def test_participle_of_a_linking_verb_forms_one_attribute_with_the_adjective_before_it():
    # "an odd looking toilet": "looking" alone is no attribute ("a closed toilet" -> "a looking toilet")
    cs = concepts("""
        an       DT   det    3
        odd      JJ   amod   3
        looking  VBG  amod   3  look
        toilet   NN   nsubj  4
        is       VBZ  ROOT   4  be
        against  IN   prep   4
        a        DT   det    7
        wall     NN   pobj   5
    """)
    attribute = one(cs, "attribute")
    assert (attribute.text, attribute.lemma) == ("odd looking", "odd looking")
    # the parser may hang the adjective on the participle instead
    cs = concepts("""
        a        DT   det     3
        funny    JJ   advmod  2
        looking  VBG  amod    3  look
        dog      NN   ROOT    3
    """)
    assert kinds(cs, "attribute") == ["funny looking"]
    cs = concepts("""
        a        DT   det    2
        looking  VBG  amod   2  look
        glass    NN   ROOT   2
    """)
    assert kinds(cs, "attribute") == []


# ---------------------------------------------------------------------------- shaded colours
@pytest.mark.parametrize("shade, colour", [("light", "blue"), ("dark", "green"), ("bright", "red"), ("dark", "colored")])
def test_a_shade_and_its_colour_are_one_attribute(shade, colour):
    cs = concepts(f"""
        a         DT  det   3
        {shade}   JJ  amod  3
        {colour}  JJ  amod  3
        shirt     NN  ROOT  3
    """)
    attr = one(cs, "attribute")
    assert (attr.text, attr.lemma, attr.tags) == (f"{shade} {colour}", f"{shade} {colour}", "JJ JJ")
    assert cs[attr.head].text == "shirt"


def test_a_shade_hung_on_its_colour_and_a_predicative_shaded_colour():
    cs = concepts("""
        dark    JJ   amod  1
        green   JJ   amod  2
        leaves  NNS  ROOT  2  leaf
    """)
    assert kinds(cs, "attribute") == ["dark green"]
    cs = concepts("""
        the     DT   det    1
        snow    NN   nsubj  2
        is      VBZ/AUX  ROOT   2  be
        bright  JJ   amod   4
        white   JJ   acomp  2
    """)
    assert [(c.text, cs[c.head].text) for c in cs if c.kind == "attribute"] == [("bright white", "snow")]


def test_a_shade_word_alone_stays_an_attribute_of_its_own():
    cs = concepts("""
        a     DT  det   2
        dark  JJ  amod  2
        room  NN  ROOT  2
    """)
    assert kinds(cs, "attribute") == ["dark"]
    cs = concepts("""
        a     DT  det   3
        dark  JJ  amod  3
        big   JJ  amod  3
        room  NN  ROOT  3
    """)
    assert kinds(cs, "attribute") == ["dark", "big"]  # "big" is no colour: two attributes


def test_a_list_of_adjectives_chains_its_conjuncts():
    cs = concepts("""
        red    JJ  amod   5
        ,      ,   punct  0
        white  JJ  conj   0
        and    CC  cc     2
        blue   JJ  conj   2
        tail   NN  ROOT   5
    """)
    assert kinds(cs, "attribute") == ["red", "white", "blue"]
    assert {cs[a.head].text for a in cs if a.kind == "attribute"} == {"tail"}


@pytest.mark.parametrize("word, tag", [("down", "RB"), ("on", "RB"), ("up", "RP")])
def test_a_state_adverb_after_be_is_an_attribute_of_the_subject(word, tag):
    cs = concepts(f"""
        the     DT   det       2
        toilet  NN   compound  2
        seat    NN   nsubj     3
        is      VBZ/AUX  ROOT  3  be
        {word}  {tag}  advmod  3
    """)
    attribute = one(cs, "attribute")
    assert (attribute.text, cs[attribute.head].text) == (word, "toilet seat")


def test_a_state_adverb_after_the_object_of_with_is_its_attribute():
    cs = concepts("""
        a       DT  det   2
        white   JJ  amod  2
        toilet  NN  ROOT  2
        with    IN  prep  2
        the     DT  det   5
        seat    NN  pobj  3
        up      RP  prt   5
    """)
    assert [(a.text, cs[a.head].text) for a in cs if a.kind == "attribute"] == [("white", "toilet"), ("up", "seat")]


def test_a_state_adverb_with_an_object_is_no_attribute():
    cs = concepts("""
        bicycle  NN   nsubj   1
        is       VBZ  ROOT    1  be
        up       RB   advmod  1
        against  IN   prep    2
        the      DT   det     5
        wall     NN   pobj    3
    """)
    assert kinds(cs, "attribute") == []


def test_a_state_adverb_hung_on_the_carrier_after_the_object_of_with_is_the_objects():
    cs = concepts("""
        a      DT  det   2
        young  JJ  amod  2
        man    NN  ROOT  2
        with   IN  prep  2
        hand   NN  pobj  3
        up     RP  prt   2
    """)
    assert [(a.text, cs[a.head].text) for a in cs if a.kind == "attribute"] == [("young", "man"), ("up", "hand")]
