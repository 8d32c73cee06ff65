"""Pass 5, iccc.parsing.rules._relations: verbs and relations, on the pass itself
(``find_relations``) and in the extracted concepts."""

from __future__ import annotations

import pytest
from test_rules import concepts, kinds, one, passes, relations

from iccc.parsing.rules._relations import _Relations, find_relations, symmetric


def relation_tuples(s) -> list[tuple]:
    """``(first, last, head token, lemma, subject head, object head, symmetric)`` of the relations."""
    return [(p[2], p[3], p[4], p[5], p[8], p[9], p[10]) for p in s.protos if p[1] == "relation"]


# ---------------------------------------------------------------------------- the pass itself
def test_a_verb_with_an_object_is_a_verb_and_a_relation_between_entity_heads():
    s = passes("""
        a       DT   det   1
        man     NN   ROOT  1
        riding  VBG  acl   1  ride
        a       DT   det   4
        horse   NN   dobj  2
    """, "attributes")
    n = len(s.protos)
    find_relations(s.tokens, s.entities, s.attributes, s.protos)
    new = s.protos[n:]
    assert [(p[1], p[2], p[5]) for p in new] == [("verb", 2, "ride"), ("relation", 2, "ride")]
    assert relation_tuples(s) == [(2, 2, 2, "ride", 1, 4, False)]


def test_a_relation_is_kept_once_per_span_subject_and_object():
    s = passes("""
        a     DT  det     1
        dog   NN  ROOT    1
        next  RB  advmod  1
        to    IN  prep    2
        a     DT  det     5
        cat   NN  pobj    3
    """, "attributes")
    found = _Relations(s.tokens, s.entities, s.protos, set())
    found._add(2, 3, 3, "next to", 1, 5, True)
    found._add(2, 3, 3, "next to", 1, 5, True)
    found._add(2, 3, 3, "next to", 5, 1, True)  # the other direction is another relation
    assert [(p[8], p[9]) for p in s.protos if p[1] == "relation"] == [(1, 5), (5, 1)]


def test_queued_participles_become_relations_and_no_verbs():
    s = passes("""
        a         DT   det       3
        snow      NN   npadvmod  2
        covered   VBN  amod      3  cover
        mountain  NN   ROOT      3
    """, "attributes")
    assert s.attributes.participles == [(1, 2, 3)]
    find_relations(s.tokens, s.entities, s.attributes, s.protos)
    assert relation_tuples(s) == [(2, 2, 2, "cover", 1, 3, False)]
    assert [p for p in s.protos if p[1] == "verb"] == []


def test_a_relating_participle_is_no_verb_of_its_own():
    s = passes("""
        a       DT   det   1
        man     NN   ROOT  1
        riding  VBG  acl   1  ride
        a       DT   det   4
        horse   NN   dobj  2
    """, "attributes")
    s.attributes.relation_verbs.add(2)  # as the attribute code marks "covered" in "snow covered"
    find_relations(s.tokens, s.entities, s.attributes, s.protos)
    assert [p for p in s.protos if p[1] in ("verb", "relation")] == []


def test_without_entities_there_are_verbs_but_no_relations():
    s = passes("""
        he       PRP  nsubj  1
        smiles   VBZ  ROOT   1  smile
    """)
    assert [(p[1], p[5]) for p in s.protos] == [("verb", "smile")]


@pytest.mark.parametrize(
    "lemma, prep, expected",
    [("sit next to", "next to", True), ("near", "near", True), ("sit on", "on", False), ("with", "with", False),
     ("face", "", True)],
)
def test_symmetric(lemma, prep, expected):
    assert symmetric(lemma, prep) is expected


# ---------------------------------------------------------------------------- in the concepts
def test_verb_with_object_is_a_verb_and_a_relation():
    cs = concepts("""
        a       DT   det   1
        man     NN   ROOT  1
        riding  VBG  acl   1  rid
        a       DT   det   4
        horse   NN   dobj  2
    """)
    verb = one(cs, "verb")
    assert (verb.text, verb.lemma, verb.tag) == ("riding", "ride", "VBG")  # LEMMA_FIXES: not "rid"
    rel = one(cs, "relation")
    assert (rel.text, rel.lemma, rel.symmetric) == ("riding", "ride", False)
    assert relations(cs) == [("a man", "riding", "a horse")]


def test_verb_and_its_preposition_form_one_contiguous_relation():
    cs = concepts("""
        a        DT   det   1
        cat      NN   ROOT  1
        sitting  VBG  acl   1  sit
        on       IN   prep  2
        a        DT   det   5
        mat      NN   pobj  3
    """)
    rel = one(cs, "relation")
    assert (rel.text, rel.lemma, rel.tags, rel.tag, rel.dep) == ("sitting on", "sit on", "VBG IN", "VBG", "acl")
    assert relations(cs) == [("a cat", "sitting on", "a mat")]
    assert kinds(cs, "verb") == ["sitting"]


def test_verb_not_next_to_its_preposition_leaves_the_bare_preposition():
    cs = concepts("""
        a        DT   det   1
        man      NN   ROOT  1
        holding  VBG  acl   1  hold
        a        DT   det   4
        cup      NN   dobj  2
        in       IN   prep  2
        the      DT   det   7
        kitchen  NN   pobj  5
    """)
    assert relations(cs) == [("a man", "holding", "a cup"), ("a man", "in", "the kitchen")]


def test_bare_preposition_between_nouns():
    cs = concepts("""
        a      DT  det   1
        cup    NN  ROOT  1
        on     IN  prep  1
        the    DT  det   4
        table  NN  pobj  2
    """)
    rel = one(cs, "relation")
    assert (rel.text, rel.lemma, rel.tag, rel.symmetric) == ("on", "on", "IN", False)
    assert (cs[rel.subj].kind, cs[rel.obj].kind) == ("entity", "entity")
    assert relations(cs) == [("a cup", "on", "the table")]


@pytest.mark.parametrize("noun, prep", [("top", "on"), ("front", "in"), ("middle", "in")])
def test_complex_prepositions_take_their_relational_noun(noun, prep):
    cs = concepts(f"""
        a       DT  det   1
        cat     NN  ROOT  1
        {prep}  IN  prep  1
        the     DT  det   4
        {noun}  NN  pobj  2
        of      IN  prep  4
        a       DT  det   7
        car     NN  pobj  5
    """)
    assert relations(cs) == [("a cat", f"{prep} the {noun} of", "a car")]
    assert kinds(cs, "noun") == ["cat", "car"]  # the relational noun is no entity


def test_next_to_is_one_symmetric_relation():
    cs = concepts("""
        a     DT  det     1
        dog   NN  ROOT    1
        next  RB  advmod  1
        to    IN  prep    2
        a     DT  det     5
        cat   NN  pobj    3
    """)
    rel = one(cs, "relation")
    assert (rel.text, rel.lemma, rel.symmetric) == ("next to", "next to", True)


def test_with_is_not_symmetric():
    cs = concepts("""
        a        DT   det   1
        cake     NN   ROOT  1
        with     IN   prep  1
        candles  NNS  pobj  2  candle
    """)
    assert relations(cs) == [("a cake", "with", "candles")]
    assert one(cs, "relation").symmetric is False


def test_coordination_is_a_symmetric_relation_on_the_conjunction():
    cs = concepts("""
        a    DT  det   1
        cat  NN  ROOT  1
        and  CC  cc    1
        a    DT  det   4
        dog  NN  conj  1
    """)
    rel = one(cs, "relation")
    assert (rel.text, rel.tag, rel.symmetric) == ("and", "CC", True)
    assert relations(cs) == [("a cat", "and", "a dog")]


def test_coordination_follows_the_conjunction_when_the_parser_attaches_too_high():
    # "holding a ball and a racket" with "racket" hung on "man"
    cs = concepts("""
        a        DT   det       1
        man      NN   ROOT      1
        holding  VBG  acl       1  hold
        a        DT   det       4
        ball     NN   dobj      2
        and      CC   cc        4
        a        DT   det       7
        racket   NN   conj      1
    """)
    assert ("a ball", "and", "a racket") in relations(cs)


def test_relative_pronoun_subject_is_the_noun_the_clause_modifies():
    cs = concepts("""
        a       DT   det    1
        man     NN   ROOT   1
        who     WP   nsubj  4
        is      VBZ/AUX  aux  4  be
        riding  VBG  relcl  1  ride
        a       DT   det    6
        horse   NN   dobj   4
    """)
    assert relations(cs) == [("a man", "riding", "a horse")]
    assert kinds(cs, "entity") == ["a man", "a horse"]  # "who" is no entity


def test_there_is_opening():
    cs = concepts("""
        there  EX   expl  1
        is     VBZ  ROOT  1  be
        a      DT   det   3
        dog    NN   attr  1
        on     IN   prep  1
        the    DT   det   6
        bed    NN   pobj  4
    """)
    assert relations(cs) == [("a dog", "on", "the bed")]
    assert kinds(cs, "entity") == ["a dog", "the bed"]
    assert kinds(cs, "verb") == []


def test_stranded_preposition_of_a_relative_clause():
    cs = concepts("""
        the      DT   det    1
        sofa     NN   ROOT   1
        the      DT   det    3
        man      NN   nsubj  5
        is       VBZ/AUX  aux  5  be
        sitting  VBG  relcl  1  sit
        on       RP   prt    5
    """)
    assert relations(cs) == [("the man", "sitting on", "the sofa")]


def test_clause_with_two_subjects_is_a_relative_clause_of_the_first():
    # "the table the food is on": the small model makes both nouns subjects of "is"
    cs = concepts("""
        the    DT   det    1
        table  NN   nsubj  4
        the    DT   det    3
        food   NN   nsubj  4
        is     VBZ/AUX  ROOT  4  be
        on     IN   prep   4
    """)
    assert relations(cs) == [("the food", "on", "the table")]


def test_resumptive_pronoun_points_back_to_the_carrier():
    cs = concepts("""
        a        DT   det   1
        table    NN   ROOT  1
        with     IN   prep  1
        laptops  NNS  pobj  2  laptop
        on       IN   prep  3
        it       PRP  pobj  4
    """)
    assert relations(cs) == [("laptops", "on", "a table")]  # and no "with": it only connects


def test_participle_after_with_describes_the_carrier():
    cs = concepts("""
        a        DT   det   1
        man      NN   ROOT  1
        with     IN   prep  1
        a        DT   det   4
        bag      NN   pobj  2
        walking  VBG  acl   4  walk
        down     IN   prep  5
        the      DT   det   8
        street   NN   pobj  6
    """)
    assert ("a man", "walking down", "the street") in relations(cs)
    assert ("a man", "with", "a bag") in relations(cs)


def test_reciprocal_object_relates_the_coordinated_pair():
    cs = concepts("""
        a       DT  det     1
        toilet  NN  ROOT    1
        and     CC  cc      1
        a       DT  det     4
        sink    NN  conj    1
        next    RB  advmod  1
        to      IN  prep    5
        each    DT  det     8
        other   JJ  pobj    6
    """)
    assert ("a toilet", "next to", "a sink") in relations(cs)
    assert kinds(cs, "entity") == ["a toilet", "a sink"]


def test_noun_participle_compound_is_a_relation():
    cs = concepts("""
        a         DT   det       4
        snow      NN   npadvmod  2
        covered   VBN  amod      4  cover
        mountain  NN   compound  4
        range     NN   ROOT      4
    """)
    assert relations(cs) == [("snow", "covered", "a snow covered mountain range")]
    assert kinds(cs, "attribute") == []  # "covered" is the relation, not an attribute
    assert kinds(cs, "noun") == ["snow", "mountain range"]


def test_of_after_a_verb_is_a_relation():
    cs = concepts("""
        the    DT   det        1
        floor  NN   nsubjpass  3
        is     VBZ/AUX  auxpass  3  be
        made   VBN  ROOT       3  make
        of     IN   prep       3
        tile   NN   pobj       4
    """)
    assert relations(cs) == [("the floor", "made of", "tile")]


def test_particle_before_the_object_joins_the_verb():
    cs = concepts("""
        a        DT   det   1
        person   NN   ROOT  1
        walking  VBG  acl   1  walk
        down     IN   prep  2
        the      DT   det   5
        steps    NNS  dobj  2  step
    """)
    assert relations(cs) == [("a person", "walking down", "the steps")]


def test_relative_pronoun_in_a_prepositional_phrase():
    cs = concepts("""
        a       DT   det    1
        game    NN   ROOT   1
        in      IN   prep   5
        which   WDT  pobj   2
        batter  NN   nsubj  5
        swung   VBD  relcl  1  swing
        at      IN   prep   5
        the     DT   det    8
        ball    NN   pobj   6
    """)
    assert relations(cs) == [("batter", "in", "a game"), ("batter", "swung at", "the ball")]


def test_verb_with_a_direct_object_leaves_its_preposition_bare():
    # "men climbing on board a bus": "climbing" relates the bus, "on" the board
    cs = concepts("""
        men       NNS  ROOT  0  man
        climbing  VBG  acl   0  climb
        on        IN   prep  1
        board     NN   pobj  2
        a         DT   det   5
        bus       NN   dobj  1
    """)
    assert relations(cs) == [("men", "climbing", "a bus"), ("men", "on", "board")]


# ---------------------------------------------------------------------------- particles and adverbials
# A particle or directional adverb that no object follows is a relation without an object
# (``obj == -1``): the verb with it, or the particle alone when the verb's object separates them.
def test_a_verb_and_its_particle_without_an_object_are_a_relation_without_object():
    cs = concepts("""
        a        DT   det   1
        man      NN   ROOT  1
        sitting  VBG  acl   1  sit
        down     RP   prt   2
    """)
    rel = one(cs, "relation")
    assert relations(cs) == [("a man", "sitting down", None)]
    assert (rel.lemma, rel.tags, rel.obj, rel.symmetric) == ("sit down", "VBG RP", -1, False)
    assert kinds(cs, "verb") == ["sitting"]  # the verb stays a verb concept of its own


@pytest.mark.parametrize(
    "verb, lemma, particle, tag, dep",
    [
        ("standing", "stand", "up", "RP", "prt"),
        ("looking", "look", "out", "RP", "prt"),
        ("lying", "lie", "down", "RP", "prt"),
        ("walking", "walk", "away", "RB", "advmod"),
        ("sitting", "sit", "outside", "RB", "advmod"),
        ("walking", "walk", "down", "IN", "prep"),  # a bare preposition with no object is adverbial
    ],
)
def test_particles_and_directional_adverbs_form_relations_without_object(verb, lemma, particle, tag, dep):
    cs = concepts(f"""
        the      DT   det    1
        boy      NN   nsubj  3
        is       VBZ  aux    3  be
        {verb}   VBG  ROOT   3  {lemma}
        {particle}  {tag}  {dep}  3
    """)
    assert relations(cs) == [("the boy", f"{verb} {particle}", None)]
    assert one(cs, "relation").lemma == f"{lemma} {particle}"


def test_other_adverbs_are_no_relations():
    cs = concepts("""
        the      DT   det    1
        boy      NN   nsubj  3
        is       VBZ  aux    3  be
        smiling  VBG  ROOT   3  smile
        happily  RB   advmod 3
    """)
    assert relations(cs) == []


def test_a_particle_after_the_object_is_a_relation_of_its_own():
    # "A man throws the ball up": "throws" relates the ball, "up" has the thrower as subject
    cs = concepts("""
        A       DT   det    1
        man     NN   nsubj  2
        throws  VBZ  ROOT   2  throw
        the     DT   det    4
        ball    NN   dobj   2
        up      RP   prt    2
    """)
    assert relations(cs) == [("A man", "throws", "the ball"), ("A man", "up", None)]
    up = one(cs, "relation", "up")
    assert (up.lemma, up.tag, up.obj) == ("up", "RP", -1)


def test_a_particle_before_an_object_stays_part_of_the_verb():
    cs = concepts("""
        a        DT   det   1
        kid      NN   ROOT  1
        picking  VBG  acl   1  pick
        up       RP   prt   2
        a        DT   det   5
        toy      NN   dobj  2
    """)
    assert relations(cs) == [("a kid", "picking up", "a toy")]


def test_a_particle_before_a_preposition_stays_in_the_relation_with_an_object():
    cs = concepts("""
        people   NNS  nsubj  2  people
        are      VBP  aux    2  be
        sitting  VBG  ROOT   2  sit
        down     RP   prt    2
        on       IN   prep   2
        a        DT   det    6
        bench    NN   pobj   4
    """)
    assert relations(cs) == [("people", "sitting down on", "a bench")]


def test_a_particle_without_a_subject_is_no_relation():
    cs = concepts("""
        sit    VB  ROOT  0
        down   RP  prt   0
    """)
    assert [c for c in cs if c.kind == "relation"] == []


def test_particle_relations_survive_the_dictionary_round_trip():
    from iccc import Concept

    cs = concepts("""
        a        DT   det   1
        man      NN   ROOT  1
        sitting  VBG  acl   1  sit
        down     RP   prt   2
    """)
    assert [Concept.from_dict(c.to_dict()) for c in cs] == cs


@pytest.mark.model
def test_particle_relations_on_real_captions(nlp):
    from iccc.parsing import extract

    for text, expected in [
        ("A man throws the ball up.", ("A man", "up", None)),
        ("A man sitting down.", ("A man", "sitting down", None)),
        ("A cat looking out.", ("A cat", "looking out", None)),
        ("A boy standing up.", ("A boy", "standing up", None)),
    ]:
        assert expected in relations(extract(nlp(text))), text
    # with an object, nothing changes
    assert relations(extract(nlp("A dog looking out the window."))) == [("A dog", "looking out", "the window")]


# ---------------------------------------------------------------------------- where the object is placed
def test_preposition_after_the_object_of_have_places_the_object():
    cs = concepts("""
        the       DT    det    1
        elephant  NN    nsubj  2
        has       VBZ   ROOT   2  have
        food      NN    dobj   2
        in        IN    prep   2
        its       PRP$  poss   6
        mouth     NN    pobj   4
    """)
    assert relations(cs) == [("the elephant", "has", "food"), ("food", "in", "its mouth")]


def test_preposition_with_a_possessed_place_places_the_object():
    cs = concepts("""
        person    NN    ROOT  0
        carrying  VBG   acl   0  carry
        dog       NN    dobj  1
        on        IN    prep  1
        his       PRP$  poss  5
        back      NN    pobj  3
    """)
    assert relations(cs) == [("person", "carrying", "dog"), ("dog", "on", "his back")]


def test_with_before_a_resumptive_preposition_on_the_carrier_relates_the_accessory():
    # "a red chair with a white dog on/->chair it": the dog is on the chair, no "with"
    cs = concepts("""
        red    JJ   amod  1
        chair  NN   ROOT  1
        with   IN   prep  1
        white  JJ   amod  4
        dog    NN   pobj  2
        on     IN   prep  1
        it     PRP  pobj  5
    """)
    assert relations(cs) == [("white dog", "on", "red chair")]


def test_preposition_of_a_predicative_adjective_relates_the_subject():
    cs = concepts("""
        a        DT   det    1
        roof     NN   nsubj  2
        is       VBZ  ROOT   2  be
        visible  JJ   acomp  2
        behind   IN   prep   3
        the      DT   det    6
        wall     NN   pobj   4
    """)
    assert relations(cs) == [("a roof", "behind", "the wall")]


def test_directional_adverb_before_a_preposition_is_part_of_the_relation():
    cs = concepts("""
        bicycle  NN   nsubj   1
        is       VBZ  ROOT    1  be
        up       RB   advmod  1
        against  IN   prep    2
        the      DT   det     5
        wall     NN   pobj    3
    """)
    assert relations(cs) == [("bicycle", "up against", "the wall")]


def test_preposition_with_a_body_part_after_the_object_places_the_object():
    cs = concepts("""
        woman    NN   ROOT  0
        holding  VBG  acl   0  hold
        papers   NNS  dobj  1  paper
        in       IN   prep  1
        hand     NN   pobj  3
    """)
    assert relations(cs) == [("woman", "holding", "papers"), ("papers", "in", "hand")]


@pytest.mark.parametrize("verb, lemma", [("waiting", "wait"), ("reaching", "reach")])
def test_for_after_a_verb_it_completes_is_a_relation(verb, lemma):
    cs = concepts(f"""
        a       DT   det   1
        person  NN   ROOT  1
        {verb}  VBG  acl   1  {lemma}
        for     IN   prep  2
        the     DT   det   5
        train   NN   pobj  3
    """)
    assert relations(cs) == [("a person", f"{verb} for", "the train")]
    assert one(cs, "relation").lemma == f"{lemma} for"


def test_for_of_purpose_is_no_relation():
    cs = concepts("""
        a       DT   det   1
        man     NN   ROOT  1
        posing  VBG  acl   1  pose
        in      IN   prep  2
        a       DT   det   5
        suit    NN   pobj  3
        for     IN   prep  2
        the     DT   det   8
        camera  NN   pobj  6
    """)
    assert relations(cs) == [("a man", "posing in", "a suit")]
    cs = concepts("""
        a      DT   det   1
        cake   NN   ROOT  1
        for    IN   prep  1
        the    DT   det   4
        party  NN   pobj  2
    """)
    assert relations(cs) == []


@pytest.mark.parametrize("adverb", ["inside", "outside", "off"])
def test_adverb_and_of_form_a_complex_preposition(adverb):
    cs = concepts(f"""
        food      NN  ROOT    0
        {adverb}  RB  advmod  0
        of        IN  prep    1
        white     JJ  amod    4
        bowl      NN  pobj    2
    """)
    assert relations(cs) == [("food", f"{adverb} of", "white bowl")]


def test_a_preposition_read_as_the_root_relates_its_subject():
    cs = concepts("""
        a      DT  det    1
        trash  NN  nsubj  3
        can    MD  aux    3
        next   RB  ROOT   3
        to     IN  prep   3
        the    DT  det    6
        stove  NN  pobj   4
    """)
    assert relations(cs) == [("a trash can", "next to", "the stove")]
    cs = concepts("""
        four    CD   nummod    1
        people  NNS  npadvmod  2  people
        out     RP   ROOT      2
        in      IN   prep      2
        the     DT   det       5
        snow    NN   pobj      3
    """)
    assert relations(cs) == [("four people", "in", "the snow")]


def test_a_root_adverb_after_the_object_of_with_belongs_to_that_object():
    cs = concepts("""
        a      DT    det    1
        woman  NN    nsubj  5
        with   IN    prep   1
        her    PRP$  poss   4
        hair   NN    pobj   2
        up     RP    ROOT   5
        in     IN    prep   5
        a      DT    det    8
        bun    NN    pobj   6
    """)
    assert ("her hair", "in", "a bun") in relations(cs)
    assert ("a woman", "in", "a bun") not in relations(cs)


def test_a_framing_verb_relates_a_thing_that_shows_something():
    cs = concepts("""
        a           DT   det   1
        mannequin   NN   ROOT  1
        displaying  VBG  acl   1  display
        an          DT   det   4
        outfit      NN   dobj  2
    """)
    assert relations(cs) == [("a mannequin", "displaying", "an outfit")]
    assert kinds(cs, "verb") == ["displaying"]


def test_a_framing_verb_of_a_picture_is_no_concept():
    cs = concepts("""
        a        DT   det   1
        photo    NN   ROOT  1
        showing  VBG  acl   1  show
        a        DT   det   4
        dog      NN   dobj  2
    """)
    assert relations(cs) == []
    assert kinds(cs, "verb") == []


def test_a_preposition_after_a_body_part_that_with_gives_places_the_part():
    cs = concepts("""
        man      NN    ROOT  0
        with     IN    prep  0
        his      PRP$  poss  3
        hands    NNS   pobj  1  hand
        in       IN    prep  0
        his      PRP$  poss  6
        pockets  NNS   pobj  4  pocket
    """)
    assert relations(cs) == [("man", "with", "his hands"), ("his hands", "in", "his pockets")]


def test_a_preposition_after_another_with_object_still_places_the_carrier():
    cs = concepts("""
        man   NN   ROOT  0
        with  IN   prep  0
        a     DT   det   3
        dog   NN   pobj  1
        on    IN   prep  0
        the   DT   det   6
        beach NN   pobj  4
    """)
    assert relations(cs) == [("man", "with", "a dog"), ("man", "on", "the beach")]


def test_have_with_a_resumptive_preposition_of_its_own_is_that_preposition():
    cs = concepts("""
        the       DT   det    1
        building  NN   nsubj  2
        has       VBZ  ROOT   2  have
        bricks    NNS  dobj   2  brick
        on        IN   prep   2
        it        PRP  pobj   4
    """)
    assert relations(cs) == [("bricks", "on", "the building")]


def test_a_preposition_tagged_as_an_adjective_relates():
    cs = concepts("""
        airplane  NN   nsubj  1
        parked    VBN  ROOT   1  park
        outside   JJ   prep   1
        building  NN   pobj   2
    """)
    assert relations(cs) == [("airplane", "parked outside", "building")]


def test_from_before_another_preposition_joins_it():
    cs = concepts("""
        woman    NN   ROOT  0
        looking  VBG  acl   0  look
        at       IN   prep  1
        cows     NNS  pobj  2  cow
        from     IN   prep  1
        inside   IN   prep  4
        a        DT   det   7
        car      NN   pobj  5
    """)
    assert relations(cs) == [("woman", "looking at", "cows"), ("woman", "from inside", "a car")]
