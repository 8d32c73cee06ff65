"""Pass 1, iccc.parsing.rules._tags: the repairs of the parser's slips, on the token lists
(``repair_tags``) and as they show in the extracted concepts."""

from __future__ import annotations

import pytest
from test_rules import concepts, kinds, one, relations, tokens

from iccc.parsing.rules._tags import gerund_lemma, repair_tags

# ---------------------------------------------------------------------------- on the token lists


def test_caption_initial_base_form_verb_becomes_a_noun_in_the_lists():
    t = tokens("""
        spoon  VB  ROOT  0
        on     IN  prep  0
        the    DT  det   3
        table  NN  pobj  1
    """)
    assert repair_tags(t) == []
    assert (t.tag[0], t.nominal[0], t.verbal[0], t.lemma[0]) == ("NN", True, False, "spoon")


def test_a_modal_after_a_determiner_becomes_a_noun():
    t = tokens("""
        a    DT  det   1
        can  MD  ROOT  1
    """)
    repair_tags(t)
    assert (t.tag[1], t.nominal[1]) == ("NN", True)


def test_third_person_verb_becomes_a_plural_noun_keeping_its_lemma():
    t = tokens("""
        oranges  VBZ  ROOT  0  orange
        in       IN   prep  0
        a        DT   det   3
        bowl     NN   pobj  1
    """)
    repair_tags(t)
    assert (t.tag[0], t.nominal[0], t.lemma[0]) == ("NNS", True, "orange")


def test_subject_and_plural_verb_become_one_compound_noun():
    t = tokens("""
        bathroom  NN   nsubj  1
        sink      VBP  ROOT   1
        on        IN   prep   1
        wall      NN   pobj   2
    """)
    repair_tags(t)
    assert (t.tag[1], t.nominal[1], t.dep[0], t.head[0]) == ("NN", True, "compound", 1)


def test_caption_initial_purpose_gerund_becomes_a_compound_of_its_object():
    t = tokens("""
        cutting  VBG  ROOT  0  cut
        board    NN   dobj  0
        on       IN   prep  0
        counter  NN   pobj  2
    """)
    repair_tags(t)
    assert (t.head[0], t.dep[0], t.verbal[0]) == (1, "compound", False)
    assert (t.head[1], t.dep[1]) == (1, "ROOT")
    assert t.head[2] == 1 and t.children[1] == [0, 2]


def test_root_ing_noun_takes_the_noun_before_it_as_subject():
    t = tokens("""
        adult    NN  compound  1
        giraffe  NN  compound  2
        grazing  NN  ROOT      2
        on       IN  prep      2
        tree     NN  pobj      3
    """)
    repair_tags(t)
    assert (t.verbal[2], t.nominal[2], t.tag[2], t.lemma[2]) == (True, False, "VBG", "graze")
    assert (t.head[1], t.dep[1]) == (2, "nsubj")
    assert (t.head[0], t.dep[0]) == (1, "compound")  # "adult" moves with its noun


def test_clausal_ing_noun_becomes_a_verb():
    t = tokens("""
        a       DT  det   1
        man     NN  ROOT  1
        skiing  NN  acl   1
        down    IN  prep  2
        hill    NN  pobj  3
    """)
    repair_tags(t)
    assert (t.verbal[2], t.tag[2], t.lemma[2]) == (True, "VBG", "ski")


def test_adjective_ending_noun_becomes_a_predicative_adjective():
    t = tokens("""
        airplane    NN   nsubj  1
        stands      VBZ  ROOT   1  stand
        motionless  NN   dobj   1
    """)
    repair_tags(t)
    assert (t.pos[2], t.tag[2], t.dep[2], t.nominal[2]) == ("ADJ", "JJ", "acomp", False)


def test_two_subjects_make_a_relative_clause_of_the_first():
    t = tokens("""
        the    DT   det    1
        table  NN   nsubj  4
        the    DT   det    3
        food   NN   nsubj  4
        is     VBZ/AUX  ROOT  4  be
        on     IN   prep   4
    """)
    repair_tags(t)
    assert (t.head[1], t.dep[1]) == (1, "ROOT")  # the table heads the caption
    assert (t.head[4], t.dep[4]) == (1, "relcl")  # "the food is on" modifies it
    assert t.head[0] == 1 and t.head[3] == 4


def test_two_adjacent_subjects_become_a_compound():
    t = tokens("""
        a       DT   det        1
        toilet  NN   nsubjpass  4
        lid     NN   nsubjpass  4
        is      VBZ/AUX  auxpass  4  be
        closed  VBN  ROOT       4  close
    """)
    repair_tags(t)
    assert (t.head[1], t.dep[1]) == (2, "compound")
    assert t.head[0] == 2  # the determiner follows the noun it belongs to


def test_caption_initial_participle_becomes_a_modifier_of_its_object():
    t = tokens("""
        parked    VBD  ROOT  0  park
        black     JJ   amod  2
        car       NN   dobj  0
        beside    IN   prep  0
        building  NN   pobj  3
    """)
    repair_tags(t)
    assert (t.head[2], t.dep[2]) == (2, "ROOT")
    assert (t.head[0], t.dep[0], t.tag[0], t.verbal[0]) == (2, "amod", "VBN", False)
    assert t.head[3] == 2


def test_colours_in_noun_slots_are_returned_as_qualities():
    t = tokens("""
        a        DT   det    1
        person   NN   ROOT   1
        dressed  VBN  acl    1  dress
        in       IN   prep   2
        blue     NN   pobj   3
        and      CC   cc     4
        white    NN   conj   4
    """)
    assert repair_tags(t) == [4, 6]
    assert t.nominal[4] is False and t.nominal[6] is False
    t = tokens("""
        the   DT   det    1
        step  NN   nsubj  2
        is    VBZ/AUX  ROOT  2  be
        stone NN   attr   2
    """)
    assert repair_tags(t) == [3]  # a predicative material
    t = tokens("""
        a      DT  det   1
        piece  NN  ROOT  1
        of     IN  prep  1
        gold   NN  pobj  2
    """)
    assert repair_tags(t) == []  # "of gold" names a thing


def test_real_verbs_and_nouns_are_left_unchanged():
    table = """
        two   CD   nummod 1
        dogs  NNS  nsubj  2  dog
        run   VBP  ROOT   2
        on    IN   prep   2
        the   DT   det    5
        beach  NN  pobj   3
    """
    t, untouched = tokens(table), tokens(table)
    assert repair_tags(t) == []
    assert [getattr(t, a) for a in t.__slots__] == [getattr(untouched, a) for a in t.__slots__]


@pytest.mark.parametrize(
    "word, lemma",
    [("playing", "play"), ("sitting", "sit"), ("running", "run"), ("hiking", "hike"), ("riding", "ride"),
     ("seeing", "see"), ("eating", "eat"), ("grazing", "graze"), ("table", "table"), ("calling", "call")],
)
def test_gerund_lemma(word, lemma):
    assert gerund_lemma(word) == lemma


# ---------------------------------------------------------------------------- in the concepts
def test_two_adjacent_subjects_are_one_compound():
    cs = concepts("""
        a       DT   det        1
        toilet  NN   nsubjpass  4
        lid     NN   nsubjpass  4
        is      VBZ/AUX  auxpass  4  be
        closed  VBN  ROOT       4  close
    """)
    assert kinds(cs, "noun") == ["toilet lid"]
    assert kinds(cs, "entity") == ["a toilet lid"]
    assert relations(cs) == []


def test_caption_initial_base_form_verb_is_a_noun():
    cs = concepts("""
        spoon  VB  ROOT  0
        on     IN  prep  0
        the    DT  det   3
        table  NN  pobj  1
    """)
    noun = one(cs, "noun", "spoon")
    assert noun.tag == "NN"
    assert relations(cs) == [("spoon", "on", "the table")]
    assert kinds(cs, "verb") == []


def test_determiner_before_a_modal_makes_it_a_noun():
    cs = concepts("""
        a    DT  det    1
        man  NN  nsubj  4
        holding  VBG  acl  1  hold
        a    DT  det    4
        can  MD  ROOT   4
    """)
    assert kinds(cs, "noun") == ["man", "can"]


def test_adjective_tagged_noun_in_argument_slot_is_a_noun():
    cs = concepts("""
        man         NN  ROOT  0
        sitting     VBG  acl  0  sit
        on          IN  prep  1
        skateboard  JJ  pobj  2
    """)
    assert relations(cs) == [("man", "sitting on", "skateboard")]


def test_clausal_ing_noun_is_a_verb():
    cs = concepts("""
        a       DT  det   1
        man     NN  ROOT  1
        skiing  NN  acl   1
        down    IN  prep  2
        a       DT  det   5
        hill    NN  pobj  3
    """)
    verb = one(cs, "verb")
    assert (verb.text, verb.lemma, verb.tag) == ("skiing", "ski", "VBG")
    assert relations(cs) == [("a man", "skiing down", "a hill")]


def test_root_ing_noun_after_a_noun_is_the_verb_of_that_noun():
    cs = concepts("""
        adult    NN  compound  1
        giraffe  NN  compound  2
        grazing  NN  ROOT      2
        on       IN  prep      2
        a        DT  det       5
        tree     NN  pobj      3
    """)
    assert kinds(cs, "noun") == ["adult giraffe", "tree"]
    assert relations(cs) == [("adult giraffe", "grazing on", "a tree")]


def test_singular_subject_of_plural_verb_is_a_compound():
    cs = concepts("""
        bathroom  NN   nsubj  1
        sink      VBP  ROOT   1
        on        IN   prep   1
        wall      NN   pobj   2
    """)
    assert kinds(cs, "noun") == ["bathroom sink", "wall"]
    assert relations(cs) == [("bathroom sink", "on", "wall")]


def test_noun_with_an_object_is_a_compound():
    cs = concepts("""
        glass     NN   ROOT  0
        windows   NNS  dobj  0  window
        on        IN   prep  0
        the       DT   det   4
        building  NN   pobj  2
    """)
    assert kinds(cs, "noun") == ["windows", "building"]  # "glass" leads it: a material attribute
    assert kinds(cs, "attribute") == ["glass"]
    assert relations(cs) == [("glass windows", "on", "the building")]


def test_caption_initial_participle_with_object_modifies_it():
    cs = concepts("""
        parked    VBD  ROOT  0  park
        black     JJ   amod  2
        car       NN   dobj  0
        beside    IN   prep  0
        a         DT   det   5
        building  NN   pobj  3
    """)
    assert kinds(cs, "attribute") == ["parked", "black"]
    assert relations(cs) == [("parked black car", "beside", "a building")]
    assert kinds(cs, "verb") == []


def test_real_verbs_are_left_alone():
    cs = concepts("""
        dogs  NNS  nsubj  1  dog
        run   VBP  ROOT   1
        on    IN   prep   1
        the   DT   det    4
        beach  NN  pobj   2
    """)
    assert kinds(cs, "verb") == ["run"]
    assert relations(cs) == [("dogs", "run on", "the beach")]


def test_noun_misread_as_adjective_of_the_noun_before_it_is_the_head_of_a_compound():
    # the small model reads "fire hydrant" as fire/ROOT <- hydrant/amod
    cs = concepts("""
        A        DT  det    2
        red      JJ  amod   2
        fire     NN  ROOT   2
        hydrant  NN  amod   2
        on       IN  prep   3
        a        DT  det    6
        street   NN  pobj   4
    """)
    assert kinds(cs, "noun") == ["fire hydrant", "street"]
    assert kinds(cs, "attribute") == ["red"]
    assert relations(cs) == [("A red fire hydrant", "on", "a street")]


def test_noun_tagged_adjective_with_an_adjective_ending_is_a_predicative_attribute():
    # the small model: "stands motionless/NN/dobj" (a replacement made it "stands London")
    cs = concepts("""
        An          DT   det    1
        airplane    NN   nsubj  2
        stands      VBZ  ROOT   2  stand
        motionless  NN   dobj   2
        on          IN   prep   2
        the         DT   det    6
        tarmac      NN   pobj   4
    """)
    assert kinds(cs, "noun") == ["airplane", "tarmac"]
    attribute = one(cs, "attribute", "motionless")
    assert cs[cs[attribute.head].head].text == "An airplane"
    assert relations(cs) == [("An airplane", "on", "the tarmac")]


def test_determined_root_participle_is_a_noun():
    # "moped" read as the past participle of "mope": "a small moped parked on the sidewalk"
    cs = concepts("""
        A         DT   det    2
        small     JJ   amod   2
        moped     VBN  ROOT   2  mop
        parked    VBN  acl    2  park
        on        IN   prep   3
        the       DT   det    6
        sidewalk  NN   pobj   4
    """)
    assert kinds(cs, "entity") == ["A small moped", "the sidewalk"]
    assert kinds(cs, "attribute") == ["small"]
    assert one(cs, "noun", "moped").lemma == "moped"
    assert kinds(cs, "verb") == ["parked"]


# ---------------------------------------------------------------------------- noun, participle, noun
@pytest.mark.parametrize(
    "subject, dep, article_head",
    [("giraffe", "npadvmod", 1), ("batter", "amod", 1), ("hand", "nmod", 1), ("player", "compound", 1),
     ("fence", "dep", 1), ("giraffe", "npadvmod", 3)],  # the last: "a" hung on the last noun
)
def test_noun_participle_noun_read_as_one_phrase_is_subject_verb_object(subject, dep, article_head):
    # "a giraffe eating grass": the parser makes "eating" an adjective of "grass"
    cs = concepts(f"""
        a          DT   det    {article_head}
        {subject}  NN   {dep}  {2 if dep == "npadvmod" else 3}
        eating     VBG  amod   3  eat
        grass      NN   ROOT   3
    """)
    assert relations(cs) == [(f"a {subject}", "eating", "grass")]
    assert kinds(cs, "attribute") == []  # "eating" describes no grass
    assert kinds(cs, "verb") == ["eating"]
    assert kinds(cs, "entity") == [f"a {subject}", "grass"]


@pytest.mark.parametrize("word, lemma", [("cutting", "cut"), ("folding", "fold")])
def test_kind_gerunds_and_materials_before_them_are_left_alone(word, lemma):
    # "a kitchen cutting board" names a board; "a metal folding chair" a chair of metal
    first = "kitchen" if word == "cutting" else "metal"
    cs = concepts(f"""
        a        DT   det       3
        {first}  NN   compound  3
        {word}   VBG  amod      3  {lemma}
        chair    NN   ROOT      3
    """)
    assert relations(cs) == []


def test_a_participle_with_its_own_object_is_left_alone():
    t = tokens("""
        a        DT   det       1
        giraffe  NN   npadvmod  2
        eating   VBG  amod      4  eat
        leaves   NNS  dobj      2  leaf
        tree     NN   ROOT      4
    """)
    heads = list(t.head)
    repair_tags(t)
    assert t.head == heads


# ---------------------------------------------------------------------------- nouns read as adverbs, modals, "-ing" verbs
def test_noun_tagged_adverb_after_a_noun_is_the_head_of_a_compound():
    # the small model: "green dome on fire/pobj hydrant/RB/advmod->dome"
    cs = concepts("""
        green    JJ  amod    1
        dome     NN  ROOT    1
        on       IN  prep    1
        fire     NN  pobj    2
        hydrant  RB  advmod  1
    """)
    assert kinds(cs, "noun") == ["dome", "fire hydrant"]
    assert relations(cs) == [("green dome", "on", "fire hydrant")]


def test_adverb_after_a_noun_stays_an_adverb():
    cs = concepts("""
        a      DT  det     1
        man    NN  ROOT    1
        alone  RB  advmod  1
    """)
    assert kinds(cs, "noun") == ["man"]


def test_root_noun_tagged_adverb_with_an_adjective_is_a_noun():
    cs = concepts("""
        blue       JJ  amod  1
        surfboard  RB  ROOT  1
        on         IN  prep  1
        the        DT  det   4
        water      NN  pobj  2
    """)
    assert kinds(cs, "noun") == ["surfboard", "water"]
    assert kinds(cs, "attribute") == ["blue"]
    assert relations(cs) == [("blue surfboard", "on", "the water")]


def test_container_can_read_as_a_modal_is_a_compound_noun_and_the_preposition_its_modifier():
    # "garbage/nsubj can/MD/aux in/ROOT a cage"
    cs = concepts("""
        garbage  NN  nsubj  2
        can      MD  aux    2
        in       IN  ROOT   2
        a        DT  det    4
        cage     NN  pobj   2
    """)
    assert kinds(cs, "noun") == ["garbage can", "cage"]
    assert relations(cs) == [("garbage can", "in", "a cage")]


def test_modal_of_a_real_verb_stays_a_modal():
    cs = concepts("""
        the   DT  det    1
        dog   NN  nsubj  3
        can   MD  aux    3
        jump  VB  ROOT   3
    """)
    assert kinds(cs, "noun") == ["dog"]
    assert kinds(cs, "verb") == ["jump"]


@pytest.mark.parametrize("dep, prep_head", [("ROOT", 0), ("pcomp", None)])
def test_known_ing_noun_read_as_a_verb_is_a_noun(dep, prep_head):
    if dep == "ROOT":  # "building/VBG/ROOT across from water"
        table = """
            building  VBG  ROOT  0  build
            near      IN   prep  0
            water     NN   pobj  1
        """
        expected = ("building", "near", "water")
    else:  # "street lamp by building/VBG/pcomp"
        table = """
            lamp      NN   ROOT   0
            by        IN   prep   0
            building  VBG  pcomp  1  build
        """
        expected = ("lamp", "by", "building")
    cs = concepts(table)
    assert "building" in kinds(cs, "noun")
    assert kinds(cs, "verb") == []
    assert relations(cs) == [expected]


def test_root_noun_and_participle_noun_are_subject_verb_object():
    # "little zebra/ROOT eating/amod->grass grass/appos->zebra"
    cs = concepts("""
        little  JJ   amod   1
        zebra   NN   ROOT   1
        eating  VBG  amod   3  eat
        grass   NN   appos  1
    """)
    assert kinds(cs, "verb") == ["eating"]
    assert relations(cs) == [("little zebra", "eating", "grass")]


def test_participle_before_a_bare_object_of_have_is_an_adjective():
    # "the church has/aux rounded/VBN/ROOT windows/dobj"
    cs = concepts("""
        the      DT   det    1
        church   NN   nsubj  3
        has      VBZ  aux    3  have
        rounded  VBN  ROOT   3  round
        windows  NNS  dobj   3  window
    """)
    assert kinds(cs, "verb") == ["has"]
    assert kinds(cs, "attribute") == ["rounded"]
    assert relations(cs) == [("the church", "has", "rounded windows")]


def test_perfect_tense_with_a_determined_object_stays():
    cs = concepts("""
        the     DT   det    1
        man     NN   nsubj  3
        has     VBZ  aux    3  have
        opened  VBN  ROOT   3  open
        the     DT   det    5
        door    NN   dobj   3
    """)
    assert kinds(cs, "verb") == ["opened"]
    assert relations(cs) == [("the man", "opened", "the door")]


def test_bare_noun_phrase_after_a_transitive_ing_verb_is_its_object():
    # "small girl holding large donut/npadvmod"
    cs = concepts("""
        small    JJ   amod      1
        girl     NN   ROOT      1
        holding  VBG  acl       1  hold
        large    JJ   amod      4
        donut    NN   npadvmod  2
    """)
    assert relations(cs) == [("small girl", "holding", "large donut")]


def test_way_after_a_verb_stays_an_adverbial():
    cs = concepts("""
        man      NN   ROOT      0
        walking  VBG  acl       0  walk
        this     DT   det       3
        way      NN   npadvmod  1
    """)
    assert relations(cs) == []


def test_participle_between_a_prepositional_object_and_a_noun_is_a_clause_of_the_first():
    # "cup near bowl/pobj holding/amod->pastry pastry"
    cs = concepts("""
        cup      NN   ROOT  0
        near     IN   prep  0
        bowl     NN   pobj  1
        holding  VBG  amod  4  hold
        pastry   NN   dobj  0
    """)
    assert kinds(cs, "attribute") == []
    assert ("bowl", "holding", "pastry") in relations(cs)


@pytest.mark.parametrize("table, expected", [
    ("""
        coat     NN   compound  1
        man      NN   nsubj     3
        is       VBZ  aux       3  be
        wearing  VBG  ROOT      3  wear
    """, ("man", "wearing", "coat")),
    ("""
        street  NN   compound  1
        people  NNS  nsubj     2
        walk    VBP  ROOT      2
        on      IN   prep      2
    """, ("people", "walk on", "street")),
])
def test_caption_opening_noun_with_a_stranded_clause_is_a_relative_clause(table, expected):
    cs = concepts(table)
    assert len(kinds(cs, "noun")) == 2
    assert relations(cs) == [expected]


def test_compound_subject_of_a_complete_clause_stays_a_compound():
    cs = concepts("""
        tennis  NN   compound  1
        player  NN   nsubj     3
        is      VBZ  aux       3  be
        serving VBG  ROOT      3  serve
    """)
    assert kinds(cs, "noun") == ["tennis player"]


@pytest.mark.parametrize("table, attribute", [
    ("""
        long   RB  advmod  1
        beard  NN  ROOT    1
    """, "long"),
    ("""
        dead    JJ  advmod  1
        fallen  JJ  amod    2
        tree    NN  ROOT    2
    """, "dead"),
])
def test_adjective_read_as_an_adverb_of_a_noun_is_an_attribute(table, attribute):
    assert attribute in kinds(concepts(table), "attribute")


def test_ly_adverb_of_a_noun_stays_an_adverb():
    cs = concepts("""
        mostly  RB  advmod  1
        sand    NN  ROOT    1
    """)
    assert kinds(cs, "attribute") == []


@pytest.mark.parametrize("table, expected", [
    ("""
        path   NN   npadvmod  3
        the    DT   det       2
        horse  NN   nsubj     3
        is     VBZ  ROOT      3  be
        on     IN   prep      3
    """, ("the horse", "on", "path")),
    ("""
        blue    JJ   amod   1
        pillow  NN   dep    4
        the     DT   det    3
        dog     NN   nsubj  4
        is      VBZ  ROOT   4  be
        on      IN   prep   4
    """, ("the dog", "on", "blue pillow")),
    ("""
        striped  VBN  amod      2  stripe
        couch    NN   compound  2
        man      NN   nsubj     4
        is       VBZ  aux       4  be
        sitting  VBG  ROOT      4  sit
        on       IN   prt       4
    """, ("man", "sitting on", "striped couch")),
])
def test_opening_noun_read_as_an_adverbial_or_after_adjectives_heads_a_stranded_clause(table, expected):
    # the first noun is an npadvmod/dep of a clause with a subject of its own, or an adjective
    # comes first: still a relative clause without "that" of that noun
    cs = concepts(table)
    assert relations(cs) == [expected]


def test_opening_adverbial_noun_of_a_clause_with_an_object_stays():
    cs = concepts("""
        today    NN   npadvmod  3
        the      DT   det       2
        man      NN   nsubj     3
        holds    VBZ  ROOT      3  hold
        a        DT   det       5
        cup      NN   dobj      3
    """)
    assert relations(cs) == [("the man", "holds", "a cup")]


def test_colour_after_in_before_a_participle_is_what_the_person_is_in():
    cs = concepts("""
        man      NN   ROOT   0
        in       IN   prep   0
        black    JJ   amod   3
        holding  VBG  amod   4  hold
        child    NN   pobj   1
    """)
    assert relations(cs) == [("man", "holding", "child")]
    attribute = one(cs, "attribute")
    assert (attribute.text, cs[attribute.head].text) == ("black", "man")
    assert kinds(cs, "noun") == ["man", "child"]


@pytest.mark.parametrize("word, kind, noun", [("grey", "attribute", "pole"), ("romaine", "noun", "romaine pole")])
def test_to_after_next_is_a_preposition_before_a_verb_read_modifier(word, kind, noun):
    cs = concepts(f"""
        bush    NN   ROOT    0
        next    RB   advmod  0
        to      TO   aux     3
        {word}  VB   advcl   0
        pole    NN   dobj    3
    """)
    assert relations(cs) == [("bush", "next to", f"{word} pole")]
    assert kinds(cs, "verb") == []
    assert any(word in text for text in kinds(cs, kind))
    assert kinds(cs, "noun")[-1] == noun


def test_to_of_an_infinitive_stays():
    cs = concepts("""
        he     PRP  nsubj  1
        wants  VBZ  ROOT   1  want
        to     TO   aux    3
        eat    VB   xcomp  1
        pizza  NN   dobj   3
    """)
    assert kinds(cs, "verb") == ["wants", "eat"]


@pytest.mark.parametrize("table, noun", [
    ("""
        windscreen  JJ  ROOT  0
        on          IN  prep  0
        the         DT  det   3
        train       NN  pobj  1
    """, "windscreen"),
    ("""
        urinal   JJ   nsubj  1
        is       VBZ/AUX  ROOT  1  be
        against  IN   prep   1
        the      DT   det    4
        wall     NN   pobj   2
    """, "urinal"),
])
def test_adjective_tagged_opener_placed_by_a_preposition_or_subject_is_a_noun(table, noun):
    cs = concepts(table)
    assert kinds(cs, "noun")[0] == noun
    assert len(relations(cs)) == 1


@pytest.mark.parametrize("word", ["asleep", "dirty", "careful"])
def test_real_adjectives_opening_a_caption_stay_adjectives(word):
    cs = concepts(f"""
        {word}  JJ  ROOT  0
        on      IN  prep  0
        the     DT  det   3
        couch   NN  pobj  1
    """)
    assert kinds(cs, "noun") == ["couch"]


def test_a_reciprocal_read_as_a_verb_after_next_to_is_its_object():
    cs = concepts("""
        a          DT   det     1
        man        NN   nsubj   6
        and        CC   cc      1
        a          DT   det     4
        woman      NN   conj    1
        are        VBP/AUX  aux  6  be
        standing   VBG  ROOT    6  stand
        next       RB   advmod  6
        to         TO   aux     9
        eachother  VB   advcl   6
    """)
    assert ("a man", "standing next to", "a woman") in relations(cs)
    assert kinds(cs, "verb") == ["standing"]


def test_plural_verb_after_a_singular_compound_noun_with_a_participle_is_the_head_noun():
    cs = concepts("""
        bathroom  NN   compound  1
        mirror    VBP  ROOT      1
        hanging   VBG  xcomp     1  hang
        on        IN   prep      2
        wall      NN   pobj      3
    """)
    assert kinds(cs, "noun") == ["bathroom mirror", "wall"]
    assert relations(cs) == [("bathroom mirror", "hanging on", "wall")]


def test_plural_verb_with_an_infinitive_clause_stays_a_verb():
    cs = concepts("""
        people  NNS  nsubj  1  people
        want    VBP  ROOT   1
        to      TO   aux    3
        eat     VB   xcomp  1
        pizza   NN   dobj   3
    """)
    assert kinds(cs, "verb") == ["want", "eat"]


def test_noun_read_as_an_adverb_subject_or_object_is_a_noun():
    cs = concepts("""
        skateboard  RB   nsubj  1
        has         VBZ  ROOT   1  have
        red         JJ   amod   3
        wheels      NNS  dobj   1  wheel
    """)
    assert kinds(cs, "noun") == ["skateboard", "wheels"]
    cs = concepts("""
        man         NN   ROOT    0
        riding      VBG  acl     0  ride
        skateboard  RB   advmod  1
    """)
    assert relations(cs) == [("man", "riding", "skateboard")]


def test_a_real_adverb_after_a_participle_stays():
    cs = concepts("""
        man      NN   ROOT    0
        running  VBG  acl     0  run
        fast     RB   advmod  1
    """)
    assert kinds(cs, "noun") == ["man"]


def test_compound_head_read_as_an_adverb_may_carry_what_follows():
    cs = concepts("""
        the      DT  det     1
        fire     NN  ROOT    1
        hydrant  RB  advmod  1
        beside   IN  prep    2
        the      DT  det     5
        stork    NN  pobj    3
    """)
    assert kinds(cs, "noun") == ["fire hydrant", "stork"]
    assert relations(cs) == [("the fire hydrant", "beside", "the stork")]


def test_a_bare_verb_read_noun_after_next_to_is_its_object():
    cs = concepts("""
        pole  NN  ROOT    0
        next  RB  advmod  0
        to    TO  aux     3
        sign  VB  advcl   0
    """)
    assert relations(cs) == [("pole", "next to", "sign")]
    assert kinds(cs, "verb") == []
