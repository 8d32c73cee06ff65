"""iccc.parsing.rules._resolve: which entity a token, a verb's subject, a pronoun stands for
(``Entities``, built by pass 3 and read by passes 4 and 5)."""

from __future__ import annotations

from test_rules import passes, tokens

from iccc.parsing.rules._resolve import Entities


def entities(table: str) -> Entities:
    return passes(table, "entities").entities


def test_an_entity_head_stands_for_itself_and_a_compound_part_for_its_head():
    e = entities("""
        a        DT  det       2
        fire     NN  compound  2
        hydrant  NN  ROOT      2
    """)
    assert e.entity(2) == 2 and e.entity(1) == 2
    assert e.entity(0) is None  # a determiner stands for nothing


def test_a_redirected_noun_stands_for_its_complement():
    e = entities("""
        a          DT   det   1
        herd       NN   ROOT  1
        of         IN   prep  1
        elephants  NNS  pobj  2  elephant
    """)
    assert e.redirect == {1: 3} and e.entity(1) == 3 and e.resolve(1) == 3


def test_redirects_that_loop_end_where_the_loop_closes():
    e = Entities(tokens("""
        herd  NN  ROOT  0
    """), {1: 2, 2: 1}, set())
    assert e.resolve(1) == 1 and e.resolve(2) == 2 and e.resolve(0) == 0


def test_relative_pronouns_stand_for_the_noun_the_clause_modifies():
    e = entities("""
        a       DT   det    1
        man     NN   ROOT   1
        who     WP   nsubj  4
        is      VBZ/AUX  aux  4  be
        riding  VBG  relcl  1  ride
        a       DT   det    6
        horse   NN   dobj   4
    """)
    assert e.entity(2) == 1 and e.subject(4) == 1
    e = entities("""
        a       DT   det    1
        game    NN   ROOT   1
        in      IN   prep   5
        which   WDT  pobj   2
        batter  NN   nsubj  5
        swung   VBD  relcl  1  swing
    """)
    assert e.entity(3) == 1  # "in which": the game


def test_a_resumptive_pronoun_stands_for_the_carrier():
    e = entities("""
        a        DT   det   1
        table    NN   ROOT  1
        with     IN   prep  1
        laptops  NNS  pobj  2  laptop
        on       IN   prep  3
        it       PRP  pobj  4
    """)
    assert e.entity(5) == 1 and e.antecedent(5) == 1
    e = entities("""
        the    DT   det    1
        pot    NN   nsubj  2
        has    VBZ  ROOT   2  have
        flowers  NNS dobj  2  flower
        in     IN   prep   3
        it     PRP  pobj   4
    """)
    assert e.entity(5) == 1  # "the pot has flowers in it": the pot


def test_subjects():
    e = entities("""
        there  EX   expl  1
        is     VBZ  ROOT  1  be
        a      DT   det   3
        dog    NN   attr  1
    """)
    assert e.subject(1) == 3  # "there is a dog"
    e = entities("""
        man     NN   npadvmod  1
        riding  VBG  ROOT      1  ride
        a       DT   det       3
        horse   NN   dobj      1
    """)
    assert e.subject(1) == 0  # a fragment: the noun left of a subjectless root
    e = entities("""
        a        DT   det    1
        dog      NN   nsubj  2
        runs     VBZ  ROOT   2  run
        and      CC   cc     2
        jumps    VBZ  conj   2  jump
    """)
    assert e.subject(4) == 1  # a coordinated verb shares the subject
    assert e.subject(1) is None  # a noun has no subject


def test_a_participle_after_with_describes_the_carrier():
    e = entities("""
        a        DT   det   1
        man      NN   ROOT  1
        with     IN   prep  1
        a        DT   det   4
        bag      NN   pobj  2
        walking  VBG  acl   4  walk
    """)
    assert e.with_pair(5) == (1, 4)
    assert e.subject(5) == 1  # the man walks, not the bag


def test_the_wearer_of_a_worn_object_is_the_carrier():
    e = entities("""
        a        DT   det    1
        man      NN   nsubj  2
        wearing  VBG  ROOT   2  wear
        red      JJ   amod   4
        shoes    NNS  dobj   2  shoe
        walking  VBG  acl    4  walk
    """)
    assert e.with_pair(5) == (1, 4) and e.subject(5) == 1


def test_partner_of_coordinated_entities():
    e = entities("""
        a    DT  det   1
        cat  NN  ROOT  1
        and  CC  cc    1
        a    DT  det   4
        dog  NN  conj  1
    """)
    assert e.partner(1) == 4 and e.partner(4) == 1
    e = entities("""
        a    DT  det   1
        cat  NN  ROOT  1
    """)
    assert e.partner(1) is None


def test_the_subject_of_a_clause_under_a_predicative_adjective_is_the_adjectives():
    # "a man getting ready/acomp to eat/xcomp a pizza": the man eats
    s = passes("""
        a        DT   det    1
        man      NN   ROOT   1
        getting  VBG  acl    1  get
        ready    JJ   acomp  2
        to       TO   aux    5
        eat      VB   xcomp  3
        a        DT   det    7
        pizza    NN   dobj   5
    """)
    assert s.entities.subject(5) == 1
